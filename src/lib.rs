//! # driftd
//!
//! Data-drift monitoring for deployed ML models: the statistics engine, dataset input and the
//! offline `compare` command (the daemon, rules and actions arrive with the next milestones).
//!
//! Layout:
//! - [`stats`]: the numeric library — PSI, KS, chi-square, Jensen–Shannon, Hellinger,
//!   Wasserstein — bit-compatible with scipy / numpy / Evidently; no I/O, no runtime.
//! - [`dataset`]: CSV, Parquet, Arrow IPC and JSON Lines files → per-column samples.
//! - [`compare`]: `driftd compare` — load, reconcile columns, compute, judge, report
//!   (text, JSON `driftd.compare/v1`, HTML).
//! - [`cli`]: the command line.
//!
//! Data flow of `compare`:
//! ```text
//! reference file ─┐                    ┌─► stats::profile (fit: sort, std, frozen edges)
//!                 ├─► dataset::load ───┤                         │
//! current file ───┘   (2 threads)      └─► current sample ──► compare_numeric / _categorical
//!                                                                 │ verdict::Thresholds
//!                                                                 ▼
//!                                          compare::report ──► text | JSON | HTML
//! ```
pub mod cli;
pub mod compare;
pub mod config;
pub mod dataset;
pub mod monitor;
pub mod record;
pub mod reference;
pub mod source;
pub mod stats;
pub mod window;
