#!/usr/bin/env bash
# Builds ND4J's CUDA backend (libnd4j + nd4j-cuda-11.6 1.0.0-M2.1, with the cuDNN helper) from source for ONE compute
# capability, for GPUs the released jar has no machine code for: Hopper (9.0) and newer. The result is installed into
# ~/.m2 in place of Central's nd4j-cuda-11.6:1.0.0-M2.1:linux-x86_64-cudnn, so that `mvn -Pcuda package` and
# scripts/gpu-check.sh use it. Remove ~/.m2/repository/org/nd4j/nd4j-cuda-11.6 to go back to the released jar.
#
# usage: scripts/build-libnd4j-cuda.sh [--compute 9.0] [--dir target/libnd4j-src] [--threads N] [--dry-run]
#
# Needs (checked first): an NVIDIA CUDA toolkit >= 11.8 (the first with compute 9.0) and < 12 (the M2.1 sources and
# their JavaCPP 1.5.7 presets are CUDA 11: libcudart.so.11.0 etc.), cuDNN 8 headers and libraries (CUDNN_ROOT or the
# system paths), cmake >= 3.15, gcc/g++ <= 11, git, Maven, JDK 17, ~30 GB of disk, and network access to github.com.
# One compute capability takes roughly 1-2 hours on 16 cores (all of them: many hours).
#
# NOT RUN in this project's development: the machines have no GPU and no route to github.com. The Maven flags are
# those of libnd4j's build documentation for M2.x (-Dlibnd4j.chip=cuda -Dlibnd4j.compute -Dlibnd4j.helper=cudnn
# -Djavacpp.platform.extension=-cudnn); report what fails with the log it writes.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
COMPUTE=9.0
SRC="$ROOT/target/libnd4j-src"
THREADS="$(nproc)"
DRY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --compute) COMPUTE="$2"; shift 2 ;;
    --dir) SRC="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-libnd4j-cuda.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$COMPUTE" =~ ^[0-9]+\.[0-9]$ ]] || { echo "build-libnd4j-cuda.sh: --compute must look like 9.0, not '$COMPUTE'" >&2; exit 2; }
CC_DIGITS="${COMPUTE/./}"

fail() { echo "build-libnd4j-cuda.sh: $*" >&2; exit 1; }

# --- prerequisites, each with what to do -------------------------------------------------------------------------
command -v nvcc > /dev/null || fail "nvcc not found: install an NVIDIA CUDA toolkit 11.8 (11.x >= 11.8) and put its bin/ on PATH"
NVCC_VERSION="$(nvcc --version | grep -o 'release [0-9]*\.[0-9]*' | grep -o '[0-9.]*$')"
NV_MAJOR="${NVCC_VERSION%%.*}"
NV_MINOR="${NVCC_VERSION##*.}"
if (( NV_MAJOR != 11 || NV_MINOR < 8 )); then
  fail "CUDA $NVCC_VERSION found; this needs 11.8 or a later 11.x (compute $COMPUTE needs >= 11.8; the M2.1 sources are CUDA 11)"
fi
CUDNN_H=""
for d in "${CUDNN_ROOT:-}/include" /usr/include /usr/local/cuda/include /usr/include/x86_64-linux-gnu; do
  [[ -f "$d/cudnn.h" || -f "$d/cudnn_version.h" ]] && { CUDNN_H="$d"; break; }
done
[[ -n "$CUDNN_H" ]] || fail "cuDNN 8 headers not found (cudnn.h): install cuDNN 8 for CUDA 11 and set CUDNN_ROOT"
command -v cmake > /dev/null || fail "cmake not found (>= 3.15 needed)"
command -v git > /dev/null || fail "git not found"
command -v mvn > /dev/null || fail "mvn not found"
GCC_MAJOR="$(gcc -dumpversion 2>/dev/null | cut -d. -f1 || echo 0)"
(( GCC_MAJOR >= 7 && GCC_MAJOR <= 11 )) || fail "gcc $GCC_MAJOR: CUDA 11.8's nvcc accepts gcc 7-11; set CC/CXX to one of those"

MVN=(mvn -B -Pcuda -Dlibnd4j.chip=cuda -Dlibnd4j.compute="$COMPUTE" -Dlibnd4j.helper=cudnn
  -Djavacpp.platform=linux-x86_64 -Djavacpp.platform.extension=-cudnn -Dlibnd4j.buildthreads="$THREADS"
  -DskipTests -Dmaven.javadoc.skip=true install -pl :libnd4j,:nd4j-cuda-11.6-preset,:nd4j-cuda-11.6 -am)
echo "CUDA $NVCC_VERSION, cuDNN headers in $CUDNN_H, compute $COMPUTE (sm_$CC_DIGITS), $THREADS threads"
echo "sources: $SRC (deeplearning4j tag 1.0.0-M2.1)"
echo "build:   ${MVN[*]}"
[[ $DRY -eq 1 ]] && exit 0

if [[ ! -d "$SRC/.git" ]]; then
  git clone --depth 1 --branch 1.0.0-M2.1 https://github.com/deeplearning4j/deeplearning4j.git "$SRC"
fi
LOG="$SRC/build-libnd4j-cuda.log"
echo "building (log: $LOG) ..."
(cd "$SRC" && CUDNN_ROOT="${CUDNN_ROOT:-$(dirname "$CUDNN_H")}" "${MVN[@]}") > "$LOG" 2>&1 \
  || { tail -40 "$LOG" >&2; fail "the build failed; the whole log is $LOG"; }
JAR="$(ls ~/.m2/repository/org/nd4j/nd4j-cuda-11.6/1.0.0-M2.1/nd4j-cuda-11.6-1.0.0-M2.1-linux-x86_64-cudnn.jar 2>/dev/null || true)"
[[ -n "$JAR" ]] || fail "the build ended but installed no linux-x86_64-cudnn jar; see $LOG"
echo "installed $JAR (sm_$CC_DIGITS)."
echo "Next: scripts/gpu-check.sh (it rebuilds target/cuda against this jar; see docs/gpu.md)."
