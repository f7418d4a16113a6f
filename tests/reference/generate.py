#!/usr/bin/env python3
"""Reference values for `driftd compare`, computed by numpy, scipy and Evidently 0.7.23.

Usage:
    python3 tests/reference/generate.py            # (re)write tests/data/cases/
    python3 tests/reference/generate.py --check    # regenerate into a temp dir, exit 1 on a diff
                                                   # (BLAS-computed values: ≤ BLAS_ULPS ulps)
    python3 tests/reference/generate.py --out DIR  # write somewhere else

For every case this writes tests/data/cases/<case>/{reference.csv, current.csv, expected.json}.
The data comes from fixed-seed numpy generators; every float is written with repr() so it
round-trips. The expected values are computed from the CSV files *as read back* (Python's csv
module, then the token rules of docs/helper-brief.md), never from the in-memory data, so they
describe what driftd sees.

Every number in expected.json sits next to a "call" string: the exact Python statements that
produced it. They are not a paraphrase: this script executes those very strings (see `run`),
in a namespace described under "namespace" in each expected.json.

Output is byte-identical from run to run on one machine (fixed seeds; PYTHONHASHSEED pinned
because Evidently iterates over a Python set of labels; key order and float repr are
deterministic). Across CPUs, one thing moves: scipy's Wasserstein distance ends in a BLAS dot
product, and OpenBLAS picks its kernel by CPU (SkylakeX with AVX-512, Haswell without), which
sums in another order. So `--check` holds those values to BLAS_ULPS units in the last place and
everything else to the byte. numpy's own SIMD dispatch does not change any value here (checked
with NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL").
Versions are pinned: the script refuses to run with other numpy/scipy/pandas/evidently
versions, since a different version may legitimately produce different last digits.

tests/reference_values.rs runs the real binary on every case and binning and compares.
"""

import argparse
import csv
import filecmp
import json
import math
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

# Evidently builds `list(set(labels))`: with string labels the order (and so the last bits of
# a floating-point sum) depends on the hash seed. Pin it before anything is hashed.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import scipy.spatial.distance  # noqa: E402
import scipy.stats  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
import evidently  # noqa: E402
from evidently.legacy.calculations.stattests import (  # noqa: E402
    hellinger_stat_test,
    jensenshannon_stat_test,
    kl_div_stat_test,
    psi_stat_test,
    wasserstein_stat_test,
)
from evidently.legacy.calculations.stattests.utils import get_binned_data  # noqa: E402
from evidently.legacy.core import ColumnType  # noqa: E402

PINNED = {"numpy": "2.4.6", "scipy": "1.17.1", "pandas": "2.3.3", "evidently": "0.7.23"}
FOUND = {"numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
         "evidently": evidently.__version__}

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "data" / "cases"

EPSILON = 1e-4          # driftd's default PSI epsilon (brief: zero proportions become 1e-4)
MAX_DETAIL_BINS = 64    # per-bin counts are stored only up to this many bins (keeps files small)

# ----------------------------------------------------------------------------------------------
# CSV writing (RFC 4180) and reading back
# ----------------------------------------------------------------------------------------------

MISSING_TOKENS = {"": "empty", "NaN": "nan", "nan": "nan"}
NONFINITE_TOKENS = {"inf": math.inf, "-inf": -math.inf, "Infinity": math.inf, "-Infinity": -math.inf}
NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


class Quoted(str):
    """A cell written inside double quotes even though it does not need them."""


def num(v) -> str:
    """A float cell: repr() of a Python float, shortest round-trip form."""
    return repr(float(v))


def csv_field(cell: str, lone: bool) -> str:
    must = isinstance(cell, Quoted) or any(ch in cell for ch in ',"\r\n') or (lone and cell == "")
    return '"' + cell.replace('"', '""') + '"' if must else cell


def write_csv(path: Path, columns: dict, line_end: str = "\n") -> None:
    names = list(columns)
    lengths = {len(v) for v in columns.values()}
    assert len(lengths) == 1, f"{path}: ragged columns {lengths}"
    (n,) = lengths
    lone = len(names) == 1  # a lone empty field must be quoted or the line reads as blank
    lines = [",".join(csv_field(name, lone) for name in names)]
    for i in range(n):
        lines.append(",".join(csv_field(columns[name][i], lone) for name in names))
    path.write_bytes((line_end.join(lines) + line_end).encode("utf-8"))


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    header, body = rows[0], rows[1:]
    for i, row in enumerate(body):
        assert len(row) == len(header), f"{path}: row {i + 2} has {len(row)} fields"
    return header, body


def parse_number(cell: str):
    """The brief's tokens: NaN/nan missing, inf/-inf/Infinity/-Infinity non-finite."""
    if cell in ("NaN", "nan"):
        return math.nan
    if cell in NONFINITE_TOKENS:
        return NONFINITE_TOKENS[cell]
    if NUMBER_RE.match(cell):
        return float(cell)
    return None


def profile_column(ref_cells: list[str], cur_cells: list[str]) -> dict:
    """Type, counts and the values used (present, finite) of one column, as driftd defines them."""
    present = [c for c in ref_cells + cur_cells if c != ""]
    numeric = all(parse_number(c) is not None for c in present)
    out = {"type": "numeric" if numeric else "categorical"}
    values = {}
    for side, cells in (("ref", ref_cells), ("cur", cur_cells)):
        if numeric:
            parsed = [math.nan if c == "" else parse_number(c) for c in cells]
            used = [v for v in parsed if math.isfinite(v)]
            out[f"n_{side}_missing"] = sum(1 for v in parsed if math.isnan(v))
            out[f"n_{side}_nonfinite"] = sum(1 for v in parsed if math.isinf(v))
        else:
            used = [c for c in cells if c != ""]
            out[f"n_{side}_missing"] = len(cells) - len(used)
            out[f"n_{side}_nonfinite"] = 0
        values[side] = used
    out["n_ref"] = len(values["ref"])
    out["n_cur"] = len(values["cur"])
    if out["n_ref"] == 0:
        out["status"] = "empty_reference"
    elif out["n_cur"] == 0:
        out["status"] = "empty_current"
    else:
        out["status"] = "ok"
    return out, values["ref"], values["cur"]


# ----------------------------------------------------------------------------------------------
# Executing the recorded calls
# ----------------------------------------------------------------------------------------------


def run(ns: dict, *stmts: str):
    """Execute `stmts` in `ns`; the value of the last one (an expression) is the result.

    Returns (result, call) where call is the statements joined with "; " — exactly what ran.
    """
    for s in stmts[:-1]:
        exec(s, ns)  # noqa: S102 - the point is to run the recorded text itself
    return eval(stmts[-1], ns), "; ".join(stmts)  # noqa: S307


def fnum(x):
    """A JSON-safe float: Python float, ±inf as the strings driftd writes, NaN as null."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


NAMESPACE_DOC = {
    "np": "numpy", "scipy": "scipy (with scipy.stats and scipy.spatial.distance imported)",
    "pd": "pandas", "Counter": "collections.Counter",
    "psi_stat_test, jensenshannon_stat_test, wasserstein_stat_test, hellinger_stat_test, kl_div_stat_test":
        "from evidently.legacy.calculations.stattests import ...",
    "get_binned_data": "from evidently.legacy.calculations.stattests.utils import get_binned_data",
    "ColumnType": "from evidently.legacy.core import ColumnType",
    "ref, cur": "numeric: np.array(float64) of the column's present finite values in file order "
                "(empty cells, NaN/nan, inf/-inf/Infinity/-Infinity removed); categorical: "
                "list of the non-empty labels (str) in file order",
    "ref_s, cur_s": "pd.Series(ref), pd.Series(cur) (float64 or object dtype), what Evidently's "
                    "data-drift pipeline hands its stattests after replace([inf, -inf], nan).dropna()",
}

NOTES = [
    "Bins for quantile / equal-width:N / edges:... are right-closed with open outer bins: "
    "bin(v) = np.searchsorted(edges, v, side='left'); zero proportions become 1e-4 for PSI only "
    "(no renormalisation); Jensen-Shannon and Hellinger use the proportions without epsilon.",
    "The 'evidently' values are Evidently 0.7.23's own psi / jensenshannon stattests called on "
    "pd.Series after removing missing and non-finite values (its pipeline does the same: "
    "data_drift.py replaces ±inf by NaN and drops NaN before calling a stattest). Each is "
    "cross-checked against an independent numpy implementation of the brief's definition "
    "(field numpy_crosscheck); the generator fails if they differ by more than 1e-12 relative.",
    "Hellinger under 'evidently' uses Evidently's bins (get_binned_data(..., False)) and the "
    "brief's formula. Evidently's own hellinger stattest bins differently (Sturges edges over "
    "the *distinct* values of ref and cur, density histograms, sqrt(1 - BC)): its value is kept "
    "under informational.evidently_hellinger_stattest for comparison and is not tested.",
    "Categorical columns: PSI / JS / Hellinger do not depend on the numeric binning, so every "
    "binning carries the same numbers; under 'evidently' they come from Evidently's stattests "
    "(epsilon rule min_nonzero/1e6 when min_nonzero <= 1e-4, else 1e-4), which equals the 1e-4 "
    "rule in every categorical case here since n < 10000.",
    "Kullback-Leibler is scipy.stats.entropy of the PSI's zero-filled proportions (re, ce); "
    "under 'evidently' it is Evidently 0.7.23's own kl_div stattest, which computes the same "
    "on get_binned_data's proportions.",
    "Statistics of a column whose status is not 'ok' are all null, but for the data-quality "
    "shares (quality.*: missing_share, type_mismatch_share, out_of_range_share, "
    "unseen_category_share), which describe the current file's cells whatever the status; "
    "null where they do not apply (type) or are undefined (no reference or no current value).",
    "cur_cells: the column's current cells as read (str, '' for an empty cell); parse_number: "
    "the brief's token rule (None: not a number).",
]

# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------

FROZEN_EDGE_STMT = {
    "quantile": "edges = np.quantile(ref, [i / 10 for i in range(1, 10)])",
    "equal-width:7": "edges = np.linspace(ref.min(), ref.max(), 7 + 1)[1:-1]",
}

FROZEN_BIN_STMTS = (
    "rc = np.bincount(np.searchsorted(edges, ref, side='left'), minlength=len(edges) + 1)",
    "cc = np.bincount(np.searchsorted(edges, cur, side='left'), minlength=len(edges) + 1)",
    "r = rc / len(ref)",
    "c = cc / len(cur)",
)
PSI_EPS_STMTS = (
    "re = np.where(r == 0, 1e-4, r)",
    "ce = np.where(c == 0, 1e-4, c)",
    "np.sum((re - ce) * np.log(re / ce))",
)
JS_STMT = "scipy.spatial.distance.jensenshannon(r, c)"
HELLINGER_STMT = "np.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2)) / np.sqrt(2)"
# After PSI_EPS_STMTS: the PSI's zero-filled proportions.
KL_STMT = "scipy.stats.entropy(re, ce)"

CAT_BIN_STMTS = (
    "cats = sorted(set(ref) | set(cur))",
    "rn = Counter(ref)",
    "cn = Counter(cur)",
    "r = np.array([rn[k] for k in cats]) / len(ref)",
    "c = np.array([cn[k] for k in cats]) / len(cur)",
)

# Independent numpy version of Evidently's get_binned_data + epsilon rule (brief's definition).
EVIDENTLY_FILL = ("fill = lambda p: np.where(p == 0, p[p > 0].min() / 1e6 "
                  "if p[p > 0].min() <= 1e-4 else 1e-4, p)")
EVIDENTLY_NUMPY_STURGES = (
    "edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins='sturges')",
    "rc = np.histogram(ref, edges)[0]",
    "cc = np.histogram(cur, edges)[0]",
)
EVIDENTLY_NUMPY_PER_VALUE = (
    "keys = np.union1d(ref, cur)",
    "rc = np.array([np.sum(ref == k) for k in keys])",
    "cc = np.array([np.sum(cur == k) for k in keys])",
)
EVIDENTLY_NUMPY_TAIL = (
    "r = rc / len(ref)",
    "c = cc / len(cur)",
    EVIDENTLY_FILL,
    "re = fill(r)",
    "ce = fill(c)",
    "np.sum((re - ce) * np.log(re / ce))",
)


def counts_detail(ns: dict, labels_key: str | None) -> dict:
    rc, cc = ns["rc"], ns["cc"]
    if len(rc) > MAX_DETAIL_BINS:
        return {"counts_omitted": f"{len(rc)} bins > {MAX_DETAIL_BINS}"}
    d = {}
    if labels_key == "edges":
        d["edges"] = [fnum(e) for e in ns["edges"]]
    elif labels_key == "keys":
        d["keys"] = [fnum(k) for k in ns["keys"]]
    elif labels_key == "cats":
        d["categories"] = list(ns["cats"])
    d["ref_counts"] = [int(x) for x in rc]
    d["cur_counts"] = [int(x) for x in cc]
    return d


def numeric_frozen(base: dict, binning: str, edges_list: list[float] | None) -> dict:
    ns = dict(base)
    edge_stmt = FROZEN_EDGE_STMT.get(binning) or f"edges = np.array({edges_list!r})"
    psi, psi_call = run(ns, edge_stmt, *FROZEN_BIN_STMTS, *PSI_EPS_STMTS)
    n_bins, n_bins_call = run(ns, "len(edges) + 1")
    detail = counts_detail(ns, "edges")
    js, js_call = run(ns, JS_STMT)
    hel, hel_call = run(ns, HELLINGER_STMT)
    kl, kl_call = run(ns, KL_STMT)
    setup = "; ".join((edge_stmt,) + FROZEN_BIN_STMTS)
    return {
        "psi": {"value": fnum(psi), "n_bins": int(n_bins), "call": psi_call,
                "n_bins_call": n_bins_call, **detail},
        "jensen_shannon": {"value": fnum(js), "call": f"{setup}; {js_call}"},
        "hellinger": {"value": fnum(hel), "call": f"{setup}; {hel_call}"},
        "kullback_leibler": {"value": fnum(kl), "call": "; ".join((setup,) + PSI_EPS_STMTS[:2] + (kl_call,))},
    }


def numeric_evidently(base: dict) -> dict:
    ns = dict(base)
    psi, psi_call = run(ns, "psi_stat_test(ref_s, cur_s, ColumnType.Numerical, None).drift_score")
    js, js_call = run(ns, "jensenshannon_stat_test(ref_s, cur_s, ColumnType.Numerical, None).drift_score")
    kl, kl_call = run(ns, "kl_div_stat_test(ref_s, cur_s, ColumnType.Numerical, None).drift_score")
    bins_stmt = "r, c = get_binned_data(ref_s, cur_s, ColumnType.Numerical, 30, False)"
    n_bins, n_bins_call = run(ns, bins_stmt, "len(r)")
    hel, hel_call = run(ns, bins_stmt, HELLINGER_STMT)
    n_distinct, n_distinct_call = run(ns, "ref_s.nunique()")
    branch = "sturges" if n_distinct > 20 else "per_value"

    # Cross-check against an independent numpy reading of the brief's definition.
    cns = dict(base)
    body = EVIDENTLY_NUMPY_STURGES if branch == "sturges" else EVIDENTLY_NUMPY_PER_VALUE
    check, check_call = run(cns, *body, *EVIDENTLY_NUMPY_TAIL)
    assert close(float(check), float(psi)), (check, psi)
    assert len(cns["rc"]) == n_bins
    js_check, _ = run(cns, JS_STMT)
    assert close(float(js_check), float(js)), (js_check, js)
    rzero, czero = int(np.sum(cns["r"] == 0)), int(np.sum(cns["c"] == 0))
    eps = {}
    for side, p in (("reference", cns["r"]), ("current", cns["c"])):
        m = float(p[p > 0].min())
        eps[side] = m / 1e6 if m <= 1e-4 else 1e-4
    detail = counts_detail(cns, "edges" if branch == "sturges" else "keys")
    return {
        "psi": {"value": fnum(psi), "n_bins": int(n_bins), "call": psi_call,
                "n_bins_call": n_bins_call,
                "branch": branch, "n_distinct_reference": int(n_distinct),
                "n_distinct_reference_call": n_distinct_call,
                "zero_bins": {"reference": rzero, "current": czero},
                "epsilon_evidently_rule": {k: fnum(v) for k, v in eps.items()},
                "numpy_crosscheck": {"value": fnum(check), "call": check_call}, **detail},
        "jensen_shannon": {"value": fnum(js), "call": js_call},
        "hellinger": {"value": fnum(hel), "call": hel_call},
        "kullback_leibler": {"value": fnum(kl), "call": kl_call},
    }


def categorical_binned(base: dict, evidently_rule: bool) -> dict:
    ns = dict(base)
    if evidently_rule:
        psi, psi_call = run(ns, "psi_stat_test(ref_s, cur_s, ColumnType.Categorical, None).drift_score")
        js, js_call = run(ns, "jensenshannon_stat_test(ref_s, cur_s, ColumnType.Categorical, None).drift_score")
        kl, kl_call = run(ns, "kl_div_stat_test(ref_s, cur_s, ColumnType.Categorical, None).drift_score")
        bins_stmt = "r, c = get_binned_data(ref_s, cur_s, ColumnType.Categorical, 30, False)"
        n_bins, n_bins_call = run(ns, bins_stmt, "len(r)")
        hel, hel_call = run(ns, bins_stmt, HELLINGER_STMT)
        # Same numbers as the 1e-4 rule? (true while every non-zero proportion > 1e-4)
        cns = dict(base)
        plain, _ = run(cns, *CAT_BIN_STMTS, *PSI_EPS_STMTS)
        assert close(float(plain), float(psi)), (plain, psi)
        detail = {}
    else:
        psi, psi_call = run(ns, *CAT_BIN_STMTS, *PSI_EPS_STMTS)
        n_bins, n_bins_call = run(ns, "len(cats)")
        ns["rc"] = [ns["rn"][k] for k in ns["cats"]]
        ns["cc"] = [ns["cn"][k] for k in ns["cats"]]
        detail = counts_detail(ns, "cats")
        js, js_call = run(ns, JS_STMT)
        hel, hel_call = run(ns, HELLINGER_STMT)
        kl, kl_call = run(ns, KL_STMT)
        setup = "; ".join(CAT_BIN_STMTS)
        js_call, hel_call = f"{setup}; {js_call}", f"{setup}; {hel_call}"
        kl_call = "; ".join(CAT_BIN_STMTS + PSI_EPS_STMTS[:2]) + f"; {kl_call}"
    return {
        "psi": {"value": fnum(psi), "n_bins": int(n_bins), "call": psi_call,
                "n_bins_call": n_bins_call, **detail},
        "jensen_shannon": {"value": fnum(js), "call": js_call},
        "hellinger": {"value": fnum(hel), "call": hel_call},
        "kullback_leibler": {"value": fnum(kl), "call": kl_call},
    }


def ks(base: dict) -> dict:
    ns = dict(base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res, call = run(ns, "scipy.stats.ks_2samp(ref, cur, method='auto')")
    fell_back = any("Switching to" in str(w.message) for w in caught)
    method = "exact" if max(len(ns["ref"]), len(ns["cur"])) <= 10000 and not fell_back else "asymp"
    return {
        "statistic": fnum(res.statistic), "p_value": fnum(res.pvalue), "method": method,
        "call": call,
        "method_rule": "'exact' if max(len(ref), len(cur)) <= 10000 else 'asymp' (scipy's "
                       "MAX_AUTO_N); 'asymp' also if scipy warned 'Exact calculation "
                       f"unsuccessful' (it did{'' if fell_back else ' not'})",
    }


def wasserstein(base: dict) -> dict:
    ns = dict(base)
    with np.errstate(over="ignore", invalid="ignore"):
        value, call = run(ns, "scipy.stats.wasserstein_distance(ref, cur)")
        norm, norm_call = run(ns, "wasserstein_stat_test(ref_s, cur_s, ColumnType.Numerical, None).drift_score")
        check, check_call = run(ns, "scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)")
        std, std_call = run(ns, "np.std(ref)")
    assert float(check) == float(norm), (check, norm)
    return {"value": fnum(value), "normalized": fnum(norm), "call": call,
            "normalized_call": norm_call,
            "normalized_crosscheck": {"value": fnum(check), "call": check_call},
            "reference_std": {"value": fnum(std), "call": std_call}}


def chisquare(base: dict) -> dict:
    ns = dict(base)
    k, _ = run(ns, "len(set(ref) | set(cur))")
    res, call = run(
        ns,
        "cats = sorted(set(ref) | set(cur))",
        "rn = Counter(ref)",
        "cn = Counter(cur)",
        "obs = np.array([cn[k] for k in cats], dtype=float)",
        "rp = np.array([rn[k] / len(ref) if rn[k] > 0 else 1e-4 for k in cats])",
        "rp = rp / rp.sum()",
        "exp = len(cur) * rp",
        "scipy.stats.chisquare(obs, exp)",
    )
    return {"statistic": fnum(res.statistic), "p_value": fnum(res.pvalue), "dof": int(k) - 1,
            "call": call, "dof_call": "len(cats) - 1"}


def evidently_hellinger_info(base: dict, numeric: bool) -> dict:
    ns = dict(base)
    kind = "Numerical" if numeric else "Categorical"
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v, call = run(ns, f"hellinger_stat_test(ref_s.copy(), cur_s.copy(), ColumnType.{kind}, None).drift_score")
        value = fnum(v)
    except Exception as e:  # noqa: BLE001 - recorded, not hidden
        value, call = None, f"raised {type(e).__name__}: {e}"
    return {"value": value, "call": call,
            "note": "Evidently's own Hellinger stattest; NOT driftd's definition, not tested"}


def quality(ref_vals, cur_vals, cur_cells: list[str], numeric: bool) -> dict:
    """The data-quality shares of the current side, whatever the column's status."""
    ns = {"np": np, "parse_number": parse_number, "cur_cells": list(cur_cells),
          "ref": np.array(ref_vals, dtype=np.float64) if numeric else list(ref_vals),
          "cur": np.array(cur_vals, dtype=np.float64) if numeric else list(cur_vals)}
    calls = {}
    if numeric:
        calls["missing_share"] = ("x = np.array([np.nan if c == '' else parse_number(c) for c in cur_cells])",
                                  "float(np.mean(np.isnan(x)))")
        calls["type_mismatch_share"] = ("sum(c != '' and parse_number(c) is None for c in cur_cells) "
                                        "/ len(cur_cells)",)
        if len(ref_vals) and len(cur_vals):
            calls["out_of_range_share"] = ("float(np.mean((cur < ref.min()) | (cur > ref.max())))",)
    else:
        calls["missing_share"] = ("float(np.mean([c == '' for c in cur_cells]))",)
        if len(ref_vals) and len(cur_vals):
            calls["unseen_category_share"] = ("known = set(ref)", "float(np.mean([c not in known for c in cur]))")
    out = {}
    for name in ("missing_share", "type_mismatch_share", "out_of_range_share", "unseen_category_share"):
        if name in calls:
            value, call = run(ns, *calls[name])
            out[name] = {"value": fnum(value), "call": call}
        else:
            out[name] = {"value": None, "call": None}
    return out


def column_expected(ref_vals, cur_vals, cur_cells, prof: dict, binnings: list[str]) -> dict:
    col = {k: prof[k] for k in ("type", "status", "n_ref", "n_cur", "n_ref_missing",
                                "n_cur_missing", "n_ref_nonfinite", "n_cur_nonfinite")}
    col["quality"] = quality(ref_vals, cur_vals, cur_cells, prof["type"] == "numeric")
    if prof["status"] != "ok":
        col.update(by_binning=None, ks=None, chisquare=None, wasserstein=None)
        return col
    numeric = prof["type"] == "numeric"
    if numeric:
        ref, cur = np.array(ref_vals, dtype=np.float64), np.array(cur_vals, dtype=np.float64)
        base = {"ref": ref, "cur": cur, "ref_s": pd.Series(ref), "cur_s": pd.Series(cur)}
    else:
        base = {"ref": list(ref_vals), "cur": list(cur_vals),
                "ref_s": pd.Series(ref_vals, dtype=object), "cur_s": pd.Series(cur_vals, dtype=object)}
    base.update(np=np, scipy=scipy, pd=pd, Counter=Counter, ColumnType=ColumnType,
                get_binned_data=get_binned_data, psi_stat_test=psi_stat_test,
                jensenshannon_stat_test=jensenshannon_stat_test,
                wasserstein_stat_test=wasserstein_stat_test, hellinger_stat_test=hellinger_stat_test,
                kl_div_stat_test=kl_div_stat_test)

    by = {}
    with np.errstate(over="ignore"):
        for b in binnings:
            if not numeric:
                by[b] = categorical_binned(base, evidently_rule=(b == "evidently"))
            elif b == "evidently":
                by[b] = numeric_evidently(base)
            elif b.startswith("edges:"):
                by[b] = numeric_frozen(base, b, [float(x) for x in b[len("edges:"):].split(",")])
            else:
                by[b] = numeric_frozen(base, b, None)
    col["by_binning"] = by
    col["ks"] = ks(base) if numeric else None
    col["chisquare"] = None if numeric else chisquare(base)
    col["wasserstein"] = wasserstein(base) if numeric else None
    col["informational"] = {"evidently_hellinger_stattest": evidently_hellinger_info(base, numeric)}
    return col


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------


def normal(rng, n, loc=0.0, scale=1.0, decimals=None):
    x = rng.normal(loc, scale, n)
    return x if decimals is None else np.round(x, decimals)


def nums(xs):
    return [num(v) for v in xs]


def case_tiny(rng):
    ref = {"x": nums(normal(rng, 5)), "color": ["red", "blue", "red", "green", "red"]}
    cur = {"x": nums(normal(rng, 5, 0.5)), "color": ["blue", "blue", "red", "green", "blue"]}
    return ref, cur


def case_coprime(rng):
    ref = {"x": nums(normal(rng, 8)), "k": [str(v) for v in rng.integers(0, 10, 8)]}
    cur = {"x": nums(normal(rng, 13, 0.3, 1.2)), "k": [str(v) for v in rng.integers(0, 10, 13)]}
    return ref, cur


def case_heavy_ties(rng):
    ref = {"level": [str(v) for v in rng.choice(3, 150, p=[0.5, 0.3, 0.2])],
           "level_same_dist": [str(v) for v in rng.choice(3, 150, p=[0.4, 0.4, 0.2])]}
    cur = {"level": [str(v) for v in rng.choice(3, 240, p=[0.3, 0.3, 0.4])],
           "level_same_dist": [str(v) for v in rng.choice(3, 240, p=[0.4, 0.4, 0.2])]}
    return ref, cur


def case_unequal(rng):
    # One reference value far out (9.0) stretches Evidently's Sturges range past the current
    # sample, so the current histogram has empty bins and a smallest non-empty proportion
    # <= 1e-4: this exercises Evidently's min_nonzero / 1e6 epsilon rule.
    r = normal(rng, 100, decimals=5)
    r[17] = 9.0
    return {"x": nums(r)}, {"x": nums(normal(rng, 100000, 0.2, 1.1, decimals=5))}


def case_ks_exact(rng):
    # One reference value at 6.0 leaves empty Sturges bins on both sides while the smallest
    # non-empty proportion is exactly 1/10000 == 1e-4: Evidently's "<= 1e-4" boundary, so both
    # sides' zeros become 1e-10 (a "< 1e-4" reading would give 1e-4).
    r = normal(rng, 10000, decimals=6)
    c = normal(rng, 10000, 0.03, decimals=6)
    r[4321] = 6.0
    return {"x": nums(r)}, {"x": nums(c)}


def case_ks_asymp(rng):
    return {"x": nums(normal(rng, 10000, decimals=6))}, {"x": nums(normal(rng, 10001, 0.03, decimals=6))}


def case_constant(rng):
    ref = {"const_in_reference": [num(3.5)] * 50, "const_in_both": [num(3.5)] * 50,
           "const_in_current": nums(normal(rng, 50, 3.5, decimals=3))}
    cur = {"const_in_reference": nums(normal(rng, 60, 3.5, decimals=3)),
           "const_in_both": ["3.5"] * 60, "const_in_current": ["3.5"] * 60}
    return ref, cur


def case_all_missing(rng):
    ref = {"x_ok": nums(normal(rng, 20)),
           "empty_in_reference": [""] * 20,
           "empty_in_current": nums(normal(rng, 20)),
           "nonfinite_only_in_reference": ["inf", "-inf", "Infinity", "-Infinity"] * 5,
           "label_empty_in_reference": [""] * 20}
    cur = {"x_ok": nums(normal(rng, 24, 0.2)),
           "empty_in_reference": nums(normal(rng, 24)),
           "empty_in_current": ["", "NaN", "nan", ""] * 6,
           "nonfinite_only_in_reference": nums(normal(rng, 24)),
           "label_empty_in_reference": [str(v) for v in rng.choice(["u", "v"], 24)]}
    return ref, cur


def case_categories(rng):
    cat_r = list(rng.choice(["a", "b", "c", "d"], 400, p=[0.1, 0.4, 0.3, 0.2]))
    cat_c = list(rng.choice(["b", "c", "d", "e", "f"], 350, p=[0.3, 0.3, 0.2, 0.15, 0.05]))
    for i in rng.choice(350, 7, replace=False):  # a few empty cells: missing labels
        cat_c[i] = ""
    ref = {"cat": cat_r,
           "flag": list(rng.choice(["true", "false"], 400, p=[0.7, 0.3])),
           "tier": list(rng.choice(["gold", "silver", "bronze"], 400))}
    cur = {"cat": cat_c,
           "flag": list(rng.choice(["true", "false"], 350, p=[0.6, 0.4])),
           "tier": ["gold"] * 350}
    return ref, cur


UTF8_LABELS = ["Paris, FR", "São Paulo, BR", "東京, 日本", 'He said "hi"', "multi\nline",
               "crlf\r\ninside", "emoji 🚀", "é", "e\u0301", "trailing space ", "007", '",,"']


def case_quoting(rng):
    labels_r = list(rng.choice(UTF8_LABELS[:-2], 120))  # "007" and '",,"' only in current
    labels_c = list(rng.choice(UTF8_LABELS, 90))
    names = ["日本", "é", "🙂", "Ünïcödé"]
    amount_r = [Quoted(num(v)) if i % 3 == 0 else num(v)
                for i, v in enumerate(normal(rng, 120, 5, 2, decimals=2))]
    amount_c = [Quoted(num(v)) if i % 4 == 0 else num(v)
                for i, v in enumerate(normal(rng, 90, 5.5, 2, decimals=2))]
    ref = {"city, country": labels_r, "名前": list(rng.choice(names, 120)),
           'amount "EUR"': amount_r}
    cur = {"city, country": labels_c, "名前": list(rng.choice(names, 90, p=[0.1, 0.2, 0.3, 0.4])),
           'amount "EUR"': amount_c}
    return ref, cur


TOKENS = ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity", ""]


def sprinkle(rng, cells, tokens, k):
    cells = list(cells)
    for j, i in enumerate(rng.choice(len(cells), k, replace=False)):
        cells[i] = tokens[j % len(tokens)]
    return cells


def case_nan_inf(rng):
    ref = {"a": sprinkle(rng, nums(normal(rng, 200)), TOKENS, 21),
           "b": sprinkle(rng, nums(normal(rng, 200)), ["NaN", "nan", ""], 12)}
    cur = {"a": sprinkle(rng, nums(normal(rng, 180, 0.3)), TOKENS[::-1], 14),
           "b": sprinkle(rng, nums(normal(rng, 180)), ["inf", "-inf", "Infinity", "-Infinity"], 9)}
    return ref, cur


def case_outlier(rng):
    a_cur = normal(rng, 200)
    a_cur[int(rng.integers(200))] = 1e300
    b_ref = normal(rng, 200)
    b_ref[int(rng.integers(200))] = 1e300
    ref = {"outlier_in_current": nums(normal(rng, 200)), "outlier_in_reference": nums(b_ref)}
    cur = {"outlier_in_current": nums(a_cur), "outlier_in_reference": nums(normal(rng, 200))}
    return ref, cur


def case_normal_shift(rng):
    ref = {"mean_shift": nums(normal(rng, 5000)), "scale_change": nums(normal(rng, 5000))}
    cur = {"mean_shift": nums(normal(rng, 5000, 0.1)), "scale_change": nums(normal(rng, 5000, 0, 1.2))}
    return ref, cur


def case_evidently_branches(rng):
    d20 = np.arange(20) * 0.25
    d21 = np.arange(21) * 0.25
    r20 = np.concatenate([d20, rng.choice(d20, 280)])      # all 20 values present
    r21 = np.concatenate([d21, rng.choice(d21, 279)])      # all 21 values present
    rng.shuffle(r20)
    rng.shuffle(r21)
    ref = {"distinct_20": nums(r20), "distinct_21": nums(r21),
           "distinct_many": nums(normal(rng, 300, 10, 3))}
    cur = {"distinct_20": nums(rng.choice(np.arange(22) * 0.25, 250)),   # 2 values unseen in ref
           "distinct_21": nums(rng.choice(np.arange(1, 23) * 0.25, 250)),
           "distinct_many": nums(normal(rng, 250, 10.5, 3))}
    return ref, cur


def case_single_category(rng):
    ref = {"only_a": ["A"] * 30, "a_then_a_and_b": ["A"] * 30}
    cur = {"only_a": ["A"] * 25, "a_then_a_and_b": list(rng.choice(["A", "B"], 25, p=[0.8, 0.2]))}
    return ref, cur


# (folder, seed, description, explicit edges, builder, current-file line ending)
CASES = [
    ("tiny_5_vs_5", 101, "n = 5 vs 5: a numeric and a categorical column", "-1,0,1", case_tiny, "\n"),
    ("coprime_8_vs_13", 102, "8 vs 13 rows (coprime sizes: exact KS with n1 != n2)", "-0.5,0.5,1.5",
     case_coprime, "\n"),
    ("heavy_ties_012", 103, "150 vs 240 values from {0, 1, 2}: ties, tied quantile edges", "0,1",
     case_heavy_ties, "\n"),
    ("unequal_100_vs_100000", 104, "100 vs 100000 rows: asymptotic KS, Evidently's min/1e6 epsilon",
     "-2,-1,0,1,2", case_unequal, "\n"),
    ("ks_exact_10000_vs_10000", 105, "max(n) = 10000: the largest size scipy's auto method solves exactly; "
     "Evidently's epsilon at its <= 1e-4 boundary",
     "-1,0,1", case_ks_exact, "\n"),
    ("ks_asymp_10000_vs_10001", 106, "max(n) = 10001: just past the boundary, kstwo.sf(D, round(n*m/(n+m)))",
     "-1,0,1", case_ks_asymp, "\n"),
    ("constant_columns", 107, "constant in the reference, in both, in the current", "3,3.5,4",
     case_constant, "\n"),
    ("all_missing", 108, "columns with no usable value in one file: status empty_*, statistics null",
     "0", case_all_missing, "\n"),
    ("categories_new_and_vanished", 109, "categories that appear or vanish, booleans as labels, "
     "missing labels", "0", case_categories, "\n"),
    ("csv_quoting_utf8", 110, "RFC 4180 quoting (commas, quotes, LF and CRLF inside labels, quoted "
     "numbers, quoted headers), UTF-8 labels (NFC vs NFD é, CJK, emoji, trailing space); current.csv "
     "uses CRLF line ends", "0,5,10", case_quoting, "\r\n"),
    ("nan_inf_tokens", 111, "NaN, nan, inf, -inf, Infinity, -Infinity and empty cells in numeric columns",
     "-1,0,1", case_nan_inf, "\n"),
    ("extreme_outlier_1e300", 112, "a single 1e300 in the current, and one in the reference "
     "(np.std(ref) overflows to inf, so normalised Wasserstein is 0)", "-1,0,1", case_outlier, "\n"),
    ("normal_shift_5000_vs_5000", 113, "N(0,1) vs N(0.1,1) and N(0,1) vs N(0,1.2), 5000 rows each",
     "-1,0,1", case_normal_shift, "\n"),
    ("evidently_value_branches", 114, "exactly 20 distinct reference values (Evidently: one bin per "
     "value), exactly 21 (Sturges bins), and continuous", "1,2.5,4", case_evidently_branches, "\n"),
    ("single_category", 115, "one category in both (chi-square statistic 0 as scipy, p-value undefined: "
     "null), one category in the reference and two in the current", "0", case_single_category, "\n"),
]


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # current.csv of csv_quoting_utf8 has CRLF line ends on purpose: no EOL conversion by git.
    (out / ".gitattributes").write_text("* -text\n", encoding="utf-8")
    for name, seed, description, edges, build, cur_line_end in CASES:
        d = out / name
        d.mkdir(exist_ok=True)
        rng = np.random.default_rng(seed)
        ref_cols, cur_cols = build(rng)
        assert list(ref_cols) == list(cur_cols), name
        write_csv(d / "reference.csv", ref_cols)
        write_csv(d / "current.csv", cur_cols, cur_line_end)

        ref_header, ref_rows = read_csv(d / "reference.csv")
        cur_header, cur_rows = read_csv(d / "current.csv")
        assert ref_header == cur_header == list(ref_cols), name
        for cols, rows in ((ref_cols, ref_rows), (cur_cols, cur_rows)):  # the writer round-trips
            assert [list(r) for r in zip(*cols.values())] == rows, name

        binnings = ["quantile", "evidently", "equal-width:7", f"edges:{edges}"]
        columns = {}
        for j, col in enumerate(ref_header):
            cur_cells = [r[j] for r in cur_rows]
            prof, ref_vals, cur_vals = profile_column([r[j] for r in ref_rows], cur_cells)
            columns[col] = column_expected(ref_vals, cur_vals, cur_cells, prof, binnings)
        expected = {
            "case": name,
            "description": description,
            "generated_by": "python3 tests/reference/generate.py",
            "seed": f"np.random.default_rng({seed})",
            "versions": {"python": sys.version.split()[0], **FOUND},
            "reference": {"path": "reference.csv", "rows": len(ref_rows)},
            "current": {"path": "current.csv", "rows": len(cur_rows)},
            "binnings": binnings,
            "namespace": NAMESPACE_DOC,
            "notes": NOTES,
            "columns": columns,
        }
        (d / "expected.json").write_text(to_json(expected) + "\n", encoding="utf-8")


def to_json(v, indent: int = 0) -> str:
    """JSON with one key per line but lists of scalars on a single line (readable diffs)."""
    dump = lambda x: json.dumps(x, ensure_ascii=False, allow_nan=False)  # noqa: E731
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{inner}{dump(k)}: {to_json(x, indent + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
        return "[\n" + ",\n".join(inner + to_json(x, indent + 1) for x in v) + "\n" + pad + "]"
    return dump(v)


# Values computed through a BLAS kernel: scipy's wasserstein_distance ends in `np.vecdot`, which
# OpenBLAS runs with the kernel it picks for the CPU (SkylakeX with AVX-512, Haswell without),
# and the kernels sum the products in different orders. Those values are checked to within
# BLAS_ULPS units in the last place; every other byte of every file must be identical.
BLAS_KEYS = {"wasserstein"}
BLAS_ULPS = 16


def ulps_apart(a: float, b: float) -> int:
    """How many representable doubles lie between a and b (0 when equal; same sign assumed)."""
    if a == b:
        return 0
    if math.copysign(1.0, a) != math.copysign(1.0, b) or not (math.isfinite(a) and math.isfinite(b)):
        return 1 << 62
    ia, ib = (int.from_bytes(np.float64(abs(x)).tobytes(), "little") for x in (a, b))
    return abs(ia - ib)


def json_differences(a, b, path: str = "", in_blas: bool = False) -> tuple[list[str], int]:
    """Differences between two parsed expected.json files, and the largest ulp distance met
    among the BLAS values tolerated. Floats under a BLAS_KEYS key may differ by BLAS_ULPS ulps;
    anything else must be equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path or '/'}: keys {sorted(a)} vs {sorted(b)}"], 0
        out, worst = [], 0
        for k in a:
            d, w = json_differences(a[k], b[k], f"{path}/{k}", in_blas or k in BLAS_KEYS)
            out += d
            worst = max(worst, w)
        return out, worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"], 0
        out, worst = [], 0
        for i, (x, y) in enumerate(zip(a, b)):
            d, w = json_differences(x, y, f"{path}/{i}", in_blas)
            out += d
            worst = max(worst, w)
        return out, worst
    if in_blas and isinstance(a, float) and isinstance(b, float):
        n = ulps_apart(a, b)
        if n <= BLAS_ULPS:
            return [], n
        return [f"{path}: {a!r} vs {b!r} ({n} ulps apart, more than {BLAS_ULPS})"], n
    if type(a) is not type(b) or a != b:
        return [f"{path}: {a!r} vs {b!r}"], 0
    return [], 0


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory and fail if anything differs")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = ap.parse_args()
    if FOUND != PINNED:
        print(f"generate.py: need {PINNED}, found {FOUND}", file=sys.stderr)
        return 2
    if not args.check:
        generate(args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        committed = args.out
        a, b = tree(committed) if committed.exists() else set(), tree(fresh)
        problems = [f"only in {committed}: {p}" for p in sorted(a - b)]
        problems += [f"missing from {committed}: {p}" for p in sorted(b - a)]
        tolerated, worst = 0, 0
        for p in sorted(a & b):
            if filecmp.cmp(committed / p, fresh / p, shallow=False):
                continue
            if not p.endswith(".json"):
                problems.append(f"differs: {p}")
                continue
            diffs, ulps = json_differences(json.loads((committed / p).read_text()),
                                           json.loads((fresh / p).read_text()))
            problems += [f"differs: {p}: {d}" for d in diffs]
            if not diffs:
                tolerated, worst = tolerated + 1, max(worst, ulps)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"generate.py --check: {len(problems)} difference(s) in {len(b)} files; "
          f"{len(b) - tolerated - len(problems)} identical, {tolerated} equal but for BLAS-computed "
          f"values within {worst} ulp(s) (≤ {BLAS_ULPS} allowed)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
