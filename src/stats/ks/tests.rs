//! Unit tests of `ks.rs`.

use super::*;
use proptest::prelude::*;

/// |got − want| within `rel` relative, or 1e-14 absolute for tiny values.
fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs() || (got - want).abs() <= 1e-14
}

// Tables printed by `python3 tests/reference/ks_values.py` (numpy 2.4.6, scipy 1.17.1).
// Sample pairs (sorted), from tests/reference/ks_values.py (seed 20240611), and
// stats.ks_2samp(a, b, method='auto') -> (statistic, pvalue); method is 'exact' (sizes <= 10000).
type SampleCase = (&'static str, &'static [f64], &'static [f64], f64, f64);
const KS_2SAMP_CASES: &[SampleCase] = &[
    // n5_vs_5: stats.ks_2samp(a, b, method='auto')
    ("n5_vs_5", &[-1.79, -0.518, -0.211, 0.15, 0.284], &[-1.451, -0.226, 0.178, 0.342, 0.599], 0.4, 0.873015873015873),
    // n8_vs_13: stats.ks_2samp(a, b, method='auto')
    (
        "n8_vs_13",
        &[-1.47, -0.933, -0.928, -0.788, -0.731, 0.319, 0.41, 0.442],
        &[-0.567, -0.516, -0.108, 0.097, 0.335, 0.496, 0.502, 0.529, 0.54, 1.056, 1.156, 1.157, 1.669],
        0.625,
        0.02240896358543417,
    ),
    // ties_3_values: stats.ks_2samp(a, b, method='auto')
    (
        "ties_3_values",
        &[1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0],
        &[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0],
        0.2,
        0.9059258415564784,
    ),
    // identical: stats.ks_2samp(a, b, method='auto')
    (
        "identical",
        &[-0.809, -0.662, -0.513, -0.132, -0.004, 0.059, 1.173],
        &[-0.809, -0.662, -0.513, -0.132, -0.004, 0.059, 1.173],
        0.0,
        1.0,
    ),
    // disjoint: stats.ks_2samp(a, b, method='auto')
    (
        "disjoint",
        &[0.33, 0.469, 0.663, 0.699, 0.942, 0.948],
        &[2.092, 2.161, 2.381, 2.501, 2.556, 2.726, 2.756, 2.78, 2.798],
        1.0,
        0.00039960039960039965,
    ),
    // one_vs_one: stats.ks_2samp(a, b, method='auto')
    ("one_vs_one", &[0.913], &[0.94], 1.0, 1.0),
    // n3_vs_40: stats.ks_2samp(a, b, method='auto')
    (
        "n3_vs_40",
        &[-1.109, -0.049, 2.185],
        &[
            -1.451, -1.267, -1.264, -1.201, -1.12, -0.998, -0.911, -0.772, -0.606, -0.575, -0.501, -0.5, -0.489,
            -0.456, -0.213, 0.05, 0.147, 0.153, 0.163, 0.19, 0.203, 0.286, 0.376, 0.39, 0.395, 0.524, 0.6, 0.627,
            0.725, 0.811, 0.878, 0.946, 1.079, 1.082, 1.098, 1.155, 1.238, 1.698, 1.812, 1.931,
        ],
        0.3333333333333333,
        0.8219755287253869,
    ),
];

// KS_P_VALUE: (n1, n2, d, statistic, pvalue, exact) from ks_2samp_p(n1, n2, d) in
// tests/reference/ks_values.py (scipy's ks_2samp tail: _attempt_exact_2kssamp(n1, n2, gcd, d,
// 'two-sided') when max(n1, n2) <= 10000, else kstwo.sf(d, np.round(n1*n2/(n1+n2)))),
// checked there against stats.ks_2samp on samples of the same sizes.
const KS_P_VALUE: &[(u64, u64, f64, f64, f64, bool)] = &[
    (10000, 10000, 0.0004, 0.0004, 1.0, false), // ks_2samp_p(10000, 10000, 0.0004)
    (10000, 10000, 0.004, 0.004, 0.9999982280089185, true), // ks_2samp_p(10000, 10000, 0.004)
    (10000, 10000, 0.0123456, 0.0123, 0.43585275359069964, true), // ks_2samp_p(10000, 10000, 0.0123456)
    (10000, 10000, 0.02, 0.02, 0.03662861114079258, true), // ks_2samp_p(10000, 10000, 0.02)
    (10000, 10000, 0.05, 0.05, 2.7522193691639167e-11, true), // ks_2samp_p(10000, 10000, 0.05)
    (10000, 9999, 0.0004, 0.0004, 1.0, true),   // ks_2samp_p(10000, 9999, 0.0004)
    (10000, 9999, 0.004, 0.004, 0.9999974434182259, true), // ks_2samp_p(10000, 9999, 0.004)
    (10000, 9999, 0.0123456, 0.012345604560456046, 0.42628458332025604, true), // ks_2samp_p(10000, 9999, 0.0123456)
    (10000, 9999, 0.02, 0.02, 0.03589605170521495, true), // ks_2samp_p(10000, 9999, 0.02)
    (10000, 9999, 0.05, 0.05, 2.614608400705713e-11, true), // ks_2samp_p(10000, 9999, 0.05)
    (10000, 10001, 0.0004, 0.0004, 1.0, false), // ks_2samp_p(10000, 10001, 0.0004)
    (10000, 10001, 0.004, 0.004, 0.9999977369528622, false), // ks_2samp_p(10000, 10001, 0.004)
    (10000, 10001, 0.0123456, 0.0123456, 0.4277022089741567, false), // ks_2samp_p(10000, 10001, 0.0123456)
    (10000, 10001, 0.02, 0.02, 0.03613941395325637, false), // ks_2samp_p(10000, 10001, 0.02)
    (10000, 10001, 0.05, 0.05, 2.6523052328711187e-11, false), // ks_2samp_p(10000, 10001, 0.05)
    (10001, 40, 0.0004, 0.0004, 1.0, false),    // ks_2samp_p(10001, 40, 0.0004)
    (10001, 40, 0.004, 0.004, 1.0, false),      // ks_2samp_p(10001, 40, 0.004)
    (10001, 40, 0.0123456, 0.0123456, 1.0, false), // ks_2samp_p(10001, 40, 0.0123456)
    (10001, 40, 0.02, 0.02, 1.0, false),        // ks_2samp_p(10001, 40, 0.02)
    (10001, 40, 0.05, 0.05, 0.9998491367808701, false), // ks_2samp_p(10001, 40, 0.05)
    (15000, 300, 0.0004, 0.0004, 1.0, false),   // ks_2samp_p(15000, 300, 0.0004)
    (15000, 300, 0.004, 0.004, 1.0, false),     // ks_2samp_p(15000, 300, 0.004)
    (15000, 300, 0.0123456, 0.0123456, 0.9999999998940435, false), // ks_2samp_p(15000, 300, 0.0123456)
    (15000, 300, 0.02, 0.02, 0.9996623136719783, false), // ks_2samp_p(15000, 300, 0.02)
    (15000, 300, 0.05, 0.05, 0.440047798382905, false), // ks_2samp_p(15000, 300, 0.05)
];

#[test]
fn ks_2samp_matches_scipy_on_small_samples() {
    for &(name, a, b, d, p) in KS_2SAMP_CASES {
        assert!(a.is_sorted() && b.is_sorted(), "{name}: table must be sorted");
        let r = ks_2samp_sorted(a, b);
        assert!((r.statistic - d).abs() <= 1e-12, "{name}: D {} vs scipy {d}", r.statistic);
        assert!(close(r.p_value, p, 1e-9), "{name}: p {:?} vs scipy {p:?}", r.p_value);
        assert_eq!(r.method, KsMethod::Exact, "{name}");
        // Swapping the samples changes nothing.
        assert_eq!(ks_2samp_sorted(b, a), r, "{name} swapped");
    }
}

#[test]
fn degenerate_samples() {
    let identical = ks_2samp_sorted(&[1.0, 2.0, 2.0, 5.0], &[1.0, 2.0, 2.0, 5.0]);
    assert_eq!((identical.statistic, identical.p_value), (0.0, 1.0));
    let disjoint = ks_2samp_sorted(&[1.0, 2.0], &[3.0, 4.0, 5.0]);
    assert_eq!(disjoint.statistic, 1.0);
    assert!(ks_2samp_sorted(&[], &[1.0]).p_value.is_nan());
    assert!(ks_statistic_sorted(&[1.0], &[]).is_nan());
    assert!(ks_p_value(10, 20, f64::NAN).1.is_nan());
    assert!(ks_p_value(0, 20, 0.5).1.is_nan());
}

#[test]
fn ks_p_value_matches_scipy_at_the_exact_asymp_boundary() {
    for &(n1, n2, d, want_d, want_p, exact) in KS_P_VALUE {
        for (a, b) in [(n1, n2), (n2, n1)] {
            let (got_d, got_p, method) = ks_p_value(a, b, d);
            let ctx = format!("ks_p_value({a}, {b}, {d})");
            assert!((got_d - want_d).abs() <= 1e-12, "{ctx}: D {got_d} vs scipy {want_d}");
            assert!(close(got_p, want_p, 1e-9), "{ctx}: p {got_p:?} vs scipy {want_p:?}");
            let want_method = if exact { KsMethod::Exact } else { KsMethod::Asymp };
            assert_eq!(method, want_method, "{ctx}");
        }
    }
}

/// The wavefront version of scipy's `_compute_outer_prob_inside_method` must agree bit for
/// bit with the line-by-line port, for every attainable statistic of small sizes and for
/// sizes with long windows.
#[test]
fn outer_prob_inside_is_bit_identical_to_the_literal_port() {
    for n1 in 1..=20u64 {
        for n2 in 1..=20u64 {
            if n1 == n2 {
                continue;
            }
            let g = gcd(n1, n2);
            let lcm = n1 / g * n2;
            for h in 1..=lcm {
                let fast = outer_prob_inside(n1, n2, g, h);
                let lit = outer_prob_inside_literal(n1, n2, g, h);
                assert_eq!(fast.to_bits(), lit.to_bits(), "({n1}, {n2}, h={h}): {fast} vs {lit}");
            }
        }
    }
    for (n1, n2) in [(300u64, 299u64), (512, 64), (97, 1000), (1000, 3), (640, 480)] {
        let g = gcd(n1, n2);
        let lcm = n1 / g * n2;
        for k in 1..=40u64 {
            let h = (lcm * k * k / 1600).max(1);
            let fast = outer_prob_inside(n1, n2, g, h);
            let lit = outer_prob_inside_literal(n1, n2, g, h);
            assert_eq!(fast.to_bits(), lit.to_bits(), "({n1}, {n2}, h={h}): {fast} vs {lit}");
        }
    }
}

/// scipy's statistic, evaluated naively at every data point with binary searches.
fn naive_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    for &v in a.iter().chain(b) {
        let c1 = a.partition_point(|&x| x <= v) as f64 / n1;
        let c2 = b.partition_point(|&x| x <= v) as f64 / n2;
        max_s = max_s.max(c1 - c2);
        min_s = min_s.min(c1 - c2);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s {
        min_s
    } else {
        max_s
    }
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(-1e3f64..1e3, 1..120),
        // heavy ties
        prop::collection::vec((0i32..4).prop_map(f64::from), 1..120),
    ]
    .prop_map(|mut v| {
        v.sort_by(f64::total_cmp);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn statistic_and_p_value_properties(a in sample(), b in sample()) {
        let r = ks_2samp_sorted(&a, &b);
        prop_assert!((0.0..=1.0).contains(&r.statistic), "D {}", r.statistic);
        prop_assert!((0.0..=1.0).contains(&r.p_value), "p {}", r.p_value);
        // symmetry, bit for bit
        let s = ks_2samp_sorted(&b, &a);
        prop_assert_eq!(r.statistic.to_bits(), s.statistic.to_bits());
        prop_assert_eq!(r.p_value.to_bits(), s.p_value.to_bits());
        // the merge gives scipy's every-point evaluation
        prop_assert_eq!(ks_statistic_sorted(&a, &b), naive_statistic(&a, &b));
        // D(x, x) = 0 with p = 1
        let same = ks_2samp_sorted(&a, &a);
        prop_assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
    }

    #[test]
    fn p_value_in_range_for_any_sizes(n1 in 1u64..30_000, n2 in 1u64..60, d in 0.0f64..=1.0) {
        let (stat, p, _) = ks_p_value(n1, n2, d);
        prop_assert!((0.0..=1.0).contains(&stat), "D {}", stat);
        prop_assert!((0.0..=1.0).contains(&p), "p {}", p);
    }
}

/// Timings for the report: `cargo test --release --lib stats::ks::tests::timing -- --ignored
/// --nocapture`.
#[test]
#[ignore = "timing, run in release mode"]
fn timing() {
    let time = |label: &str, f: &mut dyn FnMut() -> f64| {
        let t = std::time::Instant::now();
        let v = f();
        println!("{label}: {:.1} ms (value {v:e})", t.elapsed().as_secs_f64() * 1e3);
        v
    };
    for (n1, n2) in [(10_000u64, 10_000u64), (10_000, 9_999)] {
        for d in [0.01, 0.02, 0.05, 0.1, 0.3, 0.7, 1.0] {
            let p = time(&format!("exact ks_p_value({n1}, {n2}, {d})"), &mut || ks_p_value(n1, n2, d).1);
            assert!((0.0..=1.0).contains(&p));
        }
    }
    for d in [0.002, 0.003, 0.01] {
        let p =
            time(&format!("asymp ks_p_value(1000000, 1000000, {d})"), &mut || ks_p_value(1_000_000, 1_000_000, d).1);
        assert!((0.0..=1.0).contains(&p));
    }
    // 1M vs 1M interleaved values for the statistic.
    let a: Vec<f64> = (0..1_000_000).map(|i| i as f64 * 2.0).collect();
    let b: Vec<f64> = (0..1_000_000).map(|i| i as f64 * 2.0 + 1.0 + (i % 7) as f64 * 1e-3).collect();
    let d = time("ks_statistic_sorted 1M vs 1M", &mut || ks_statistic_sorted(&a, &b));
    assert!(d > 0.0 && d < 1e-5);
}
