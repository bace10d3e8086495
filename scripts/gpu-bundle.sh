#!/usr/bin/env bash
# Builds target/gpu-bundle/: what verifies the CUDA engine on an offline GPU host with no JDK. A jlink-trimmed Java 17
# runtime (jre.tar.xz), the engine's classes with JavaCPP and the CUDA 13 presets (no ND4J, no DL4J), fixtures that
# DL4J computed here on the CPU, run.sh and the PyTorch peer. Copy the folder to the GPU host and run run.sh [OUT_DIR].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
B="$ROOT/target/gpu-bundle"

# the classes and jar this checkout has (a stale jar would compute the fixtures with older code)
mvn -B -q -DskipTests package
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
if [[ ! -d "$JAVA_HOME/jmods" ]]; then
  echo "jlink needs the JDK's jmods, which $JAVA_HOME lacks (on Debian/Ubuntu they come with openjdk-17-jdk-headless;"
  echo "on Fedora/RHEL install java-17-openjdk-jmods): install them, or set JAVA_HOME to a JDK 17 that has them." >&2
  exit 1
fi
rm -rf "$B" && mkdir -p "$B/lib"

# The Java runtime: the modules JavaCPP and the engine use, nothing else.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported --strip-debug \
  --no-header-files --no-man-pages --compress=2 --output "$B/jre"
tar -C "$B" -cJf "$B/jre.tar.xz" jre && rm -rf "$B/jre"

# The engine: org.alexnet4j.cuda and the DL4J-free net description it reads.
( cd target/classes && jar --create --file "$B/lib/alexnet4j-gpu.jar" org/alexnet4j/cuda \
    org/alexnet4j/model/NetSpec.class 'org/alexnet4j/model/NetSpec$ConvBlock.class' \
    'org/alexnet4j/model/NetSpec$Init.class' org/alexnet4j/model/ParamLayer.class )
for j in target/lib/javacpp-1.5.13*.jar target/lib/cuda-13*.jar; do cp "$j" "$B/lib/"; done

# Fixtures: the paper and caffe nets' logits, gradients and one step, computed by DL4J's graph on this CPU.
java -Xmx3g -Dorg.bytedeco.javacpp.maxphysicalbytes=8G -cp "target/alexnet4j.jar:target/lib/*" \
  org.alexnet4j.bench.GpuFixtures "$B/fixtures.txt" 2> "$ROOT/target/gpu-fixtures.log" \
  || { tail -20 "$ROOT/target/gpu-fixtures.log"; exit 1; }

cp scripts/gpu/run.sh scripts/gpu/torch_alexnet.py "$B/"
cat > "$B/README.txt" <<'TXT'
alexnet4j GPU verification bundle. On the GPU host: ./run.sh [OUT_DIR]
Needs an NVIDIA driver 580+ (CUDA 13), CUDA 13 runtime, cuBLAS 13 and cuDNN 9 (system, LD_LIBRARY_PATH, or a Python
environment's nvidia-* wheels, e.g. the ones a PyTorch cu13 install brings); nothing from the network, no JDK.
Writes OUT_DIR/gpu-report.json and gpu-report.txt. See the project's docs/gpu.md.
TXT
size=$(du -sm "$B" | cut -f1)
echo "GPU bundle: $B (${size} MiB)"
if (( size > 40 )); then echo "the bundle is over 40 MiB" >&2; exit 1; fi
