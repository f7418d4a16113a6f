//! Two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(a, b, method="auto")`.
//! (Being ported: see kolmogorov.rs.)

/// Which p-value computation was used, as scipy's `method` ("exact" or "asymp").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// scipy's exact distribution of the two-sample statistic (max(n, m) <= 10000).
    Exact,
    /// `kstwo.sf(D, round(n·m/(n+m)))`.
    Asymp,
}

/// Result of [`ks_2samp_sorted`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// D = sup |F_ref − F_cur|, in [0, 1].
    pub statistic: f64,
    /// Two-sided p-value in [0, 1].
    pub p_value: f64,
    pub method: KsMethod,
}

/// KS test on two non-empty samples sorted ascending, all values finite.
pub fn ks_2samp_sorted(_reference: &[f64], _current: &[f64]) -> KsResult {
    unimplemented!("ported in ks.rs")
}
