//! Data-quality statistics beside the drift statistics: per column (or feature and window), the
//! share of missing cells, of mistyped cells, of numbers outside the reference's range and of
//! labels the reference does not have. The callers count ([`QualityCounts`]: `compare`'s
//! loaders, the monitor's accumulators); the shares are defined here, once. Definitions and
//! defaults: docs/statistics.md, "Data quality".

/// What one side of a column holds, counted by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QualityCounts {
    /// Every cell of the column: usable values, missing, non-finite and mistyped cells.
    pub cells: u64,
    pub missing: u64,
    /// Cells of the wrong type (text or a boolean in a numeric feature). `compare` types a
    /// whole column at once (a column with text is categorical), so it never has any.
    pub type_mismatch: u64,
    /// Usable values: finite numbers, or present labels.
    pub values: u64,
    /// Numeric: usable values below the reference's minimum or above its maximum.
    pub out_of_range: u64,
    /// Categorical: usable labels the reference does not have.
    pub unseen: u64,
    /// Whether the reference has a usable value (a range, categories) to compare with.
    pub reference_usable: bool,
}

/// `part / whole`; NaN when `whole` is 0 (nothing to take a share of).
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// Missing cells among all cells.
pub fn missing_share(counts: &QualityCounts) -> f64 {
    share(counts.missing, counts.cells)
}

/// Mistyped cells among all cells.
pub fn type_mismatch_share(counts: &QualityCounts) -> f64 {
    share(counts.type_mismatch, counts.cells)
}

/// Values outside `[min, max]` of the reference among the usable values; NaN without a reference.
pub fn out_of_range_share(counts: &QualityCounts) -> f64 {
    if counts.reference_usable {
        share(counts.out_of_range, counts.values)
    } else {
        f64::NAN
    }
}

/// Labels the reference does not have among the usable labels; NaN without a reference.
pub fn unseen_category_share(counts: &QualityCounts) -> f64 {
    if counts.reference_usable {
        share(counts.unseen, counts.values)
    } else {
        f64::NAN
    }
}

/// How many of `sorted` (ascending, finite) lie outside `[min, max]` of `reference_sorted`
/// (ascending, finite); 0 when the reference is empty.
pub fn count_out_of_range(reference_sorted: &[f64], sorted: &[f64]) -> u64 {
    let (Some(&min), Some(&max)) = (reference_sorted.first(), reference_sorted.last()) else { return 0 };
    let below = sorted.partition_point(|&v| v < min);
    let above = sorted.len() - sorted.partition_point(|&v| v <= max);
    (below + above) as u64
}

/// How many current values (labels with their counts) have a label the reference's counts
/// do not.
pub fn count_unseen(reference: &[(String, u64)], current: &[(String, u64)]) -> u64 {
    let known: std::collections::HashSet<&str> = reference.iter().map(|(label, _)| label.as_str()).collect();
    current.iter().filter(|(label, _)| !known.contains(label.as_str())).map(|(_, count)| count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_counts_strictly_outside_the_reference_extremes() {
        // Values equal to the reference's min or max are inside.
        assert_eq!(count_out_of_range(&[1.0, 2.0, 3.0], &[0.0, 1.0, 2.5, 3.0, 3.5, 9.0]), 3);
        assert_eq!(count_out_of_range(&[], &[1.0]), 0);
        assert_eq!(count_out_of_range(&[5.0], &[5.0, 5.0]), 0);
    }

    #[test]
    fn unseen_labels_count_with_their_multiplicity() {
        let reference = [("a".to_string(), 3), ("b".to_string(), 1)];
        let current = [("a".to_string(), 2), ("c".to_string(), 4), ("d".to_string(), 1)];
        assert_eq!(count_unseen(&reference, &current), 5);
    }

    #[test]
    fn shares_are_nan_when_there_is_nothing_to_share() {
        let empty = QualityCounts::default();
        assert!(missing_share(&empty).is_nan());
        assert!(out_of_range_share(&QualityCounts { values: 3, out_of_range: 1, ..empty }).is_nan());
        let counts = QualityCounts { cells: 8, missing: 2, values: 4, unseen: 1, reference_usable: true, ..empty };
        assert_eq!((missing_share(&counts), unseen_category_share(&counts)), (0.25, 0.25));
    }
}
