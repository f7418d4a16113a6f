//! # driftd
//!
//! Data-drift monitoring for deployed ML models: the statistics engine, dataset input, the
//! offline `compare` command, and the pure building blocks of the streaming daemon (config,
//! references, decoding, windows, monitors), driven by the synchronous `replay` command and by
//! the asynchronous daemon `run` (file sources, HTTP, metrics, checkpoints in redb). Kafka,
//! rules and actions arrive next.
//!
//! Layout:
//! - [`stats`]: the numeric library — PSI, KS, chi-square, Jensen–Shannon, Hellinger,
//!   Wasserstein — bit-compatible with scipy / numpy / Evidently; no I/O, no runtime.
//! - [`dataset`]: CSV, Parquet, Arrow IPC and JSON Lines files → per-column samples.
//! - [`compare`]: `driftd compare` — load, reconcile columns, compute, judge, report
//!   (text, JSON `driftd.compare/v1`, HTML).
//! - [`config`]: the daemon's YAML configuration, validated with every problem reported at once.
//! - [`reference`]: reference profiles — fit from a dataset, versioned file format.
//! - [`record`]: the event type passed between the daemon's stages.
//! - [`source`]: message decoding (JSON → [`record::Record`]) and the file source.
//! - [`window`]: tumbling / sliding windows by event time or count, watermark, lateness.
//! - [`monitor`]: per-window accumulators and the observations of closed windows.
//! - [`replay`]: `driftd replay` — config → references → file sources → monitors → report.
//! - [`rules`]: alert rules and actions (`rules/*.yaml`, validated like the config), the
//!   alert lifecycle engine (closed window → transitions, grouped notifications) and
//!   `driftd test-rules`; no delivery.
//! - [`actions`]: delivery of the rules' notifications — a durable outbox in the daemon's
//!   redb database and a dispatcher (webhook, email, Kafka, command, log, file) with retries,
//!   backoff, idempotency keys and signed webhooks.
//! - [`app`]: `driftd run` — the async daemon (file sources), its tasks and ordered shutdown;
//!   [`api`]: its HTTP server (`/metrics`, `/healthz`, `/readyz`, `/api/v1`); `app::store`:
//!   its checkpoints (redb) and the exactly-once `--observations` file.
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
//!
//! Data flow of `replay` (and, next, of the daemon with Kafka sources):
//! ```text
//! file source ─► source::Decoder ─► Record ─► monitor::MonitorCore ─► window closes
//!                (bad input counted)          (window::Windows,        │
//!                                              typed accumulators)      ▼
//!                reference::load / fit ─────────────────────────► Observation per
//!                                                               (stream, feature, statistic)
//! ```
pub mod actions;
pub mod api;
pub mod app;
pub mod cli;
pub mod compare;
pub mod config;
pub mod dataset;
pub mod monitor;
pub mod parallel;
pub mod record;
pub mod reference;
pub mod replay;
pub mod rules;
pub mod source;
pub mod stats;
pub mod window;
