//! The durable outbox: redb tables in the daemon's own database (the checkpoints' file), all
//! keyed by the notification's idempotency key (which names its action, so one entry is one
//! (notification, action)): [`OUTBOX`] (waiting), [`FAILED`] (given up, kept for reporting)
//! and [`SENT`] (delivered, so that a replayed window does not deliver a key twice).
//!
//! Invariants: a key is in at most one table; an entry leaves [`OUTBOX`] only in the
//! transaction that records its success or its failure.

// redb's error type is large; it travels once per delivery, never per record.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::notification::Notification;
use crate::store::DbHandle;

/// Pending entries: key → [`PendingEntry`] (JSON), with their attempt count, next attempt
/// time and last error.
pub const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("actions_outbox");
/// Permanently failed entries: key → [`FailedEntry`] (JSON): failed permanently or out of
/// attempts, kept for reporting until removed.
pub const FAILED: TableDefinition<&str, &[u8]> = TableDefinition::new("actions_failed");
/// Delivered keys: key → delivery time (ms since the epoch), so that enqueueing a key again
/// (a replayed window whose checkpoint was lost) does not deliver it twice. Pruned after a
/// retention period by the dispatcher.
pub const SENT: TableDefinition<&str, i64> = TableDefinition::new("actions_sent");

/// What the daemon enqueues: one notification for one action, with the daemon's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The notification's idempotency key.
    pub key: String,
    /// The action to deliver to (the notification's `action`).
    pub action: String,
    pub notification: Notification,
    /// What the daemon adds (model and reference versions, window offsets, top drifted
    /// features with per-bin contributions: see `docs/actions.md`); opaque here, passed on
    /// under `"evidence"`.
    pub evidence: serde_json::Value,
    /// When it was enqueued (ms since the epoch): the start of the delivery latency.
    pub enqueued_ms: i64,
}

impl OutboxEntry {
    /// The entry of `notification` (key and action taken from it).
    pub fn new(notification: Notification, evidence: serde_json::Value, enqueued_ms: i64) -> OutboxEntry {
        OutboxEntry {
            key: notification.idempotency_key.clone(),
            action: notification.action.clone(),
            notification,
            evidence,
            enqueued_ms,
        }
    }
}

/// An entry waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEntry {
    pub entry: OutboxEntry,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (ms since the epoch); 0 for a new entry.
    pub next_attempt_ms: i64,
    pub last_attempt_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// An entry that will not be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedEntry {
    pub entry: OutboxEntry,
    pub attempts: u32,
    pub error: String,
    /// Whether the last error was retryable (attempts spent) or permanent.
    pub retryable: bool,
    pub failed_ms: i64,
}

/// Why the outbox failed (a storage problem: delivery errors are never outbox errors).
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Boxed: redb's error is large and this one travels through every outbox call.
    #[error("outbox: {0}")]
    Store(Box<redb::Error>),
    #[error("outbox task: {0}")]
    Task(String),
    #[error("outbox entry {key} cannot be read: {source}")]
    Decode { key: String, source: serde_json::Error },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for OutboxError {
            fn from(e: $t) -> OutboxError {
                OutboxError::Store(Box::new(e.into()))
            }
        }
    )*};
}
from_redb!(redb::Error, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

/// Creates the tables (idempotent), so readers never meet a missing table.
pub fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(OUTBOX)?;
    txn.open_table(FAILED)?;
    txn.open_table(SENT)?;
    Ok(())
}

/// Adds `entries` to the outbox inside the caller's transaction (the daemon commits them with
/// the window's checkpoint). A key already pending, failed or recently sent is left alone, so
/// enqueueing is idempotent. The caller wakes the dispatcher after the commit.
pub fn enqueue_in(txn: &WriteTransaction, entries: &[OutboxEntry]) -> Result<(), redb::Error> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let failed = txn.open_table(FAILED)?;
    let sent = txn.open_table(SENT)?;
    for entry in entries {
        let key = entry.key.as_str();
        if outbox.get(key)?.is_some() || failed.get(key)?.is_some() || sent.get(key)?.is_some() {
            continue;
        }
        let pending = PendingEntry {
            entry: entry.clone(),
            attempts: 0,
            next_attempt_ms: 0,
            last_attempt_ms: None,
            last_error: None,
        };
        outbox.insert(key, encode(&pending).as_slice())?;
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain data (strings, numbers, a JSON value): serialization cannot fail.
    serde_json::to_vec(value).expect("outbox entries serialize")
}

fn decode<T: for<'a> Deserialize<'a>>(key: &str, bytes: &[u8]) -> Result<T, OutboxError> {
    serde_json::from_slice(bytes).map_err(|source| OutboxError::Decode { key: key.to_string(), source })
}

/// The outbox over a shared database.
#[derive(Clone)]
pub struct Outbox {
    db: DbHandle,
}

impl Outbox {
    /// The outbox in `db` (its tables are created if needed): an `Arc<Database>`, or the
    /// daemon's [`DbHandle`], reopened in place after an I/O error.
    pub fn new(db: impl Into<DbHandle>) -> Result<Outbox, OutboxError> {
        let outbox = Outbox { db: db.into() };
        outbox.write(|txn| Ok(create_tables(txn)?))?;
        Ok(outbox)
    }

    /// The current database (take it per transaction: it may be reopened); `PreviousIo`
    /// while a failed database awaits its reopening.
    pub fn database(&self) -> Result<Arc<Database>, redb::Error> {
        self.db.get()
    }

    fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, OutboxError>) -> Result<T, OutboxError> {
        let txn = self.db.get()?.begin_write()?;
        let value = f(&txn)?;
        txn.commit()?;
        Ok(value)
    }

    /// [`enqueue_in`] in a transaction of its own.
    pub fn enqueue(&self, entries: &[OutboxEntry]) -> Result<(), OutboxError> {
        self.write(|txn| Ok(enqueue_in(txn, entries)?))
    }

    /// Every pending entry, by key. An entry that cannot be decoded (written by an
    /// incompatible version) is logged and skipped, so it cannot hold up the others; it stays
    /// in the table for a version that can read it.
    pub fn pending(&self) -> Result<Vec<PendingEntry>, OutboxError> {
        let txn = self.db.get()?.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (key, value) = row?;
            match decode(key.value(), value.value()) {
                Ok(entry) => out.push(entry),
                Err(err) => tracing::error!(error = %err, "Skipping an outbox entry that cannot be read."),
            }
        }
        Ok(out)
    }

    /// The pending entry of `key`.
    pub fn get(&self, key: &str) -> Result<Option<PendingEntry>, OutboxError> {
        let txn = self.db.get()?.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        let value = table.get(key)?;
        value.map(|v| decode(key, v.value())).transpose()
    }

    /// Records a failed attempt that will be retried at `next_attempt_ms`. Returns the
    /// attempts made, or `None` when the key is no longer pending.
    pub fn record_attempt(
        &self,
        key: &str,
        error: &str,
        now_ms: i64,
        next_attempt_ms: i64,
    ) -> Result<Option<u32>, OutboxError> {
        self.write(|txn| {
            let mut table = txn.open_table(OUTBOX)?;
            let Some(mut pending) = table.get(key)?.map(|v| decode::<PendingEntry>(key, v.value())).transpose()? else {
                return Ok(None);
            };
            pending.attempts = pending.attempts.saturating_add(1);
            pending.last_attempt_ms = Some(now_ms);
            pending.next_attempt_ms = next_attempt_ms;
            pending.last_error = Some(error.to_string());
            table.insert(key, encode(&pending).as_slice())?;
            Ok(Some(pending.attempts))
        })
    }

    /// Records a successful delivery: the entry leaves the outbox and its key is remembered.
    /// Returns the entry, or `None` when it was no longer pending.
    pub fn mark_sent(&self, key: &str, now_ms: i64) -> Result<Option<PendingEntry>, OutboxError> {
        self.write(|txn| {
            let mut table = txn.open_table(OUTBOX)?;
            let removed = table.remove(key)?.map(|v| decode::<PendingEntry>(key, v.value())).transpose()?;
            if removed.is_some() {
                txn.open_table(SENT)?.insert(key, now_ms)?;
            }
            Ok(removed)
        })
    }

    /// Moves the entry to the failed table (after a permanent error, or its last attempt).
    pub fn mark_failed(
        &self,
        key: &str,
        error: &str,
        retryable: bool,
        now_ms: i64,
    ) -> Result<Option<FailedEntry>, OutboxError> {
        self.write(|txn| {
            let mut table = txn.open_table(OUTBOX)?;
            let Some(pending) = table.remove(key)?.map(|v| decode::<PendingEntry>(key, v.value())).transpose()? else {
                return Ok(None);
            };
            let failed = FailedEntry {
                entry: pending.entry,
                attempts: pending.attempts.saturating_add(1),
                error: error.to_string(),
                retryable,
                failed_ms: now_ms,
            };
            txn.open_table(FAILED)?.insert(key, encode(&failed).as_slice())?;
            Ok(Some(failed))
        })
    }

    /// Every failed entry, by key.
    pub fn failed(&self) -> Result<Vec<FailedEntry>, OutboxError> {
        let txn = self.db.get()?.begin_read()?;
        let table = txn.open_table(FAILED)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (key, value) = row?;
            out.push(decode(key.value(), value.value())?);
        }
        Ok(out)
    }

    /// Puts a failed entry back in the outbox with a fresh attempt count (an operator fixed
    /// the receiver). Returns whether it was failed.
    pub fn requeue_failed(&self, key: &str) -> Result<bool, OutboxError> {
        self.write(|txn| {
            let mut failed = txn.open_table(FAILED)?;
            let Some(entry) = failed.remove(key)?.map(|v| decode::<FailedEntry>(key, v.value())).transpose()? else {
                return Ok(false);
            };
            let pending = PendingEntry {
                entry: entry.entry,
                attempts: 0,
                next_attempt_ms: 0,
                last_attempt_ms: None,
                last_error: Some(entry.error),
            };
            txn.open_table(OUTBOX)?.insert(key, encode(&pending).as_slice())?;
            Ok(true)
        })
    }

    /// Removes a failed entry (reported and dealt with).
    pub fn remove_failed(&self, key: &str) -> Result<bool, OutboxError> {
        self.write(|txn| Ok(txn.open_table(FAILED)?.remove(key)?.is_some()))
    }

    /// Whether `key` was delivered (and not yet pruned).
    pub fn was_sent(&self, key: &str) -> Result<bool, OutboxError> {
        let txn = self.db.get()?.begin_read()?;
        let table = txn.open_table(SENT)?;
        Ok(table.get(key)?.is_some())
    }

    /// Forgets delivered keys older than `before_ms`; returns how many.
    pub fn prune_sent(&self, before_ms: i64) -> Result<usize, OutboxError> {
        self.write(|txn| {
            let mut table = txn.open_table(SENT)?;
            let removed = table.extract_if(|_, sent| sent < before_ms)?.count();
            Ok(removed)
        })
    }
}
