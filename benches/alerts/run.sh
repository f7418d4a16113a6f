#!/usr/bin/env bash
# Window close → webhook received, on loopback: p50 / p99 / max.
#
#   bash benches/alerts/run.sh [--no-build] [--rate ROWS_PER_S]
#
# Runs the release `driftd run` over the quick start's 24 hours of traffic, paced at RATE rows
# per second per stream (default 2000: a window closes every ~150 ms, so the figures are
# latencies, not queueing), with a rule on each stream that notifies a webhook on every closed
# window (`window_events > 0`, `repeat_every: 1h` = the window length). The receiver
# (receiver.py) records each request's arrival; the latency of a window is its arrival minus the
# timestamp of driftd's `Window closed.` log line for the same (stream, window end), written
# once the window's statistics are computed — i.e. the rules, the checkpoint + outbox commit
# (fsync), the dispatcher and the HTTP delivery.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. "$ROOT/benches/common.sh"
BUILD=1 RATE=2000
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0; shift ;;
        --rate) RATE=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$BUILD" = 1 ] && cargo build --release --quiet
DRIFTD="$(target_dir)/release/driftd"
WORK=$(mktemp -d)
trap 'kill $RECEIVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 benches/alerts/receiver.py "$PORT" "$WORK/received.jsonl" > "$WORK/receiver.out" &
RECEIVER=$!
until grep -q ready "$WORK/receiver.out" 2>/dev/null; do sleep 0.05; done

Q=$(pwd)/examples/quickstart
sed -e "s|path: inputs.jsonl|path: $Q/inputs.jsonl|; s|path: predictions.jsonl|path: $Q/predictions.jsonl|" \
    -e "s|path: ../data/credit_reference.csv|path: $Q/../data/credit_reference.csv|" \
    -e "s|listen: 127.0.0.1:9464|listen: 127.0.0.1:0|" "$Q/driftd.yaml" > "$WORK/driftd.yaml"
cat > "$WORK/rules.yaml" <<RULES
rules:
  - name: every_window
    monitor: credit-scoring
    when: { stat: window_events, op: ">", value: 0 }
    repeat_every: 1h
    actions: [hook]
actions:
  - name: hook
    webhook: { url: "http://127.0.0.1:$PORT/hook", timeout: 5s }
RULES
"$DRIFTD" run --config "$WORK/driftd.yaml" --max-rate "$RATE" --log-format json 2> "$WORK/driftd.log"

python3 - "$WORK/driftd.log" "$WORK/received.jsonl" "$RATE" <<'PY'
import datetime, json, sys
closed = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    f = d["fields"]
    if f.get("message") == "Window closed.":
        end = datetime.datetime.fromisoformat(f["end"].replace("Z", "+00:00"))
        at = datetime.datetime.fromisoformat(d["timestamp"].replace("Z", "+00:00"))
        closed[(f["stream"], int(end.timestamp() * 1000))] = at.timestamp()
lat = sorted((r["arrived"] - closed[(r["stream"], r["window_end_ms"])]) * 1000
             for r in map(json.loads, open(sys.argv[2])) if (r["stream"], r["window_end_ms"]) in closed)
if not lat:
    sys.exit("no notification received")
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"windows notified: {len(lat)} (rate {sys.argv[3]} rows/s per stream)")
print(f"window close -> webhook received: p50 {pick(0.5):.1f} ms  p99 {pick(0.99):.1f} ms  max {lat[-1]:.1f} ms")
PY
machine_line
echo "Load average after: $(load_average)"
