#!/usr/bin/env python3
"""Reference literals for src/stats/kolmogorov_limit.rs: the survival function of the
Kolmogorov limit distribution, `scipy.special.kolmogorov(x)` (= `scipy.stats.kstwobign.sf(x)`),
and the two-sample p-value driftd derives from it for a sketched statistic,
`kstwobign.sf(sqrt(n1*n2/(n1+n2)) * d)`.

Usage:
    python3 tests/reference/kolmogorov_limit.py     # prints the Rust tables to stdout

Each row carries the Python expression that produced it. Versions are pinned.
"""

import math
import sys

import numpy as np
import scipy
from scipy import special, stats

if np.__version__ != "2.4.6" or scipy.__version__ != "1.17.1":
    sys.exit(f"needs numpy 2.4.6 and scipy 1.17.1, found {np.__version__} and {scipy.__version__}")

XS = [0.0, 0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.81, 0.82, 0.83, 0.9, 1.0, 1.0727,
      1.2, 1.358, 1.5, 1.63, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
print("// Printed by `python3 tests/reference/kolmogorov_limit.py` (numpy 2.4.6, scipy 1.17.1).")
print("const KOLMOGOROV: &[(f64, f64)] = &[")
for x in XS:
    print(f"    ({x!r}, {float(special.kolmogorov(x))!r}), // scipy.special.kolmogorov({x!r})")
print("];")

PAIRS = [(100_000, 250_000, 0.001), (100_000, 250_000, 0.004), (100_000, 250_000, 0.0075),
         (100_000, 250_000, 0.0165), (100_000, 1_000_000, 0.003), (50_000, 120_000, 0.01),
         (100_000, 10_000_000, 0.0), (100_000, 10_000_000, 0.05)]
print("const KS_P_VALUE_LIMIT: &[(u64, u64, f64, f64)] = &[")
for n1, n2, d in PAIRS:
    p = float(stats.kstwobign.sf(math.sqrt(n1 * n2 / (n1 + n2)) * d))
    print(f"    ({n1}, {n2}, {d!r}, {p!r}), // kstwobign.sf(sqrt({n1}*{n2}/({n1}+{n2}))*{d!r})")
print("];")
