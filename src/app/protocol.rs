//! What the reader tasks send a monitor task ([`Item`]) and how far a stream's source has been
//! taken into its core ([`Tracked`]: what its checkpoint records).

use super::*;

/// What a reader sends its monitor.
pub(super) enum Item {
    /// Consecutive records. File sources: the first is the source's item number `first`
    /// (0-based, in delivery order). Kafka: each record's position names its offset.
    Records {
        first: u64,
        records: Vec<Record>,
    },
    Bad {
        stream: Stream,
        at: Consumed,
        reason: &'static str,
        message: String,
    },
    /// The stream's source ended: `exhausted`, or stopped / failed (failures already reported).
    End {
        stream: Stream,
        exhausted: bool,
    },
    /// The features of `stream` whose reference is captured from it, discovered by its
    /// reader from the first messages (sent before any of them).
    Discovered {
        stream: Stream,
        features: Vec<DiscoveredFeature>,
    },
    /// Kafka partitions of `stream` are being revoked: checkpoint everything taken so far,
    /// commit its offsets synchronously, then acknowledge.
    Revoked {
        stream: Stream,
        ack: std::sync::mpsc::Sender<()>,
    },
}

/// Which source item a bad row was.
pub(super) enum Consumed {
    /// A file source's item number.
    Item(u64),
    Kafka {
        partition: i32,
        offset: i64,
    },
}

/// How far a stream's source has been taken into its core: what its checkpoint records.
#[derive(Debug, Clone)]
pub(super) enum Tracked {
    File { file: FileFingerprint, consumed: u64 },
    Kafka { topic: String, next: BTreeMap<i32, i64> },
}

impl Tracked {
    /// A record taken: the file's item number `item`, or the record's Kafka position.
    pub(super) fn record(&mut self, item: u64, position: &Position) {
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
    pub(super) fn redelivered(&self, position: &Position) -> bool {
        match (self, position) {
            (Tracked::Kafka { next, .. }, Position::Kafka { partition, offset, .. }) => {
                next.get(partition).is_some_and(|next| offset < next)
            }
            _ => false,
        }
    }

    pub(super) fn bad(&mut self, at: &Consumed) {
        match (self, at) {
            (Tracked::File { consumed, .. }, Consumed::Item(item)) => *consumed = item + 1,
            (Tracked::Kafka { next, .. }, Consumed::Kafka { partition, offset }) => {
                next.insert(*partition, offset + 1);
            }
            _ => {}
        }
    }

    pub(super) fn position(&self) -> SourcePosition {
        match self {
            Tracked::File { file, consumed } => SourcePosition::File { file: file.clone(), consumed: *consumed },
            Tracked::Kafka { topic, next } => {
                SourcePosition::Kafka { topic: topic.clone(), next_offsets: next.clone() }
            }
        }
    }
}
