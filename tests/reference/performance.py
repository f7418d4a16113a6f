#!/usr/bin/env python3
"""Reference values for the model-performance metrics (src/stats/performance/, `compare --target`),
computed by scikit-learn 1.9.1 (numpy 2.4.6).

Usage:
    python3 tests/reference/performance.py            # (re)write tests/data/performance/
    python3 tests/reference/performance.py --check    # regenerate into a temp dir, exit 1 on a diff,
                                                      # and check the unit tests' literals
    python3 tests/reference/performance.py --print    # print the unit tests' literals

Each case is a directory with reference.csv, current.csv and expected.json (some also with
Parquet copies of the two CSV files, written by pyarrow). The expected
values are computed from the CSV files as read back (Python's csv module; a row is used when
its target and prediction cells are both finite numbers), never from the in-memory data.
Every number sits next to the exact call that produced it; this script evaluates those very
strings. Namespace: np (numpy), metrics (sklearn.metrics), calibration_curve
(sklearn.calibration), y (targets, np.float64 array), p (predictions, np.float64 array),
and for classification yl = (y == 1), pl = (p >= 0.5) (the predicted labels of a score) and
the helper `ece(y, p)` below. Output is byte-identical from run to run (fixed seeds, no BLAS,
data made with libm's exp); across CPUs, numpy's AVX-512 log may move a log loss by an ulp,
which `--check` allows (MAX_ULPS) and the Rust tests' 1e-12 relative tolerance covers.
"""

import argparse
import csv
import json
import math
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet
import sklearn
from sklearn import metrics
from sklearn.calibration import calibration_curve

PINNED = {"numpy": "2.4.6", "sklearn": "1.9.1", "pyarrow": "26.0.1"}
FOUND = {"numpy": np.__version__, "sklearn": sklearn.__version__, "pyarrow": pyarrow.__version__}
# These cases also get Parquet copies of their CSV files (typed columns: int64 with nulls,
# float64), the same rows and so the same expected values.
PARQUET_CASES = ("classifier_shift", "regressor_shift")
REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "data" / "performance"
UNIT_TESTS = REPO / "src" / "stats" / "performance" / "tests.rs"

warnings.filterwarnings("ignore")  # UndefinedMetricWarning on the zero_division cases


def ece(y, p, n_bins=10):
    """Expected calibration error on calibration_curve's bins: right-closed (e_b, e_b+1], 0 in
    the first; the weights n_b / n of the non-empty bins, summed with np.sum."""
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins)
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], p), minlength=n_bins)
    counts = counts[counts != 0]
    return np.sum(counts / len(p) * np.abs(prob_true - prob_pred))


# Label metrics: of the predicted labels (a label column) or of the score at 0.5.
LABEL_CALLS = {
    "accuracy": "metrics.accuracy_score(yl, pl)",
    "precision": "metrics.precision_score(yl, pl, zero_division=0)",
    "recall": "metrics.recall_score(yl, pl, zero_division=0)",
    "f1": "metrics.f1_score(yl, pl, zero_division=0)",
    "f1_macro": "metrics.f1_score(yl, pl, average='macro', zero_division=0)",
}
# Score metrics; ROC AUC is null when one class is absent (scikit-learn raises).
SCORE_CALLS = {
    "roc_auc": "metrics.roc_auc_score(yl, p)",
    "log_loss": "metrics.log_loss(yl, p, labels=[False, True])",
    "brier": "metrics.brier_score_loss(yl, p, pos_label=True)",
    "ece": "ece(yl, p)",
}
REGRESSION_CALLS = {
    "mae": "metrics.mean_absolute_error(y, p)",
    "rmse": "metrics.root_mean_squared_error(y, p)",
    "mape": "metrics.mean_absolute_percentage_error(y, p)",
    "r2": "metrics.r2_score(y, p)",
}


def evaluate(call: str, ns: dict):
    """The value of `call` in `ns`, or None when scikit-learn refuses (undefined)."""
    try:
        v = float(eval(call, ns))  # noqa: S307 - the recorded text is what runs
    except ValueError:
        return None
    return None if math.isnan(v) else v


def number(cell: str):
    """A finite number, or None for a missing / non-finite cell (excluded, counted)."""
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def pairs(path: Path, target: str, prediction: str):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    used = [(number(r[target]), number(r[prediction])) for r in rows]
    used = [(t, q) for t, q in used if t is not None and q is not None]
    y = np.array([t for t, _ in used], dtype=np.float64)
    p = np.array([q for _, q in used], dtype=np.float64)
    return y, p, len(rows) - len(used)


def side(path: Path, target: str, prediction: str, calls: dict) -> dict:
    y, p, excluded = pairs(path, target, prediction)
    ns = {"np": np, "metrics": metrics, "calibration_curve": calibration_curve, "ece": ece,
          "y": y, "p": p, "yl": y == 1, "pl": p >= 0.5}
    out = {"n": len(y), "n_excluded": excluded}
    for name, call in calls.items():
        out[name] = {"value": evaluate(call, ns), "call": call}
    return out


def expected_for(d: Path, task: str) -> dict:
    out = {"task": task}
    if task == "classification":
        out["score"] = {s: side(d / f"{s}.csv", "target", "score", LABEL_CALLS | SCORE_CALLS)
                        for s in ("reference", "current")}
        out["label"] = {s: side(d / f"{s}.csv", "target", "label", LABEL_CALLS)
                        for s in ("reference", "current")}
    else:
        out["prediction"] = {s: side(d / f"{s}.csv", "target", "prediction", REGRESSION_CALLS)
                             for s in ("reference", "current")}
    return out


# --------------------------------------------------------------------------------------------
# Cases (fixed seeds)
# --------------------------------------------------------------------------------------------

def r(x) -> str:
    return repr(float(x))


def classifier(rng, n, quality, decimals=None):
    """Targets with a score that separates them `quality`-well (a logistic of a noisy margin)."""
    y = rng.random(n) < 0.4
    margin = quality * (2.0 * y - 1.0) + rng.normal(0.0, 1.0, n)
    # math.exp (libm), not np.exp, whose AVX-512 kernel rounds differently: the data must not
    # depend on the CPU.
    score = np.array([1.0 / (1.0 + math.exp(-m)) for m in margin])
    if decimals is not None:
        score = np.round(score, decimals)
    return y.astype(int), score


def classification_columns(y, score, threshold=0.5):
    return {"target": [str(int(t)) for t in y], "score": [r(s) for s in score],
            "label": [str(int(s >= threshold)) for s in score]}


def case_shift(rng):
    ref = classification_columns(*classifier(rng, 600, 1.5))
    cur = classification_columns(*classifier(rng, 450, 0.7))
    # Missing and non-finite cells: those rows are excluded and counted.
    for i in (3, 50, 51):
        cur["target"][i] = ""
    cur["score"][7], cur["label"][7] = "NaN", ""
    cur["score"][9], cur["label"][9] = "inf", ""
    return ref, cur


def case_ties(rng):
    # Scores on the bin edges and the threshold, heavily tied.
    grid = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]
    def make(n, bias):
        s = rng.choice(grid, n)
        y = (rng.random(n) < np.clip(s + bias, 0, 1)).astype(int)
        return classification_columns(y, s)
    return make(300, 0.0), make(200, 0.15)


def case_one_class(rng):
    y_ref, s_ref = classifier(rng, 80, 1.0, decimals=3)
    _, s_cur = classifier(rng, 60, 1.0, decimals=3)
    return classification_columns(y_ref, s_ref), classification_columns(np.zeros(60, int), s_cur)


def case_all_correct(rng):
    y = (rng.random(40) < 0.5).astype(int)
    cur_y = (rng.random(30) < 0.3).astype(int)
    # Perfect scores 0 and 1: log loss is clipped at machine epsilon.
    return classification_columns(y, y.astype(float)), classification_columns(cur_y, cur_y * 0.75 + 0.2)


def case_extreme(rng):
    # Confidently wrong: probabilities 0 and 1 on the wrong side.
    y = (rng.random(50) < 0.5).astype(int)
    wrong = 1.0 - y.astype(float)
    wrong[:10] = y[:10]
    y2 = (rng.random(20) < 0.5).astype(int)
    return classification_columns(y, wrong), classification_columns(y2, 1.0 - y2.astype(float))


def regression_columns(y, p):
    return {"target": [r(t) for t in y], "prediction": [r(q) for q in p]}


def case_regression(rng):
    y = rng.normal(100.0, 20.0, 500)
    y2 = rng.normal(110.0, 25.0, 400)
    ref = regression_columns(y, y + rng.normal(0.0, 5.0, 500))
    cur = regression_columns(y2, y2 * 0.9 + rng.normal(0.0, 9.0, 400))
    cur["prediction"][11] = ""
    return ref, cur


def case_zero_targets(rng):
    # MAPE's epsilon on zero targets; a constant current target (R² force_finite → 0).
    y = np.round(rng.normal(0.0, 2.0, 60), 1)
    y[::7] = 0.0
    ref = regression_columns(y, y + np.round(rng.normal(0.0, 0.5, 60), 2))
    cur = regression_columns(np.full(25, 3.0), 3.0 + np.round(rng.normal(0.0, 0.2, 25), 2))
    return ref, cur


CASES = {
    "classifier_shift": ("classification", case_shift),
    "classifier_ties": ("classification", case_ties),
    "classifier_one_class": ("classification", case_one_class),
    "classifier_all_correct": ("classification", case_all_correct),
    "classifier_extreme": ("classification", case_extreme),
    "regressor_shift": ("regression", case_regression),
    "regressor_zero_targets": ("regression", case_zero_targets),
}


def write_csv(path: Path, columns: dict) -> None:
    names = list(columns)
    lines = [",".join(names)] + [",".join(row) for row in zip(*columns.values())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(out: Path) -> None:
    for seed, (name, (task, make)) in enumerate(CASES.items()):
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        ref, cur = make(np.random.default_rng(20261205 + seed))
        write_csv(d / "reference.csv", ref)
        write_csv(d / "current.csv", cur)
        (d / "expected.json").write_text(json.dumps(expected_for(d, task), indent=1) + "\n")
        if name in PARQUET_CASES:
            for stem in ("reference", "current"):
                table = pyarrow.csv.read_csv(d / f"{stem}.csv")
                pyarrow.parquet.write_table(table, d / f"{stem}.parquet")


# --------------------------------------------------------------------------------------------
# Unit-test literals (src/stats/performance/tests.rs): each printed line's value must appear there.
# --------------------------------------------------------------------------------------------

UNIT = [
    # (y, p, call)
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], "metrics.roc_auc_score(y, p)"),
    ([0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.2, 0.9, 0.2, 0.7], "metrics.roc_auc_score(y, p)"),
    ([0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.2, 0.9, 0.2, 0.7], "metrics.log_loss(y, p)"),
    ([0, 1, 1], [0.0, 1.0, 0.0], "metrics.log_loss(y, p)"),
    ([0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.2, 0.9, 0.2, 0.7], "metrics.brier_score_loss(y, p)"),
    ([0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.2, 0.9, 0.2, 0.7], "ece(y, p)"),
    ([0, 1, 1, 1, 0], [0.0, 0.1, 0.1, 1.0, 0.95], "ece(y, p)"),
    ([0, 1, 0, 1, 1, 0, 1], [1, 1, 0, 0, 1, 0, 1], "metrics.f1_score(y, p)"),
    ([0, 1, 0, 1, 1, 0, 1], [1, 1, 0, 0, 1, 0, 1], "metrics.f1_score(y, p, average='macro')"),
    ([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0], "metrics.mean_absolute_error(y, p)"),
    ([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0], "metrics.root_mean_squared_error(y, p)"),
    ([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0], "metrics.r2_score(y, p)"),
    ([1.0, 0.0, 2.0], [1.5, 0.1, 2.0], "metrics.mean_absolute_percentage_error(y, p)"),
]


def unit_lines() -> list[str]:
    lines = []
    for y, p, call in UNIT:
        ns = {"np": np, "metrics": metrics, "ece": ece, "y": np.array(y), "p": np.array(p, dtype=float)}
        lines.append(f"// y = {y}, p = {p}: {call} = {float(eval(call, ns))!r}")  # noqa: S307
    return lines


# numpy's float64 log has its own AVX-512 kernel, which rounds some values (e.g. log(1 - eps))
# one ulp away from libm's: the log loss of expected.json may move by an ulp between CPUs.
MAX_ULPS = 4


def json_ulps(a: bytes, b: bytes):
    """The largest ulp distance between the numbers of two JSON documents of the same shape,
    or None when they differ otherwise."""
    def walk(x, y):
        if isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys():
            return max((walk(x[k], y[k]) for k in x), default=0)
        if isinstance(x, float) and isinstance(y, float):
            ix, iy = (np.array([v]).view(np.int64)[0] for v in (x, y))
            return abs(int(ix) - int(iy)) if (x >= 0) == (y >= 0) else math.inf
        return 0 if x == y else math.inf
    distance = walk(json.loads(a), json.loads(b))
    return None if math.isinf(distance) else distance


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--print", action="store_true")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    if FOUND != PINNED:
        print(f"performance.py: need {PINNED}, found {FOUND}", file=sys.stderr)
        return 2
    if args.print:
        print("\n".join(unit_lines()))
        return 0
    if not args.check:
        generate(args.out)
        return 0
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = {p.relative_to(tmp): p.read_bytes() for p in Path(tmp).rglob("*") if p.is_file()}
        committed = {p.relative_to(args.out): p.read_bytes() for p in args.out.rglob("*") if p.is_file()}
        for p in sorted(fresh):
            if committed.get(p) == fresh[p]:
                continue
            ulps = json_ulps(committed[p], fresh[p]) if p.suffix == ".json" and p in committed else None
            if ulps is None or ulps > MAX_ULPS:
                problems.append(f"differs or missing: {p}" + (f" ({ulps} ulps)" if ulps is not None else ""))
        problems += [f"not generated: {p}" for p in sorted(set(committed) - set(fresh))]
    source = " ".join(UNIT_TESTS.read_text().split())
    problems += [f"{UNIT_TESTS.name}: missing literal: {line}" for line in unit_lines()
                 if " ".join(line.split()) not in source]
    for p in problems:
        print(p, file=sys.stderr)
    print(f"performance.py --check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
