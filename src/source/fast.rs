//! The decoder's fast path for the common message shape: an object with the event time as a
//! top-level member and the features in a top-level object,
//! `{"ts": "2026-11-01T00:00:00.002Z", "features": {"f1": 1.5, "f2": "a", …}, …}`, read by a
//! hand-written scanner that gives up (returns `None`) on anything else, leaving the walk
//! (`visit.rs`) to handle it. The contract with the walk is on [`decode`].

use super::compiled::Compiled;
use super::plan::parse_pointer;
use super::spec::{EventTimeSpec, FeatureSpec, TimeFormat};
use crate::record::Value;

/// Nesting accepted inside skipped values before handing over to the walk (serde_json's
/// own skipper has no limit; the walk decides beyond this).
const MAX_SKIP_DEPTH: usize = 64;

/// 10^k for k ≤ 22: every one is an exact double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The spec shapes the fast path handles, resolved once per decoder.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// The top-level key of the event time and its format; `None`: the Kafka timestamp.
    time: Option<(Box<[u8]>, TimeFormat)>,
    /// The top-level key of the features object.
    features: Box<[u8]>,
}

impl Shape {
    /// The fast shape of `dec`'s spec, if it has one.
    pub(super) fn of(dec: &Compiled) -> Option<Shape> {
        let FeatureSpec::Object { pointer } = &dec.spec.features else { return None };
        if dec.spec.key.is_some() {
            // Keyed streams are predictions and labels (never the object shape): the walk reads them.
            return None;
        }
        let features = single_key(pointer)?;
        let time = match &dec.spec.event_time {
            EventTimeSpec::Field { pointer, format } => Some((single_key(pointer)?, *format)),
            EventTimeSpec::KafkaTimestamp => None,
        };
        if time.as_ref().is_some_and(|(key, _)| *key == features) || dec.names.len() > 128 {
            return None;
        }
        Some(Shape { time, features })
    }
}

/// A one-segment pointer whose key a message writes without escapes.
fn single_key(pointer: &str) -> Option<Box<[u8]>> {
    let segments = parse_pointer(pointer).ok()?;
    let [key] = segments.as_slice() else { return None };
    (!key.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20)).then(|| key.as_bytes().into())
}

/// What a successful fast decode found.
pub(super) struct Fast {
    pub(super) values: Vec<Value>,
    /// `None` when the shape takes the Kafka timestamp.
    pub(super) event_time: Option<i64>,
    pub(super) unknown: u32,
}

/// Decodes `text` if it has the fast shape and no problem at all.
///
/// Why: the serde walk (`visit.rs`) costs about 1,000 instructions per feature (visitor
/// dispatch, a `RawValue` per scalar, key seeds); this hand-written scanner reads the same
/// bytes in a fraction of that and was the largest single cost of the file pipeline.
///
/// Contract: it returns `Some` only for a message it has read completely and found
/// well-formed and free of field errors — then the result is exactly the walk's (same value
/// mapping: strings without escapes, `true`/`false`/`null`, numbers parsed by std's `f64`
/// parser from the same text, categorical numbers kept as text; the same unknown-key count).
/// Anything else — an escape in a string, a duplicate key, a wrong type, a missing member, a
/// syntax error, deep nesting, an unsupported spec — returns `None` and the caller runs the
/// walk, which owns every error and its precedence. So the fast path may be stricter than
/// JSON (it is: no escapes), never looser. `tests/fast.rs` checks the agreement on random and
/// mutated input.
///
/// `bytes` need not be checked UTF-8: the scanner accepts only ASCII outside strings and
/// validates the strings it meets, so `Some` implies the whole message is valid UTF-8 (which
/// spares a second pass over the bytes).
pub(super) fn decode(dec: &Compiled, shape: &Shape, bytes: &[u8]) -> Option<Fast> {
    let mut p = Parser::new(bytes);
    let mut event_time = None;
    let mut features = None;
    p.ws();
    p.eat(b'{')?;
    p.ws();
    loop {
        let key = p.string()?;
        p.ws();
        p.eat(b':')?;
        p.ws();
        match &shape.time {
            Some((time_key, format)) if key == &**time_key => {
                if event_time.is_some() {
                    return None;
                }
                event_time = Some(p.time(*format)?);
            }
            _ if key == &*shape.features => {
                if features.is_some() {
                    return None;
                }
                features = Some(p.features(dec)?);
            }
            _ => p.skip(0)?,
        }
        p.ws();
        match p.next()? {
            b',' => p.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    p.ws();
    if p.i != p.b.len() || (shape.time.is_some() && event_time.is_none()) {
        return None;
    }
    let (values, unknown) = features?;
    Some(Fast { values, event_time, unknown })
}

pub(super) struct Parser<'t> {
    b: &'t [u8],
    i: usize,
}

impl<'t> Parser<'t> {
    pub(super) fn new(b: &'t [u8]) -> Parser<'t> {
        Parser { b, i: 0 }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// serde_json's whitespace.
    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.i += 1;
        }
    }

    /// The contents of a string without escapes or control characters, checked UTF-8
    /// (`None` otherwise: the walk unescapes, or reports the error).
    #[inline]
    fn string(&mut self) -> Option<&'t [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let stop = |c: u8| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c);
        let mut end = start + self.b[start..].iter().position(|&c| stop(c))?;
        if self.b[end] >= 0x80 {
            // Non-ASCII: find the end (no UTF-8 sequence contains '"', '\\' or a control
            // byte), then validate the contents.
            end += self.b[end..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            std::str::from_utf8(&self.b[start..end]).ok()?;
        }
        self.i = end;
        self.eat(b'"')?;
        Some(&self.b[start..end])
    }

    /// [`Self::string`] as text.
    #[inline]
    fn str(&mut self) -> Option<&'t str> {
        // Already validated, so this cannot fail; it re-checks the (short) contents without
        // unsafe code.
        std::str::from_utf8(self.string()?).ok()
    }

    /// A number in JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    #[inline]
    fn number(&mut self) -> Option<&'t [u8]> {
        self.number_and_value().map(|(raw, _)| raw)
    }

    /// [`Self::number`] (its bytes, ASCII) and, for a plain decimal (no exponent part) of at
    /// most 15 digits — an integer `w < 10^15 < 2^53` over `10^k`, `k ≤ 15` — its value
    /// `±w / 10^k`: both operands are exact doubles, so the one IEEE division is the correctly
    /// rounded value of the decimal, the same double as std's parser, which rounds correctly
    /// too (this is Clinger's fast path, which std also takes first). `None` for the value:
    /// use `str::parse::<f64>()`.
    #[inline]
    pub(super) fn number_and_value(&mut self) -> Option<(&'t [u8], Option<f64>)> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let (mut w, mut count) = (0u64, 0usize);
        match self.peek()? {
            b'0' => {
                self.i += 1;
                count = 1;
            }
            b'1'..=b'9' => self.digits(&mut w, &mut count),
            _ => return None,
        }
        let mut fraction = 0usize;
        if self.peek() == Some(b'.') {
            self.i += 1;
            let before = count;
            self.digits(&mut w, &mut count);
            fraction = count - before;
            if fraction == 0 {
                return None;
            }
        }
        let mut plain = true;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            plain = false;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let mut digits = 0;
            self.digits(&mut 0, &mut digits);
            if digits == 0 {
                return None;
            }
        }
        let value = (plain && count <= 15).then(|| {
            let v = w as f64 / POW10[fraction];
            if negative {
                -v
            } else {
                v
            }
        });
        Some((&self.b[start..self.i], value))
    }

    /// Skips digits, counting them and accumulating them into `w` (which wraps past 19 digits;
    /// callers only use it for at most 15).
    #[inline]
    fn digits(&mut self, w: &mut u64, count: &mut usize) {
        while let Some(d @ b'0'..=b'9') = self.peek() {
            self.i += 1;
            *w = w.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            *count += 1;
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// The event time, as the walk's `Walk::event_time` reads it when it succeeds.
    fn time(&mut self, format: TimeFormat) -> Option<i64> {
        let text = match self.peek()? {
            b'"' => self.str()?,
            b'-' | b'0'..=b'9' if format != TimeFormat::Rfc3339 => std::str::from_utf8(self.number()?).ok()?,
            _ => return None,
        };
        super::time::parse_time_text(text, format).ok()
    }

    /// The features object: values in feature order and the count of unmonitored keys.
    fn features(&mut self, dec: &Compiled) -> Option<(Vec<Value>, u32)> {
        let mut values = vec![Value::Missing; dec.names.len()];
        let mut seen = 0u128;
        let mut unknown = 0u32;
        let mut guess = 0;
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some((values, unknown));
        }
        loop {
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            match dec.lookup.find_bytes(key, guess) {
                Some(m) => {
                    guess = m + 1;
                    let bit = 1u128 << m;
                    if seen & bit != 0 {
                        return None;
                    }
                    seen |= bit;
                    let categorical = dec.categorical.get(m).copied().unwrap_or(false);
                    *values.get_mut(m)? = self.scalar(categorical)?;
                }
                None => {
                    unknown = unknown.saturating_add(1);
                    self.skip(1)?;
                }
            }
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some((values, unknown)),
                _ => return None,
            }
        }
    }

    /// A feature value, as `walk::scalar(_, categorical, false)` maps it.
    #[inline]
    fn scalar(&mut self, categorical: bool) -> Option<Value> {
        Some(match self.peek()? {
            b'"' => Value::Text(self.str()?.to_owned()),
            b't' => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Value::Missing
            }
            _ => {
                let (raw, value) = self.number_and_value()?;
                // The text is ASCII: `from_utf8` cannot fail (it is only paid for here).
                match value {
                    Some(v) if !categorical => Value::Number(v),
                    _ => {
                        let raw = std::str::from_utf8(raw).ok()?;
                        if categorical {
                            Value::Text(raw.to_owned())
                        } else {
                            Value::Number(raw.parse::<f64>().unwrap_or(f64::NAN))
                        }
                    }
                }
            }
        })
    }

    /// Skips one well-formed value (`None` for anything else, or nesting past
    /// [`MAX_SKIP_DEPTH`]).
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            open @ (b'{' | b'[') => {
                if depth >= MAX_SKIP_DEPTH {
                    return None;
                }
                self.i += 1;
                let close = if open == b'{' { b'}' } else { b']' };
                self.ws();
                if self.peek() == Some(close) {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.ws();
                        self.eat(b':')?;
                        self.ws();
                    }
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        c if c == close => return Some(()),
                        _ => return None,
                    }
                }
            }
            _ => self.number().map(|_| ()),
        }
    }
}
