#!/usr/bin/env bash
# The main job on a fresh machine: build, check the backend, and run the paper net end to end.
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
echo "quickstart finished in $(( $(date +%s) - start )) s; files in $OUT:"
ls -la "$OUT"
