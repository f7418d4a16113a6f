//! The label join's cost (src/labels/): `cargo bench --bench label_join`. In one run:
//! 1. throughput: 1,000,000 keyed predictions (100 per second of event time, hourly windows)
//!    and their labels (97 %, 0–6 h later, in label-time order) through `LabelJoin`, advanced
//!    every 1,024 records as the daemon does, against a baseline in the same run — the bare
//!    minimum of a join (a `HashMap<String, (i64, f64)>` insert per prediction, a remove and a
//!    `Vec` push per label) — so the ratio holds on any CPU;
//! 2. memory: resident set growth with 1,000,000 predictions waiting (no label yet), and the
//!    size of their checkpoint (JSON).
//!
//! Prints one line per figure; best of 3 rounds for the times.

use std::collections::HashMap;
use std::time::Instant;

use driftd::labels::{JoinSettings, LabelJoin};
use driftd::record::{Position, Record, Stream, Value};
use driftd::window::WindowSpec;

const N: usize = 1_000_000;
const ROUNDS: usize = 3;

fn record(stream: Stream, t: i64, key: String, value: f64, line: u64) -> Record {
    Record {
        monitor: 0,
        stream,
        event_time_ms: t,
        values: vec![Value::Number(value)],
        position: Position::File { line },
        key: Some(key.into_boxed_str()),
    }
}

/// A deterministic stream of numbers in [0, 1) (no dependency for a benchmark's data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Predictions in time order, then labels merged in by label time (as they would arrive).
fn events() -> Vec<Record> {
    let mut rng = Lcg(7);
    let mut predictions = Vec::with_capacity(N);
    let mut labels = Vec::with_capacity(N);
    for i in 0..N {
        let t = 1_793_491_200_000 + (i as i64) * 10;
        let score = rng.next();
        predictions.push(record(Stream::Predictions, t, format!("req-{i:07}"), score, i as u64));
        if rng.next() < 0.97 {
            let delay = (rng.next() * 6.0 * 3_600_000.0) as i64;
            let y = f64::from(u8::from(rng.next() < score));
            labels.push(record(Stream::Labels, t + delay, format!("req-{i:07}"), y, i as u64));
        }
    }
    labels.sort_by_key(|r| r.event_time_ms);
    let mut out = Vec::with_capacity(predictions.len() + labels.len());
    let (mut p, mut l) = (predictions.into_iter().peekable(), labels.into_iter().peekable());
    loop {
        match (p.peek(), l.peek()) {
            (Some(a), Some(b)) if a.event_time_ms <= b.event_time_ms => out.extend(p.next()),
            (Some(_), Some(_)) | (None, Some(_)) => out.extend(l.next()),
            (Some(_), None) => out.extend(p.next()),
            (None, None) => break,
        }
    }
    out
}

fn settings() -> JoinSettings {
    JoinSettings { retention_ms: 2 * 24 * 3_600_000, max_pending: 2 * N, ..JoinSettings::default() }
}

fn spec() -> WindowSpec {
    WindowSpec::tumbling_time(3_600_000, 60_000)
}

fn join_run(events: &[Record]) -> (f64, usize) {
    let start = Instant::now();
    let mut join = LabelJoin::new("bench", "score", spec(), settings());
    let mut published = 0;
    for (i, e) in events.iter().enumerate() {
        if e.stream == Stream::Labels {
            join.on_label(e);
        } else {
            join.on_prediction(e);
        }
        if i % 1024 == 1023 {
            published += join.advance().len();
        }
    }
    published += join.flush_predictions().len() + join.flush_labels().len();
    (start.elapsed().as_secs_f64(), published)
}

fn baseline_run(events: &[Record]) -> (f64, usize) {
    let start = Instant::now();
    let mut pending: HashMap<String, (i64, f64)> = HashMap::new();
    let mut pairs: Vec<(i64, f64, f64)> = Vec::new();
    for e in events {
        let key = e.key.as_deref().unwrap_or_default();
        let Value::Number(v) = e.values[0] else { continue };
        if e.stream == Stream::Labels {
            if let Some((t, p)) = pending.remove(key) {
                pairs.push((t, p, v));
            }
        } else {
            pending.insert(key.to_string(), (e.event_time_ms, v));
        }
    }
    (start.elapsed().as_secs_f64(), pairs.len())
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() {
    let events = events();
    let total = events.len();
    let best = |f: &dyn Fn(&[Record]) -> (f64, usize)| {
        (0..ROUNDS).map(|_| f(&events)).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap()
    };
    let (join_s, published) = best(&join_run);
    let (base_s, joined) = best(&baseline_run);
    println!("records: {total} ({N} predictions, {} labels)", total - N);
    println!(
        "label join:    {:.3} s, {:.0} records/s ({published} observations published)",
        join_s,
        total as f64 / join_s
    );
    println!("bare hash join: {:.3} s, {:.0} records/s ({joined} pairs)", base_s, total as f64 / base_s);
    println!("ratio (label join / bare): {:.2}x the time", join_s / base_s);

    // Memory: N predictions waiting.
    let predictions: Vec<&Record> = events.iter().filter(|e| e.stream == Stream::Predictions).collect();
    let before = rss_bytes();
    let mut join = LabelJoin::new("bench", "score", spec(), settings());
    for p in &predictions {
        join.on_prediction(p);
    }
    let _ = join.advance();
    let after = rss_bytes();
    let checkpoint = serde_json::to_vec(&join.checkpoint()).unwrap().len();
    println!(
        "memory: {:.0} MB resident for {} waiting predictions ({:.0} bytes each); checkpoint {:.0} MB (JSON)",
        (after.saturating_sub(before)) as f64 / 1e6,
        join.pending().0,
        (after.saturating_sub(before)) as f64 / join.pending().0.max(1) as f64,
        checkpoint as f64 / 1e6
    );
}
