//! Feature discovery: the feature list of a stream whose reference is not given in advance
//! (`capture` and `trailing` references), read off the stream's first messages ([`Discovery`])
//! or a file's header and first rows ([`discover_file`]).
//!
//! Kinds follow `driftd compare`'s typing rule ([`crate::dataset`]) and the typed decoder is
//! then built with the discovered names and kinds ([`Discovery::decoder`]), so values are typed
//! exactly as for a profile fit from a file. Bounded: at most [`DecodeSpec::max_features`] names
//! per stream (`max_features`, default [`MAX_DISCOVERED_FEATURES`]), the rest counted. Naming rules and bounds: on [`Discovery`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value as Json;

use super::decode::Decoder;
use super::row::{column_of, SourceError};
use super::spec::{DecodeSpec, EventTimeSpec, FeatureSpec, PredictionKind, SpecError, CLASS_PREFIX};
use crate::dataset::Format;
use crate::typing::{classify, Cell};

/// The default cap on features discovered for one stream (`max_features`).
pub use super::spec::DEFAULT_MAX_FEATURES as MAX_DISCOVERED_FEATURES;

/// A discovered feature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiscoveredFeature {
    pub name: String,
    pub categorical: bool,
}

/// Collects the feature list of a stream over its first messages.
///
/// Names, by [`FeatureSpec`]:
/// - `Pointers`: the listed names, in order.
/// - `Prediction` score or label: one feature named after the pointer's last token
///   (`/score` → `score`, `/output/label` → `label`; the root pointer `""` → `prediction`).
/// - `Prediction` probabilities with `classes`: `class:<class>` in the listed order; without
///   them, `class:<key>` of each key of the object (or `class:<i>` of each array position),
///   sorted by name.
/// - `Object`: every key of the object at the pointer in any of the messages seen, sorted by
///   name (keys that appear only later are unknown fields, counted as usual).
///
/// Kinds: a feature is numeric unless one of its present values is a boolean or a text that
/// is not a number; labels are categorical, scores and probabilities numeric.
///
/// Messages that are not JSON objects, or lack the container, contribute nothing here; the
/// typed decoder reports them with their reason like any bad message. The walk uses
/// `serde_json::Value`: it runs on a bounded number of messages, once per stream.
///
/// Bounded: at most [`MAX_DISCOVERED_FEATURES`] open names per stream (the first ones met);
/// the names beyond are counted ([`Discovery::dropped`], logged as `too_many_features` by the
/// caller) and their values later count as unknown fields — hostile or buggy traffic with a new
/// key per message cannot create unbounded series.
#[derive(Debug, Clone)]
pub struct Discovery {
    spec: DecodeSpec,
    features: Vec<DiscoveredFeature>,
    index: HashMap<String, usize>,
    /// Whether the names are fixed by the spec (no new name is ever added).
    fixed: bool,
    messages: u64,
    /// Distinct open names met past the cap (each counted once).
    dropped: std::collections::HashSet<String>,
}

impl Discovery {
    pub fn new(spec: &DecodeSpec) -> Discovery {
        let mut discovery = Discovery {
            spec: spec.clone(),
            features: Vec::new(),
            index: HashMap::new(),
            fixed: true,
            messages: 0,
            dropped: Default::default(),
        };
        match &spec.features {
            FeatureSpec::Object { .. } => discovery.fixed = false,
            FeatureSpec::Pointers(list) => {
                for (name, _) in list {
                    discovery.add(name, false);
                }
            }
            FeatureSpec::Prediction { pointer, kind } => match kind {
                PredictionKind::Score => discovery.add(&prediction_name(pointer), false),
                PredictionKind::Label => discovery.add(&prediction_name(pointer), true),
                PredictionKind::Probabilities { classes: Some(classes) } => {
                    for class in classes {
                        discovery.add(&format!("{CLASS_PREFIX}{class}"), false);
                    }
                }
                PredictionKind::Probabilities { classes: None } => discovery.fixed = false,
            },
        }
        discovery
    }

    /// Messages observed so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Distinct names left out for being past the cap.
    pub fn dropped(&self) -> usize {
        self.dropped.len()
    }

    /// The features found so far, in order.
    pub fn features(&self) -> &[DiscoveredFeature] {
        &self.features
    }

    /// Looks at one message (JSON bytes); anything unreadable is skipped.
    pub fn observe(&mut self, bytes: &[u8]) {
        self.messages += 1;
        if bytes.len() > self.spec.max_message_bytes {
            return;
        }
        let Ok(message) = serde_json::from_slice::<Json>(bytes) else { return };
        if !message.is_object() {
            return;
        }
        match self.spec.features.clone() {
            FeatureSpec::Object { pointer } => {
                if let Some(Json::Object(fields)) = message.pointer(&pointer) {
                    for (key, value) in fields {
                        self.see(key, value);
                    }
                }
            }
            FeatureSpec::Pointers(list) => {
                for (name, pointer) in &list {
                    if let Some(value) = message.pointer(pointer) {
                        self.see(name, value);
                    }
                }
            }
            FeatureSpec::Prediction { pointer, kind: PredictionKind::Probabilities { classes: None } } => {
                match message.pointer(&pointer) {
                    Some(Json::Object(fields)) => {
                        for key in fields.keys() {
                            self.add(&format!("{CLASS_PREFIX}{key}"), false);
                        }
                    }
                    Some(Json::Array(items)) => {
                        for i in 0..items.len() {
                            self.add(&format!("{CLASS_PREFIX}{i}"), false);
                        }
                    }
                    _ => {}
                }
            }
            // Scores, labels and listed classes have fixed names and kinds.
            FeatureSpec::Prediction { .. } => {}
        }
    }

    /// Looks at one flat row: (column, text cell) pairs, the event-time column excluded.
    pub fn observe_row<'a>(&mut self, cells: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.messages += 1;
        for (name, text) in cells {
            if self.fixed && !self.index.contains_key(name) {
                continue;
            }
            let categorical = classify(text) == Cell::Text;
            self.add(name, categorical);
        }
    }

    /// The feature list (empty when no message had a usable container): open names sorted
    /// by name, fixed ones in the spec's order.
    pub fn finish(mut self) -> Vec<DiscoveredFeature> {
        if !self.fixed {
            self.features.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.features
    }

    /// The typed decoder for `features` under `spec`.
    pub fn decoder(spec: DecodeSpec, features: &[DiscoveredFeature]) -> Result<Decoder, SpecError> {
        Decoder::new(spec, features.iter().map(|f| f.name.clone()).collect())?
            .with_categorical(features.iter().map(|f| f.categorical).collect())
    }

    fn see(&mut self, name: &str, value: &Json) {
        let categorical = match value {
            Json::Bool(_) => true,
            Json::String(text) => classify(text) == Cell::Text,
            // Numbers are numeric; null is missing; objects and arrays are bad values,
            // reported by the typed decoder.
            _ => false,
        };
        if matches!(value, Json::Object(_) | Json::Array(_)) && !self.index.contains_key(name) && !self.fixed {
            return;
        }
        self.add(name, categorical);
    }

    /// Adds `name` (when new and the names are open) and marks it categorical if asked.
    fn add(&mut self, name: &str, categorical: bool) {
        match self.index.get(name) {
            Some(&i) => {
                // Scores and probabilities stay numeric whatever they hold (the decoder
                // rejects a text score); other features become categorical on a text.
                let numeric_only = matches!(
                    self.spec.features,
                    FeatureSpec::Prediction { kind: PredictionKind::Score | PredictionKind::Probabilities { .. }, .. }
                );
                if categorical && !numeric_only {
                    self.features[i].categorical = true;
                }
            }
            // Past the cap: counted, in a set that itself stops growing at the cap.
            None if !self.fixed
                && self.features.len() >= self.spec.max_features
                && self.dropped.len() < self.spec.max_features.max(MAX_DISCOVERED_FEATURES) =>
            {
                self.dropped.insert(name.to_string());
            }
            None if !self.fixed && self.features.len() >= self.spec.max_features => {}
            None if !self.fixed || self.messages == 0 => {
                self.index.insert(name.to_string(), self.features.len());
                self.features.push(DiscoveredFeature { name: name.to_string(), categorical });
            }
            None => {}
        }
    }
}

/// The feature name of a score or label prediction at `pointer`: its last token, unescaped.
pub fn prediction_name(pointer: &str) -> String {
    match pointer.rsplit('/').next() {
        Some(last) if !pointer.is_empty() && !last.is_empty() => last.replace("~1", "/").replace("~0", "~"),
        _ => "prediction".to_string(),
    }
}

/// Discovers the features of a file source from its first `limit` messages (JSON Lines) or
/// rows (CSV). Parquet and Arrow IPC sources are not supported yet: one clear error.
///
/// CSV: with an object spec every column but the event-time column is a feature, as
/// `table.rs` maps them.
pub fn discover_file(
    path: &Path,
    format: Format,
    spec: &DecodeSpec,
    limit: u64,
) -> Result<Vec<DiscoveredFeature>, SourceError> {
    let mut discovery = Discovery::new(spec);
    match format {
        Format::JsonLines => {
            let file = std::fs::File::open(path).map_err(|e| SourceError::io(path, e))?;
            let mut reader = BufReader::new(file);
            let mut line = Vec::new();
            while discovery.messages() < limit {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {
                        let text = line.strip_suffix(b"\n").unwrap_or(&line);
                        let text = text.strip_suffix(b"\r").unwrap_or(text);
                        if !text.iter().all(u8::is_ascii_whitespace) {
                            discovery.observe(text);
                        }
                    }
                    Err(e) => return Err(SourceError::io(path, e)),
                }
            }
        }
        Format::Csv => {
            let time = match &spec.event_time {
                EventTimeSpec::Field { pointer, .. } => column_of(path, pointer)?,
                EventTimeSpec::KafkaTimestamp => String::new(),
            };
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(path)
                .map_err(|e| SourceError::io(path, e.to_string()))?;
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| SourceError::io(path, e.to_string()))?
                .iter()
                .map(str::to_string)
                .collect();
            let columns: Vec<(usize, String)> = match &spec.features {
                // A flat prediction or listed features: their columns, by pointer.
                FeatureSpec::Prediction { pointer, kind: PredictionKind::Score | PredictionKind::Label } => {
                    let column = column_of(path, pointer)?;
                    header
                        .iter()
                        .position(|h| *h == column)
                        .map(|i| (i, prediction_name(pointer)))
                        .into_iter()
                        .collect()
                }
                FeatureSpec::Pointers(list) => list
                    .iter()
                    .filter_map(|(name, pointer)| {
                        let column = column_of(path, pointer).ok()?;
                        header.iter().position(|h| *h == column).map(|i| (i, name.clone()))
                    })
                    .collect(),
                _ => header.iter().enumerate().filter(|(_, h)| **h != time).map(|(i, h)| (i, h.clone())).collect(),
            };
            for record in reader.records() {
                if discovery.messages() >= limit {
                    break;
                }
                let Ok(record) = record else { continue };
                discovery.observe_row(columns.iter().map(|(i, name)| (name.as_str(), record.get(*i).unwrap_or(""))));
            }
            // Columns that had no cell at all are still features (numeric, all missing).
            if discovery.messages() == 0 {
                discovery.observe_row(columns.iter().map(|(_, name)| (name.as_str(), "")));
            }
        }
        Format::Parquet | Format::ArrowIpc => {
            return Err(SourceError::unusable(
                path,
                "a captured or trailing reference needs a JSON Lines or CSV file source (Parquet and Arrow \
                 IPC are not supported yet: fit a reference with `reference: {dataset: …}`)",
            ))
        }
    }
    if discovery.dropped() > 0 {
        tracing::warn!(
            file = %path.display(),
            reason = "too_many_features",
            kept = spec.max_features,
            left_out = discovery.dropped(),
            "More distinct feature names than the cap: the first ones are kept, the others are unknown fields."
        );
    }
    Ok(discovery.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TimeFormat;

    fn spec(features: FeatureSpec) -> DecodeSpec {
        DecodeSpec { features, ..DecodeSpec::default() }
    }

    fn discovered(spec: &DecodeSpec, messages: &[&str]) -> Vec<(String, bool)> {
        let mut discovery = Discovery::new(spec);
        for m in messages {
            discovery.observe(m.as_bytes());
        }
        discovery.finish().into_iter().map(|f| (f.name, f.categorical)).collect()
    }

    fn named(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    /// The audit: 25 new keys in each of a file's first 400 lines gave 10,001 features (70,041
    /// metric lines, 699 MB). Now the first MAX_DISCOVERED_FEATURES are kept, the rest counted.
    #[test]
    fn discovery_stops_at_the_feature_cap_and_counts_the_rest() {
        let spec = DecodeSpec {
            event_time: EventTimeSpec::Field { pointer: "/ts".into(), format: crate::source::TimeFormat::EpochMillis },
            features: FeatureSpec::Object { pointer: "/features".into() },
            max_message_bytes: 1 << 20,
            max_features: MAX_DISCOVERED_FEATURES,
            key: None,
        };
        let d = hostile_discovery(&spec);
        assert_eq!(d.features().len(), MAX_DISCOVERED_FEATURES);
        assert_eq!(d.dropped(), MAX_DISCOVERED_FEATURES, "counted up to the cap (10,000 − 1,000 left out)");
        // The kept ones are the first met, in order of the messages.
        assert!(d.features().iter().any(|f| f.name == "f0_0") && !d.features().iter().any(|f| f.name == "f399_0"));
        assert_eq!(d.finish().len(), MAX_DISCOVERED_FEATURES);

        // The stream's `max_features` moves the cap either way.
        for cap in [1, 25, 5000] {
            let d = hostile_discovery(&DecodeSpec { max_features: cap, ..spec.clone() });
            assert_eq!(d.features().len(), cap, "cap {cap}");
            assert!(d.dropped() > 0 && d.dropped() <= cap.max(MAX_DISCOVERED_FEATURES), "cap {cap}: {}", d.dropped());
            let names = d.finish();
            assert_eq!(names.len(), cap);
            assert!(names.iter().any(|f| f.name == "f0_0"), "the first met are kept");
        }
        // A cap above the 10,000 names keeps them all.
        let d = hostile_discovery(&DecodeSpec { max_features: 20_000, ..spec });
        assert_eq!((d.features().len(), d.dropped()), (10_000, 0));
    }

    /// The audit's file: 25 new keys in each of the first 400 messages (10,000 names).
    fn hostile_discovery(spec: &DecodeSpec) -> Discovery {
        let mut d = Discovery::new(spec);
        for line in 0..400 {
            let fields: Vec<String> = (0..25).map(|k| format!("\"f{line}_{k}\": {k}")).collect();
            d.observe(format!("{{\"ts\": 1, \"features\": {{{}}}}}", fields.join(", ")).as_bytes());
        }
        d
    }

    #[test]
    fn an_object_gives_every_key_seen_sorted_typed_by_the_text_rule() {
        let spec = spec(FeatureSpec::Object { pointer: "/features".into() });
        let got = discovered(
            &spec,
            &[
                r#"{"features": {"b": 1, "a": "x", "n": null}}"#,
                "not json",
                r#"[1, 2]"#,
                r#"{"other": {}}"#,
                r#"{"features": {"c": "2.5", "d": true, "b": 3.5, "e": {"nested": 1}}}"#,
                r#"{"features": {"n": 4}}"#,
            ],
        );
        assert_eq!(got, named(&[("a", true), ("b", false), ("c", false), ("d", true), ("n", false)]));
    }

    #[test]
    fn a_text_anywhere_makes_a_feature_categorical() {
        let spec = spec(FeatureSpec::Object { pointer: "".into() });
        let got = discovered(&spec, &[r#"{"x": 1, "y": 2}"#, r#"{"x": "north", "y": " 7 "}"#]);
        assert_eq!(got, named(&[("x", true), ("y", false)]));
    }

    #[test]
    fn listed_pointers_keep_their_names_and_order() {
        let spec = spec(FeatureSpec::Pointers(vec![("zeta".into(), "/f/z".into()), ("alpha".into(), "/a".into())]));
        let got = discovered(&spec, &[r#"{"f": {"z": "red", "extra": 1}, "a": 2}"#, r#"{"a": 3}"#]);
        assert_eq!(got, named(&[("zeta", true), ("alpha", false)]));
    }

    #[test]
    fn predictions_are_named_after_their_pointer_or_classes() {
        let score = spec(FeatureSpec::Prediction { pointer: "/out/score".into(), kind: PredictionKind::Score });
        assert_eq!(discovered(&score, &[r#"{"out": {"score": "high"}}"#]), named(&[("score", false)]));
        let label = spec(FeatureSpec::Prediction { pointer: "/label".into(), kind: PredictionKind::Label });
        assert_eq!(discovered(&label, &[r#"{"label": 1}"#]), named(&[("label", true)]));
        let classes = spec(FeatureSpec::Prediction {
            pointer: "/p".into(),
            kind: PredictionKind::Probabilities { classes: Some(vec!["no".into(), "yes".into()]) },
        });
        assert_eq!(discovered(&classes, &[]), named(&[("class:no", false), ("class:yes", false)]));
        let open = spec(FeatureSpec::Prediction {
            pointer: "/p".into(),
            kind: PredictionKind::Probabilities { classes: None },
        });
        assert_eq!(
            discovered(&open, &[r#"{"p": {"b": 0.4, "a": 0.6}}"#, r#"{"p": [0.1, 0.9]}"#]),
            named(&[("class:0", false), ("class:1", false), ("class:a", false), ("class:b", false)])
        );
        assert_eq!(prediction_name(""), "prediction");
        assert_eq!(prediction_name("/a~1b~0c"), "a/b~c");
    }

    #[test]
    fn the_discovered_decoder_types_categorical_numbers_as_text() {
        let spec = spec(FeatureSpec::Object { pointer: "/features".into() });
        let features = discovered(&spec, &[r#"{"features": {"zip": "A1"}}"#, r#"{"features": {"zip": 75001}}"#]);
        assert_eq!(features, named(&[("zip", true)]));
        let list: Vec<DiscoveredFeature> =
            features.into_iter().map(|(name, categorical)| DiscoveredFeature { name, categorical }).collect();
        let decoder = Discovery::decoder(spec, &list).unwrap();
        let context = crate::source::DecodeContext {
            monitor: 0,
            stream: crate::record::Stream::Inputs,
            position: crate::record::Position::File { line: 1 },
            kafka_timestamp_ms: None,
        };
        let decoded =
            decoder.decode(br#"{"event_time": "2026-01-01T00:00:00Z", "features": {"zip": 75001}}"#, context).unwrap();
        assert_eq!(decoded.record.values, vec![crate::record::Value::Text("75001".into())]);
    }

    #[test]
    fn a_csv_file_gives_its_columns_but_the_event_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, "ts,age,region,score\n2026-01-01T00:00:00Z,41,west,0.5\n2026-01-01T00:01:00Z,,7,0.25\n")
            .unwrap();
        let spec = DecodeSpec {
            event_time: EventTimeSpec::Field { pointer: "/ts".into(), format: TimeFormat::Rfc3339 },
            ..spec(FeatureSpec::Object { pointer: "".into() })
        };
        let got = discover_file(&path, Format::Csv, &spec, 10).unwrap();
        let got: Vec<(String, bool)> = got.into_iter().map(|f| (f.name, f.categorical)).collect();
        assert_eq!(got, named(&[("age", false), ("region", true), ("score", false)]));
        let error = discover_file(&path, Format::Parquet, &spec, 10).unwrap_err().to_string();
        assert!(error.contains("needs a JSON Lines or CSV file source"), "{error}");
    }
}
