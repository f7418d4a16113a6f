//! Checks and resolution of a monitor's `window:`: sizes and durations parse; a slide only
//! for sliding windows, in the unit of `size`, dividing it, with at most [`MAX_OPEN_WINDOWS`]
//! windows open; `allowed_lateness` and `idle_timeout` only for time windows; defaults
//! (tumbling, no lateness, idle timeout [`DEFAULT_IDLE_TIMEOUT`]).

use std::time::Duration;

use super::duration::{format_window_size, parse_duration, parse_window_size};
use super::error::KeyPath;
use super::model::{WindowConfig, WindowKind, WindowSize, MAX_OPEN_WINDOWS};
use super::schema;
use super::validate::{Checker, DEFAULT_IDLE_TIMEOUT};

impl Checker<'_> {
    /// `None` when the window has a problem.
    pub(super) fn window(&mut self, path: &KeyPath, w: &schema::Window) -> Option<WindowConfig> {
        let broken = self.has_problem(path);
        let kind = w.kind.unwrap_or(WindowKind::Tumbling);
        let size = self.parsed(&path.key("size"), &w.size, parse_window_size);
        let slide = w.slide.as_deref().and_then(|t| self.parsed(&path.key("slide"), t, parse_window_size));
        let lateness =
            w.allowed_lateness.as_deref().and_then(|t| self.parsed(&path.key("allowed_lateness"), t, parse_duration));
        let idle = w.idle_timeout.as_deref().and_then(|t| self.parsed(&path.key("idle_timeout"), t, parse_duration));
        let size = size?;
        if broken {
            // A placeholder among kind, size and slide: their combination means nothing.
            return None;
        }
        let slide = match (kind, w.slide.is_some(), slide) {
            (WindowKind::Tumbling, true, _) => {
                self.error(
                    &path.key("slide"),
                    "only sliding windows have a slide (set `kind: sliding`, or remove `slide`)",
                );
                size
            }
            (WindowKind::Tumbling, false, _) => size,
            (WindowKind::Sliding, false, _) => {
                self.error(path, "sliding windows need `slide`");
                return None;
            }
            (WindowKind::Sliding, true, None) => return None,
            (WindowKind::Sliding, true, Some(slide)) => {
                self.slide(&path.key("slide"), size, slide);
                slide
            }
        };
        if let WindowSize::Events(_) = size {
            for (key, given) in
                [("allowed_lateness", w.allowed_lateness.is_some()), ("idle_timeout", w.idle_timeout.is_some())]
            {
                if given {
                    self.error(
                        &path.key(key),
                        format!("`{key}` applies to time windows only (this window counts events)"),
                    );
                }
            }
            return Some(WindowConfig { kind, size, slide, allowed_lateness: Duration::ZERO, idle_timeout: None });
        }
        let idle = if w.idle_timeout.is_some() { idle.filter(|d| !d.is_zero()) } else { Some(DEFAULT_IDLE_TIMEOUT) };
        Some(WindowConfig {
            kind,
            size,
            slide,
            allowed_lateness: lateness.unwrap_or(Duration::ZERO),
            idle_timeout: idle,
        })
    }

    fn slide(&mut self, path: &KeyPath, size: WindowSize, slide: WindowSize) {
        let (size_n, slide_n) = match (size, slide) {
            (WindowSize::Time(a), WindowSize::Time(b)) => (a.as_millis(), b.as_millis()),
            (WindowSize::Events(a), WindowSize::Events(b)) => (u128::from(a), u128::from(b)),
            _ => {
                self.error(path, "the slide must be in the unit of `size` (both durations, or both counts of events)");
                return;
            }
        };
        let (size_text, slide_text) = (format_window_size(size), format_window_size(slide));
        if slide_n > size_n {
            self.error(path, format!("the slide ({slide_text}) is longer than the window ({size_text})"));
        } else if size_n % slide_n != 0 {
            self.error(path, format!("the slide ({slide_text}) must divide the window size ({size_text})"));
        } else if size_n / slide_n > u128::from(MAX_OPEN_WINDOWS) {
            self.error(
                path,
                format!(
                    "windows of {size_text} every {slide_text} keep {} windows open; at most {MAX_OPEN_WINDOWS}",
                    size_n / slide_n
                ),
            );
        }
    }

    pub(super) fn parsed<T>(&mut self, path: &KeyPath, text: &str, parse: fn(&str) -> Result<T, String>) -> Option<T> {
        match parse(text) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }
}
