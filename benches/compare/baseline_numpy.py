#!/usr/bin/env python3
"""numpy/scipy baseline for the `driftd compare` benchmark (issue 2, item 7).

What a competent data scientist would write to get the same numbers as `driftd compare`
(definitions: docs/helper-brief.md / docs/statistics.md):

* read both files with pandas (`pd.read_parquet`, pyarrow engine);
* numeric columns (numeric pandas dtype): drop missing (null/NaN) and +/-inf, then
  - PSI on 10 reference-decile bins: edges = np.quantile(ref, [0.1 .. 0.9]), bin(v) =
    np.searchsorted(edges, v, side="left") (right-closed bins, open outer bins), proportions
    with zeros replaced by 1e-4, PSI = sum((r - c) * ln(r / c));
  - scipy.stats.ks_2samp(ref, cur, method="auto");
* categorical columns (everything else): one bin per category of the sorted union
  - PSI as above on category proportions;
  - chi-square: observed = current counts, reference proportions with unseen categories given
    1e-4 and renormalised, expected = n_cur * r, scipy.stats.chisquare(obs, exp).

With --all-stats it also computes Jensen-Shannon distance, Hellinger distance and the
(normalised) Wasserstein distance, i.e. everything `driftd compare` reports.

Output: a JSON file shaped like a subset of `driftd.compare/v1` (same column keys and
statistic objects), so run.sh can cross-check the two tools column by column.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPS = 1e-4
PSI_THRESHOLD = 0.1
P_THRESHOLD = 0.05
MAX_AUTO_N = 10000  # scipy.stats.ks_2samp: exact p-value when max(n, m) <= this


def num(x: float | None):
    """JSON number in the driftd convention: None stays null, +/-inf become strings."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def psi_from_props(r: np.ndarray, c: np.ndarray) -> float:
    r = np.where(r == 0, EPS, r)
    c = np.where(c == 0, EPS, c)
    return float(np.sum((r - c) * np.log(r / c)))


def divergences(r: np.ndarray, c: np.ndarray) -> dict:
    js = float(jensenshannon(r, c))
    hel = float(np.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2)) / np.sqrt(2))
    return {"jensen_shannon": {"value": num(js), "drift": bool(js >= 0.1)},
            "hellinger": {"value": num(hel), "drift": bool(hel >= 0.1)}}


def numeric_column(ref_s: pd.Series, cur_s: pd.Series, all_stats: bool) -> dict:
    ref_all = ref_s.to_numpy(dtype=np.float64, na_value=np.nan)
    cur_all = cur_s.to_numpy(dtype=np.float64, na_value=np.nan)
    ref_fin = np.isfinite(ref_all)
    cur_fin = np.isfinite(cur_all)
    ref = ref_all[ref_fin]
    cur = cur_all[cur_fin]
    out = {
        "type": "numeric",
        "n_ref": int(ref.size), "n_cur": int(cur.size),
        "n_ref_missing": int(np.isnan(ref_all).sum()),
        "n_cur_missing": int(np.isnan(cur_all).sum()),
        "n_ref_nonfinite": int(np.isinf(ref_all).sum()),
        "n_cur_nonfinite": int(np.isinf(cur_all).sum()),
    }
    if ref.size == 0 or cur.size == 0:
        out["status"] = "empty_reference" if ref.size == 0 else "empty_current"
        out.update(psi=None, ks=None, chisquare=None)
        return out
    out["status"] = "ok"

    edges = np.quantile(ref, np.arange(1, 10) / 10)
    k = edges.size + 1
    r = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=k) / ref.size
    c = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=k) / cur.size
    psi = psi_from_props(r, c)
    out["psi"] = {"value": num(psi), "binning": "quantile", "n_bins": k,
                  "drift": bool(psi >= PSI_THRESHOLD)}

    ks = stats.ks_2samp(ref, cur, method="auto")
    method = "exact" if max(ref.size, cur.size) <= MAX_AUTO_N else "asymp"
    out["ks"] = {"statistic": num(ks.statistic), "p_value": num(ks.pvalue), "method": method,
                 "drift": bool(ks.pvalue <= P_THRESHOLD)}
    out["chisquare"] = None

    if all_stats:
        out.update(divergences(r, c))
        w = float(stats.wasserstein_distance(ref, cur))
        wn = w / max(float(np.std(ref)), 0.001)
        out["wasserstein"] = {"value": num(w), "normalized": num(wn), "drift": bool(wn >= 0.1)}
    return out


def categorical_column(ref_s: pd.Series, cur_s: pd.Series, all_stats: bool) -> dict:
    # Missing = null, or an empty cell (the brief's definition).
    ref_missing = ref_s.isna() | (ref_s == "")
    cur_missing = cur_s.isna() | (cur_s == "")
    ref_counts = ref_s[~ref_missing].astype(str).value_counts()
    cur_counts = cur_s[~cur_missing].astype(str).value_counts()
    n_ref = int(ref_counts.sum())
    n_cur = int(cur_counts.sum())
    out = {
        "type": "categorical",
        "n_ref": n_ref, "n_cur": n_cur,
        "n_ref_missing": int(ref_missing.sum()), "n_cur_missing": int(cur_missing.sum()),
        "n_ref_nonfinite": 0, "n_cur_nonfinite": 0,
    }
    if n_ref == 0 or n_cur == 0:
        out["status"] = "empty_reference" if n_ref == 0 else "empty_current"
        out.update(psi=None, ks=None, chisquare=None)
        return out
    out["status"] = "ok"

    cats = sorted(set(ref_counts.index) | set(cur_counts.index))  # code-point = UTF-8 byte order
    rc = ref_counts.reindex(cats, fill_value=0).to_numpy(dtype=np.float64)
    cc = cur_counts.reindex(cats, fill_value=0).to_numpy(dtype=np.float64)
    r = rc / n_ref
    c = cc / n_cur
    psi = psi_from_props(r, c)
    out["psi"] = {"value": num(psi), "binning": "quantile", "n_bins": len(cats),
                  "drift": bool(psi >= PSI_THRESHOLD)}
    out["ks"] = None

    k = len(cats)
    if k >= 2:
        rp = np.where(rc == 0, EPS, r)
        rp = rp / rp.sum()
        chi = stats.chisquare(cc, n_cur * rp)
        out["chisquare"] = {"statistic": num(chi.statistic), "p_value": num(chi.pvalue),
                            "dof": k - 1, "drift": bool(chi.pvalue < P_THRESHOLD)}
    else:
        out["chisquare"] = {"statistic": None, "p_value": None, "dof": k - 1, "drift": False}

    if all_stats:
        out.update(divergences(r, c))
        out["wasserstein"] = None
    return out


def blas_info() -> list:
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for d in threadpool_info()]
    except Exception as exc:  # threadpoolctl is optional: the report just says so
        return [{"error": repr(exc)}]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="numpy/scipy drift baseline (PSI, KS, chi-square)")
    ap.add_argument("--reference", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--output", required=True, help="JSON results file")
    ap.add_argument("--all-stats", action="store_true",
                    help="also Jensen-Shannon, Hellinger and Wasserstein (all driftd reports)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ref_df = pd.read_parquet(args.reference)
    cur_df = pd.read_parquet(args.current)
    t_read = time.perf_counter() - t0
    if list(ref_df.columns) != list(cur_df.columns):
        print("error: the two files have different columns", file=sys.stderr)
        return 2

    columns = {}
    drifted = 0
    for name in ref_df.columns:
        ref_s, cur_s = ref_df[name], cur_df[name]
        if pd.api.types.is_numeric_dtype(ref_s) and pd.api.types.is_numeric_dtype(cur_s) \
                and not pd.api.types.is_bool_dtype(ref_s):
            res = numeric_column(ref_s, cur_s, args.all_stats)
        else:
            res = categorical_column(ref_s, cur_s, args.all_stats)
        res["drift"] = bool(res["psi"]["drift"]) if res.get("psi") else False
        drifted += res["drift"]
        columns[name] = res
    t_total = time.perf_counter() - t0

    n_cols = len(columns)
    share = drifted / n_cols if n_cols else 0.0
    doc = {
        "schema": "driftd.compare/v1-subset",
        "tool": "numpy/scipy baseline",
        "versions": {"numpy": np.__version__, "pandas": pd.__version__,
                     "scipy": __import__("scipy").__version__},
        "blas": blas_info(),
        "reference": {"path": args.reference, "rows": int(len(ref_df))},
        "current": {"path": args.current, "rows": int(len(cur_df))},
        "columns": columns,
        "summary": {"columns": n_cols, "drifted": drifted, "share_drifted": share,
                    "dataset_drift": bool(share >= 0.5)},
        "timing_s": {"read": round(t_read, 3), "total_in_process": round(t_total, 3)},
    }
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
