//! KS statistic and Wasserstein distance between two weighted CDFs, either side an exact sorted
//! sample or a KLL sketch's sorted view ([`super::kll::KllSketch::sorted_view`]): what the
//! daemon computes past `ks_sample_cap` and what `compare` computes when a side is a profile.
//! One walk for both kinds of side, so a sketch against a sample and a sketch against a sketch
//! are the same code; the error bound of the result is the sum of the sides' rank errors.

use super::kolmogorov_limit::ks_p_value_limit;
use super::ks::KsResult;

/// A sorted sequence of (value, weight), ascending by value: an exact sample (weight 1 each) or
/// a sketch's sorted view.
pub trait WeightedSorted {
    /// The number of (value, weight) items.
    fn items(&self) -> usize;
    /// The `i`th (value, weight).
    fn at(&self, i: usize) -> (f64, u64);
    /// The total weight.
    fn total(&self) -> u64;
}

impl WeightedSorted for [f64] {
    fn items(&self) -> usize {
        <[f64]>::len(self)
    }
    fn at(&self, i: usize) -> (f64, u64) {
        (self[i], 1)
    }
    fn total(&self) -> u64 {
        <[f64]>::len(self) as u64
    }
}

impl WeightedSorted for [(f64, u64)] {
    fn items(&self) -> usize {
        <[(f64, u64)]>::len(self)
    }
    fn at(&self, i: usize) -> (f64, u64) {
        self[i]
    }
    fn total(&self) -> u64 {
        self.iter().map(|&(_, w)| w).sum()
    }
}

/// Vectors and arrays as their slices (so callers pass `&v` as they would to a slice function).
impl<T> WeightedSorted for Vec<T>
where
    [T]: WeightedSorted,
{
    fn items(&self) -> usize {
        self.as_slice().len()
    }
    fn at(&self, i: usize) -> (f64, u64) {
        self.as_slice().at(i)
    }
    fn total(&self) -> u64 {
        self.as_slice().total()
    }
}

impl<T, const N: usize> WeightedSorted for [T; N]
where
    [T]: WeightedSorted,
{
    fn items(&self) -> usize {
        N
    }
    fn at(&self, i: usize) -> (f64, u64) {
        self.as_slice().at(i)
    }
    fn total(&self) -> u64 {
        self.as_slice().total()
    }
}

/// KS statistic `D̂ = sup_x |F_ref(x) − F̂(x)|` of a non-empty sorted reference against a
/// weighted CDF, evaluated at every distinct value of the merged support. NaN when either side
/// is empty. With a sketch of rank error ε on one side, `|D̂ − D| ≤ ε` (see `KllSketch`).
pub fn ks_statistic_sketch<R: WeightedSorted + ?Sized, C: WeightedSorted + ?Sized>(reference: &R, current: &C) -> f64 {
    let mut d = 0.0f64;
    let ok = cdf_walk(reference, current, |_, f_ref, f_cur, _| d = d.max((f_ref - f_cur).abs()));
    if ok {
        d
    } else {
        f64::NAN
    }
}

/// W1 `∫ |F_ref − F̂|`: `Σ |F_ref(a_k) − F̂(a_k)|·(a_{k+1} − a_k)` over the merged distinct
/// values. Approximate: a CDF error `ε` makes it off by at most `ε·(max − min)` of the support.
pub fn wasserstein_sketch<R: WeightedSorted + ?Sized, C: WeightedSorted + ?Sized>(reference: &R, current: &C) -> f64 {
    let mut sum = 0.0f64;
    let ok = cdf_walk(reference, current, |value, f_ref, f_cur, next| {
        if let Some(next) = next {
            sum += (f_ref - f_cur).abs() * (next - value);
        }
    });
    if ok {
        sum
    } else {
        f64::NAN
    }
}

/// KS (statistic and the limit distribution's p-value with the sides' true counts,
/// `ks_method: "limit"`, see `kolmogorov_limit.rs`) and Wasserstein of two weighted CDFs, one
/// or both from sketches; `n_ref` / `n_cur` are the values the sides stand for.
pub fn ks_and_wasserstein_sketched<R: WeightedSorted + ?Sized, C: WeightedSorted + ?Sized>(
    reference: &R,
    n_ref: u64,
    current: &C,
    n_cur: u64,
) -> (KsResult, f64) {
    let d = ks_statistic_sketch(reference, current);
    let (statistic, p_value, method) = ks_p_value_limit(n_ref, n_cur, d);
    (KsResult { statistic, p_value, method }, wasserstein_sketch(reference, current))
}

/// Walks the distinct values of the merged support ascending, calling
/// `f(value, F_ref(value), F̂(value), next distinct value)`. False when either side is empty.
fn cdf_walk<R: WeightedSorted + ?Sized, C: WeightedSorted + ?Sized>(
    reference: &R,
    current: &C,
    mut f: impl FnMut(f64, f64, f64, Option<f64>),
) -> bool {
    let (total_ref, total_cur) = (reference.total(), current.total());
    if total_ref == 0 || total_cur == 0 {
        return false;
    }
    let (nr, nc) = (total_ref as f64, total_cur as f64);
    let (mut i, mut j, mut cum_ref, mut cum_cur) = (0usize, 0usize, 0u64, 0u64);
    let next_value = |i: usize, j: usize| {
        let a = (i < reference.items()).then(|| reference.at(i).0);
        let b = (j < current.items()).then(|| current.at(j).0);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    };
    while let Some(x) = next_value(i, j) {
        while i < reference.items() && reference.at(i).0 <= x {
            cum_ref += reference.at(i).1;
            i += 1;
        }
        while j < current.items() && current.at(j).0 <= x {
            cum_cur += current.at(j).1;
            j += 1;
        }
        f(x, cum_ref as f64 / nr, cum_cur as f64 / nc, next_value(i, j));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_and_its_unit_weight_view_give_the_same_values() {
        let reference = [0.0, 1.0, 1.0, 3.0];
        let current = [0.5, 1.0, 2.0];
        let view: Vec<(f64, u64)> = vec![(0.5, 1), (1.0, 1), (2.0, 1)];
        let d = ks_statistic_sketch(&reference[..], &current[..]);
        assert_eq!(d, ks_statistic_sketch(&reference[..], &view[..]));
        assert_eq!(d, 0.25, "at 0 and at 2");
        let w = wasserstein_sketch(&reference[..], &current[..]);
        assert_eq!(w.to_bits(), wasserstein_sketch(&view[..], &reference[..]).to_bits());
        assert!(ks_statistic_sketch(&[][..] as &[f64], &view[..]).is_nan());
    }
}
