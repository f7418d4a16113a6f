//! Checkpoints: a monitor serialised mid-window and restored continues exactly as an
//! uninterrupted one; a checkpoint that does not fit the monitor is refused.

use proptest::prelude::*;

use super::{categorical, numeric, profile, record, reference_values};
use crate::monitor::*;
use crate::record::Value;
use crate::stats::binning::Binning;
use crate::stats::statistic::Statistics;

proptest! {
    #[test]
    fn a_checkpoint_mid_window_changes_no_observation(
        times in prop::collection::vec(0i64..50_000, 1..120),
        xs in prop::collection::vec(-40i32..40, 120),
        labels in prop::collection::vec(0usize..5, 120),
        cut in 0usize..120,
        sliding in any::<bool>(),
    ) {
        let spec = if sliding {
            WindowSpec::sliding_time(10_000, 5_000, 3_000)
        } else {
            WindowSpec::tumbling_time(10_000, 3_000)
        };
        // Every statistic, the data-quality counters included, survives the checkpoint.
        let settings = MonitorSettings {
            statistics: Statistics::ALL,
            ks_sample_cap: 30,
            max_new_categories: 1,
            ..MonitorSettings::default()
        };
        let p = profile(
            vec![numeric("x", reference_values(200), &Binning::default()), categorical("c", &[("a", 5), ("b", 3)])],
            vec![numeric("score", reference_values(50), &Binning::default())],
        );
        let names = ["a", "b", "new1", "new2", ""];
        let records: Vec<Record> = times.iter().enumerate().map(|(i, &t)| {
            if i % 3 == 2 {
                record(Stream::Predictions, t, vec![Value::Number(f64::from(xs[i]))], i as u64)
            } else {
                let c = Value::Text(names[labels[i]].to_string());
                record(Stream::Inputs, t, vec![Value::Number(f64::from(xs[i]) / 3.0), c], i as u64)
            }
        }).collect();
        // `every`: how many records between two `on_watermark` calls (the caller's batching).
        let run = |cut: Option<usize>, every: usize| -> (Vec<RecordOutcome>, Vec<Observation>, MonitorState) {
            let mut core = MonitorCore::new("m", p.clone(), spec, settings.clone()).unwrap();
            let (mut outcomes, mut observations) = (Vec::new(), Vec::new());
            for (i, r) in records.iter().enumerate() {
                if Some(i) == cut {
                    let json = serde_json::to_string(&core.checkpoint()).unwrap();
                    let state: MonitorState = serde_json::from_str(&json).unwrap();
                    core = MonitorCore::restore("m", p.clone(), spec, settings.clone(), state).unwrap();
                }
                outcomes.push(core.on_record(r));
                if i % every == 0 {
                    observations.extend(core.on_watermark());
                }
            }
            observations.extend(core.on_watermark());
            observations.extend(core.flush());
            (outcomes, observations, core.checkpoint())
        };
        // JSON: shortest round-trip floats, so equal text means equal bits (NaN included).
        let json = |o: &[Observation]| o.iter().map(|o| serde_json::to_string(o).unwrap()).collect::<Vec<_>>();
        let straight = run(None, 7);
        let resumed = run(Some(cut.min(records.len())), 7);
        prop_assert_eq!(&straight.0, &resumed.0);
        prop_assert_eq!(json(&straight.1), json(&resumed.1));
        prop_assert_eq!(&straight.2, &resumed.2);
        // Batching changes only the interleaving of the two streams' windows.
        let unbatched = run(None, usize::MAX);
        let (mut a, mut b) = (json(&straight.1), json(&unbatched.1));
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
        prop_assert_eq!(&straight.0, &unbatched.0);
    }
}

#[test]
fn bad_settings_profiles_and_checkpoints_are_errors() {
    let quantile = profile(vec![numeric("x", reference_values(50), &Binning::default())], vec![]);
    let spec = WindowSpec::tumbling_time(1000, 0);
    let with = |binning: Binning, epsilon: f64| MonitorSettings {
        compare: CompareSettings { binning, epsilon },
        ..MonitorSettings::default()
    };
    let err = |p: &Arc<ReferenceProfile>, spec: WindowSpec, s: MonitorSettings| {
        MonitorCore::new("m", p.clone(), spec, s).unwrap_err()
    };
    assert!(matches!(err(&quantile, spec, with(Binning::Evidently, 1e-4)), MonitorError::Binning { .. }));
    assert!(matches!(err(&quantile, spec, with(Binning::default(), 0.0)), MonitorError::Epsilon { .. }));
    assert!(matches!(
        err(&quantile, WindowSpec::tumbling_time(0, 0), MonitorSettings::default()),
        MonitorError::Window { .. }
    ));
    let evidently = profile(vec![numeric("x", reference_values(50), &Binning::Evidently)], vec![]);
    assert!(matches!(err(&evidently, spec, with(Binning::default(), 1e-4)), MonitorError::Binning { .. }));
    let unsorted = profile(vec![categorical("c", &[("b", 1), ("a", 1)])], vec![]);
    assert!(matches!(err(&unsorted, spec, MonitorSettings::default()), MonitorError::Categories { .. }));
    assert!(matches!(
        err(&profile(vec![], vec![]), spec, MonitorSettings::default()),
        MonitorError::EmptyProfile { .. }
    ));
    assert!(err(&unsorted, spec, MonitorSettings::default()).to_string().contains("inputs.c"));

    let mut core = MonitorCore::new("m", quantile.clone(), spec, MonitorSettings::default()).unwrap();
    core.on_record(&record(Stream::Inputs, 10, vec![Value::Number(1.0)], 1));
    let state = core.checkpoint();
    let restore = |spec, state| MonitorCore::restore("m", quantile.clone(), spec, MonitorSettings::default(), state);
    assert!(restore(spec, state.clone()).is_ok());
    assert!(matches!(restore(WindowSpec::tumbling_time(500, 0), state.clone()), Err(MonitorError::Checkpoint { .. })));
    let mut json = serde_json::to_value(&state).unwrap();
    json["streams"]["inputs"]["windows"]["open"][0]["state"]["features"][0]["numeric"]["bins"] = serde_json::json!([1]);
    let tampered: MonitorState = serde_json::from_value(json).unwrap();
    assert!(matches!(restore(spec, tampered), Err(MonitorError::Checkpoint { .. })));
    let mut other = state;
    other.streams.insert(Stream::Predictions, other.streams[&Stream::Inputs].clone());
    assert!(matches!(restore(spec, other), Err(MonitorError::Checkpoint { .. })));
}

/// A checkpoint written by the previous release (state version 3: one clock per stream, no
/// per-partition clocks) is migrated: same observations as an uninterrupted run.
#[test]
fn a_version_3_checkpoint_is_migrated_and_continues_exactly() {
    let p = profile(vec![numeric("x", reference_values(100), &Binning::default())], vec![]);
    let spec = WindowSpec::tumbling_time(1000, 100);
    let records: Vec<Record> = (0..60)
        .map(|i| record(Stream::Inputs, i * 97 % 5000, vec![Value::Number((i % 13) as f64)], i as u64))
        .collect();
    let run = |cut: Option<usize>| {
        let mut core = MonitorCore::new("m", p.clone(), spec, MonitorSettings::default()).unwrap();
        let mut out = Vec::new();
        for (i, r) in records.iter().enumerate() {
            if Some(i) == cut {
                let mut json = serde_json::to_value(core.checkpoint()).unwrap();
                json["version"] = 3.into();
                for stream in json["streams"].as_object_mut().unwrap().values_mut() {
                    assert!(stream["windows"].as_object_mut().unwrap().remove("partitions").is_some());
                }
                let state: MonitorState = serde_json::from_value(json).unwrap();
                core = MonitorCore::restore("m", p.clone(), spec, MonitorSettings::default(), state).unwrap();
                assert_eq!(core.checkpoint().version, STATE_VERSION);
            }
            out.push(format!("{:?}", core.on_record(r)));
            out.extend(core.on_watermark().iter().map(|o| serde_json::to_string(o).unwrap()));
        }
        out.extend(core.flush().iter().map(|o| serde_json::to_string(o).unwrap()));
        out
    };
    assert_eq!(run(Some(30)), run(None));
}

/// A predictions core with its labels joined: the join's state travels in the core's
/// checkpoint; a checkpoint taken with a join is refused by a core without one, and the other
/// way round (the predictions it took never reached a join).
#[test]
fn the_label_join_is_checkpointed_with_the_predictions_core() {
    use crate::labels::{JoinSettings, LabelJoin};
    let spec = WindowSpec::tumbling_time(10_000, 1_000);
    let p = profile(vec![], vec![numeric("score", reference_values(50), &Binning::default())]);
    let joined = || {
        let join = LabelJoin::new("m", "score", spec, JoinSettings::default());
        MonitorCore::new("m", p.clone(), spec, MonitorSettings::default()).unwrap().with_join(join)
    };
    let plain = || MonitorCore::new("m", p.clone(), spec, MonitorSettings::default()).unwrap();
    let mut core = joined();
    let mut prediction = record(Stream::Predictions, 1_000, vec![Value::Number(0.8)], 1);
    prediction.key = Some("k".into());
    core.on_record(&prediction);
    let state = core.checkpoint();
    assert_eq!(state.join.as_ref().map(|j| j.predictions.len()), Some(1));
    let json: MonitorState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    let restored = joined().resume(spec, json).unwrap();
    assert_eq!(restored.join().map(|j| j.pending()), Some((1, 0, 0)));
    assert!(matches!(plain().resume(spec, state), Err(MonitorError::Checkpoint { .. })));
    assert!(matches!(joined().resume(spec, plain().checkpoint()), Err(MonitorError::Checkpoint { .. })));
}
