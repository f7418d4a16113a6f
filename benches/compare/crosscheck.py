#!/usr/bin/env python3
"""Cross-check `driftd compare --format json` against the numpy/scipy baseline JSON.

Usage: crosscheck.py DRIFTD_JSON NUMPY_JSON [--markdown OUT.md]

Checks, column by column (tolerances from issue 2, "Done means"):
  * type, status, n_ref, n_cur, n_*_missing, n_*_nonfinite: exact;
  * PSI value: relative 1e-9; psi.n_bins exact;
  * KS statistic: absolute 1e-9; KS p-value: relative 1e-6 or absolute 1e-12;
  * chi-square statistic: relative 1e-9; p-value as KS; dof exact;
  * when the baseline ran with --all-stats: Jensen-Shannon, Hellinger, Wasserstein (raw and
    normalised) relative 1e-9;
  * every drift verdict and the summary's drifted count: exact.
Prints the maximum deviation per statistic (and the column where it occurs) and exits 1 when
anything is outside its tolerance, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

COUNT_KEYS = ["n_ref", "n_cur", "n_ref_missing", "n_cur_missing", "n_ref_nonfinite",
              "n_cur_nonfinite"]


def as_float(v):
    if v is None:
        return None
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return float(v)


class Checker:
    def __init__(self):
        self.rows = {}  # stat -> [max_dev, column, tolerance text, ok]
        self.failures = []

    def record(self, stat, column, dev, ok, tol):
        row = self.rows.setdefault(stat, [0.0, "-", tol, True])
        if dev > row[0] or (not ok and row[3]):
            row[0], row[1] = dev, column
        row[3] = row[3] and ok
        if not ok:
            self.failures.append(f"{column}: {stat} deviation {dev:.3g} exceeds {tol}")

    def compare(self, stat, column, a, b, mode, tol):
        """mode: 'rel', 'abs' or 'p' (relative 1e-6 or absolute 1e-12)."""
        a, b = as_float(a), as_float(b)
        if a is None or b is None:
            ok = a is None and b is None
            self.record(stat, column, 0.0 if ok else math.inf, ok,
                        "both null" if not ok else tol)
            return
        if math.isinf(a) or math.isinf(b):
            self.record(stat, column, 0.0 if a == b else math.inf, a == b, tol)
            return
        diff = abs(a - b)
        if mode == "abs":
            self.record(stat, column, diff, diff <= 1e-9, tol)
        elif mode == "rel":
            scale = max(abs(a), abs(b))
            rel = diff / scale if scale > 0 else 0.0
            self.record(stat, column, rel, rel <= 1e-9, tol)
        else:  # p-value
            scale = max(abs(a), abs(b))
            rel = diff / scale if scale > 0 else 0.0
            ok = rel <= 1e-6 or diff <= 1e-12
            # Report the relative deviation unless the absolute rule is what passes.
            self.record(stat, column, rel if rel <= 1e-6 or not ok else diff, ok, tol)

    def exact(self, stat, column, a, b):
        ok = a == b
        self.record(stat, column, 0.0 if ok else 1.0, ok, "exact")
        if not ok:
            self.failures[-1] = f"{column}: {stat} differs: driftd {a!r} vs numpy {b!r}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="cross-check driftd JSON against numpy baseline")
    ap.add_argument("driftd_json")
    ap.add_argument("numpy_json")
    ap.add_argument("--markdown", help="also write the deviation table to this file")
    args = ap.parse_args(argv)

    with open(args.driftd_json, encoding="utf-8") as fh:
        d = json.load(fh)
    with open(args.numpy_json, encoding="utf-8") as fh:
        n = json.load(fh)

    ck = Checker()
    if d.get("schema") != "driftd.compare/v1":
        ck.failures.append(f"driftd schema is {d.get('schema')!r}, expected driftd.compare/v1")
    dcols, ncols = d.get("columns", {}), n.get("columns", {})
    if list(dcols) != list(ncols):
        ck.failures.append(f"column lists differ: driftd {list(dcols)} vs numpy {list(ncols)}")

    for name, nc in ncols.items():
        dc = dcols.get(name)
        if dc is None:
            continue
        ck.exact("type", name, dc.get("type"), nc.get("type"))
        ck.exact("status", name, dc.get("status"), nc.get("status"))
        for key in COUNT_KEYS:
            ck.exact("counts", name, dc.get(key), nc.get(key))
        if nc.get("status") != "ok":
            continue
        dp, np_ = dc.get("psi") or {}, nc.get("psi") or {}
        ck.compare("PSI", name, dp.get("value"), np_.get("value"), "rel", "rel 1e-9")
        ck.exact("PSI n_bins", name, dp.get("n_bins"), np_.get("n_bins"))
        ck.exact("verdicts", name, dp.get("drift"), np_.get("drift"))
        if nc.get("type") == "numeric":
            dk, nk = dc.get("ks") or {}, nc.get("ks") or {}
            ck.compare("KS statistic", name, dk.get("statistic"), nk.get("statistic"), "abs",
                       "abs 1e-9")
            ck.compare("KS p-value", name, dk.get("p_value"), nk.get("p_value"), "p",
                       "rel 1e-6 or abs 1e-12")
            ck.exact("KS method", name, dk.get("method"), nk.get("method"))
            ck.exact("verdicts", name, dk.get("drift"), nk.get("drift"))
        else:
            dx, nx = dc.get("chisquare") or {}, nc.get("chisquare") or {}
            ck.compare("chi-square statistic", name, dx.get("statistic"), nx.get("statistic"),
                       "rel", "rel 1e-9")
            ck.compare("chi-square p-value", name, dx.get("p_value"), nx.get("p_value"), "p",
                       "rel 1e-6 or abs 1e-12")
            ck.exact("chi-square dof", name, dx.get("dof"), nx.get("dof"))
            ck.exact("verdicts", name, dx.get("drift"), nx.get("drift"))
        if "jensen_shannon" in nc:
            for key, label in (("jensen_shannon", "Jensen-Shannon"), ("hellinger", "Hellinger")):
                ck.compare(label, name, (dc.get(key) or {}).get("value"),
                           (nc.get(key) or {}).get("value"), "rel", "rel 1e-9")
            if nc.get("type") == "numeric":
                dw, nw = dc.get("wasserstein") or {}, nc.get("wasserstein") or {}
                ck.compare("Wasserstein", name, dw.get("value"), nw.get("value"), "rel",
                           "rel 1e-9")
                ck.compare("Wasserstein normalised", name, dw.get("normalized"),
                           nw.get("normalized"), "rel", "rel 1e-9")
    ck.exact("summary drifted", "(dataset)", (d.get("summary") or {}).get("drifted"),
             (n.get("summary") or {}).get("drifted"))

    lines = ["| statistic | max deviation | column | tolerance | ok |",
             "| --- | ---: | --- | --- | --- |"]
    for stat, (dev, col, tol, ok) in ck.rows.items():
        lines.append(f"| {stat} | {dev:.3g} | {col} | {tol} | {'yes' if ok else 'NO'} |")
    n_checked = len(ncols)
    verdict = ("all within tolerance" if not ck.failures
               else f"{len(ck.failures)} check(s) FAILED")
    lines.append("")
    lines.append(f"Cross-check driftd vs numpy/scipy on {n_checked} columns: {verdict}.")
    text = "\n".join(lines)
    print(text)
    for f in ck.failures[:50]:
        print("  FAIL " + f, file=sys.stderr)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
