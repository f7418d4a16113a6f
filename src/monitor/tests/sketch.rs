//! Windows past `ks_sample_cap`: KS and Wasserstein from the KLL sketch, within the reported
//! bound; memory bounded (counted in retained items, nothing timed); checkpoints restored
//! mid-window in sketch mode give identical observations.

use super::{numeric, profile, record, value_of};
use crate::monitor::*;
use crate::record::Value;
use crate::stats::binning::Binning;
use crate::stats::ks::ks_statistic_sorted;
use crate::stats::profile::{sort_floats, NumericReference};

/// Deterministic normal deviates (SplitMix64 + Box–Muller).
struct Normals(u64);

impl Iterator for Normals {
    type Item = f64;
    fn next(&mut self) -> Option<f64> {
        let mut uniform = || {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let (u, v) = (1.0 - uniform(), uniform());
        Some((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos())
    }
}

fn numeric_accumulator(core: &MonitorCore) -> NumericAccumulator {
    let state = core.checkpoint();
    let window = state.streams[&Stream::Inputs].windows.open().next().expect("an open window");
    match &window.state.features[0] {
        FeatureAccumulator::Numeric(acc) => acc.clone(),
        FeatureAccumulator::Categorical(_) => unreachable!(),
    }
}

#[test]
fn a_million_value_window_keeps_a_bounded_sketch_and_ks_within_its_bound() {
    let reference: Vec<f64> = Normals(1).take(20_000).collect();
    let p = profile(vec![numeric("x", reference.clone(), &Binning::default())], vec![]);
    let n = 1_000_000u64;
    let settings = MonitorSettings { ks_sample_cap: 10_000, ..MonitorSettings::default() };
    let mut core = MonitorCore::new("m", p, WindowSpec::tumbling_count(n + 1), settings).unwrap();
    let mut current = Vec::with_capacity(n as usize);
    let mut peak = 0;
    for (i, v) in Normals(2).take(n as usize).map(|v| v + 0.05).enumerate() {
        current.push(v);
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(v)], i as u64));
        if i % 50_000 == 49_999 {
            let acc = numeric_accumulator(&core);
            assert!(acc.values.is_empty() && acc.values.capacity() == 0, "stored values freed past the cap");
            let sketch = acc.sketch.expect("sketch mode past the cap");
            assert_eq!(sketch.n(), i as u64 + 1);
            peak = peak.max(sketch.retained());
        }
    }
    assert!(peak < 800, "retained items {peak}");
    let observations = core.flush();
    let detail = &observations[0].detail;
    assert!(detail.sample_capped);
    assert_eq!(detail.ks_source, Some(KsSource::Sketch));
    let eps = detail.ks_error_bound.unwrap();
    assert!(eps > 0.016 && eps < 0.017, "{eps}");
    assert_eq!(observations[0].n, n);
    sort_floats(&mut current);
    let reference = NumericReference::fit(reference, &Binning::default());
    let exact = ks_statistic_sorted(&reference.sorted, &current);
    let d = value_of(&observations, "x", Stat::KsStatistic);
    assert!((d - exact).abs() <= eps, "D {d} exact {exact} ± {eps}");
    let p_value = value_of(&observations, "x", Stat::KsPValue);
    assert!((0.0..=1.0).contains(&p_value));
    assert!(value_of(&observations, "x", Stat::Wasserstein) > 0.0);
    // PSI stays exact: from the bin counts, kept for every value.
    assert!(value_of(&observations, "x", Stat::Psi).is_finite());
}

#[test]
fn a_checkpoint_mid_window_in_sketch_mode_changes_no_observation() {
    let reference: Vec<f64> = Normals(3).take(5_000).collect();
    let p = profile(vec![numeric("x", reference, &Binning::default())], vec![]);
    let settings = MonitorSettings { ks_sample_cap: 1_000, ..MonitorSettings::default() };
    let spec = WindowSpec::tumbling_count(60_000);
    let values: Vec<f64> = Normals(4).take(120_000).map(|v| v * 1.1).collect();
    let run = |cut: Option<usize>| -> Vec<String> {
        let mut core = MonitorCore::new("m", p.clone(), spec, settings.clone()).unwrap();
        let mut out = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if Some(i) == cut {
                let json = serde_json::to_string(&core.checkpoint()).unwrap();
                let state: MonitorState = serde_json::from_str(&json).unwrap();
                core = MonitorCore::restore("m", p.clone(), spec, settings.clone(), state).unwrap();
            }
            core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(v)], i as u64));
            out.extend(core.on_watermark());
        }
        out.extend(core.flush());
        assert!(out.iter().all(|o| o.detail.ks_source == Some(KsSource::Sketch)));
        out.iter().map(|o| serde_json::to_string(o).unwrap()).collect()
    };
    let straight = run(None);
    assert_eq!(straight.len(), 2 * 7);
    // Below the cap, just past it, and deep into sketch mode of the second window.
    for cut in [500, 1_001, 37_777, 100_003] {
        assert_eq!(run(Some(cut)), straight, "cut at {cut}");
    }
}

#[test]
fn a_sketch_checkpoint_that_does_not_add_up_is_refused() {
    let p = profile(vec![numeric("x", Normals(5).take(100).collect(), &Binning::default())], vec![]);
    let settings = MonitorSettings { ks_sample_cap: 10, ..MonitorSettings::default() };
    let spec = WindowSpec::tumbling_count(1_000);
    let mut core = MonitorCore::new("m", p.clone(), spec, settings.clone()).unwrap();
    for (i, v) in Normals(6).take(500).enumerate() {
        core.on_record(&record(Stream::Inputs, 0, vec![Value::Number(v)], i as u64));
    }
    let state = core.checkpoint();
    let restore = |state| MonitorCore::restore("m", p.clone(), spec, settings.clone(), state);
    assert!(restore(state.clone()).is_ok());
    let mut json = serde_json::to_value(&state).unwrap();
    json["streams"]["inputs"]["windows"]["open"][0]["state"]["features"][0]["numeric"]["n"] = serde_json::json!(501);
    let tampered: MonitorState = serde_json::from_value(json).unwrap();
    assert!(matches!(restore(tampered), Err(MonitorError::Checkpoint { .. })));
    let mut json = serde_json::to_value(&state).unwrap();
    json["streams"]["inputs"]["windows"]["open"][0]["state"]["features"][0]["numeric"]["values"] =
        serde_json::json!([1.0]);
    let tampered: MonitorState = serde_json::from_value(json).unwrap();
    assert!(matches!(restore(tampered), Err(MonitorError::Checkpoint { .. })));
}
