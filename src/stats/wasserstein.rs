//! First Wasserstein (earth mover's) distance between two 1-D samples.
//!
//! `W = ∫ |F_ref(x) − F_cur(x)| dx`, computed as `scipy.stats.wasserstein_distance(ref, cur)`
//! does: over the merged sorted values `a_0 ≤ … ≤ a_{N−1}`,
//! `W = Σ_k |F_ref(a_k) − F_cur(a_k)| · (a_{k+1} − a_k)` with `F(a) = #(x ≤ a) / n`, summed
//! with numpy's pairwise summation (streamed: no temporary array of N terms).
//!
//! The normalised form divides by the reference's population standard deviation, floored at
//! 0.001 — Evidently's `wasserstein` stattest (`W / max(np.std(ref), 0.001)`) — so the
//! threshold (default 0.1) reads as "a tenth of a standard deviation".

use super::numeric::pairwise_sum_iter;

/// Evidently's floor for the reference standard deviation in the normalised distance.
pub const MIN_NORMALISING_STD: f64 = 0.001;

/// W1 between two non-empty samples sorted ascending.
pub fn wasserstein_sorted(reference: &[f64], current: &[f64]) -> f64 {
    let (nu, nv) = (reference.len(), current.len());
    let total = nu + nv;
    if nu == 0 || nv == 0 {
        return f64::NAN;
    }
    let (fu, fv) = (nu as f64, nv as f64);
    // Walk the merged order; at each merged value a_k, count how many of each sample are ≤ a_k
    // (scipy's searchsorted(..., 'right')), then emit the k-th term.
    let mut merged = MergedValues { a: reference, b: current, i: 0, j: 0 };
    let mut current_value = merged.next();
    let (mut iu, mut iv) = (0usize, 0usize);
    let mut terms = std::iter::from_fn(|| {
        let value = current_value?;
        let next_value = merged.next()?;
        while iu < nu && reference[iu] <= value {
            iu += 1;
        }
        while iv < nv && current[iv] <= value {
            iv += 1;
        }
        current_value = Some(next_value);
        Some((iu as f64 / fu - iv as f64 / fv).abs() * (next_value - value))
    });
    pairwise_sum_iter(total - 1, &mut terms)
}

/// `W / max(std_ref, 0.001)`.
pub fn normalised(distance: f64, reference_std: f64) -> f64 {
    distance / reference_std.max(MIN_NORMALISING_STD)
}

/// The values of two sorted slices in merged ascending order.
struct MergedValues<'a> {
    a: &'a [f64],
    b: &'a [f64],
    i: usize,
    j: usize,
}

impl MergedValues<'_> {
    fn next(&mut self) -> Option<f64> {
        let take_a = match (self.a.get(self.i), self.b.get(self.j)) {
            (Some(x), Some(y)) => x <= y,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_a {
            self.i += 1;
            Some(self.a[self.i - 1])
        } else {
            self.j += 1;
            Some(self.b[self.j - 1])
        }
    }
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
