//! YAML text → a tree of [`Node`]s that remember where they came from (1-based position and,
//! for scalars, the text as written), so later stages report each problem at its line and
//! column and [`Node::locate`] maps a key path back to a position. Output: the root node, or
//! the first syntax error (nothing sound is left to check after one).
//!
//! Built from `granit-parser`'s events (the parser under serde-saphyr), not serde-saphyr's
//! deserializer, because a serde deserializer stops at the first error (see `de.rs`).
//! Invariants (keys, anchors, aliases, merge keys, the size limits): on [`parse`]; docs/config.md.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::error::{KeyPath, Mark, Problem, Segment};

/// Most nodes a document may expand to (aliases included).
pub const MAX_NODES: usize = 200_000;
/// Deepest nesting of sequences and mappings.
pub const MAX_DEPTH: usize = 64;

/// Most bytes of scalar text (value and source text) a document of `source_len` bytes may
/// expand to, aliases included: 8× the document, at least 4 MiB — far more than any real
/// configuration's anchors give, far less than an alias bomb's gigabytes.
pub fn expansion_budget(source_len: usize) -> usize {
    source_len.saturating_mul(8).max(4 << 20)
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub mark: Mark,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A scalar's value and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    /// The value (escapes processed, `${VAR}` expanded once interpolation has run).
    pub text: String,
    /// Written plain (unquoted, untagged): only plain scalars can be null, booleans or numbers
    /// when the target type allows anything.
    pub plain: bool,
    /// The scalar's source text (quotes included), to place errors inside it.
    pub raw: String,
    /// The text before interpolation, when `${…}` expanded to something else. Error messages
    /// quote this instead of `text`, so a secret taken from the environment never reaches a log.
    pub template: Option<String>,
    /// Interpolation failed (already reported): later stages skip the node silently.
    pub poisoned: bool,
}

impl Scalar {
    /// The value as error messages may quote it.
    pub fn shown(&self) -> &str {
        self.template.as_deref().unwrap_or(&self.text)
    }

    /// A plain `~`, `null` (any case of the YAML core schema) or nothing at all.
    pub fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

/// One `key: value` entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_mark: Mark,
    pub value: Node,
}

impl Node {
    /// What the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Scalar(s) if s.is_null() => "null".to_string(),
            NodeKind::Scalar(s) => {
                // A long value pasted in the wrong place should not flood the terminal.
                let shown = s.shown();
                match shown.char_indices().nth(60) {
                    Some((cut, _)) => format!("{:?}…", &shown[..cut]),
                    None => format!("{shown:?}"),
                }
            }
            NodeKind::Seq(_) => "a list".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }

    /// The node at `path`, if there is one.
    pub fn get(&self, path: &KeyPath) -> Option<&Node> {
        let mut node = self;
        for segment in &path.0 {
            node = node.child(segment)?;
        }
        Some(node)
    }

    /// Position of the node at `path`, or of its deepest ancestor present in the document
    /// (a missing key is reported where its mapping starts).
    pub fn locate(&self, path: &KeyPath) -> Mark {
        let mut node = self;
        for segment in &path.0 {
            match node.child(segment) {
                Some(child) => node = child,
                None => break,
            }
        }
        node.mark
    }

    fn child(&self, segment: &Segment) -> Option<&Node> {
        match (&self.kind, segment) {
            (NodeKind::Map(entries), Segment::Key(key)) => entries.iter().find(|e| &e.key == key).map(|e| &e.value),
            (NodeKind::Seq(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        }
    }
}

fn mark_of(span: &Span) -> Mark {
    Mark {
        line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        column: u32::try_from(span.start.col().saturating_add(1)).unwrap_or(u32::MAX),
    }
}

fn syntax_problem(error: &ScanError) -> Problem {
    let marker = error.marker();
    let mark = Mark {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX).max(1),
        column: u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX),
    };
    Problem::new(mark, KeyPath::root(), format!("YAML syntax error: {}", error.info()))
}

/// Parse one YAML document. Returns the root node (an empty mapping for an empty file) and
/// the structural problems found on the way (duplicate keys, non-string keys, bad merges);
/// a syntax error is returned alone as `Err`.
///
/// Invariants: mapping keys are strings and unique within a mapping (a duplicate is reported
/// and the first occurrence kept; found with a hash per mapping, linear in the keys); anchors
/// and aliases are expanded (an alias is a copy of its anchored node), and so are merge keys
/// (`<<: *defaults`, explicit keys winning); expansion is capped at [`MAX_NODES`] nodes and at
/// [`expansion_budget`] bytes of scalar text, so an alias bomb — many aliases, or a few of one
/// huge scalar — is an error, not an outage. The document is one YAML document; nesting is at
/// most [`MAX_DEPTH`] levels.
pub(crate) fn parse(source: &str) -> Result<(Node, Vec<Problem>), Problem> {
    let mut builder = Builder {
        source,
        events: Parser::new_from_str(source),
        anchors: HashMap::new(),
        nodes: 0,
        bytes: 0,
        budget: expansion_budget(source.len()),
        problems: Vec::new(),
    };
    let mut root: Option<Node> = None;
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(..) if root.is_some() => {
                return Err(Problem::new(
                    mark_of(&span),
                    KeyPath::root(),
                    "only one YAML document is allowed (remove `---`)",
                ));
            }
            Event::DocumentStart(..) => {
                let (first, first_span) = builder.next()?;
                root = Some(builder.node(first, first_span, &KeyPath::root(), 0)?);
            }
            _ => return Err(Problem::new(mark_of(&span), KeyPath::root(), "unexpected YAML event outside a document")),
        }
    }
    let root = root.unwrap_or(Node { kind: NodeKind::Map(Vec::new()), mark: Mark::START });
    Ok((root, builder.problems))
}

struct Builder<'a> {
    source: &'a str,
    events: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    /// Per anchor: its node, and the nodes and scalar bytes an alias to it adds.
    anchors: HashMap<usize, (Node, usize, usize)>,
    nodes: usize,
    /// Scalar bytes so far (value and source text), aliases included.
    bytes: usize,
    budget: usize,
    problems: Vec<Problem>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Problem> {
        match self.events.next() {
            Some(Ok(pair)) => Ok(pair),
            Some(Err(error)) => {
                let mut problem = syntax_problem(&error);
                // `{ size: ${X} }` is a flow mapping holding `$` and a nested `{X}`: quote it.
                let line = self.source.lines().nth(error.marker().line().saturating_sub(1)).unwrap_or_default();
                if line.contains("${") && (line.contains('{') || line.contains('[')) {
                    problem.message.push_str(" (inside `{…}` or `[…]`, quote values that use `${…}`: '${VAR}')");
                }
                Err(problem)
            }
            None => Err(Problem::new(Mark::START, KeyPath::root(), "YAML syntax error: unexpected end of input")),
        }
    }

    fn count(&mut self, n: usize, bytes: usize, mark: Mark) -> Result<(), Problem> {
        self.nodes = self.nodes.saturating_add(n);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_NODES {
            return Err(Problem::new(
                mark,
                KeyPath::root(),
                format!("the document expands to more than {MAX_NODES} nodes (aliases included)"),
            ));
        }
        if self.bytes > self.budget {
            return Err(Problem::new(
                mark,
                KeyPath::root(),
                format!(
                    "the document expands to more than {} bytes of text (aliases included; at most 8× the file, \
                     at least 4 MiB)",
                    self.budget
                ),
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span, path: &KeyPath, depth: usize) -> Result<Node, Problem> {
        let mark = mark_of(&span);
        if depth > MAX_DEPTH {
            return Err(Problem::new(mark, path.clone(), format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.count(1, 0, mark)?;
        let (before, bytes_before) = (self.nodes, self.bytes);
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let forced_string =
                    tag.as_ref().is_some_and(|t| t.handle() == "tag:yaml.org,2002:" && t.suffix() == "str");
                let raw = span.byte_range().and_then(|r| self.source.get(r)).unwrap_or_default().to_string();
                self.count(0, text.len() + raw.len(), mark)?;
                let scalar = Scalar {
                    text: text.into_owned(),
                    plain: style == ScalarStyle::Plain && !forced_string,
                    raw,
                    template: None,
                    poisoned: false,
                };
                (Node { kind: NodeKind::Scalar(scalar), mark }, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(event, span, &path.index(items.len()), depth + 1)?);
                }
                (Node { kind: NodeKind::Seq(items), mark }, anchor)
            }
            Event::MappingStart(_, anchor, _) => (self.mapping(mark, path, depth)?, anchor),
            Event::Alias(id) => {
                let (nodes, bytes) = self
                    .anchors
                    .get(&id)
                    .map(|(_, nodes, bytes)| (*nodes, *bytes))
                    .ok_or_else(|| Problem::new(mark, path.clone(), "alias to an unknown anchor"))?;
                // Counted before the copy is made: a bomb stops here, not after allocating.
                self.count(nodes, bytes, mark)?;
                return Ok(self.anchors[&id].0.clone());
            }
            _ => return Err(Problem::new(mark, path.clone(), "unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), self.nodes - before + 1, self.bytes - bytes_before));
        }
        Ok(node)
    }

    fn mapping(&mut self, mark: Mark, path: &KeyPath, depth: usize) -> Result<Node, Problem> {
        let mut entries: Vec<Entry> = Vec::new();
        // Key → index in `entries`: duplicates found in constant time (a file of 100,000 keys
        // must not take quadratic time).
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<Entry> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::MappingEnd {
                break;
            }
            let key_node = self.node(event, span, path, depth + 1)?;
            let (value_event, value_span) = self.next()?;
            let key = match key_node.kind {
                NodeKind::Scalar(s) if s.plain && s.text == "<<" => {
                    let value = self.node(value_event, value_span, &path.key("<<"), depth + 1)?;
                    self.merge(value, path, &mut merged);
                    continue;
                }
                NodeKind::Scalar(s) => s.text,
                _ => {
                    self.problems.push(Problem::note(key_node.mark, path.clone(), "mapping keys must be strings"));
                    self.node(value_event, value_span, path, depth + 1)?;
                    continue;
                }
            };
            let value = self.node(value_event, value_span, &path.key(&key), depth + 1)?;
            if let Some(&first) = seen.get(&key) {
                let message = format!("duplicate key `{key}` (first defined at line {})", entries[first].key_mark.line);
                self.problems.push(Problem::note(key_node.mark, path.key(&key), message));
                continue;
            }
            seen.insert(key.clone(), entries.len());
            entries.push(Entry { key, key_mark: key_node.mark, value });
        }
        // Merge keys fill in what the mapping does not say itself; the first source wins.
        for entry in merged {
            if !seen.contains_key(&entry.key) {
                seen.insert(entry.key.clone(), entries.len());
                entries.push(entry);
            }
        }
        Ok(Node { kind: NodeKind::Map(entries), mark })
    }

    fn merge(&mut self, value: Node, path: &KeyPath, merged: &mut Vec<Entry>) {
        let sources = match value.kind {
            NodeKind::Seq(items) => items,
            _ => vec![value],
        };
        let mut seen: std::collections::HashSet<String> = merged.iter().map(|e| e.key.clone()).collect();
        for source in sources {
            match source.kind {
                NodeKind::Map(entries) => {
                    for entry in entries {
                        if seen.insert(entry.key.clone()) {
                            merged.push(entry);
                        }
                    }
                }
                _ => self.problems.push(Problem::note(source.mark, path.key("<<"), "`<<` merges mappings only")),
            }
        }
    }
}

#[cfg(test)]
mod tests;
