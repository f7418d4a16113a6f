//! A serde deserializer over the located YAML tree that reports every problem and never
//! stops at the first: [`deserialize`] (with the conventions the schema types follow) and
//! the `Deserializer` impl for scalars, lists, mappings, structs and enums. The reader's
//! state is in `de_node.rs`, the serde access types in `de_access.rs`.

use serde::de::{self, Visitor};

use super::de_access::{EnumAccess, MapAccess, SeqAccess, StructAccess};
use super::de_node::{DeError, Input, NodeDe, Sink};
use super::error::{suggest, KeyPath, Problem};
use super::yaml::{Entry, Node, NodeKind};

/// Deserialize `T` from `root`, appending every problem to `problems`. `None` only when a
/// visitor failed in a way that could not be recovered (the problem is recorded).
///
/// How it keeps going: when a node does not fit (wrong type, unknown key, missing required
/// key, unknown variant), the problem is recorded and the visitor is fed a placeholder of the
/// requested shape (`0`, `""`, an empty list, a struct of placeholders, the enum's first
/// variant), so the derived code never sees an error and every sibling is still checked.
/// Placeholders are *poisoned*: anything below them deserializes silently, so one mistake is
/// one message. The caller discards the value when any problem was recorded.
///
/// Conventions the schema types follow so this works:
/// - optional keys are `Option<T>`, never `#[serde(default)]`: absent struct fields are fed
///   as *missing*, which an `Option` takes as `None` and anything else reports as required;
/// - enums are externally tagged (`profile: PATH`, or a bare name for unit variants); a
///   variant renamed `$map`, `$seq` or `$scalar` is chosen by the node's *shape* when no
///   named variant matches (so `features` can be `"*"`, `{object: …}` or a list without
///   `#[serde(untagged)]`, which would buffer the input and lose positions and recovery);
/// - scalars are typed by the target: `5` is a string for a `String`, `"5"` a number for a
///   `u64`; `~`, `null` and an empty plain value are null.
pub(crate) fn deserialize<T: de::DeserializeOwned>(root: &Node, problems: &mut Vec<Problem>) -> Option<T> {
    let sink = Sink::new(std::mem::take(problems));
    let result = T::deserialize(NodeDe::new(Input::Node(root), KeyPath::root(), &sink));
    *problems = sink.into_inner();
    result.ok()
}

fn parse_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i128>().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    match text.trim() {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        t if t.bytes().any(|b| b.is_ascii_digit()) => t.parse::<f64>().ok(),
        _ => None,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

macro_rules! integer {
    ($method:ident, $ty:ty, $visit:ident, $wide:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let expected = if <$ty>::MIN == 0 {
                format!("a whole number from 0 to {}", <$ty>::MAX)
            } else {
                format!("a whole number from {} to {}", <$ty>::MIN, <$ty>::MAX)
            };
            let value = self.text(&expected).and_then(|text| {
                let parsed = parse_int(text).and_then(|v| <$ty>::try_from(v).ok());
                if parsed.is_none() {
                    self.mismatch(&expected);
                }
                parsed
            });
            let result = visitor.$visit(value.unwrap_or(0) as $wide);
            self.finish(result)
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match self.input {
            Input::Node(node) => match &node.kind {
                NodeKind::Scalar(s) if s.is_null() => visitor.visit_unit(),
                NodeKind::Scalar(s) if s.plain => {
                    if let Some(b) = parse_bool(&s.text) {
                        visitor.visit_bool(b)
                    } else if let Some(v) = parse_int(&s.text).and_then(|v| i64::try_from(v).ok()) {
                        visitor.visit_i64(v)
                    } else if let Some(v) = parse_int(&s.text).and_then(|v| u64::try_from(v).ok()) {
                        visitor.visit_u64(v)
                    } else if let Some(v) = parse_float(&s.text) {
                        visitor.visit_f64(v)
                    } else {
                        visitor.visit_str(&s.text)
                    }
                }
                NodeKind::Scalar(s) => visitor.visit_str(&s.text),
                NodeKind::Seq(items) => visitor.visit_seq(SeqAccess { items: items.iter(), index: 0, de: &self }),
                NodeKind::Map(entries) => {
                    visitor.visit_map(MapAccess { entries: entries.iter(), value: None, de: &self })
                }
            },
            Input::Missing(_) => {
                self.mismatch("a value");
                visitor.visit_unit()
            }
            Input::Poisoned(_) => visitor.visit_unit(),
        };
        self.finish(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let expected = "true or false";
        let value = self.text(expected).and_then(|t| {
            let b = parse_bool(t);
            if b.is_none() {
                self.mismatch(expected);
            }
            b
        });
        let result = visitor.visit_bool(value.unwrap_or(false));
        self.finish(result)
    }

    integer!(deserialize_i8, i8, visit_i64, i64);
    integer!(deserialize_i16, i16, visit_i64, i64);
    integer!(deserialize_i32, i32, visit_i64, i64);
    integer!(deserialize_i64, i64, visit_i64, i64);
    integer!(deserialize_u8, u8, visit_u64, u64);
    integer!(deserialize_u16, u16, visit_u64, u64);
    integer!(deserialize_u32, u32, visit_u64, u64);
    integer!(deserialize_u64, u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let expected = "a number";
        let value = self.text(expected).and_then(|t| {
            let v = parse_float(t);
            if v.is_none() {
                self.mismatch(expected);
            }
            v
        });
        let result = visitor.visit_f64(value.unwrap_or(0.0));
        self.finish(result)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a string").unwrap_or_default();
        let result = visitor.visit_str(text);
        self.finish(result)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match self.input {
            Input::Node(Node { kind: NodeKind::Scalar(s), .. }) if s.is_null() => visitor.visit_none(),
            // Below a problem, `Some(placeholder)`: `None` could mean "use the default" and
            // set off checks that the real value would not (a `${BROKERS}` that failed is not
            // a source without brokers).
            Input::Node(_) | Input::Poisoned(_) => return visitor.visit_some(self),
            Input::Missing(_) => visitor.visit_none(),
        };
        self.finish(result)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.input {
            Input::Node(Node { kind: NodeKind::Scalar(s), .. }) if s.is_null() => {}
            _ => self.mismatch("null"),
        }
        let result = visitor.visit_unit();
        self.finish(result)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match self.input {
            Input::Node(Node { kind: NodeKind::Seq(items), .. }) => items,
            _ => {
                self.mismatch("a list");
                &[]
            }
        };
        let result = visitor.visit_seq(SeqAccess { items: items.iter(), index: 0, de: &self });
        self.finish(result)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries: &[Entry] = match self.input {
            Input::Node(Node { kind: NodeKind::Map(entries), .. }) => entries,
            _ => {
                self.mismatch("a mapping");
                &[]
            }
        };
        let result = visitor.visit_map(MapAccess { entries: entries.iter(), value: None, de: &self });
        self.finish(result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut pairs: Vec<(&'static str, Input<'a>)> = Vec::with_capacity(fields.len());
        match self.input {
            Input::Node(Node { kind: NodeKind::Map(entries), mark }) => {
                for entry in entries.iter().filter(|e| !fields.contains(&e.key.as_str())) {
                    let message = match suggest(&entry.key, fields) {
                        Some(near) => format!("unknown key `{}`; did you mean `{near}`?", entry.key),
                        None => format!("unknown key `{}` (expected one of: {})", entry.key, fields.join(", ")),
                    };
                    self.sink.borrow_mut().push(Problem::note(entry.key_mark, self.path.key(&entry.key), message));
                }
                for field in fields {
                    let input = match entries.iter().find(|e| e.key == *field) {
                        Some(entry) => Input::Node(&entry.value),
                        None => Input::Missing(*mark),
                    };
                    pairs.push((field, input));
                }
            }
            _ => {
                self.mismatch("a mapping");
                pairs.extend(fields.iter().map(|f| (*f, Input::Poisoned(self.mark()))));
            }
        }
        let result = visitor.visit_map(StructAccess { pairs: pairs.into_iter(), value: None, de: &self });
        self.finish(result)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let choice = self.choose_variant(variants);
        let result = visitor.visit_enum(EnumAccess { choice, de: &self });
        self.finish(result)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}
