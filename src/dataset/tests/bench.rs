//! Timing of `load` on the benchmark files (ignored: run in release with
//! `cargo test --release --lib dataset::tests::bench -- --ignored --nocapture`).

use std::path::Path;
use std::time::Instant;

use crate::dataset::{load, ColumnData, LoadOptions};

#[test]
#[ignore = "needs bench-data/ (generated, not committed); a timing, not a test"]
fn load_benchmark_parquet() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    for name in ["reference.parquet", "current.parquet"] {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("skipping {}: not generated", path.display());
            continue;
        }
        for threads in [1, 2] {
            let options = LoadOptions { threads, ..LoadOptions::default() };
            let mut times = Vec::new();
            let mut dataset = None;
            for _ in 0..5 {
                let start = Instant::now();
                dataset = Some(load(&path, &options).expect("benchmark file loads"));
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            let dataset = dataset.expect("loaded");
            let numeric = dataset.columns.iter().filter(|c| matches!(c.data, ColumnData::Numeric(_))).count();
            eprintln!(
                "{name}: {} rows x {} columns ({numeric} numeric), {threads} thread(s): \
                 min {:.1} ms, median {:.1} ms (5 runs)",
                dataset.rows,
                dataset.columns.len(),
                times[0],
                times[2]
            );
            assert_eq!(dataset.columns.len(), 20);
        }
    }
}

#[test]
#[ignore = "temporary cross-check"]
fn dump_summary() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-data/reference.parquet");
    let d = load(&path, &LoadOptions::default()).unwrap();
    let mut out = serde_json::Map::new();
    for c in &d.columns {
        let v = match &c.data {
            ColumnData::Numeric(n) => {
                serde_json::json!({"n": n.values.len(), "missing": n.missing, "nonfinite": n.nonfinite, "sum": n.values.iter().sum::<f64>(), "first": n.values.first(), "last": n.values.last()})
            }
            ColumnData::Categorical(c) => serde_json::json!({"counts": c.counts, "missing": c.missing}),
        };
        out.insert(c.name.clone(), v);
    }
    std::fs::write("/tmp/driftd_summary.json", serde_json::Value::Object(out).to_string()).unwrap();
}
