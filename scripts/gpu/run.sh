#!/usr/bin/env bash
# alexnet4j GPU verification: runs the CUDA engine's checks and measurements on this machine's GPU, offline.
# Needs: an NVIDIA driver for CUDA 13 (580+), the CUDA 13 runtime, cuBLAS and cuDNN 9 (system paths,
# LD_LIBRARY_PATH, or a Python environment's nvidia-* wheels). Brings its own Java runtime. Usage: run.sh [OUT_DIR]
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-$HERE/report}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

JRE="${ALEXNET4J_JRE:-${TMPDIR:-/tmp}/alexnet4j-gpu-jre}"
if [[ ! -x "$JRE/bin/java" ]]; then
  mkdir -p "$JRE" && tar -xJf "$HERE/jre.tar.xz" -C "$JRE" --strip-components=1 \
    || { echo "could not unpack the Java runtime ($HERE/jre.tar.xz) into $JRE"; exit 2; }
fi

# Where NVIDIA's libraries may be: the system's CUDA, the driver's folder, and any Python environment's nvidia wheels.
dirs=()
for d in /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
  [[ -d "$d" ]] && dirs+=("$d")
done
PY=""
for p in python3 /opt/torch/.venv/bin/python3; do command -v "$p" > /dev/null 2>&1 && { PY="$p"; break; }; done
if [[ -n "$PY" ]]; then
  while read -r site; do
    [[ -d "$site/nvidia" ]] || continue
    while read -r d; do dirs=("$d" "${dirs[@]}"); done < <(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u)
  done < <("$PY" -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
fi
export LD_LIBRARY_PATH="$(IFS=:; echo "${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}${dirs[*]}")"

{
  echo "== alexnet4j GPU bundle, $(date -u +%Y-%m-%dT%H:%M:%SZ), host $(hostname)"
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libcudnn_cnn.so.9; do
    found=""
    IFS=: read -ra search <<< "$LD_LIBRARY_PATH"
    for d in "${search[@]}"; do [[ -e "$d/$lib" ]] && { found="$d/$lib"; break; }; done
    echo "  $lib: ${found:-NOT FOUND on LD_LIBRARY_PATH}"
  done
} | tee "$OUT/environment.txt"

TORCH=()
if [[ -n "$PY" ]] && "$PY" -c 'import torch; assert torch.cuda.is_available()' > /dev/null 2>&1; then
  TORCH=(--torch-script "$HERE/torch_alexnet.py")
  sed -i "s|^#!.*|#!/usr/bin/env $PY|" "$HERE/torch_alexnet.py" 2>/dev/null || true
  export PATH="$(dirname "$(command -v "$PY")"):$PATH"
else
  echo "  no python3 with a CUDA PyTorch: step (e) skipped" | tee -a "$OUT/environment.txt"
fi

exec "$JRE/bin/java" -Xmx6g -Dorg.bytedeco.javacpp.cachedir="${TMPDIR:-/tmp}/alexnet4j-javacpp" \
  -cp "$HERE/lib/*" org.alexnet4j.cuda.GpuVerify --fixtures "$HERE/fixtures.txt" --out "$OUT" "${TORCH[@]}"
