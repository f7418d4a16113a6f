#!/usr/bin/env python3
"""Deterministic benchmark data for `driftd compare` (issue 2, item 7).

Writes two Parquet files with the same 20 columns (16 numeric, 4 categorical):

    <out-dir>/reference.parquet   (--rows rows, seed --seed)
    <out-dir>/current.parquet     (--rows rows, seed --seed + 1, drift injected)

Numeric columns cover the shapes a drift tool meets in practice: normal, lognormal,
exponential, uniform, Student-t, gamma, beta, a bimodal mixture, integer-valued columns with
heavy ties (Poisson counts, ages), and one float column with ~1 % nulls, a few NaN values and
a few +/-inf. Categorical columns are plain UTF-8 strings (Arrow `string`, not `dictionary`)
with 5, 50, 200 and 1000 levels and Zipf-like frequencies; `cat_50` has nulls, and the
current `cat_200` has a few categories the reference never saw.

The files are written with pyarrow's defaults (`pq.write_table(table, path)`: snappy,
dictionary-encoded pages with pyarrow's usual fallback to plain, one row group per 1 Mi rows),
which is also what `pandas.DataFrame.to_parquet()` produces, so the reader is measured on the
layout most users have.

Drift is injected in the current file in the columns listed in DRIFTED below; the rest are
drawn from the same distribution with a different seed. Everything is a pure function of
(--rows, --seed): re-running gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Columns whose distribution changes in the current file (documented in docs/benchmarks.md).
DRIFTED = [
    "num_normal_shift",  # mean +0.05 sd: KS flags it, PSI stays below 0.1
    "num_normal_scale",  # sd 2 -> 3
    "num_lognormal_shift",  # mu 0 -> 0.4
    "num_exponential_rate",  # scale 2 -> 2.5
    "num_uniform_shift",  # U(0,1) -> U(0.1,1.1)
    "num_int_age",  # ages +4 years
    "num_beta",  # a 2 -> 3
    "cat_50",  # Zipf exponent 1.0 -> 0.8
    "cat_1000",  # Zipf exponent 1.1 -> 1.0, levels reshuffled at the tail
]


def zipf_probs(k: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1, dtype=np.float64) ** s
    return p / p.sum()


def categorical(rng: np.random.Generator, labels: list[str], probs: np.ndarray, n: int,
                null_frac: float = 0.0) -> pa.Array:
    """Plain Arrow string column drawn from `labels` with probabilities `probs`."""
    idx = rng.choice(len(labels), size=n, p=probs).astype(np.int32)
    dict_arr = pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(labels, pa.string()))
    arr = dict_arr.cast(pa.string())  # decode: the file stores plain strings
    if null_frac > 0.0:
        mask = rng.random(n) < null_frac
        arr = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)
    return arr


def make_table(n: int, seed: int, current: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {}

    def f64(values: np.ndarray) -> pa.Array:
        return pa.array(np.ascontiguousarray(values, dtype=np.float64), pa.float64())

    cols["num_normal"] = f64(rng.normal(0.0, 1.0, n))
    cols["num_normal_shift"] = f64(rng.normal(0.05 if current else 0.0, 1.0, n))
    cols["num_normal_scale"] = f64(rng.normal(10.0, 3.0 if current else 2.0, n))
    cols["num_lognormal"] = f64(rng.lognormal(0.0, 1.0, n))
    cols["num_lognormal_shift"] = f64(rng.lognormal(0.4 if current else 0.0, 1.0, n))
    cols["num_exponential"] = f64(rng.exponential(1.0, n))
    cols["num_exponential_rate"] = f64(rng.exponential(2.5 if current else 2.0, n))
    cols["num_uniform"] = f64(rng.uniform(0.0, 100.0, n))
    shift = 0.1 if current else 0.0
    cols["num_uniform_shift"] = f64(rng.uniform(shift, 1.0 + shift, n))
    # Integer-valued columns: int64 in the file, massive ties (about 15 and 73 distinct values).
    cols["num_int_poisson"] = pa.array(rng.poisson(3.0, n).astype(np.int64), pa.int64())
    age = np.clip(np.rint(rng.normal(42.0 + (4.0 if current else 0.0), 12.0, n)), 18, 90)
    cols["num_int_age"] = pa.array(age.astype(np.int64), pa.int64())
    # Float column with ~1 % nulls (what pandas writes for NaN), 0.1 % NaN values kept as
    # NaN (what other writers produce), and a handful of +/-inf.
    x = rng.normal(100.0, 15.0, n)
    nan_mask = rng.random(n) < 0.001
    x[nan_mask] = np.nan
    inf_pos = rng.choice(n, size=min(n, 12), replace=False)
    x[inf_pos[: len(inf_pos) // 2]] = np.inf
    x[inf_pos[len(inf_pos) // 2:]] = -np.inf
    null_mask = rng.random(n) < (0.02 if current else 0.01)
    cols["num_missing_inf"] = pa.array(x, pa.float64(), mask=null_mask)
    cols["num_student_t"] = f64(rng.standard_t(3.0, n))
    cols["num_gamma"] = f64(rng.gamma(2.0, 2.0, n))
    cols["num_beta"] = f64(rng.beta(3.0 if current else 2.0, 5.0, n))
    comp = rng.random(n) < 0.3
    cols["num_mixture"] = f64(np.where(comp, rng.normal(-2.0, 0.5, n), rng.normal(3.0, 1.0, n)))

    # Categorical columns (plain strings). cat_5 has non-ASCII labels on purpose.
    labels5 = ["alpha", "beta", "gamma", "délta", "ε-psilon"]
    cols["cat_5"] = categorical(rng, labels5, np.array([0.4, 0.25, 0.15, 0.12, 0.08]), n)
    labels50 = [f"region_{i:02d}" for i in range(50)]
    cols["cat_50"] = categorical(rng, labels50, zipf_probs(50, 0.8 if current else 1.0), n,
                                 null_frac=0.005)
    labels200 = [f"device-{i:03d}" for i in range(200)]
    if current:
        # Six categories the reference never saw, 0.06 % of rows in total.
        labels200_cur = labels200 + [f"device-new-{i}" for i in range(6)]
        p = np.concatenate([zipf_probs(200, 0.9) * (1 - 0.0006), np.full(6, 0.0001)])
        cols["cat_200"] = categorical(rng, labels200_cur, p, n)
    else:
        cols["cat_200"] = categorical(rng, labels200, zipf_probs(200, 0.9), n)
    labels1000 = [f"sku-{i:05d}" for i in range(1000)]
    if current:
        p = zipf_probs(1000, 1.0)
        # Reshuffle the tail so ranks (not just the exponent) change.
        perm = np.random.default_rng(seed + 1000).permutation(np.arange(100, 1000))
        p = np.concatenate([p[:100], p[100:][np.argsort(perm)]])
        cols["cat_1000"] = categorical(rng, labels1000, p, n)
    else:
        cols["cat_1000"] = categorical(rng, labels1000, zipf_probs(1000, 1.1), n)

    return pa.table(cols)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per file (default 1000000)")
    ap.add_argument("--seed", type=int, default=20240601, help="base seed (current uses seed+1)")
    ap.add_argument("--out-dir", default="bench-data", help="output folder (default bench-data)")
    args = ap.parse_args(argv)
    if args.rows < 1:
        ap.error("--rows must be >= 1")

    os.makedirs(args.out_dir, exist_ok=True)
    for name, seed, current in (("reference", args.seed, False),
                                ("current", args.seed + 1, True)):
        table = make_table(args.rows, seed, current)
        path = os.path.join(args.out_dir, f"{name}.parquet")
        tmp = path + ".tmp"
        pq.write_table(table, tmp)  # pyarrow defaults on purpose (see module docstring)
        os.replace(tmp, path)
        md = pq.ParquetFile(path).metadata
        encodings = {}
        for j in range(md.num_columns):
            col = md.row_group(0).column(j)
            encodings[col.path_in_schema] = sorted(set(col.encodings))
        cat_enc = {k: v for k, v in encodings.items() if k.startswith("cat_")}
        print(f"wrote {path}: {md.num_rows} rows, {md.num_columns} columns, "
              f"{md.num_row_groups} row group(s), {os.path.getsize(path) / 1e6:.1f} MB; "
              f"categorical encodings {json.dumps(cat_enc)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
