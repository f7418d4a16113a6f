//! The on-disk format of a reference profile: `driftd.reference`, version 1.
//!
//! Inputs: a [`ReferenceProfile`] ([`save`], [`to_json`]) or a file ([`load`], [`from_json`]).
//! Outputs: pretty-printed UTF-8 JSON, or the profile it holds. Loading checks the format name
//! and version first, then the structure (unknown keys are rejected), then the invariants of
//! the module header ([`validate`]); every failure is one line naming the file.
//!
//! ```text
//! {
//!   "format": "driftd.reference",            // always this
//!   "format_version": 1,                     // bumped on any change; other versions are refused
//!   "model_version": "v1",                   // or null
//!   "created_at": "2026-11-27T12:18:34Z",    // RFC 3339, UTC
//!   "source": {
//!     "path": "examples/data/credit_reference.csv",   // as given to `fit`
//!     "sha256": "e1005921…",                          // of the file's bytes, hex ("" if none)
//!     "rows": 5000                                    // data rows
//!   },
//!   "binning": "quantile",                   // as `--psi-binning` writes it
//!   "streams": {                             // "inputs" and/or "predictions"
//!     "inputs": [
//!       {
//!         "name": "income",
//!         "type": "numeric",
//!         "n": 5000,                         // finite values fit (before subsampling)
//!         "missing": 0,                      // empty / null / NaN cells
//!         "nonfinite": 0,                    // ±inf cells
//!         "std": 20760.79430086148,          // population std of the n values (null if n = 0)
//!         "edges": [22818.354000000003,…],   // frozen interior edges (null: evidently, n = 0)
//!         "bin_counts": [500,500,…],         // counts of the n values in those bins
//!         "sample": [7817.76,7868.99,…]      // sorted values, all n or a subsample (one line)
//!       },
//!       {
//!         "name": "region",
//!         "type": "categorical",
//!         "n": 5000,
//!         "missing": 0,
//!         "counts": {"east": 1262, "north": 1290, …}  // sorted by label bytes, one per line
//!       }
//!     ],
//!     "predictions": [ … ]
//!   }
//! }
//! ```
//!
//! Floats are written in Rust's shortest round-trip form (ryu) and read back with
//! `serde_json`'s exact parser (`float_roundtrip`), so every value loads bit for bit; the
//! non-finite values that a std or an edge can take are written `null` (NaN), `"inf"` and
//! `"-inf"`. Numeric arrays are written on one line each to keep a 100 000-value sample to
//! one line rather than 100 000.
//!
//! Compatibility: a change of meaning or layout bumps `format_version`, and a build refuses
//! every version but its own with an error saying which it reads (a newer file asks for an
//! upgrade or a new fit). Keys are never silently ignored, so a typo in a hand-edited profile
//! is an error rather than a default. No checksum covers the contents: `save` is atomic, and
//! the invariants (counts that must sum to `n` and to the row count, sorted samples, bin counts
//! that must match an unsubsampled sample) catch truncation and most accidental edits.

use std::io::Write;
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
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| ReferenceError::Io {
        path: shown.clone(),
        message: "cannot write: the path does not name a file".to_string(),
    })?;
    // Unique per process and call, so concurrent saves never share a temporary file.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".{}.tmp-{}-{serial}", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error("write", e));
    }
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error("write", e));
    }
    // The rename is durable only once the directory entry is on disk. Not every platform lets
    // a directory be opened or synced, and the data is already safe, so failures are ignored.
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Load and check a profile.
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
