//! Log-line throttling for errors that can repeat at the rate of the input (bad rows, broker
//! errors): the first is logged, then at most one line per [`ERROR_LOG_INTERVAL`] with the
//! count of the lines left out.

use std::time::{Duration, Instant};

/// Bad rows logged with their position per stream; the rest are only counted (and logged at
/// most once per [`ERROR_LOG_INTERVAL`]).
pub const LOGGED_BAD_ROWS: u64 = 5;
/// Errors are logged at most this often per stream.
pub const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// At most one log line per [`ERROR_LOG_INTERVAL`], counting the ones left out.
#[derive(Default)]
pub struct ErrorLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorLog {
    /// `Some(errors left out since the last line)` when this one may be logged.
    pub fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|at| now.duration_since(at) < ERROR_LOG_INTERVAL) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}
