//! The serde types of the on-disk format (docs/reference-profiles.md documents it): borrowed structs for
//! writing, owned ones for reading, and their conversion into a [`ReferenceProfile`].
//!
//! Writing embeds numeric arrays as pre-rendered one-line JSON ([`RawValue`]) so the pretty
//! printer keeps each on one line. Reading rejects unknown keys; structural problems (a numeric
//! feature without a sample, …) become messages naming the stream and feature.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{FeatureKind, FeatureProfile, ProfileMeta, ReferenceProfile, StreamProfile, PROFILE_FORMAT_VERSION};
use crate::record::Stream;
use crate::stats::profile::{CategoricalReference, NumericReference};

#[derive(Serialize)]
pub(super) struct FileOut<'a> {
    pub(super) format: &'static str,
    pub(super) format_version: u32,
    pub(super) model_version: Option<&'a str>,
    pub(super) created_at: &'a str,
    pub(super) source: SourceOut<'a>,
    pub(super) binning: &'a str,
    pub(super) streams: BTreeMap<Stream, Vec<FeatureOut<'a>>>,
}

#[derive(Serialize)]
pub(super) struct SourceOut<'a> {
    pub(super) path: &'a str,
    pub(super) sha256: &'a str,
    pub(super) rows: u64,
}

#[derive(Serialize)]
pub(super) struct FeatureOut<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    n: u64,
    missing: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonfinite: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    std: Option<Float>,
    /// Serialised only for numeric features (`Some(None)` writes `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    edges: Option<Option<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bin_counts: Option<Option<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<CountsOut<'a>>,
}

pub(super) fn feature_out(feature: &FeatureProfile) -> FeatureOut<'_> {
    let mut out = FeatureOut {
        name: &feature.name,
        kind: "numeric",
        n: feature.n,
        missing: feature.missing,
        nonfinite: None,
        std: None,
        edges: None,
        bin_counts: None,
        sample: None,
        counts: None,
    };
    match &feature.kind {
        FeatureKind::Numeric(r) => {
            out.nonfinite = Some(feature.nonfinite);
            out.std = Some(Float(r.std));
            out.edges = Some(r.edges.as_ref().map(|e| one_line_json(&e.iter().map(|&v| Float(v)).collect::<Vec<_>>())));
            out.bin_counts = Some(feature.bin_counts.as_ref().map(one_line_json));
            out.sample = Some(one_line_json(&r.sorted));
        }
        FeatureKind::Categorical(r) => {
            out.kind = "categorical";
            out.counts = Some(CountsOut(&r.counts));
        }
    }
    out
}

/// Compact JSON of a value, embedded verbatim by the pretty printer.
fn one_line_json<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Category counts as a JSON object in the stored (byte-sorted) order.
struct CountsOut<'a>(&'a [(String, u64)]);

impl Serialize for CountsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (label, count) in self.0 {
            map.serialize_entry(label, count)?;
        }
        map.end()
    }
}

/// An f64 that may be non-finite: `null` is NaN, `"inf"` / `"-inf"` the infinities.
#[derive(Debug, Clone, Copy)]
struct Float(f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            v if v.is_finite() => serializer.serialize_f64(v),
            v if v.is_nan() => serializer.serialize_none(),
            v if v > 0.0 => serializer.serialize_str("inf"),
            _ => serializer.serialize_str("-inf"),
        }
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FloatVisitor;
        impl<'de> Visitor<'de> for FloatVisitor {
            type Value = Float;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, null, \"inf\" or \"-inf\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Float, E> {
                Ok(Float(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Float, E> {
                Ok(Float(f64::NAN))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Float, E> {
                match v {
                    "inf" => Ok(Float(f64::INFINITY)),
                    "-inf" => Ok(Float(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(FloatVisitor)
    }
}

// ---- reading ----

/// The keys read before anything else, so a newer file gets a version error rather than a
/// complaint about a key this build does not know.
#[derive(Deserialize)]
pub(super) struct Header {
    pub(super) format: Option<String>,
    pub(super) format_version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileIn {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    format_version: u64,
    model_version: Option<String>,
    created_at: String,
    source: SourceIn,
    binning: String,
    streams: BTreeMap<Stream, Vec<FeatureIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceIn {
    path: String,
    sha256: String,
    rows: u64,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum KindIn {
    Numeric,
    Categorical,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureIn {
    name: String,
    #[serde(rename = "type")]
    kind: KindIn,
    n: u64,
    missing: u64,
    #[serde(default)]
    nonfinite: Option<u64>,
    /// `None` only when the key is absent; `null` reads as NaN.
    #[serde(default, deserialize_with = "present")]
    std: Option<Float>,
    #[serde(default)]
    edges: Option<Vec<Float>>,
    #[serde(default)]
    bin_counts: Option<Vec<u64>>,
    #[serde(default)]
    sample: Option<Vec<f64>>,
    #[serde(default)]
    counts: Option<CountsIn>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Float>, D::Error> {
    Float::deserialize(deserializer).map(Some)
}

/// Category counts in file order; duplicates and order are checked by [`validate`].
struct CountsIn(Vec<(String, u64)>);

impl<'de> Deserialize<'de> for CountsIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountsVisitor;
        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = CountsIn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of category counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CountsIn, A::Error> {
                let mut counts = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(entry) = map.next_entry::<String, u64>()? {
                    counts.push(entry);
                }
                Ok(CountsIn(counts))
            }
        }
        deserializer.deserialize_map(CountsVisitor)
    }
}

pub(super) fn profile_from(file: FileIn) -> Result<ReferenceProfile, String> {
    let mut streams = BTreeMap::new();
    for (stream, features) in file.streams {
        let features = features
            .into_iter()
            .map(|f| {
                let name = f.name.clone();
                feature_from(f).map_err(|m| format!("stream {stream}, feature {name:?}: {m}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        streams.insert(stream, StreamProfile { features });
    }
    Ok(ReferenceProfile {
        meta: ProfileMeta {
            format_version: PROFILE_FORMAT_VERSION,
            model_version: file.model_version,
            source_path: file.source.path,
            source_sha256: file.source.sha256,
            rows: file.source.rows,
            created_at: file.created_at,
            binning: file.binning,
        },
        streams,
    })
}

fn feature_from(f: FeatureIn) -> Result<FeatureProfile, String> {
    let kind = match f.kind {
        KindIn::Numeric => {
            if f.counts.is_some() {
                return Err("a numeric feature has no \"counts\"".to_string());
            }
            let sorted = f.sample.ok_or("\"sample\" is missing")?;
            let std = f.std.ok_or("\"std\" is missing")?.0;
            FeatureKind::Numeric(NumericReference {
                sorted,
                std,
                edges: f.edges.map(|e| e.into_iter().map(|v| v.0).collect()),
            })
        }
        KindIn::Categorical => {
            if f.sample.is_some() || f.std.is_some() || f.edges.is_some() {
                return Err("a categorical feature has no \"sample\", \"std\" or \"edges\"".to_string());
            }
            FeatureKind::Categorical(CategoricalReference::from_counts(f.counts.ok_or("\"counts\" is missing")?.0))
        }
    };
    Ok(FeatureProfile {
        name: f.name,
        kind,
        missing: f.missing,
        nonfinite: f.nonfinite.unwrap_or(0),
        n: f.n,
        bin_counts: f.bin_counts,
    })
}
