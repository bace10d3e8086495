# Sourced by scripts/alexnet4j and scripts/gpu-check.sh: JavaCPP's off-heap limits for the CUDA build, sized from the
# largest GPU's memory (nvidia-smi): ND4J keeps a host copy of device arrays on demand, so the host side can approach
# the GPU's memory. maxbytes = max(12 GiB, GPU memory + 4 GiB), maxphysicalbytes = maxbytes + 4 GiB. Without
# nvidia-smi: the CPU build's defaults (12G / 16G).
javacpp_limits_for_gpu() {
  local mib gib
  mib="$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | sort -n | tail -1 | tr -dc '0-9')"
  gib=12
  if [[ -n "$mib" ]]; then
    gib=$(( (mib + 1023) / 1024 + 4 ))
    (( gib < 12 )) && gib=12
  fi
  echo "-Dorg.bytedeco.javacpp.maxbytes=${gib}G -Dorg.bytedeco.javacpp.maxphysicalbytes=$(( gib + 4 ))G"
}
