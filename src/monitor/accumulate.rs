//! Typing a record's values against the reference, and the per-window accumulators.
//!
//! Typing follows `driftd compare`'s rule ([`crate::dataset`]), value by value
//! (`FeaturePlan::type_value`: numbers, labels, missing, non-finite, `type_mismatch`).
//! Accumulators are bounded per window ([`FeatureAccumulator`]): bin counts, values up to
//! `ks_sample_cap` and a KLL sketch beyond; labels up to `max_new_categories` new ones, then
//! [`OVERFLOW_LABEL`]. A trailing reference's plans have no edges and no reference categories
//! (`monitor/trailing.rs`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::record::Value;
use crate::reference::{FeatureKind, FeatureProfile, FeatureType};
use crate::stats::binning::{count_right_closed_sorted, right_closed_bin};
use crate::stats::kll::{KllSketch, DEFAULT_K};
use crate::typing::{classify, Cell};

/// The one bin that new categories share once a window has `max_new_categories` of them. It
/// starts with a control character, which no sane label does.
pub const OVERFLOW_LABEL: &str = "\u{1}driftd:other";

/// A value typed against its feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Typed<'a> {
    /// A finite number and its frozen bin (0 when the binning is not frozen).
    Number {
        value: f64,
        bin: usize,
    },
    NonFinite,
    Missing,
    Mismatch,
    /// A reference category, by index.
    Known(usize),
    /// A label the reference does not have.
    New(Cow<'a, str>),
}

/// What typing and accumulating need from a feature's reference, prepared once per monitor.
#[derive(Debug)]
pub(crate) enum FeaturePlan {
    Numeric {
        /// Interior edges of the frozen binning; `None` under `evidently`, with an empty
        /// reference, and while a trailing reference's window is open.
        edges: Option<Vec<f64>>,
        /// The reference's counts in those bins: the profile's `bin_counts` (counted on the
        /// full reference sample, exact even when `sorted` was subsampled), else counted on
        /// `sorted`.
        reference_counts: Option<Vec<u64>>,
        /// The reference's minimum and maximum (`out_of_range_share`); `None` with an empty or
        /// a trailing reference (then counted at evaluation, from the window's values).
        range: Option<(f64, f64)>,
    },
    Categorical {
        /// Reference label → index in the reference's counts.
        index: HashMap<String, usize>,
    },
}

impl FeaturePlan {
    pub(crate) fn new(feature: &FeatureProfile) -> Self {
        match &feature.kind {
            FeatureKind::Numeric(reference) => FeaturePlan::Numeric {
                edges: reference.edges.clone(),
                reference_counts: reference.edges.as_ref().map(|edges| {
                    feature.bin_counts.clone().unwrap_or_else(|| count_right_closed_sorted(&reference.sorted, edges))
                }),
                // A subsampled reference keeps its extremes (`reference::subsample_sorted`).
                range: reference.sorted.first().zip(reference.sorted.last()).map(|(&min, &max)| (min, max)),
            },
            FeatureKind::Categorical(reference) => FeaturePlan::Categorical {
                index: reference.counts.iter().enumerate().map(|(i, (label, _))| (label.clone(), i)).collect(),
            },
        }
    }

    /// Types one value, following `driftd compare` (see [`crate::dataset`]): in a *numeric*
    /// feature a number or a text that parses as one counts (NaN → missing, ±inf →
    /// non-finite), any other text and a boolean are a `type_mismatch` (excluded, counted); in
    /// a *categorical* feature every present value is a label compared byte-exactly (booleans
    /// are `"true"` / `"false"`; empty text and NaN tokens are missing). A JSON number in a
    /// categorical feature has lost its original text, so it is rendered as an integer when it
    /// is one (`1`, as a CSV or JSON reference writes it) and in Rust's shortest round-trip form
    /// otherwise (`0.5`); a decoder that wants byte-exact labels passes them as [`Value::Text`].
    pub(crate) fn type_value<'a>(&self, value: &'a Value) -> Typed<'a> {
        match self {
            FeaturePlan::Numeric { edges, .. } => {
                let number = |v: f64| {
                    if v.is_nan() {
                        Typed::Missing
                    } else if v.is_infinite() {
                        Typed::NonFinite
                    } else {
                        Typed::Number { value: v, bin: edges.as_deref().map_or(0, |e| right_closed_bin(e, v)) }
                    }
                };
                match value {
                    Value::Number(v) => number(*v),
                    Value::Text(text) => match classify(text) {
                        Cell::Missing => Typed::Missing,
                        Cell::Number(v) => number(v),
                        Cell::Text => Typed::Mismatch,
                    },
                    Value::Bool(_) => Typed::Mismatch,
                    Value::Missing => Typed::Missing,
                }
            }
            FeaturePlan::Categorical { index } => {
                let label = |label: Cow<'a, str>| match index.get(label.as_ref()) {
                    Some(&i) => Typed::Known(i),
                    None => Typed::New(label),
                };
                match value {
                    Value::Text(text) if classify(text) == Cell::Missing => Typed::Missing,
                    Value::Text(text) => label(Cow::Borrowed(text)),
                    Value::Bool(b) => label(Cow::Borrowed(if *b { "true" } else { "false" })),
                    Value::Number(v) if v.is_nan() => Typed::Missing,
                    Value::Number(v) => label(Cow::Owned(render_number(*v))),
                    Value::Missing => Typed::Missing,
                }
            }
        }
    }
}

/// The kind `driftd compare` gives a column holding these values (`dataset::builder`: a column
/// starts numeric and turns categorical at its first present cell that is not a number):
/// categorical if some value is a boolean or a text that is neither missing nor a number,
/// numeric otherwise (a column of missing values only too). For a monitor whose features are
/// known by name only, e.g. a trailing reference's skeleton built from a first sample.
pub fn infer_feature_type<'a>(values: impl IntoIterator<Item = &'a Value>) -> FeatureType {
    let categorical = values.into_iter().any(|value| match value {
        Value::Bool(_) => true,
        Value::Text(text) => classify(text) == Cell::Text,
        Value::Number(_) | Value::Missing => false,
    });
    if categorical {
        FeatureType::Categorical
    } else {
        FeatureType::Numeric
    }
}

/// A number as a categorical label: integers without a fraction (`1`), else `{:?}` (`0.5`, `inf`).
fn render_number(v: f64) -> String {
    // 2^53: beyond it not every integer is representable and `{:?}` (`1e16`) is the honest form.
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// One window's state: an accumulator per feature of the stream, in feature order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowState {
    pub features: Vec<FeatureAccumulator>,
}

/// One feature's accumulator, bounded per window: numeric → one counter per frozen bin plus
/// the values up to `ks_sample_cap` (8 bytes each), and beyond the cap a KLL sketch
/// ([`KllSketch`], `k` = [`crate::stats::kll::DEFAULT_K`]: about 650 items whatever the
/// window's size) into which the stored values are moved when the cap is passed; categorical
/// → one counter per reference category plus at most `max_new_categories` labels unseen in the
/// reference (further new labels share the [`OVERFLOW_LABEL`] bin). A trailing reference's
/// plans have no edges and no reference categories (`monitor/trailing.rs`): numeric windows
/// keep values only, and every label of a categorical window counts against
/// `max_new_categories`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureAccumulator {
    Numeric(NumericAccumulator),
    Categorical(CategoricalAccumulator),
}

/// A numeric feature over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericAccumulator {
    /// Counts in the reference's frozen bins (`edges + 1` of them); empty under `evidently`.
    pub bins: Vec<u64>,
    /// The finite values in arrival order while there are at most `ks_sample_cap` of them;
    /// empty once they moved into `sketch`.
    pub values: Vec<f64>,
    /// Once the window has more than `ks_sample_cap` finite values: all of them, in a KLL
    /// sketch (KS and Wasserstein then come from it, with its rank-error bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<KllSketch>,
    /// Finite values seen (`values.len()`, or the sketch's `n`).
    pub n: u64,
    pub missing: u64,
    pub nonfinite: u64,
    pub type_mismatch: u64,
    /// Finite values outside the reference's `[min, max]` (0 without a plan range). Absent
    /// from checkpoints written before it existed: such a window counts from the restart on.
    #[serde(default)]
    pub out_of_range: u64,
}

/// A categorical feature over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalAccumulator {
    /// Counts per reference category (reference order).
    pub known: Vec<u64>,
    /// Counts of labels the reference does not have, at most `max_new_categories` labels.
    pub new: BTreeMap<String, u64>,
    /// Records with a new label that did not fit in `new`.
    pub overflow: u64,
    pub missing: u64,
}

impl NumericAccumulator {
    /// Whether the sample cap was passed (the values are in the sketch).
    pub fn capped(&self) -> bool {
        self.sketch.is_some()
    }
}

impl CategoricalAccumulator {
    pub fn n(&self) -> u64 {
        self.known.iter().sum::<u64>() + self.new.values().sum::<u64>() + self.overflow
    }
}

impl FeatureAccumulator {
    /// An empty accumulator shaped for the feature.
    pub(crate) fn new(plan: &FeaturePlan) -> Self {
        match plan {
            FeaturePlan::Numeric { edges, .. } => FeatureAccumulator::Numeric(NumericAccumulator {
                bins: edges.as_ref().map_or_else(Vec::new, |e| vec![0; e.len() + 1]),
                values: Vec::new(),
                sketch: None,
                n: 0,
                missing: 0,
                nonfinite: 0,
                type_mismatch: 0,
                out_of_range: 0,
            }),
            FeaturePlan::Categorical { index } => FeatureAccumulator::Categorical(CategoricalAccumulator {
                known: vec![0; index.len()],
                new: BTreeMap::new(),
                overflow: 0,
                missing: 0,
            }),
        }
    }

    /// Whether this accumulator has the shape `plan` gives (a checkpoint check).
    pub(crate) fn fits(&self, plan: &FeaturePlan, ks_sample_cap: usize) -> bool {
        match (self, plan) {
            (FeatureAccumulator::Numeric(acc), FeaturePlan::Numeric { edges, .. }) => {
                acc.bins.len() == edges.as_ref().map_or(0, |e| e.len() + 1)
                    && acc.values.iter().all(|v| v.is_finite())
                    && match &acc.sketch {
                        None => acc.values.len() <= ks_sample_cap && acc.values.len() as u64 == acc.n,
                        Some(sketch) => {
                            acc.values.is_empty()
                                && sketch.n() == acc.n
                                && sketch.k() == DEFAULT_K
                                && sketch.check().is_ok()
                        }
                    }
            }
            (FeatureAccumulator::Categorical(acc), FeaturePlan::Categorical { index }) => {
                acc.known.len() == index.len() && acc.new.keys().all(|label| !index.contains_key(label))
            }
            _ => false,
        }
    }

    pub(crate) fn add(
        &mut self,
        plan: &FeaturePlan,
        typed: &Typed<'_>,
        ks_sample_cap: usize,
        max_new_categories: usize,
    ) {
        match (self, typed) {
            (FeatureAccumulator::Numeric(acc), Typed::Number { value, bin }) => {
                if let Some(count) = acc.bins.get_mut(*bin) {
                    *count += 1;
                }
                if let FeaturePlan::Numeric { range: Some((min, max)), .. } = plan {
                    acc.out_of_range += u64::from(*value < *min || *value > *max);
                }
                acc.n += 1;
                if let Some(sketch) = &mut acc.sketch {
                    sketch.update(*value);
                } else if acc.values.len() < ks_sample_cap {
                    acc.values.push(*value);
                } else {
                    // Past the cap: the stored values move into a sketch and their memory is freed.
                    let mut sketch = KllSketch::new(DEFAULT_K);
                    for v in std::mem::take(&mut acc.values) {
                        sketch.update(v);
                    }
                    sketch.update(*value);
                    acc.sketch = Some(sketch);
                }
            }
            (FeatureAccumulator::Numeric(acc), Typed::NonFinite) => acc.nonfinite += 1,
            (FeatureAccumulator::Numeric(acc), Typed::Missing) => acc.missing += 1,
            (FeatureAccumulator::Numeric(acc), Typed::Mismatch) => acc.type_mismatch += 1,
            (FeatureAccumulator::Categorical(acc), Typed::Known(i)) => {
                if let Some(count) = acc.known.get_mut(*i) {
                    *count += 1;
                }
            }
            (FeatureAccumulator::Categorical(acc), Typed::New(label)) => {
                if let Some(count) = acc.new.get_mut(label.as_ref()) {
                    *count += 1;
                } else if acc.new.len() < max_new_categories {
                    acc.new.insert(label.to_string(), 1);
                } else {
                    acc.overflow += 1;
                }
            }
            (FeatureAccumulator::Categorical(acc), Typed::Missing) => acc.missing += 1,
            // Typing is per kind, so the remaining pairs cannot occur.
            _ => {}
        }
    }
}
