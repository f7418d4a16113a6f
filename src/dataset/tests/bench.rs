//! Timing of `load` on the benchmark files (ignored: run in release with
//! `cargo test --release --lib dataset::tests::bench -- --ignored --nocapture`).
//! `bench-data/` is generated, not committed: the Parquet files by the benchmark script,
//! the others (CSV / JSON Lines / Feather copies of the reference) by hand with pandas.

use std::path::Path;
use std::time::Instant;

use crate::dataset::{load, ColumnData, LoadOptions};

#[test]
#[ignore = "needs bench-data/ (generated, not committed); a timing, not a test"]
fn load_benchmark_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    let files = [
        ("reference.parquet", 1),
        ("reference.parquet", 2),
        ("current.parquet", 1),
        ("current.parquet", 2),
        ("ref_1m.feather", 1),
        ("ref_200k.csv", 1),
        ("ref_200k.jsonl", 1),
    ];
    for (name, threads) in files {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("skipping {}: not generated", path.display());
            continue;
        }
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
