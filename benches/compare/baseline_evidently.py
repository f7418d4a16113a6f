#!/usr/bin/env python3
"""Evidently 0.7 DataDriftPreset baseline for the `driftd compare` benchmark (issue 2, item 7).

Reads both Parquet files with pandas, runs `Report([DataDriftPreset()])` with default
settings (Evidently chooses the test per column: for > 1000 rows, Wasserstein distance for
numeric columns with more than 5 distinct values and Jensen-Shannon distance otherwise), and
renders the snapshot to a dict so every metric is really computed. The per-column verdicts
are written to a small JSON file (so the work cannot be skipped or optimised away, and so a
reader can see what Evidently decided).

Note: this is the workload people run Evidently for, not the same statistics as driftd's
PSI + KS + chi-square; `--method psi` switches every column to Evidently's PSI for a closer
comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import pandas as pd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Evidently DataDriftPreset baseline")
    ap.add_argument("--reference", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--output", required=True, help="JSON summary file")
    ap.add_argument("--method", default=None,
                    help="stattest for every column (default: Evidently's own choice)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref_df = pd.read_parquet(args.reference)
    cur_df = pd.read_parquet(args.current)
    t_read = time.perf_counter() - t0

    preset = DataDriftPreset(method=args.method) if args.method else DataDriftPreset()
    report = Report([preset])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings from inside Evidently
        snapshot = report.run(cur_df, ref_df)
        result = snapshot.dict()  # forces every metric (and its widgets) to be materialised
    t_total = time.perf_counter() - t0

    # Keep the per-column drift values (ValueDrift metrics) and the dataset-level count.
    columns = {}
    dataset = None
    for metric in result.get("metrics", []):
        cfg = metric.get("config", {})
        mtype = str(cfg.get("type", ""))
        if "ValueDrift" in mtype:
            columns[cfg.get("column")] = {"method": cfg.get("method"),
                                          "threshold": cfg.get("threshold"),
                                          "value": metric.get("value")}
        elif "DriftedColumnsCount" in mtype:
            dataset = metric.get("value")
    doc = {
        "tool": "evidently DataDriftPreset",
        "versions": {"evidently": evidently.__version__, "pandas": pd.__version__},
        "reference": {"path": args.reference, "rows": int(len(ref_df))},
        "current": {"path": args.current, "rows": int(len(cur_df))},
        "columns": columns,
        "drifted_columns": dataset,
        "timing_s": {"read": round(t_read, 3), "total_in_process": round(t_total, 3)},
    }
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False, default=str)
        fh.write("\n")
    if not columns:
        print("warning: no per-column drift values found in the Evidently snapshot",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
