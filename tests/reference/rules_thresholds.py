"""Reference values for the rules engine's thresholds (src/rules/tests.rs, `yurdakul_*`).

Yurdakul (2018): PSI is significant at level alpha when
    PSI > chi2.ppf(1 - alpha, B - 1) * (1/n_ref + 1/n_cur)
with B the number of bins. Run: python3 tests/reference/rules_thresholds.py
(scipy 1.x); the printed literals are the ones the Rust tests use.
"""

from scipy.stats import chi2

CASES = [
    # (alpha, bins, n_ref, n_cur)
    (0.05, 10, 5000, 300),
    (0.001, 10, 5000, 300),
    (0.05, 5, 1000, 1000),
]

for alpha, bins, n_ref, n_cur in CASES:
    quantile = chi2.ppf(1 - alpha, bins - 1)
    threshold = quantile * (1 / n_ref + 1 / n_cur)
    print(f"alpha={alpha} bins={bins} n_ref={n_ref} n_cur={n_cur}: "
          f"chi2.ppf({1 - alpha}, {bins - 1}) = {float(quantile)!r}, threshold = {float(threshold)!r}")
