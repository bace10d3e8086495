#!/usr/bin/env bash
# A real Spark standalone cluster on this machine: one Master and N Workers bound to 127.0.0.1, run from the Spark
# 3.1.2 jars the build already brings (target/spark-lib; no Spark distribution is downloaded). For trying
# scripts/spark-submit.sh on one box, and for the tests.
#
# usage: scripts/spark-cluster.sh start [--workers N] [--cores C] [--memory M] [--port P] [--dir D]
#        scripts/spark-cluster.sh status [--dir D]
#        scripts/spark-cluster.sh stop [--dir D]
#        scripts/spark-cluster.sh kill-worker I [--dir D]     # SIGKILL worker I and its executors (fault tests)
#   --workers N   Worker processes (default 2)
#   --cores C     cores each worker offers (default 1)
#   --memory M    memory each worker offers to executors, e.g. 6g (default 6g; ND4J's off-heap memory comes on top,
#                 see spark-submit.sh --memory-overhead)
#   --port P      the master's port (default 7077; web UI on P+1003, workers' UIs from P+1004)
#   --dir D       logs, PID files, work directories and the SPARK_HOME built of links
#                 (default target/spark-cluster; also ALEXNET4J_SPARK_DIR)
# The master is then spark://127.0.0.1:P; `start` waits until every worker has registered and prints that URL.
# `stop` ends exactly the processes `start` started (by PID file, checked against their command line).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
usage() { sed -n '2,18p' "$0" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
ACTION="$1"
shift
WORKERS=2
CORES=1
MEMORY=6g
PORT=7077
DIR="${ALEXNET4J_SPARK_DIR:-$ROOT/target/spark-cluster}"
VICTIM=""
if [[ "$ACTION" == kill-worker ]]; then
  [[ $# -ge 1 && "$1" =~ ^[0-9]+$ ]] || { echo "spark-cluster.sh: kill-worker needs a worker number" >&2; exit 2; }
  VICTIM="$1"
  shift
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) WORKERS="$2"; shift 2 ;;
    --cores) CORES="$2"; shift 2 ;;
    --memory) MEMORY="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    *) echo "spark-cluster.sh: unknown option $1" >&2; usage ;;
  esac
done
for v in WORKERS CORES PORT; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "spark-cluster.sh: --${v,,} must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ "$MEMORY" =~ ^[1-9][0-9]*[mMgG]$ ]] || { echo "spark-cluster.sh: --memory must look like 6g or 512m, not '$MEMORY'" >&2; exit 2; }
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# pid_alive FILE MARK: the PID in FILE is running and its command line contains MARK (this cluster's directory),
# so that a reused PID is never signalled
pid_alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1")"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2"
}

# executors left behind by a SIGKILLed worker: java processes working in this cluster's work directories
orphans() {
  local d
  for d in /proc/[0-9]*; do
    [[ "$(readlink "$d/cwd" 2>/dev/null)" == "$DIR"/work-* ]] && grep -qa CoarseGrainedExecutorBackend "$d/cmdline" 2>/dev/null \
      && echo "${d#/proc/}"
  done
  return 0
}

master_url() { cat "$DIR/master.url" 2>/dev/null; }
web_port() { cat "$DIR/master.webui" 2>/dev/null; }

# the master's view of its workers: "id state cores memoryMB" per line (the master's JSON endpoint)
master_json() {
  if command -v curl > /dev/null; then
    curl -s --max-time 5 "http://127.0.0.1:$(web_port)/json/" 2>/dev/null || true
  else
    # no curl: plain HTTP/1.0 over bash's /dev/tcp (the body follows the headers)
    (exec 3<> "/dev/tcp/127.0.0.1/$(web_port)" && printf 'GET /json/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
      && timeout 5 cat <&3) 2>/dev/null | sed '1,/^\r\{0,1\}$/d' || true
  fi
}

workers_alive() {
  master_json | tr -d '\n' | tr '{' '\n' | grep -c '"state" *: *"ALIVE"' || true
}

status() {
  if ! pid_alive "$DIR/master.pid" "$DIR"; then
    echo "no cluster running (directory $DIR)"
    return 3
  fi
  echo "master  $(master_url)  pid $(cat "$DIR/master.pid")  web UI http://127.0.0.1:$(web_port)"
  local json
  json="$(master_json)"
  for f in "$DIR"/worker-*.pid; do
    [[ -e "$f" ]] || continue
    local i state id port obj used
    i="$(basename "$f" .pid)"
    i="${i#worker-}"
    if pid_alive "$f" "$DIR"; then
      # the worker's port is in its log ("Starting Spark worker 127.0.0.1:PORT"); the master's JSON has its state
      port="$(grep -o 'Starting Spark worker 127.0.0.1:[0-9]*' "$DIR/logs/worker-$i.log" 2>/dev/null | grep -o '[0-9]*$' || true)"
      obj="$(tr -d '\n' <<< "$json" | sed 's/"id" *:/\n&/g' | grep -E "\"port\" *: *${port:-none}," || true)"
      state="$(grep -o '"state" *: *"[A-Z]*"' <<< "$obj" | cut -d'"' -f4 | grep . || echo "NOT REGISTERED")"
      id="$(grep -o '"id" *: *"[^"]*"' <<< "$obj" | cut -d'"' -f4 || true)"
      used="$(grep -o '"coresused" *: *[0-9]*' <<< "$obj" | head -1 | grep -o '[0-9]*$' || true)"
      echo "worker $i  pid $(cat "$f")  $state  ${id:-}${used:+  cores in use $used}"
    else
      echo "worker $i  pid $(cat "$f")  DEAD"
    fi
  done
}

stop() {
  local any=0
  for f in "$DIR"/worker-*.pid "$DIR/master.pid"; do
    [[ -e "$f" ]] || continue
    if pid_alive "$f" "$DIR"; then
      kill "$(cat "$f")" 2>/dev/null || true
      any=1
    fi
  done
  # executors are children of their worker, which ends them as it stops; wait for all of them
  for _ in $(seq 1 100); do
    local left=0
    for f in "$DIR"/worker-*.pid "$DIR/master.pid"; do
      [[ -e "$f" ]] && pid_alive "$f" "$DIR" && left=1
    done
    [[ -n "$(orphans)" ]] && left=1
    [[ $left -eq 0 ]] && break
    sleep 0.2
  done
  for f in "$DIR"/worker-*.pid "$DIR/master.pid"; do
    [[ -e "$f" ]] || continue
    if pid_alive "$f" "$DIR"; then
      kill -9 "$(cat "$f")" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  # an executor whose worker was SIGKILLed is orphaned: end those started from this cluster's work directories
  for p in $(orphans); do kill -9 "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    [[ -z "$(orphans)" ]] && break
    sleep 0.1
  done
  [[ $any -eq 1 ]] && echo "cluster stopped ($DIR)" || echo "no cluster was running ($DIR)"
}

start() {
  if pid_alive "$DIR/master.pid" "$DIR"; then
    echo "spark-cluster.sh: a cluster already runs from $DIR ($(master_url)); stop it first" >&2
    exit 1
  fi
  if [[ ! -f "$ROOT/target/alexnet4j.jar" || ! -d "$ROOT/target/spark-lib" ]]; then
    echo "spark-cluster.sh: building the CLI (mvn package, tests skipped) ..." >&2
    (cd "$ROOT" && mvn -B -q -DskipTests package) >&2
  fi
  for p in "$PORT" $((PORT + 1003)); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "spark-cluster.sh: port $p on 127.0.0.1 is in use (another cluster? --port P chooses another)" >&2
      exit 1
    fi
  done
  rm -rf "$DIR/home" "$DIR/logs" "$DIR"/work-*
  mkdir -p "$DIR/home/jars" "$DIR/home/conf" "$DIR/logs"
  # SPARK_HOME for the daemons: Spark's launcher builds each executor's classpath from $SPARK_HOME/jars
  ln -s "$ROOT"/target/lib/*.jar "$ROOT"/target/spark-lib/*.jar "$ROOT/target/alexnet4j.jar" "$DIR/home/jars/"
  cat > "$DIR/home/conf/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="console" target="SYSTEM_ERR">
      <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level %-24c{1} %msg%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="org.apache.spark.deploy" level="info"/>
    <Logger name="org.apache.spark" level="warn"/>
    <Logger name="org.sparkproject" level="warn"/>
    <Logger name="org.apache.hadoop" level="error"/>
    <Root level="info"><AppenderRef ref="console"/></Root>
  </Loggers>
</Configuration>
EOF
  # shellcheck source=jdk17-opens.sh
  source "$ROOT/scripts/jdk17-opens.sh"
  local web=$((PORT + 1003))
  local opts=(-Xmx512m $JDK17_OPENS "-Dlog4j2.configurationFile=$DIR/home/conf/log4j2.xml"
    "-Dalexnet4j.cluster=$DIR" -cp "$DIR/home/jars/*")
  export SPARK_HOME="$DIR/home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$DIR/local"
  # executors inherit the worker's environment: the same malloc settings as the launcher (docs/stack.md)
  export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
  mkdir -p "$SPARK_LOCAL_DIRS"
  nohup "$JAVA" "${opts[@]}" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" \
    --webui-port "$web" > "$DIR/logs/master.log" 2>&1 < /dev/null &
  echo $! > "$DIR/master.pid"
  echo "spark://127.0.0.1:$PORT" > "$DIR/master.url"
  echo "$web" > "$DIR/master.webui"
  for _ in $(seq 1 150); do
    grep -q "I have been elected leader" "$DIR/logs/master.log" 2>/dev/null && break
    pid_alive "$DIR/master.pid" "$DIR" || { echo "spark-cluster.sh: the master exited:" >&2; tail -20 "$DIR/logs/master.log" >&2; exit 1; }
    sleep 0.2
  done
  for i in $(seq 1 "$WORKERS"); do
    mkdir -p "$DIR/work-$i"
    nohup "$JAVA" "${opts[@]}" org.apache.spark.deploy.worker.Worker "spark://127.0.0.1:$PORT" --host 127.0.0.1 \
      --cores "$CORES" --memory "$MEMORY" --work-dir "$DIR/work-$i" --webui-port $((web + i)) \
      > "$DIR/logs/worker-$i.log" 2>&1 < /dev/null &
    echo $! > "$DIR/worker-$i.pid"
  done
  for _ in $(seq 1 300); do
    [[ "$(workers_alive)" -ge "$WORKERS" ]] && break
    for i in $(seq 1 "$WORKERS"); do
      pid_alive "$DIR/worker-$i.pid" "$DIR" || { echo "spark-cluster.sh: worker $i exited:" >&2; \
        tail -20 "$DIR/logs/worker-$i.log" >&2; stop > /dev/null; exit 1; }
    done
    sleep 0.2
  done
  if [[ "$(workers_alive)" -lt "$WORKERS" ]]; then
    echo "spark-cluster.sh: only $(workers_alive) of $WORKERS workers registered within 60 s; logs in $DIR/logs" >&2
    stop > /dev/null
    exit 1
  fi
  echo "spark://127.0.0.1:$PORT  ($WORKERS workers x $CORES cores, $MEMORY each; logs in $DIR/logs; web UI http://127.0.0.1:$web)"
}

kill_worker() {
  local f="$DIR/worker-$VICTIM.pid"
  pid_alive "$f" "$DIR" || { echo "spark-cluster.sh: worker $VICTIM is not running" >&2; exit 1; }
  local pid
  pid="$(cat "$f")"
  # the worker's executors first (its children), then the worker: as when a machine dies
  pkill -9 -P "$pid" 2>/dev/null || true
  kill -9 "$pid"
  echo "worker $VICTIM (pid $pid) and its executors killed"
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill-worker) kill_worker ;;
  *) usage ;;
esac
