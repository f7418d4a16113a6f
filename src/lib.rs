//! # driftd
//!
//! Data-drift monitoring for deployed ML models: the statistics engine, dataset input, the
//! offline `compare` command, and the pure building blocks of the streaming daemon (config,
//! references, decoding, windows, monitors), driven by the synchronous `replay` command and by
//! the asynchronous daemon `run` (file and Kafka sources, HTTP, metrics, checkpoints in redb,
//! alert rules).
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
//! - [`source`]: message decoding (JSON → [`record::Record`]), the file source and the Kafka
//!   consumer (positioned from checkpoints, offsets committed after them).
//! - [`window`]: tumbling / sliding windows by event time or count, watermark, lateness.
//! - [`monitor`]: per-window accumulators and the observations of closed windows.
//! - [`replay`]: `driftd replay` — config → references → file sources → monitors → report.
//! - [`rules`]: alert rules and actions (`rules/*.yaml`, validated like the config), the
//!   alert lifecycle engine (closed window → transitions, grouped notifications) and
//!   `driftd test-rules`.
//! - [`actions`]: delivery of the rules' notifications — a durable outbox in the daemon's
//!   redb database and a dispatcher (webhook, email, Kafka, command, log, file) with retries,
//!   backoff, idempotency keys and signed webhooks.
//! - [`app`]: `driftd run` — the async daemon (file and Kafka readers, a task per monitor,
//!   alerting), its ordered shutdown and SIGHUP reload; [`api`]: its HTTP server (`/metrics`,
//!   `/healthz`, `/readyz`, `/api/v1`); `app::store`: its checkpoints (redb), the rules
//!   engine's state, the notification outbox and the exactly-once `--observations` file.
//! - [`history`]: `driftd history` — a running daemon's drift history on the command line;
//!   [`silence`]: silences (stored matchers and periods; alerts tracked, not notified);
//!   [`http_client`]: the command line's minimal client of the daemon's API.
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
//! Data flow of `replay` and of the daemon (`run`: also Kafka sources, then rules → actions):
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
pub mod build;
pub mod cli;
pub mod compare;
pub mod config;
pub mod dataset;
pub mod history;
pub mod http_client;
pub mod monitor;
pub mod parallel;
pub mod record;
pub mod reference;
pub mod replay;
pub mod rules;
pub mod silence;
pub mod source;
pub mod stats;
pub mod typing;
pub mod window;
