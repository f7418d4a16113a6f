//! The publish stage: checkpointed windows, in order, become a log line, the metrics and the
//! history that `/metrics` and the HTTP API read ([`super::state`]). Only what a checkpoint
//! saved is published.

use super::state::{ClosedWindow, MonitorEntry, Shared};
use crate::monitor::{drifted_features, Observation};
use crate::source::time::format_time_ms;
use crate::stats::verdict::Thresholds;
use tracing::info;

/// Publishes a batch of checkpointed observations (whole windows, in order): a log line, the
/// metrics and the history per window.
pub fn publish(shared: &Shared, entry: &MonitorEntry, observations: &[Observation]) {
    // A predictions core also yields its labels' performance (stream `labels`).
    for window in observations.chunk_by(|a, b| a.window == b.window && a.stream == b.stream) {
        let stream = window[0].stream;
        let drifted = drifted_features(window, &Thresholds::default());
        let bounds = &window[0].window;
        let names: Vec<&str> = drifted.iter().map(|(f, _)| f.as_str()).collect();
        info!(
            monitor = %entry.name,
            stream = %stream,
            start = %format_time_ms(bounds.start_ms),
            end = %format_time_ms(bounds.end_ms),
            events = bounds.events,
            drifted = %names.join(","),
            "Window closed."
        );
        if let Some(closed) = ClosedWindow::new(stream, window, drifted) {
            shared.window_closed(entry, window, closed);
        }
    }
}
