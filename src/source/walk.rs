//! What the JSON walk (`visit.rs`) records as it goes: the [`State`] of one message (feature
//! values, event time, what was found, the first field error — recorded, not raised, so the
//! parse goes on and a later syntax error still wins) and how a scalar's raw JSON text becomes
//! a feature value or an event time. No allocation for what is not kept: strings without
//! escapes are borrowed, numbers parsed from their raw text.

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::compiled::Compiled;
use super::plan::{show, Plan};
use super::spec::{DecodeError, TimeFormat};
use super::time::parse_time_text;
use crate::record::Value;

/// What a walk found.
pub(super) struct State {
    pub(super) values: Vec<Value>,
    seen: Seen,
    pub(super) event_time: Option<i64>,
    time_seen: bool,
    pub(super) found_container: bool,
    pub(super) found_prediction: bool,
    /// The join key, as text (a number keeps its JSON text, a boolean is `true` / `false`).
    pub(super) key: Option<Box<str>>,
    pub(super) unknown: u32,
    pub(super) error: Option<DecodeError>,
    /// Feature index expected next in a features object (see `Lookup::find`).
    pub(super) guess: usize,
    pub(super) stop_at_time: bool,
    pub(super) stopped: bool,
}

impl State {
    pub(super) fn new(features: usize, stop_at_time: bool) -> State {
        State {
            values: vec![Value::Missing; features],
            seen: if features <= 128 { Seen::Small(0) } else { Seen::Large(vec![0; features.div_ceil(64)]) },
            event_time: None,
            time_seen: false,
            found_container: false,
            found_prediction: false,
            key: None,
            unknown: 0,
            error: None,
            guess: 0,
            stop_at_time,
            stopped: false,
        }
    }

    pub(super) fn fail(&mut self, error: DecodeError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }
}

/// Which features were set, to reject a key repeated within an object.
enum Seen {
    Small(u128),
    Large(Vec<u64>),
}

impl Seen {
    /// Marks `i`; true if it was already marked.
    fn test_and_set(&mut self, i: usize) -> bool {
        match self {
            Seen::Small(bits) => {
                let mask = 1u128 << (i % 128);
                let was = *bits & mask != 0;
                *bits |= mask;
                was
            }
            Seen::Large(words) => match words.get_mut(i / 64) {
                Some(word) => {
                    let mask = 1u64 << (i % 64);
                    let was = *word & mask != 0;
                    *word |= mask;
                    was
                }
                None => false,
            },
        }
    }
}

pub(super) struct Walk<'a> {
    pub(super) dec: &'a Compiled,
    pub(super) plan: &'a Plan,
    pub(super) st: &'a mut State,
}

/// A scalar as a feature value, or the JSON type that cannot be one.
pub(super) enum Scalar {
    Val(Value),
    Wrong(&'static str),
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Features,
    Prediction,
}

impl Walk<'_> {
    /// Stores feature `i`, or records why not. `at` is only built on error.
    pub(super) fn set(&mut self, i: usize, scalar: Scalar, kind: Kind, at: impl FnOnce() -> String) {
        let error = |message: String| match kind {
            Kind::Features => DecodeError::BadFeatures { at: at(), message },
            Kind::Prediction => DecodeError::BadPrediction { at: at(), message },
        };
        if self.st.seen.test_and_set(i) {
            self.st.fail(error("the key appears twice".into()));
            return;
        }
        match scalar {
            Scalar::Val(value) => {
                if let Some(slot) = self.st.values.get_mut(i) {
                    *slot = value;
                }
            }
            Scalar::Wrong(what) => self.st.fail(error(match kind {
                Kind::Features => format!("{what} where a number, string, boolean or null was expected"),
                Kind::Prediction => format!("{what} where a number (or null) was expected"),
            })),
        }
    }

    pub(super) fn event_time(&mut self, path: &str, format: TimeFormat, raw: &str) {
        let bad = |message: String| DecodeError::BadEventTime { at: show(path), message };
        if std::mem::replace(&mut self.st.time_seen, true) {
            self.st.fail(bad("the key appears twice".into()));
            return;
        }
        let parsed = match raw.as_bytes().first() {
            Some(b'n') => return, // null: missing
            Some(b'"') => match unquote(raw) {
                Some(text) => parse_time_text(&text, format).map_err(|m| format!("{m}: {:?}", snippet(&text))),
                None => Err(BAD_ESCAPE.into()),
            },
            Some(b'{') => Err("an object where a time was expected".into()),
            Some(b'[') => Err("an array where a time was expected".into()),
            Some(b't' | b'f') => Err("a boolean where a time was expected".into()),
            _ if format == TimeFormat::Rfc3339 => Err(format!("the number {} is not an RFC 3339 string", snippet(raw))),
            _ => parse_time_text(raw, format).map_err(|m| format!("{m}: {}", snippet(raw))),
        };
        match parsed {
            Ok(ms) => self.st.event_time = Some(ms),
            Err(message) => self.st.fail(bad(message)),
        }
    }
}

/// The contents of a JSON string token (borrowed unless it has escapes). `None` for a `\u`
/// escape that is not a Unicode scalar (a lone surrogate), which serde_json's skipper lets
/// through.
fn unquote(raw: &str) -> Option<Cow<'_, str>> {
    if raw.len() >= 2 && !raw.contains('\\') {
        Some(Cow::Borrowed(&raw[1..raw.len() - 1]))
    } else {
        serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
    }
}

const BAD_ESCAPE: &str = "a string with an invalid \\u escape";

/// At most 40 characters of `text`, for a log line.
fn snippet(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(40) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

/// Reads a scalar from its raw JSON text. `keep_text` keeps numbers as their JSON text
/// (categorical features, labels); `numeric` accepts only numbers, numeric strings and null
/// (scores, probabilities).
///
/// Numbers are parsed by Rust's `f64` parser from the raw text rather than by serde_json:
/// both round correctly (identical results), and std's is about twice as fast as serde_json's
/// `float_roundtrip` path on 17-digit floats. A number beyond the f64 range is ±inf
/// (non-finite, counted by the monitor), not a parse failure.
pub(super) fn scalar<'de, D: Deserializer<'de>>(d: D, keep_text: bool, numeric: bool) -> Result<Scalar, D::Error> {
    let raw = <&RawValue>::deserialize(d)?.get();
    Ok(match raw.as_bytes().first() {
        Some(b'"') => match unquote(raw) {
            None => Scalar::Wrong(BAD_ESCAPE),
            Some(text) if numeric => match text.trim_ascii().parse::<f64>() {
                Ok(v) => Scalar::Val(Value::Number(v)),
                Err(_) => Scalar::Wrong("a non-numeric string"),
            },
            Some(text) => Scalar::Val(Value::Text(text.into_owned())),
        },
        Some(b't' | b'f') if numeric => Scalar::Wrong("a boolean"),
        Some(b't') => Scalar::Val(Value::Bool(true)),
        Some(b'f') => Scalar::Val(Value::Bool(false)),
        Some(b'n') => Scalar::Val(Value::Missing),
        Some(b'{') => Scalar::Wrong("an object"),
        Some(b'[') => Scalar::Wrong("an array"),
        _ if keep_text => Scalar::Val(Value::Text(raw.to_string())),
        // serde_json has checked the JSON number grammar, a subset of Rust's.
        _ => Scalar::Val(Value::Number(raw.parse::<f64>().unwrap_or(f64::NAN))),
    })
}
