#!/usr/bin/env bash
# Avro decode vs the JSON fast path per event (benches/format_decode.rs), on the first
# EVENTS (default 200,000) events of the pipeline benchmark's generator, in one run.
#   bash benches/format_decode.sh [EVENTS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVENTS=${1:-200000}
DATA="$ROOT/bench-data/format"
mkdir -p "$DATA"
if [ ! -s "$DATA/events_$EVENTS.jsonl" ]; then
    python3 "$ROOT/benches/pipeline/gen_events.py" --events "$EVENTS" --out-dir "$DATA" --events-name "events_$EVENTS.jsonl"
fi
. "$ROOT/benches/common.sh"
machine_facts
echo "Machine: $CPU, $CORES cores; load $(load_average)"
cd "$ROOT" && cargo bench --locked --bench format_decode -- "$DATA/events_$EVENTS.jsonl"
