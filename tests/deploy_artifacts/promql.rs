//! A crude PromQL reader for tests/deploy_artifacts.rs: the metric selectors (name and label
//! matchers) and the grouping labels (`by`, `without`, `on`, `ignoring`, `group_left/right`)
//! of an expression. Not a parser: strings, ranges (`[5m]`, `[$__rate_interval]`), numbers
//! and operators are skipped; what is left is a metric name or a known function. An unknown
//! function name is an error, so a misspelt metric followed by `(` is not silently taken.

/// `label op "value"` inside a selector's braces.
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    pub label: String,
    pub op: String,
    pub value: String,
}

/// `metric{matchers}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

/// What an expression reads: its selectors and the labels it groups or matches on.
#[derive(Debug, Default, PartialEq)]
pub struct Query {
    pub selectors: Vec<Selector>,
    pub grouping: Vec<String>,
}

/// PromQL's functions and aggregations (the ones these artifacts may use, and common others).
const FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "avg",
    "avg_over_time",
    "bottomk",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "count",
    "count_over_time",
    "count_values",
    "delta",
    "deriv",
    "exp",
    "floor",
    "group",
    "histogram_quantile",
    "idelta",
    "increase",
    "irate",
    "label_replace",
    "last_over_time",
    "max",
    "max_over_time",
    "min",
    "min_over_time",
    "predict_linear",
    "quantile",
    "quantile_over_time",
    "rate",
    "resets",
    "round",
    "scalar",
    "sort",
    "sort_desc",
    "stddev",
    "sum",
    "sum_over_time",
    "time",
    "timestamp",
    "topk",
    "vector",
];
const AGGREGATIONS: &[&str] =
    &["avg", "bottomk", "count", "count_values", "group", "max", "min", "quantile", "stddev", "sum", "topk"];
const GROUPING: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];
const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "atan2"];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

struct Reader<'a> {
    chars: Vec<char>,
    at: usize,
    expr: &'a str,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn ident(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(is_ident) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// A quoted string (the opening quote at `at`), unescaped crudely.
    fn string(&mut self) -> Result<String, String> {
        let quote = self.chars[self.at];
        self.at += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '\\' if quote != '`' => {
                    out.extend(self.peek());
                    self.at += 1;
                }
                c if c == quote => return Ok(out),
                c => out.push(c),
            }
        }
        Err(format!("unterminated string in {:?}", self.expr))
    }

    fn skip_past(&mut self, close: char) -> Result<(), String> {
        while let Some(c) = self.peek() {
            self.at += 1;
            if c == close {
                return Ok(());
            }
        }
        Err(format!("no closing {close:?} in {:?}", self.expr))
    }

    /// `(a, b, …)`: the labels of a grouping clause.
    fn label_list(&mut self) -> Result<Vec<String>, String> {
        self.skip_space();
        if self.peek() != Some('(') {
            return Ok(Vec::new()); // `group_left` without labels
        }
        self.at += 1;
        let mut labels = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(')') => {
                    self.at += 1;
                    return Ok(labels);
                }
                Some(',') => self.at += 1,
                Some(c) if is_ident_start(c) => labels.push(self.ident()),
                other => return Err(format!("unexpected {other:?} in a label list of {:?}", self.expr)),
            }
        }
    }

    /// `{label op "value", …}` (the brace at `at`).
    fn matchers(&mut self) -> Result<Vec<Matcher>, String> {
        self.at += 1;
        let mut matchers = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some('}') => {
                    self.at += 1;
                    return Ok(matchers);
                }
                Some(',') => self.at += 1,
                Some(c) if is_ident_start(c) => {
                    let label = self.ident();
                    self.skip_space();
                    let start = self.at;
                    while self.peek().is_some_and(|c| "=!~".contains(c)) {
                        self.at += 1;
                    }
                    let op: String = self.chars[start..self.at].iter().collect();
                    if !["=", "!=", "=~", "!~"].contains(&op.as_str()) {
                        return Err(format!("bad matcher operator {op:?} after {label} in {:?}", self.expr));
                    }
                    self.skip_space();
                    if !self.peek().is_some_and(|c| "\"'`".contains(c)) {
                        return Err(format!("matcher {label}{op} without a quoted value in {:?}", self.expr));
                    }
                    let value = self.string()?;
                    matchers.push(Matcher { label, op, value });
                }
                other => return Err(format!("unexpected {other:?} in a selector of {:?}", self.expr)),
            }
        }
    }
}

/// The selectors and grouping labels of `expr`.
pub fn read(expr: &str) -> Result<Query, String> {
    let mut r = Reader { chars: expr.chars().collect(), at: 0, expr };
    let mut query = Query::default();
    while let Some(c) = r.peek() {
        match c {
            '"' | '\'' | '`' => {
                r.string()?;
            }
            '[' => r.skip_past(']')?,
            '{' => return Err(format!("a selector without a metric name in {expr:?}")),
            '$' => {
                r.at += 1;
                r.ident(); // a dashboard variable outside a string
            }
            c if c.is_ascii_digit() || c == '.' => {
                // Numbers, and durations after `offset`: digits, a dot, an exponent, a unit.
                while r.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
                    r.at += 1;
                }
            }
            c if is_ident_start(c) => {
                let word = r.ident();
                r.skip_space();
                let lower = word.to_ascii_lowercase();
                if GROUPING.contains(&lower.as_str()) {
                    query.grouping.extend(r.label_list()?);
                } else if KEYWORDS.contains(&lower.as_str()) {
                } else if AGGREGATIONS.contains(&word.as_str()) || r.peek() == Some('(') {
                    if !FUNCTIONS.contains(&word.as_str()) {
                        return Err(format!("unknown function {word:?} in {expr:?}"));
                    }
                } else {
                    let matchers = if r.peek() == Some('{') { r.matchers()? } else { Vec::new() };
                    query.selectors.push(Selector { metric: word, matchers });
                }
            }
            _ => r.at += 1,
        }
    }
    Ok(query)
}

#[test]
fn reads_selectors_grouping_and_skips_ranges_strings_and_functions() {
    let q =
        read(r#"sum by (action, le) (rate(x_bucket{a="1", b=~"$v|w"}[$__rate_interval])) / on (a) group_left y > 0.5"#)
            .unwrap();
    assert_eq!(q.grouping, ["action", "le", "a"]);
    let names: Vec<_> = q.selectors.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(names, ["x_bucket", "y"]);
    assert_eq!(q.selectors[0].matchers[1], Matcher { label: "b".into(), op: "=~".into(), value: "$v|w".into() });
    assert!(read("time() - w").unwrap().selectors.iter().any(|s| s.metric == "w"));
    assert!(read("rat(x[5m])").unwrap_err().contains("unknown function"));
    assert!(read(r#"x{a="1""#).is_err());
}
