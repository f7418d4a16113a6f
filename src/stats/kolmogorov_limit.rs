//! The Kolmogorov limit distribution, for KS p-values of a sketched statistic.
//!
//! [`kolmogorov_limit_sf`] is `scipy.special.kolmogorov(x)` = `scipy.stats.kstwobign.sf(x)`,
//! `Pr(K > x)` for `K = sup |B(t)|` (a Brownian bridge), the limit of `√n·D_n`;
//! [`ks_p_value_limit`] is the two-sample p-value `kstwobign.sf(√(n·m/(n+m))·D)`. Used only past
//! `ks_sample_cap`, where D comes from a KLL sketch (why not scipy's exact `kstwo`: on
//! [`ks_p_value_limit`]); exact samples keep scipy's computation, bit for bit. Within 1e-14
//! relative of scipy (literals printed by `tests/reference/kolmogorov_limit.py`).

use std::f64::consts::PI;

use super::ks::KsMethod;

/// Below this argument the cdf series converges faster than the sf series.
const SERIES_CUTOVER: f64 = 0.82;

/// `Pr(K > x)` for the Kolmogorov limit distribution (NaN for NaN).
///
/// For `x < 0.82`, `1 − (√(2π)/x)·Σ_{k≥1} exp(−(2k−1)²π²/(8x²))` (the cdf's fast series);
/// otherwise `2·Σ_{k≥1} (−1)^{k−1} exp(−2k²x²)`; each sum stops once its terms no longer change
/// it. Accuracy against `scipy.special.kolmogorov`: within 1e-14 relative (tests below;
/// literals printed by `tests/reference/kolmogorov_limit.py`).
pub fn kolmogorov_limit_sf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x < SERIES_CUTOVER {
        let a = -PI * PI / (8.0 * x * x);
        let mut sum = 0.0;
        for k in 1..=64u32 {
            let odd = f64::from(2 * k - 1);
            let term = (a * odd * odd).exp();
            if sum + term == sum {
                break;
            }
            sum += term;
        }
        (1.0 - (2.0 * PI).sqrt() / x * sum).clamp(0.0, 1.0)
    } else {
        let mut sum = 0.0;
        let mut sign = 1.0;
        for k in 1..=64u32 {
            let k = f64::from(k);
            let term = (-2.0 * k * k * x * x).exp();
            if sum + term == sum {
                break;
            }
            sum += sign * term;
            sign = -sign;
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// The two-sample KS p-value from the limit distribution: `(D, kstwobign.sf(√(n1·n2/(n1+n2))·D),
/// KsMethod::Limit)` (NaN p-value for an empty sample or a NaN statistic).
///
/// Why not scipy's exact `kstwo.sf(D, round(n·m/(n+m)))` ([`super::kolmogorov::kstwo_sf`]):
/// past `ks_sample_cap` a window's D comes from its KLL sketch and is only known to within the
/// sketch's rank error ε (0.0165 at k = 200), so `√(n·m/(n+m))·D` is uncertain by
/// `√(n·m/(n+m))·ε` — several units at the sizes where sketches are used. The exact
/// distribution at those sizes is a ~70,000-term double-double sum (~50 ms a feature),
/// precision the sketched D cannot carry; the limit differs from it by O(1/√n) (a few tenths
/// of a percent at n ≈ 70,000) and costs a few exponentials.
pub fn ks_p_value_limit(n1: u64, n2: u64, d: f64) -> (f64, f64, KsMethod) {
    if n1 == 0 || n2 == 0 || d.is_nan() {
        return (d, f64::NAN, KsMethod::Limit);
    }
    let (a, b) = (n1 as f64, n2 as f64);
    (d, kolmogorov_limit_sf((a * b / (a + b)).sqrt() * d), KsMethod::Limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by `python3 tests/reference/kolmogorov_limit.py` (numpy 2.4.6, scipy 1.17.1).
    const KOLMOGOROV: &[(f64, f64)] = &[
        (0.0, 1.0),                    // scipy.special.kolmogorov(0.0)
        (0.01, 1.0),                   // scipy.special.kolmogorov(0.01)
        (0.1, 1.0),                    // scipy.special.kolmogorov(0.1)
        (0.2, 0.999999999999495),      // scipy.special.kolmogorov(0.2)
        (0.3, 0.9999906941986655),     // scipy.special.kolmogorov(0.3)
        (0.4, 0.9971923267772983),     // scipy.special.kolmogorov(0.4)
        (0.5, 0.9639452436648751),     // scipy.special.kolmogorov(0.5)
        (0.6, 0.8642827790506042),     // scipy.special.kolmogorov(0.6)
        (0.7, 0.7112351950296893),     // scipy.special.kolmogorov(0.7)
        (0.75, 0.6271670417762616),    // scipy.special.kolmogorov(0.75)
        (0.8, 0.5441424115741981),     // scipy.special.kolmogorov(0.8)
        (0.81, 0.5279614323123148),    // scipy.special.kolmogorov(0.81)
        (0.82, 0.5119717052984973),    // scipy.special.kolmogorov(0.82)
        (0.83, 0.4961909953505036),    // scipy.special.kolmogorov(0.83)
        (0.9, 0.3927307079406543),     // scipy.special.kolmogorov(0.9)
        (1.0, 0.26999967167735456),    // scipy.special.kolmogorov(1.0)
        (1.0727, 0.2000420782104162),  // scipy.special.kolmogorov(1.0727)
        (1.2, 0.11224966667072497),    // scipy.special.kolmogorov(1.2)
        (1.358, 0.05002679733444698),  // scipy.special.kolmogorov(1.358)
        (1.5, 0.022217962616525127),   // scipy.special.kolmogorov(1.5)
        (1.63, 0.009846364888486529),  // scipy.special.kolmogorov(1.63)
        (2.0, 0.0006709252557796953),  // scipy.special.kolmogorov(2.0)
        (2.5, 7.453306344157342e-06),  // scipy.special.kolmogorov(2.5)
        (3.0, 3.045995948942526e-08),  // scipy.special.kolmogorov(3.0)
        (4.0, 2.532833109818835e-14),  // scipy.special.kolmogorov(4.0)
        (5.0, 3.8574996959278356e-22), // scipy.special.kolmogorov(5.0)
        (6.0, 1.0760372320042276e-31), // scipy.special.kolmogorov(6.0)
        (8.0, 5.14441874528483e-56),   // scipy.special.kolmogorov(8.0)
        (10.0, 2.767793053473475e-87), // scipy.special.kolmogorov(10.0)
    ];
    const KS_P_VALUE_LIMIT: &[(u64, u64, f64, f64)] = &[
        (100000, 250000, 0.001, 0.9999997041284721), // kstwobign.sf(sqrt(100000*250000/(100000+250000))*0.001)
        (100000, 250000, 0.004, 0.20318882447284445), // kstwobign.sf(sqrt(100000*250000/(100000+250000))*0.004)
        (100000, 250000, 0.0075, 0.0006473864767864224), // kstwobign.sf(sqrt(100000*250000/(100000+250000))*0.0075)
        (100000, 250000, 0.0165, 2.5708500901777273e-17), // kstwobign.sf(sqrt(100000*250000/(100000+250000))*0.0165)
        (100000, 1000000, 0.003, 0.38650095844539367), // kstwobign.sf(sqrt(100000*1000000/(100000+1000000))*0.003)
        (50000, 120000, 0.01, 0.0017195780302809544), // kstwobign.sf(sqrt(50000*120000/(50000+120000))*0.01)
        (100000, 10000000, 0.0, 1.0),                // kstwobign.sf(sqrt(100000*10000000/(100000+10000000))*0.0)
        (100000, 10000000, 0.05, 2.0126197341781955e-215), // kstwobign.sf(sqrt(100000*10000000/(100000+10000000))*0.05)
    ];

    fn close(got: f64, want: f64) -> bool {
        got == want || ((got - want) / want).abs() < 1e-14
    }

    #[test]
    fn the_limit_sf_matches_scipy() {
        for &(x, want) in KOLMOGOROV {
            let got = kolmogorov_limit_sf(x);
            assert!(close(got, want), "kolmogorov({x}) = {got:e}, scipy {want:e}");
        }
        assert!(kolmogorov_limit_sf(f64::NAN).is_nan());
        assert_eq!(kolmogorov_limit_sf(-1.0), 1.0);
    }

    #[test]
    fn the_two_sample_p_value_matches_scipy() {
        for &(n1, n2, d, want) in KS_P_VALUE_LIMIT {
            let (statistic, p, method) = ks_p_value_limit(n1, n2, d);
            assert_eq!((statistic, method), (d, KsMethod::Limit));
            assert!(close(p, want), "ks_p_value_limit({n1}, {n2}, {d}) = {p:e}, scipy {want:e}");
        }
        assert!(ks_p_value_limit(0, 5, 0.1).1.is_nan());
    }

    #[test]
    fn the_limit_sf_decreases() {
        let values: Vec<f64> = (0..=400).map(|i| kolmogorov_limit_sf(f64::from(i) * 0.02)).collect();
        assert!(values.windows(2).all(|w| w[1] <= w[0]), "{values:?}");
    }
}
