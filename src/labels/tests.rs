//! Timeline tests of the join: event times and arrival order chosen by hand, invariants and
//! exact counts asserted. The metrics themselves are `stats::performance`'s (checked against
//! scikit-learn there and, through `driftd replay`, in tests/labels_replay.rs).

use super::*;
use crate::record::{Position, Stream};

const H: i64 = 3_600_000;

fn spec() -> WindowSpec {
    WindowSpec::tumbling_time(H as u64, 60_000)
}

fn settings() -> JoinSettings {
    JoinSettings { retention_ms: 2 * H, max_pending: 1000, ..JoinSettings::default() }
}

fn record(stream: Stream, t: i64, key: Option<&str>, value: Value, line: u64) -> Record {
    Record {
        monitor: 0,
        stream,
        event_time_ms: t,
        values: vec![value],
        position: Position::File { line },
        key: key.map(Into::into),
    }
}

fn prediction(t: i64, key: &str, score: f64) -> Record {
    record(Stream::Predictions, t, Some(key), Value::Number(score), 0)
}

fn label(t: i64, key: &str, y: u8) -> Record {
    record(Stream::Labels, t, Some(key), Value::Number(f64::from(y)), 0)
}

/// Every usable prediction and label ends in exactly one place.
fn assert_accounted(join: &LabelJoin) {
    let c = join.counters();
    let (p, l, _) = join.pending();
    assert_eq!(
        c.predictions,
        c.late_predictions + c.duplicate_predictions + c.joined + c.unlabelled + c.evicted_predictions + p as u64,
        "{c:?}"
    );
    assert_eq!(
        c.labels,
        c.duplicate_labels
            + c.joined
            + c.labels_after_retention
            + c.labels_before_prediction
            + c.unmatched_labels
            + c.evicted_labels
            + l as u64,
        "{c:?}"
    );
}

fn finals(observations: &[Observation]) -> Vec<(i64, Stat, f64)> {
    observations
        .iter()
        .filter(|o| o.detail.performance.as_ref().is_some_and(|d| d.final_))
        .map(|o| (o.window.start_ms, o.stat, o.value))
        .collect()
}

use crate::monitor::Stat;

#[test]
fn labels_days_late_and_out_of_order_join_the_predictions_window() {
    let mut join = LabelJoin::new("m", "score", spec(), settings());
    let mut out = Vec::new();
    // Two predictions in the first hour, one in the second; labels arrive later, in reverse.
    join.on_prediction(&prediction(10, "a", 0.9));
    join.on_prediction(&prediction(20, "b", 0.2));
    join.on_prediction(&prediction(H + 5, "c", 0.7));
    out.extend(join.advance());
    join.on_label(&label(H + 100, "c", 1));
    join.on_label(&label(H + 200, "b", 0));
    join.on_label(&label(H + 300, "a", 1));
    out.extend(join.advance());
    assert!(finals(&out).is_empty(), "nothing is final before the retention passes on the labels' clock");
    out.extend(join.flush_predictions());
    out.extend(join.flush_labels());
    let f = finals(&out);
    let accuracy: Vec<(i64, f64)> =
        f.iter().filter(|(_, s, _)| *s == Stat::Accuracy).map(|(w, _, v)| (*w, *v)).collect();
    assert_eq!(accuracy, [(0, 1.0), (H, 1.0)]);
    let share: Vec<f64> = f.iter().filter(|(_, s, _)| *s == Stat::LabelledShare).map(|(_, _, v)| *v).collect();
    assert_eq!(share, [1.0, 1.0]);
    assert_eq!(join.counters().joined, 3);
    assert_eq!(join.counters().join_lag_ms_max, H + 290);
    assert_accounted(&join);
}

#[test]
fn a_label_before_its_prediction_waits_for_it() {
    let mut join = LabelJoin::new("m", "score", spec(), settings());
    join.on_label(&label(500, "a", 1));
    assert_eq!(join.pending(), (0, 1, 0));
    join.on_prediction(&prediction(400, "a", 0.8));
    assert_eq!(join.pending(), (0, 0, 1));
    assert_eq!(join.counters().joined, 1);
    assert_accounted(&join);
}

#[test]
fn duplicates_unknown_keys_after_retention_and_missing_labels_are_counted_never_joined_twice() {
    let mut join = LabelJoin::new("m", "score", spec(), settings());
    join.on_prediction(&prediction(0, "a", 0.9));
    join.on_prediction(&prediction(0, "a", 0.1)); // duplicate prediction: the first wins
    join.on_prediction(&prediction(0, "late-label", 0.5));
    join.on_label(&label(10, "a", 1));
    join.on_label(&label(20, "a", 0)); // duplicate label
    join.on_label(&label(30, "nobody", 1)); // unknown key: waits, then unmatched
    join.on_label(&label(3 * H, "late-label", 1)); // later than t + retention
    join.on_label(&record(Stream::Labels, 40, Some("x"), Value::Missing, 0));
    join.on_label(&record(Stream::Labels, 40, Some("y"), Value::Text("maybe".into()), 0));
    join.on_label(&record(Stream::Labels, 40, None, Value::Number(1.0), 0));
    let c = join.counters().clone();
    assert_eq!((c.joined, c.duplicate_predictions, c.duplicate_labels, c.labels_after_retention), (1, 1, 1, 1));
    assert_eq!((c.labels_missing, c.labels_invalid, c.labels_without_key), (1, 1, 1));
    let out = [join.flush_predictions(), join.flush_labels()].concat();
    let c = join.counters();
    assert_eq!((c.unmatched_labels, c.unlabelled), (1, 1));
    let n: Vec<u64> = out.iter().filter(|o| o.stat == Stat::Accuracy).map(|o| o.n).collect();
    assert_eq!(n, [1], "one pair: the duplicate label did not count");
    assert_accounted(&join);
}

#[test]
fn the_buffer_is_bounded_and_evictions_are_counted() {
    let mut join = LabelJoin::new("m", "score", spec(), JoinSettings { max_pending: 10, ..settings() });
    for i in 0..100 {
        join.on_prediction(&prediction(i, &format!("k{i}"), 0.5));
        let (p, l, k) = join.pending();
        assert!(p + l + k <= 10);
    }
    assert_eq!(join.counters().evicted_predictions, 90);
    // The oldest were evicted: the newest still joins.
    join.on_label(&label(200, "k99", 1));
    join.on_label(&label(200, "k0", 1));
    assert_eq!(join.counters().joined, 1);
    assert_accounted(&join);
}

#[test]
fn versions_are_published_at_the_shares_then_final_and_the_rules_see_one() {
    let s = JoinSettings { publish_at: vec![0.5], rules_at: RulesAt::Share(0.5), ..settings() };
    let mut join = LabelJoin::new("m", "score", spec(), s);
    for i in 0..4 {
        join.on_prediction(&prediction(i * 10, &format!("k{i}"), 0.9));
    }
    join.on_prediction(&prediction(H + 120_000, "next", 0.1)); // closes the first window
    let mut out = join.advance();
    assert!(out.is_empty(), "closed, but no share reached");
    join.on_label(&label(100, "k0", 1));
    out.extend(join.advance());
    assert!(out.is_empty(), "1 of 4 labelled");
    join.on_label(&label(100, "k1", 0));
    let v1 = join.advance();
    let d = v1[0].detail.performance.clone().unwrap();
    assert_eq!((d.version, d.final_, d.for_rules, d.labelled, d.predictions), (1, false, true, 2, 4));
    join.on_label(&label(100, "k2", 1));
    assert!(join.advance().is_empty(), "no new share reached");
    let end = join.flush_labels();
    let d = end.iter().find(|o| o.window.start_ms == 0).unwrap().detail.performance.clone().unwrap();
    assert_eq!((d.version, d.final_, d.for_rules, d.labelled), (2, true, false, 3));
}

#[test]
fn a_restored_checkpoint_gives_the_same_observations_as_an_uninterrupted_run() {
    // Interleaved predictions and labels over 6 hours, cut at every point.
    let mut events: Vec<Record> = Vec::new();
    for i in 0..60i64 {
        let t = i * H / 10;
        events.push(prediction(t, &format!("k{i}"), (i % 7) as f64 / 7.0));
        if i >= 5 {
            let j = i - 5;
            events.push(label(j * H / 10 + H / 2, &format!("k{j}"), u8::from(j % 3 == 0)));
        }
    }
    let feed = |join: &mut LabelJoin, e: &Record| {
        if e.stream == Stream::Labels {
            join.on_label(e);
        } else {
            join.on_prediction(e);
        }
        join.advance()
    };
    let s = JoinSettings { publish_at: vec![0.3, 0.9], ..settings() };
    let mut whole = LabelJoin::new("m", "score", spec(), s.clone());
    let mut expected: Vec<Observation> = events.iter().flat_map(|e| feed(&mut whole, e)).collect();
    expected.extend(whole.flush_predictions());
    expected.extend(whole.flush_labels());
    assert!(expected.len() > 20);
    for cut in [1, 17, 40, 77, events.len() - 1] {
        let mut first = LabelJoin::new("m", "score", spec(), s.clone());
        let mut got: Vec<Observation> = events[..cut].iter().flat_map(|e| feed(&mut first, e)).collect();
        let state: JoinState = serde_json::from_str(&serde_json::to_string(&first.checkpoint()).unwrap()).unwrap();
        let mut second = LabelJoin::restore("m", "score", spec(), s.clone(), state).unwrap();
        got.extend(events[cut..].iter().flat_map(|e| feed(&mut second, e)));
        got.extend(second.flush_predictions());
        got.extend(second.flush_labels());
        assert_eq!(format!("{got:?}"), format!("{expected:?}"), "cut at {cut}");
        assert_eq!(second.counters(), whole.counters());
    }
}

#[test]
fn the_metrics_do_not_depend_on_the_order_labels_arrive_in() {
    let run = |order: &[usize]| {
        let mut join = LabelJoin::new("m", "score", spec(), settings());
        let scores = [0.1, 0.4, 0.35, 0.8, 0.65, 0.2];
        for (i, s) in scores.iter().enumerate() {
            join.on_prediction(&prediction(i as i64, &format!("k{i}"), *s));
        }
        for &i in order {
            join.on_label(&label(1000, &format!("k{i}"), u8::from(i % 2 == 1)));
        }
        let out = [join.flush_predictions(), join.flush_labels()].concat();
        finals(&out).into_iter().map(|(_, s, v)| (s, v.to_bits())).collect::<Vec<_>>()
    };
    assert_eq!(run(&[0, 1, 2, 3, 4, 5]), run(&[5, 3, 1, 0, 4, 2]));
}
