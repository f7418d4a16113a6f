//! `driftd compare` with a profile on either side (docs/profiles.md). A raw side is profiled in
//! memory — a raw reference freezes its edges as always, a raw current is binned on the
//! reference profile's — keeping its exact sorted values. Binned statistics come from the
//! bin and category counts through the same functions as raw data (bit for bit); KS and
//! Wasserstein from the sketch of each profiled side, with `D ± ε` (`error_bound`).

use std::path::Path;

use crate::dataset::{CategoricalValues, Format};
use crate::profile::{
    self, build_datasets, edges_detail, same_edges, ColumnSummary, NumericSummary, Profile, ProfileError, RawSample,
};
use crate::stats::binning::Binning;
use crate::stats::kll::DEFAULT_K;
use crate::stats::ks::KsResult;
use crate::stats::profile::{binned_statistics, set_walk_values, Bins};
use crate::stats::psi::ZeroFill;
use crate::stats::quality::{count_out_of_range, QualityCounts};
use crate::stats::sketch_walk::ks_and_wasserstein_sketched;
use crate::stats::statistic::{Stat, StatValues, Statistic};

use super::column::{
    categorical_report, column_drift, numeric_shell, quality_only_reports, statistic_reports, Facts, NumericCounts,
};
use super::report::*;
use super::{CompareError, CompareOptions};

/// Whether either side is a profile (magic bytes, or a `.profile` extension).
pub(super) fn involved(options: &CompareOptions) -> bool {
    profile::is_profile(&options.reference) || profile::is_profile(&options.current)
}

/// One side: a profile file, or raw data profiled here with its exact samples.
struct Side {
    path: String,
    info: DatasetInfo,
    profile: Profile,
    samples: Vec<Option<RawSample>>,
}

/// The comparison, and the binning it used (the reference profile's, when it is one).
pub(super) fn compare(
    options: &CompareOptions,
) -> Result<(DatasetInfo, DatasetInfo, Vec<ColumnReport>, Binning), CompareError> {
    if options.performance.is_some() {
        return Err(input_error(&options.reference, "--target needs both datasets as raw data, not profiles"));
    }
    let reference_file = load_profile(&options.reference)?;
    let current_file = load_profile(&options.current)?;
    let (reference, current) = match (reference_file, current_file) {
        (Some(r), Some(c)) => (r, c),
        (Some(r), None) => {
            let c = raw_side(&options.current, options.current_format, options, Some(&r), &r.profile)?;
            (r, c)
        }
        (None, Some(c)) => (raw_side(&options.reference, options.reference_format, options, None, &c.profile)?, c),
        (None, None) => unreachable!("`involved` saw a profile"),
    };
    let binning: Binning = reference.profile.binning.parse().map_err(|err| {
        CompareError::Profile(ProfileError::Corrupt { path: reference.path.clone(), detail: format!("{err}") })
    })?;
    let mut options = options.clone();
    options.settings.binning = binning.clone();
    let ref_columns = selected(&reference.profile, &options.columns);
    let cur_columns = selected(&current.profile, &options.columns);
    let names = |cols: &[usize], p: &Profile| cols.iter().map(|&i| p.columns[i].name.clone()).collect::<Vec<_>>();
    let (ref_names, cur_names) = (names(&ref_columns, &reference.profile), names(&cur_columns, &current.profile));
    super::check_same_columns(Path::new(&reference.path), &ref_names, Path::new(&current.path), &cur_names)?;
    let mut reports = Vec::with_capacity(ref_columns.len());
    for &i in &ref_columns {
        let name = &reference.profile.columns[i].name;
        let j = current.profile.columns.iter().position(|c| &c.name == name).unwrap_or_default();
        let incompatible = |detail: String| {
            CompareError::Profile(ProfileError::Incompatible {
                path: current.path.clone(),
                other: reference.path.clone(),
                detail,
            })
        };
        let report = match (&reference.profile.columns[i].summary, &current.profile.columns[j].summary) {
            (ColumnSummary::Numeric(r), ColumnSummary::Numeric(c)) => {
                if !same_edges(&r.edges, &c.edges) {
                    let hint = format!("; profile it with --edges-from {} (or compare raw data)", reference.path);
                    return Err(incompatible(edges_detail(name, &c.edges, &r.edges) + &hint));
                }
                let sides = (
                    reference.samples.get(i).and_then(Option::as_ref),
                    current.samples.get(j).and_then(Option::as_ref),
                );
                numeric_report(name.clone(), (r, c), sides, &options)
            }
            (ColumnSummary::Categorical(r), ColumnSummary::Categorical(c)) => {
                categorical_report(name.clone(), values(r), values(c), &options)
            }
            // No present value on the numeric side: categorical without loss, as raw compare.
            (ColumnSummary::Numeric(r), ColumnSummary::Categorical(c)) if r.as_empty_categorical().is_some() => {
                let r = r.as_empty_categorical().unwrap_or_default();
                categorical_report(name.clone(), values(&r), values(c), &options)
            }
            (ColumnSummary::Categorical(r), ColumnSummary::Numeric(c)) if c.as_empty_categorical().is_some() => {
                let c = c.as_empty_categorical().unwrap_or_default();
                categorical_report(name.clone(), values(r), values(&c), &options)
            }
            _ => {
                return Err(incompatible(format!(
                    "column {name:?} is numeric on one side and text on the other; a profile keeps no text to \
                     re-read, so it cannot be compared as categorical (compare the raw files instead)"
                )))
            }
        };
        reports.push(report);
    }
    Ok((reference.info, current.info, reports, binning))
}

fn values(summary: &profile::CategoricalSummary) -> CategoricalValues {
    CategoricalValues { counts: summary.counts.clone(), missing: summary.missing }
}

fn input_error(path: &Path, message: &str) -> CompareError {
    CompareError::Profile(ProfileError::Input { path: path.display().to_string(), message: message.into() })
}

fn load_profile(path: &Path) -> Result<Option<Side>, CompareError> {
    if !profile::is_profile(path) {
        return Ok(None);
    }
    let profile = profile::load(path)?;
    let info = DatasetInfo { path: path.display().to_string(), format: "profile", rows: profile.rows };
    let samples = vec![None; profile.columns.len()];
    Ok(Some(Side { path: info.path.clone(), info, profile, samples }))
}

/// Raw data profiled in memory: with `edges_from` (a raw current) on its edges, else (a raw
/// reference) with edges frozen from its own values by the binning. `other` types the columns.
fn raw_side(
    path: &Path,
    format: Option<Format>,
    options: &CompareOptions,
    edges_from: Option<&Side>,
    other: &Profile,
) -> Result<Side, CompareError> {
    let name = path.display().to_string();
    let other_path = edges_from.map_or_else(|| options.current.display().to_string(), |s| s.path.clone());
    let datasets =
        profile::load_inputs(&[path.to_path_buf()], format, &options.columns, Some((other_path.as_str(), other)))?;
    let info = datasets.first().map(|d| DatasetInfo { path: name.clone(), format: d.format.name(), rows: d.rows });
    let edges = edges_from.map(|s| (s.path.as_str(), &s.profile));
    let (profile, samples) = build_datasets(datasets, &options.settings.binning, edges, DEFAULT_K, true)?;
    let info = info.unwrap_or(DatasetInfo { path: name.clone(), format: "profile", rows: 0 });
    Ok(Side { path: name, info, profile, samples })
}

/// Indices of the columns `--columns` selects (all without it), in the profile's order.
fn selected(profile: &Profile, columns: &Option<Vec<String>>) -> Vec<usize> {
    let keep = |name: &str| {
        columns.as_ref().is_none_or(|patterns| patterns.iter().any(|p| p == name || crate::glob::matches(p, name)))
    };
    (0..profile.columns.len()).filter(|&i| keep(&profile.columns[i].name)).collect()
}

/// A numeric column from the two summaries (and the exact samples of a raw side).
fn numeric_report(
    name: String,
    (r, c): (&NumericSummary, &NumericSummary),
    (r_sample, c_sample): (Option<&RawSample>, Option<&RawSample>),
    options: &CompareOptions,
) -> ColumnReport {
    let counts =
        NumericCounts { n: (r.n, c.n), missing: (r.missing, c.missing), nonfinite: (r.nonfinite, c.nonfinite) };
    let mut report = numeric_shell(name, &counts, options);
    let status = report.status;
    // Data quality of the current side: from its counts; out-of-range needs its values, so
    // only a raw current has it (the reference's min and max are exact in its moments).
    let quality = QualityCounts {
        cells: c.n + c.missing + c.nonfinite,
        missing: c.missing,
        values: c.n,
        reference_usable: r.n > 0,
        out_of_range: c_sample.map_or(0, |cs| count_out_of_range(&[r.moments.min, r.moments.max], &cs.sorted)),
        ..QualityCounts::default()
    };
    if status != ColumnStatus::Ok {
        report.statistics = quality_only_reports(&quality, true, options);
        return report;
    }
    let epsilon = options.settings.epsilon;
    // As `compare_numeric_selected` on frozen edges: the same counts, the same function.
    let (mut values, _): (StatValues, _) =
        binned_statistics(&r.bins, &c.bins, ZeroFill::Epsilon(epsilon), epsilon, &options.statistics, true);
    let mut ks: Option<KsResult> = None;
    let mut bound = None;
    if options.statistics.contains(Statistic::Ks) || options.statistics.contains(Statistic::Wasserstein) {
        let (r_view, c_view) = (r.sketch.sorted_view(), c.sketch.sorted_view());
        let (walk, w) = match (r_sample, c_sample) {
            (Some(rs), _) => ks_and_wasserstein_sketched(&rs.sorted, r.n, &c_view, c.n),
            (None, Some(cs)) => ks_and_wasserstein_sketched(&r_view, r.n, &cs.sorted, c.n),
            (None, None) => ks_and_wasserstein_sketched(&r_view, r.n, &c_view, c.n),
        };
        // Each sketched side's CDF is within its rank error; the errors add.
        let error = |sample: Option<&RawSample>, s: &NumericSummary| {
            if sample.is_some() {
                0.0
            } else {
                s.sketch.normalized_rank_error()
            }
        };
        bound = Some(error(r_sample, r) + error(c_sample, c));
        let std = r_sample.map_or(r.moments.std(), |s| s.std);
        set_walk_values(&mut values, &options.statistics, &walk, w, std);
        ks = Some(walk);
    }
    values.set_quality(&options.statistics, true, &quality);
    if c_sample.is_none() {
        values.set(Stat::OutOfRangeShare, f64::NAN);
    }
    let bins = Bins {
        n_bins: r.bins.len(),
        reference_counts: r.bins.clone(),
        current_counts: c.bins.clone(),
        edges: r.edges.clone(),
    };
    let facts = Facts { bins: &bins, ks_method: ks.map(|k| k.method), dof: None, ks_error_bound: bound };
    report.statistics = statistic_reports(&values, &facts, true, options);
    report.drift = column_drift(&report, options.drift_stat);
    report
}
