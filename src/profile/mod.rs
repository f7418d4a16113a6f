//! Mergeable dataset profiles (`driftd profile`, docs/profiles.md): per column the counts, the
//! bin counts on frozen edges, the category counts, moments and a KLL sketch. Counts, bins and
//! categories add exactly under [`Profile::merge`], so PSI, chi-square, Jensen–Shannon and
//! Hellinger from profiles are the raw data's, bit for bit; the sketch (KS, Wasserstein) and the
//! moments are approximate. Binary file format: `codec.rs`; building from data: `build.rs`.

mod build;
mod codec;
mod error;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::stats::kll::KllSketch;
use crate::stats::profile::align_categories;

pub(crate) use build::load_inputs;
pub use build::{build, build_datasets, BuildOptions, RawSample};
pub use codec::{decode, encode, is_profile, load, save, FORMAT_VERSION, MAGIC};
pub use error::ProfileError;

/// A dataset's profile: one [`ColumnProfile`] per column, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// The binning the edges were frozen with (`quantile`, `equal-width:N`, `edges:…`).
    pub binning: String,
    /// Where the edges came from: `data` (frozen from this profile's own rows) or the profile
    /// file given to `--edges-from`.
    pub edges_from: String,
    /// Data rows profiled (all inputs).
    pub rows: u64,
    /// The files profiled (several after a merge).
    pub inputs: Vec<String>,
    pub columns: Vec<ColumnProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(flatten)]
    pub summary: ColumnSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ColumnSummary {
    Numeric(NumericSummary),
    Categorical(CategoricalSummary),
}

/// A numeric column: `n` present, finite values (the ones every statistic uses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumericSummary {
    pub n: u64,
    pub missing: u64,
    pub nonfinite: u64,
    /// Interior edges of right-closed bins `(−inf, e0], (e0, e1], …, (ek, +inf)`.
    pub edges: Vec<f64>,
    /// `edges.len() + 1` counts, summing to `n`.
    pub bins: Vec<u64>,
    pub moments: Moments,
    #[serde(serialize_with = "sketch_view")]
    pub sketch: KllSketch,
}

/// A categorical column: label counts sorted by label bytes, counts > 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoricalSummary {
    pub missing: u64,
    pub counts: Vec<(String, u64)>,
}

impl NumericSummary {
    /// A column with no present value is numeric only because nothing contradicts it: it
    /// becomes categorical without losing anything (as `compare` re-reads such a column as
    /// text when the other side has text). `None` when it holds values.
    pub fn as_empty_categorical(&self) -> Option<CategoricalSummary> {
        (self.n == 0 && self.nonfinite == 0).then(|| CategoricalSummary { missing: self.missing, counts: Vec::new() })
    }
}

impl CategoricalSummary {
    pub fn n(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c).sum()
    }
}

/// Count, mean, sum of squared deviations (`m2`), min and max of the finite values, merged by
/// Chan et al.'s pairwise update: exact for count, min and max, within rounding for mean and
/// `m2` (their floating-point sums depend on the grouping).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Moments {
    pub count: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments { count: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Moments {
    /// Welford's update with one value.
    pub fn update(&mut self, value: f64) {
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (value - self.mean);
        self.extend_range(value, value);
    }

    /// By `total_cmp`, so that `-0.0` and `0.0` give the same min and max in any order (the
    /// merge of any partition is then the whole's, bit for bit).
    fn extend_range(&mut self, min: f64, max: f64) {
        if min.total_cmp(&self.min).is_lt() {
            self.min = min;
        }
        if max.total_cmp(&self.max).is_gt() {
            self.max = max;
        }
    }

    /// Chan et al.'s combination of two groups.
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let (a, b) = (self.count as f64, other.count as f64);
        let n = a + b;
        let delta = other.mean - self.mean;
        self.mean += delta * b / n;
        self.m2 += other.m2 + delta * delta * a * b / n;
        self.count += other.count;
        self.extend_range(other.min, other.max);
    }

    /// Population standard deviation (`np.std`'s definition; not its bits), NaN when empty.
    pub fn std(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            (self.m2 / self.count as f64).sqrt()
        }
    }
}

/// The JSON view of a sketch: its size and error bound, not its items.
fn sketch_view<S: serde::Serializer>(sketch: &KllSketch, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(4))?;
    map.serialize_entry("k", &sketch.k())?;
    map.serialize_entry("n", &sketch.n())?;
    map.serialize_entry("retained", &sketch.retained())?;
    map.serialize_entry("rank_error_bound", &sketch.normalized_rank_error())?;
    map.end()
}

impl Profile {
    /// The JSON view (`driftd profile show`), pretty-printed with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
        text.push('\n');
        text
    }

    /// Adds `other`, the profile of more rows of the same dataset. `self_path` / `other_path`
    /// name the files in errors. Requires the same binning, columns (names, order and types)
    /// and, per numeric column, the same edges bit for bit: bins on different edges cannot be
    /// added.
    pub fn merge(&mut self, self_path: &str, other: &Profile, other_path: &str) -> Result<(), ProfileError> {
        let differ = |detail: String| ProfileError::Incompatible {
            path: other_path.to_string(),
            other: self_path.to_string(),
            detail,
        };
        if self.binning != other.binning {
            return Err(differ(format!("binning {:?}, not {:?}", other.binning, self.binning)));
        }
        let names = |p: &Profile| p.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(self) != names(other) {
            return Err(differ(format!("columns {:?}, not {:?}", names(other), names(self))));
        }
        for (mine, theirs) in self.columns.iter().zip(&other.columns) {
            match (&mine.summary, &theirs.summary) {
                (ColumnSummary::Numeric(a), ColumnSummary::Numeric(b)) if !same_edges(&a.edges, &b.edges) => {
                    let hint = "; profile every part with --edges-from the same profile";
                    return Err(differ(edges_detail(&mine.name, &b.edges, &a.edges) + hint));
                }
                (ColumnSummary::Numeric(_), ColumnSummary::Numeric(_))
                | (ColumnSummary::Categorical(_), ColumnSummary::Categorical(_)) => {}
                _ => return Err(differ(format!("column {:?} has another type", mine.name))),
            }
        }
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            match (&mut mine.summary, &theirs.summary) {
                (ColumnSummary::Numeric(a), ColumnSummary::Numeric(b)) => {
                    a.n += b.n;
                    a.missing += b.missing;
                    a.nonfinite += b.nonfinite;
                    a.bins.iter_mut().zip(&b.bins).for_each(|(x, y)| *x += y);
                    a.moments.merge(&b.moments);
                    a.sketch.merge(&b.sketch);
                }
                (ColumnSummary::Categorical(a), ColumnSummary::Categorical(b)) => {
                    add_counts(&mut a.counts, &b.counts);
                    a.missing += b.missing;
                }
                _ => unreachable!("types checked above"),
            }
        }
        self.rows += other.rows;
        self.inputs.extend(other.inputs.iter().cloned());
        Ok(())
    }
}

/// Adds label counts (both sorted by label bytes) into `into`, which stays sorted.
pub(crate) fn add_counts(into: &mut Vec<(String, u64)>, counts: &[(String, u64)]) {
    let (labels, a, b) = align_categories(into, counts);
    *into = labels.into_iter().zip(a.iter().zip(&b).map(|(x, y)| x + y)).collect();
}

/// Equal edges, bit for bit (so `-0.0` and `0.0` differ, as they may bin differently nowhere
/// but are not the same frozen edges).
pub fn same_edges(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Why two columns' edges differ, for errors: the first differing edge, or the counts.
pub fn edges_detail(column: &str, found: &[f64], expected: &[f64]) -> String {
    let first = found.iter().zip(expected).position(|(x, y)| x.to_bits() != y.to_bits());
    match first {
        Some(i) if found.len() == expected.len() => format!(
            "column {column:?} has bin edge {i} = {}, not {}: bins on different edges cannot be added or compared exactly",
            found[i], expected[i]
        ),
        _ => format!(
            "column {column:?} has {} bin edges, not {}: bins on different edges cannot be added or compared exactly",
            found.len(),
            expected.len()
        ),
    }
}
