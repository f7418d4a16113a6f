//! Self-contained HTML report for `driftd compare --format html` (placeholder until the
//! renderer lands: a plain table).

use super::report::CompareReport;

/// Render the report as one self-contained HTML page.
pub fn render(report: &CompareReport) -> String {
    format!("<!doctype html><meta charset=utf-8><title>driftd</title><pre>{}</pre>", html_escape(&super::text::render(report)))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
