#!/usr/bin/env bash
# The standard benchmark suite (convnet-benchmarks style, batch 128, training and inference):
#   - the paper net as shipped (own LRN kernel, conv1 backward via space-to-depth, DL4J cache mode "none"; its
#     inference on the oneDNN engine), and its inference through DL4J (--engine dl4j),
#   - its training steps on the oneDNN training engine (what train --engine auto picks for it), fp32 and bf16,
#   - the paper net with DL4J's convolution layers (--conv-impl dl4j: the layers before libnd4j's ops),
#   - the paper net with DL4J's LRN layer,
#   - torchvision's AlexNet and DL4J's zoo AlexNet (the in-run baseline), and ONNX Runtime (Java, CPU) on the
#     project's ONNX export of the same paper net (inference only),
#   - an inference sweep over batches 1..256 of the paper net (its oneDNN engine in fp32, bf16 and int8) and ONNX Runtime, with
#     latency percentiles, a CSV in
#     timm's columns and a throughput-against-batch plot (next to OUT.md),
#   - the paper net's per-layer breakdown and the price of its two towers,
#   - and, when a PyTorch is installed (Debian: python3-torch + libopenblas0-pthread), the same two networks in
#     PyTorch on the same machine, with the same malloc settings and as many threads.
# Every model runs in its own process, so each peak RSS is that model's alone. Writes a Markdown report; append it to
# docs/benchmarks.md with the date and machine.
# Usage: scripts/bench.sh [OUT.md] [ITERS]          (default: runs/bench/bench-<date>.md, 5 timed iterations)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
OUT="${1:-$ROOT/runs/bench/bench-$(date +%Y%m%d-%H%M).md}"
ITERS="${2:-5}"
A="$ROOT/scripts/alexnet4j"
# the launcher's malloc settings, exported here so that PyTorch runs under the same ones
if [[ -z "${MALLOC_ARENA_MAX+set}" ]]; then
  export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
fi
COMMON=(--batch 128 --warmup 1 --iters "$ITERS" --markdown)
mkdir -p "$(dirname "$OUT")"
{
  echo "## $(date +%F): alexnet4j bench, batch 128 ($(nproc) cores)"
  echo
  echo "Command: \`scripts/bench.sh\` (each row its own process: \`scripts/alexnet4j bench --bench-model M [options]"
  echo "${COMMON[*]}\`; malloc: MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX} MALLOC_MMAP_MAX_=${MALLOC_MMAP_MAX_:-} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-})"
  echo
  first=1
  for spec in "paper" "paper --mode train --train-engine onednn" "paper --mode train --train-engine onednn --precision bf16" \
      "paper --engine dl4j --mode infer" "paper --conv-impl dl4j" "paper --lrn-impl dl4j" \
      "torchvision" "zoo" "onnxruntime"; do
    # shellcheck disable=SC2086
    table="$("$A" bench --bench-model $spec "${COMMON[@]}" 2>/dev/null)"
    if [[ $first == 1 ]]; then
      echo "$table"
      first=0
    else
      echo "$table" | grep -E '^\| (alexnet4j|dl4j|onnxruntime)'
    fi
  done
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    for m in paper torchvision; do
      /usr/bin/python3 "$ROOT/scripts/dev/pytorch_bench.py" --model "$m" --batch 128 --warmup 1 --iters "$ITERS" \
        --threads "$(nproc)" --markdown
    done
  fi
  echo
  SWEEP="$(dirname "$OUT")/$(basename "$OUT" .md)-sweep"
  echo "Batch sweep: \`scripts/alexnet4j bench --bench-model paper,onnxruntime --mode infer --batch 1,8,32,128,256 --precision fp32,bf16,int8"
  echo "--warmup 2 --iters $(( ITERS * 4 )) --markdown --csv $(basename "$SWEEP").csv --plot $(basename "$SWEEP").png\`"
  echo "(inference latency p50 = the median column, p90, p99; the CSV has timm's columns)"
  echo
  "$A" bench --bench-model paper,onnxruntime --mode infer --batch 1,8,32,128,256 --precision fp32,bf16,int8 \
    --warmup 2 --iters $(( ITERS * 4 )) \
    --markdown --csv "$SWEEP.csv" --plot "$SWEEP.png" 2>/dev/null | grep -E '^\|'
  echo
  echo "Command: \`scripts/alexnet4j bench --bench-model paper --mode train --per-layer --tower-cost ${COMMON[*]}\`"
  "$A" bench --bench-model paper --mode train --per-layer --tower-cost "${COMMON[@]}" 2>/dev/null \
    | sed -n '/^Per layer/,$p'
} | tee "$OUT"
echo "wrote $OUT" >&2
