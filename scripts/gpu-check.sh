#!/usr/bin/env bash
# GPU self-check. By default the project's CUDA 13 / cuDNN 9 engine (Turing..Blackwell): `alexnet4j gpu-check` checks
# every op against the CPU reference, the paper and caffe nets against DL4J computed here on the CPU, 50 training
# steps, images/s and latency, and PyTorch on the same GPU when python3 has a CUDA torch; reports in runs/gpu-check/.
# With --engine nd4j: ND4J's CUDA 11.6 backend (Kepler..Ada). On a machine with an NVIDIA GPU: reports the devices and
# whether the released ND4J CUDA backend can run on them, computes a reference forward pass and training step with the CPU build, builds the CUDA variant
# (mvn -Pcuda, into target/cuda; with JavaCPP's redistributable CUDA libraries when no CUDA 11 toolkit is installed)
# and checks that it reproduces the reference (forward pass, one SGD step, a short run through the data iterator),
# then prints images/s for training and inference and the engines used.
# Without a usable GPU it says why and exits non-zero (1: no GPU/driver, 3: GPU the backend cannot run on).
# Usage: scripts/gpu-check.sh [--batch N] [--iters N] [model options, e.g. --width 0.5]
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
A="$ROOT/scripts/alexnet4j"
if [[ " $* " != *" --engine nd4j "* ]]; then
  exec "$A" gpu-check --torch-script "$ROOT/scripts/gpu/torch_alexnet.py" "$@"
fi
"$A" gpu-check "$@"
rc=$?
[[ $rc -eq 2 ]] || exit $rc   # 2: a usable GPU, and this was the CPU build: go on
REF="$ROOT/runs/gpu-check/reference"
"$A" gpu-check --write-reference "$REF" "$@" || exit $?
# NVIDIA's CUDA 11 and cuDNN 8 libraries: an installed toolkit, else JavaCPP's redistributable copy (1.8 GB, fetched
# once into ~/.m2 by the cuda-redist profile)
PROFILES=cuda
if ! ldconfig -p 2>/dev/null | grep -q 'libcudart.so.11' || ! ldconfig -p 2>/dev/null | grep -q 'libcudnn.so.8'; then
  echo "no CUDA 11 runtime with cuDNN 8 installed: using JavaCPP's redistributable CUDA 11.6 / cuDNN 8.3 (-Pcuda-redist)" >&2
  PROFILES=cuda,cuda-redist
fi
echo "building the CUDA variant (mvn -P$PROFILES package -> target/cuda) ..." >&2
(cd "$ROOT" && mvn -B -q -P"$PROFILES" -DskipTests -Dalexnet4j.build.dir="$ROOT/target/cuda" package) || exit $?
if [[ -z "${MALLOC_ARENA_MAX+set}" ]]; then
  export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
fi
# shellcheck source=javacpp-limits.sh
source "$ROOT/scripts/javacpp-limits.sh"
# shellcheck disable=SC2086
exec java ${ALEXNET4J_JAVA_OPTS:--Xmx2g $(javacpp_limits_for_gpu)} \
  -jar "$ROOT/target/cuda/alexnet4j.jar" gpu-check --reference "$REF" "$@"
