//! # driftd
//!
//! Data-drift monitoring for deployed ML models: the statistics engine ([`stats`], bit-compatible
//! with scipy / numpy / Evidently, no I/O), dataset input and the offline `compare` command, and
//! the streaming daemon — pure foundations ([`config`], [`mod@reference`], [`source`], [`window`],
//! [`monitor`], [`rules`]) driven synchronously by `replay` and asynchronously by `run` ([`app`]:
//! Kafka and file sources, checkpoints in redb, alerting, [`actions`], the HTTP [`api`]). The data
//! flows of `compare` and `run`, and one line per module: ARCHITECTURE.md; user docs: README.md.
pub mod actions;
pub mod api;
pub mod app;
pub mod atomic_file;
pub mod build;
pub mod cli;
pub mod compare;
pub mod config;
pub mod dataset;
pub mod glob;
pub mod history;
pub mod http_client;
pub mod labels;
pub mod monitor;
pub mod notification;
pub mod parallel;
pub mod pipeline;
pub mod profile;
pub mod record;
pub mod reference;
pub mod replay;
pub mod rules;
pub mod silence;
pub mod source;
pub mod stats;
pub mod store;
pub mod tls;
pub mod typing;
pub mod window;
