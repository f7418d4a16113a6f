//! The Kolmogorov distribution of the two-sided one-sample statistic (scipy's `kstwo`).
