#!/usr/bin/env python3
"""Deterministic wide benchmark data for the column-streaming `driftd compare` (issue 14, item 1).

Writes <out-dir>/wide_reference.parquet and <out-dir>/wide_current.parquet: --rows rows (default
1,000,000) of --numeric numeric columns (default 900) and --categorical string columns
(default 100), pyarrow defaults otherwise (snappy, dictionary pages with fallback to plain).
Numeric columns cycle through: float64 normal, uniform and Student-t (3 of 8), float32
lognormal, exponential and gamma (3 of 8; ML feature tables often are float32, and it keeps the
two files at ~4 GiB each), Poisson counts as int64 (heavy ties), and normals rounded to two
decimals (dictionary-encoded). Categoricals have 5 to 1000 Zipf-distributed levels. Every
third column drifts in the current file. Files are written in row groups of --row-group rows so
that generating them needs about rows-per-group x columns x 8 bytes of memory, not the whole
table. Everything is a pure function of the arguments.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

LEVELS = [5, 20, 50, 200, 1000]


def numeric(rng: np.random.Generator, k: int, n: int, drift: bool) -> pa.Array:
    shift = 0.1 if drift else 0.0
    kind = k % 8
    if kind == 0:
        return pa.array(rng.normal(shift, 1.0, n))
    if kind == 1:
        return pa.array(rng.lognormal(shift, 1.0, n).astype(np.float32))
    if kind == 2:
        return pa.array(rng.uniform(shift, 1.0 + shift, n))
    if kind == 3:
        return pa.array(rng.exponential(2.0 + shift, n).astype(np.float32))
    if kind == 4:
        return pa.array(rng.standard_t(5, n) + shift)
    if kind == 5:
        return pa.array(rng.poisson(3.0 + shift * 5, n).astype(np.int64))
    if kind == 6:
        return pa.array(np.round(rng.normal(50 + shift * 10, 10, n), 2))
    return pa.array(rng.gamma(2.0 + shift, 1.5, n).astype(np.float32))


def categorical(rng: np.random.Generator, k: int, n: int, drift: bool) -> pa.Array:
    levels = LEVELS[k % len(LEVELS)]
    s = 0.9 if drift else 1.1
    p = 1.0 / np.arange(1, levels + 1, dtype=np.float64) ** s
    idx = rng.choice(levels, size=n, p=p / p.sum()).astype(np.int32)
    labels = pa.array([f"c{k}_level_{i}" for i in range(levels)])
    return pa.DictionaryArray.from_arrays(pa.array(idx), labels).cast(pa.string())


def write(path: str, rows: int, numeric_cols: int, categorical_cols: int, row_group: int, seed: int,
          current: bool) -> None:
    names = [f"num_{k:04d}" for k in range(numeric_cols)] + [f"cat_{k:03d}" for k in range(categorical_cols)]
    writer = None
    start = 0
    part = 0
    while start < rows:
        n = min(row_group, rows - start)
        rng = np.random.default_rng([seed, part])
        columns = [numeric(rng, k, n, current and k % 3 == 0) for k in range(numeric_cols)]
        columns += [categorical(rng, k, n, current and k % 3 == 0) for k in range(categorical_cols)]
        table = pa.table(dict(zip(names, columns)))
        if writer is None:
            writer = pq.ParquetWriter(path + ".tmp", table.schema)
        writer.write_table(table, row_group_size=row_group)
        start += n
        part += 1
    writer.close()
    os.replace(path + ".tmp", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--numeric", type=int, default=900)
    parser.add_argument("--categorical", type=int, default=100)
    parser.add_argument("--row-group", type=int, default=125_000)
    parser.add_argument("--out-dir", default="bench-data")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name, offset, current in [("wide_reference", 0, False), ("wide_current", 1, True)]:
        path = os.path.join(args.out_dir, f"{name}.parquet")
        write(path, args.rows, args.numeric, args.categorical, args.row_group, args.seed + offset, current)
        print(f"wrote {path} ({os.path.getsize(path) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
