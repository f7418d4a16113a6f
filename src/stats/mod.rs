//! The statistics engine: drift statistics between a reference sample and a current sample.
//!
//! Pure numeric code: no I/O, no async runtime, plain slices in and typed results out, so the
//! offline `compare` command and the daemon's windows share exactly the same numbers. Inputs
//! are already cleaned: missing and non-finite values removed (and counted) by the caller,
//! numeric samples sorted ascending ([`profile`]). Every statistic documents its formula, the
//! scipy / numpy / Evidently call it reproduces and its degenerate cases; [`statistic`] is the
//! registry the rest of driftd reads. One line per file: ARCHITECTURE.md; docs/statistics.md.

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
pub mod performance;
pub mod profile;
pub mod psi;
pub mod quality;
pub mod sketch_walk;
pub mod sort;
pub mod statistic;
pub mod verdict;
pub mod wasserstein;
