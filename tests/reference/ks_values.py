#!/usr/bin/env python3
"""Reference literals for the unit tests in src/stats/kolmogorov.rs and src/stats/ks.rs.

Usage:
    python3 tests/reference/ks_values.py        # prints the Rust tables to stdout

Every table is printed as Rust source, each row with the exact Python expression that
produced its expected value in a trailing comment. Nothing is random: samples come from a
numpy generator with a fixed seed, rounded to 3 decimals so that they stay short in the
source, and printed with repr() (round-trip exact).

Tables:
1. KSTWO_SF: `scipy.stats.distributions.kstwo.sf(x, n)` for x in every branch of scipy's
   `_kolmogn` selection (support bounds, Ruben-Gambino, 2*smirnov, Durbin matrix, Pomeranz,
   Pelz-Good, the n*x^2 >= 370 cutoff, xsf's n > 1e6 Smirnov approximation).
2. Sample pairs and `scipy.stats.ks_2samp(a, b, method="auto")` (statistic, pvalue).
3. KS_P_VALUE: p-values for given (n1, n2, D) around the exact/asymptotic boundary, from
   `ks_2samp_p` below, which is scipy's own tail of `ks_2samp` (the same private functions,
   in the same order). The script first checks `ks_2samp_p` against the public `ks_2samp` on
   generated samples of each size pair (assertion), so the glue is scipy's.

Versions are pinned: other numpy/scipy versions may legitimately change last digits.
"""

import math
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.stats import distributions
from scipy.stats._stats_py import _attempt_exact_2kssamp

if np.__version__ != "2.4.6" or scipy.__version__ != "1.17.1":
    sys.exit(f"needs numpy 2.4.6 and scipy 1.17.1, found {np.__version__} and {scipy.__version__}")


def ks_2samp_p(n1, n2, d):
    """The tail of scipy.stats.ks_2samp(alternative='two-sided', method='auto') (scipy 1.17.1,
    _stats_py.py) from the statistic d on: returns (statistic, pvalue, method)."""
    g = math.gcd(n1, n2)
    mode = "exact" if max(n1, n2) <= 10000 else "asymp"
    if mode == "exact":
        success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        if not success:
            mode = "asymp"
    if mode == "asymp":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        prob = distributions.kstwo.sf(d, np.round(en))
    return float(d), float(np.clip(prob, 0, 1)), mode


def rust_f64(x):
    """A Rust f64 literal that round-trips."""
    r = repr(float(x))
    if r == "inf" or r == "nan":
        raise ValueError(r)
    if "e" not in r and "." not in r:
        r += ".0"
    return r


# ------------------------------------------------------------------------------ kstwo.sf
def kstwo_points(n):
    """(x, branch) pairs covering the branches of scipy._ksstats._kolmogn(n, x, cdf=False)."""
    pts = [(0.4 / n, "x <= 0.5/n: sf = 1"), (0.75 / n, "Ruben-Gambino, n*x <= 1")]
    if n >= 3:
        pts.append((1.0 - 0.3 / n, "Ruben-Gambino, n*x >= n-1"))
        pts.append((0.62, "x >= 0.5: 2*smirnov"))
    if n <= 140:
        for c, br in [(0.3, "Durbin matrix"), (0.7, "Durbin matrix"), (1.1, "Pomeranz"),
                      (3.2, "Pomeranz"), (4.5, "2*smirnov (n <= 140)"), (9.0, "2*smirnov (n <= 140)")]:
            x = math.sqrt(c / n)
            if 1.0 / n < x < 0.5 and n * x < n - 1:
                pts.append((x, f"n*x^2 = {c}: {br}"))
    else:
        for c, br in [(2.5, "2*smirnov"), (8.0, "2*smirnov"), (30.0, "2*smirnov"), (380.0, "n*x^2 >= 370: sf = 0")]:
            x = math.sqrt(c / n)
            if x < 0.5:
                pts.append((x, f"n*x^2 = {c}: {br}"))
        # Durbin matrix when n <= 100000 and n*x^1.5 <= 1.4, else Pelz-Good (both n*x^2 < 2.2).
        x_dmtw = (1.2 / n) ** (2.0 / 3.0)
        pts.append((x_dmtw, "n*x^1.5 = 1.2: Durbin matrix" if n <= 100000 else "n*x^1.5 = 1.2: Pelz-Good (n > 100000)"))
        for c in (0.9, 2.0):
            pts.append((math.sqrt(c / n), f"n*x^2 = {c}: Pelz-Good" if n * (c / n) ** 0.75 > 1.4 or n > 100000 else f"n*x^2 = {c}: Durbin matrix"))
    return pts


def print_kstwo():
    print("// KSTWO_SF: (n, x, distributions.kstwo.sf(x, n))")
    print("const KSTWO_SF: &[(u64, f64, f64)] = &[")
    for n in [2, 5, 17, 60, 140, 141, 300, 1000, 5000, 100001, 250000, 2000000]:
        for x, branch in kstwo_points(n):
            x = float(x)
            sf = float(distributions.kstwo.sf(x, n))
            print(f"    ({n}, {rust_f64(x)}, {rust_f64(sf)}), // kstwo.sf({x!r}, {n}): {branch}")
    print("];")


# ------------------------------------------------------------------------------ ks_2samp
def samples():
    rng = np.random.default_rng(20240611)
    r3 = lambda a: np.round(a, 3)
    cases = [
        ("n5_vs_5", r3(rng.normal(0, 1, 5)), r3(rng.normal(0.5, 1, 5))),
        ("n8_vs_13", r3(rng.normal(0, 1, 8)), r3(rng.normal(0.3, 1, 13))),
        ("ties_3_values", rng.integers(1, 4, 12).astype(float), rng.integers(1, 4, 15).astype(float)),
    ]
    same = r3(rng.normal(0, 1, 7))
    cases.append(("identical", same, same.copy()))
    cases.append(("disjoint", r3(rng.uniform(0, 1, 6)), r3(rng.uniform(2, 3, 9))))
    cases.append(("one_vs_one", r3(rng.normal(0, 1, 1)), r3(rng.normal(0, 1, 1))))
    cases.append(("n3_vs_40", r3(rng.normal(0, 1, 3)), r3(rng.normal(0, 1, 40))))
    return cases


def print_samples():
    print("// Sample pairs (sorted), from tests/reference/ks_values.py (seed 20240611), and")
    print("// stats.ks_2samp(a, b, method='auto') -> (statistic, pvalue); method is 'exact' (sizes <= 10000).")
    print("const KS_2SAMP_CASES: &[(&str, &[f64], &[f64], f64, f64)] = &[")
    for name, a, b in samples():
        r = stats.ks_2samp(a, b, method="auto")
        a_s = ", ".join(rust_f64(v) for v in np.sort(a))
        b_s = ", ".join(rust_f64(v) for v in np.sort(b))
        print(f"    // {name}: stats.ks_2samp(a, b, method='auto')")
        print(f"    (\"{name}\", &[{a_s}], &[{b_s}], {rust_f64(r.statistic)}, {rust_f64(r.pvalue)}),")
    print("];")


# ------------------------------------------------------------------------------ ks_p_value
BOUNDARY = [(10000, 10000), (10000, 9999), (10000, 10001), (10001, 40), (15000, 300)]
DS = [0.0004, 0.004, 0.0123456, 0.02, 0.05]


def check_glue():
    """ks_2samp_p must give exactly ks_2samp's answer on real samples of each size pair."""
    rng = np.random.default_rng(7)
    for n1, n2 in BOUNDARY:
        for shift in (0.0, 0.03, 0.3):
            a, b = rng.normal(0, 1, n1), rng.normal(shift, 1, n2)
            r = stats.ks_2samp(a, b, method="auto")
            # feed the raw statistic (before scipy's h/lcm rounding) as scipy does internally
            cdf1 = np.searchsorted(np.sort(a), np.concatenate([a, b]), side="right") / n1
            cdf2 = np.searchsorted(np.sort(b), np.concatenate([a, b]), side="right") / n2
            diffs = cdf1 - cdf2
            d = max(float(np.max(diffs)), float(np.clip(-np.min(diffs), 0, 1)))
            d_out, p, _ = ks_2samp_p(n1, n2, d)
            assert (d_out, p) == (float(r.statistic), float(r.pvalue)), (n1, n2, shift, d_out, p, r)


def print_p_values():
    check_glue()
    print("// KS_P_VALUE: (n1, n2, d, statistic, pvalue, exact) from ks_2samp_p(n1, n2, d) in")
    print("// tests/reference/ks_values.py (scipy's ks_2samp tail: _attempt_exact_2kssamp(n1, n2, gcd, d,")
    print("// 'two-sided') when max(n1, n2) <= 10000, else kstwo.sf(d, np.round(n1*n2/(n1+n2)))),")
    print("// checked there against stats.ks_2samp on samples of the same sizes.")
    print("const KS_P_VALUE: &[(u64, u64, f64, f64, f64, bool)] = &[")
    for n1, n2 in BOUNDARY:
        for d in DS:
            d_out, p, mode = ks_2samp_p(n1, n2, d)
            print(f"    ({n1}, {n2}, {rust_f64(d)}, {rust_f64(d_out)}, {rust_f64(p)}, {str(mode == 'exact').lower()}), // ks_2samp_p({n1}, {n2}, {d!r})")
    print("];")


if __name__ == "__main__":
    print(f"// Generated by tests/reference/ks_values.py (numpy {np.__version__}, scipy {scipy.__version__}).")
    print_kstwo()
    print()
    print_samples()
    print()
    print_p_values()
