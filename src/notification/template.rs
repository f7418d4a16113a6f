//! `{{ variable }}` templates of annotations, email subjects and webhook bodies.
//!
//! Input: the template text and the variables its context offers. Output: a parsed
//! [`Template`] (literal text and variables), or a message naming the first unknown variable
//! or unclosed `{{`. Rendering looks each variable up in a caller-given function, so a
//! template checked at load can never fail at delivery. Deliberately tiny: no filters,
//! conditionals or loops (`{{` is the only syntax; `{{ "{{" }}` is not supported, and a lone
//! `}}` is literal text).

use serde::{Serialize, Serializer};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `{{ name }}`, or `{{ labels.X }}` (kept whole: `labels.X`).
    Var(String),
}

/// A parsed template. Serializes as its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub pieces: Vec<Piece>,
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// Variables of an alert's annotations.
pub const ALERT_VARIABLES: &[&str] = &[
    "rule",
    "monitor",
    "stream",
    "feature",
    "stat",
    "value",
    "threshold",
    "window_start",
    "window_end",
    "n",
    "severity",
];

/// Variables of a notification's templates (email subject, webhook body): one group of
/// alerts. `evidence` is the notification's JSON.
pub const NOTIFICATION_VARIABLES: &[&str] = &[
    "rule",
    "monitor",
    "stream",
    "severity",
    "status",
    "window_start",
    "window_end",
    "alerts_count",
    "features",
    "idempotency_key",
    "episode",
    "evidence",
];

/// Labels always present on an alert (beside the rule's own).
pub const BUILTIN_LABELS: &[&str] = &["rule", "monitor", "stream", "feature", "severity"];

impl Template {
    /// Parse `source`; every variable must be in `variables` or be `labels.X` with X in
    /// `labels`. The error says what is wrong, with a suggestion for a likely typo.
    pub fn parse(source: &str, variables: &[&str], labels: &[&str]) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| "unclosed `{{` (close it with `}}`)".to_string())?;
            let name = after[..close].trim();
            check_variable(name, variables, labels)?;
            pieces.push(Piece::Var(name.to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { source: source.to_string(), pieces })
    }

    /// Render with `lookup` giving each variable's text.
    pub fn render(&self, lookup: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => out.push_str(&lookup(name)),
            }
        }
        out
    }
}

fn check_variable(name: &str, variables: &[&str], labels: &[&str]) -> Result<(), String> {
    if let Some(label) = name.strip_prefix("labels.") {
        if labels.contains(&label) {
            return Ok(());
        }
        let hint = crate::config::suggest(label, labels).map(|s| format!("; did you mean `labels.{s}`?"));
        return Err(format!(
            "unknown label `{label}` in `{{{{ {name} }}}}`{} (labels: {})",
            hint.unwrap_or_default(),
            labels.join(", ")
        ));
    }
    if variables.contains(&name) {
        return Ok(());
    }
    if name.is_empty() {
        return Err("empty `{{ }}`: name a variable".to_string());
    }
    let hint = crate::config::suggest(name, variables).map(|s| format!("; did you mean `{s}`?"));
    Err(format!(
        "unknown template variable `{name}`{} (variables: {}, labels.NAME)",
        hint.unwrap_or_default(),
        variables.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t =
            Template::parse("PSI {{ value }} on {{feature}} ({{ labels.team }})", ALERT_VARIABLES, &["team"]).unwrap();
        let out = t.render(&|name| match name {
            "value" => "0.31".into(),
            "feature" => "income".into(),
            "labels.team" => "risk".into(),
            _ => unreachable!(),
        });
        assert_eq!(out, "PSI 0.31 on income (risk)");
        assert_eq!(Template::parse("no vars }}", ALERT_VARIABLES, &[]).unwrap().pieces.len(), 1);
    }

    #[test]
    fn unknown_variables_and_unclosed_braces_are_errors() {
        let err = Template::parse("{{ feture }}", ALERT_VARIABLES, &[]).unwrap_err();
        assert!(err.starts_with("unknown template variable `feture`; did you mean `feature`?"), "{err}");
        let err = Template::parse("{{ labels.tem }}", ALERT_VARIABLES, &["team"]).unwrap_err();
        assert!(err.starts_with("unknown label `tem` in `{{ labels.tem }}`; did you mean `labels.team`?"), "{err}");
        assert_eq!(
            Template::parse("{{ value", ALERT_VARIABLES, &[]).unwrap_err(),
            "unclosed `{{` (close it with `}}`)"
        );
    }
}
