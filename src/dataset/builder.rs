//! Column builder ([`ColumnBuilder`]): a column's cells, one at a time and in file order, into
//! [`ColumnData`], applying the typing rule stated on [`super::Dataset`] and satisfying its
//! invariants.
//!
//! Inputs: text cells (`push_text`, the text rule), typed numbers with or without their
//! original text (`push_number`, `push_f64`, `push_i64`, …) and missing cells. A builder
//! starts numeric and flips to categorical on the first present cell that is not a number;
//! how the numbers before the flip get their text back: on [`ColumnBuilder`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use super::{CategoricalValues, ColumnData, NumericValues};
use crate::typing::{classify, Cell};

/// FxHash (the rustc hasher): category labels are short and come from local files, so a
/// fast non-cryptographic hash beats SipHash several times over on the per-cell lookups.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type LabelMap = HashMap<Box<str>, u64, BuildHasherDefault<FxHasher>>;

#[inline]
fn count_label(counts: &mut LabelMap, label: &str, n: u64) {
    if let Some(c) = counts.get_mut(label) {
        *c += n;
    } else {
        counts.insert(label.into(), n);
    }
}

#[derive(Debug)]
enum State {
    Numeric(NumericValues),
    Categorical { counts: LabelMap, missing: u64 },
}

/// Builds one column.
///
/// A builder starts *numeric* (or *categorical* when forced) and flips to categorical on the
/// first present cell that is not a number. Cells pushed before the flip were kept only as
/// `f64`, which loses their text (`1.50` vs `1.5`), so the builder remembers how many rows
/// came before the flip ([`ColumnBuilder::fixup_rows`]) and the format reader re-reads just
/// those rows of just that column into a categorical builder, merged with
/// [`ColumnBuilder::merge_fixup`]. Keeping every number's text instead would slow down and
/// double the memory of the common all-numeric column to serve a rare case.
///
/// Categorical labels are counted byte-exactly in a hash map; NaN tokens and empty cells are
/// recognised once per distinct label when the column is finished, not once per cell.
#[derive(Debug)]
pub(crate) struct ColumnBuilder {
    state: State,
    rows: u64,
    fixup_rows: u64,
    scratch: String,
}

impl ColumnBuilder {
    pub(crate) fn new(force_categorical: bool) -> Self {
        let state = if force_categorical {
            State::Categorical { counts: LabelMap::default(), missing: 0 }
        } else {
            State::Numeric(NumericValues::default())
        };
        ColumnBuilder { state, rows: 0, fixup_rows: 0, scratch: String::new() }
    }

    /// Cells pushed so far.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self.state, State::Numeric(_))
    }

    /// Rows `0..fixup_rows` held numbers when the column flipped to categorical; the reader
    /// must re-read them (see [`ColumnBuilder`]). 0 when nothing needs re-reading.
    pub(crate) fn fixup_rows(&self) -> u64 {
        self.fixup_rows
    }

    /// Adds the labels of a categorical builder that re-read rows `0..fixup_rows` of this
    /// column. Its missing cells are ignored: they were counted on the first pass.
    pub(crate) fn merge_fixup(&mut self, fixup: ColumnBuilder) {
        if let (State::Categorical { counts, .. }, State::Categorical { counts: extra, .. }) =
            (&mut self.state, fixup.state)
        {
            // Only the numbers are new: the missing cells (NaN tokens included) of those
            // rows were counted on the first pass.
            for (label, n) in extra {
                if matches!(classify(&label), Cell::Number(_)) {
                    *counts.entry(label).or_insert(0) += n;
                }
            }
        }
        self.fixup_rows = 0;
    }

    /// Flips a numeric builder to categorical, remembering which rows need re-reading.
    #[cold]
    pub(crate) fn flip(&mut self) {
        if let State::Numeric(num) = &self.state {
            if !num.values.is_empty() || num.nonfinite > 0 {
                self.fixup_rows = self.rows;
            }
            let missing = num.missing;
            self.state = State::Categorical { counts: LabelMap::default(), missing };
        }
    }

    pub(crate) fn push_missing(&mut self, n: u64) {
        match &mut self.state {
            State::Numeric(num) => num.missing += n,
            State::Categorical { missing, .. } => *missing += n,
        }
        self.rows += n;
    }

    /// Pads with missing cells up to `rows` (JSON keys absent from a line).
    pub(crate) fn pad_to(&mut self, rows: u64) {
        if rows > self.rows {
            self.push_missing(rows - self.rows);
        }
    }

    /// A text cell, under the text rule.
    #[inline]
    pub(crate) fn push_text(&mut self, text: &str) {
        self.push_text_n(text, 1);
    }

    /// `n` consecutive cells with the same text (dictionary-encoded columns).
    #[inline]
    pub(crate) fn push_text_n(&mut self, text: &str, n: u64) {
        if let State::Numeric(num) = &mut self.state {
            match classify(text) {
                Cell::Missing => num.missing += n,
                Cell::Number(v) if v.is_finite() => num.values.extend(std::iter::repeat_n(v, n as usize)),
                Cell::Number(_) => num.nonfinite += n,
                Cell::Text => self.flip(),
            }
        }
        if let State::Categorical { counts, missing } = &mut self.state {
            if text.is_empty() {
                *missing += n;
            } else {
                count_label(counts, text, n);
            }
        }
        self.rows += n;
    }

    /// A typed number with its original text (JSON): the value when numeric, the text
    /// when categorical.
    #[inline]
    pub(crate) fn push_number(&mut self, text: &str, value: f64) {
        match &mut self.state {
            State::Numeric(num) => push_value(num, value),
            State::Categorical { counts, missing } => {
                if value.is_nan() {
                    *missing += 1;
                } else {
                    count_label(counts, text, 1);
                }
            }
        }
        self.rows += 1;
    }

    /// A typed float without text: rendered with `{:?}` when categorical.
    #[inline]
    pub(crate) fn push_f64(&mut self, value: f64) {
        self.push_float(value, value);
    }

    /// A typed `f32`: rendered with `f32`'s own `{:?}` (`0.1`, not `0.10000000149011612`).
    #[inline]
    pub(crate) fn push_f32(&mut self, value: f32) {
        self.push_float(f64::from(value), value);
    }

    /// A float, labelled `shown` (its own type's `{:?}`) when categorical.
    #[inline]
    fn push_float(&mut self, value: f64, shown: impl std::fmt::Debug) {
        match &mut self.state {
            State::Numeric(num) => push_value(num, value),
            State::Categorical { counts, missing } => {
                if value.is_nan() {
                    *missing += 1;
                } else {
                    self.scratch.clear();
                    let _ = write!(self.scratch, "{shown:?}");
                    count_label(counts, &self.scratch, 1);
                }
            }
        }
        self.rows += 1;
    }

    /// A typed integer (any width fits in `i128`): decimal text when categorical.
    #[inline]
    pub(crate) fn push_int(&mut self, value: i128) {
        match &mut self.state {
            State::Numeric(num) => num.values.push(value as f64),
            State::Categorical { counts, .. } => {
                self.scratch.clear();
                let _ = write!(self.scratch, "{value}");
                count_label(counts, &self.scratch, 1);
            }
        }
        self.rows += 1;
    }

    /// `n` cells with a categorical label (booleans); flips a numeric builder.
    pub(crate) fn push_label_n(&mut self, label: &str, n: u64) {
        if n == 0 {
            return;
        }
        if self.is_numeric() {
            self.flip();
        }
        if let State::Categorical { counts, .. } = &mut self.state {
            count_label(counts, label, n);
        }
        self.rows += n;
    }

    /// Mutable access to the values of a numeric builder, for bulk appends of typed columns.
    /// The caller adds the number of cells it appended with [`Self::add_rows`].
    pub(crate) fn numeric_mut(&mut self) -> Option<&mut NumericValues> {
        match &mut self.state {
            State::Numeric(num) => Some(num),
            State::Categorical { .. } => None,
        }
    }

    /// Reserves room for `n` more values in a numeric builder.
    pub(crate) fn reserve(&mut self, n: usize) {
        if let State::Numeric(num) = &mut self.state {
            num.values.reserve(n);
        }
    }

    pub(crate) fn add_rows(&mut self, n: u64) {
        self.rows += n;
    }

    /// The finished column. Labels that are NaN tokens become missing; labels are sorted by
    /// their bytes.
    pub(crate) fn finish(self) -> ColumnData {
        match self.state {
            State::Numeric(num) => {
                debug_assert_eq!(num.values.len() as u64 + num.missing + num.nonfinite, self.rows);
                ColumnData::Numeric(num)
            }
            State::Categorical { counts, mut missing } => {
                let mut out: Vec<(String, u64)> = Vec::with_capacity(counts.len());
                for (label, n) in counts {
                    if n == 0 {
                        continue;
                    }
                    if classify(&label) == Cell::Missing {
                        missing += n;
                    } else {
                        out.push((label.into_string(), n));
                    }
                }
                // `str`'s order is the order of its bytes.
                out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                debug_assert_eq!(out.iter().map(|c| c.1).sum::<u64>() + missing, self.rows);
                ColumnData::Categorical(CategoricalValues { counts: out, missing })
            }
        }
    }
}

/// Appends one typed value to a numeric column: NaN → missing, ±inf → non-finite.
#[inline]
pub(crate) fn push_value(num: &mut NumericValues, value: f64) {
    if value.is_finite() {
        num.values.push(value);
    } else if value.is_nan() {
        num.missing += 1;
    } else {
        num.nonfinite += 1;
    }
}
