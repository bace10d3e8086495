#!/usr/bin/env bash
# The serving measurements of docs/benchmarks.md ("serving"): predict against serve on the same 480 generated JPEGs,
# the server batched (defaults, and --max-delay-ms 20) and unbatched at 1, 4 and 16 clients, JSON payloads, and a
# 2-minute soak at 16 clients. The load generator runs on this machine too (bench-serve reports its CPU).
# Usage: scripts/bench-serve.sh [OUT_DIR] [PORT]      (default: runs/bench-serve, 8090); about 12 minutes on 2 cores
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
OUT="${1:-$ROOT/runs/bench-serve}"
PORT="${2:-8090}"
A="$ROOT/scripts/alexnet4j"
URL="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
cd "$OUT"
[[ -f paper.npz ]] || "$A" export-weights --model paper --out paper.npz > /dev/null
[[ -d synth ]] || "$A" synth --out synth --classes 10 --train-per-class 1 --val-per-class 48 > /dev/null
IMGS=synth/val

echo "== predict --batch 16 and --batch 1 on $(ls $IMGS | wc -l) images"
"$A" predict --weights paper.npz --batch 16 --json $IMGS 2>&1 >/dev/null | grep "classified"
"$A" predict --weights paper.npz --batch 1 --json $IMGS 2>&1 >/dev/null | grep "classified"

SP=""
serve() {
  "$A" serve --weights paper.npz --port "$PORT" --grpc-port -1 "$@" > serve.log 2>&1 &
  SP=$!
  for _ in $(seq 1 300); do grep -q "^serving" serve.log && break; kill -0 "$SP" 2>/dev/null || break; sleep 1; done
  grep -q "^serving" serve.log || { echo "serve did not start:"; tail -20 serve.log; exit 1; }
  grep "ready:" serve.log | sed 's/.*ready: /   /'
}
stop() { kill -TERM "$SP"; wait "$SP"; }
trap '[[ -n "$SP" ]] && kill "$SP" 2>/dev/null || true' EXIT
bench() { local out="$1"; shift; "$A" bench-serve --url "$URL" --out "$out" "$@" > "$out.log" 2>&1; tail -n +2 "$out/serve-bench.csv"; }

echo "== serve, defaults (--max-batch 32 --max-delay-ms 5): JPEGs (binary), FP32 JSON, JPEGs in JSON"
serve
echo "concurrency,payload,requests,errors,seconds,requests_per_s,p50_ms,p90_ms,p99_ms,mean_ms,client_cpu_percent,server_rss_start_mib,server_rss_end_mib,server_rss_max_mib"
bench batched --concurrency 1,4,16 --requests 320 --warmup 32 --images $IMGS
bench tensor-json --concurrency 1,16 --requests 96 --warmup 8 --payload tensor-json
bench image-json --concurrency 1,16 --requests 160 --warmup 8 --payload image-json --images $IMGS
stop
echo "== serve --max-delay-ms 20"
serve --max-delay-ms 20
bench delay20 --concurrency 1,4,16 --requests 320 --warmup 32 --images $IMGS
stop
echo "== serve unbatched (--max-batch 1 --max-delay-ms 0)"
serve --max-batch 1 --max-delay-ms 0
bench unbatched --concurrency 1,4,16 --requests 320 --warmup 32 --images $IMGS
stop
echo "== soak: 16 clients for 120 s, defaults"
serve
bench soak --concurrency 16 --requests 1000000 --duration-s 120 --warmup 8 --images $IMGS
stop
echo "results and plots in $OUT/{batched,tensor-json,image-json,delay20,unbatched,soak}/"
