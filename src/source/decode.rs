//! Decoding one message (JSON bytes) into a [`Record`]: the [`Decoder`] compiles a
//! [`DecodeSpec`] once (`compiled.rs`), then reads each message by the fast path for the
//! common shape (`fast.rs`) or, for anything else, by one serde walk along the configured
//! pointers (`visit.rs`, `walk.rs`), which owns every error and its precedence.

use super::compiled::Compiled;
use super::fast;
use super::plan::show;
use super::spec::*;
use super::time::{self, parse_time_text};
use super::{visit, walk};
use crate::record::{Record, Value};
use crate::typing::{classify, Cell};

/// A compiled [`DecodeSpec`] for one feature list; cheap to share (`&self` decoding).
///
/// Inputs: a [`DecodeSpec`] (where the event time, the features or the prediction are), the
/// stream's feature names in the order of its reference profile, and per message the bytes
/// plus a [`DecodeContext`] (monitor, stream, position, Kafka timestamp). Output: a
/// [`Decoded`] record whose `values` follow the feature list (absent keys are
/// [`Value::Missing`]), or a [`DecodeError`] with a stable [`DecodeReason`] label for the
/// `invalid{reason}` metric and a short message naming the field for the log.
///
/// What is monitored:
/// - [`FeatureSpec::Object`]: every key of the object at a pointer (default `/features`;
///   `""` is the message itself, for flat messages). Keys that are not in the feature list
///   are ignored and counted in [`Decoded::unknown_fields`] (schema drift shows up there).
/// - [`FeatureSpec::Pointers`]: one JSON pointer (RFC 6901) per feature name.
/// - [`FeatureSpec::Prediction`]: a score (a number), a label (any scalar; a numeric label
///   keeps its JSON text, `1.50` stays `"1.50"`), or probabilities (a JSON object of
///   class → probability, or an array, with optional class names) monitored per class as the
///   features `class:<name>`.
///
/// Value mapping (the monitor types values against the reference, see [`crate::record`]):
/// number → `Number`, string → `Text`, boolean → `Bool`, null or absent → `Missing`; a
/// feature marked categorical with [`Decoder::with_categorical`] keeps a number's JSON text
/// (`Text("1.50")`), as `driftd compare` does for categorical columns. An object or array
/// where a feature value is expected is `bad_features`; a key repeated within an object is an
/// error of its kind, never a silent "last one wins".
///
/// Invariants: never panics, whatever the bytes (fuzzed in the tests); the size limit is
/// checked before parsing; nesting depth is bounded by serde_json's recursion limit (128),
/// so hostile input cannot overflow the stack. When a message has several problems, the
/// reason is, in this order: too_large, invalid_utf8, invalid_json, not_an_object, the first
/// field error met in document order, then missing_event_time, bad_features (no features
/// object), bad_prediction (no prediction).
///
/// Speed: the common shape (event time and features object as top-level members, no escapes,
/// no problems) is read by a hand-written scanner (`fast.rs`) that gives up on anything else;
/// then one pass of serde_json over the text with visitors that follow only the keys on the
/// configured pointers (a small trie built once) and skip everything else without
/// allocating; no `serde_json::Value` tree. See `visit.rs`.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub(super) compiled: Compiled,
    /// The fast path's shape, when the spec has it (see `fast.rs`).
    pub(super) fast: Option<fast::Shape>,
}

impl Decoder {
    /// Compiles `spec` for a stream whose features are `feature_names` (reference order).
    pub fn new(spec: DecodeSpec, feature_names: Vec<String>) -> Result<Decoder, SpecError> {
        let compiled = Compiled::new(spec, feature_names)?;
        let fast = fast::Shape::of(&compiled);
        Ok(Decoder { compiled, fast })
    }

    /// Marks features as categorical (one flag per feature): their numbers keep their text.
    pub fn with_categorical(mut self, categorical: Vec<bool>) -> Result<Decoder, SpecError> {
        if categorical.len() != self.compiled.names.len() {
            return Err(SpecError::CategoricalLength { expected: self.compiled.names.len(), found: categorical.len() });
        }
        self.compiled.categorical = categorical;
        Ok(self)
    }

    pub fn spec(&self) -> &DecodeSpec {
        &self.compiled.spec
    }

    pub fn feature_names(&self) -> &[String] {
        &self.compiled.names
    }

    /// Decodes one message: the fast path when it applies and finds no problem, else the walk.
    pub fn decode(&self, bytes: &[u8], ctx: DecodeContext) -> Result<Decoded, DecodeError> {
        if bytes.len() > self.compiled.spec.max_message_bytes {
            return Err(DecodeError::TooLarge { size: bytes.len(), limit: self.compiled.spec.max_message_bytes });
        }
        self.decode_unlimited(bytes, ctx)
    }

    /// Decodes the JSON a [`Translator`](super::format::Translator) made of an Avro or
    /// Protobuf message, which it checked against the size limit (its JSON may be longer).
    pub fn decode_translated(&self, json: &[u8], ctx: DecodeContext) -> Result<Decoded, DecodeError> {
        self.decode_unlimited(json, ctx)
    }

    fn decode_unlimited(&self, bytes: &[u8], ctx: DecodeContext) -> Result<Decoded, DecodeError> {
        if let Some(found) = self.fast.as_ref().and_then(|shape| fast::decode(&self.compiled, shape, bytes)) {
            let event_time_ms = match found.event_time {
                Some(ms) => ms,
                None => self.event_time_of(&walk::State::new(0, false), ctx.kafka_timestamp_ms)?,
            };
            let record = Record {
                monitor: ctx.monitor,
                stream: ctx.stream,
                event_time_ms,
                values: found.values,
                position: ctx.position,
                key: None,
            };
            return Ok(Decoded { record, unknown_fields: found.unknown });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() })?;
        self.decode_walk(text, ctx)
    }

    /// [`Self::decode`] without the fast path (for the tests that compare the two).
    #[cfg(test)]
    pub(super) fn decode_slow(&self, bytes: &[u8], ctx: DecodeContext) -> Result<Decoded, DecodeError> {
        self.decode_walk(self.check_bytes(bytes)?, ctx)
    }

    /// [`Self::decode`] by the walk.
    fn decode_walk(&self, text: &str, ctx: DecodeContext) -> Result<Decoded, DecodeError> {
        let mut state = walk::State::new(self.compiled.names.len(), false);
        visit::run(&self.compiled, &self.compiled.plan, &mut state, text)?;
        let event_time_ms = self.event_time_of(&state, ctx.kafka_timestamp_ms)?;
        match &self.compiled.spec.features {
            FeatureSpec::Object { pointer } if !state.found_container => {
                return Err(DecodeError::BadFeatures { at: show(pointer), message: "no object there".into() });
            }
            FeatureSpec::Prediction { pointer, .. } if !state.found_prediction => {
                return Err(DecodeError::BadPrediction { at: show(pointer), message: "no value there".into() });
            }
            _ => {}
        }
        let record = Record {
            monitor: ctx.monitor,
            stream: ctx.stream,
            event_time_ms,
            values: state.values,
            position: ctx.position,
            key: state.key,
        };
        Ok(Decoded { record, unknown_fields: state.unknown })
    }

    /// Only the event time of a message, stopping the parse as soon as it is found (the file
    /// source's ordering scan). Errors later in the message are not noticed.
    pub fn event_time(&self, bytes: &[u8], kafka_timestamp_ms: Option<i64>) -> Result<i64, DecodeError> {
        if matches!(self.compiled.spec.event_time, EventTimeSpec::KafkaTimestamp) {
            return self.event_time_of(&walk::State::new(0, true), kafka_timestamp_ms);
        }
        let text = self.check_bytes(bytes)?;
        if let Some(ms) = self.leading_time(text) {
            return Ok(ms);
        }
        self.event_time_walk(text, kafka_timestamp_ms)
    }

    /// [`Self::event_time`] by the walk, without the fast path.
    pub(super) fn event_time_walk(&self, text: &str, kafka_timestamp_ms: Option<i64>) -> Result<i64, DecodeError> {
        let mut state = walk::State::new(0, true);
        visit::run(&self.compiled, &self.compiled.time_plan, &mut state, text)?;
        self.event_time_of(&state, kafka_timestamp_ms)
    }

    /// The ordering scan's fast path. When the event time is a top-level member and the message
    /// starts with it as a string without escapes (`{"ts": "2026-11-01T00:00:00.123Z", …`), the
    /// walk reads exactly that member and stops: parse it here, without serde (whose stop is an
    /// error, allocated and positioned: ~2,500 instructions a line). `None` — take the walk —
    /// for anything else, and for a time that does not parse (the walk builds the error).
    fn leading_time(&self, text: &str) -> Option<i64> {
        let EventTimeSpec::Field { format, .. } = &self.compiled.spec.event_time else { return None };
        let root = self.compiled.time_plan.nodes.first()?;
        let [(key, child)] = root.keys.as_slice() else { return None };
        let node = self.compiled.time_plan.nodes.get(*child)?;
        let plain_key = !key.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20);
        if !(plain_key && root.leaves.is_empty() && node.keys.is_empty() && node.container.is_none())
            || node.leaves.len() != 1
        {
            return None;
        }
        let b = text.as_bytes();
        let skip_ws = |mut i: usize| {
            while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                i += 1;
            }
            i
        };
        let mut i = skip_ws(0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = skip_ws(i + 1);
        let key_end = i + 1 + key.len();
        if b.get(i) != Some(&b'"') || b.get(i + 1..key_end) != Some(key.as_bytes()) || b.get(key_end) != Some(&b'"') {
            return None;
        }
        i = skip_ws(key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(i + 1);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let len = b.get(start..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if b[start + len] != b'"' {
            return None;
        }
        parse_time_text(text.get(start..start + len)?, *format).ok()
    }

    fn check_bytes<'b>(&self, bytes: &'b [u8]) -> Result<&'b str, DecodeError> {
        if bytes.len() > self.compiled.spec.max_message_bytes {
            return Err(DecodeError::TooLarge { size: bytes.len(), limit: self.compiled.spec.max_message_bytes });
        }
        std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() })
    }

    fn event_time_of(&self, state: &walk::State, kafka_timestamp_ms: Option<i64>) -> Result<i64, DecodeError> {
        match &self.compiled.spec.event_time {
            EventTimeSpec::Field { pointer, .. } => {
                state.event_time.ok_or_else(|| DecodeError::MissingEventTime { at: show(pointer) })
            }
            EventTimeSpec::KafkaTimestamp => {
                let at = || "the Kafka timestamp".to_string();
                let ms = kafka_timestamp_ms.ok_or_else(|| DecodeError::MissingEventTime { at: at() })?;
                time::check_range(ms).map_err(|m| DecodeError::BadEventTime { at: at(), message: m.into() })
            }
        }
    }
}

/// The text rule of `driftd compare` for a text cell (CSV, Parquet strings): empty or a NaN
/// token → missing, a number → `Number`, anything else → `Text`; a categorical feature keeps
/// a number's text (`02139` stays `Text("02139")`).
pub(super) fn cell_value(text: &str, categorical: bool) -> Value {
    match classify(text) {
        Cell::Missing => Value::Missing,
        Cell::Number(v) if !categorical => Value::Number(v),
        Cell::Number(_) | Cell::Text => Value::Text(text.to_string()),
    }
}
