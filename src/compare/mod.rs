//! `driftd compare`: has this dataset drifted from that one?
//!
//! Reads the two files (in parallel), reconciles the columns (same names; a column that is
//! numeric in one file and text in the other is compared as categorical), computes every
//! statistic per column on a small pool of threads (sorting the numeric columns is the main
//! cost), applies the verdicts and returns a [`report::CompareReport`] that the renderers
//! ([`text`], [`html`], JSON) turn into output.

mod column;
pub mod html;
pub mod memory;
mod num;
pub mod performance;
pub mod plan;
mod profiled;
pub mod report;
mod stream;
pub mod text;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::dataset::{self, ColumnData, Dataset, DatasetError, FileLayout, Format, LoadOptions};
use crate::stats::profile::CompareSettings;
use crate::stats::statistic::Statistics;
use crate::stats::verdict::{DriftStat, Thresholds};
use column::{compare_columns, pair_columns};
use report::*;

/// Everything `compare` needs to know.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    pub reference: PathBuf,
    pub current: PathBuf,
    pub reference_format: Option<Format>,
    pub current_format: Option<Format>,
    pub columns: Option<Vec<String>>,
    pub settings: CompareSettings,
    pub thresholds: Thresholds,
    pub drift_stat: DriftStat,
    /// Which statistics to compute; the others are `null` in the report.
    pub statistics: Statistics,
    /// Keep per-column bins and ECDFs for the HTML report.
    pub with_detail: bool,
    /// Show progress bars on stderr (the CLI sets this only on a terminal).
    pub progress: bool,
    /// Worker threads for the per-column statistics (0 = all cores).
    pub threads: usize,
    /// Memory budget in bytes for Parquet / Arrow IPC inputs, read and computed in column
    /// groups that fit it (`None`: [`memory::default_limit`]). CSV and JSON Lines are read whole.
    pub memory_limit: Option<u64>,
    /// `--target` / `--prediction`: the model's performance on both datasets (`None`: not asked).
    pub performance: Option<performance::PerformanceOptions>,
}

/// Why a comparison could not be made. Each message is one line naming the file and place.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// A profile side that cannot be read, or two sides that cannot be compared exactly.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error("{reference} and {current} have different columns: {details} (use --columns to compare the common ones)")]
    ColumnsDiffer { reference: String, current: String, details: String },
    #[error("{path}: no columns to compare")]
    NoColumns { path: String },
    /// A target or prediction cell that does not fit the task (`message` names the place).
    #[error("{path}: {message}")]
    Performance { path: String, message: String },
}

/// Run a comparison.
pub fn run(options: &CompareOptions) -> Result<CompareReport, CompareError> {
    // First: two columns read, so a bad target is reported before the long drift computation.
    let performance = options.performance.as_ref().map(|wanted| performance::evaluate(options, wanted)).transpose()?;
    let mut psi_binning = options.settings.binning.to_string();
    let (reference_info, current_info, columns) = if profiled::involved(options) {
        let (reference, current, columns, binning) = profiled::compare(options)?;
        psi_binning = binning.to_string();
        (reference, current, columns)
    } else {
        match columnar_layouts(options)? {
            Some((reference, current)) => stream::compare(options, &reference, &current)?,
            None => compare_whole(options)?,
        }
    };
    let compared = columns.iter().filter(|c| c.status == ColumnStatus::Ok).count();
    let drifted = columns.iter().filter(|c| c.drift).count();
    let share = if compared > 0 { drifted as f64 / compared as f64 } else { f64::NAN };
    Ok(CompareReport {
        schema: SCHEMA,
        reference: reference_info,
        current: current_info,
        settings: SettingsInfo {
            psi_binning,
            epsilon: Num(options.settings.epsilon),
            drift_stat: options.drift_stat.name(),
            drift_share: Num(options.thresholds.drift_share),
        },
        summary: Summary {
            columns: columns.len(),
            compared,
            drifted,
            share_drifted: Num(share),
            dataset_drift: options.thresholds.dataset_drift(drifted, compared),
        },
        columns,
        performance,
    })
}

/// Reads both files as [`run`] would — same groups, typing and reconciliation — and computes
/// nothing: the time to only read, measured beside a comparison (`--read-only`).
pub fn read_only(options: &CompareOptions) -> Result<ReadSummary, CompareError> {
    match columnar_layouts(options)? {
        Some((reference, current)) => stream::read(options, &reference, &current),
        None => {
            let (reference, current) = load_whole(options)?;
            let columns = reference.columns.len();
            Ok(ReadSummary { reference: dataset_info(&reference), current: dataset_info(&current), columns, groups: 1 })
        }
    }
}

/// What [`read_only`] read.
#[derive(Debug, Clone)]
pub struct ReadSummary {
    pub reference: DatasetInfo,
    pub current: DatasetInfo,
    pub columns: usize,
    pub groups: usize,
}

/// Both files' layouts when both are Parquet or Arrow IPC (the streaming path), with the
/// column check done; `None` for any other pair, which is read whole.
fn columnar_layouts(options: &CompareOptions) -> Result<Option<(FileLayout, FileLayout)>, CompareError> {
    let columnar =
        |path: &PathBuf, format| matches!(dataset::format_of(path, format), Ok(Format::Parquet | Format::ArrowIpc));
    if !(columnar(&options.reference, options.reference_format) && columnar(&options.current, options.current_format)) {
        // Errors (also an unknown format) are the whole-file loaders' to report, as before.
        return Ok(None);
    }
    let layout_of = |path: &PathBuf, format| -> Result<FileLayout, CompareError> {
        let load = LoadOptions { format, columns: options.columns.clone(), ..LoadOptions::default() };
        let layout = dataset::layout(path, &load)?;
        Ok(layout.ok_or_else(|| DatasetError::Io { path: path.clone(), message: "not a columnar file".into() })?)
    };
    let reference = layout_of(&options.reference, options.reference_format)?;
    let current = layout_of(&options.current, options.current_format)?;
    let names = |l: &FileLayout| l.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    check_same_columns(&options.reference, &names(&reference), &options.current, &names(&current))?;
    Ok(Some((reference, current)))
}

/// Today's path for CSV and JSON Lines (row formats: a column is only known after every row):
/// both files read whole, then reconciled and computed.
fn compare_whole(options: &CompareOptions) -> Result<(DatasetInfo, DatasetInfo, Vec<ColumnReport>), CompareError> {
    let (reference, current) = load_whole(options)?;
    let (reference_info, current_info) = (dataset_info(&reference), dataset_info(&current));
    let pairs = pair_columns(reference, current);
    Ok((reference_info, current_info, compare_columns(pairs, options)))
}

/// Both files read whole (with byte-progress bars), columns checked, types reconciled.
fn load_whole(options: &CompareOptions) -> Result<(Dataset, Dataset), CompareError> {
    let bars = indicatif::MultiProgress::new();
    let (reference, current) = load_both(options, options.columns.clone(), options.progress.then_some(&bars))?;
    // The loaders only advance their bars; clear them before any output.
    let _ = bars.clear();
    let names = |d: &Dataset| d.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    check_same_columns(&reference.path, &names(&reference), &current.path, &names(&current))?;
    reconcile(options, options.columns.clone(), reference, current)
}

/// `columns` (all when `None`) of both files, read in parallel, the current on its own thread.
fn load_both(
    options: &CompareOptions,
    columns: Option<Vec<String>>,
    bars: Option<&indicatif::MultiProgress>,
) -> Result<(Dataset, Dataset), CompareError> {
    let load_options = |path: &PathBuf, format: Option<Format>| LoadOptions {
        format,
        columns: columns.clone(),
        force_categorical: BTreeSet::new(),
        progress: bars.map(|bars| bars.add(progress_bar(path))),
        threads: 0,
    };
    let (reference, current) = std::thread::scope(|scope| {
        let current =
            scope.spawn(|| dataset::load(&options.current, &load_options(&options.current, options.current_format)));
        let reference = dataset::load(&options.reference, &load_options(&options.reference, options.reference_format));
        let current = current.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (reference, current)
    });
    Ok((reference?, current?))
}

/// A column that is numeric on one side and text on the other is categorical for both: re-read
/// the numeric side of those columns as text (rare, so a second read is cheaper than always
/// keeping the original text). The type of a column depends on that column's cells only, so
/// reading all columns at once or a group at a time reconciles the same columns the same way.
fn reconcile(
    options: &CompareOptions,
    columns: Option<Vec<String>>,
    mut reference: Dataset,
    mut current: Dataset,
) -> Result<(Dataset, Dataset), CompareError> {
    let (to_text_in_ref, to_text_in_cur) = mixed_type_columns(&reference, &current);
    let reload = |path: &PathBuf, format: Option<Format>, force: BTreeSet<String>| {
        let load = LoadOptions { format, columns: columns.clone(), force_categorical: force, ..LoadOptions::default() };
        dataset::load(path, &load)
    };
    if !to_text_in_ref.is_empty() {
        drop(reference); // before the re-read: the peak is one copy, not two
        reference = reload(&options.reference, options.reference_format, to_text_in_ref)?;
    }
    if !to_text_in_cur.is_empty() {
        drop(current);
        current = reload(&options.current, options.current_format, to_text_in_cur)?;
    }
    Ok((reference, current))
}

/// The byte-progress bar shown on stderr (terminals only) while a file is read.
pub(crate) fn progress_bar(path: &std::path::Path) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(path.display().to_string());
    bar
}

fn dataset_info(dataset: &Dataset) -> DatasetInfo {
    DatasetInfo { path: dataset.path.display().to_string(), format: dataset.format.name(), rows: dataset.rows }
}

fn check_same_columns(
    reference: &Path,
    reference_names: &[String],
    current: &Path,
    current_names: &[String],
) -> Result<(), CompareError> {
    let (in_ref, in_cur): (BTreeSet<&String>, BTreeSet<&String>) =
        (reference_names.iter().collect(), current_names.iter().collect());
    if in_ref.is_empty() {
        return Err(CompareError::NoColumns { path: reference.display().to_string() });
    }
    if in_ref == in_cur {
        return Ok(());
    }
    let list = |set: Vec<&String>| set.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
    let only_ref: Vec<&String> = in_ref.difference(&in_cur).copied().collect();
    let only_cur: Vec<&String> = in_cur.difference(&in_ref).copied().collect();
    let mut parts = Vec::new();
    if !only_ref.is_empty() {
        parts.push(format!("only in the reference: {}", list(only_ref)));
    }
    if !only_cur.is_empty() {
        parts.push(format!("only in the current: {}", list(only_cur)));
    }
    Err(CompareError::ColumnsDiffer {
        reference: reference.display().to_string(),
        current: current.display().to_string(),
        details: parts.join("; "),
    })
}

/// Names of columns to re-read as text: (in the reference, in the current).
fn mixed_type_columns(reference: &Dataset, current: &Dataset) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut in_ref, mut in_cur) = (BTreeSet::new(), BTreeSet::new());
    for r in &reference.columns {
        let Some(c) = current.columns.iter().find(|c| c.name == r.name) else { continue };
        match (&r.data, &c.data) {
            (ColumnData::Numeric(_), ColumnData::Categorical(_)) => {
                in_ref.insert(r.name.clone());
            }
            (ColumnData::Categorical(_), ColumnData::Numeric(_)) => {
                in_cur.insert(r.name.clone());
            }
            _ => {}
        }
    }
    (in_ref, in_cur)
}
