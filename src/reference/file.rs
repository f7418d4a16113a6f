//! The on-disk format of a reference profile: `driftd.reference`, version 1, pretty-printed
//! UTF-8 JSON (documented key by key in docs/reference-profiles.md).
//!
//! [`save`] / [`to_json`] write a [`ReferenceProfile`]; [`load`] / [`from_json`] read one,
//! checking the format name and version first, then the structure (unknown keys rejected),
//! then [`validate`]; every failure is one line naming the file. Floats round-trip bit for
//! bit (ryu out, `float_roundtrip` in; NaN / ±inf as `null`, `"inf"`, `"-inf"`); numeric
//! arrays are one line each. A layout change bumps `format_version`; other versions are refused.

use std::path::Path;

use super::validate::validate;
use super::wire::{feature_out, profile_from, FileIn, FileOut, Header, SourceOut};
use super::{one_line, ReferenceError, ReferenceProfile, PROFILE_FORMAT_VERSION};

/// Value of the `format` key.
pub const FORMAT_NAME: &str = "driftd.reference";

/// Save a profile atomically: it is validated, written to a temporary file in the same
/// directory, flushed to disk, renamed over `path`, and the directory is flushed. A reader
/// sees the old file or the new one, never a part of either.
pub fn save(profile: &ReferenceProfile, path: &Path) -> Result<(), ReferenceError> {
    let shown = path.display().to_string();
    validate(profile).map_err(|message| ReferenceError::Invalid { path: shown.clone(), message })?;
    let text = to_json(profile);
    let io_error = |what: &str, e: std::io::Error| ReferenceError::Io {
        path: shown.clone(),
        message: format!("cannot {what}: {}", one_line(&e.to_string())),
    };
    crate::atomic_file::write_atomic(path, text.as_bytes()).map_err(|(what, e)| io_error(what, e))
}

/// Load and check a profile. A build reads only its own `format_version` and says which it
/// reads (a newer file asks for an upgrade or a new fit). No checksum covers the contents:
/// [`save`] is atomic, and the invariants of [`validate`] (counts summing to `n` and to the
/// row count, sorted samples, bin counts matching an unsubsampled sample) catch truncation
/// and most accidental edits.
pub fn load(path: &Path) -> Result<ReferenceProfile, ReferenceError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ReferenceError::Io {
        path: shown.clone(),
        message: format!("cannot read the reference profile: {}", one_line(&e.to_string())),
    })?;
    from_json(&bytes, &shown)
}

/// The profile as the text [`save`] writes (pretty JSON, final newline).
pub fn to_json(profile: &ReferenceProfile) -> String {
    let file = FileOut {
        format: FORMAT_NAME,
        format_version: PROFILE_FORMAT_VERSION,
        model_version: profile.meta.model_version.as_deref(),
        created_at: &profile.meta.created_at,
        source: SourceOut {
            path: &profile.meta.source_path,
            sha256: &profile.meta.source_sha256,
            rows: profile.meta.rows,
        },
        binning: &profile.meta.binning,
        streams: profile
            .streams
            .iter()
            .map(|(stream, s)| (*stream, s.features.iter().map(feature_out).collect()))
            .collect(),
    };
    // Serialising plain structs of strings, integers and pre-rendered JSON cannot fail.
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Parse and check a profile from the bytes of a file; `path` names it in errors.
pub fn from_json(bytes: &[u8], path: &str) -> Result<ReferenceProfile, ReferenceError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(ReferenceError::Corrupted { path: path.to_string(), message: "the file is empty".into() }),
        Some(_) => {
            return Err(ReferenceError::NotAProfile { path: path.to_string(), message: "not a JSON object".into() })
        }
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ReferenceError::NotAProfile { path: path.to_string(), message: one_line(&e.to_string()) }
        } else {
            corrupted(path, &e)
        }
    })?;
    if header.format.as_deref() != Some(FORMAT_NAME) {
        return Err(ReferenceError::NotAProfile {
            path: path.to_string(),
            message: format!("expected \"format\": {FORMAT_NAME:?}"),
        });
    }
    match header.format_version {
        Some(v) if v == u64::from(PROFILE_FORMAT_VERSION) => {}
        Some(found) => {
            return Err(ReferenceError::Version {
                path: path.to_string(),
                found,
                supported: PROFILE_FORMAT_VERSION,
                hint: if found > u64::from(PROFILE_FORMAT_VERSION) {
                    "; it was written by a newer driftd: upgrade, or fit the reference again"
                } else {
                    ""
                },
            })
        }
        None => {
            return Err(ReferenceError::NotAProfile {
                path: path.to_string(),
                message: "\"format_version\" must be a non-negative integer".to_string(),
            })
        }
    }
    let file: FileIn = serde_json::from_slice(bytes).map_err(|e| corrupted(path, &e))?;
    let invalid = |message: String| ReferenceError::Invalid { path: path.to_string(), message };
    let profile = profile_from(file).map_err(invalid)?;
    validate(&profile).map_err(invalid)?;
    Ok(profile)
}

fn corrupted(path: &str, e: &serde_json::Error) -> ReferenceError {
    ReferenceError::Corrupted { path: path.to_string(), message: one_line(&e.to_string()) }
}
