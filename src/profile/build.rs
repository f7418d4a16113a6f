//! Datasets → a [`Profile`]: several input files are one dataset (their rows in order). Edges
//! are frozen from the data as `compare` freezes a reference's (the binning on the sorted
//! values), or taken from another profile (`--edges-from`), which is how a current dataset, or
//! one partition of a reference, is profiled so that its bins can be compared or merged.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{CategoricalSummary, ColumnProfile, ColumnSummary, Moments, NumericSummary, Profile, ProfileError};
use crate::dataset::{self, ColumnData, Dataset, Format, LoadOptions};
use crate::stats::binning::{count_right_closed_sorted, Binning};
use crate::stats::kll::KllSketch;
use crate::stats::numeric::std_population;
use crate::stats::sort::sort_floats;

/// What `driftd profile` needs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub inputs: Vec<PathBuf>,
    pub format: Option<Format>,
    pub columns: Option<Vec<String>>,
    pub binning: Binning,
    /// Take every numeric column's edges (and the binning) from this profile: (its path, it).
    pub edges_from: Option<(String, Profile)>,
    /// The sketches' `k`.
    pub k: u16,
}

/// A numeric column's exact values, kept beside its profile when a raw side of a comparison is
/// profiled (KS and Wasserstein are then exact on that side).
#[derive(Debug, Clone, PartialEq)]
pub struct RawSample {
    pub sorted: Vec<f64>,
    /// `np.std` of the values in file order, bit for bit (`stats::numeric::std_population`).
    pub std: f64,
}

pub fn build(options: &BuildOptions) -> Result<Profile, ProfileError> {
    let edges_from = options.edges_from.as_ref().map(|(path, profile)| (path.as_str(), profile));
    let datasets = load_inputs(&options.inputs, options.format, &options.columns, edges_from)?;
    Ok(build_datasets(datasets, &options.binning, edges_from, options.k, false)?.0)
}

/// The inputs read with one typing: a column with text in any input (or categorical in the
/// `edges_from` profile) is categorical in all, the numeric inputs re-read as text, as
/// `compare` reconciles its two files. A column numeric in the profile but text here is an
/// error: a profile keeps no text to re-read.
pub(crate) fn load_inputs(
    paths: &[PathBuf],
    format: Option<Format>,
    columns: &Option<Vec<String>>,
    edges_from: Option<(&str, &Profile)>,
) -> Result<Vec<Dataset>, ProfileError> {
    let mut force: BTreeSet<String> = edges_from
        .iter()
        .flat_map(|(_, p)| &p.columns)
        .filter(|c| matches!(c.summary, ColumnSummary::Categorical(_)))
        .map(|c| c.name.clone())
        .collect();
    let load = |path: &PathBuf, force: &BTreeSet<String>| {
        let options = LoadOptions {
            format,
            columns: columns.clone(),
            force_categorical: force.clone(),
            ..LoadOptions::default()
        };
        dataset::load(path, &options)
    };
    let mut datasets = paths.iter().map(|p| load(p, &force)).collect::<Result<Vec<_>, _>>()?;
    let names = |d: &Dataset| d.columns.iter().map(|c| c.name.clone()).collect::<BTreeSet<_>>();
    if let Some(first) = datasets.first() {
        for other in &datasets[1..] {
            if names(other) != names(first) {
                return Err(ProfileError::Incompatible {
                    path: other.path.display().to_string(),
                    other: first.path.display().to_string(),
                    detail: "the inputs of one profile must have the same columns (or use --columns)".into(),
                });
            }
        }
    }
    let text_somewhere = |d: &Dataset| -> BTreeSet<String> {
        d.columns.iter().filter(|c| matches!(c.data, ColumnData::Categorical(_))).map(|c| c.name.clone()).collect()
    };
    let text: BTreeSet<String> = datasets.iter().flat_map(text_somewhere).collect();
    if let Some((profile_path, profile)) = edges_from {
        // A numeric column without values can still become categorical (nothing to re-read).
        let numeric_there = profile
            .columns
            .iter()
            .filter(|c| matches!(&c.summary, ColumnSummary::Numeric(s) if s.as_empty_categorical().is_none()));
        if let Some(column) = numeric_there.map(|c| &c.name).find(|name| text.contains(*name)) {
            let path = datasets.iter().find(|d| text_somewhere(d).contains(column)).map(|d| d.path.display());
            return Err(ProfileError::Incompatible {
                path: path.map(|p| p.to_string()).unwrap_or_default(),
                other: profile_path.to_string(),
                detail: format!(
                    "column {column:?} has text here but is numeric there; a profile keeps no text to re-read, \
                     so it cannot be compared as categorical (compare the raw files instead)"
                ),
            });
        }
    }
    force.extend(text);
    for (path, dataset) in paths.iter().zip(datasets.iter_mut()) {
        let numeric = dataset.columns.iter().filter(|c| matches!(c.data, ColumnData::Numeric(_)));
        if numeric.clone().any(|c| force.contains(&c.name)) {
            *dataset = load(path, &force)?;
        }
    }
    Ok(datasets)
}

/// The profile of `datasets` (one dataset, rows in order), and with `keep_samples` each numeric
/// column's [`RawSample`] (`None` for categorical columns and without `keep_samples`).
pub fn build_datasets(
    datasets: Vec<Dataset>,
    binning: &Binning,
    edges_from: Option<(&str, &Profile)>,
    k: u16,
    keep_samples: bool,
) -> Result<(Profile, Vec<Option<RawSample>>), ProfileError> {
    let first_path = datasets.first().map(|d| d.path.display().to_string()).unwrap_or_default();
    if edges_from.is_none() && binning.frozen_edges(&[0.0]).is_none() {
        return Err(ProfileError::Input {
            path: first_path,
            message: format!("--psi-binning {binning} cannot be profiled: its bins depend on the current data too"),
        });
    }
    let rows = datasets.iter().map(|d| d.rows).sum();
    let inputs = datasets.iter().map(|d| d.path.display().to_string()).collect();
    let names: Vec<String> =
        datasets.first().map(|d| d.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
    let mut parts: Vec<Vec<ColumnData>> = names.iter().map(|_| Vec::new()).collect();
    for dataset in datasets {
        for column in dataset.columns {
            if let Some(i) = names.iter().position(|n| *n == column.name) {
                parts[i].push(column.data);
            }
        }
    }
    let mut columns = Vec::with_capacity(names.len());
    let mut samples = Vec::with_capacity(names.len());
    for (name, parts) in names.into_iter().zip(parts) {
        let edges = match edges_from {
            None => None,
            Some((path, profile)) => match profile.columns.iter().find(|c| c.name == name).map(|c| &c.summary) {
                Some(ColumnSummary::Numeric(s)) => Some(s.edges.clone()),
                Some(ColumnSummary::Categorical(_)) => None,
                None => {
                    return Err(ProfileError::Incompatible {
                        path: first_path,
                        other: path.to_string(),
                        detail: format!("column {name:?} is not in it"),
                    })
                }
            },
        };
        let (summary, sample) = if parts.iter().all(|p| matches!(p, ColumnData::Numeric(_))) {
            let (summary, sample) = numeric_summary(parts, binning, edges, k, keep_samples);
            (ColumnSummary::Numeric(summary), sample)
        } else {
            (ColumnSummary::Categorical(categorical_summary(parts)), None)
        };
        columns.push(ColumnProfile { name, summary });
        samples.push(sample);
    }
    let (binning, edges_from) = match edges_from {
        Some((path, profile)) => (profile.binning.clone(), path.to_string()),
        None => (binning.to_string(), "data".to_string()),
    };
    Ok((Profile { binning, edges_from, rows, inputs, columns }, samples))
}

/// One numeric column from its parts (all numeric, `load_inputs` reconciled them). Moments and
/// sketch see the values in file order; the bins are counted on the sorted values (the same
/// integers as one value at a time), which the frozen quantile edges need anyway.
fn numeric_summary(
    parts: Vec<ColumnData>,
    binning: &Binning,
    edges: Option<Vec<f64>>,
    k: u16,
    keep_samples: bool,
) -> (NumericSummary, Option<RawSample>) {
    let (mut values, mut missing, mut nonfinite) = (Vec::new(), 0, 0);
    for part in parts {
        if let ColumnData::Numeric(part) = part {
            values.extend(part.values);
            missing += part.missing;
            nonfinite += part.nonfinite;
        }
    }
    let mut moments = Moments::default();
    let mut sketch = KllSketch::new(k);
    for &v in &values {
        moments.update(v);
        sketch.update(v);
    }
    let std = if keep_samples { std_population(&values) } else { f64::NAN };
    sort_floats(&mut values);
    // As `NumericReference::fit`: edges frozen from the sorted values, none for an empty column.
    let edges = edges.unwrap_or_else(|| {
        if values.is_empty() {
            Vec::new()
        } else {
            binning.frozen_edges(&values).unwrap_or_default()
        }
    });
    let bins = count_right_closed_sorted(&values, &edges);
    let n = values.len() as u64;
    let sample = keep_samples.then_some(RawSample { sorted: values, std });
    (NumericSummary { n, missing, nonfinite, edges, bins, moments, sketch }, sample)
}

/// One categorical column: the parts' label counts added.
fn categorical_summary(parts: Vec<ColumnData>) -> CategoricalSummary {
    let mut summary = CategoricalSummary { missing: 0, counts: Vec::new() };
    for part in parts {
        if let ColumnData::Categorical(part) = part {
            super::add_counts(&mut summary.counts, &part.counts);
            summary.missing += part.missing;
        }
    }
    summary
}
