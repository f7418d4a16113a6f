//! The statistics engine: drift statistics between a reference sample and a current sample.
//!
//! Pure numeric code: no I/O, no async runtime, plain slices in and typed results out, so the
//! offline `compare` command and the daemon's windows share exactly the same numbers. Every
//! statistic documents its formula, the scipy / numpy / Evidently function it reproduces, and
//! its behaviour on empty or degenerate input. Inputs are already cleaned: missing and
//! non-finite values are removed (and counted) by the caller, and numeric samples are sorted
//! ascending (see [`profile`]).
//!
//! Layout:
//! - [`statistic`]: the registry — every statistic's names, column types, values, threshold
//!   direction, default and computation; what the rest of driftd reads.
//! - [`numeric`]: numpy-compatible building blocks (pairwise summation, `numpy.quantile`
//!   linear interpolation, `numpy.linspace`, Sturges bin edges, `numpy.std`).
//! - [`binning`]: how values become bins (quantile, Evidently, equal-width, explicit edges)
//!   and bin counting on sorted samples.
//! - [`psi`]: Population Stability Index (numeric and categorical).
//! - [`kll`]: a deterministic, serialisable KLL quantile sketch, and KS / Wasserstein of a
//!   reference sample against it (the daemon's windows beyond `ks_sample_cap`).
//! - [`ks`], [`kolmogorov`]: two-sample Kolmogorov–Smirnov as `scipy.stats.ks_2samp`, and the
//!   Kolmogorov distribution `scipy.stats.kstwo.sf` it needs.
//! - [`merge`]: the branch-free merged walk over two sorted samples (KS, Wasserstein).
//! - [`chisquare`]: Pearson's chi-square goodness of fit of current categories against the
//!   reference proportions.
//! - [`divergence`]: Jensen–Shannon distance and Hellinger distance on binned proportions.
//! - [`kullback_leibler`]: Kullback–Leibler divergence on binned proportions (opt-in).
//! - [`wasserstein`]: first Wasserstein distance, raw and normalised by the reference std.
//! - [`sort`]: radix sort of finite floats (sorting dominates large comparisons).
//! - [`verdict`]: thresholds per statistic, which statistic decides, the dataset verdict.
//! - [`profile`]: a reference profile fit once (frozen edges, sorted sample, category counts)
//!   and the comparison of a current sample against it.

pub mod binning;
pub mod chisquare;
pub mod divergence;
mod double_double;
pub mod kll;
pub mod kolmogorov;
pub mod kolmogorov_limit;
pub mod ks;
pub mod kullback_leibler;
pub mod merge;
pub mod numeric;
pub mod profile;
pub mod psi;
pub mod sort;
pub mod statistic;
pub mod verdict;
pub mod wasserstein;
