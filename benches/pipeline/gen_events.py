#!/usr/bin/env python3
"""Deterministic event generator for the daemon pipeline benchmark (issue 3, item 9).

Writes, streaming (one chunk of events in memory at a time):
  * OUT/events.jsonl (or --events-name): N JSON Lines events, event times strictly increasing,
      {"ts": "2026-11-01T00:00:00.123Z", "features": {"num_normal": ..., ..., "cat_1000": "c0417"}}
    20 features: 16 numeric of varied distributions (normal, lognormal, exponential, uniform,
    Student-t, gamma, beta, a bimodal mixture, integers with heavy ties, ...) and 4 categorical
    (5, 50, 200 and 1000 levels). From half-way on, a few features drift (shifted normal,
    scaled lognormal, another category mix), so later windows do find drift.
  * OUT/reference.csv: --ref-rows (100,000) rows with the same 20 feature columns, undrifted,
    from another seed (written only with --reference, or if missing).

Event times: --start (2026-11-01T00:00:00Z) spread evenly over --span-hours (8) with a small
deterministic jitter that keeps them strictly increasing, so the file source streams it.

Usage: python3 benches/pipeline/gen_events.py [--events N] [--span-hours H] [--out-dir DIR]
                                              [--events-name NAME] [--reference] [--seed S]
"""
import argparse
import datetime as dt
import os
import sys

import numpy as np

NUMERIC = [
    "num_normal", "num_lognormal", "num_exponential", "num_uniform", "num_student_t",
    "num_gamma", "num_beta", "num_mixture", "num_int_ties", "num_normal_wide",
    "num_poisson", "num_weibull", "num_laplace", "num_chisq", "num_pareto", "num_logistic",
]
CATEGORICAL = [("cat_5", 5), ("cat_50", 50), ("cat_200", 200), ("cat_1000", 1000)]
COLUMNS = NUMERIC + [name for name, _ in CATEGORICAL]
CHUNK = 50_000


def numeric_block(rng, n, drift):
    """16 arrays of n values; `drift` shifts a few distributions."""
    mix = rng.random(n) < 0.3
    cols = [
        rng.normal(0.5 if drift else 0.0, 1.0, n),                    # num_normal (drifts)
        rng.lognormal(10.0, 0.8, n) * (1.3 if drift else 1.0),        # num_lognormal (drifts)
        rng.exponential(2.0, n),
        rng.uniform(-5.0, 5.0, n),
        rng.standard_t(4, n),
        rng.gamma(2.0, 3.0, n),
        rng.beta(2.0, 5.0, n),
        np.where(mix, rng.normal(-3.0, 0.5, n), rng.normal(2.0, 1.0, n)),
        rng.integers(0, 10, n).astype(np.float64),                   # heavy ties
        rng.normal(1000.0, 250.0, n),
        rng.poisson(3.0 if not drift else 4.0, n).astype(np.float64), # num_poisson (drifts)
        rng.weibull(1.5, n),
        rng.laplace(0.0, 1.0, n),
        rng.chisquare(3.0, n),
        rng.pareto(3.0, n),
        rng.logistic(0.0, 1.0, n),
    ]
    return cols


def cat_block(rng, n, drift):
    out = []
    for name, levels in CATEGORICAL:
        if drift and name == "cat_5":
            # another mix of the 5 levels
            p = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
            idx = rng.choice(levels, n, p=p)
        else:
            # Zipf-ish but stable: level i with weight 1/(i+1)^0.8
            w = 1.0 / np.arange(1, levels + 1) ** 0.8
            idx = rng.choice(levels, n, p=w / w.sum())
        out.append(idx)
    return out


CAT_LABELS = [[f"c{i:04d}" for i in range(levels)] for _, levels in CATEGORICAL]


def fmt_num(col_idx, arr):
    # Integers as integers; other values with 6 significant digits (typical JSON payloads).
    if col_idx in (8, 10):
        return [str(int(v)) for v in arr]
    return [f"{v:.6g}" for v in arr.tolist()]


def write_events(path, n, span_hours, start, seed):
    rng = np.random.default_rng(seed)
    start_ms = int(start.timestamp() * 1000)
    span_ms = int(span_hours * 3600 * 1000)
    # strictly increasing ms: evenly spaced slots; needs span_ms >= n (1 event/ms at most)
    if span_ms < n:
        sys.exit(f"gen_events: {n} events do not fit in {span_hours} h at 1 ms resolution")
    step = span_ms / n
    day_cache = {}
    keys = [f'"{c}": ' for c in COLUMNS]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for lo in range(0, n, CHUNK):
            m = min(CHUNK, n - lo)
            drift = lo >= n // 2
            # slot start + jitter in [0, step/2): still strictly increasing
            ts = start_ms + (np.arange(lo, lo + m) * step + rng.random(m) * (step / 2)).astype(np.int64)
            nums = [fmt_num(i, a) for i, a in enumerate(numeric_block(rng, m, drift))]
            cats = [[CAT_LABELS[j][k] for k in idx.tolist()] for j, idx in enumerate(cat_block(rng, m, drift))]
            lines = []
            for r, t in enumerate(ts.tolist()):
                day, ms_of_day = divmod(t, 86_400_000)
                d = day_cache.get(day)
                if d is None:
                    d = dt.datetime.fromtimestamp(day * 86400, dt.timezone.utc).strftime("%Y-%m-%d")
                    day_cache[day] = d
                h, rem = divmod(ms_of_day, 3_600_000)
                mi, rem = divmod(rem, 60_000)
                s, ms = divmod(rem, 1000)
                parts = [keys[i] + nums[i][r] for i in range(16)]
                parts += [keys[16 + j] + '"' + cats[j][r] + '"' for j in range(4)]
                lines.append(f'{{"ts": "{d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z", "features": {{'
                             + ", ".join(parts) + "}}\n")
            f.write("".join(lines))
    os.replace(tmp, path)


def write_reference(path, rows, seed):
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(COLUMNS) + "\n")
        for lo in range(0, rows, CHUNK):
            m = min(CHUNK, rows - lo)
            nums = [fmt_num(i, a) for i, a in enumerate(numeric_block(rng, m, False))]
            cats = [[CAT_LABELS[j][k] for k in idx.tolist()] for j, idx in enumerate(cat_block(rng, m, False))]
            cols = nums + cats
            f.write("".join(",".join(c[r] for c in cols) + "\n" for r in range(m)))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--span-hours", type=float, default=8.0)
    ap.add_argument("--start", default="2026-11-01T00:00:00+00:00")
    ap.add_argument("--out-dir", default="bench-data/pipeline")
    ap.add_argument("--events-name", default="events.jsonl")
    ap.add_argument("--ref-rows", type=int, default=100_000)
    ap.add_argument("--reference", action="store_true", help="(re)write reference.csv")
    ap.add_argument("--no-reference", action="store_true", help="never write reference.csv")
    ap.add_argument("--seed", type=int, default=20261127)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    ref = os.path.join(a.out_dir, "reference.csv")
    if not a.no_reference and (a.reference or not os.path.exists(ref)):
        write_reference(ref, a.ref_rows, a.seed + 1)
        print(f"wrote {ref} ({a.ref_rows} rows)", file=sys.stderr)
    if a.events > 0:
        out = os.path.join(a.out_dir, a.events_name)
        write_events(out, a.events, a.span_hours, dt.datetime.fromisoformat(a.start), a.seed)
        print(f"wrote {out} ({a.events} events, {os.path.getsize(out) / 1e6:.0f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
