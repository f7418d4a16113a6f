#!/usr/bin/env python3
"""Reads the same columns of both Parquet files with pyarrow, --group columns at a time (the
memory a streaming reader needs), converting nothing: a floor for "just reading" beside
`driftd compare --read-only`, which also types the columns and builds their value arrays."""

import argparse

import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--group", type=int, default=100)
    args = parser.parse_args()
    files = [pq.ParquetFile(args.reference), pq.ParquetFile(args.current)]
    names = files[0].schema_arrow.names
    rows = 0
    for start in range(0, len(names), args.group):
        for f in files:
            table = f.read(columns=names[start:start + args.group], use_threads=True)
            rows += table.num_rows
            del table
    print(f"read {len(names)} columns, {rows} rows over both files and all groups")


if __name__ == "__main__":
    main()
