#!/usr/bin/env bash
# The standard benchmark suite (convnet-benchmarks style, batch 128, training and inference):
#   - the paper net as shipped (own LRN kernel, conv1 backward via space-to-depth, DL4J cache mode "none"),
#   - the same with cache mode "device" (faster, more memory),
#   - the paper net with DL4J's LRN layer,
#   - torchvision's AlexNet and DL4J's zoo AlexNet (the in-run baseline),
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
  for spec in "paper" "paper --cache-mode device" "paper --lrn-impl dl4j" "torchvision" "zoo"; do
    # shellcheck disable=SC2086
    table="$("$A" bench --bench-model $spec "${COMMON[@]}" 2>/dev/null)"
    if [[ $first == 1 ]]; then
      echo "$table"
      first=0
    else
      echo "$table" | grep -E '^\| (alexnet4j|dl4j)'
    fi
  done
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    for m in paper torchvision; do
      /usr/bin/python3 "$ROOT/scripts/dev/pytorch_bench.py" --model "$m" --batch 128 --warmup 1 --iters "$ITERS" \
        --threads "$(nproc)" --markdown
    done
  fi
  echo
  echo "Command: \`scripts/alexnet4j bench --bench-model paper --mode train --per-layer --tower-cost ${COMMON[*]}\`"
  "$A" bench --bench-model paper --mode train --per-layer --tower-cost "${COMMON[@]}" 2>/dev/null \
    | sed -n '/^Per layer/,$p'
} | tee "$OUT"
echo "wrote $OUT" >&2
