//! Why a profile could not be read, built, merged or compared: one line, naming the file.

use crate::dataset::DatasetError;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: not a driftd profile (no {magic:?} header)")]
    NotAProfile { path: String, magic: &'static str },
    #[error("{path}: profile format version {found}, this driftd reads version {supported} (rebuild the profile with this driftd)")]
    Version { path: String, found: u32, supported: u32 },
    #[error("{path}: truncated profile ({what})")]
    Truncated { path: String, what: String },
    #[error("{path}: corrupt profile: {detail}")]
    Corrupt { path: String, detail: String },
    /// Two profiles (or a profile and a dataset) that cannot be added or compared exactly.
    #[error("{path}: does not match {other}: {detail}")]
    Incompatible { path: String, other: String, detail: String },
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}
