//! JSON Lines input: one JSON object per line (`\n` or `\r\n`), blank lines skipped; one
//! column per key, in order of first appearance (a key absent from a line: a missing cell).
//!
//! Values: numbers are numbers (their JSON text, parsed as [`RawValue`], is kept as the label if
//! the column turns out categorical); strings follow the text rule of [`super::builder`];
//! `true` / `false` are labels; `null` is missing. Nested values, a line that is not an object
//! and a key repeated within one object are errors naming the line and field. A column that
//! flips to categorical after numbers is fixed up by a second pass, as for CSV.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::builder::{ColumnBuilder, FxHasher};
use super::progress::ProgressReader;
use super::{glob, Column, DatasetError, LoadOptions, Loaded};

pub(super) fn read(path: &Path, options: &LoadOptions) -> Result<Loaded, DatasetError> {
    let mut names: Vec<String> = Vec::new();
    let mut builders: Vec<ColumnBuilder> = Vec::new();
    let mut index: HashMap<Box<str>, usize, BuildHasherDefault<FxHasher>> = HashMap::default();

    let mut rows: u64 = 0;
    let mut lines = Lines::open(path, options.progress.as_ref())?;
    while let Some((line_no, line)) = lines.next_line()? {
        let entries = parse_line(path, line_no, line)?;
        for (key, raw) in &entries {
            let key: &str = key;
            if options.columns.as_ref().is_some_and(|w| !glob::may_pick(w, key)) {
                continue;
            }
            let k = match index.get(key) {
                Some(&k) => k,
                None => {
                    let mut builder = ColumnBuilder::new(options.force_categorical.contains(key));
                    builder.pad_to(rows);
                    names.push(key.to_string());
                    builders.push(builder);
                    index.insert(key.into(), names.len() - 1);
                    names.len() - 1
                }
            };
            let builder = &mut builders[k];
            builder.pad_to(rows);
            if builder.rows() > rows {
                return Err(DatasetError::DuplicateKey {
                    path: path.to_path_buf(),
                    line: line_no,
                    field: key.to_string(),
                });
            }
            push_value(path, line_no, key, raw, builder)?;
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(DatasetError::Empty { path: path.to_path_buf() });
    }
    if let Some(wanted) = &options.columns {
        let (keep, mut missing) = glob::choose(wanted, &names);
        if !missing.is_empty() {
            missing.sort();
            return Err(DatasetError::MissingColumns { path: path.to_path_buf(), names: missing });
        }
        // Only a pattern that is also a column's exact name can have read a column it does not select.
        if keep.contains(&false) {
            let mut flags = keep.into_iter();
            (names, builders) = names.into_iter().zip(builders).filter(|_| flags.next() == Some(true)).unzip();
        }
    } else if names.is_empty() {
        return Err(DatasetError::NoColumns { path: path.to_path_buf() });
    }
    for builder in &mut builders {
        builder.pad_to(rows);
    }

    fixup(path, &names, &mut builders)?;
    let columns = names.into_iter().zip(builders).map(|(name, b)| Column { name, data: b.finish() }).collect();
    Ok(Loaded { rows, columns })
}

/// Second pass for the columns that flipped to categorical after some numbers.
fn fixup(path: &Path, names: &[String], builders: &mut [ColumnBuilder]) -> Result<(), DatasetError> {
    let mut jobs: HashMap<&str, (usize, u64, ColumnBuilder)> = builders
        .iter()
        .enumerate()
        .filter(|(_, b)| b.fixup_rows() > 0)
        .map(|(k, b)| (names[k].as_str(), (k, b.fixup_rows(), ColumnBuilder::new(true))))
        .collect();
    let Some(last) = jobs.values().map(|j| j.1).max() else {
        return Ok(());
    };
    let mut lines = Lines::open(path, None)?;
    let mut row: u64 = 0;
    while row < last {
        let Some((line_no, line)) = lines.next_line()? else { break };
        for (key, raw) in &parse_line(path, line_no, line)? {
            if let Some((_, until, labels)) = jobs.get_mut(&**key) {
                if row < *until {
                    push_value(path, line_no, key, raw, labels)?;
                }
            }
        }
        row += 1;
    }
    for (_, (k, _, labels)) in jobs {
        builders[k].merge_fixup(labels);
    }
    Ok(())
}

/// The non-blank lines of a file, numbered from 1, without their line terminator.
struct Lines {
    reader: BufReader<ProgressReader<File>>,
    buf: Vec<u8>,
    line_no: u64,
    path: std::path::PathBuf,
}

impl Lines {
    fn open(path: &Path, bar: Option<&indicatif::ProgressBar>) -> Result<Lines, DatasetError> {
        let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
        let len = file.metadata().map_err(|e| DatasetError::io(path, &e))?.len();
        Ok(Lines {
            reader: BufReader::with_capacity(1 << 16, ProgressReader::new(file, bar, len)),
            buf: Vec::new(),
            line_no: 0,
            path: path.to_path_buf(),
        })
    }

    fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, DatasetError> {
        loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| DatasetError::io(&self.path, &e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                return Ok(Some((self.line_no, line)));
            }
        }
    }
}

type Entries<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Parses one line as a JSON object, keeping its entries in order.
fn parse_line<'a>(path: &Path, line_no: u64, line: &'a [u8]) -> Result<Entries<'a>, DatasetError> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let found = match first {
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        _ => None,
    };
    if let Some(found) = found {
        // Only claim "not an object" if the line is valid JSON at all.
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            return Err(DatasetError::NotAnObject {
                path: path.to_path_buf(),
                line: line_no,
                found: found.to_string(),
            });
        }
    }
    serde_json::from_slice::<Object<'a>>(line).map(|o| o.0).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        DatasetError::Json {
            path: path.to_path_buf(),
            line: line_no,
            column: e.column() as u64,
            message: message.strip_suffix(&suffix).unwrap_or(&message).to_string(),
        }
    })
}

/// Pushes one JSON value into a column builder.
fn push_value(
    path: &Path,
    line_no: u64,
    key: &str,
    raw: &RawValue,
    builder: &mut ColumnBuilder,
) -> Result<(), DatasetError> {
    let text = raw.get().trim_ascii();
    let nested = |kind| DatasetError::Nested { path: path.to_path_buf(), line: line_no, field: key.to_string(), kind };
    match text.as_bytes().first() {
        Some(b'{') => return Err(nested("objects")),
        Some(b'[') => return Err(nested("arrays")),
        Some(b'n') => builder.push_missing(1),
        Some(b't' | b'f') => builder.push_text(text),
        Some(b'"') => {
            let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or_default();
            if inner.contains('\\') {
                let decoded: String = serde_json::from_str(text)
                    .map_err(|e| DatasetError::decode(path, format!("line {line_no}: "), e))?;
                builder.push_text(&decoded);
            } else {
                builder.push_text(inner);
            }
        }
        _ => match text.parse::<f64>() {
            Ok(value) => builder.push_number(text, value),
            // Unreachable for valid JSON numbers; treat the token as text if it happens.
            Err(_) => builder.push_text(text),
        },
    }
    Ok(())
}

/// A JSON object as its entries in file order, values unparsed.
struct Object<'a>(Entries<'a>);

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            entries.push((key.0, value));
        }
        Ok(Object(entries))
    }
}

/// A key, borrowed from the line unless it contains escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v)))
    }
}
