//! Reference profiles: what a monitor compares its windows with.
//!
//! A profile is fit once from a dataset (a model's training or validation data) and stored as a
//! versioned snapshot: per stream (inputs, predictions) and feature, the frozen statistics
//! inputs of [`crate::stats::profile`] (sorted sample, std and frozen bin edges for numeric
//! features; category counts for categorical ones), plus metadata tying it to a model version
//! and to the exact input file.
//!
//! (Types: lead. Fitting, saving, loading and the CLI: in progress.)

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
}

/// Numeric or categorical, with its frozen reference.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Numeric(NumericReference),
    Categorical(CategoricalReference),
}
