#!/usr/bin/env bash
# Trains on a Spark cluster: spark-submit with everything alexnet4j needs (Spark 3.1.x for Scala 2.12 and JDK 17
# on every node; the dataset and the run directory on storage every node sees at the same path).
#
# usage: scripts/spark-submit.sh MASTER [--dry-run] [--executor-memory 8g] [--memory-overhead 12g] [--cores N]
#            [--executors N] [--spark-conf key=value ...] -- TRAIN ARGUMENTS...
#   MASTER               spark://host:7077, yarn, k8s://..., local[N]
#   --executor-memory    JVM heap per executor (default 4g). ND4J's arrays live off the heap: see --memory-overhead.
#   --memory-overhead    off-heap memory per executor the cluster manager must allow (default 12g: two copies of the
#                        paper net with momentum, activations of one batch of 128, the decode buffers)
#   --driver-memory      JVM heap of the driver (default 4g; the paper net: about 1.5 GB + 1 GB per worker, as each
#                        round's parameters and momentum come back to it)
#   --cores              cores per executor (default 2, or fewer when the standalone master's workers offer fewer:
#                        scripts/spark-cluster.sh's default workers have 1); each task trains one replica with ND4J
#                        using these cores. No executor within 120 s (--spark-conf
#                        spark.alexnet4j.executorWaitSeconds=S): the driver stops with what was asked and offered
#   --executors          executors (YARN/Kubernetes; default: the cluster's)
#   --spark-conf k=v     any other Spark setting, repeatable
#   --dry-run            print the spark-submit command instead of running it
# Without spark-submit on PATH, Spark's SparkSubmit runs from the jars the build brings (same Spark 3.1.2).
# A cluster to try it on, on this machine: scripts/spark-cluster.sh start
# Example:
#   scripts/spark-submit.sh spark://master:7077 --executors 4 -- --data /shared/ilsvrc-cache --out /shared/runs/a \
#       --spark-workers 4 --averaging-frequency 5
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
[[ $# -ge 1 ]] || { sed -n '2,21p' "$0" >&2; exit 2; }
MASTER="$1"
shift
EXEC_MEM=4g
OVERHEAD=12g
CORES=""
EXECUTORS=""
DRIVER_MEM=4g
DRY=0
CONFS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --executor-memory) EXEC_MEM="$2"; shift 2 ;;
    --memory-overhead) OVERHEAD="$2"; shift 2 ;;
    --cores) CORES="$2"; shift 2 ;;
    --driver-memory) DRIVER_MEM="$2"; shift 2 ;;
    --executors) EXECUTORS="$2"; shift 2 ;;
    --spark-conf) CONFS+=(--conf "$2"); shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --) shift; break ;;
    *) echo "spark-submit.sh: unknown option $1 (training arguments go after --)" >&2; exit 2 ;;
  esac
done

# a standalone master's web UI, for its workers' offers: scripts/spark-cluster.sh's cluster when it is this master,
# else the master's host at Spark's default port 8080
WEB_UI=""
if [[ "$MASTER" =~ ^spark://([^:/]+) ]]; then
  SPARK_DIR="${ALEXNET4J_SPARK_DIR:-$ROOT/target/spark-cluster}"
  if [[ "$(cat "$SPARK_DIR/master.url" 2>/dev/null)" == "$MASTER" && -f "$SPARK_DIR/master.webui" ]]; then
    WEB_UI="http://127.0.0.1:$(cat "$SPARK_DIR/master.webui")"
  else
    WEB_UI="http://${BASH_REMATCH[1]}:8080"
  fi
  CONFS+=(--conf "spark.alexnet4j.masterWebUi=$WEB_UI")
fi
if [[ -z "$CORES" ]]; then
  CORES=2
  if [[ -n "$WEB_UI" ]] && command -v curl > /dev/null; then
    # the most cores one ALIVE worker offers (the master's JSON: one worker object per "id")
    # (nested objects such as "resources" : { } removed first, then each worker cut at its closing brace)
    most="$(curl -s --max-time 5 "$WEB_UI/json/" 2>/dev/null | tr -d '\n' | sed 's/"id" *:/\n/g' \
      | sed -e ':a' -e 's/{[^{}]*}//g' -e 'ta' -e 's/}.*//' | grep '"state" *: *"ALIVE"' \
      | grep -o '"cores" *: *[0-9]*' | grep -o '[0-9]*$' | sort -n | tail -1 || true)"
    if [[ -n "$most" && "$most" -ge 1 && "$most" -lt "$CORES" ]]; then
      echo "spark-submit.sh: the workers of $MASTER offer at most $most core(s) each: --cores $most" >&2
      CORES="$most"
    fi
  fi
fi

if [[ ! -f "$ROOT/target/alexnet4j.jar" || ! -d "$ROOT/target/lib" ]]; then
  (cd "$ROOT" && mvn -B -q -DskipTests package) >&2
fi
JARS="$(find "$ROOT/target/lib" -name '*.jar' | sort | paste -sd, -)"

# shellcheck source=jdk17-opens.sh
source "$ROOT/scripts/jdk17-opens.sh"
# JavaCPP's limits on off-heap memory: below the container's heap + overhead
ND4J_OPTS="-Dorg.bytedeco.javacpp.maxbytes=$OVERHEAD -Dorg.bytedeco.javacpp.maxphysicalbytes=$OVERHEAD"

CMD=(spark-submit --master "$MASTER" --class org.alexnet4j.cli.Main --jars "$JARS" --driver-memory "$DRIVER_MEM"
  --executor-memory "$EXEC_MEM" --executor-cores "$CORES"
  --conf "spark.executor.memoryOverhead=$OVERHEAD"
  --conf "spark.driver.extraJavaOptions=$JDK17_OPENS $ND4J_OPTS"
  --conf "spark.executor.extraJavaOptions=$JDK17_OPENS $ND4J_OPTS"
  # glibc malloc settings (docs/stack.md): without them executors run 2-5x slower
  --conf spark.executorEnv.MALLOC_ARENA_MAX=1 --conf spark.executorEnv.MALLOC_MMAP_MAX_=0
  --conf spark.executorEnv.MALLOC_TRIM_THRESHOLD_=100000000000
  --conf "spark.executorEnv.OMP_NUM_THREADS=$CORES"
  --conf spark.task.cpus="$CORES")
if [[ -n "$EXECUTORS" ]]; then
  CMD+=(--num-executors "$EXECUTORS")
fi
CMD+=("${CONFS[@]}" "$ROOT/target/alexnet4j.jar" train --spark "$MASTER" "$@")

# Spark's spark-submit when it is on PATH (a Spark 3.1.x installation), else the same class from the build's jars
USE_BUNDLED=0
if ! command -v spark-submit > /dev/null; then
  USE_BUNDLED=1
  [[ -d "$ROOT/target/spark-lib" ]] || (cd "$ROOT" && mvn -B -q -DskipTests package) >&2
fi
if [[ $DRY -eq 1 ]]; then
  printf '%q ' "${CMD[@]}"
  echo
  exit 0
fi
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
# a master on this machine's loopback address (scripts/spark-cluster.sh): the driver binds there too
if [[ "$MASTER" =~ ^spark://(127\.0\.0\.1|localhost)(:|$) && -z "${SPARK_LOCAL_IP:-}" ]]; then
  export SPARK_LOCAL_IP=127.0.0.1
fi
if [[ "$USE_BUNDLED" -eq 1 ]]; then
  # Spark's SparkSubmit from the jars the build brings (target/spark-lib): the driver's JVM options go on this java
  # command, as Spark's own spark-submit script would put them
  # shellcheck disable=SC2086
  exec "$JAVA" -Xmx"$DRIVER_MEM" $JDK17_OPENS $ND4J_OPTS -cp "$ROOT/target/alexnet4j.jar:$ROOT/target/lib/*:$ROOT/target/spark-lib/*" \
    org.apache.spark.deploy.SparkSubmit "${CMD[@]:1}"
fi
exec "${CMD[@]}"
