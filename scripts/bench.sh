#!/usr/bin/env bash
# The standard benchmark suite: the paper net, torchvision's net and DL4J's zoo AlexNet at batch 128 (training and
# inference, convnet-benchmarks style), the paper net's per-layer breakdown, and, when a PyTorch is installed
# (Debian: python3-torch + libopenblas0-pthread), the same networks in PyTorch on the same machine.
# Writes a Markdown report; append it to docs/benchmarks.md with the date and machine.
# Usage: scripts/bench.sh [OUT.md] [ITERS]          (default: runs/bench/bench-<date>.md, 3 timed iterations)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
OUT="${1:-$ROOT/runs/bench/bench-$(date +%Y%m%d-%H%M).md}"
ITERS="${2:-3}"
A="$ROOT/scripts/alexnet4j"
mkdir -p "$(dirname "$OUT")"
{
  echo "## $(date +%F): alexnet4j bench, batch 128"
  echo
  echo "Command: \`scripts/alexnet4j bench --bench-model paper,torchvision,zoo --batch 128 --warmup 1 --iters $ITERS --markdown\`"
  echo
  "$A" bench --bench-model paper,torchvision,zoo --batch 128 --warmup 1 --iters "$ITERS" --markdown 2>/dev/null
  echo
  echo "Command: \`scripts/alexnet4j bench --bench-model paper --batch 128 --mode train --warmup 1 --iters $ITERS --per-layer --markdown\`"
  echo
  "$A" bench --bench-model paper --batch 128 --mode train --warmup 1 --iters "$ITERS" --per-layer --markdown \
    2>/dev/null | sed -n '/^Per layer/,$p'
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo
    echo "PyTorch on the same machine (\`/usr/bin/python3 scripts/dev/pytorch_bench.py --model M --batch 128 --iters $ITERS\`):"
    echo
    for m in paper torchvision; do
      echo '```json'
      /usr/bin/python3 "$ROOT/scripts/dev/pytorch_bench.py" --model "$m" --batch 128 --warmup 1 --iters "$ITERS"
      echo '```'
    done
  fi
} | tee "$OUT"
echo "wrote $OUT" >&2
