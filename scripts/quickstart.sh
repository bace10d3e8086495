#!/usr/bin/env bash
# The main job on a fresh machine: build, check the backend, run the paper net end to end, then generate an
# ImageNet-shaped dataset (ImageNet itself cannot be shipped), prepare it the paper's way, train a width-reduced paper
# net on it and evaluate it with the paper's 10 crops. About 3 minutes on 2 cores (build excluded).
# Usage: scripts/quickstart.sh [OUT_DIR]        (default: runs/quickstart)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
OUT="${1:-$ROOT/runs/quickstart}"
A="$ROOT/scripts/alexnet4j"
mkdir -p "$OUT"
start=$(date +%s)

echo "== 1. backend: ND4J CPU with DL4J's oneDNN helpers (alexnet4j env)"
"$A" env | tee "$OUT/env.txt"

echo
echo "== 2. the paper's two-tower net, layer by layer (alexnet4j summary)"
"$A" summary | tee "$OUT/summary.txt"
"$A" summary --json > "$OUT/summary.json"

echo
echo "== 3. its initial weights as a PyTorch-layout .npz, and back into a DL4J model file"
"$A" export-weights --seed 42 --out "$OUT/paper-init.npz"
"$A" import-weights --weights "$OUT/paper-init.npz" --out "$OUT/paper-init.zip"

echo
echo "== 4. a forward pass on 8 generated 227x227 images (alexnet4j forward)"
"$A" sample-input --count 8 --seed 1 --out "$OUT/images.npy"
"$A" forward --checkpoint "$OUT/paper-init.zip" --input "$OUT/images.npy" --output "$OUT/probabilities.npy" \
  --probabilities

echo
echo "== 5. a generated ImageNet-shaped dataset in the ILSVRC2012 layout, with ImageNet's odd files (alexnet4j synth)"
rm -rf "$OUT/data" "$OUT/cache"
"$A" synth --out "$OUT/data" --classes 10 --train-per-class 100 --val-per-class 20 --odd-files --seed 1

echo
echo "== 6. its manifest, and a check of every file (the truncated and the empty file are reported)"
"$A" manifest build --data "$OUT/data"
"$A" manifest verify --data "$OUT/data" || echo "(expected: the two broken odd files are reported)"

echo
echo "== 7. the paper's preprocessing once: shorter side 256, central 256x256, into a cache with the training"
echo "      set's mean image and RGB PCA (alexnet4j prepare)"
"$A" prepare --data "$OUT/data" --out "$OUT/cache"

echo
echo "== 8. input pipeline speed: original JPEGs vs the prepared cache vs DataVec's stock reader (alexnet4j bench-data)"
"$A" bench-data --data "$OUT/data" --cache "$OUT/cache" --images 1000 2> "$OUT/bench-data.log"

echo
echo "== 9. training a width-0.25 paper net (two towers, LRN, overlapping pooling, dropout) for 8 epochs"
echo "      short-run recipe: Adam 5e-4, He init, channel mean/std (the paper's SGD recipe needs ~90 epochs of ImageNet;"
echo "      it is the default of 'alexnet4j train')"
rm -rf "$OUT/run"
"$A" train --data "$OUT/cache" --out "$OUT/run" --width 0.25 --batch 32 --epochs 8 --optimizer adam --lr 0.0005 \
  --init he --normalize channel --log-every 16

echo
echo "== 10. evaluation of the best checkpoint: centre crop and the paper's 10 crops (alexnet4j eval)"
"$A" eval --data "$OUT/cache" --run "$OUT/run"

echo
echo "== 11. the trained net as ONNX (alexnet4j export-onnx), and two validation images classified (alexnet4j predict)"
echo "   (generated images: each class is a generated pattern that carries a real ImageNet wnid, so predict prints"
echo "    ImageNet's name for it; the names are the labels of the patterns, not what the pictures show)"
"$A" export-onnx --run "$OUT/run" --out "$OUT/run/model.onnx"
"$A" predict --run "$OUT/run" --top 3 $(ls "$OUT"/data/val/*.JPEG | head -2)

echo
echo "metrics:    $OUT/run/metrics.csv"
echo "plots:      $OUT/run/plots/loss.png, error.png, lr.png"
echo "checkpoint: $OUT/run/checkpoints/best.zip (resume a run with: alexnet4j train --resume $OUT/run --epochs N)"
echo "evaluation: $OUT/run/eval/eval.json, per_class.csv"
echo "ONNX model: $OUT/run/model.onnx (inputs NCHW 'input', outputs 'logits' and 'probabilities')"

echo
echo "quickstart finished in $(( $(date +%s) - start )) s; files in $OUT:"
ls -la "$OUT"
