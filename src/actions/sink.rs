//! The quick-start sinks: `log` (one INFO line with the summary) and `file` (the JSON document
//! appended as one line, fsynced before the delivery counts as done).
//!
//! A crash between the append and the outbox removal appends the line again on restart;
//! readers deduplicate on `idempotency_key` as every receiver does.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::document::{document_bytes, summary};
use super::outbox::OutboxEntry;
use super::DeliveryError;

pub(crate) fn log(entry: &OutboxEntry) {
    let n = &entry.notification;
    tracing::info!(
        action = %n.action,
        rule = %n.rule,
        monitor = %n.monitor,
        status = n.status.name(),
        idempotency_key = %entry.key,
        "Notification: {}",
        summary(n)
    );
}

pub(crate) async fn append(path: &Path, entry: &OutboxEntry) -> Result<(), DeliveryError> {
    let mut line = document_bytes(entry);
    line.push(b'\n');
    let shown = path.display().to_string();
    let path: PathBuf = path.to_path_buf();
    // Blocking file I/O with an fsync: off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        // One write of the whole line: O_APPEND keeps concurrent lines whole.
        file.write_all(&line)?;
        file.sync_data()
    })
    .await
    .map_err(|e| DeliveryError::retryable(format!("file append task: {e}")))?
    .map_err(|e| DeliveryError::retryable(format!("cannot append to {shown}: {e}")))
}
