#!/usr/bin/env bash
# Executes the notebooks in notebooks/ headlessly with the project's Java kernel (org.alexnet4j.notebook.Kernel) and
# fails when any cell fails. Installs what it needs: Debian's jupyter-nbconvert, jupyter-client and python3-nbclient
# (apt-get, when `jupyter nbconvert` is missing), the jar (mvn package), and a kernelspec under target/jupyter (nothing
# is written to your home directory).
#
# Usage: scripts/notebooks.sh [--inplace] [--install-only] [NOTEBOOK.ipynb ...]
#   default         executed copies go to target/notebooks/; the committed notebooks are left as they are
#   --inplace       write the outputs into the committed notebooks (how their outputs are refreshed)
#   --install-only  set up jupyter (with the notebook server) and the kernel, print how to open the notebooks
#                   interactively, run nothing
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
INPLACE=0
INSTALL_ONLY=0
NOTEBOOKS=()
for a in "$@"; do
  case "$a" in
    --inplace) INPLACE=1 ;;
    --install-only) INSTALL_ONLY=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) NOTEBOOKS+=("$a") ;;
  esac
done
if [[ ${#NOTEBOOKS[@]} -eq 0 ]]; then
  mapfile -t NOTEBOOKS < <(ls "$ROOT"/notebooks/*.ipynb)
fi

# 1. Jupyter's command-line tools (Debian packages; the kernel itself is Java), and for --install-only the notebook
#    server to open them interactively
PKGS=()
jupyter nbconvert --version > /dev/null 2>&1 || PKGS+=(jupyter-nbconvert jupyter-client jupyter-core python3-nbclient)
if [[ $INSTALL_ONLY -eq 1 ]] && ! jupyter notebook --version > /dev/null 2>&1; then
  PKGS+=(jupyter-notebook)
fi
if [[ ${#PKGS[@]} -gt 0 ]]; then
  echo "notebooks: installing ${PKGS[*]} (apt-get)" >&2
  SUDO=""
  [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" > /dev/null
fi

# 2. the project's jar (the launcher rebuilds it when the sources are newer)
if [[ ! -f "$ROOT/target/alexnet4j.jar" || -n "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$ROOT/target/alexnet4j.jar" -print -quit)" ]]; then
  echo "notebooks: building the jar (mvn package, tests skipped)" >&2
  (cd "$ROOT" && mvn -B -q -DskipTests package) >&2
fi

# 3. the kernelspec: java with the project's classpath, JDK 17 opens and malloc settings as scripts/alexnet4j uses
# shellcheck source=jdk17-opens.sh
source "$ROOT/scripts/jdk17-opens.sh"
export JUPYTER_PATH="$ROOT/target/jupyter"
KDIR="$JUPYTER_PATH/kernels/alexnet4j"
mkdir -p "$KDIR"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAVA="$(command -v "$JAVA")"
/usr/bin/python3 - "$KDIR/kernel.json" "$JAVA" "$ROOT" $JDK17_OPENS <<'PY'
import json, sys
out, java, root, opens = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
argv = [java, "-Xmx2g", "-Dorg.bytedeco.javacpp.maxbytes=12G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=16G",
        "-Djava.awt.headless=true", *opens,
        "-cp", f"{root}/target/alexnet4j.jar:{root}/target/lib/*", "org.alexnet4j.notebook.Kernel",
        "{connection_file}"]
spec = {"argv": argv, "display_name": "Java (alexnet4j)", "language": "java",
        "env": {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "100000000000"},
        "interrupt_mode": "message"}
json.dump(spec, open(out, "w"), indent=1)
PY

if [[ $INSTALL_ONLY -eq 1 ]]; then
  echo "kernel 'alexnet4j' installed in $KDIR. Open the notebooks with:"
  echo "  JUPYTER_PATH=$JUPYTER_PATH jupyter notebook $ROOT/notebooks   (or: jupyter lab)"
  exit 0
fi

# 4. execute every notebook; nbconvert exits non-zero when a cell fails
OUT="$ROOT/target/notebooks"
mkdir -p "$OUT"
status=0
for nb in "${NOTEBOOKS[@]}"; do
  start=$(date +%s)
  if [[ $INPLACE -eq 1 ]]; then
    dest=(--inplace)
  else
    dest=(--output-dir "$OUT")
  fi
  # run from the notebook's directory, so relative paths in cells mean the same interactively and here
  if (cd "$(dirname "$nb")" && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=alexnet4j \
        --ExecutePreprocessor.timeout=1200 "${dest[@]}" "$(basename "$nb")" 2> "$OUT/$(basename "$nb" .ipynb).log"); then
    echo "notebooks: $(basename "$nb") ran in $(( $(date +%s) - start )) s"
  else
    echo "notebooks: $(basename "$nb") FAILED (log: $OUT/$(basename "$nb" .ipynb).log):" >&2
    grep -v '^\[NbConvertApp\]' "$OUT/$(basename "$nb" .ipynb).log" | tail -25 >&2
    status=1
  fi
done
exit $status
