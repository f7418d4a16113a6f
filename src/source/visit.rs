//! Objects and arrays of the JSON walk (see `walk.rs`): a key seed resolving each key to a
//! child node or a container member without allocating, member values, and the visitor of a
//! node's value (an object, an array, or a scalar where a container was expected).

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::decode::Decoder;
use super::plan::{escape, show, Container, Lookup, Node};
use super::spec::DecodeError;
use super::walk::{scalar, Kind, NodeSeed, Walk};

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
        let dec: &Decoder = w.dec;
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
