//! What `driftd replay` writes: a line per closed window, a summary per monitor, and the
//! observations as JSON lines.
//!
//! Inputs: batches of [`Observation`]s as [`MonitorCore`](crate::monitor::MonitorCore) returns
//! them (each window's observations together, in order). Outputs: text for people (window
//! bounds in RFC 3339 UTC, drifted features by PSI) and one JSON object per observation for
//! tools (`value` null when undefined). Pure formatting: no I/O beyond the writer given.

use std::collections::BTreeMap;
use std::io::Write;

use super::StreamSummary;
use crate::monitor::{drifted_features, Observation, Stat};
use crate::record::Stream;
use crate::source::time::format_time_ms;
use crate::stats::verdict::Thresholds;

/// One closed window as shown on a line.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSummary {
    pub monitor: String,
    pub stream: Stream,
    pub start_ms: i64,
    pub end_ms: i64,
    pub events: u64,
    /// Whether PSI was computed (it decides drift here).
    pub has_psi: bool,
    /// Features whose PSI reached the threshold, with their PSI, in feature order.
    pub drifted: Vec<(String, f64)>,
}

impl WindowSummary {
    /// `credit-scoring inputs 2026-11-01T12:00:00Z–2026-11-01T13:00:00Z  300 events  DRIFT income psi=0.41`
    pub fn line(&self) -> String {
        let verdict = if !self.has_psi {
            "psi not computed".to_string()
        } else if self.drifted.is_empty() {
            "ok".to_string()
        } else {
            let features: Vec<String> = self.drifted.iter().map(|(f, psi)| format!("{f} psi={psi:.2}")).collect();
            format!("DRIFT {}", features.join(" "))
        };
        format!(
            "{} {:<11} {}–{} {:>6} events  {verdict}",
            self.monitor,
            self.stream,
            format_time_ms(self.start_ms),
            format_time_ms(self.end_ms),
            self.events
        )
    }
}

/// One version of a window's performance (its observations):
/// `credit-scoring labels 2026-11-01T12:00:00Z–2026-11-01T13:00:00Z  v1 final  labelled 290/300  roc_auc=0.71 accuracy=0.80`
pub fn performance_line(monitor: &str, observations: &[crate::monitor::Observation]) -> String {
    let Some(first) = observations.first() else { return String::new() };
    let detail = first.detail.performance.as_ref();
    let (version, final_, labelled, predictions) =
        detail.map_or((0, false, 0, 0), |d| (d.version, d.final_, d.labelled, d.predictions));
    let metrics: Vec<String> = observations
        .iter()
        .filter(|o| o.stat != crate::monitor::Stat::LabelledShare)
        .map(|o| if o.value.is_finite() { format!("{}={:.3}", o.stat, o.value) } else { format!("{}=null", o.stat) })
        .collect();
    format!(
        "{monitor} {:<11} {}–{}  v{version}{}  labelled {labelled}/{predictions}  {}",
        "labels",
        format_time_ms(first.window.start_ms),
        format_time_ms(first.window.end_ms),
        if final_ { " final" } else { "" },
        metrics.join(" ")
    )
}

/// Groups a stream's observations into windows.
pub struct WindowWriter<'a> {
    monitor: &'a str,
    stream: Stream,
    thresholds: Thresholds,
}

impl<'a> WindowWriter<'a> {
    /// The monitor's name.
    pub fn monitor(&self) -> &'a str {
        self.monitor
    }

    pub fn new(monitor: &'a str, stream: Stream, thresholds: Thresholds) -> Self {
        WindowWriter { monitor, stream, thresholds }
    }

    /// The windows of a batch, in order; consecutive observations with the same bounds are
    /// one window (a batch holds whole windows).
    pub fn group(&mut self, observations: &[Observation]) -> Vec<WindowSummary> {
        observations
            .chunk_by(|a, b| a.window == b.window)
            .map(|window| WindowSummary {
                monitor: self.monitor.to_string(),
                stream: self.stream,
                start_ms: window[0].window.start_ms,
                end_ms: window[0].window.end_ms,
                events: window[0].window.events,
                has_psi: window.iter().any(|o| o.stat == Stat::Psi),
                drifted: drifted_features(window, &self.thresholds),
            })
            .collect()
    }
}

/// The summary of one monitor's replay.
pub fn write_summary(
    out: &mut dyn Write,
    monitor: &str,
    summaries: &BTreeMap<Stream, StreamSummary>,
) -> std::io::Result<()> {
    writeln!(out, "{monitor}: summary")?;
    for (stream, s) in summaries {
        let invalid: u64 = s.invalid.values().sum();
        let reasons: Vec<String> = s.invalid.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let reasons = if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) };
        let captured =
            if s.captured > 0 { format!("{} captured as the reference, ", s.captured) } else { String::new() };
        writeln!(
            out,
            "  {stream}: {} records read, {captured}{} accepted, {} late, {invalid} invalid{reasons}; {} mistyped values",
            s.read, s.accepted, s.late, s.type_mismatches
        )?;
        let first = match s.first_drift {
            Some((start, end)) => format!("; first drift in {}–{}", format_time_ms(start), format_time_ms(end)),
            None => String::new(),
        };
        match &s.join {
            Some(c) => {
                let pending = c.labels
                    - c.joined
                    - c.duplicate_labels
                    - c.labels_after_retention
                    - c.labels_before_prediction
                    - c.unmatched_labels
                    - c.evicted_labels;
                writeln!(
                    out,
                    "  {stream}: {} joined to {} keyed predictions; {} predictions unlabelled, {} labels unmatched, {} \
                     duplicate, {} after the retention, {} missing, {} invalid, {pending} pending",
                    c.joined,
                    c.predictions,
                    c.unlabelled,
                    c.unmatched_labels,
                    c.duplicate_labels,
                    c.labels_after_retention,
                    c.labels_missing,
                    c.labels_invalid,
                )?;
            }
            None => writeln!(
                out,
                "  {stream}: {} windows closed, {} with drift{first}",
                s.windows_closed, s.windows_with_drift
            )?,
        }
    }
    Ok(())
}
