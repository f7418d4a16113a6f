//! Column-streaming compare of Parquet and Arrow IPC files: the columns are cut into groups
//! that fit the memory budget (`plan.rs`), and each group is read from both files (projection:
//! only its columns are decoded), reconciled and computed before the next one is read, so only
//! one group's values are ever in memory. With one group this is the whole-file comparison;
//! with many, every column still goes through the same loader, reconciliation and statistics,
//! so the report is the same, bit for bit (tests/compare_streaming.rs checks it).

use super::column::{compare_columns, pair_columns};
use super::memory::{default_limit, human};
use super::plan::{plan, Plan};
use super::{dataset_info, load_both, reconcile, CompareError, CompareOptions, ReadSummary};
use crate::compare::report::{ColumnReport, DatasetInfo};
use crate::dataset::{Dataset, FileLayout};

/// Compares group by group: the file infos and the column reports in the reference's order.
pub(super) fn compare(
    options: &CompareOptions,
    reference: &FileLayout,
    current: &FileLayout,
) -> Result<(DatasetInfo, DatasetInfo, Vec<ColumnReport>), CompareError> {
    let mut columns = Vec::with_capacity(reference.columns.len());
    let (reference_info, current_info, _) = for_each_group(options, reference, current, |r, c| {
        columns.extend(compare_columns(pair_columns(r, c), options));
    })?;
    Ok((reference_info, current_info, columns))
}

/// Reads group by group, computing nothing (`--read-only`).
pub(super) fn read(
    options: &CompareOptions,
    reference: &FileLayout,
    current: &FileLayout,
) -> Result<ReadSummary, CompareError> {
    let mut columns = 0;
    let (reference_info, current_info, groups) =
        for_each_group(options, reference, current, |r, _| columns += r.columns.len())?;
    Ok(ReadSummary { reference: reference_info, current: current_info, columns, groups })
}

/// Plans the groups, then per group: read both files' columns, reconcile, hand them to `visit`
/// (which drops them). Returns the file infos (rows are the same in every group) and the
/// number of groups.
fn for_each_group(
    options: &CompareOptions,
    reference: &FileLayout,
    current: &FileLayout,
    mut visit: impl FnMut(Dataset, Dataset),
) -> Result<(DatasetInfo, DatasetInfo, usize), CompareError> {
    let limit = options.memory_limit.unwrap_or_else(default_limit);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let plan = plan(reference, current, limit, threads);
    warn_over_limit(&plan, limit);
    let bar = options.progress.then(|| columns_bar(reference.columns.len() as u64, plan.groups.len()));
    let mut infos = None;
    for group in &plan.groups {
        let (r, c) = load_both(options, Some(group.clone()), None)?;
        let (r, c) = reconcile(options, Some(group.clone()), r, c)?;
        infos.get_or_insert_with(|| (dataset_info(&r), dataset_info(&c)));
        visit(r, c);
        if let Some(bar) = &bar {
            bar.inc(group.len() as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // A layout has at least one column (checked before), so there is at least one group.
    let (reference_info, current_info) =
        infos.ok_or_else(|| CompareError::NoColumns { path: options.reference.display().to_string() })?;
    Ok((reference_info, current_info, plan.groups.len()))
}

/// One line on stderr when a column alone is estimated above the limit: it is still compared
/// (in a group of its own), since refusing would leave no way to compare that file.
fn warn_over_limit(plan: &Plan, limit: u64) {
    let Some((name, cost)) = plan.over_limit.iter().max_by_key(|(_, cost)| *cost) else { return };
    let more = match plan.over_limit.len() {
        1 => String::new(),
        2 => " (and 1 more column)".to_string(),
        n => format!(" (and {} more columns)", n - 1),
    };
    eprintln!(
        "driftd: warning: memory limit {}: column {name:?}{more} needs about {} beside {} of fixed costs; \
         reading one column at a time, above the limit",
        human(limit),
        human(*cost),
        human(plan.fixed)
    );
}

/// The progress bar of a streaming compare: columns done out of all, on stderr (terminals only).
fn columns_bar(columns: u64, groups: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(columns);
    let style = indicatif::ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos}/{len} columns {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(format!("comparing in {groups} column groups"));
    bar
}
