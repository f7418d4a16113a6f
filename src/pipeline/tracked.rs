//! How far a stream's source has been taken into its core ([`Tracked`]): what its checkpoint
//! records, advanced by every record and bad item the monitor task takes.

use std::collections::BTreeMap;

use crate::record::Position;
use crate::source::task::Consumed;
use crate::store::{FileFingerprint, SourcePosition};

/// How far a stream's source has been taken into its core: what its checkpoint records.
#[derive(Debug, Clone)]
pub enum Tracked {
    File { file: FileFingerprint, consumed: u64 },
    Kafka { topic: String, next: BTreeMap<i32, i64> },
}

impl Tracked {
    /// A record taken: the file's item number `item`, or the record's Kafka position.
    pub fn record(&mut self, item: u64, position: &Position) {
        match (self, position) {
            (Tracked::File { consumed, .. }, _) => *consumed = item + 1,
            (Tracked::Kafka { next, .. }, Position::Kafka { partition, offset, .. }) => {
                next.insert(*partition, offset + 1);
            }
            (Tracked::Kafka { .. }, Position::File { .. }) => {}
        }
    }

    /// A Kafka message at or before what was already taken from its partition: delivered
    /// again after a rebalance (the partitions were revoked while the reader held messages it
    /// had not sent yet, and assigned again from the checkpoint). Taking it twice would
    /// count it twice.
    pub fn redelivered(&self, position: &Position) -> bool {
        match (self, position) {
            (Tracked::Kafka { next, .. }, Position::Kafka { partition, offset, .. }) => {
                next.get(partition).is_some_and(|next| offset < next)
            }
            _ => false,
        }
    }

    pub fn bad(&mut self, at: &Consumed) {
        match (self, at) {
            (Tracked::File { consumed, .. }, Consumed::Item(item)) => *consumed = item + 1,
            (Tracked::Kafka { next, .. }, Consumed::Kafka { partition, offset }) => {
                next.insert(*partition, offset + 1);
            }
            _ => {}
        }
    }

    pub fn position(&self) -> SourcePosition {
        match self {
            Tracked::File { file, consumed } => SourcePosition::File { file: file.clone(), consumed: *consumed },
            Tracked::Kafka { topic, next } => {
                SourcePosition::Kafka { topic: topic.clone(), next_offsets: next.clone() }
            }
        }
    }
}
