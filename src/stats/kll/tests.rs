//! Unit tests of `kll.rs`.

use super::*;
use crate::stats::sketch_walk::{ks_statistic_sketch, wasserstein_sketch};

proptest::proptest! {
    #[test]
    fn sort_total_is_sort_by_total_cmp(bits in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..600)) {
        let specials = [0.0, -0.0, f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 5e-324, -5e-324, f64::MAX, -f64::MAX, 1.0, -1.0];
        let values: Vec<f64> = bits
            .iter()
            .map(|&b| if b % 3 == 0 { specials[(b / 3) as usize % specials.len()] } else { f64::from_bits(b) })
            .filter(|v| v.is_finite())
            .collect();
        let mut want = values.clone();
        want.sort_unstable_by(f64::total_cmp);
        let mut got = values;
        sort_total(&mut got);
        let (want, got): (Vec<u64>, Vec<u64>) = (want.iter().map(|v| v.to_bits()).collect(), got.iter().map(|v| v.to_bits()).collect());
        proptest::prop_assert_eq!(want, got);
    }
}
use crate::stats::ks::ks_statistic_sorted;
use crate::stats::sort::sort_floats;
use crate::stats::wasserstein::wasserstein_sorted;

/// SplitMix64 → uniform in [0, 1) and standard normal (Box–Muller), deterministic.
pub(crate) struct TestRng(u64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        TestRng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    sort_floats(&mut v);
    v
}

#[test]
fn exact_below_capacity() {
    let mut s = KllSketch::new(200);
    for v in [3.0, 1.0, 2.0, 2.0] {
        s.update(v);
    }
    assert_eq!(s.sorted_view(), vec![(1.0, 1), (2.0, 2), (3.0, 1)]);
    assert_eq!(s.normalized_rank_error(), 0.0);
    assert_eq!(ks_statistic_sketch(&[1.0, 2.0, 2.0, 3.0], &s.sorted_view()), 0.0);
    assert_eq!(ks_statistic_sketch(&[0.0, 1.0], &s.sorted_view()), 0.75);
    assert!(ks_statistic_sketch(&[] as &[f64], &s.sorted_view()).is_nan());
    assert_eq!(wasserstein_sketch(&[0.0, 1.0, 3.0], &[(5.0, 1), (6.0, 1), (8.0, 1)]), 5.0);
}

#[test]
fn retained_items_stay_bounded() {
    // The memory figures of the report: retained items at 10^5, 10^6 and 10^7 values.
    let mut s = KllSketch::new(DEFAULT_K);
    let mut rng = TestRng::new(7);
    let mut figures = Vec::new();
    for i in 1..=10_000_000u64 {
        s.update(rng.uniform());
        if i == 100_000 || i == 1_000_000 || i == 10_000_000 {
            figures.push((i, s.retained(), s.num_levels()));
            assert!(s.retained() <= s.capacity());
            s.check().unwrap();
        }
    }
    eprintln!("KLL k=200 retained items (n, retained, levels): {figures:?}");
    for &(_, retained, levels) in &figures {
        // 3k from the geometric capacities plus 8 per level of the flat tail.
        assert!(retained <= 3 * DEFAULT_K as usize + MIN_LEVEL_CAPACITY * levels, "{figures:?}");
        assert!(retained < 800, "{figures:?}");
    }
    assert_eq!(s.n(), 10_000_000);
    assert_eq!(s.sorted_view().iter().map(|&(_, w)| w).sum::<u64>(), 10_000_000);
}

#[test]
fn one_million_values_fit_in_well_under_a_thousand_items() {
    let mut s = KllSketch::new(DEFAULT_K);
    let mut rng = TestRng::new(11);
    let mut peak = 0;
    for _ in 0..1_000_000 {
        s.update(rng.normal());
        peak = peak.max(s.retained());
    }
    assert!(peak < 800, "peak retained {peak}");
}

fn check_ks(reference: &[f64], current: Vec<f64>, label: &str) {
    let mut s = KllSketch::new(DEFAULT_K);
    for &v in &current {
        s.update(v);
    }
    let current = sorted(current);
    let exact = ks_statistic_sorted(reference, &current);
    let approx = ks_statistic_sketch(reference, &s.sorted_view());
    let eps = s.normalized_rank_error();
    assert!(eps > 0.0 && eps < 0.017, "{eps}");
    eprintln!("{label}: D exact {exact:.5} sketch {approx:.5} ε {eps:.5}");
    assert!((exact - approx).abs() <= eps, "{label}: exact {exact} sketch {approx} ε {eps}");
    let w_exact = wasserstein_sorted(reference, &current);
    let w_approx = wasserstein_sketch(reference, &s.sorted_view());
    let span = reference[reference.len() - 1].max(current[current.len() - 1]) - reference[0].min(current[0]);
    assert!((w_exact - w_approx).abs() <= eps * span, "{label}: W exact {w_exact} sketch {w_approx}");
}

#[test]
fn ks_from_sketch_is_within_its_bound_on_200k_windows() {
    let mut rng = TestRng::new(42);
    let n = 200_000;
    let reference = sorted((0..50_000).map(|_| rng.normal()).collect());
    check_ks(&reference, (0..n).map(|_| rng.normal()).collect(), "no shift");
    check_ks(&reference, (0..n).map(|_| rng.normal() + 0.1).collect(), "shift 0.1");
    check_ks(&reference, (0..n).map(|_| 1.5 * rng.normal() - 0.3).collect(), "scale");
    // Ties: a handful of distinct values on both sides.
    let ties = sorted((0..50_000).map(|_| (rng.uniform() * 5.0).floor()).collect());
    check_ks(&ties, (0..n).map(|_| (rng.uniform() * 5.5).floor()).collect(), "ties");
    // Increasing input (adversarial order for some sketches).
    check_ks(&reference, sorted((0..n).map(|_| rng.normal() + 0.05).collect()), "sorted input");
}

#[test]
fn deterministic_and_serde_round_trip_continues_identically() {
    let mut rng = TestRng::new(5);
    let values: Vec<f64> = (0..300_000).map(|_| rng.normal()).collect();
    let (a, b) = values.split_at(123_457);
    let mut whole = KllSketch::new(DEFAULT_K);
    let mut first = KllSketch::new(DEFAULT_K);
    for &v in a {
        whole.update(v);
        first.update(v);
    }
    let json = serde_json::to_string(&first).unwrap();
    let mut restored: KllSketch = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, first);
    restored.check().unwrap();
    for &v in b {
        whole.update(v);
        restored.update(v);
    }
    assert_eq!(restored, whole);
    let mut again = KllSketch::new(DEFAULT_K);
    values.iter().for_each(|&v| again.update(v));
    assert_eq!(again, whole);
}

#[test]
fn merge_keeps_weight_and_accuracy() {
    let mut rng = TestRng::new(9);
    let (mut x, mut y) = (KllSketch::new(DEFAULT_K), KllSketch::new(DEFAULT_K));
    let mut all = Vec::new();
    for i in 0..200_000 {
        let v = rng.normal();
        all.push(v);
        if i % 3 == 0 {
            x.update(v)
        } else {
            y.update(v)
        }
    }
    x.merge(&y);
    x.check().unwrap();
    assert_eq!(x.n(), 200_000);
    let reference = sorted((0..20_000).map(|_| rng.normal()).collect());
    let exact = ks_statistic_sorted(&reference, &sorted(all));
    let approx = ks_statistic_sketch(&reference, &x.sorted_view());
    assert!((exact - approx).abs() <= x.normalized_rank_error());
}

#[test]
fn check_rejects_inconsistent_sketches() {
    let mut s = KllSketch::new(DEFAULT_K);
    (0..5000).for_each(|i| s.update(i as f64));
    s.check().unwrap();
    let mut bad = s.clone();
    bad.n += 1;
    assert_eq!(bad.check(), Err(KllError::Weight));
    let mut bad = s.clone();
    bad.levels[0].push(f64::INFINITY);
    assert_eq!(bad.check(), Err(KllError::NonFinite));
    let mut bad = s.clone();
    bad.levels.clear();
    assert_eq!(bad.check(), Err(KllError::NoLevel));
}
