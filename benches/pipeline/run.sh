#!/usr/bin/env bash
# Benchmark of the daemon pipeline fed from a JSON Lines file (issue 3, item 9).
#
# What it does, from the repository root (run it as `bash benches/pipeline/run.sh`):
#   1. generates, unless present (gen_events.py, deterministic, streamed to disk), in DATA
#      (default bench-data/pipeline):
#        events.jsonl       N events (default 2,000,000) over 8 hours, 20 features each
#                           (16 numeric, 4 categorical), event times strictly increasing;
#        reference.csv      100,000 rows, the same 20 columns (fitted at start-up);
#        mem_3000000.jsonl  3,000,000 events over 2 hours (one window), whose first 10^5 and
#                           10^6 lines are the smaller memory-test files (head -n);
#        tiny.jsonl         the first 1000 events: the process cost without the stream
#                           (start-up + reference fit);
#   2. `cargo build --release` (skip with --no-build);
#   3. writes the configs (file source, `reference: { dataset: reference.csv }`, 1-hour tumbling
#      windows, all six statistics, ks_sample_cap 100000 default) and times whole processes
#      under GNU `/usr/bin/time -f "%e %M %U %S"`, page cache warm, taking turns:
#        driftd replay --config throughput.yaml   (RUNS times)
#        driftd run    --config throughput.yaml   (RUNS times; exits when the file is exhausted)
#        driftd replay --config fit.yaml          (RUNS times; tiny.jsonl: start-up + fit)
#      and the memory test: one window (size 1d > the 2-hour span) of 10^5, 10^6 and 3x10^6
#      events (replay and run, MEM_RUNS times each): past ks_sample_cap the window's values
#      move into the KLL sketch, so the peak RSS should not grow with the window;
#   4. prints markdown tables (events/s = events / whole-process wall seconds, reference fit
#      included; CPU; peak RSS) plus the machine and load, and writes DATA/results.md.
# Exit status: 0 when every run succeeded and read every event; 1 otherwise.
set -euo pipefail

RUNS=3
MEM_RUNS=1
EVENTS=2000000
MEM_SIZES="100000 1000000 3000000"
DATA=bench-data/pipeline
BUILD=1
REGEN=0
SKIP_MEM=0
PYTHON=${PYTHON:-python3}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    cat <<'EOF'
Options:
  --runs N          runs of each throughput command (default 3)
  --mem-runs N      runs of each memory-test command (default 1)
  --events N        events in events.jsonl (default 2000000)
  --mem-sizes "A B" window sizes of the memory test (default "100000 1000000 3000000"; the
                    largest is generated, the others are its first lines; 10000000 is ~5 GB)
  --skip-mem        no memory test
  --data-dir DIR    data and results folder (default bench-data/pipeline)
  --regen           regenerate the data even if present
  --no-build        do not run cargo build --release
EOF
}

ORIG_ARGS="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --mem-runs) MEM_RUNS=$2; shift 2 ;;
        --events) EVENTS=$2; shift 2 ;;
        --mem-sizes) MEM_SIZES=$2; shift 2 ;;
        --skip-mem) SKIP_MEM=1; shift ;;
        --data-dir) DATA=$2; shift 2 ;;
        --regen) REGEN=1; shift ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/benches/pipeline"
cd "$ROOT"
mkdir -p "$DATA"
LOG="$DATA/timings.log"
: >"$LOG"

. "$ROOT/benches/common.sh"
ensure_gnu_time

lines() { wc -l <"$1" | tr -d ' '; }

# --- data ---------------------------------------------------------------------------------
EV="$DATA/events.jsonl"
if [ "$REGEN" = 1 ] || [ ! -s "$EV" ] || [ ! -s "$DATA/reference.csv" ] || [ "$(lines "$EV")" != "$EVENTS" ]; then
    echo "== generating $EVENTS events + reference.csv in $DATA" >&2
    "$PYTHON" "$HERE/gen_events.py" --events "$EVENTS" --span-hours 8 --reference --out-dir "$DATA"
fi
head -n 1000 "$EV" >"$DATA/tiny.jsonl"
MEM_MAX=0
for n in $MEM_SIZES; do [ "$n" -gt "$MEM_MAX" ] && MEM_MAX=$n; done
if [ "$SKIP_MEM" = 0 ]; then
    BIG="$DATA/mem_$MEM_MAX.jsonl"
    if [ "$REGEN" = 1 ] || [ ! -s "$BIG" ] || [ "$(lines "$BIG")" != "$MEM_MAX" ]; then
        # 1 ms resolution: the span must hold MEM_MAX distinct milliseconds; one day at most
        span=$("$PYTHON" -c "import math; print(max(2, math.ceil($MEM_MAX / 3.6e6 * 1.2)))")
        echo "== generating $MEM_MAX single-window events ($span h) in $DATA" >&2
        "$PYTHON" "$HERE/gen_events.py" --events "$MEM_MAX" --span-hours "$span" --no-reference \
            --events-name "mem_$MEM_MAX.jsonl" --out-dir "$DATA"
    fi
    for n in $MEM_SIZES; do
        f="$DATA/mem_$n.jsonl"
        if [ "$n" != "$MEM_MAX" ] && { [ ! -s "$f" ] || [ "$(lines "$f")" != "$n" ]; }; then
            head -n "$n" "$BIG" >"$f"
        fi
    done
fi

if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release" >&2
    cargo build --release >&2
fi
DRIFTD=${DRIFTD:-"$(target_dir)/release/driftd"}
for sub in replay run; do
    "$DRIFTD" "$sub" --help >/dev/null 2>&1 || { echo "error: $DRIFTD has no '$sub' subcommand" >&2; exit 1; }
done

# --- configs (paths are relative to the config file's directory) --------------------------
config() { # name events_file window_size
    cat >"$DATA/$1.yaml" <<EOF
# written by benches/pipeline/run.sh
http:
  listen: 127.0.0.1:0
state:
  path: state-$1
monitors:
  - name: bench
    reference:
      dataset: { path: reference.csv }
    binning: quantile
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger]
    window:
      kind: tumbling
      size: $3
      allowed_lateness: 1m
    ks_sample_cap: 100000
    streams:
      inputs:
        source:
          file: { path: $2, format: jsonl }
        event_time: { field: /ts, format: rfc3339 }
        features: "*"
EOF
    "$DRIFTD" check --config "$DATA/$1.yaml" >&2
}
config throughput events.jsonl 1h
config fit tiny.jsonl 1h
if [ "$SKIP_MEM" = 0 ]; then
    for n in $MEM_SIZES; do config "mem_$n" "mem_$n.jsonl" 1d; done
fi

# --- runs ---------------------------------------------------------------------------------
FAILED=0
# name | events expected | command...
timed() {
    local name=$1 events=$2; shift 2
    local tfile out err
    # `run` checkpoints into the state store: start every run from an empty store, or it resumes
    rm -rf "$DATA"/state-*
    tfile=$(mktemp); out="$DATA/last_stdout.txt"; err="$DATA/last_stderr.txt"
    echo "== [$name] $*" >&2
    if /usr/bin/time -o "$tfile" -f "%e %M %U %S" "$@" >"$out" 2>"$err"; then
        read -r wall rss_kb user_s sys_s <"$tfile"
        # every event must have been read: replay prints "N records read", run logs a summary
        local seen
        seen=$(grep -ho '[0-9]\+ records read' "$out" "$err" | head -n1 | cut -d' ' -f1 || true)
        if [ -n "$seen" ] && [ "$seen" != "$events" ]; then
            echo "error: $name read $seen records, expected $events" >&2
            FAILED=1
        fi
        echo "$name|$events|$wall|$rss_kb|$user_s|$sys_s|${seen:-?}" >>"$LOG"
        echo "   ${wall} s wall, ${user_s} s user + ${sys_s} s sys, $((rss_kb / 1024)) MiB, read ${seen:-?}" >&2
    else
        echo "error: $name failed; stderr tail:" >&2
        tail -n 5 "$err" >&2
        FAILED=1
    fi
    rm -f "$tfile"
}

cat "$EV" "$DATA/reference.csv" >/dev/null   # page cache warm
NEV=$(lines "$EV")
LOAD_BEFORE=$(load_average)
for ((round = 1; round <= RUNS; round++)); do
    timed "replay" "$NEV" "$DRIFTD" replay --config "$DATA/throughput.yaml"
    timed "run" "$NEV" "$DRIFTD" run --config "$DATA/throughput.yaml" --log-format json
    timed "fit only (replay, 1000 events)" 1000 "$DRIFTD" replay --config "$DATA/fit.yaml"
done
if [ "$SKIP_MEM" = 0 ]; then
    for ((round = 1; round <= MEM_RUNS; round++)); do
        for n in $MEM_SIZES; do
            cat "$DATA/mem_$n.jsonl" >/dev/null
            timed "mem replay $n" "$n" "$DRIFTD" replay --config "$DATA/mem_$n.yaml"
            timed "mem run $n" "$n" "$DRIFTD" run --config "$DATA/mem_$n.yaml" --log-format json
        done
    done
fi
LOAD_AFTER=$(load_average)

# --- report -------------------------------------------------------------------------------
machine_facts   # CPU, CORES, MEM_GB, OS, RUSTC
EV_MB=$(( $(stat -c %s "$EV") / 1000000 ))

TABLES=$("$PYTHON" - "$LOG" <<'EOF'
import statistics, sys
runs = {}
order = []
for line in open(sys.argv[1], encoding="utf-8"):
    name, events, wall, rss, user, sys_, seen = line.rstrip("\n").split("|")
    if name not in runs:
        order.append(name)
    runs.setdefault(name, []).append((int(events), float(wall), int(rss), float(user) + float(sys_)))
def row(name):
    r = runs[name]
    ev = r[0][0]
    walls = [w for _, w, _, _ in r]
    med = statistics.median(walls)
    cpu = statistics.median(c for _, _, _, c in r)
    rss = max(m for _, _, m, _ in r) / 1024
    return ev, walls, med, cpu, rss
fit = None
if "fit only (replay, 1000 events)" in runs:
    fit = row("fit only (replay, 1000 events)")[2]
print("| command | events | runs | median wall (s) | min-max wall (s) | events/s (whole process) "
      "| events/s (minus start-up + fit) | median CPU (s) | peak RSS (MiB) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in order:
    if name.startswith("mem "):
        continue
    ev, walls, med, cpu, rss = row(name)
    rate = f"{ev / med:,.0f}"
    net = f"{ev / (med - fit):,.0f}" if fit is not None and name.startswith(("replay", "run")) and med > fit else "—"
    if name.startswith("fit"):
        rate = "—"
    print(f"| driftd {name} | {ev:,} | {len(walls)} | {med:.2f} | {min(walls):.2f}-{max(walls):.2f} "
          f"| {rate} | {net} | {cpu:.2f} | {rss:.0f} |")
mem = [n for n in order if n.startswith("mem ")]
if mem:
    print()
    print("| memory test (one window) | events in the window | runs | median wall (s) | events/s | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in mem:
        ev, walls, med, cpu, rss = row(name)
        print(f"| driftd {name.split()[1]} | {ev:,} | {len(walls)} | {med:.2f} | {ev / med:,.0f} | {rss:.0f} |")
EOF
)

CMDLINE="bash benches/pipeline/run.sh${ORIG_ARGS:+ $ORIG_ARGS}"
RESULTS=$(cat <<EOF
## driftd pipeline benchmark, JSON Lines file source ($(date -u +%Y-%m-%d))

Data: \`events.jsonl\`, $NEV events ($EV_MB MB) over 8 hours (8 one-hour tumbling windows of
~$((NEV / 8)) events, i.e. past ks_sample_cap = 100000: KS from the KLL sketch), 20 features per
event (16 numeric, 4 categorical), sorted event times (streamed, not sorted in memory);
reference: \`reference.csv\`, 100,000 rows, fitted at start-up. Statistics: PSI, KS,
chi-square, Jensen-Shannon, Wasserstein, Hellinger. Generated by \`benches/pipeline/gen_events.py\`.

$TABLES

events/s = events / median whole-process wall time (start-up, reference fit, decoding, windows,
statistics, output); "minus start-up + fit" subtracts the median wall time of the same config on
the first 1000 events. Peak RSS: maximum over the runs (GNU time %M, MiB). Page cache warm.
Memory test: one tumbling window of 1 day over a file spanning at most a day, so the whole file is one window;
the smaller files are the first lines of the largest.

Machine: $CPU, $CORES cores, $MEM_GB GiB RAM; $OS; $RUSTC.
Load average before/after: $LOAD_BEFORE / $LOAD_AFTER.

Command: \`$CMDLINE\`
EOF
)
echo "$RESULTS" | tee "$DATA/results.md"
exit "$FAILED"
