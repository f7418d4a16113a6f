//! Reference profiles: what a monitor compares its windows with.
//!
//! A profile is fit once from a dataset (a model's training or validation data) and stored as a
//! versioned snapshot: per stream (inputs, predictions) and feature, the frozen statistics
//! inputs of [`crate::stats::profile`] (sorted sample, std and frozen bin edges for numeric
//! features; category counts for categorical ones), plus metadata tying it to a model version
//! and to the exact input file.
//!
//! - Fitting ([`fit`], `fit.rs`): dataset file + [`FitOptions`] → [`ReferenceProfile`]. The
//!   file is hashed (SHA-256, streamed) on a second thread while it is loaded.
//! - Storage ([`save`], [`load`], `file.rs`; serde types in `wire.rs`, checks in
//!   `validate.rs`): the on-disk format `driftd.reference` version
//!   [`PROFILE_FORMAT_VERSION`], pretty JSON, documented in `file.rs`. Saving is atomic
//!   (temporary file, fsync, rename, fsync of the directory), so a crash never leaves a
//!   truncated profile behind; loading rejects other versions and any file that breaks the
//!   invariants below, with one line naming the file.
//! - Display ([`show::render`], `show.rs`): `driftd reference show`.
//!
//! A reference captured from a stream rather than fit from a file is built the same way:
//! [`fit_column`] per feature, `rows` = records captured, `source_path` naming the stream and
//! `source_sha256` empty (the only case where it may be).
//!
//! A monitor with a trailing reference (the previous N windows, fit as it runs; see
//! `monitor/trailing.rs`) is given a *skeleton* ([`ReferenceProfile::skeleton`]): the streams'
//! feature names and kinds ([`FeatureType`]) with no data, `rows` 0. It satisfies the
//! invariants below.
//!
//! Invariants of a profile (checked by [`validate`], on save and on load), per feature:
//! `n + missing + nonfinite == meta.rows`. Numeric: `sorted` finite and ascending, empty iff
//! `n == 0`, `sorted.len() <= n` (less when subsampled); `edges` present iff `n > 0` and the
//! binning is frozen (not `evidently`), with as many edges as the binning implies;
//! `bin_counts` present iff `edges` is, `edges.len() + 1` counts summing to `n`.
//! Categorical: labels strictly ascending by bytes, counts > 0 summing to `n`, `nonfinite == 0`.
//! Feature names are unique within a stream and a present stream has at least one feature.
//!
//! Subsampling: a numeric column with more than `max_sample` finite values keeps an evenly
//! spaced subsample of its sorted values (the sample quantiles at i / (m − 1), so the minimum
//! and the maximum are kept). The std, the frozen edges and `bin_counts` are computed on the
//! full sample *before* subsampling, so PSI, Jensen–Shannon and Hellinger computed from
//! `bin_counts` are exact. KS and Wasserstein against a subsample are approximations: the
//! subsample's empirical CDF is within about 1 / (m − 1) of the full one, so the KS statistic
//! moves by at most about that much, and the KS p-value is computed for a reference of m values
//! instead of n (with the default m = 100 000 this only matters for windows of comparable size).

use std::collections::BTreeMap;

use crate::record::Stream;
use crate::stats::profile::{CategoricalReference, NumericReference};

/// Format version of the saved profile; bumped on any incompatible change.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// A fitted reference for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceProfile {
    pub meta: ProfileMeta,
    /// Feature profiles per stream. A stream with no monitored feature is absent.
    pub streams: BTreeMap<Stream, StreamProfile>,
}

/// Where a profile came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileMeta {
    pub format_version: u32,
    /// Model version this reference belongs to (free text, e.g. "2026-11-01" or a git sha).
    pub model_version: Option<String>,
    /// Path of the dataset it was fit from, as given.
    pub source_path: String,
    /// SHA-256 of that file, hex.
    pub source_sha256: String,
    /// Data rows in that file.
    pub rows: u64,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Binning whose edges are frozen in the numeric features (e.g. "quantile").
    pub binning: String,
}

/// The features of one stream, in a fixed order (the order of a [`crate::record::Record`]'s values).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamProfile {
    pub features: Vec<FeatureProfile>,
}

/// One feature's reference.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureProfile {
    pub name: String,
    pub kind: FeatureKind,
    /// Reference cells that were missing / non-finite (reported, not used).
    pub missing: u64,
    pub nonfinite: u64,
    /// Reference values the feature was fit on (finite numbers / present labels). For a
    /// numeric feature whose sorted sample was subsampled (`max_sample`), this is the size of
    /// the full sample and exceeds `sorted.len()`.
    pub n: u64,
    /// Numeric features with frozen edges: the bin counts of the *full* reference sample in
    /// those edges (`edges.len() + 1` counts summing to `n`), so PSI, Jensen–Shannon and
    /// Hellinger stay exact when the sorted sample was subsampled. `None` otherwise.
    pub bin_counts: Option<Vec<u64>>,
}

/// Numeric or categorical, with its frozen reference.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Numeric(NumericReference),
    Categorical(CategoricalReference),
}

/// A feature's kind without its data: what a skeleton profile is built from
/// ([`ReferenceProfile::skeleton`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureType {
    Numeric,
    Categorical,
}

pub mod capture;
mod file;
mod fit;
pub mod show;
#[cfg(test)]
mod tests;
mod validate;
mod wire;

pub use file::{from_json, load, save, to_json, FORMAT_NAME};
pub use fit::{fit, fit_column, now_rfc3339, sha256_file, subsample_sorted, FitOptions, DEFAULT_MAX_SAMPLE};
pub use validate::validate;

use crate::dataset::DatasetError;

/// Why a profile could not be fit, saved or loaded. Every message is one line that starts with
/// the path of the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The dataset could not be read.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The fit options contradict each other or the file.
    #[error("{path}: {message}")]
    Options { path: String, message: String },
    /// The dataset changed while it was being hashed and loaded.
    #[error("{path}: the file changed while it was being read; fit again once it is complete")]
    Changed { path: String },
    /// Reading or writing a profile failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// Not a profile at all (other JSON, or not JSON).
    #[error("{path}: not a driftd reference profile: {message}")]
    NotAProfile { path: String, message: String },
    /// A profile of a format version this build does not read.
    #[error(
        "{path}: reference profile format version {found} is not supported (this driftd reads version {supported}){hint}"
    )]
    Version { path: String, found: u64, supported: u32, hint: &'static str },
    /// Invalid JSON (truncated or corrupted file).
    #[error("{path}: corrupted or truncated reference profile: {message}")]
    Corrupted { path: String, message: String },
    /// Valid JSON that breaks an invariant of the module header.
    #[error("{path}: invalid reference profile: {message}")]
    Invalid { path: String, message: String },
}

impl FeatureProfile {
    /// The numeric reference, if the feature is numeric.
    pub fn numeric(&self) -> Option<&NumericReference> {
        match &self.kind {
            FeatureKind::Numeric(reference) => Some(reference),
            FeatureKind::Categorical(_) => None,
        }
    }

    /// The categorical reference, if the feature is categorical.
    pub fn categorical(&self) -> Option<&CategoricalReference> {
        match &self.kind {
            FeatureKind::Categorical(reference) => Some(reference),
            FeatureKind::Numeric(_) => None,
        }
    }

    /// Whether the numeric sorted sample is a subsample of the `n` values the feature was fit on.
    pub fn is_subsampled(&self) -> bool {
        self.numeric().is_some_and(|r| (r.sorted.len() as u64) < self.n)
    }
}

impl FeatureProfile {
    /// A feature with no reference data: numeric with no value (std NaN, no edges, no bin
    /// counts) or categorical with no label. Valid under [`validate`] with `meta.rows == 0`.
    pub fn empty(name: impl Into<String>, kind: FeatureType) -> Self {
        let kind = match kind {
            FeatureType::Numeric => {
                FeatureKind::Numeric(NumericReference { sorted: Vec::new(), std: f64::NAN, edges: None })
            }
            FeatureType::Categorical => FeatureKind::Categorical(CategoricalReference::from_counts(Vec::new())),
        };
        FeatureProfile { name: name.into(), kind, missing: 0, nonfinite: 0, n: 0, bin_counts: None }
    }
}

impl ReferenceProfile {
    /// A profile that only names the features and their kinds, stream by stream (feature
    /// order = the order of a record's values): the profile of a monitor whose reference is
    /// built as it runs (`MonitorSettings::trailing_windows`). Streams without features are
    /// left out; `meta.rows` is set to 0 (no reference row), so the skeleton validates.
    pub fn skeleton(mut meta: ProfileMeta, streams: BTreeMap<Stream, Vec<(String, FeatureType)>>) -> Self {
        meta.rows = 0;
        let streams = streams
            .into_iter()
            .filter(|(_, features)| !features.is_empty())
            .map(|(stream, features)| {
                let features = features.into_iter().map(|(name, kind)| FeatureProfile::empty(name, kind)).collect();
                (stream, StreamProfile { features })
            })
            .collect();
        ReferenceProfile { meta, streams }
    }

    /// The features of a stream (empty when the stream is absent).
    pub fn features(&self, stream: Stream) -> &[FeatureProfile] {
        self.streams.get(&stream).map_or(&[], |s| s.features.as_slice())
    }

    /// The binning whose edges are frozen in the numeric features.
    pub fn binning(&self) -> Result<crate::stats::binning::Binning, crate::stats::binning::BinningParseError> {
        self.meta.binning.parse()
    }
}

/// Library messages sometimes span lines; the CLI prints exactly one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
