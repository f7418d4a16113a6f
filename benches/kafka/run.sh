#!/usr/bin/env bash
# Benchmark of `driftd run` fed from Kafka next to a bare consumer (issue 3, item 9).
#
# What it does, from the repository root (run it as `bash benches/kafka/run.sh`):
#   1. generates, unless present, N events (default 1,000,000) of the pipeline benchmark's shape
#      (benches/pipeline/gen_events.py: 20 features, 16 numeric + 4 categorical, 8 hours,
#      event times increasing) and its 100,000-row reference.csv in DATA (default
#      bench-data/kafka);
#   2. `cargo build --release --bin driftd --example bench-consumer` (skip with --no-build);
#   3. starts tansu (`tansu broker ... --storage-engine memory://tansu/` on 127.0.0.1:PORT,
#      default 19192; stopped with SIGINT at the end), creates the topic (1 partition by
#      default) and produces the N events, one message each (examples/bench_consumer.rs);
#   4. measures, one after the other, each reading the whole topic from the beginning:
#        bare consumer   `bench-consumer consume --count N`: an rdkafka consumer that only
#                        counts messages — the practical limit of this broker and client;
#        driftd run      on a config whose stream reads the topic (start: earliest, 1-hour
#                        tumbling windows, all six statistics, reference fitted at start-up),
#                        polling its /metrics until `driftd_records_received_total` reaches N;
#                        then SIGTERM;
#      wall seconds from the process start to the N-th message (driftd: to the /metrics poll
#      that saw N, every POLL seconds, so up to POLL late; its start-up + reference fit are
#      included);
#   5. prints a markdown table (events/s of each, the ratio driftd / bare) with the machine
#      and the load average, and writes DATA/results.md.
# Exit status: 0 when both read every event; 1 otherwise.
set -euo pipefail

EVENTS=1000000
PORT=19192
HTTP_PORT=19464
PARTITIONS=1
DATA=bench-data/kafka
BUILD=1
POLL=0.2
PYTHON=${PYTHON:-python3}
TANSU=${TANSU:-$(command -v tansu || echo "$HOME/.cargo/bin/tansu")}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    cat <<'EOF'
Options:
  --events N        events produced (default 1000000)
  --port P          tansu's port (default 19192)
  --http-port P     driftd's HTTP port (default 19464)
  --partitions N    partitions of the topic (default 1)
  --data-dir DIR    data and results folder (default bench-data/kafka)
  --no-build        do not run cargo build --release
EOF
}

ORIG_ARGS="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --http-port) HTTP_PORT=$2; shift 2 ;;
        --partitions) PARTITIONS=$2; shift 2 ;;
        --data-dir) DATA=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. "$ROOT/benches/common.sh"
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
BROKER="127.0.0.1:$PORT"
TOPIC="bench-events"

# --- data ---------------------------------------------------------------------------------
EV="$DATA/events.jsonl"
if [ ! -s "$EV" ] || [ ! -s "$DATA/reference.csv" ] || [ "$(wc -l <"$EV" | tr -d ' ')" != "$EVENTS" ]; then
    echo "== generating $EVENTS events + reference.csv in $DATA" >&2
    "$PYTHON" benches/pipeline/gen_events.py --events "$EVENTS" --span-hours 8 --reference --out-dir "$DATA"
fi

if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release" >&2
    cargo build --release --bin driftd --example bench-consumer >&2
fi
BIN="$(target_dir)/release"
DRIFTD=${DRIFTD:-"$BIN/driftd"}
BENCH="$BIN/examples/bench-consumer"
[ -x "$TANSU" ] || { echo "error: no tansu (see /work/shared/kafka-broker.md or the README)" >&2; exit 1; }

# --- broker -------------------------------------------------------------------------------
TANSU_PID=""
DRIFTD_PID=""
cleanup() {
    [ -n "$DRIFTD_PID" ] && kill -TERM "$DRIFTD_PID" 2>/dev/null || true
    [ -n "$TANSU_PID" ] && kill -INT "$TANSU_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT
echo "== tansu on $BROKER" >&2
"$TANSU" broker --listener-url "tcp://$BROKER" --advertised-listener-url "tcp://$BROKER" \
    --storage-engine memory://tansu/ >"$DATA/tansu.log" 2>&1 &
TANSU_PID=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
"$BENCH" create --brokers "$BROKER" --topic "$TOPIC" --partitions "$PARTITIONS"
echo "== producing $EVENTS events" >&2
"$BENCH" produce --brokers "$BROKER" --topic "$TOPIC" --file "$EV"

# --- runs ---------------------------------------------------------------------------------
now() { date +%s.%N; }
LOAD_BEFORE=$(load_average)
FAILED=0

echo "== bare consumer" >&2
t0=$(now)
BARE_JSON=$("$BENCH" consume --brokers "$BROKER" --topic "$TOPIC" --count "$EVENTS") || FAILED=1
t1=$(now)
BARE_WALL=$("$PYTHON" -c "print(f'{$t1 - $t0:.3f}')")
echo "   $BARE_JSON; process wall $BARE_WALL s" >&2

cat >"$DATA/kafka.yaml" <<EOF
# written by benches/kafka/run.sh
http:
  listen: 127.0.0.1:$HTTP_PORT
state:
  path: state-kafka
kafka:
  brokers: $BROKER
monitors:
  - name: bench
    reference:
      dataset: { path: reference.csv }
    binning: quantile
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger]
    window:
      kind: tumbling
      size: 1h
      allowed_lateness: 1m
    ks_sample_cap: 100000
    streams:
      inputs:
        source:
          kafka: { topic: $TOPIC, group_id: bench-driftd-$$, start: earliest }
        event_time: { field: /ts, format: rfc3339 }
        features: "*"
EOF
"$DRIFTD" check --config "$DATA/kafka.yaml" >&2
rm -rf "$DATA/state-kafka"
echo "== driftd run" >&2
received() {
    curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
        awk '/^driftd_records_received_total/ { s += $NF } END { printf "%d", s }'
}
t0=$(now)
"$DRIFTD" run --config "$DATA/kafka.yaml" --log-format json >"$DATA/driftd.log" 2>&1 &
DRIFTD_PID=$!
seen=0
deadline=$(( $(date +%s) + 900 ))
while [ "$seen" -lt "$EVENTS" ]; do
    if ! kill -0 "$DRIFTD_PID" 2>/dev/null; then
        echo "error: driftd exited; log tail:" >&2
        tail -n 5 "$DATA/driftd.log" >&2
        FAILED=1
        break
    fi
    [ "$(date +%s)" -gt "$deadline" ] && { echo "error: driftd timed out at $seen" >&2; FAILED=1; break; }
    sleep "$POLL"
    seen=$(received || echo 0)
    seen=${seen:-0}
done
t1=$(now)
DRIFTD_WALL=$("$PYTHON" -c "print(f'{$t1 - $t0:.3f}')")
DRIFTD_RSS=$(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$DRIFTD_PID/status" 2>/dev/null || echo "?")
kill -TERM "$DRIFTD_PID" 2>/dev/null || true
wait "$DRIFTD_PID" 2>/dev/null || true
DRIFTD_PID=""
echo "   driftd received $seen in $DRIFTD_WALL s (peak RSS $DRIFTD_RSS MiB)" >&2
LOAD_AFTER=$(load_average)

# --- report -------------------------------------------------------------------------------
TABLE=$("$PYTHON" - "$EVENTS" "$BARE_WALL" "$DRIFTD_WALL" "$BARE_JSON" "$seen" <<'EOF'
import json, sys
n, bare_wall, driftd_wall, bare_json, seen = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
bare = json.loads(bare_json) if bare_json.strip() else {"seconds": float("nan"), "per_second": float("nan")}
print("| reader | events | wall (s) | events/s |")
print("| --- | ---: | ---: | ---: |")
print(f"| bare rdkafka consumer (counts only; process wall) | {n:,} | {bare_wall:.2f} | {n / bare_wall:,.0f} |")
print(f"| bare rdkafka consumer (subscribe to N-th message) | {n:,} | {bare['seconds']:.2f} | {bare['per_second']:,.0f} |")
print(f"| driftd run (start-up + fit + decode + windows) | {seen:,} | {driftd_wall:.2f} | {seen / driftd_wall:,.0f} |")
print()
print(f"driftd / bare consumer (process walls): **{(seen / driftd_wall) / (n / bare_wall):.2f}**")
EOF
)
RESULTS=$(cat <<EOF
## driftd Kafka benchmark ($(date -u +%Y-%m-%d))

$EVENTS events of benches/pipeline/gen_events.py (20 features, ~$(( $(stat -c %s "$EV") / EVENTS )) B each) in one topic
of $PARTITIONS partition(s) on tansu $("$TANSU" --version 2>/dev/null | head -n1 | awk '{print $NF}') (memory storage, same machine), read from the beginning.

$TABLE

driftd: 1-hour tumbling windows, all six statistics, reference (100,000 rows) fitted at
start-up; its time is from process start to the /metrics poll (every ${POLL} s) that showed
every event received; peak RSS $DRIFTD_RSS MiB.

$(machine_line).
Load average before/after: $LOAD_BEFORE / $LOAD_AFTER.

Command: \`bash benches/kafka/run.sh${ORIG_ARGS:+ $ORIG_ARGS}\`
EOF
)
echo "$RESULTS" | tee "$DATA/results.md"
exit "$FAILED"
