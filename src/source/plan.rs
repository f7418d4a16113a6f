//! The compiled form of a [`super::DecodeSpec`]: a trie of the configured JSON pointers
//! ([`Plan`]; node 0 is the message root) whose nodes carry what is consumed there — leaves
//! (the event time, a feature, a score or label) and containers (a features object, a
//! probabilities object or array) — and the member lookup of containers.
//!
//! Inputs: RFC 6901 pointers (checked: empty or `/`-prefixed, `~0` / `~1` escapes).
//! Invariants: a node exists only on the path to something consumed; array-index children
//! (`/arr/0`) are also reachable by key, for objects with numeric keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::spec::{SpecError, TimeFormat};

/// A trie of the configured pointers; node 0 is the message root.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) nodes: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// The pointer of this node, for error messages.
    pub(super) path: String,
    /// Object keys leading to child nodes.
    pub(super) keys: Vec<(Box<str>, usize)>,
    /// Array indices leading to child nodes (segments that are canonical indices).
    pub(super) indices: Vec<(usize, usize)>,
    pub(super) leaves: Vec<Leaf>,
    pub(super) container: Option<Container>,
}

/// A value consumed at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaf {
    EventTime(TimeFormat),
    Feature(usize),
    Score(usize),
    Label(usize),
    /// The join key ([`super::DecodeSpec::key`]).
    Key,
}

/// A node whose members are features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Features,
    Probabilities,
}

/// Member name → feature index, with a guess (the next feature in order) tried first:
/// producers write keys in a stable order, so the guess hits almost always and the hash is
/// skipped.
#[derive(Debug, Clone, Default)]
pub(super) struct Lookup {
    pub(super) keys: Vec<Box<str>>,
    map: HashMap<Box<str>, usize, BuildHasherDefault<Fx>>,
}

impl Lookup {
    pub(super) fn new(keys: Vec<Box<str>>) -> Lookup {
        let map = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        Lookup { keys, map }
    }

    #[inline]
    pub(super) fn find(&self, key: &str, guess: usize) -> Option<usize> {
        match self.keys.get(guess) {
            Some(k) if **k == *key => Some(guess),
            _ => self.map.get(key).copied(),
        }
    }

    /// [`Self::find`] for a key known to be UTF-8, given as bytes (the guess is compared
    /// without converting them).
    #[inline]
    pub(super) fn find_bytes(&self, key: &[u8], guess: usize) -> Option<usize> {
        match self.keys.get(guess) {
            Some(k) if k.as_bytes() == key => Some(guess),
            _ => self.map.get(std::str::from_utf8(key).ok()?).copied(),
        }
    }

    pub(super) fn key(&self, i: usize) -> &str {
        self.keys.get(i).map_or("", |k| k)
    }
}

impl Plan {
    pub(super) fn new() -> Plan {
        Plan { nodes: vec![Node::default()] }
    }

    /// The node of `pointer`, created with its ancestors as needed.
    pub(super) fn insert(&mut self, pointer: &str) -> Result<&mut Node, SpecError> {
        let mut at = 0;
        for segment in parse_pointer(pointer)? {
            let found = self.nodes[at].keys.iter().find(|(k, _)| **k == *segment).map(|&(_, c)| c);
            at = match found {
                Some(child) => child,
                None => {
                    let child = self.nodes.len();
                    let path = format!("{}/{}", self.nodes[at].path, escape(&segment));
                    self.nodes.push(Node { path, ..Node::default() });
                    let parent = &mut self.nodes[at];
                    if let Some(index) = array_index(&segment) {
                        parent.indices.push((index, child));
                    }
                    parent.keys.push((segment.into_boxed_str(), child));
                    child
                }
            };
        }
        Ok(&mut self.nodes[at])
    }
}

/// Splits an RFC 6901 pointer into unescaped segments.
pub(super) fn parse_pointer(pointer: &str) -> Result<Vec<String>, SpecError> {
    let invalid = |why| SpecError::InvalidPointer { pointer: pointer.to_string(), why };
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer.strip_prefix('/').ok_or_else(|| invalid("it must be empty or start with '/'"))?;
    rest.split('/')
        .map(|raw| {
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                match (c, c == '~') {
                    (_, false) => out.push(c),
                    (_, true) => match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => return Err(invalid("'~' must be followed by 0 or 1")),
                    },
                }
            }
            Ok(out)
        })
        .collect()
}

/// Escapes a key for a JSON pointer in a message.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A pointer for humans: the root is written `(root)`.
pub(super) fn show(pointer: &str) -> String {
    if pointer.is_empty() {
        "(root)".to_string()
    } else {
        pointer.to_string()
    }
}

/// A segment that can index an array: `0` or digits without a leading zero.
pub(super) fn array_index(segment: &str) -> Option<usize> {
    let ok = segment == "0" || (!segment.is_empty() && !segment.starts_with('0'));
    if ok && segment.bytes().all(|b| b.is_ascii_digit()) {
        segment.parse().ok()
    } else {
        None
    }
}

/// FxHash (rustc's hasher): feature names are short and come from the configuration.
#[derive(Default, Clone, Copy)]
pub(super) struct Fx(u64);

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
