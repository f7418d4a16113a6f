#!/usr/bin/env bash
# Benchmark of `driftd compare` against numpy/scipy and Evidently (issue 2, item 7).
#
# What it does, from the repository root (run it as `bash benches/compare/run.sh`):
#   1. generates bench-data/{reference,current}.parquet (gen_data.py) unless both exist
#      (1M rows x 20 columns by default; --rows to change, --regen to force);
#   2. `cargo build --release` (skip with --no-build);
#   3. runs each contender several times, round-robin, under GNU `/usr/bin/time -f "%e %M %U %S"`
#      (installed with apt-get when absent), page cache warm:
#        driftd           target/release/driftd compare ... --format json (3 runs)
#        numpy/scipy      baseline_numpy.py: PSI + KS + chi-square (3 runs)
#        numpy/scipy all  baseline_numpy.py --all-stats: also JS, Hellinger, Wasserstein,
#                         i.e. everything driftd reports (3 runs; --no-numpy-all skips it)
#        Evidently        baseline_evidently.py: DataDriftPreset defaults (1 run; --skip-evidently)
#   4. prints a markdown table (median wall seconds, peak RSS, speed-up vs driftd) plus the
#      machine, and writes it to bench-data/results.md;
#   5. cross-checks driftd's JSON against the numpy/scipy JSON (crosscheck.py) and appends the
#      maximum deviations, so the benchmark also shows the numbers agree at scale.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the numpy/scipy runs only (they slow a
# current numpy on some processors; see docs/benchmarks.md).
# Exit status: 0 when everything ran and the cross-check passed; 1 otherwise.
set -euo pipefail

RUNS=3
EVIDENTLY_RUNS=1
ROWS=1000000
DATA=bench-data
BUILD=1
REGEN=0
NUMPY_ALL=1
SKIP_DRIFTD=0
ROWS_GIVEN=0
PYTHON=${PYTHON:-python3}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    cat <<'EOF'
Options:
  --runs N            runs per contender (default 3)
  --evidently-runs N  runs of Evidently (default 1)
  --skip-evidently    do not run Evidently
  --no-numpy-all      do not run the numpy/scipy --all-stats variant
  --skip-driftd       do not run driftd (e.g. to time the Python baselines alone)
  --rows N            rows per file (default 1000000; existing data of another size is
                      regenerated)
  --data-dir DIR      data and results folder (default bench-data)
  --regen             regenerate the data even if present
  --no-build          do not run cargo build --release
EOF
}

ORIG_ARGS="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --evidently-runs) EVIDENTLY_RUNS=$2; shift 2 ;;
        --skip-evidently) EVIDENTLY_RUNS=0; shift ;;
        --no-numpy-all) NUMPY_ALL=0; shift ;;
        --skip-driftd) SKIP_DRIFTD=1; shift ;;
        --rows) ROWS=$2; ROWS_GIVEN=1; shift 2 ;;
        --data-dir) DATA=$2; shift 2 ;;
        --regen) REGEN=1; shift ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/benches/compare"
cd "$ROOT"
mkdir -p "$DATA"
REF="$DATA/reference.parquet"
CUR="$DATA/current.parquet"
LOG="$DATA/timings.log"
: >"$LOG"

. "$ROOT/benches/common.sh"
ensure_gnu_time

if [ "$REGEN" = 0 ] && [ "$ROWS_GIVEN" = 1 ] && [ -s "$REF" ] && [ -s "$CUR" ]; then
    # Data of another size from an earlier run: regenerate rather than measure the wrong size.
    have_rows=$("$PYTHON" -c 'import sys, pyarrow.parquet as pq
print(min(pq.ParquetFile(p).metadata.num_rows for p in sys.argv[1:]))' "$REF" "$CUR")
    [ "$have_rows" = "$ROWS" ] || REGEN=1
fi
if [ "$REGEN" = 1 ] || [ ! -s "$REF" ] || [ ! -s "$CUR" ]; then
    echo "== generating $ROWS rows per file in $DATA" >&2
    "$PYTHON" "$HERE/gen_data.py" --rows "$ROWS" --out-dir "$DATA"
fi

if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release" >&2
    cargo build --release >&2
fi

DRIFTD="$(target_dir)/release/driftd"
HAVE_DRIFTD=0
if [ "$SKIP_DRIFTD" = 1 ]; then
    echo "driftd skipped (--skip-driftd)" >&2
elif [ -x "$DRIFTD" ] && "$DRIFTD" compare --help >/dev/null 2>&1; then
    HAVE_DRIFTD=1
else
    echo "warning: $DRIFTD has no 'compare' subcommand yet: driftd is left out" >&2
fi

# Contenders: name | command (word-split on purpose: paths have no spaces here) | runs
NP_ENV="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
declare -a NAMES CMDS NRUNS
add() { NAMES+=("$1"); CMDS+=("$2"); NRUNS+=("$3"); }
if [ "$HAVE_DRIFTD" = 1 ]; then
    # Like for like: the first row computes what the numpy/scipy script computes (PSI + KS +
    # chi-square); the second everything driftd reports (+ JS, Wasserstein, Hellinger), the
    # same work as the numpy/scipy --all-stats row.
    add "driftd compare (PSI+KS+chi2)" \
        "$DRIFTD compare --reference $REF --current $CUR --format json --stats psi,ks,chisquare --output $DATA/driftd.json" \
        "$RUNS"
    if [ "$NUMPY_ALL" = 1 ]; then
        add "driftd compare (all stats)" \
            "$DRIFTD compare --reference $REF --current $CUR --format json --output $DATA/driftd_all.json" \
            "$RUNS"
    fi
fi
add "numpy/scipy (PSI+KS+chi2)" \
    "$NP_ENV $PYTHON $HERE/baseline_numpy.py --reference $REF --current $CUR --output $DATA/numpy.json" \
    "$RUNS"
if [ "$NUMPY_ALL" = 1 ]; then
    add "numpy/scipy (all driftd stats)" \
        "$NP_ENV $PYTHON $HERE/baseline_numpy.py --all-stats --reference $REF --current $CUR --output $DATA/numpy_all.json" \
        "$RUNS"
fi
if [ "$EVIDENTLY_RUNS" -gt 0 ]; then
    add "Evidently 0.7 DataDriftPreset" \
        "$PYTHON $HERE/baseline_evidently.py --reference $REF --current $CUR --output $DATA/evidently.json" \
        "$EVIDENTLY_RUNS"
fi

# Stale outputs must not be cross-checked or reported.
rm -f "$DATA/driftd.json" "$DATA/driftd_all.json" "$DATA/numpy.json" "$DATA/numpy_all.json" "$DATA/evidently.json"

# Warm the page cache so every contender reads the files from memory.
cat "$REF" "$CUR" >/dev/null

LOAD_BEFORE=$(load_average)
max_runs=0
for r in "${NRUNS[@]}"; do [ "$r" -gt "$max_runs" ] && max_runs=$r; done
FAILED=0
for ((round = 1; round <= max_runs; round++)); do
    for i in "${!NAMES[@]}"; do
        [ "$round" -le "${NRUNS[$i]}" ] || continue
        tfile=$(mktemp)
        echo "== [${NAMES[$i]}] run $round/${NRUNS[$i]}" >&2
        # shellcheck disable=SC2086  # the command string is split into words on purpose
        if /usr/bin/time -o "$tfile" -f "%e %M %U %S" ${CMDS[$i]} >"$DATA/last_stdout.txt" 2>"$DATA/last_stderr.txt"; then
            read -r wall rss_kb user_s sys_s <"$tfile"
            echo "${NAMES[$i]}|$wall|$rss_kb|$user_s|$sys_s" >>"$LOG"
            echo "   ${wall} s wall, ${user_s} s user + ${sys_s} s sys, $((rss_kb / 1024)) MiB" >&2
        else
            echo "error: ${NAMES[$i]} failed (run $round); stderr tail:" >&2
            tail -n 5 "$DATA/last_stderr.txt" >&2
            FAILED=1
        fi
        rm -f "$tfile"
    done
done
LOAD_AFTER=$(load_average)

# Machine description.
machine_facts   # CPU, CORES, MEM_GB, OS, RUSTC
PYV=$("$PYTHON" -c 'import sys, numpy, scipy, pandas, pyarrow
try:
    import evidently; ev = evidently.__version__
except Exception:
    ev = "absent"
print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, scipy {scipy.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, evidently {ev}")')
BLAS="n/a"
if [ -s "$DATA/numpy.json" ]; then
    BLAS=$("$PYTHON" - "$DATA/numpy.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(", ".join("%s %s (%s)" % (b.get("internal_api"), b.get("version"), b.get("architecture"))
                for b in d.get("blas", [])))
EOF
)
fi
OB="unset"
if [ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]; then
    OB="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-} (unset for the numpy/scipy runs)"
fi
DATA_DESC=$("$PYTHON" -c 'import os, sys, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1]); m = f.metadata
print(f"{m.num_rows:,} rows x {m.num_columns} columns per file, {m.num_row_groups} row group(s), "
      f"{os.path.getsize(sys.argv[1]) / 1e6:.0f} MB + {os.path.getsize(sys.argv[2]) / 1e6:.0f} MB (snappy, pyarrow defaults)")' "$REF" "$CUR")

# Table: median wall time, peak RSS (max over runs), speed-up vs driftd (median / median).
TABLE=$("$PYTHON" - "$LOG" "${NAMES[@]}" <<'EOF'
import statistics, sys
log, names = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(log, encoding="utf-8"):
    name, wall, rss, user, sys_ = line.rstrip("\n").split("|")
    runs.setdefault(name, []).append((float(wall), int(rss), float(user) + float(sys_)))
def baseline(name):
    # Each contender is compared with the driftd run doing the same work: PSI+KS+chi2 rows with
    # driftd --stats psi,ks,chisquare; all-stats rows and Evidently with driftd's full set.
    key = "driftd compare (PSI+KS+chi2)" if "PSI+KS+chi2" in name else "driftd compare (all stats)"
    if key not in runs:
        key = "driftd compare (PSI+KS+chi2)"
    if key not in runs:
        return None, None
    return statistics.median(w for w, _, _ in runs[key]), max(r for _, r, _ in runs[key])
print("| tool | runs | median wall (s) | min-max wall (s) | median CPU (s) | peak RSS (MB) "
      "| driftd speed-up | driftd memory saving |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in names:
    if name not in runs:
        print(f"| {name} | 0 | failed | - | - | - | - | - |")
        continue
    walls = [w for w, _, _ in runs[name]]
    med = statistics.median(walls)
    cpu = statistics.median(c for _, _, c in runs[name])
    rss = max(r for _, r, _ in runs[name]) * 1024 / 1e6
    base, base_rss = baseline(name)
    if base:
        speed = f"{med / base:.1f}x"
        mem = f"{rss / (base_rss * 1024 / 1e6):.1f}x"
    else:
        speed = mem = "n/a"
    print(f"| {name} | {len(walls)} | {med:.2f} | {min(walls):.2f}-{max(walls):.2f} | {cpu:.2f} "
          f"| {rss:.0f} | {speed} | {mem} |")
EOF
)

CHECK="(cross-check skipped: no driftd JSON)"
if [ "$HAVE_DRIFTD" = 1 ] && [ -s "$DATA/driftd_all.json" ] && [ -s "$DATA/numpy_all.json" ]; then
    # Everything driftd reports, against the numpy/scipy script computing everything.
    if CHECK=$("$PYTHON" "$HERE/crosscheck.py" "$DATA/driftd_all.json" "$DATA/numpy_all.json" 2>&1); then :; else FAILED=1; fi
elif [ "$HAVE_DRIFTD" = 1 ] && [ -s "$DATA/driftd.json" ]; then
    if CHECK=$("$PYTHON" "$HERE/crosscheck.py" "$DATA/driftd.json" "$DATA/numpy.json" 2>&1); then :; else FAILED=1; fi
fi

CMDLINE="bash benches/compare/run.sh${ORIG_ARGS:+ $ORIG_ARGS}"
RESULTS=$(cat <<EOF
## driftd compare benchmark ($(date -u +%Y-%m-%d))

Data: $DATA_DESC; 16 numeric + 4 categorical (5, 50, 200, 1000 levels) columns; generated by
\`benches/compare/gen_data.py\`. Statistics: PSI (10 reference-decile bins) + KS on every numeric
column, PSI + chi-square on every categorical column.

$TABLE

Wall time: median of the runs; CPU = user + sys seconds (median); peak RSS: maximum over the runs (GNU time %M, 1 MB = 10^6 bytes);
driftd speed-up = contender median / driftd median; memory saving = contender peak / driftd peak. Whole processes, page cache warm.

Machine: $CPU, $CORES cores, $MEM_GB GiB RAM; $OS; $RUSTC; $PYV.
BLAS seen by numpy: $BLAS. OPENBLAS_CORETYPE/L2_SIZE in the environment: $OB.
Load average before/after: $LOAD_BEFORE / $LOAD_AFTER.

Command: \`$CMDLINE\`

### Cross-check (driftd JSON vs numpy/scipy JSON)

$CHECK
EOF
)
echo "$RESULTS" | tee "$DATA/results.md"
exit "$FAILED"
