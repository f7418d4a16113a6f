//! The email bodies: plain text, and HTML with the evidence table and a bar chart of
//! reference vs current proportions for the top drifted features.
//!
//! The chart is made of HTML tables with fixed pixel widths and `bgcolor` cells: no images,
//! no CSS layout, no scripts, so it renders in every mail client (Outlook's Word engine
//! included) and survives clients that block remote content. It appears when the evidence
//! has `top_features[].bins[] {label, reference, current, contribution}` (`docs/actions.md`);
//! everything taken from the evidence is escaped.

use serde_json::Value;

use super::document::summary;
use super::outbox::OutboxEntry;
use crate::notification::format_number;
use crate::source::time::format_time_ms;

/// Width of a bar at proportion 1, in pixels.
const BAR_WIDTH: f64 = 240.0;
const REFERENCE_COLOR: &str = "#8aa4c8";
const CURRENT_COLOR: &str = "#d9534f";

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn number(v: Option<f64>) -> String {
    v.map(format_number).unwrap_or_else(|| "NaN".into())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.as_f64().map(format_number).unwrap_or_else(|| n.to_string())),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The plain-text body.
pub fn email_text(entry: &OutboxEntry) -> String {
    let n = &entry.notification;
    let mut out = format!(
        "{}\n\nRule: {}\nMonitor: {} ({})\nSeverity: {}\nWindow: {} to {} ({} events)\nIdempotency key: {}\n\n",
        summary(n),
        n.rule,
        n.monitor,
        n.stream,
        n.severity.name(),
        format_time_ms(n.window_start_ms),
        format_time_ms(n.window_end_ms),
        n.window_events,
        entry.key
    );
    out.push_str("Alerts:\n");
    for a in &n.alerts {
        out.push_str(&format!(
            "  {:<9} {} {}={} {} {} (n={})\n",
            a.status.name(),
            a.key.feature,
            a.stat,
            number(a.value),
            a.op,
            number(a.threshold),
            a.n
        ));
        for (name, text) in &a.annotations {
            out.push_str(&format!("            {name}: {text}\n"));
        }
    }
    if let Some(object) = entry.evidence.as_object() {
        let context: Vec<String> =
            object.iter().filter_map(|(k, v)| scalar(v).map(|s| format!("  {k}: {s}\n"))).collect();
        if !context.is_empty() {
            out.push_str("\nContext:\n");
            out.extend(context);
        }
    }
    for feature in top_features(&entry.evidence) {
        out.push_str(&format!("\n{} (reference -> current, contribution):\n", feature.title));
        for bin in &feature.bins {
            out.push_str(&format!(
                "  {:<24} {:>7} -> {:>7}  {}\n",
                bin.label,
                percent(bin.reference),
                percent(bin.current),
                number(bin.contribution)
            ));
        }
    }
    out
}

fn percent(p: Option<f64>) -> String {
    p.map(|p| format!("{:.1}%", p * 100.0)).unwrap_or_else(|| "-".into())
}

struct Bin {
    label: String,
    reference: Option<f64>,
    current: Option<f64>,
    contribution: Option<f64>,
}

struct TopFeature {
    title: String,
    bins: Vec<Bin>,
}

/// `evidence.top_features[]` with bins; anything malformed is skipped, never an error.
fn top_features(evidence: &Value) -> Vec<TopFeature> {
    let Some(list) = evidence.get("top_features").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|f| {
            let name = f.get("feature").and_then(scalar).unwrap_or_else(|| "?".into());
            let bins: Vec<Bin> = f
                .get("bins")?
                .as_array()?
                .iter()
                .map(|b| Bin {
                    label: b.get("label").and_then(scalar).unwrap_or_default(),
                    reference: b.get("reference").and_then(Value::as_f64),
                    current: b.get("current").and_then(Value::as_f64),
                    contribution: b.get("contribution").and_then(Value::as_f64),
                })
                .collect();
            if bins.is_empty() {
                return None;
            }
            let stat = f.get("stat").and_then(scalar);
            let value = f.get("value").and_then(scalar);
            let title = match (stat, value) {
                (Some(s), Some(v)) => format!("{name}: {s} {v}"),
                _ => name,
            };
            Some(TopFeature { title, bins })
        })
        .collect()
}

/// A horizontal bar of `p` (0..1) as a one-row table.
fn bar(p: Option<f64>, color: &str) -> String {
    let p = p.filter(|p| p.is_finite()).unwrap_or(0.0).clamp(0.0, 1.0);
    let width = (p * BAR_WIDTH).round() as u32;
    if width == 0 {
        return "&nbsp;".into();
    }
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>\
         <td width=\"{width}\" height=\"10\" bgcolor=\"{color}\" style=\"width:{width}px;height:10px;\
         background-color:{color};font-size:1px;line-height:1px\">&nbsp;</td></tr></table>"
    )
}

/// The HTML body.
pub fn email_html(entry: &OutboxEntry) -> String {
    let n = &entry.notification;
    let cell = "style=\"padding:4px 8px;border:1px solid #ddd;text-align:left\"";
    let mut out = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222\">",
    );
    out.push_str(&format!("<h2 style=\"margin:0 0 8px 0\">{}</h2>", escape(&summary(n))));
    out.push_str(&format!(
        "<p>Monitor <b>{}</b> ({}), rule <b>{}</b>, severity {}, window {} to {} ({} events).</p>",
        escape(&n.monitor),
        escape(&n.stream.to_string()),
        escape(&n.rule),
        escape(n.severity.name()),
        escape(&format_time_ms(n.window_start_ms)),
        escape(&format_time_ms(n.window_end_ms)),
        n.window_events
    ));
    out.push_str("<table cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\"><tr>");
    for h in ["status", "rule", "feature", "stat", "value", "threshold", "n"] {
        out.push_str(&format!("<th {cell} bgcolor=\"#f0f0f0\">{h}</th>"));
    }
    out.push_str("</tr>");
    for a in &n.alerts {
        out.push_str(&format!(
            "<tr><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td>\
             <td {cell}>{}</td><td {cell}>{} {}</td><td {cell}>{}</td></tr>",
            escape(a.status.name()),
            escape(&a.key.rule),
            escape(&a.key.feature),
            escape(&a.stat),
            escape(&number(a.value)),
            escape(&a.op),
            escape(&number(a.threshold)),
            a.n
        ));
    }
    out.push_str("</table>");
    let annotations: Vec<String> = n
        .alerts
        .iter()
        .flat_map(|a| a.annotations.iter().map(move |(k, v)| (a, k, v)))
        .map(|(a, k, v)| format!("<li><b>{}</b> {}: {}</li>", escape(&a.key.feature), escape(k), escape(v)))
        .collect();
    if !annotations.is_empty() {
        out.push_str(&format!("<ul>{}</ul>", annotations.concat()));
    }
    if let Some(object) = entry.evidence.as_object() {
        let rows: Vec<String> = object
            .iter()
            .filter_map(|(k, v)| {
                scalar(v).map(|s| format!("<tr><td {cell}>{}</td><td {cell}>{}</td></tr>", escape(k), escape(&s)))
            })
            .collect();
        if !rows.is_empty() {
            out.push_str(&format!(
                "<h3>Context</h3><table cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\">{}</table>",
                rows.concat()
            ));
        }
    }
    let features = top_features(&entry.evidence);
    if !features.is_empty() {
        out.push_str(&format!(
            "<h3>Reference vs current</h3><p><span style=\"color:{REFERENCE_COLOR}\">&#9632;</span> reference \
             &nbsp; <span style=\"color:{CURRENT_COLOR}\">&#9632;</span> current</p>"
        ));
    }
    for feature in features {
        out.push_str(&format!("<h4 style=\"margin:12px 0 4px 0\">{}</h4>", escape(&feature.title)));
        out.push_str("<table cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\">");
        out.push_str(&format!(
            "<tr><th {cell}>bin</th><th {cell}>reference / current</th><th {cell}>%</th><th {cell}>contribution</th></tr>"
        ));
        for b in &feature.bins {
            out.push_str(&format!(
                "<tr><td {cell}>{}</td><td {cell}>{}{}</td><td {cell}>{}<br>{}</td><td {cell}>{}</td></tr>",
                escape(&b.label),
                bar(b.reference, REFERENCE_COLOR),
                bar(b.current, CURRENT_COLOR),
                escape(&percent(b.reference)),
                escape(&percent(b.current)),
                escape(&number(b.contribution))
            ));
        }
        out.push_str("</table>");
    }
    out.push_str(&format!(
        "<p style=\"color:#888;font-size:12px\">driftd &middot; idempotency key {}</p></body></html>",
        escape(&entry.key)
    ));
    out
}
