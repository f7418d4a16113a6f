#!/usr/bin/env bash
# Benchmark of the column-streaming `driftd compare` at scale (issue 14, item 1): not a test.
#
# From the repository root: `bash benches/compare_scale/run.sh [options]`.
#   1. wide: generates bench-data/wide_{reference,current}.parquet (gen_wide.py: 1M rows x
#      1,000 columns, 900 numeric + 100 categorical, ~4 GiB each) unless present;
#      with --tall N also bench-data/tall/{reference,current}.parquet (N rows x 20 columns,
#      benches/compare/gen_data.py); checks free disk first (df -h) and stops when short;
#   2. `cargo build --release` (skip with --no-build);
#   3. per case, page cache warm (one untimed read first), taking turns --runs times, under
#      GNU `/usr/bin/time -f "%e %U %S %M"` (wall, user CPU, system CPU, peak RSS KiB):
#        compare    driftd compare --memory-limit LIMIT --format json
#        read-only  driftd compare --memory-limit LIMIT --read-only (same groups, no statistics)
#        pyarrow    read_pyarrow.py: the same columns, 100 (wide) or 20 (tall) at a time
#   4. prints a markdown table with the machine and load, also to bench-data/scale_results.md.
# numpy/scipy and Evidently are not run here: at 1M x 20 they take 8.5 s / 1.1 GB and 106 s /
# 3.0 GB (benches/compare), i.e. ~7 min and, loading whole frames, ~16 GB (numpy/scipy) and
# ~1.5 h (Evidently) for the wide case (docs/benchmarks.md).
set -euo pipefail

RUNS=2
BUILD=1
TALL=0
WIDE=1
WIDE_LIMIT=2G
TALL_LIMIT=4G
DATA=bench-data
PYTHON=${PYTHON:-python3}

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tall) TALL=$2; shift 2 ;;
        --no-wide) WIDE=0; shift ;;
        --wide-limit) WIDE_LIMIT=$2; shift 2 ;;
        --tall-limit) TALL_LIMIT=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/benches/compare_scale"
cd "$ROOT"
. "$ROOT/benches/common.sh"
ensure_gnu_time
mkdir -p "$DATA"

# Free GiB on the data's file system.
free_gib() { df -BG --output=avail "$DATA" | tail -n1 | tr -dc '0-9'; }
need_disk() {
    local need=$1 have
    have=$(free_gib)
    df -h "$DATA" | tail -n1 >&2
    if [ "$have" -lt "$need" ]; then
        echo "run.sh: $need GiB of free disk needed, $have GiB free; stopping" >&2
        exit 1
    fi
}

if [ "$WIDE" = 1 ] && { ! [ -f "$DATA/wide_reference.parquet" ] || ! [ -f "$DATA/wide_current.parquet" ]; }; then
    need_disk 12
    "$PYTHON" "$HERE/gen_wide.py" --out-dir "$DATA"
fi
if [ "$TALL" != 0 ]; then
    mkdir -p "$DATA/tall"
    if ! [ -f "$DATA/tall/rows_$TALL" ]; then
        need_disk $((TALL * 260 / 1000000 / 1024 + 3))
        rm -f "$DATA/tall/"*
        "$PYTHON" "$ROOT/benches/compare/gen_data.py" --rows "$TALL" --out-dir "$DATA/tall" >/dev/null
        touch "$DATA/tall/rows_$TALL"
    fi
fi
if [ "$BUILD" = 1 ]; then
    cargo build --release
fi
BIN="$(target_dir)/release/driftd"
LOG="$DATA/scale_timings.log"
: >"$LOG"

# timed LABEL CMD...: runs CMD under GNU time, appends "LABEL wall user sys rss_kib" to $LOG.
timed() {
    local label=$1; shift
    local out
    out=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" >/dev/null
    echo "$label $(cat "$out")" | tee -a "$LOG" >&2
    rm -f "$out"
}

# case NAME REF CUR LIMIT GROUP
run_case() {
    local name=$1 ref=$2 cur=$3 limit=$4 group=$5
    cat "$ref" "$cur" >/dev/null # page cache warm
    for _ in $(seq "$RUNS"); do
        timed "$name:compare" "$BIN" compare --reference "$ref" --current "$cur" --memory-limit "$limit" \
            --format json --output "$DATA/${name}_report.json"
        timed "$name:read-only" "$BIN" compare --reference "$ref" --current "$cur" --memory-limit "$limit" --read-only
        timed "$name:pyarrow" "$PYTHON" "$HERE/read_pyarrow.py" "$ref" "$cur" --group "$group"
    done
    "$BIN" compare --reference "$ref" --current "$cur" --memory-limit "$limit" --read-only >&2
}

START_LOAD=$(load_average)
[ "$WIDE" = 1 ] && run_case wide "$DATA/wide_reference.parquet" "$DATA/wide_current.parquet" "$WIDE_LIMIT" 100
[ "$TALL" != 0 ] && run_case tall "$DATA/tall/reference.parquet" "$DATA/tall/current.parquet" "$TALL_LIMIT" 20
END_LOAD=$(load_average)

{
    echo "$(machine_line); load average $START_LOAD -> $END_LOAD; $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "| case | command | runs | median wall (s) | median CPU (s) | peak RSS (MiB) |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
    awk '{ split($1, k, ":"); key = $1; n[key]++; wall[key, n[key]] = $2; cpu[key, n[key]] = $3 + $4;
           if ($5 > rss[key]) rss[key] = $5; order[key] = NR; keys[key] = 1 }
         function median(a, key, m,   i, j, t, v) {
             for (i = 1; i <= m; i++) v[i] = a[key, i]
             for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
             return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
         END { for (key in keys) { split(key, k, ":");
                 printf "| %s | %s | %d | %.2f | %.2f | %.0f |\n", k[1], k[2], n[key], median(wall, key, n[key]),
                        median(cpu, key, n[key]), rss[key] / 1024 } }' "$LOG" | sort
} | tee "$DATA/scale_results.md"
