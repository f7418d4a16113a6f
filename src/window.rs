//! Windows over one stream: which records go into which window, and when a window closes.
//!
//! A [`Windows<S>`] holds a stream's open windows, each with a caller-defined state `S` (the
//! monitor's accumulators): records go in through [`Windows::insert`] (a [`Placement`] each),
//! closed [`Window`]s come out of [`Windows::take_closed`] in order of their end. Pure and
//! deterministic (no clock, no I/O) and serde-serialisable, so a checkpoint restores it
//! exactly. The watermark is the minimum over the partitions' clocks (`window/partitions.rs`).
//! Semantics, invariants and memory bounds: on [`Windows`]; docs/daemon.md.

mod partitions;
#[cfg(test)]
mod tests;

pub use partitions::{Bound, PartitionClock, PartitionClocks};

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::record::Position;

/// Largest accepted |event time|, and largest size, slide and lateness, in ms (2^53).
pub const MAX_EVENT_TIME_MS: i64 = 1 << 53;

/// What a window's size and slide count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowUnit {
    /// Milliseconds of event time.
    EventTime,
    /// Records of the stream, in arrival order.
    Events,
}

/// Shape of a monitor's windows. Tumbling windows have `slide == size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub unit: WindowUnit,
    /// Window length: ms of event time, or records.
    pub size: u64,
    /// Distance between consecutive window starts, same unit; `1 ≤ slide ≤ size`.
    pub slide: u64,
    /// How far behind the newest event time a record may arrive and still count (event-time
    /// windows only; must be 0 for count windows).
    pub allowed_lateness_ms: u64,
}

/// Why a [`WindowSpec`] was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowSpecError {
    #[error("window size must be at least 1")]
    ZeroSize,
    #[error("window slide must be at least 1")]
    ZeroSlide,
    #[error("window slide ({slide}) must not exceed its size ({size}): records between windows would be lost")]
    SlideExceedsSize { slide: u64, size: u64 },
    #[error("{what} {value} is too large (at most {max})")]
    TooLarge { what: &'static str, value: u64, max: u64 },
    #[error("allowed lateness applies to event-time windows only; count windows are never late")]
    LatenessOnCountWindows,
}

impl WindowSpec {
    pub fn tumbling_time(size_ms: u64, allowed_lateness_ms: u64) -> Self {
        WindowSpec { unit: WindowUnit::EventTime, size: size_ms, slide: size_ms, allowed_lateness_ms }
    }

    pub fn sliding_time(size_ms: u64, slide_ms: u64, allowed_lateness_ms: u64) -> Self {
        WindowSpec { unit: WindowUnit::EventTime, size: size_ms, slide: slide_ms, allowed_lateness_ms }
    }

    pub fn tumbling_count(events: u64) -> Self {
        WindowSpec { unit: WindowUnit::Events, size: events, slide: events, allowed_lateness_ms: 0 }
    }

    pub fn sliding_count(size: u64, slide: u64) -> Self {
        WindowSpec { unit: WindowUnit::Events, size, slide, allowed_lateness_ms: 0 }
    }

    pub fn is_tumbling(&self) -> bool {
        self.slide == self.size
    }

    /// Checks the limits documented on the fields.
    pub fn validate(&self) -> Result<(), WindowSpecError> {
        let max = MAX_EVENT_TIME_MS as u64;
        if self.size == 0 {
            return Err(WindowSpecError::ZeroSize);
        }
        if self.slide == 0 {
            return Err(WindowSpecError::ZeroSlide);
        }
        if self.slide > self.size {
            return Err(WindowSpecError::SlideExceedsSize { slide: self.slide, size: self.size });
        }
        for (what, value) in [("window size", self.size), ("allowed lateness (ms)", self.allowed_lateness_ms)] {
            if value > max {
                return Err(WindowSpecError::TooLarge { what, value, max });
            }
        }
        if self.unit == WindowUnit::Events && self.allowed_lateness_ms != 0 {
            return Err(WindowSpecError::LatenessOnCountWindows);
        }
        Ok(())
    }
}

/// What a closed window covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowBounds {
    /// Event-time windows: the window's `[start, end)`. Count windows: the earliest event time
    /// in the window and the latest + 1 (so `[start, end)` covers every record in it).
    pub start_ms: i64,
    pub end_ms: i64,
    /// Records added to the window.
    pub events: u64,
    /// Where the first and the last record added (in arrival order) came from.
    pub first: Position,
    pub last: Position,
}

/// One window: its key (start time, or index for count windows), bounds and state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window<S> {
    pub key: i64,
    pub bounds: WindowBounds,
    pub state: S,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Added to `windows` windows; `missed` more windows covering its time had already closed
    /// (only for out-of-order records in sliding event-time windows).
    Accepted { windows: u32, missed: u32 },
    /// Every window of its time had closed: counted, not added.
    Late,
    /// |event time| > [`MAX_EVENT_TIME_MS`]: not added.
    OutOfRange,
}

/// The open windows of one stream.
///
/// Inputs: records as (event time, [`Position`]) via [`Windows::insert`] with a closure that
/// updates a window's state; idle partitions via [`Windows::set_partition_idle`] and
/// processing-time advances via [`Windows::advance_idle`]; the end of a finite source via
/// [`Windows::flush`]. Outputs: [`Placement`] per record, and closed
/// [`Window`]s (bounds + state) in order from [`Windows::take_closed`].
///
/// Semantics ([`WindowSpec`]):
/// - Event-time windows are aligned to the Unix epoch and half-open: the windows of a record at
///   time `t` are `[s, s + size)` for every `s ≡ 0 (mod slide)` with `s ≤ t < s + size`
///   (tumbling: `slide = size`, exactly one window).
/// - Watermark = the minimum over the stream's active partitions of their newest event time,
///   minus the allowed lateness, never decreasing ([`PartitionClocks`]: a file is one
///   partition, so there it is the newest event time − lateness); a time window closes when
///   `watermark ≥ end`. Records are in order per partition and interleaved in any way across
///   partitions without any being late. The caller marks caught-up, silent partitions idle
///   ([`Windows::set_partition_idle`]) and, once every partition is idle, may advance the
///   watermark by processing time relative to the newest event time
///   ([`Windows::advance_idle`]), so a quiet stream still closes its windows.
/// - A record whose every window is already closed (`watermark ≥ end` of its latest window) is
///   *late*: counted and returned as [`Placement::Late`], never added anywhere. Lateness depends
///   only on the watermark, not on whether the caller has taken the closed windows yet, so the
///   result does not depend on how often [`Windows::take_closed`] is called. With sliding
///   windows an out-of-order record may miss some of its windows and still land in others;
///   [`Placement::Accepted::missed`] counts those.
/// - Count windows are per stream, in arrival order: record `i` (0-based) belongs to window `j`
///   when `j·slide ≤ i < j·slide + size`, so every `slide` records a window of the last `size`
///   records closes. They have no watermark and are never late; [`Windows::flush`] closes the
///   incomplete ones.
///
/// Invariants (property-tested in `window/tests/`): tumbling: every non-late record is in
/// exactly one closed window, the one containing its time; sliding with `size = k·slide`: an
/// in-order record is in exactly k windows, an out-of-order one in `k − missed`; windows close
/// in order of their end; no time window closes before the watermark reaches its end (except
/// by [`Windows::flush`]); late records are exactly those behind the closed windows.
///
/// Memory: open event-time windows span at most `size + allowed_lateness` of event time behind
/// the newest record, i.e. about `(size + lateness) / slide + 1` windows; count windows keep at
/// most `ceil(size / slide)` open. Event times and spans are limited to ±2^53 ms (the integers a
/// JSON number holds exactly, ±285,000 years) so no window arithmetic can overflow; a record
/// outside is [`Placement::OutOfRange`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windows<S> {
    spec: WindowSpec,
    max_event_time_ms: Option<i64>,
    /// `None` until the first record or advance; `i64::MAX` after [`Windows::flush`].
    watermark_ms: Option<i64>,
    /// Event-time windows: the clock of each source partition (absent from checkpoints of
    /// state version 3, which had one clock per stream: restored empty).
    #[serde(default)]
    partitions: PartitionClocks,
    accepted: u64,
    late: u64,
    /// Ordered by key, hence by end.
    open: VecDeque<Window<S>>,
}

impl<S> Windows<S> {
    /// Empty windows for a spec that passed [`WindowSpec::validate`].
    pub fn new(spec: WindowSpec) -> Self {
        Windows {
            spec,
            max_event_time_ms: None,
            watermark_ms: None,
            partitions: PartitionClocks::default(),
            accepted: 0,
            late: 0,
            open: VecDeque::new(),
        }
    }

    pub fn spec(&self) -> &WindowSpec {
        &self.spec
    }

    /// The current watermark (event-time windows), `None` before any record or advance.
    pub fn watermark_ms(&self) -> Option<i64> {
        self.watermark_ms
    }

    /// The per-partition clocks (event-time windows).
    pub fn partitions(&self) -> &PartitionClocks {
        &self.partitions
    }

    /// Newest event time accepted.
    pub fn max_event_time_ms(&self) -> Option<i64> {
        self.max_event_time_ms
    }

    /// Records accepted / late so far.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    pub fn late(&self) -> u64 {
        self.late
    }

    /// Windows not yet taken (including closed ones not yet returned by [`Self::take_closed`]).
    pub fn open(&self) -> impl Iterator<Item = &Window<S>> {
        self.open.iter()
    }

    /// The open window with this key (start time, or index for count windows).
    pub fn get_mut(&mut self, key: i64) -> Option<&mut Window<S>> {
        let index = self.open.binary_search_by_key(&key, |w| w.key).ok()?;
        self.open.get_mut(index)
    }

    /// Adds a record: `update` is called once on the state of every window it belongs to
    /// (`init` creates the state of a window the record opens).
    pub fn insert(
        &mut self,
        event_time_ms: i64,
        position: &Position,
        mut init: impl FnMut() -> S,
        mut update: impl FnMut(&mut S),
    ) -> Placement {
        if !(-MAX_EVENT_TIME_MS..=MAX_EVENT_TIME_MS).contains(&event_time_ms) {
            return Placement::OutOfRange;
        }
        let placement = match self.spec.unit {
            WindowUnit::EventTime => self.insert_timed(event_time_ms, position, &mut init, &mut update),
            WindowUnit::Events => self.insert_counted(event_time_ms, position, &mut init, &mut update),
        };
        match placement {
            Placement::Accepted { .. } => {
                self.accepted += 1;
                let max = self.max_event_time_ms.map_or(event_time_ms, |m| m.max(event_time_ms));
                self.max_event_time_ms = Some(max);
            }
            Placement::Late => self.late += 1,
            Placement::OutOfRange => {}
        }
        // A late record still moves its partition's clock and makes it active again: it shows
        // where that partition is (behind), so the others must not run further ahead of it.
        if self.spec.unit == WindowUnit::EventTime && placement != Placement::OutOfRange {
            let lateness = self.spec.allowed_lateness_ms as i64;
            let holder = self.watermark_ms.map(|w| w.saturating_add(lateness));
            if self.partitions.observe(position.partition(), event_time_ms, holder) {
                self.raise_to_partitions();
            }
        }
        placement
    }

    /// Raises the watermark to the minimum over the active partitions − lateness, if that is
    /// higher (the watermark never decreases: a partition joining behind it does not reopen
    /// closed windows).
    fn raise_to_partitions(&mut self) {
        if let Bound::Active(min) = self.partitions.lower_bound() {
            // Both terms are within ±2^53, so the subtraction cannot overflow.
            self.raise_watermark(min - self.spec.allowed_lateness_ms as i64);
        }
    }

    /// Makes the stream's partitions exactly `assigned` (the consumer's assignment): new ones
    /// hold the watermark until their first record or until idle, revoked ones leave the
    /// minimum. Returns whether some window is now ready to close.
    pub fn assign_partitions(&mut self, assigned: impl IntoIterator<Item = i32>) -> bool {
        if self.spec.unit == WindowUnit::EventTime {
            self.partitions.assign(assigned);
            self.raise_to_partitions();
        }
        self.has_closed()
    }

    /// Marks a partition idle (caught up and silent: left out of the minimum) or active.
    /// Returns whether some window is now ready to close.
    pub fn set_partition_idle(&mut self, partition: i32, idle: bool) -> bool {
        if self.spec.unit == WindowUnit::EventTime {
            self.partitions.set_idle(partition, idle);
            self.raise_to_partitions();
        }
        self.has_closed()
    }

    /// A restored checkpoint: every partition active again until the caller finds it idle.
    pub fn wake_partitions(&mut self) {
        self.partitions.wake_all();
    }

    fn insert_timed(
        &mut self,
        t: i64,
        position: &Position,
        init: &mut impl FnMut() -> S,
        update: &mut impl FnMut(&mut S),
    ) -> Placement {
        // |t|, size, slide ≤ 2^53: every intermediate below fits an i64.
        let (size, slide) = (self.spec.size as i64, self.spec.slide as i64);
        let watermark = self.watermark_ms.unwrap_or(i64::MIN);
        let last_start = t.div_euclid(slide) * slide;
        if last_start + size <= watermark {
            return Placement::Late;
        }
        let (mut windows, mut missed) = (0u32, 0u32);
        let mut start = last_start;
        while start + size > t {
            if start + size <= watermark {
                missed += 1;
            } else {
                let index = match self.open.binary_search_by_key(&start, |w| w.key) {
                    Ok(index) => index,
                    Err(index) => {
                        let bounds = WindowBounds {
                            start_ms: start,
                            end_ms: start + size,
                            events: 0,
                            first: position.clone(),
                            last: position.clone(),
                        };
                        self.open.insert(index, Window { key: start, bounds, state: init() });
                        index
                    }
                };
                if let Some(window) = self.open.get_mut(index) {
                    window.bounds.events += 1;
                    assign_position(&mut window.bounds.last, position);
                    update(&mut window.state);
                    windows += 1;
                }
            }
            start -= slide;
        }
        Placement::Accepted { windows, missed }
    }

    fn insert_counted(
        &mut self,
        t: i64,
        position: &Position,
        init: &mut impl FnMut() -> S,
        update: &mut impl FnMut(&mut S),
    ) -> Placement {
        let index = self.accepted;
        if index.is_multiple_of(self.spec.slide) {
            let key = i64::try_from(index / self.spec.slide).unwrap_or(i64::MAX);
            let bounds =
                WindowBounds { start_ms: t, end_ms: t + 1, events: 0, first: position.clone(), last: position.clone() };
            self.open.push_back(Window { key, bounds, state: init() });
        }
        // Every open count window contains this record: a window leaves `open` as soon as it
        // is full (see `is_closed`), and the newest one was opened at or before it.
        let (size, mut windows) = (self.spec.size, 0u32);
        for window in self.open.iter_mut().filter(|w| w.bounds.events < size) {
            window.bounds.events += 1;
            window.bounds.start_ms = window.bounds.start_ms.min(t);
            window.bounds.end_ms = window.bounds.end_ms.max(t + 1);
            assign_position(&mut window.bounds.last, position);
            update(&mut window.state);
            windows += 1;
        }
        Placement::Accepted { windows, missed: 0 }
    }

    fn raise_watermark(&mut self, to: i64) {
        self.watermark_ms = Some(self.watermark_ms.map_or(to, |w| w.max(to)));
    }

    /// Processing-time advance of a quiet stream: only when every partition is idle, the
    /// watermark becomes at least `newest event time + elapsed_ms − allowed lateness`, where
    /// `elapsed_ms` is the processing time since the newest record arrived — event time is
    /// taken to have moved on at the speed of the wall clock, never further. Historical event
    /// times (a backfill, a replay) are therefore never overtaken by today's date. No effect on
    /// count windows, on a stream that has received nothing, or while a partition is active.
    /// Returns whether some window is now ready to close.
    pub fn advance_idle(&mut self, elapsed_ms: u64) -> bool {
        if self.spec.unit == WindowUnit::EventTime && self.partitions.all_idle() {
            if let Some(newest) = self.max_event_time_ms {
                let elapsed = i64::try_from(elapsed_ms).unwrap_or(i64::MAX).min(2 * MAX_EVENT_TIME_MS);
                let to = (newest + elapsed).min(MAX_EVENT_TIME_MS);
                self.raise_watermark(to - self.spec.allowed_lateness_ms as i64);
            }
        }
        self.has_closed()
    }

    fn is_closed(&self, window: &Window<S>) -> bool {
        match self.spec.unit {
            WindowUnit::EventTime => self.watermark_ms.is_some_and(|w| w >= window.bounds.end_ms),
            WindowUnit::Events => window.bounds.events >= self.spec.size,
        }
    }

    /// Whether [`Self::take_closed`] would return something.
    pub fn has_closed(&self) -> bool {
        self.open.front().is_some_and(|w| self.is_closed(w))
    }

    /// Removes and returns the closed windows, oldest first.
    pub fn take_closed(&mut self) -> Vec<Window<S>> {
        let mut closed = Vec::new();
        while self.has_closed() {
            if let Some(window) = self.open.pop_front() {
                closed.push(window);
            }
        }
        closed
    }

    /// End of a finite source: closes every open window (count windows however full they
    /// are) and returns them oldest first. Event-time records inserted afterwards are late.
    pub fn flush(&mut self) -> Vec<Window<S>> {
        if self.spec.unit == WindowUnit::EventTime {
            self.watermark_ms = Some(i64::MAX);
        }
        self.open.drain(..).collect()
    }

    /// Checks the invariants a checkpoint must satisfy before it is resumed (keys strictly
    /// increasing, aligned time windows of the spec's size, count windows not over-full).
    pub fn check(&self) -> Result<(), &'static str> {
        if self.spec.validate().is_err() {
            return Err("the window spec is invalid");
        }
        let in_range = |t: Option<i64>| t.is_none_or(|t| (-MAX_EVENT_TIME_MS..=MAX_EVENT_TIME_MS).contains(&t));
        if !in_range(self.max_event_time_ms) || !self.partitions.iter().all(|(_, c)| in_range(c.max_event_time_ms)) {
            return Err("the newest event time is out of range");
        }
        if self.open.iter().zip(self.open.iter().skip(1)).any(|(a, b)| a.key >= b.key) {
            return Err("window keys are not strictly increasing");
        }
        let (size, slide) = (self.spec.size as i64, self.spec.slide as i64);
        for w in &self.open {
            let ok = match self.spec.unit {
                WindowUnit::EventTime => {
                    w.key == w.bounds.start_ms
                        && w.key.rem_euclid(slide) == 0
                        && (-MAX_EVENT_TIME_MS - size..=MAX_EVENT_TIME_MS).contains(&w.key)
                        && w.bounds.end_ms == w.key + size
                }
                WindowUnit::Events => w.bounds.events <= self.spec.size && w.bounds.start_ms < w.bounds.end_ms,
            };
            if !ok || w.bounds.events == 0 {
                return Err("a window's bounds do not match the window spec");
            }
        }
        Ok(())
    }
}

/// `*dst = src.clone()`, reusing `dst`'s topic allocation when both are Kafka positions (this
/// runs for every record and every window it lands in).
fn assign_position(dst: &mut Position, src: &Position) {
    match (dst, src) {
        (Position::Kafka { topic, partition, offset }, Position::Kafka { topic: t, partition: p, offset: o }) => {
            topic.clone_from(t);
            *partition = *p;
            *offset = *o;
        }
        (dst, src) => *dst = src.clone(),
    }
}
