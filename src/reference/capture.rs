//! A reference captured from a stream (`reference: {capture: {events: N}}`): the stream's
//! first N items, in delivery order, fit like a file holding the same rows.
//!
//! [`Capture`] collects the typed records (decoded with the discovered features,
//! [`crate::source::discover`]) into one `ColumnBuilder` per feature and [`Capture::finish`]
//! fits each with [`fit_column`], so the profile equals `driftd reference fit`'s on the same
//! rows, bit for bit. The captured items are not monitored: windows start after them. More:
//! docs/daemon.md, "References from the stream".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::fit::{fit_column, now_rfc3339, DEFAULT_MAX_SAMPLE};
use super::{ProfileMeta, ReferenceProfile, StreamProfile, PROFILE_FORMAT_VERSION};
use crate::dataset::builder::ColumnBuilder;
use crate::dataset::Column;
use crate::record::{Record, Stream, Value};
use crate::source::discover::DiscoveredFeature;
use crate::stats::binning::Binning;

/// Collects a stream's first items into its reference (see the module docs).
///
/// Bad messages among the N items are counted and reported as usual and take no part in the
/// profile (so a profile may hold fewer than N rows).
#[derive(Debug)]
pub struct Capture {
    features: Vec<DiscoveredFeature>,
    columns: Vec<ColumnBuilder>,
    target: u64,
    /// Items taken (records and bad messages).
    taken: u64,
    rows: u64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    hasher: Sha256,
    scratch: String,
}

impl Capture {
    /// A capture of `target` items (≥ 1) over `features`, in the decoder's feature order.
    pub fn new(features: Vec<DiscoveredFeature>, target: u64) -> Capture {
        let columns = features.iter().map(|f| ColumnBuilder::new(f.categorical)).collect();
        Capture {
            features,
            columns,
            target: target.max(1),
            taken: 0,
            rows: 0,
            first_ms: None,
            last_ms: None,
            hasher: Sha256::new(),
            scratch: String::new(),
        }
    }

    /// The features captured, in order.
    pub fn features(&self) -> &[DiscoveredFeature] {
        &self.features
    }

    /// Items taken so far, and the target.
    pub fn progress(&self) -> (u64, u64) {
        (self.taken, self.target)
    }

    pub fn is_complete(&self) -> bool {
        self.taken >= self.target
    }

    /// Takes one record (its values in feature order); a record of another arity is taken as
    /// a bad item (the typed decoder never produces one).
    pub fn add(&mut self, record: &Record) {
        self.taken += 1;
        if record.values.len() != self.columns.len() {
            return;
        }
        self.rows += 1;
        self.first_ms.get_or_insert(record.event_time_ms);
        self.last_ms = Some(record.event_time_ms);
        self.hasher.update(record.event_time_ms.to_le_bytes());
        for (column, value) in self.columns.iter_mut().zip(&record.values) {
            self.scratch.clear();
            match value {
                Value::Number(v) => {
                    column.push_f64(*v);
                    let _ = write!(self.scratch, "n{v:?}");
                }
                Value::Text(text) => {
                    column.push_text(text);
                    let _ = write!(self.scratch, "t{}:{text}", text.len());
                }
                Value::Bool(b) => {
                    column.push_text(if *b { "true" } else { "false" });
                    let _ = write!(self.scratch, "b{b}");
                }
                Value::Missing => {
                    column.push_missing(1);
                    self.scratch.push('m');
                }
            }
            self.hasher.update(self.scratch.as_bytes());
        }
    }

    /// Takes one bad item (counted elsewhere; it is only a place in the N).
    pub fn add_bad(&mut self) {
        self.taken += 1;
    }

    /// The captured profile of `stream`, numeric edges frozen with `binning`.
    ///
    /// Metadata: `source_path` names the monitor, stream and source and the event-time span;
    /// `source_sha256` fingerprints the captured rows (event times and values, in order), so
    /// two captures of the same rows have the same hash; `rows` is the number of records
    /// captured.
    pub fn finish(
        self,
        stream: Stream,
        binning: &Binning,
        model_version: Option<String>,
        source: &str,
    ) -> ReferenceProfile {
        let span = match (self.first_ms, self.last_ms) {
            (Some(a), Some(b)) => {
                format!(
                    ", event times {} to {}",
                    crate::source::time::format_time_ms(a),
                    crate::source::time::format_time_ms(b)
                )
            }
            _ => String::new(),
        };
        let source_path = format!("captured from {source}: the first {} items{span}", self.taken);
        let sha256 = self.hasher.finalize().iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let features = self
            .features
            .into_iter()
            .zip(self.columns)
            .map(|(feature, builder)| {
                fit_column(Column { name: feature.name, data: builder.finish() }, binning, Some(DEFAULT_MAX_SAMPLE))
            })
            .collect();
        let mut streams = BTreeMap::new();
        streams.insert(stream, StreamProfile { features });
        ReferenceProfile {
            meta: ProfileMeta {
                format_version: PROFILE_FORMAT_VERSION,
                model_version,
                source_path,
                source_sha256: sha256,
                rows: self.rows,
                created_at: now_rfc3339(),
                binning: binning.to_string(),
            },
            streams,
        }
    }
}
