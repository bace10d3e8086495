#!/usr/bin/env bash
# GPU self-check. On a machine with an NVIDIA GPU: reports the devices and whether the released ND4J CUDA backend can
# run on them, computes a reference forward pass and training step with the CPU build, builds the CUDA variant
# (mvn -Pcuda, into target/cuda) and checks that it reproduces the reference, then prints images/s.
# Without a usable GPU it says why and exits non-zero (1: no GPU/driver, 3: GPU the backend cannot run on).
# Usage: scripts/gpu-check.sh [--batch N] [--iters N] [model options, e.g. --width 0.5]
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
A="$ROOT/scripts/alexnet4j"
"$A" gpu-check "$@"
rc=$?
[[ $rc -eq 2 ]] || exit $rc   # 2: a usable GPU, and this was the CPU build: go on
REF="$ROOT/runs/gpu-check/reference"
"$A" gpu-check --write-reference "$REF" "$@" || exit $?
echo "building the CUDA variant (mvn -Pcuda package -> target/cuda) ..." >&2
(cd "$ROOT" && mvn -B -q -Pcuda -DskipTests -Dalexnet4j.build.dir="$ROOT/target/cuda" package) || exit $?
if [[ -z "${MALLOC_ARENA_MAX+set}" ]]; then
  export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
fi
# shellcheck disable=SC2086
exec java ${ALEXNET4J_JAVA_OPTS:--Xmx2g -Dorg.bytedeco.javacpp.maxbytes=12G -Dorg.bytedeco.javacpp.maxphysicalbytes=16G} \
  -jar "$ROOT/target/cuda/alexnet4j.jar" gpu-check --reference "$REF" "$@"
