//! numpy-compatible numeric building blocks: `np.sum` ([`pairwise_sum`], [`pairwise_sum_iter`]),
//! `np.quantile` ([`quantile_linear_sorted`]), `np.linspace` ([`linspace`]), Sturges bins
//! ([`sturges_bin_count`]) and `np.std` ([`std_population`]).
//!
//! driftd promises the same numbers as numpy/scipy/Evidently, and floating-point addition is not
//! associative, so the order in which numpy adds things is part of the definition: each routine
//! reproduces numpy's operation for operation (the numpy source it follows is on each function).

/// numpy's unrolled pairwise summation block size (`PW_BLOCKSIZE`).
const PW_BLOCKSIZE: usize = 128;

/// `np.sum(values)` for a contiguous float64 array, bit for bit: numpy's
/// `pairwise_sum_DOUBLE`, blocks of up to 128 summed with 8 accumulators, larger ranges split
/// in halves rounded down to a multiple of 8.
pub fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |sum, &x| sum + x)
    } else if n <= PW_BLOCKSIZE {
        // Eight independent accumulators: the compiler vectorises this loop.
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let full = n - n % 8;
        for chunk in values[8..full].chunks_exact(8) {
            for (slot, &x) in r.iter_mut().zip(chunk) {
                *slot += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &values[full..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&values[..n2]) + pairwise_sum(&values[n2..])
    }
}

/// `np.sum` of `n` values produced in order by `next`, without materialising them.
///
/// numpy's recursion visits its leaves left to right, so a sequential producer is enough; this
/// lets callers sum derived terms (e.g. the Wasserstein integrand) with numpy's exact rounding
/// and no temporary array. `next` must yield at least `n` values; missing values count as 0.
pub fn pairwise_sum_iter(n: usize, next: &mut impl Iterator<Item = f64>) -> f64 {
    if n <= PW_BLOCKSIZE {
        // A leaf of numpy's recursion: materialise its ≤ 128 terms on the stack and sum them
        // with the slice version (same operations, and the 8-accumulator loop vectorises).
        let mut block = [0.0f64; PW_BLOCKSIZE];
        for slot in block.iter_mut().take(n) {
            *slot = next.next().unwrap_or(0.0);
        }
        pairwise_sum(&block[..n])
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let left = pairwise_sum_iter(n2, next);
        left + pairwise_sum_iter(n - n2, next)
    }
}

/// `np.quantile(sorted, p)` with the default `linear` method, including numpy's `_lerp`
/// (which interpolates from the upper end when the fraction ≥ 0.5). `sorted` must be
/// non-empty, ascending and free of NaN; `p` in [0, 1].
pub fn quantile_linear_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    debug_assert!(n > 0, "quantile of an empty sample");
    // numpy: virtual_index = (n - 1) * p; previous = floor(virtual_index); gamma = vi - previous.
    let virtual_index = (n as f64 - 1.0) * p;
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let lo = (previous.max(0.0) as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    lerp(sorted[lo], sorted[hi], gamma)
}

/// numpy's `_lerp(a, b, t)`: `a + (b - a)·t`, or `b - (b - a)·(1 - t)` when t ≥ 0.5, which
/// keeps the result monotone and exact at t = 1.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// `np.linspace(start, stop, num)` with `endpoint=True` (the last point is `stop`).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    match num {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let div = (num - 1) as f64;
            let delta = stop - start;
            let step = delta / div;
            let mut out: Vec<f64> = if step == 0.0 {
                // numpy's special case for a zero (or underflowing) step: scale before multiplying.
                (0..num).map(|i| (i as f64 / div) * delta + start).collect()
            } else {
                (0..num).map(|i| i as f64 * step + start).collect()
            };
            out[num - 1] = stop;
            out
        }
    }
}

/// Number of equal-width bins numpy uses for `bins="sturges"` on `size` finite values whose
/// range is `[min, max]`: `ceil((max - min) / (ptp / (log2(size) + 1)))`, or 1 when the
/// width is 0 (a constant sample, whose range numpy widens to `[min - 0.5, max + 0.5]`).
pub fn sturges_bin_count(size: usize, min: f64, max: f64) -> usize {
    let width = (max - min) / ((size as f64).log2() + 1.0);
    if width == 0.0 || !width.is_finite() {
        return 1;
    }
    let (first, last) = sturges_outer_edges(min, max);
    ((last - first) / width).ceil() as usize
}

/// numpy's `_get_outer_edges`: the data range, widened by ±0.5 when it is empty.
pub fn sturges_outer_edges(min: f64, max: f64) -> (f64, f64) {
    if min == max {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    }
}

/// `np.std(values)` with ddof = 0: mean by pairwise sum, then the pairwise sum of squared
/// deviations. The order of `values` matters for the last bits (numpy sees file order).
/// Returns NaN for an empty slice, as numpy.
pub fn std_population(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = pairwise_sum(values) / n;
    let sum_sq = pairwise_sum_iter(
        values.len(),
        &mut values.iter().map(|&x| {
            let d = x - mean;
            d * d
        }),
    );
    (sum_sq / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain recursive reference of numpy's algorithm on a slice, to check the iterator form.
    fn pairwise_reference(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            a.iter().fold(0.0, |s, &x| s + x)
        } else if n <= PW_BLOCKSIZE {
            let mut r = [0.0; 8];
            r.copy_from_slice(&a[..8]);
            let full = n - n % 8;
            for chunk in a[8..full].chunks(8) {
                for (slot, &x) in r.iter_mut().zip(chunk) {
                    *slot += x;
                }
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for &x in &a[full..] {
                res += x;
            }
            res
        } else {
            let mut n2 = n / 2;
            n2 -= n2 % 8;
            pairwise_reference(&a[..n2]) + pairwise_reference(&a[n2..])
        }
    }

    #[test]
    fn pairwise_sum_matches_numpy_on_cancelling_values() {
        // python3 -c "import numpy as np; a=np.array([0.1]*1000); print(repr(np.sum(a)))"
        // -> 100.00000000000001  (a sequential sum gives 99.9999999999986)
        let tenths = vec![0.1; 1000];
        assert_eq!(pairwise_sum(&tenths), 100.00000000000001);
        let seq: f64 = tenths.iter().sum();
        assert_ne!(seq, 100.00000000000001, "the sequential sum differs, so the test discriminates");
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 7.0).collect();
            assert_eq!(pairwise_sum(&a), pairwise_reference(&a), "n = {n}");
        }
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        // python3 -c "import numpy as np; print([repr(np.quantile([1.,2.,3.,4.,10.], p)) for p in (0.1,0.5,0.9,1.0)])"
        // -> ['1.4', '3.0', '7.6000000000000005', '10.0']
        let a = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile_linear_sorted(&a, 0.1), 1.4);
        assert_eq!(quantile_linear_sorted(&a, 0.5), 3.0);
        assert_eq!(quantile_linear_sorted(&a, 0.9), 7.6000000000000005);
        assert_eq!(quantile_linear_sorted(&a, 1.0), 10.0);
        assert_eq!(quantile_linear_sorted(&[5.0], 0.3), 5.0);
    }

    #[test]
    fn linspace_matches_numpy() {
        // python3 -c "import numpy as np; print([repr(x) for x in np.linspace(0.1, 0.7, 4)])"
        // -> ['0.1', '0.3', '0.5', '0.7']
        assert_eq!(linspace(0.1, 0.7, 4), vec![0.1, 0.3, 0.5, 0.7]);
        assert_eq!(linspace(2.0, 2.0, 3), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn sturges_count_matches_numpy() {
        // python3 -c "import numpy as np; print(len(np.histogram_bin_edges(np.arange(1000.), bins='sturges'))-1)"
        // -> 11
        assert_eq!(sturges_bin_count(1000, 0.0, 999.0), 11);
        // constant data: one bin on [x - 0.5, x + 0.5]
        assert_eq!(sturges_bin_count(50, 3.0, 3.0), 1);
    }

    #[test]
    fn std_matches_numpy() {
        // python3 -c "import numpy as np; print(repr(np.std([1.,2.,3.,4.,10.])))"
        // -> 3.1622776601683795
        assert_eq!(std_population(&[1.0, 2.0, 3.0, 4.0, 10.0]), 3.1622776601683795);
    }
}
