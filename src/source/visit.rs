//! The one-pass JSON walk behind [`super::Decoder`]: serde seeds and visitors that follow the
//! trie of configured pointers ([`super::plan::Plan`]) — a node's value, an object's keys
//! (resolved to a child node or a container member without allocating), its members — and
//! record what they find in the walk's state (`walk.rs`). Values off the pointers are skipped
//! with `IgnoredAny`; a node consumed twice is captured as a `RawValue` once and walked once
//! per consumer. The only error raised on purpose stops the ordering scan at the event time.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::compiled::Compiled;
use super::plan::{escape, show, Container, Leaf, Lookup, Node, Plan};
use super::spec::DecodeError;
use super::walk::{scalar, Kind, Scalar, State, Walk};
use crate::record::Value;

/// Walks `text` with `plan`. Err only for invalid JSON or a recorded field error.
pub(super) fn run(dec: &Compiled, plan: &Plan, st: &mut State, text: &str) -> Result<(), DecodeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = {
        let mut walk = Walk { dec, plan, st: &mut *st };
        NodeSeed { w: &mut walk, node: 0 }.deserialize(&mut de).and_then(|()| de.end())
    };
    if let Err(e) = parsed {
        if !st.stopped {
            return Err(DecodeError::InvalidJson(e.to_string()));
        }
    }
    st.error.take().map_or(Ok(()), Err)
}

const STOP: &str = "event time found";

/// The value at a plan node.
pub(super) struct NodeSeed<'w, 'a> {
    pub(super) w: &'w mut Walk<'a>,
    pub(super) node: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let plan = self.w.plan;
        let node = &plan.nodes[self.node];
        let structural = self.node == 0 || node.container.is_some() || !node.keys.is_empty();
        match (node.leaves.as_slice(), structural) {
            ([leaf], false) => return leaf_value(self.w, node, *leaf, d),
            ([], true) => return d.deserialize_any(NodeVisitor { w: self.w, node: self.node }),
            _ => {}
        }
        // Several consumers: capture once, walk once per consumer.
        let raw = <&RawValue>::deserialize(d)?;
        for leaf in &node.leaves {
            leaf_value(self.w, node, *leaf, &mut serde_json::Deserializer::from_str(raw.get()))
                .map_err(de::Error::custom)?;
        }
        if structural {
            serde_json::Deserializer::from_str(raw.get())
                .deserialize_any(NodeVisitor { w: self.w, node: self.node })
                .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

fn leaf_value<'de, D: Deserializer<'de>>(w: &mut Walk, node: &Node, leaf: Leaf, d: D) -> Result<(), D::Error> {
    match leaf {
        Leaf::EventTime(format) => {
            let raw = <&RawValue>::deserialize(d)?;
            w.event_time(&node.path, format, raw.get());
            if w.st.stop_at_time {
                w.st.stopped = true;
                return Err(de::Error::custom(STOP));
            }
        }
        Leaf::Feature(i) => {
            let keep_text = w.dec.categorical.get(i).copied().unwrap_or(false);
            let value = scalar(d, keep_text, false)?;
            w.set(i, value, Kind::Features, || show(&node.path));
        }
        Leaf::Score(i) | Leaf::Label(i) => {
            let value = scalar(d, matches!(leaf, Leaf::Label(_)), matches!(leaf, Leaf::Score(_)))?;
            w.st.found_prediction = true;
            let value = match value {
                Scalar::Wrong(what) if matches!(leaf, Leaf::Label(_)) => {
                    w.st.fail(DecodeError::BadPrediction {
                        at: show(&node.path),
                        message: format!("{what} where a label was expected"),
                    });
                    return Ok(());
                }
                other => other,
            };
            w.set(i, value, Kind::Prediction, || show(&node.path));
        }
        Leaf::Key => match scalar(d, true, false)? {
            Scalar::Val(Value::Text(text)) => w.st.key = Some(text.into()),
            Scalar::Val(Value::Bool(b)) => w.st.key = Some(if b { "true" } else { "false" }.into()),
            Scalar::Val(_) => w.st.key = None,
            Scalar::Wrong(what) => w.st.fail(DecodeError::BadKey {
                at: show(&node.path),
                message: format!("{what} where a key was expected"),
            }),
        },
    }
    Ok(())
}

/// What a key or array index leads to.
enum Hit {
    Child(usize),
    Member(usize),
    Both(usize, usize),
    Unknown,
    Skip,
}

fn hit(child: Option<usize>, member: Option<usize>, in_container: bool) -> Hit {
    match (child, member) {
        (Some(c), Some(m)) => Hit::Both(c, m),
        (Some(c), None) => Hit::Child(c),
        (None, Some(m)) => Hit::Member(m),
        (None, None) if in_container => Hit::Unknown,
        (None, None) => Hit::Skip,
    }
}

struct KeySeed<'p> {
    node: &'p Node,
    lookup: Option<&'p Lookup>,
    guess: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Hit;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Hit, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Hit;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Hit, E> {
        let child = self.node.keys.iter().find(|(k, _)| **k == *key).map(|&(_, c)| c);
        let member = self.lookup.and_then(|l| l.find(key, self.guess));
        Ok(hit(child, member, self.lookup.is_some()))
    }
}

/// One member of a features or probabilities object (`index`: its position in an array).
struct MemberSeed<'w, 'a> {
    w: &'w mut Walk<'a>,
    node: usize,
    feature: usize,
    index: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for MemberSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let MemberSeed { w, node, feature, index } = self;
        let node = &w.plan.nodes[node];
        let dec = w.dec;
        let at = || match index {
            Some(j) => format!("{}/{j}", node.path),
            None => format!("{}/{}", node.path, escape(dec.lookup.key(feature))),
        };
        match node.container {
            Some(Container::Features) => {
                let keep_text = dec.categorical.get(feature).copied().unwrap_or(false);
                let value = scalar(d, keep_text, false)?;
                w.set(feature, value, Kind::Features, at);
            }
            Some(Container::Probabilities) => {
                let value = scalar(d, false, true)?;
                w.set(feature, value, Kind::Prediction, at);
            }
            None => {
                IgnoredAny::deserialize(d)?;
            }
        }
        Ok(())
    }
}

/// An object or array on the way to (or holding) what is monitored.
pub(super) struct NodeVisitor<'w, 'a> {
    pub(super) w: &'w mut Walk<'a>,
    pub(super) node: usize,
}

impl<'w, 'a> NodeVisitor<'w, 'a> {
    fn container(&self) -> Option<Container> {
        self.w.plan.nodes[self.node].container
    }

    fn mark_found(&mut self) {
        match self.container() {
            Some(Container::Features) => self.w.st.found_container = true,
            Some(Container::Probabilities) => self.w.st.found_prediction = true,
            None => {}
        }
    }

    /// The value is `what` (a JSON type) where this node expected an object (or array).
    fn wrong<E>(mut self, what: &'static str) -> Result<(), E> {
        self.mark_found();
        let at = || show(&self.w.plan.nodes[self.node].path);
        let error = if self.node == 0 {
            DecodeError::NotAnObject { found: what }
        } else {
            match self.container() {
                Some(Container::Features) => {
                    DecodeError::BadFeatures { at: at(), message: format!("{what} where an object was expected") }
                }
                Some(Container::Probabilities) if what == "null" => return Ok(()),
                Some(Container::Probabilities) => DecodeError::BadPrediction {
                    at: at(),
                    message: format!("{what} where an object or array of probabilities was expected"),
                },
                None => return Ok(()), // The pointers below do not resolve: their values are absent.
            }
        };
        self.w.st.fail(error);
        Ok(())
    }
}

impl<'de> Visitor<'de> for NodeVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.wrong("a boolean")
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.wrong("a string")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.wrong("null")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.mark_found();
        let (w, node) = (self.w, self.node);
        let plan = w.plan;
        let here = &plan.nodes[node];
        let dec: &Compiled = w.dec;
        let lookup = here.container.map(|_| &dec.lookup);
        loop {
            let key = KeySeed { node: here, lookup, guess: w.st.guess };
            match map.next_key_seed(key)? {
                None => return Ok(()),
                Some(Hit::Child(c)) => map.next_value_seed(NodeSeed { w: &mut *w, node: c })?,
                Some(Hit::Member(m)) => {
                    w.st.guess = m + 1;
                    map.next_value_seed(MemberSeed { w: &mut *w, node, feature: m, index: None })?
                }
                Some(Hit::Both(c, m)) => {
                    let raw: &RawValue = map.next_value()?;
                    NodeSeed { w: &mut *w, node: c }
                        .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                        .map_err(de::Error::custom)?;
                    MemberSeed { w: &mut *w, node, feature: m, index: None }
                        .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                        .map_err(de::Error::custom)?;
                }
                Some(Hit::Unknown) => {
                    w.st.unknown = w.st.unknown.saturating_add(1);
                    map.next_value::<IgnoredAny>()?;
                }
                Some(Hit::Skip) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        if self.node == 0 || self.container() == Some(Container::Features) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return self.wrong("an array");
        }
        self.mark_found();
        let (w, node) = (self.w, self.node);
        let plan = w.plan;
        let here = &plan.nodes[node];
        let probabilities = here.container == Some(Container::Probabilities);
        for j in 0usize.. {
            let child = here.indices.iter().find(|&&(i, _)| i == j).map(|&(_, c)| c);
            let member = if probabilities { w.dec.by_index.get(j).copied().flatten() } else { None };
            let more = match hit(child, member, probabilities) {
                Hit::Child(c) => seq.next_element_seed(NodeSeed { w: &mut *w, node: c })?,
                Hit::Member(m) => seq.next_element_seed(MemberSeed { w: &mut *w, node, feature: m, index: Some(j) })?,
                Hit::Both(c, m) => match seq.next_element::<&RawValue>()? {
                    Some(raw) => {
                        NodeSeed { w: &mut *w, node: c }
                            .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                            .map_err(de::Error::custom)?;
                        MemberSeed { w: &mut *w, node, feature: m, index: Some(j) }
                            .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                            .map_err(de::Error::custom)?;
                        Some(())
                    }
                    None => None,
                },
                Hit::Unknown => {
                    let more = seq.next_element::<IgnoredAny>()?.map(|_| ());
                    if more.is_some() {
                        w.st.unknown = w.st.unknown.saturating_add(1);
                    }
                    more
                }
                Hit::Skip => seq.next_element::<IgnoredAny>()?.map(|_| ()),
            };
            if more.is_none() {
                break;
            }
        }
        Ok(())
    }
}
