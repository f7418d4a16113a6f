//! Column groups of a streaming compare: the reference's columns, in its order, cut into
//! contiguous groups whose estimated memory fits the budget (`--memory-limit`), so peak memory
//! follows rows × columns-per-group instead of rows × all columns. Contiguous groups keep the
//! report's column order by simply appending each group's results. The estimate, per column and side: 8 bytes per row for a column that may keep its values
//! (every type but booleans and all-null), plus one Parquet decode batch of them, plus twice a
//! text column's uncompressed bytes (labels kept when it is categorical); fixed costs beside:
//! the process, the sort buffers of each compute thread, an Arrow IPC reader's record batch.

use std::collections::HashMap;

use crate::dataset::{ColumnLayout, FileLayout};

/// Rows the Parquet reader decodes at once (its `BATCH_ROWS`), held beside the values read.
const DECODE_ROWS: u64 = 64 * 1024;
/// The process whatever the groups: code, allocator, file metadata, thread stacks.
const BASE: u64 = 64 << 20;
/// Per column and side: its builder, small hash maps, its report.
const PER_COLUMN: u64 = 64 << 10;

/// How a comparison is cut into groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Column names per group, groups in the reference's column order.
    pub groups: Vec<Vec<String>>,
    /// The bytes estimated for what every group shares (process, sort buffers, reader).
    pub fixed: u64,
    /// Columns whose estimate alone exceeds what the limit leaves for a group; each is read in
    /// a group of its own (the comparison still runs, above the limit), with its estimate.
    pub over_limit: Vec<(String, u64)>,
}

/// Cuts the reference's columns (which the current file also has, checked before) into groups
/// for a budget of `limit` bytes, with `threads` threads sorting columns at once.
pub fn plan(reference: &FileLayout, current: &FileLayout, limit: u64, threads: usize) -> Plan {
    let max_rows = reference.rows.unwrap_or(0).max(current.rows.unwrap_or(0));
    // Each compute thread keeps a key and a scratch buffer of 8 bytes per value for the sort.
    let sort_buffers = (threads.max(1) as u64).saturating_mul(16).saturating_mul(max_rows);
    let fixed =
        BASE.saturating_add(sort_buffers).saturating_add(reference.read_buffer).saturating_add(current.read_buffer);
    let budget = limit.saturating_sub(fixed);
    let in_current: HashMap<&str, &ColumnLayout> = current.columns.iter().map(|c| (c.name.as_str(), c)).collect();

    let mut plan = Plan { groups: Vec::new(), fixed, over_limit: Vec::new() };
    let (mut group, mut used) = (Vec::new(), 0u64);
    for column in &reference.columns {
        let other = in_current.get(column.name.as_str()).copied();
        let cost = side_cost(column, reference.rows).saturating_add(other.map_or(0, |c| side_cost(c, current.rows)));
        if !group.is_empty() && used.saturating_add(cost) > budget {
            plan.groups.push(std::mem::take(&mut group));
            used = 0;
        }
        if cost > budget {
            plan.over_limit.push((column.name.clone(), cost));
        }
        group.push(column.name.clone());
        used = used.saturating_add(cost);
    }
    if !group.is_empty() {
        plan.groups.push(group);
    }
    plan
}

/// One side's estimate of a column; unknown rows (an IPC file whose headers could not be read)
/// count as too big, so such a column is read alone.
fn side_cost(column: &ColumnLayout, rows: Option<u64>) -> u64 {
    let Some(rows) = rows else { return u64::MAX };
    let values = if column.values { rows.saturating_add(rows.min(DECODE_ROWS)).saturating_mul(8) } else { 0 };
    PER_COLUMN.saturating_add(values).saturating_add(column.text_bytes.saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(rows: Option<u64>, names: &[&str]) -> FileLayout {
        let columns = names
            .iter()
            .map(|n| ColumnLayout { name: n.to_string(), values: !n.starts_with("flag"), text_bytes: 0 })
            .collect();
        FileLayout { rows, columns, read_buffer: 0 }
    }

    fn names(plan: &Plan) -> Vec<Vec<&str>> {
        plan.groups.iter().map(|g| g.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn groups_are_contiguous_in_reference_order_and_fit_the_budget() {
        let cols = ["a", "b", "c", "d", "e"];
        let (r, c) = (layout(Some(1_000_000), &cols), layout(Some(1_000_000), &["e", "d", "c", "b", "a"]));
        let one = side_cost(&r.columns[0], r.rows) * 2;
        let fixed = plan(&r, &c, u64::MAX, 2).fixed;
        assert_eq!(names(&plan(&r, &c, u64::MAX, 2)), vec![cols.to_vec()]);
        let two_per_group = plan(&r, &c, fixed + 2 * one, 2);
        assert_eq!(names(&two_per_group), vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
        assert!(two_per_group.over_limit.is_empty());
        assert_eq!(names(&plan(&r, &c, fixed + 2 * one - 1, 2)), cols.iter().map(|n| vec![*n]).collect::<Vec<_>>());
    }

    #[test]
    fn a_budget_below_one_column_reads_one_column_per_group() {
        let (r, c) = (layout(Some(10_000), &["a", "b", "flag"]), layout(Some(10_000), &["a", "b", "flag"]));
        let tiny = plan(&r, &c, 1, 1);
        assert_eq!(names(&tiny), vec![vec!["a"], vec!["b"], vec!["flag"]]);
        assert_eq!(tiny.over_limit.len(), 3);
    }

    #[test]
    fn booleans_cost_less_than_values_and_unknown_rows_read_alone() {
        let r = layout(Some(1_000_000), &["flag1", "flag2", "x"]);
        assert!(side_cost(&r.columns[0], r.rows) < side_cost(&r.columns[2], r.rows));
        let unknown = layout(None, &["a", "b"]);
        assert_eq!(names(&plan(&unknown, &unknown, 1 << 40, 2)), vec![vec!["a"], vec!["b"]]);
    }
}
