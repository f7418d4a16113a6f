//! Trailing references: window k compared with its previous N windows gives, bit for bit, what a
//! fixed-reference monitor gives on window k's rows against a profile fit (`fit_column`, same
//! binning, no subsampling) on the concatenated rows of those windows; the warm-up; windows past
//! the sample cap; checkpoints.

use crate::stats::statistic::{Stat, Statistics};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;

use proptest::prelude::*;

use super::record;
use crate::dataset::{CategoricalValues, Column, ColumnData, NumericValues};
use crate::monitor::accumulate::{FeaturePlan, Typed};
use crate::monitor::*;
use crate::record::{Position, Value};
use crate::reference::FeatureKind;
use crate::reference::{
    fit_column, subsample_sorted, FeatureProfile, FeatureType, ProfileMeta, StreamProfile, PROFILE_FORMAT_VERSION,
};
use crate::stats::binning::count_right_closed_sorted;
use crate::stats::binning::Binning;
use crate::stats::kll::{KllSketch, DEFAULT_K};
use crate::stats::kolmogorov_limit::ks_p_value_limit;
use crate::stats::profile::{compare_categorical, CategoricalReference};
use crate::stats::sketch_walk::{ks_statistic_sketch, wasserstein_sketch};
use crate::window::{WindowBounds, WindowUnit};

fn meta() -> ProfileMeta {
    ProfileMeta {
        format_version: PROFILE_FORMAT_VERSION,
        model_version: None,
        source_path: "trailing".to_string(),
        source_sha256: String::new(),
        rows: 7,
        created_at: "2026-01-01T00:00:00Z".to_string(),
        binning: "quantile".to_string(),
    }
}

/// inputs: x (numeric), c (categorical); predictions: score (numeric).
fn skeleton() -> Arc<ReferenceProfile> {
    let streams = BTreeMap::from([
        (Stream::Inputs, vec![("x".to_string(), FeatureType::Numeric), ("c".to_string(), FeatureType::Categorical)]),
        (Stream::Predictions, vec![("score".to_string(), FeatureType::Numeric)]),
    ]);
    Arc::new(ReferenceProfile::skeleton(meta(), streams))
}

fn trailing(n: usize, settings: MonitorSettings) -> MonitorSettings {
    MonitorSettings { trailing_windows: NonZeroUsize::new(n), ..settings }
}

/// Numeric cells with missing, non-finite and mistyped ones; labels with missing ones, a
/// number and a boolean.
fn cells() -> impl Strategy<Value = (Value, Value, Value)> {
    let x = prop_oneof![
        10 => (-40i32..40).prop_map(|i| Value::Number(f64::from(i) / 3.0)),
        1 => Just(Value::Number(f64::NAN)),
        1 => Just(Value::Number(f64::NEG_INFINITY)),
        1 => Just(Value::Text("oops".to_string())),
        1 => (-40i32..40).prop_map(|i| Value::Text(format!("{}", f64::from(i) / 7.0))),
        1 => Just(Value::Missing),
    ];
    let c = prop_oneof![
        8 => (0usize..5).prop_map(|i| Value::Text(["a", "b", "c", "d", "e"][i].to_string())),
        1 => Just(Value::Text(String::new())),
        1 => Just(Value::Number(1.0)),
        1 => Just(Value::Bool(true)),
    ];
    let score = prop_oneof![
        8 => (0i32..100).prop_map(|i| Value::Number(f64::from(i) / 100.0)),
        1 => Just(Value::Number(f64::INFINITY)),
        1 => Just(Value::Bool(false)),
    ];
    (x, c, score)
}

/// Records in event-time order (one or two per `step` ms), two inputs for one prediction.
fn records(cells: &[(Value, Value, Value)], step: i64) -> Vec<Record> {
    cells
        .iter()
        .enumerate()
        .map(|(i, (x, c, score))| {
            let t = (i as i64 / 2) * step;
            if i % 3 == 2 {
                record(Stream::Predictions, t, vec![score.clone()], i as u64)
            } else {
                record(Stream::Inputs, t, vec![x.clone(), c.clone()], i as u64)
            }
        })
        .collect()
}

/// The rows of each window of each stream, windows in closing order (by key), rows in arrival
/// order, computed from the spec alone (records in event-time order: none is late).
fn windows_of(spec: WindowSpec, records: &[Record]) -> BTreeMap<Stream, Vec<Vec<Record>>> {
    let mut keyed: BTreeMap<Stream, BTreeMap<i64, Vec<Record>>> = BTreeMap::new();
    let mut index: HashMap<Stream, i64> = HashMap::new();
    let (size, slide) = (spec.size as i64, spec.slide as i64);
    for r in records {
        let windows = keyed.entry(r.stream).or_default();
        let keys: Vec<i64> = match spec.unit {
            WindowUnit::Events => {
                let i = index.entry(r.stream).or_default();
                let keys = (0..=*i / slide).filter(|j| j * slide <= *i && *i < j * slide + size).collect();
                *i += 1;
                keys
            }
            WindowUnit::EventTime => {
                let mut s = r.event_time_ms.div_euclid(slide) * slide;
                let mut keys = Vec::new();
                while s + size > r.event_time_ms {
                    keys.push(s);
                    s -= slide;
                }
                keys
            }
        };
        for key in keys {
            windows.entry(key).or_default().push(r.clone());
        }
    }
    keyed.into_iter().map(|(stream, w)| (stream, w.into_values().collect())).collect()
}

/// The profile `driftd compare` would fit on these rows: per feature, the cells typed as a
/// window types them, into a [`Column`] for `fit_column`.
fn fit_rows(features: &[FeatureProfile], rows: &[&Record], binning: &Binning) -> Vec<FeatureProfile> {
    features
        .iter()
        .enumerate()
        .map(|(i, feature)| {
            let data = match feature.kind {
                FeatureKind::Numeric(_) => {
                    let plan = FeaturePlan::Numeric { edges: None, reference_counts: None, range: None };
                    let mut data = NumericValues::default();
                    for r in rows {
                        match plan.type_value(&r.values[i]) {
                            Typed::Number { value, .. } => data.values.push(value),
                            Typed::Missing => data.missing += 1,
                            Typed::NonFinite => data.nonfinite += 1,
                            _ => {}
                        }
                    }
                    ColumnData::Numeric(data)
                }
                FeatureKind::Categorical(_) => {
                    let plan = FeaturePlan::Categorical { index: HashMap::new() };
                    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                    let mut missing = 0;
                    for r in rows {
                        match plan.type_value(&r.values[i]) {
                            Typed::New(label) => *counts.entry(label.into_owned()).or_default() += 1,
                            Typed::Missing => missing += 1,
                            other => panic!("{other:?}"),
                        }
                    }
                    ColumnData::Categorical(CategoricalValues { counts: counts.into_iter().collect(), missing })
                }
            };
            fit_column(Column { name: feature.name.clone(), data }, binning, None)
        })
        .collect()
}

/// Observations of a trailing run, per stream, grouped per window (closing order).
fn run_trailing(
    spec: WindowSpec,
    settings: &MonitorSettings,
    records: &[Record],
) -> BTreeMap<Stream, Vec<Vec<Observation>>> {
    let mut core = MonitorCore::new("m", skeleton(), spec, settings.clone()).unwrap();
    let mut out = Vec::new();
    for r in records {
        assert!(matches!(core.on_record(r), RecordOutcome::Accepted { .. }));
        out.extend(core.on_watermark());
    }
    out.extend(core.flush());
    let mut grouped: BTreeMap<Stream, Vec<Vec<Observation>>> = BTreeMap::new();
    for o in out {
        let windows = grouped.entry(o.stream).or_default();
        match windows.last_mut() {
            Some(last) if last[0].window == o.window => last.push(o),
            _ => windows.push(vec![o]),
        }
    }
    grouped
}

/// JSON of an observation without what legitimately differs (the trailing detail, the bounds
/// of the expected run's single window); equal text means equal bits (NaN included).
fn comparable(o: &Observation) -> String {
    let mut o = o.clone();
    o.detail.reference_windows = None;
    let nowhere = Position::File { line: 0 };
    o.window = WindowBounds { start_ms: 0, end_ms: 0, events: 0, first: nowhere.clone(), last: nowhere };
    serde_json::to_string(&o).unwrap()
}

/// Checks every window of a trailing run against a fixed-reference run on its rows.
fn check_against_fixed(
    spec: WindowSpec,
    n: usize,
    base: MonitorSettings,
    records: &[Record],
) -> Result<(), TestCaseError> {
    let settings = trailing(n, base.clone());
    let got = run_trailing(spec, &settings, records);
    let skeleton = skeleton();
    for (stream, windows) in windows_of(spec, records) {
        let features = skeleton.features(stream);
        let observed = got.get(&stream).map_or(&[][..], Vec::as_slice);
        // Warm-up: the first window yields nothing.
        prop_assert_eq!(observed.len(), windows.len().saturating_sub(1), "{}", stream);
        for (k, window_observations) in observed.iter().enumerate() {
            let k = k + 1; // window index (0-based) of these observations
            let pooled: Vec<&Record> = windows[k.saturating_sub(n)..k].iter().flatten().collect();
            let fitted = fit_rows(features, &pooled, &base.compare.binning);
            let mut streams = BTreeMap::new();
            streams.insert(stream, StreamProfile { features: fitted.clone() });
            let fixed = Arc::new(ReferenceProfile { meta: meta(), streams });
            let mut core = MonitorCore::new("m", fixed, WindowSpec::tumbling_count(1 << 40), base.clone()).unwrap();
            for r in &windows[k] {
                core.on_record(r);
            }
            let expected = core.flush();
            prop_assert_eq!(
                window_observations.iter().map(comparable).collect::<Vec<_>>(),
                expected.iter().map(comparable).collect::<Vec<_>>(),
                "{} window {}",
                stream,
                k
            );
            prop_assert_eq!(window_observations[0].window.events, windows[k].len() as u64);
            for o in window_observations {
                let i = features.iter().position(|f| f.name == o.feature).unwrap();
                let from = o.detail.reference_windows.as_ref().unwrap();
                prop_assert_eq!(from.windows, k.min(n));
                prop_assert_eq!(from.rows, pooled.len() as u64);
                prop_assert_eq!(from.n, fitted[i].n);
                prop_assert_eq!(from.sketched_windows, 0);
            }
        }
    }
    Ok(())
}

fn specs() -> impl Strategy<Value = WindowSpec> {
    prop_oneof![
        (1u64..25).prop_map(WindowSpec::tumbling_count),
        (1u64..6).prop_map(|s| WindowSpec::tumbling_time(s * 1_000, 0)),
        (1u64..4, 1u64..4).prop_map(|(k, slide)| WindowSpec::sliding_time(k * slide * 500, slide * 500, 0)),
        (1u64..4, 1u64..8).prop_map(|(k, slide)| WindowSpec::sliding_count(k * slide, slide)),
    ]
}

fn binnings() -> impl Strategy<Value = Binning> {
    prop_oneof![
        (2usize..10).prop_map(|bins| Binning::Quantile { bins }),
        (2usize..6).prop_map(|bins| Binning::EqualWidth { bins }),
        Just(Binning::Edges(vec![-3.0, 0.0, 0.5, 4.0])),
        Just(Binning::Evidently),
    ]
}

proptest! {
    #[test]
    fn each_window_equals_a_fixed_reference_fit_on_the_previous_windows(
        cells in prop::collection::vec(cells(), 1..160),
        spec in specs(),
        n in 1usize..5,
        binning in binnings(),
    ) {
        let base = MonitorSettings {
            compare: CompareSettings { binning, epsilon: 1e-4 },
            ..MonitorSettings::default()
        };
        check_against_fixed(spec, n, base, &records(&cells, 300))?;
    }
}

#[test]
fn tumbling_count_time_and_sliding_windows_equal_their_fixed_references() {
    let cells: Vec<(Value, Value, Value)> = (0..300)
        .map(|i| {
            let x = match i % 17 {
                3 => Value::Number(f64::NAN),
                5 => Value::Text("n/a".to_string()),
                7 => Value::Number(f64::INFINITY),
                _ => Value::Number(f64::from((i * 7919) % 211) / 10.0 + f64::from(i / 60)),
            };
            let c = match i % 13 {
                4 => Value::Text(String::new()),
                _ => Value::Text(["red", "green", "blue", "teal"][(i as usize * 31 % 7) % 4].to_string()),
            };
            (x, c, Value::Number(f64::from(i % 50) / 50.0))
        })
        .collect();
    let records = records(&cells, 100);
    for spec in
        [WindowSpec::tumbling_count(20), WindowSpec::tumbling_time(2_000, 0), WindowSpec::sliding_time(3_000, 1_000, 0)]
    {
        for n in [1, 3] {
            check_against_fixed(spec, n, MonitorSettings::default(), &records).unwrap();
        }
    }
}

#[test]
fn large_pools_are_fit_feature_by_feature_in_parallel_with_the_same_results() {
    // 3 windows of 12,000 input records: window 3's pool holds 24,000 values of `x`, past the
    // threshold where the features are fit (and evaluated) on several threads.
    let cells: Vec<(Value, Value, Value)> = (0..54_000)
        .map(|i: i32| {
            let x = Value::Number(f64::from((i * 7919) % 10_007) / 100.0 + f64::from(i / 18_000));
            let c = Value::Text(format!("k{}", (i * 31) % 17));
            (x, c, Value::Number(f64::from(i % 1000) / 1000.0))
        })
        .collect();
    check_against_fixed(WindowSpec::tumbling_count(12_000), 2, MonitorSettings::default(), &records(&cells, 1))
        .unwrap();
}

#[test]
fn the_first_window_warms_up_and_the_pool_holds_at_most_n_windows() {
    let settings = trailing(2, MonitorSettings::default());
    let mut core = MonitorCore::new("m", skeleton(), WindowSpec::tumbling_count(4), settings).unwrap();
    assert_eq!(core.trailing_windows(Stream::Inputs), Some(0));
    let mut per_window = Vec::new();
    for i in 0..20 {
        let values = vec![Value::Number(f64::from(i)), Value::Text(format!("l{}", i % 3))];
        core.on_record(&record(Stream::Inputs, 0, values, i as u64));
        if i % 4 == 3 {
            per_window.push((core.on_watermark().len(), core.trailing_windows(Stream::Inputs)));
        }
    }
    // 7 numeric + 5 categorical observations per window once there is a reference.
    assert_eq!(per_window, [(0, Some(1)), (12, Some(2)), (12, Some(2)), (12, Some(2)), (12, Some(2))]);
    assert_eq!(core.counters(Stream::Inputs).unwrap().windows_closed, 5);
    let fixed = MonitorCore::new("m", skeleton(), WindowSpec::tumbling_count(4), MonitorSettings::default()).unwrap();
    assert_eq!(fixed.trailing_windows(Stream::Inputs), None);
}

#[test]
fn a_skeleton_validates_and_as_a_fixed_reference_is_an_empty_one() {
    let skeleton = skeleton();
    assert_eq!(skeleton.meta.rows, 0);
    crate::reference::validate(&skeleton).unwrap();
    assert_eq!(skeleton.features(Stream::Inputs).len(), 2);
    // A skeleton is also a (useless) fixed reference: every window is `empty_reference`.
    let mut core = MonitorCore::new("m", skeleton, WindowSpec::tumbling_count(1), MonitorSettings::default()).unwrap();
    core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(1.0), Value::Text("a".into())], 0));
    let observations = core.on_watermark();
    assert!(observations.iter().all(|o| o.detail.status == FeatureStatus::EmptyReference && o.value.is_nan()));
}

#[test]
fn an_all_missing_pool_is_an_empty_reference_not_a_warm_up() {
    let settings = trailing(1, MonitorSettings::default());
    let mut core = MonitorCore::new("m", skeleton(), WindowSpec::tumbling_count(2), settings).unwrap();
    let mut out = Vec::new();
    for (i, (x, c)) in
        [(Value::Missing, ""), (Value::Number(f64::NAN), ""), (Value::Number(1.0), "a"), (Value::Number(2.0), "b")]
            .into_iter()
            .enumerate()
    {
        core.on_record(&record(Stream::Inputs, 0, vec![x, Value::Text(c.to_string())], i as u64));
        out.extend(core.on_watermark());
    }
    assert_eq!(out.len(), 12);
    assert!(out.iter().all(|o| o.detail.status == FeatureStatus::EmptyReference && o.value.is_nan()));
    let from = out[0].detail.reference_windows.as_ref().unwrap();
    assert_eq!((from.windows, from.rows, from.n), (1, 2, 0));
}

#[test]
fn quantile_points_of_an_exact_sketch_are_the_evenly_spaced_subsample() {
    // 150 distinct values: below the capacity of a one-level sketch (k = 200).
    let values: Vec<f64> = (0..150).map(|i| f64::from((i * 7919) % 4001) / 7.0).collect();
    let mut sketch = KllSketch::new(DEFAULT_K);
    for &v in &values {
        sketch.update(v);
    }
    assert_eq!(sketch.retained(), 150, "no compaction yet: every item has weight 1");
    let mut sorted = values;
    sorted.sort_by(f64::total_cmp);
    for m in [2, 3, 50, 149, 150, 1000] {
        assert_eq!(quantile_points(&sketch, m), subsample_sorted(&sorted, m), "m = {m}");
    }
    let mut big = KllSketch::new(DEFAULT_K);
    for i in 0..100_000 {
        big.update(f64::from(i));
    }
    let points = quantile_points(&big, 1_000);
    assert_eq!(points.len(), 1_000);
    assert!(points.windows(2).all(|w| w[0] <= w[1]));
    let view = big.sorted_view();
    assert_eq!((points[0], points[999]), (view[0].0, view[view.len() - 1].0));
    // The median point is within the sketch's rank error of the true median.
    assert!((points[500] - 50_000.0).abs() <= 100_000.0 * big.normalized_rank_error(), "{}", points[500]);
    assert!(quantile_points(&KllSketch::new(DEFAULT_K), 10).is_empty());
}

#[test]
fn past_the_cap_a_window_is_judged_from_its_sketch_and_pooled_as_quantile_points() {
    // 2,000 values: the sketches compact (their items have weights > 1).
    let (cap, size) = (50usize, 2_000u64);
    let base = MonitorSettings { ks_sample_cap: cap, ..MonitorSettings::default() };
    let settings = trailing(1, base.clone());
    let streams = BTreeMap::from([(Stream::Inputs, vec![("x".to_string(), FeatureType::Numeric)])]);
    let p = Arc::new(ReferenceProfile::skeleton(meta(), streams));
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(size), settings).unwrap();
    let first: Vec<f64> = (0..size).map(|i| ((i * 7919) % 1009) as f64 / 10.0).collect();
    let second: Vec<f64> = (0..size).map(|i| ((i * 104_729) % 997) as f64 / 9.0 + 5.0).collect();
    let mut out = Vec::new();
    for (i, &v) in first.iter().chain(&second).enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(v)], i as u64));
        out.extend(core.on_watermark());
    }
    assert_eq!(out.len(), 7, "window 1 warms up, window 2 yields 7 numeric statistics");
    let sketch_of = |values: &[f64]| {
        let mut sketch = KllSketch::new(DEFAULT_K);
        values.iter().for_each(|&v| sketch.update(v));
        sketch
    };
    // The reference: window 1's 50 quantile points, fit like a file column.
    let points = quantile_points(&sketch_of(&first), cap);
    let column =
        Column { name: "x".into(), data: ColumnData::Numeric(NumericValues { values: points, ..Default::default() }) };
    let fitted = fit_column(column, &base.compare.binning, None);
    let FeatureKind::Numeric(reference) = &fitted.kind else { unreachable!() };
    // Window 2's own statistics: KS and Wasserstein from its sketch, the bins from its items.
    let sketch = sketch_of(&second);
    let view = sketch.sorted_view();
    let (d, p_value, _) =
        ks_p_value_limit(reference.sorted.len() as u64, size, ks_statistic_sketch(&reference.sorted, &view));
    let w = wasserstein_sketch(&reference.sorted, &view);
    let edges = reference.edges.as_ref().unwrap();
    let mut bins = vec![0u64; edges.len() + 1];
    for (v, weight) in &view {
        bins[crate::stats::binning::right_closed_bin(edges, *v)] += weight;
    }
    let reference_counts = count_right_closed_sorted(&reference.sorted, edges);
    let epsilon = base.compare.epsilon;
    let zero_fill = crate::stats::psi::ZeroFill::Epsilon(epsilon);
    let (values, _) =
        crate::stats::profile::binned_statistics(&reference_counts, &bins, zero_fill, epsilon, &Statistics::ALL, true);
    let (psi, js, hellinger) = (values.get(Stat::Psi), values.get(Stat::JensenShannon), values.get(Stat::Hellinger));
    for (stat, want) in [
        (Stat::Psi, psi),
        (Stat::KsStatistic, d),
        (Stat::KsPValue, p_value),
        (Stat::JensenShannon, js),
        (Stat::Wasserstein, w),
        (Stat::WassersteinNormalized, crate::stats::wasserstein::normalised(w, reference.std)),
        (Stat::Hellinger, hellinger),
    ] {
        let got = out.iter().find(|o| o.stat == stat).unwrap().value;
        assert_eq!(got.to_bits(), want.to_bits(), "{stat}: {got} vs {want}");
    }
    let detail = &out[0].detail;
    assert!(detail.sample_capped);
    assert_eq!(detail.ks_source, Some(KsSource::Sketch));
    let from = detail.reference_windows.as_ref().unwrap();
    assert_eq!((from.windows, from.rows, from.n, from.sketched_windows), (1, size, cap as u64, 1));
}

#[test]
fn categorical_overflow_is_one_label_of_the_pool() {
    let base = MonitorSettings { max_new_categories: 2, ..MonitorSettings::default() };
    let streams = BTreeMap::from([(Stream::Inputs, vec![("c".to_string(), FeatureType::Categorical)])]);
    let p = Arc::new(ReferenceProfile::skeleton(meta(), streams));
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(6), trailing(1, base.clone())).unwrap();
    let mut out = Vec::new();
    for (i, label) in ["a", "b", "c", "d", "a", "c", "a", "b", "e", "e", "a", "a"].iter().enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Text(label.to_string())], i as u64));
        out.extend(core.on_watermark());
    }
    // Window 1: a ×2, b, overflow ×3 (c, d, c); window 2: a ×3, b, overflow ×2 (e, e).
    let reference = CategoricalReference::from_counts(vec![
        (OVERFLOW_LABEL.to_string(), 3),
        ("a".to_string(), 2),
        ("b".to_string(), 1),
    ]);
    let current = vec![(OVERFLOW_LABEL.to_string(), 2), ("a".to_string(), 3), ("b".to_string(), 1)];
    let expected = compare_categorical(&reference, &current, &base.compare, &Statistics::ALL);
    assert_eq!(out.len(), 5);
    assert_eq!(out[0].value.to_bits(), expected.values.get(Stat::Psi).to_bits());
    assert_eq!(out[0].detail.categories_overflow, 2);
    assert_eq!(out[0].detail.reference_windows.as_ref().unwrap().n, 6);
}

proptest! {
    #[test]
    fn a_checkpoint_mid_stream_changes_no_observation(
        cells in prop::collection::vec(cells(), 1..150),
        cut in 0usize..150,
        spec in prop_oneof![specs(), Just(WindowSpec::sliding_time(2_000, 1_000, 1_500))],
        n in 1usize..4,
        jitter in prop::collection::vec(-2_500i64..2_500, 150),
    ) {
        // A small cap and few new labels: sketched windows and overflow in the pool too; out
        // of order event times: late records and records landing in older open windows.
        let settings = trailing(n, MonitorSettings { ks_sample_cap: 6, max_new_categories: 3, ..MonitorSettings::default() });
        let mut records = records(&cells, 300);
        for (r, j) in records.iter_mut().zip(&jitter) {
            r.event_time_ms += j;
        }
        let run = |cut: Option<usize>| -> (Vec<String>, MonitorState) {
            let mut core = MonitorCore::new("m", skeleton(), spec, settings.clone()).unwrap();
            let mut out = Vec::new();
            for (i, r) in records.iter().enumerate() {
                if Some(i) == cut {
                    let json = serde_json::to_string(&core.checkpoint()).unwrap();
                    let state: MonitorState = serde_json::from_str(&json).unwrap();
                    core = MonitorCore::restore("m", skeleton(), spec, settings.clone(), state).unwrap();
                }
                core.on_record(r);
                if i % 5 == 0 {
                    out.extend(core.on_watermark());
                }
            }
            out.extend(core.on_watermark());
            out.extend(core.flush());
            (out.iter().map(|o| serde_json::to_string(o).unwrap()).collect(), core.checkpoint())
        };
        let straight = run(None);
        let resumed = run(Some(cut.min(records.len())));
        prop_assert_eq!(&straight.0, &resumed.0);
        prop_assert_eq!(&straight.1, &resumed.1);
    }
}

#[test]
fn a_checkpoint_that_does_not_fit_the_trailing_monitor_is_refused() {
    let spec = WindowSpec::tumbling_count(3);
    let settings = trailing(2, MonitorSettings { ks_sample_cap: 4, ..MonitorSettings::default() });
    let mut core = MonitorCore::new("m", skeleton(), spec, settings.clone()).unwrap();
    for i in 0..10 {
        let values = vec![Value::Number(f64::from(i)), Value::Text(format!("l{}", i % 2))];
        core.on_record(&record(Stream::Inputs, 0, values, i as u64));
        core.on_watermark();
    }
    let state = core.checkpoint();
    assert_eq!(state.streams[&Stream::Inputs].trailing.as_ref().unwrap().len(), 2);
    let restore = |settings: &MonitorSettings, state: MonitorState| {
        MonitorCore::restore("m", skeleton(), spec, settings.clone(), state)
    };
    assert!(restore(&settings, state.clone()).is_ok());
    let refused = |settings: &MonitorSettings, state: MonitorState| {
        matches!(restore(settings, state), Err(MonitorError::Checkpoint { .. }))
    };
    assert!(refused(&trailing(3, settings.clone()), state.clone()), "another N");
    assert!(refused(&MonitorSettings { trailing_windows: None, ..settings.clone() }, state.clone()), "fixed");
    let fixed = MonitorCore::new("m", skeleton(), spec, MonitorSettings::default()).unwrap().checkpoint();
    assert!(refused(&settings, fixed), "a fixed monitor's checkpoint");
    let tamper = |path: &[&str], value: serde_json::Value| {
        let mut json = serde_json::to_value(&state).unwrap();
        let mut at = &mut json;
        for key in path {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        *at = value;
        serde_json::from_value::<MonitorState>(json).unwrap()
    };
    let pool = ["streams", "inputs", "trailing", "windows"];
    let feature = |i: &'static str, f: &'static str| [&pool[..], &[i, "features", f][..]].concat();
    let numeric = [&feature("0", "0")[..], &["numeric", "values"]].concat();
    let labels = [&feature("0", "1")[..], &["categorical", "counts"]].concat();
    assert!(refused(&settings, tamper(&numeric, serde_json::json!([1.0, 2.0, 3.0, 4.0, 5.0]))), "over the cap");
    assert!(refused(&settings, tamper(&labels, serde_json::json!([["b", 1], ["a", 1]]))), "unsorted labels");
    assert!(refused(&settings, tamper(&labels, serde_json::json!([["a", 0]]))), "a zero count");
    assert!(
        refused(&settings, tamper(&["streams", "inputs", "trailing", "capacity"], serde_json::json!(3))),
        "capacity"
    );
    let mut three = state.clone();
    let pooled = three.streams.get_mut(&Stream::Inputs).unwrap().trailing.as_mut().unwrap();
    pooled.windows.push_back(pooled.windows[0].clone());
    assert!(refused(&settings, three), "more windows than N");
    let mut old = state;
    old.version = 2;
    assert!(refused(&settings, old), "an older state version");
}

#[test]
fn feature_types_are_inferred_as_compare_types_a_column() {
    let text = |s: &str| Value::Text(s.to_string());
    for (values, expected) in [
        (
            vec![Value::Number(1.0), text(" 2.5 "), text(""), text("NaN"), text("-inf"), Value::Missing],
            FeatureType::Numeric,
        ),
        (vec![Value::Missing, text("")], FeatureType::Numeric),
        (vec![], FeatureType::Numeric),
        (vec![Value::Number(1.0), text("a")], FeatureType::Categorical),
        (vec![Value::Bool(false)], FeatureType::Categorical),
    ] {
        assert_eq!(infer_feature_type(&values), expected, "{values:?}");
    }
}
