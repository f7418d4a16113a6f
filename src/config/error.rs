//! Configuration problems: one [`ConfigError`] per problem, all of them in [`ConfigErrors`].
//!
//! Every problem names the file, the position of the offending YAML node (1-based line and
//! column) when there is one, and the key path (`monitors[0].window.slide`), so the
//! `Display` of [`ConfigErrors`] is one `file:line:column: path: message` line per problem.

use std::fmt;

/// A position in the YAML file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    pub line: u32,
    pub column: u32,
}

impl Mark {
    /// The start of the file.
    pub const START: Mark = Mark { line: 1, column: 1 };
}

/// One segment of a key path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Where a value sits in the document, as a path of keys and indices from the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// The document root.
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        KeyPath(segments)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    // Keys such as librdkafka's `security.protocol` would be ambiguous unquoted.
                    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file, as given on the command line.
    pub file: String,
    /// Position of the offending node; `None` when the problem has no place in the file
    /// (the file cannot be read).
    pub mark: Option<Mark>,
    /// Key path of the offending node; empty for problems of the whole document.
    pub path: KeyPath,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(mark) = self.mark {
            write!(f, ":{}:{}", mark.line, mark.column)?;
        }
        if !self.path.0.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a configuration file, in file order (never empty when returned
/// as an error). Displays one line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// A problem before the file name is attached: what the parsing and validation stages collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub mark: Option<Mark>,
    pub path: KeyPath,
    pub message: String,
    /// The value at `path` was replaced by a placeholder (wrong type, missing, unknown name,
    /// failed interpolation), so checks that use it must not run. Not for problems that leave
    /// the value as written (an unknown key is simply ignored; a duplicate key keeps the first).
    pub placeholder: bool,
}

impl Problem {
    pub fn new(mark: Mark, path: KeyPath, message: impl Into<String>) -> Problem {
        Problem { mark: Some(mark), path, message: message.into(), placeholder: true }
    }

    /// A problem that leaves the values as they are.
    pub fn note(mark: Mark, path: KeyPath, message: impl Into<String>) -> Problem {
        Problem { placeholder: false, ..Problem::new(mark, path, message) }
    }
}

/// The closest of `candidates` to a misspelt `name` (edit distance at most 2), for
/// "did you mean" hints.
pub(crate) fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .filter(|c| !c.starts_with('$'))
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count().max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_display_like_accessors() {
        let path = KeyPath::root().key("monitors").index(0).key("window").key("slide");
        assert_eq!(path.to_string(), "monitors[0].window.slide");
        let path = KeyPath::root().key("kafka").key("properties").key("security.protocol");
        assert_eq!(path.to_string(), "kafka.properties.\"security.protocol\"");
        assert!(path.starts_with(&KeyPath::root().key("kafka")));
        assert!(!KeyPath::root().key("kafka").starts_with(&path));
    }

    #[test]
    fn errors_display_one_line_each() {
        let errors = ConfigErrors(vec![
            ConfigError {
                file: "driftd.yaml".into(),
                mark: Some(Mark { line: 12, column: 7 }),
                path: KeyPath::root().key("monitors").index(0).key("window").key("slide"),
                message: "bad".into(),
            },
            ConfigError {
                file: "driftd.yaml".into(),
                mark: None,
                path: KeyPath::root(),
                message: "cannot read".into(),
            },
        ]);
        assert_eq!(errors.to_string(), "driftd.yaml:12:7: monitors[0].window.slide: bad\ndriftd.yaml: cannot read");
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let fields = ["listen", "state", "monitors", "$map"];
        assert_eq!(suggest("monitor", &fields), Some("monitors"));
        assert_eq!(suggest("lisen", &fields), Some("listen"));
        assert_eq!(suggest("zzz", &fields), None);
        assert_eq!(suggest("map", &fields), None);
    }
}
