//! `${VAR}` and `${VAR:-default}` in configuration values, from the environment.
//!
//! Input: the parsed tree and a variable lookup (the process environment in production, a map
//! in tests). Output: the tree with every scalar *value* expanded (keys are not), and one
//! problem per variable that cannot be expanded, placed at the `${` that names it. The rules
//! (the docker-compose subset) are on [`interpolate`] and in docs/config.md.

use std::ffi::OsString;

use super::error::{KeyPath, Mark, Problem};
use super::yaml::{Node, NodeKind};

/// Looks a variable up: `None` when unset.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// Expand every scalar value of `node` in place; returns the problems found.
///
/// Rules (the docker-compose subset that configuration files use):
/// - `${VAR}`: the variable's value; an unset variable is an error (set but empty is fine);
/// - `${VAR:-default}`: the value when set and non-empty, else `default` (which may itself
///   contain `${…}`);
/// - `$$` is a literal `$`, so `$${VAR}` stays `${VAR}`; a `$` before anything else is literal;
/// - anything else inside `${…}` is an error: names are `[A-Za-z_][A-Za-z0-9_]*`.
///
/// Every scalar style is expanded (plain, quoted, block). An expanded scalar keeps its source
/// text as its `template`, and error messages quote the template, not the value, so secrets
/// such as `sasl.password: ${KAFKA_PASSWORD}` never appear in a diagnostic.
pub(crate) fn interpolate(node: &mut Node, path: &KeyPath, env: Lookup<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    walk(node, path, env, &mut problems);
    problems
}

fn walk(node: &mut Node, path: &KeyPath, env: Lookup<'_>, problems: &mut Vec<Problem>) {
    let mark = node.mark;
    match &mut node.kind {
        NodeKind::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), env, problems);
            }
        }
        NodeKind::Map(entries) => {
            for entry in entries {
                walk(&mut entry.value, &path.key(&entry.key), env, problems);
            }
        }
        NodeKind::Scalar(scalar) => {
            if !scalar.text.contains('$') {
                return;
            }
            let mut errors = Vec::new();
            let expanded = expand(&scalar.text, env, &mut errors, 0);
            if errors.is_empty() {
                if expanded != scalar.text {
                    scalar.template = Some(std::mem::replace(&mut scalar.text, expanded));
                }
                return;
            }
            scalar.template = Some(scalar.text.clone());
            scalar.poisoned = true;
            for (occurrence, message) in errors {
                let at = position_of_occurrence(&scalar.raw, occurrence).map_or(mark, |(l, c)| Mark {
                    line: mark.line.saturating_add(l),
                    column: if l == 0 { mark.column.saturating_add(c) } else { c.saturating_add(1) },
                });
                problems.push(Problem::new(at, path.clone(), message));
            }
        }
    }
}

/// Expand `text`; errors are `(index of the top-level "${" they belong to, message)`.
fn expand(text: &str, env: Lookup<'_>, errors: &mut Vec<(usize, String)>, depth: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut occurrence = 0;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let here = occurrence;
            occurrence += 1;
            let Some(close) = matching_brace(body_and_tail) else {
                errors.push((here, "unclosed `${` (write `$$` for a literal `$`)".to_string()));
                return out;
            };
            let body = &body_and_tail[..close];
            rest = &body_and_tail[close + 1..];
            match expand_reference(body, env, depth) {
                Ok(value) => out.push_str(&value),
                Err(message) => errors.push((here, message)),
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The value of one `${body}`.
fn expand_reference(body: &str, env: Lookup<'_>, depth: usize) -> Result<String, String> {
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`${{{body}}}`: expected ${{NAME}} or ${{NAME:-default}} with NAME made of letters, digits and _"
        ));
    }
    let value = match env(name) {
        Some(value) => {
            Some(value.into_string().map_err(|_| format!("environment variable {name} is not valid UTF-8"))?)
        }
        None => None,
    };
    match (value, default) {
        (Some(value), None) => Ok(value),
        (Some(value), Some(_)) if !value.is_empty() => Ok(value),
        (_, Some(default)) => {
            if depth >= 8 {
                return Err(format!("`${{{name}:-…}}`: defaults nested too deeply"));
            }
            let mut inner = Vec::new();
            let expanded = expand(default, env, &mut inner, depth + 1);
            match inner.into_iter().next() {
                Some((_, message)) => Err(message),
                None => Ok(expanded),
            }
        }
        (None, None) => {
            Err(format!("environment variable {name} is not set (write ${{{name}:-default}} to give a default)"))
        }
    }
}

/// Index of the `}` closing a `${` whose body starts `text`, allowing nested `${…}`.
fn matching_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// (lines after the scalar's first, 0-based column in that line) of the `occurrence`-th
/// `${` in the scalar's source text, skipping `$$` escapes. `None` when the source does not
/// show it (a `${` produced by an escape sequence in a quoted scalar).
fn position_of_occurrence(raw: &str, occurrence: usize) -> Option<(u32, u32)> {
    let chars: Vec<char> = raw.chars().collect();
    let (mut line, mut column, mut seen) = (0u32, 0u32, 0usize);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\n' => {
                line += 1;
                column = 0;
                i += 1;
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'$') => {
                column += 2;
                i += 2;
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                if seen == occurrence {
                    return Some((line, column));
                }
                seen += 1;
            }
            _ => {}
        }
        column += 1;
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn env(name: &str) -> Option<OsString> {
        match name {
            "BROKERS" => Some("kafka:9092".into()),
            "EMPTY" => Some("".into()),
            "SECRET" => Some("hunter2".into()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, Vec<String>> {
        let mut errors = Vec::new();
        let out = expand(text, &env, &mut errors, 0);
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.into_iter().map(|(_, m)| m).collect())
        }
    }

    #[test]
    fn the_supported_forms() {
        assert_eq!(run("${BROKERS}").unwrap(), "kafka:9092");
        assert_eq!(run("x-${BROKERS}-y").unwrap(), "x-kafka:9092-y");
        assert_eq!(run("${EMPTY}").unwrap(), "");
        assert_eq!(run("${UNSET:-127.0.0.1:9092}").unwrap(), "127.0.0.1:9092");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${BROKERS:-d}").unwrap(), "kafka:9092");
        assert_eq!(run("${UNSET:-${BROKERS}}").unwrap(), "kafka:9092");
        assert_eq!(run("${UNSET:-}").unwrap(), "");
        assert_eq!(run("cost: 5$ and $$${BROKERS} $${X}").unwrap(), "cost: 5$ and $kafka:9092 ${X}");
    }

    #[test]
    fn the_errors() {
        assert_eq!(
            run("${UNSET}").unwrap_err(),
            ["environment variable UNSET is not set (write ${UNSET:-default} to give a default)"]
        );
        assert!(run("${1X}").unwrap_err()[0].contains("expected ${NAME}"));
        assert!(run("${X:+y}").unwrap_err()[0].contains("expected ${NAME}"));
        assert!(run("${}").unwrap_err()[0].contains("expected ${NAME}"));
        assert!(run("a ${BROKERS").unwrap_err()[0].contains("unclosed"));
        assert!(run("${UNSET:-${ALSO_UNSET}}").unwrap_err()[0].contains("ALSO_UNSET is not set"));
        assert_eq!(run("${A} ${B}").unwrap_err().len(), 2);
    }

    #[test]
    fn errors_point_at_each_reference_and_values_are_kept_out_of_messages() {
        let text = "a: x ${BROKERS} ${UNSET}\nb: \"$${Q} ${NOPE}\"\nc: |\n  one\n  two ${GONE}\nd: ${SECRET}\n";
        let (mut root, _) = parse(text).unwrap();
        let problems = interpolate(&mut root, &KeyPath::root(), &env);
        let at: Vec<(u32, u32, String)> =
            problems.iter().map(|p| (p.mark.unwrap().line, p.mark.unwrap().column, p.path.to_string())).collect();
        assert_eq!(at, [(1, 17, "a".to_string()), (2, 11, "b".to_string()), (5, 7, "c".to_string())]);
        let d = root.get(&KeyPath::root().key("d")).unwrap();
        match &d.kind {
            NodeKind::Scalar(s) => {
                assert_eq!(s.text, "hunter2");
                assert_eq!(s.shown(), "${SECRET}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_are_not_expanded() {
        let (mut root, _) = parse("${X}: 1\n").unwrap();
        assert!(interpolate(&mut root, &KeyPath::root(), &env).is_empty());
        assert!(root.get(&KeyPath::root().key("${X}")).is_some());
    }
}
