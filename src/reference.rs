//! Reference profiles: what a monitor compares its windows with.
//!
//! A [`ReferenceProfile`] holds, per stream and feature, the frozen inputs of
//! [`crate::stats::profile`] (sorted sample, std, frozen edges and their bin counts; or category
//! counts) and metadata tying it to a model version and an input file. Fit ([`fit`], `fit.rs`),
//! captured from a stream (`capture.rs`), saved and loaded as the versioned JSON format
//! `driftd.reference` ([`save`], [`load`], `file.rs`, `wire.rs`), always satisfying the
//! invariants of [`validate`]. Format, subsampling and invariants: docs/reference-profiles.md.

use std::collections::BTreeMap;

use crate::record::Stream;
use crate::stats::profile::{CategoricalReference, NumericReference};

/// Format version of the saved profile; bumped on any incompatible change.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// A fitted reference for one model: fit from a file ([`fit`]), captured from a stream
/// ([`capture::Capture`], built with [`fit_column`] per feature as a file's columns would be),
/// or a [`ReferenceProfile::skeleton`] that only names the features of a trailing reference.
/// Every profile saved or loaded satisfies [`validate`].
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
    /// Valid JSON that breaks an invariant of [`validate`].
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
