//! The state of the located-tree deserializer (`de.rs`) at one node: the node (absent, or
//! *poisoned* below a reported problem), its key path, and the sink every problem goes to.
//! A problem is recorded where it is seen and the visitor gets a placeholder, so an error
//! that reaches a parent is only a signal to unwind ([`DeError::recorded`]).

use std::cell::RefCell;
use std::fmt;

use serde::de;

use super::error::{KeyPath, Mark, Problem};
use super::yaml::{Node, NodeKind, Scalar};

/// The error type the visitors see. Problems are recorded where they arise, so an error that
/// reaches a parent is only a signal to unwind (`recorded`).
#[derive(Debug)]
pub(crate) struct DeError {
    pub(super) message: String,
    pub(super) recorded: bool,
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError { message: msg.to_string(), recorded: false }
    }
}

impl DeError {
    pub(super) fn recorded() -> DeError {
        DeError { message: String::new(), recorded: true }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

pub(super) type Sink = RefCell<Vec<Problem>>;

#[derive(Clone, Copy)]
pub(super) enum Input<'a> {
    Node(&'a Node),
    /// An absent struct field; the mark is its mapping's.
    Missing(Mark),
    /// Below a reported problem: everything deserializes to placeholders, silently.
    Poisoned(Mark),
}

pub(crate) struct NodeDe<'a> {
    pub(super) input: Input<'a>,
    pub(super) path: KeyPath,
    pub(super) sink: &'a Sink,
}

impl<'a> NodeDe<'a> {
    pub(super) fn new(input: Input<'a>, path: KeyPath, sink: &'a Sink) -> Self {
        let input = match input {
            Input::Node(Node { kind: NodeKind::Scalar(Scalar { poisoned: true, .. }), mark }) => Input::Poisoned(*mark),
            other => other,
        };
        NodeDe { input, path, sink }
    }

    pub(super) fn mark(&self) -> Mark {
        match self.input {
            Input::Node(node) => node.mark,
            Input::Missing(mark) | Input::Poisoned(mark) => mark,
        }
    }

    pub(super) fn record(&self, message: impl Into<String>) {
        self.record_at(self.mark(), self.path.clone(), message);
    }

    pub(super) fn record_at(&self, mark: Mark, path: KeyPath, message: impl Into<String>) {
        self.sink.borrow_mut().push(Problem::new(mark, path, message));
    }

    /// Record a visitor's own error at this node; pass on errors recorded below.
    pub(super) fn finish<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|error| {
            if !error.recorded {
                self.record(error.message);
            }
            DeError::recorded()
        })
    }

    /// Report a node that is not what `expected` describes (or is absent); silent below an
    /// earlier problem.
    pub(super) fn mismatch(&self, expected: &str) {
        match self.input {
            Input::Node(node) => self.record(format!("expected {expected}, found {}", node.describe())),
            Input::Missing(_) => self.record(format!("missing required key `{}`", self.last_key())),
            Input::Poisoned(_) => {}
        }
    }

    pub(super) fn last_key(&self) -> String {
        match self.path.0.last() {
            Some(super::error::Segment::Key(key)) => key.clone(),
            _ => String::new(),
        }
    }

    /// The text of a non-null scalar, or `None` after reporting what was found instead.
    pub(super) fn text(&self, expected: &str) -> Option<&'a str> {
        match self.input {
            Input::Node(Node { kind: NodeKind::Scalar(s), .. }) if !s.is_null() => Some(&s.text),
            _ => {
                self.mismatch(expected);
                None
            }
        }
    }

    pub(super) fn poisoned_child(&self, path: KeyPath) -> NodeDe<'a> {
        NodeDe { input: Input::Poisoned(self.mark()), path, sink: self.sink }
    }
}
