//! Unit and property tests of the monitor core. Expected statistics come from the offline
//! engine (`compare_numeric` / `compare_categorical`, themselves tested against scipy), so
//! these tests pin "a window computes exactly what `compare` computes on the same values".

use crate::stats::statistic::Statistics;
use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;

use super::accumulate::{FeaturePlan, Typed};
use super::*;
use crate::record::{Position, Value};
use crate::reference::{FeatureKind, FeatureProfile, ProfileMeta, StreamProfile, PROFILE_FORMAT_VERSION};
use crate::stats::binning::count_right_closed_sorted;
use crate::stats::binning::Binning;
use crate::stats::profile::{
    compare_categorical, compare_numeric, sort_floats, CategoricalReference, NumericReference,
};

pub(super) fn profile(inputs: Vec<FeatureProfile>, predictions: Vec<FeatureProfile>) -> Arc<ReferenceProfile> {
    let mut streams = BTreeMap::new();
    for (stream, features) in [(Stream::Inputs, inputs), (Stream::Predictions, predictions)] {
        if !features.is_empty() {
            streams.insert(stream, StreamProfile { features });
        }
    }
    let meta = ProfileMeta {
        format_version: PROFILE_FORMAT_VERSION,
        model_version: None,
        source_path: "test".to_string(),
        source_sha256: String::new(),
        rows: 0,
        created_at: "2026-01-01T00:00:00Z".to_string(),
        binning: "quantile".to_string(),
    };
    Arc::new(ReferenceProfile { meta, streams })
}

/// A numeric feature fit on finite `values`, with its full-sample bin counts as a fitted
/// profile carries them.
pub(super) fn numeric(name: &str, values: Vec<f64>, binning: &Binning) -> FeatureProfile {
    let reference = NumericReference::fit(values, binning);
    FeatureProfile {
        name: name.to_string(),
        n: reference.sorted.len() as u64,
        bin_counts: reference.edges.as_ref().map(|e| count_right_closed_sorted(&reference.sorted, e)),
        kind: FeatureKind::Numeric(reference),
        missing: 0,
        nonfinite: 0,
    }
}

pub(super) fn categorical(name: &str, counts: &[(&str, u64)]) -> FeatureProfile {
    let counts: Vec<(String, u64)> = counts.iter().map(|(l, c)| (l.to_string(), *c)).collect();
    FeatureProfile {
        name: name.to_string(),
        n: counts.iter().map(|(_, c)| c).sum(),
        bin_counts: None,
        kind: FeatureKind::Categorical(CategoricalReference::from_counts(counts)),
        missing: 0,
        nonfinite: 0,
    }
}

pub(super) fn record(stream: Stream, t: i64, values: Vec<Value>, line: u64) -> Record {
    Record { monitor: 0, stream, event_time_ms: t, values, position: Position::File { line }, key: None }
}

pub(super) fn value_of(observations: &[Observation], feature: &str, stat: Stat) -> f64 {
    let found = observations.iter().find(|o| o.feature == feature && o.stat == stat);
    found.unwrap_or_else(|| panic!("no {stat} for {feature}")).value
}

pub(super) fn reference_values(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 1009) as f64 / 10.0).collect()
}

#[test]
fn values_are_typed_like_compare_cells() {
    let num = FeaturePlan::new(&numeric("x", vec![1.0, 2.0, 3.0], &Binning::Edges(vec![1.5, 2.5])));
    let text = |s: &str| Value::Text(s.to_string());
    for (value, expected) in [
        (Value::Number(2.0), Typed::Number { value: 2.0, bin: 1 }),
        (Value::Number(f64::NAN), Typed::Missing),
        (Value::Number(f64::NEG_INFINITY), Typed::NonFinite),
        (text(" 3.5 "), Typed::Number { value: 3.5, bin: 2 }),
        (text("1.5"), Typed::Number { value: 1.5, bin: 0 }),
        (text("NaN"), Typed::Missing),
        (text(""), Typed::Missing),
        (text("-Infinity"), Typed::NonFinite),
        (text("abc"), Typed::Mismatch),
        (Value::Bool(true), Typed::Mismatch),
        (Value::Missing, Typed::Missing),
    ] {
        assert_eq!(num.type_value(&value), expected, "{value:?}");
    }
    let cat = FeaturePlan::new(&categorical("c", &[("1", 2), ("a", 1), ("true", 4)]));
    for (value, expected) in [
        (text("a"), Typed::Known(1)),
        (text("b"), Typed::New("b".into())),
        (text(" a"), Typed::New(" a".into())),
        (text(""), Typed::Missing),
        (text("nan"), Typed::Missing),
        (Value::Bool(true), Typed::Known(2)),
        (Value::Bool(false), Typed::New("false".into())),
        (Value::Number(1.0), Typed::Known(0)),
        (Value::Number(0.5), Typed::New("0.5".into())),
        (Value::Number(f64::INFINITY), Typed::New("inf".into())),
        (Value::Number(f64::NAN), Typed::Missing),
        (Value::Missing, Typed::Missing),
    ] {
        assert_eq!(cat.type_value(&value), expected, "{value:?}");
    }
}

fn binning_strategy() -> impl Strategy<Value = Binning> {
    prop_oneof![
        (2usize..12).prop_map(|bins| Binning::Quantile { bins }),
        (2usize..8).prop_map(|bins| Binning::EqualWidth { bins }),
        Just(Binning::Edges(vec![-1.0, 0.0, 0.5, 2.0])),
    ]
}

/// Current cells: mostly numbers (with ties), some NaN, ±inf and text.
fn cells() -> impl Strategy<Value = Vec<Value>> {
    let cell = prop_oneof![
        8 => (-30i32..30).prop_map(|i| Value::Number(f64::from(i) / 10.0)),
        1 => Just(Value::Number(f64::NAN)),
        1 => Just(Value::Number(f64::INFINITY)),
        1 => Just(Value::Text("oops".to_string())),
        1 => (-30i32..30).prop_map(|i| Value::Text(format!("{}", f64::from(i) / 7.0))),
    ];
    prop::collection::vec(cell, 1..400)
}

proptest! {
    #[test]
    fn window_statistics_equal_compare_on_the_same_values(
        reference in prop::collection::vec(-40i32..40, 5..300),
        current in cells(),
        binning in binning_strategy(),
        cap in prop_oneof![Just(usize::MAX), 1usize..200],
    ) {
        let reference: Vec<f64> = reference.into_iter().map(|i| f64::from(i) / 13.0).collect();
        let settings = MonitorSettings {
            compare: CompareSettings { binning: binning.clone(), epsilon: 1e-4 },
            ks_sample_cap: cap,
            ..MonitorSettings::default()
        };
        let p = profile(vec![numeric("x", reference.clone(), &binning)], vec![]);
        let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_time(1_000_000, 0), settings.clone()).unwrap();
        let mut finite = Vec::new();
        let (mut missing, mut nonfinite, mut mismatch) = (0, 0, 0);
        for (i, cell) in current.iter().enumerate() {
            core.on_record(&record(Stream::Inputs, i as i64, vec![cell.clone()], i as u64));
            let parsed = match cell {
                Value::Number(v) => Some(*v),
                Value::Text(t) => t.parse::<f64>().ok(),
                _ => None,
            };
            match parsed {
                Some(v) if v.is_finite() => finite.push(v),
                Some(v) if v.is_nan() => missing += 1,
                Some(_) => nonfinite += 1,
                None => mismatch += 1,
            }
        }
        prop_assert!(core.on_watermark().is_empty());
        let observations = core.flush();
        prop_assert_eq!(observations.len(), 7);
        let first = &observations[0];
        prop_assert_eq!(first.n, finite.len() as u64);
        let d = &first.detail;
        prop_assert_eq!((d.missing, d.nonfinite, d.type_mismatch), (missing, nonfinite, mismatch));
        prop_assert_eq!(core.counters(Stream::Inputs).unwrap().type_mismatch.clone(), vec![mismatch]);
        if finite.is_empty() {
            prop_assert_eq!(first.detail.status, FeatureStatus::EmptyCurrent);
            prop_assert!(observations.iter().all(|o| o.value.is_nan()));
            return Ok(());
        }
        let capped = finite.len() > cap;
        prop_assert_eq!(first.detail.sample_capped, capped);
        sort_floats(&mut finite);
        let reference = NumericReference::fit(reference, &binning);
        let expected = compare_numeric(&reference, &finite, &settings.compare);
        let same = |stat, want: f64| value_of(&observations, "x", stat).to_bits() == want.to_bits();
        // Binned statistics come from the window's bin counts, capped or not.
        prop_assert!(same(Stat::Psi, expected.values.get(Stat::Psi)));
        prop_assert!(same(Stat::JensenShannon, expected.values.get(Stat::JensenShannon)));
        prop_assert!(same(Stat::Hellinger, expected.values.get(Stat::Hellinger)));
        if capped {
            // Past the cap: KS and Wasserstein from the sketch, D within its reported bound.
            prop_assert_eq!(first.detail.ks_source, Some(KsSource::Sketch));
            let eps = first.detail.ks_error_bound.unwrap();
            prop_assert!((0.0..0.02).contains(&eps));
            let d = value_of(&observations, "x", Stat::KsStatistic);
            prop_assert!((d - expected.values.get(Stat::KsStatistic)).abs() <= eps + 1e-12, "D {} vs {} ± {}", d, expected.values.get(Stat::KsStatistic), eps);
            let p = value_of(&observations, "x", Stat::KsPValue);
            prop_assert!((0.0..=1.0).contains(&p));
            let all = || reference.sorted.iter().chain(&finite);
            let span = all().copied().fold(f64::MIN, f64::max) - all().copied().fold(f64::MAX, f64::min);
            let w = value_of(&observations, "x", Stat::Wasserstein);
            prop_assert!((w - expected.values.get(Stat::Wasserstein)).abs() <= eps * span + 1e-9, "W {} vs {}", w, expected.values.get(Stat::Wasserstein));
            prop_assert!(value_of(&observations, "x", Stat::WassersteinNormalized).is_finite());
        } else {
            prop_assert_eq!(first.detail.ks_source, Some(KsSource::Sample));
            prop_assert_eq!(first.detail.ks_error_bound, None);
            for (stat, want) in [
                (Stat::KsStatistic, expected.values.get(Stat::KsStatistic)),
                (Stat::KsPValue, expected.values.get(Stat::KsPValue)),
                (Stat::Wasserstein, expected.values.get(Stat::Wasserstein)),
                (Stat::WassersteinNormalized, expected.values.get(Stat::WassersteinNormalized)),
            ] {
                prop_assert!(same(stat, want), "{} differs", stat);
            }
        }
    }
}

#[test]
fn categorical_windows_equal_compare_and_overflow_into_one_bin() {
    let p = profile(vec![categorical("c", &[("a", 50), ("b", 30), ("c", 20)])], vec![]);
    let settings = MonitorSettings { max_new_categories: 2, ..MonitorSettings::default() };
    let mut core = MonitorCore::new("m", p.clone(), WindowSpec::tumbling_count(12), settings.clone()).unwrap();
    let labels = ["a", "a", "b", "x", "y", "z", "z", "", "a", "w", "x", "b"];
    for (i, l) in labels.iter().enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Text(l.to_string())], i as u64));
    }
    let observations = core.on_watermark();
    assert_eq!(observations.len(), 5, "psi, chi-square ×2, js, hellinger");
    assert_eq!(observations[0].n, 11);
    assert_eq!((observations[0].detail.missing, observations[0].detail.categories_overflow), (1, 3));
    let current: Vec<(String, u64)> = [(OVERFLOW_LABEL, 3), ("a", 3), ("b", 2), ("x", 2), ("y", 1)]
        .iter()
        .map(|(l, c)| (l.to_string(), *c))
        .collect();
    let FeatureKind::Categorical(reference) = &p.streams[&Stream::Inputs].features[0].kind else { unreachable!() };
    let expected = compare_categorical(reference, &current, &settings.compare, &Statistics::ALL);
    assert_eq!(value_of(&observations, "c", Stat::Psi).to_bits(), expected.values.get(Stat::Psi).to_bits());
    assert_eq!(
        value_of(&observations, "c", Stat::ChisquareStatistic).to_bits(),
        expected.values.get(Stat::ChisquareStatistic).to_bits()
    );
    assert_eq!(
        value_of(&observations, "c", Stat::ChisquarePValue).to_bits(),
        expected.values.get(Stat::ChisquarePValue).to_bits()
    );
    assert_eq!(
        value_of(&observations, "c", Stat::JensenShannon).to_bits(),
        expected.values.get(Stat::JensenShannon).to_bits()
    );
    assert_eq!(value_of(&observations, "c", Stat::Hellinger).to_bits(), expected.values.get(Stat::Hellinger).to_bits());
    assert_eq!(observations[1].detail.chisquare_dof, Some(5), "6 categories: a, b, c, x, y, overflow");
}

#[test]
fn evidently_binning_uses_the_stored_values_until_the_cap_then_the_sketch() {
    let binning = Binning::Evidently;
    let reference = reference_values(300);
    let p = profile(vec![numeric("x", reference.clone(), &binning)], vec![]);
    let current: Vec<f64> = (0..80).map(|i| f64::from(i) * 1.3).collect();
    for cap in [usize::MAX, 79] {
        let settings = MonitorSettings {
            compare: CompareSettings { binning: binning.clone(), epsilon: 1e-4 },
            ks_sample_cap: cap,
            ..MonitorSettings::default()
        };
        let mut core = MonitorCore::new("m", p.clone(), WindowSpec::tumbling_count(80), settings.clone()).unwrap();
        for (i, v) in current.iter().enumerate() {
            core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(*v)], i as u64));
        }
        let observations = core.on_watermark();
        let expected =
            compare_numeric(&NumericReference::fit(reference.clone(), &binning), &current, &settings.compare);
        let psi = value_of(&observations, "x", Stat::Psi);
        if cap == usize::MAX {
            assert_eq!(psi.to_bits(), expected.values.get(Stat::Psi).to_bits());
            assert_eq!(observations[0].detail.n_bins, Some(expected.bins.n_bins));
        } else {
            // Past the cap the bins are unknown (NaN); KS and Wasserstein come from the sketch,
            // which at 80 values still holds every value: exact, bound 0.
            assert!(observations.iter().all(|o| o.detail.sample_capped));
            for stat in [Stat::Psi, Stat::JensenShannon, Stat::Hellinger] {
                assert!(value_of(&observations, "x", stat).is_nan());
            }
            assert_eq!(observations[0].detail.ks_source, Some(KsSource::Sketch));
            assert_eq!(observations[0].detail.ks_error_bound, Some(0.0));
            let d = value_of(&observations, "x", Stat::KsStatistic);
            assert!((d - expected.values.get(Stat::KsStatistic)).abs() < 1e-12);
            // The p-value of a sketched D comes from the limit distribution (not scipy's exact
            // small-sample one): see stats/kolmogorov_limit.rs.
            let (_, p_limit, _) =
                crate::stats::kolmogorov_limit::ks_p_value_limit(reference.len() as u64, current.len() as u64, d);
            assert_eq!(value_of(&observations, "x", Stat::KsPValue).to_bits(), p_limit.to_bits());
            assert_eq!(observations[0].detail.ks_method, Some(crate::stats::ks::KsMethod::Limit));
            assert!(
                (value_of(&observations, "x", Stat::Wasserstein) - expected.values.get(Stat::Wasserstein)).abs() < 1e-9
            );
        }
    }
}

#[test]
fn late_invalid_and_mistyped_records_are_counted() {
    let p = profile(vec![numeric("x", reference_values(100), &Binning::default())], vec![]);
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_time(1000, 100), MonitorSettings::default()).unwrap();
    let x = |v: f64| vec![Value::Number(v)];
    assert_eq!(
        core.on_record(&record(Stream::Inputs, 950, vec![Value::Bool(true)], 1)),
        RecordOutcome::Accepted { windows: 1, missed: 0, type_mismatches: 1 }
    );
    assert_eq!(
        core.on_record(&record(Stream::Inputs, 1500, x(1.0), 2)),
        RecordOutcome::Accepted { windows: 1, missed: 0, type_mismatches: 0 }
    );
    core.on_record(&record(Stream::Inputs, 2100, x(2.0), 3));
    assert_eq!(core.watermark_ms(Stream::Inputs), Some(2000));
    assert_eq!(core.on_record(&record(Stream::Inputs, 1999, x(3.0), 4)), RecordOutcome::Late);
    assert_eq!(
        core.on_record(&record(Stream::Predictions, 2000, x(3.0), 5)),
        RecordOutcome::Invalid(InvalidRecord::UnknownStream)
    );
    assert_eq!(
        core.on_record(&record(Stream::Inputs, 2000, vec![], 6)),
        RecordOutcome::Invalid(InvalidRecord::WrongArity { expected: 1, got: 0 })
    );
    assert_eq!(
        core.on_record(&record(Stream::Inputs, i64::MAX, x(1.0), 7)),
        RecordOutcome::Invalid(InvalidRecord::EventTimeOutOfRange)
    );
    assert!(core.has_closed_windows());
    let closed = core.on_watermark();
    let windows: Vec<(i64, i64, u64)> =
        closed.iter().map(|o| (o.window.start_ms, o.window.end_ms, o.window.events)).collect();
    assert_eq!(windows, vec![(0, 1000, 1); 7].into_iter().chain(vec![(1000, 2000, 1); 7]).collect::<Vec<_>>());
    assert_eq!(closed[0].detail.status, FeatureStatus::EmptyCurrent, "the only value there was mistyped");
    let c = core.counters(Stream::Inputs).unwrap();
    assert_eq!((c.accepted, c.late, c.wrong_arity, c.event_time_out_of_range, c.windows_closed), (3, 1, 1, 1, 2));
    assert_eq!(c.type_mismatch, vec![1]);
    assert_eq!(core.unknown_stream_records(), 1);
    assert_eq!(core.open_windows(Stream::Inputs), 1);
    // A stream whose partition is idle: processing time closes the last window, counted from
    // the newest event time (2100 + 1000 − lateness 100 = 3000).
    assert!(core.advance_idle(Stream::Inputs, 1000).is_empty(), "the partition is not idle yet");
    core.set_partition_idle(Stream::Inputs, 0, true);
    let idle = core.advance_idle(Stream::Inputs, 1000);
    assert_eq!(idle.len(), 7);
    assert_eq!(idle[0].window.start_ms, 2000);
}

#[test]
fn only_selected_statistics_are_observed() {
    let p = profile(
        vec![numeric("x", reference_values(100), &Binning::default()), categorical("c", &[("a", 1), ("b", 1)])],
        vec![],
    );
    let settings = MonitorSettings { statistics: "psi,chisquare".parse().unwrap(), ..MonitorSettings::default() };
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(2), settings).unwrap();
    for i in 0..2 {
        core.on_record(&record(
            Stream::Inputs,
            0,
            vec![Value::Number(f64::from(i)), Value::Text("a".into())],
            i as u64,
        ));
    }
    let stats: Vec<(String, Stat)> = core.on_watermark().into_iter().map(|o| (o.feature, o.stat)).collect();
    let expected = [("x", Stat::Psi), ("c", Stat::Psi), ("c", Stat::ChisquareStatistic), ("c", Stat::ChisquarePValue)];
    assert_eq!(stats, expected.map(|(f, s)| (f.to_string(), s)).to_vec());
}

/// An opt-in statistic of the registry, selected in a monitor, is observed like the others: the
/// same value as `compare` on the same rows, for numeric and categorical features.
#[test]
fn an_opt_in_statistic_is_observed_when_selected() {
    let (reference, current) = (reference_values(200), (0..60).map(|i| f64::from(i) * 3.7).collect::<Vec<f64>>());
    let p = profile(
        vec![numeric("x", reference.clone(), &Binning::default()), categorical("c", &[("a", 3), ("b", 1)])],
        vec![],
    );
    let settings = MonitorSettings { statistics: "psi,kl".parse().unwrap(), ..MonitorSettings::default() };
    let mut core = MonitorCore::new("m", p.clone(), WindowSpec::tumbling_count(60), settings.clone()).unwrap();
    for (i, v) in current.iter().enumerate() {
        let label = if i % 3 == 0 { "b" } else { "a" };
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(*v), Value::Text(label.into())], i as u64));
    }
    let observations = core.on_watermark();
    let stats: Vec<(&str, Stat)> = observations.iter().map(|o| (o.feature.as_str(), o.stat)).collect();
    let kl = Stat::KullbackLeibler;
    assert_eq!(stats, [("x", Stat::Psi), ("x", kl), ("c", Stat::Psi), ("c", kl)]);
    let mut sorted = current;
    sort_floats(&mut sorted);
    let numeric_expected =
        compare_numeric(&NumericReference::fit(reference, &Binning::default()), &sorted, &settings.compare);
    assert_eq!(value_of(&observations, "x", kl).to_bits(), numeric_expected.values.get(kl).to_bits());
    let FeatureKind::Categorical(categories) = &p.streams[&Stream::Inputs].features[1].kind else { unreachable!() };
    let window = [("a".to_string(), 40), ("b".to_string(), 20)];
    let categorical_expected = compare_categorical(categories, &window, &settings.compare, &Statistics::ALL);
    assert_eq!(value_of(&observations, "c", kl).to_bits(), categorical_expected.values.get(kl).to_bits());
    assert!(value_of(&observations, "x", kl) > 0.0);
}

#[test]
fn binned_statistics_use_the_full_sample_counts_of_a_subsampled_reference() {
    let full = reference_values(1000);
    let mut feature = numeric("x", full.clone(), &Binning::default());
    let FeatureKind::Numeric(reference) = &mut feature.kind else { unreachable!() };
    // Keep every 10th sorted value, as `reference fit --max-sample` would; the edges and
    // `bin_counts` stay those of the full sample.
    reference.sorted = reference.sorted.iter().step_by(10).copied().collect();
    let p = profile(vec![feature], vec![]);
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(50), MonitorSettings::default()).unwrap();
    let current: Vec<f64> = (0..50).map(|i| f64::from(i) * 2.1).collect();
    for (i, v) in current.iter().enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(*v)], i as u64));
    }
    let observations = core.on_watermark();
    let expected =
        compare_numeric(&NumericReference::fit(full, &Binning::default()), &current, &CompareSettings::default());
    assert_eq!(value_of(&observations, "x", Stat::Psi).to_bits(), expected.values.get(Stat::Psi).to_bits());
    assert_eq!(value_of(&observations, "x", Stat::Hellinger).to_bits(), expected.values.get(Stat::Hellinger).to_bits());
    // KS runs against the subsample: close to, not equal to, the full reference's.
    let ks = value_of(&observations, "x", Stat::KsStatistic);
    assert!(
        (ks - expected.values.get(Stat::KsStatistic)).abs() <= 0.02,
        "{ks} vs {}",
        expected.values.get(Stat::KsStatistic)
    );
}

mod checkpoint;
mod end_to_end;
mod quality;
mod sketch;
mod trailing;
