//! First Wasserstein (earth mover's) distance between two 1-D samples,
//! `W = ∫ |F_ref(x) − F_cur(x)| dx`, as `scipy.stats.wasserstein_distance(ref, cur)`
//! ([`wasserstein_sorted`]), and its normalised form, Evidently's `wasserstein` stattest
//! ([`normalised`]).

use super::merge::MergedSteps;
use super::numeric::pairwise_sum_iter;

/// Evidently's floor for the reference standard deviation in the normalised distance.
pub const MIN_NORMALISING_STD: f64 = 0.001;

/// W1 between two non-empty samples sorted ascending, computed as
/// `scipy.stats.wasserstein_distance(ref, cur)` does: over the merged sorted values
/// `a_0 ≤ … ≤ a_{N−1}`, `W = Σ_k |F_ref(a_k) − F_cur(a_k)| · (a_{k+1} − a_k)` with
/// `F(a) = #(x ≤ a) / n`, summed with numpy's pairwise summation, streamed block by block (no
/// temporary array of N terms).
pub fn wasserstein_sorted(reference: &[f64], current: &[f64]) -> f64 {
    let (nu, nv) = (reference.len(), current.len());
    let total = nu + nv;
    if nu == 0 || nv == 0 {
        return f64::NAN;
    }
    let (fu, fv) = (nu as f64, nv as f64);
    // Walk the merged order; at each merged value a_k, count how many of each sample are ≤ a_k
    // (scipy's searchsorted(..., 'right')), then emit the k-th term.
    // Within a run of equal values the delta is 0, so the term is exactly 0 whatever the
    // partial counts are; at the run's end the counts are numpy's searchsorted(side="right").
    pairwise_sum_iter(
        total - 1,
        &mut MergedSteps::new(reference, current).map(|(value, i, j, next)| term(i, j, fu, fv, value, next)),
    )
}

/// One term of the sum: `|F_ref − F_cur| · (next − value)` with `F = count / n`.
#[inline]
pub fn term(i: usize, j: usize, fu: f64, fv: f64, value: f64, next: f64) -> f64 {
    (i as f64 / fu - j as f64 / fv).abs() * (next - value)
}

/// `W / max(std_ref, 0.001)`: divided by the reference's population standard deviation,
/// floored at [`MIN_NORMALISING_STD`] — Evidently's `wasserstein` stattest
/// (`W / max(np.std(ref), 0.001)`) — so the threshold (default 0.1) reads as "a tenth of a
/// standard deviation".
pub fn normalised(distance: f64, reference_std: f64) -> f64 {
    distance / reference_std.max(MIN_NORMALISING_STD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy() {
        // python3 -c "from scipy.stats import wasserstein_distance as w; print(repr(w([0.,1.,3.],[5.,6.,8.])), repr(w([0.,1.,1.,2.5],[0.5,1.,2.,2.,7.])))"
        // -> 5.0 1.4249999999999998
        assert_eq!(wasserstein_sorted(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]), 5.0);
        assert_eq!(wasserstein_sorted(&[0.0, 1.0, 1.0, 2.5], &[0.5, 1.0, 2.0, 2.0, 7.0]), 1.4249999999999998);
        assert_eq!(wasserstein_sorted(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    }
}
