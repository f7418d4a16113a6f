//! Per-partition event-time clocks: the stream's watermark is the minimum over its partitions.
//!
//! A Kafka stream receives each partition in order but the partitions interleaved in any way,
//! so a watermark taken from the stream's newest event time would make the partitions that
//! are behind late. As in Flink's Kafka source and Kafka Streams' stream time, each partition
//! keeps its own clock ([`PartitionClocks`]) and the watermark is the minimum over the *active*
//! partitions minus the allowed lateness; idleness as Flink's `withIdleness`. A file is one
//! partition. Pure (no clock, no I/O); serialised inside the windows' checkpoint.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One partition's clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionClock {
    /// Newest event time received from this partition (late records included: they show
    /// where the partition is), `None` before its first record.
    pub max_event_time_ms: Option<i64>,
    /// Left out of the minimum until its next record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
}

/// The clocks of a stream's partitions (Kafka partition number; 0 for a file source).
///
/// Idleness (Flink's `withIdleness`): the caller marks a partition idle when it is caught up
/// and has been silent for the idle timeout ([`PartitionClocks::set_idle`]); an idle partition
/// is left out of the minimum and comes back in with its next record. A partition that is
/// known (assigned) but has sent nothing yet holds the watermark back until it sends or goes
/// idle, so a new or lagging partition is never overtaken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartitionClocks {
    clocks: BTreeMap<i32, PartitionClock>,
}

/// What [`PartitionClocks::lower_bound`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The minimum newest event time over the active partitions.
    Active(i64),
    /// An active partition has sent nothing yet: nothing may advance.
    Held,
    /// No partition is active (none known, or all idle).
    NoneActive,
}

impl PartitionClocks {
    /// A record at `event_time_ms` from `partition`: raises its clock and makes it active.
    /// Returns whether the minimum may have changed (the caller then recomputes it): only when
    /// the partition was idle, new, or at or below `watermark_plus_lateness`, i.e. possibly the
    /// one holding the watermark.
    pub fn observe(&mut self, partition: i32, event_time_ms: i64, watermark_plus_lateness: Option<i64>) -> bool {
        let clock = self.clocks.entry(partition).or_default();
        let was = clock.max_event_time_ms;
        let changed = clock.idle || was.is_none_or(|t| watermark_plus_lateness.is_none_or(|w| t <= w));
        clock.idle = false;
        clock.max_event_time_ms = Some(was.map_or(event_time_ms, |t| t.max(event_time_ms)));
        changed
    }

    /// The lower bound the active partitions put on the watermark (before lateness).
    pub fn lower_bound(&self) -> Bound {
        let mut min: Option<i64> = None;
        for clock in self.clocks.values().filter(|c| !c.idle) {
            match clock.max_event_time_ms {
                None => return Bound::Held,
                Some(t) => min = Some(min.map_or(t, |m| m.min(t))),
            }
        }
        min.map_or(Bound::NoneActive, Bound::Active)
    }

    /// Makes the known partitions exactly `assigned`: new ones join (holding the watermark
    /// until they send or go idle), ones no longer assigned leave the minimum.
    pub fn assign(&mut self, assigned: impl IntoIterator<Item = i32>) {
        let assigned: std::collections::BTreeSet<i32> = assigned.into_iter().collect();
        self.clocks.retain(|p, _| assigned.contains(p));
        for p in assigned {
            self.clocks.entry(p).or_default();
        }
    }

    /// Marks a known partition idle or active; unknown partitions are ignored.
    pub fn set_idle(&mut self, partition: i32, idle: bool) {
        if let Some(clock) = self.clocks.get_mut(&partition) {
            clock.idle = idle;
        }
    }

    /// Every partition active again (a restored checkpoint: idleness is earned anew each run).
    pub fn wake_all(&mut self) {
        for clock in self.clocks.values_mut() {
            clock.idle = false;
        }
    }

    /// At least one partition is known and every known one is idle.
    pub fn all_idle(&self) -> bool {
        !self.clocks.is_empty() && self.clocks.values().all(|c| c.idle)
    }

    pub fn get(&self, partition: i32) -> Option<&PartitionClock> {
        self.clocks.get(&partition)
    }

    pub fn iter(&self) -> impl Iterator<Item = (i32, &PartitionClock)> {
        self.clocks.iter().map(|(&p, c)| (p, c))
    }

    pub fn len(&self) -> usize {
        self.clocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clocks.is_empty()
    }
}
