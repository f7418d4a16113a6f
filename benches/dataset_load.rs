//! Timing of `dataset::load` on the benchmark files, per format and thread count:
//! `cargo bench --bench dataset_load`. `bench-data/` is generated, not committed: the Parquet
//! files by `benches/compare/run.sh`, the other formats from the reference with pyarrow 26 /
//! pandas 2.3:
//! ```text
//! import pyarrow.parquet as pq, pyarrow.feather as feather
//! t = pq.read_table("bench-data/reference.parquet")
//! feather.write_feather(t, "bench-data/ref_1m.feather")            # LZ4, Feather v2
//! s = t.slice(0, 200_000).to_pandas()
//! s.to_csv("bench-data/ref_200k.csv", index=False)
//! s.to_json("bench-data/ref_200k.jsonl", orient="records", lines=True)
//! ```

use std::path::Path;
use std::time::Instant;

use driftd::dataset::{load, ColumnData, LoadOptions};

fn main() {
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
        let cpu_before = process_cpu_ms();
        for _ in 0..5 {
            let start = Instant::now();
            dataset = Some(load(&path, &options).expect("benchmark file loads"));
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let cpu = process_cpu_ms().zip(cpu_before).map(|(after, before)| (after - before) / 5.0);
        times.sort_by(f64::total_cmp);
        let dataset = dataset.expect("loaded");
        let numeric = dataset.columns.iter().filter(|c| matches!(c.data, ColumnData::Numeric(_))).count();
        eprintln!(
            "{name}: {} rows x {} columns ({numeric} numeric), {threads} thread(s): \
             min {:.1} ms, median {:.1} ms (5 runs), CPU {:.0} ms per load",
            dataset.rows,
            dataset.columns.len(),
            times[0],
            times[2],
            cpu.unwrap_or(f64::NAN)
        );
    }
}

/// User + system CPU time of this process (all threads) from `/proc/self/stat`, in ms;
/// wall times on a shared machine say little, CPU time says how much work a load is.
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 Hz on Linux (USER_HZ).
    Some((utime + stime) * 10.0)
}
