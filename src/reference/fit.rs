//! Fitting a [`ReferenceProfile`] from a dataset file ([`fit`]), one column at a time
//! ([`fit_column`], shared with captured references).
//!
//! Input: any file [`crate::dataset::load`] reads and [`FitOptions`]. Output: a profile that
//! satisfies [`super::validate`], or a one-line [`ReferenceError`] naming the file. The file
//! is hashed while it loads and refused if it changed meanwhile (see [`fit`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::{
    one_line, FeatureKind, FeatureProfile, ProfileMeta, ReferenceError, ReferenceProfile, StreamProfile,
    PROFILE_FORMAT_VERSION,
};
use crate::dataset::{self, Column, ColumnData, DatasetError, Format, LoadOptions};
use crate::record::Stream;
use crate::stats::binning::{count_right_closed_sorted, Binning};
use crate::stats::profile::{CategoricalReference, NumericReference};

/// Default cap on the sorted sample kept per numeric feature.
pub const DEFAULT_MAX_SAMPLE: usize = 100_000;

/// How to fit a profile.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Read the file as this format instead of guessing from the extension.
    pub format: Option<Format>,
    /// Columns that are the model's predictions (score, label, probabilities). May be empty.
    pub predictions: Vec<String>,
    /// Input columns to keep (all the others when `None`).
    pub columns: Option<Vec<String>>,
    /// Columns that are neither inputs nor predictions (ids, timestamps).
    pub exclude: Vec<String>,
    /// Model version recorded in the profile.
    pub model_version: Option<String>,
    /// Binning whose edges are frozen in the numeric features.
    pub binning: Binning,
    /// Keep at most this many sorted values per numeric feature (at least 2); `None` keeps all.
    pub max_sample: Option<usize>,
    /// Threads for loading (Parquet) and fitting (0 = one per core).
    pub threads: usize,
    /// Progress bar on stderr while loading (the CLI sets it only on a terminal).
    pub progress: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            format: None,
            predictions: Vec::new(),
            columns: None,
            exclude: Vec::new(),
            model_version: None,
            binning: Binning::default(),
            max_sample: Some(DEFAULT_MAX_SAMPLE),
            threads: 0,
            progress: false,
        }
    }
}

/// Fit a reference profile from the dataset at `path`.
///
/// Columns are split into streams: those named in [`FitOptions::predictions`] form the
/// predictions stream; the others, restricted to [`FitOptions::columns`] when given and minus
/// [`FitOptions::exclude`], form the inputs stream. Features keep file order in each stream.
///
/// The SHA-256 of the file is computed on a second thread while the file is loaded (one
/// streaming read, constant memory); the file's size and modification time are compared
/// before and after, so a file that is being written is refused rather than described by a
/// hash of other bytes than were fit.
pub fn fit(path: &Path, options: &FitOptions) -> Result<ReferenceProfile, ReferenceError> {
    let shown = path.display().to_string();
    let options_error = |message: String| ReferenceError::Options { path: shown.clone(), message };
    check_names(options).map_err(&options_error)?;
    if let Some(m) = options.max_sample {
        if m < 2 {
            return Err(options_error(format!("the sample cap must be at least 2 (to keep min and max), got {m}")));
        }
    }

    let load_options = LoadOptions {
        format: options.format,
        columns: options.columns.as_ref().map(|c| c.iter().chain(&options.predictions).cloned().collect()),
        force_categorical: BTreeSet::new(),
        progress: options.progress.then(|| crate::compare::progress_bar(path)),
        threads: options.threads,
    };
    let before = file_stamp(path);
    let (dataset, hash) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| sha256_file(path));
        let dataset = dataset::load(path, &load_options);
        (dataset, hash.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    if let Some(bar) = &load_options.progress {
        bar.finish_and_clear();
    }
    let dataset = dataset?;
    let sha256 = hash.map_err(|e| DatasetError::Io { path: path.to_path_buf(), message: one_line(&e.to_string()) })?;
    if before.is_none() || before != file_stamp(path) {
        return Err(ReferenceError::Changed { path: shown });
    }

    let names: BTreeSet<&str> = dataset.columns.iter().map(|c| c.name.as_str()).collect();
    let absent: Vec<String> =
        options.predictions.iter().chain(&options.exclude).filter(|n| !names.contains(n.as_str())).cloned().collect();
    if !absent.is_empty() && options.columns.is_none() {
        return Err(DatasetError::MissingColumns { path: path.to_path_buf(), names: dedup(absent) }.into());
    }

    let rows = dataset.rows;
    let mut jobs = Vec::new();
    for column in dataset.columns {
        let stream = if options.predictions.contains(&column.name) {
            Stream::Predictions
        } else if options.exclude.contains(&column.name) {
            continue;
        } else {
            Stream::Inputs
        };
        jobs.push((stream, column));
    }
    if jobs.is_empty() {
        return Err(options_error("no columns left to fit (all excluded)".to_string()));
    }
    let features = crate::parallel::parallel_map(jobs, options.threads, |(stream, column)| {
        (stream, fit_column(column, &options.binning, options.max_sample))
    });
    let mut streams: BTreeMap<Stream, StreamProfile> = BTreeMap::new();
    for (stream, feature) in features {
        streams.entry(stream).or_insert_with(|| StreamProfile { features: Vec::new() }).features.push(feature);
    }
    Ok(ReferenceProfile {
        meta: ProfileMeta {
            format_version: PROFILE_FORMAT_VERSION,
            model_version: options.model_version.clone(),
            source_path: shown,
            source_sha256: sha256,
            rows,
            created_at: now_rfc3339(),
            binning: options.binning.to_string(),
        },
        streams,
    })
}

/// The lists of names must not overlap: a column is an input, a prediction or excluded.
fn check_names(options: &FitOptions) -> Result<(), String> {
    let overlap = |a: &[String], b: &[String], what: &str| -> Result<(), String> {
        match a.iter().find(|n| b.contains(n)) {
            Some(name) => Err(format!("column {name:?} is named both {what}")),
            None => Ok(()),
        }
    };
    overlap(&options.predictions, &options.exclude, "as a prediction and as excluded")?;
    if let Some(columns) = &options.columns {
        overlap(columns, &options.predictions, "as an input and as a prediction")?;
        overlap(columns, &options.exclude, "as an input and as excluded")?;
    }
    Ok(())
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names.into_iter().filter(|n| seen.insert(n.clone())).collect()
}

/// One column's reference: the numeric fit (std and frozen edges and bin counts on all values,
/// then the sorted sample capped at `max_sample`) or the category counts. Public so that a
/// reference captured from a stream can be built from the same [`Column`]s a file gives.
pub fn fit_column(column: Column, binning: &Binning, max_sample: Option<usize>) -> FeatureProfile {
    match column.data {
        ColumnData::Numeric(values) => {
            let n = values.values.len() as u64;
            let mut reference = NumericReference::fit(values.values, binning);
            let bin_counts = reference.edges.as_ref().map(|edges| count_right_closed_sorted(&reference.sorted, edges));
            if let Some(m) = max_sample {
                if reference.sorted.len() > m {
                    reference.sorted = subsample_sorted(&reference.sorted, m);
                }
            }
            FeatureProfile {
                name: column.name,
                kind: FeatureKind::Numeric(reference),
                missing: values.missing,
                nonfinite: values.nonfinite,
                n,
                bin_counts,
            }
        }
        ColumnData::Categorical(values) => FeatureProfile {
            name: column.name,
            n: values.counts.iter().map(|(_, c)| c).sum(),
            kind: FeatureKind::Categorical(CategoricalReference::from_counts(values.counts)),
            missing: values.missing,
            nonfinite: 0,
            bin_counts: None,
        },
    }
}

/// `m` evenly spaced order statistics of a sorted sample: indices round(i · (n − 1) / (m − 1)),
/// i = 0..m, so the first and last values are kept and the result is sorted. Returns the
/// sample unchanged when it has at most `m` values (or `m < 2`, which cannot keep both ends).
///
/// [`fit_column`] computes the std, the frozen edges and the bin counts on the full sample
/// *before* subsampling, so PSI, Jensen–Shannon and Hellinger from the bin counts are exact.
/// KS and Wasserstein against a subsample are approximations: its empirical CDF is within
/// about 1 / (m − 1) of the full one, so the KS statistic moves by at most about that much,
/// and the KS p-value is computed for a reference of m values instead of n (with the default
/// m = 100 000 this only matters for windows of comparable size).
pub fn subsample_sorted(sorted: &[f64], m: usize) -> Vec<f64> {
    let n = sorted.len();
    if n <= m || m < 2 {
        return sorted.to_vec();
    }
    let (span, steps) = ((n - 1) as u128, (m - 1) as u128);
    // Integer arithmetic: exact for any n, and the step (n − 1) / (m − 1) > 1 makes the
    // rounded indices strictly increasing.
    (0..m as u128).map(|i| sorted[((i * span + steps / 2) / steps) as usize]).collect()
}

/// SHA-256 of a file, lower-case hex, read in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Size and modification time, to notice a file that changes while it is read.
fn file_stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The current time, RFC 3339 UTC to the second (the `created_at` of a new profile).
pub fn now_rfc3339() -> String {
    let seconds = match SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    crate::source::time::rfc3339_utc(seconds)
}
