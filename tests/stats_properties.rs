//! Property tests of the statistics engine's invariants (design.md §10): PSI ≥ 0 and 0 on
//! identical data, distances within their ranges, D ∈ [0, 1] with D(x, x) = 0, p ∈ [0, 1],
//! symmetric distances, and bin counts that account for every value.

use driftd::stats::binning::{count_right_closed_sorted, evidently_bins, Binning};
use driftd::stats::profile::{compare_numeric, sort_floats, CompareSettings, NumericReference};
use driftd::stats::statistic::Stat;
use proptest::prelude::*;

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        // continuous values
        prop::collection::vec(-1e6f64..1e6, 1..300),
        // heavy ties
        prop::collection::vec((0i32..4).prop_map(f64::from), 1..300),
    ]
}

fn binning() -> impl Strategy<Value = Binning> {
    prop_oneof![
        Just(Binning::Quantile { bins: 10 }),
        (2usize..30).prop_map(|bins| Binning::Quantile { bins }),
        (2usize..30).prop_map(|bins| Binning::EqualWidth { bins }),
        Just(Binning::Evidently),
    ]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    sort_floats(&mut v);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn statistics_stay_in_range(reference in sample(), current in sample(), binning in binning()) {
        let settings = CompareSettings { binning: binning.clone(), ..CompareSettings::default() };
        let profile = NumericReference::fit(reference, &binning);
        let current = sorted(current);
        let cmp = compare_numeric(&profile, &current, &settings);
        prop_assert!(cmp.values.get(Stat::Psi) >= 0.0, "PSI {}", cmp.values.get(Stat::Psi));
        prop_assert!((0.0..=1.0).contains(&cmp.values.get(Stat::KsStatistic)), "D {}", cmp.values.get(Stat::KsStatistic));
        prop_assert!((0.0..=1.0).contains(&cmp.values.get(Stat::KsPValue)), "p {}", cmp.values.get(Stat::KsPValue));
        prop_assert!(cmp.values.get(Stat::JensenShannon) >= 0.0 && cmp.values.get(Stat::JensenShannon) <= 2f64.ln().sqrt() + 1e-12);
        prop_assert!(cmp.values.get(Stat::Hellinger) >= 0.0 && cmp.values.get(Stat::Hellinger) <= 1.0 + 1e-12);
        prop_assert!(cmp.values.get(Stat::Wasserstein) >= 0.0);
        prop_assert_eq!(cmp.bins.reference_counts.iter().sum::<u64>(), profile.sorted.len() as u64);
        prop_assert_eq!(cmp.bins.current_counts.iter().sum::<u64>(), current.len() as u64);
    }

    #[test]
    fn identical_samples_have_no_drift(values in sample(), binning in binning()) {
        let settings = CompareSettings { binning: binning.clone(), ..CompareSettings::default() };
        let profile = NumericReference::fit(values.clone(), &binning);
        let cmp = compare_numeric(&profile, &sorted(values), &settings);
        prop_assert_eq!(cmp.values.get(Stat::Psi), 0.0);
        prop_assert_eq!(cmp.values.get(Stat::KsStatistic), 0.0);
        prop_assert_eq!(cmp.values.get(Stat::KsPValue), 1.0);
        prop_assert_eq!(cmp.values.get(Stat::JensenShannon), 0.0);
        prop_assert_eq!(cmp.values.get(Stat::Hellinger), 0.0);
        prop_assert_eq!(cmp.values.get(Stat::Wasserstein), 0.0);
    }

    #[test]
    fn distances_are_symmetric(a in sample(), b in sample()) {
        let settings = CompareSettings::default();
        let ab = compare_numeric(&NumericReference::fit(a.clone(), &Binning::Evidently), &sorted(b.clone()),
            &CompareSettings { binning: Binning::Evidently, ..settings.clone() });
        let ba = compare_numeric(&NumericReference::fit(b, &Binning::Evidently), &sorted(a),
            &CompareSettings { binning: Binning::Evidently, ..settings });
        prop_assert_eq!(ab.values.get(Stat::KsStatistic), ba.values.get(Stat::KsStatistic));
        prop_assert!((ab.values.get(Stat::Wasserstein) - ba.values.get(Stat::Wasserstein)).abs() <= 1e-9 * ab.values.get(Stat::Wasserstein).max(1.0));
    }

    #[test]
    fn every_value_lands_in_exactly_one_bin(values in sample(), edges in prop::collection::vec(-1e6f64..1e6, 1..12)) {
        let values = sorted(values);
        let edges = sorted(edges);
        let counts = count_right_closed_sorted(&values, &edges);
        prop_assert_eq!(counts.len(), edges.len() + 1);
        prop_assert_eq!(counts.iter().sum::<u64>(), values.len() as u64);
        let bins = evidently_bins(&values, &values);
        prop_assert_eq!(bins.reference.iter().sum::<u64>(), values.len() as u64);
    }
}
