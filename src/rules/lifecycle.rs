//! One alert's lifecycle, one window at a time (Prometheus' states with a latched condition):
//! inactive → pending → firing → resolved, `for`, `keep_firing_for` and `repeat_every` in
//! windows or event time. The rules are on `Engine::evaluate`.

use super::model::{Rule, Span};
use super::observe::WindowEvaluation;
use super::observe::{Observed, Verdict};
use super::state::AlertState;
use crate::notification::AlertStatus;

/// Advance one alert by one window; returns whether it is due for a notification.
pub(super) fn step(rule: &Rule, state: &mut AlertState, obs: &Observed, window: &WindowEvaluation) -> bool {
    if obs.verdict == Verdict::None {
        return false;
    }
    state.last_window_end_ms = Some(window.window_end_ms);
    state.last_value = obs.value;
    state.last_threshold = obs.threshold;
    let active = match obs.verdict {
        Verdict::Breach => true,
        Verdict::Between => state.status.is_active(),
        Verdict::Clear | Verdict::None => false,
    };
    let end = window.window_end_ms;
    if active {
        if !state.status.is_active() {
            state.status = AlertStatus::Pending;
            state.active_windows = 0;
            state.active_since_ms = Some(window.window_start_ms);
        }
        state.active_windows = state.active_windows.saturating_add(1);
        state.clear_windows = 0;
        state.clear_since_ms = None;
        if state.status == AlertStatus::Pending
            && elapsed(rule.for_, state.active_windows, state.active_since_ms, end, false)
        {
            state.status = AlertStatus::Firing;
            state.fired_at_ms = Some(end);
            state.fired_count += 1;
            return true;
        }
        if state.status == AlertStatus::Firing {
            return match (rule.repeat_every, state.last_notified_ms) {
                (Some(every), Some(last)) => {
                    end.saturating_sub(last) >= i64::try_from(every.as_millis()).unwrap_or(i64::MAX)
                }
                _ => false,
            };
        }
        return false;
    }
    match state.status {
        AlertStatus::Firing => {
            state.clear_windows = state.clear_windows.saturating_add(1);
            let since = *state.clear_since_ms.get_or_insert(window.window_start_ms);
            // keep_firing_for: still firing while the clear run is no longer than the span.
            if rule
                .keep_firing_for
                .is_some_and(|keep| !elapsed(Some(keep), state.clear_windows, Some(since), end, true))
            {
                return false;
            }
            state.status = AlertStatus::Resolved;
            state.active_windows = 0;
            state.active_since_ms = None;
            state.clear_windows = 0;
            state.clear_since_ms = None;
            true
        }
        _ => {
            state.status = AlertStatus::Inactive;
            state.active_windows = 0;
            state.active_since_ms = None;
            false
        }
    }
}

/// Whether `span` has elapsed after `windows` windows, or from `since` to `end` in event time.
/// `strict`: strictly more than the span (keep_firing_for), else at least (for).
fn elapsed(span: Option<Span>, windows: u32, since: Option<i64>, end: i64, strict: bool) -> bool {
    match span {
        None => true,
        Some(Span::Windows(n)) => {
            if strict {
                windows > n
            } else {
                windows >= n
            }
        }
        Some(Span::Duration(d)) => {
            let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            let run = end.saturating_sub(since.unwrap_or(end));
            if strict {
                run > d
            } else {
                run >= d
            }
        }
    }
}
