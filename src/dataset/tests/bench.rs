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
            let start = Instant::now();
            let dataset = load(&path, &options).expect("benchmark file loads");
            let elapsed = start.elapsed();
            let numeric = dataset
                .columns
                .iter()
                .filter(|c| matches!(c.data, ColumnData::Numeric(_)))
                .count();
            eprintln!(
                "{name}: {} rows x {} columns ({numeric} numeric), {threads} thread(s): {:.1} ms",
                dataset.rows,
                dataset.columns.len(),
                elapsed.as_secs_f64() * 1e3
            );
            assert_eq!(dataset.columns.len(), 20);
        }
    }
}
