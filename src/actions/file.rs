//! The `file` action: the JSON document appended to a JSON Lines file as one line, fsynced
//! before the delivery counts as done. A crash between the append and the outbox removal
//! appends the line again on restart; readers deduplicate on `idempotency_key`, as every
//! receiver does.

use std::io::Write;
use std::path::PathBuf;

use super::document::document_bytes;
use super::outbox::OutboxEntry;
use super::DeliveryError;
use crate::config::KeyPath;
use crate::notification::Checker;

/// `file:`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    /// JSON Lines file appended to (relative to the rule file's directory).
    pub path: String,
}

/// A `file` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// Resolved against the rule file's directory.
    pub path: PathBuf,
}

impl FileDoc {
    /// The validated settings; problems are reported below `path` (the action's `file`).
    pub(crate) fn validate(self, checker: &mut Checker<'_>, path: &KeyPath) -> File {
        if self.path.trim().is_empty() {
            checker.error(&path.key("path"), "the path is empty");
        }
        File { path: checker.resolve_path(&self.path) }
    }
}

impl File {
    /// One attempt.
    pub(crate) async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let mut line = document_bytes(entry);
        line.push(b'\n');
        let shown = self.path.display().to_string();
        let path = self.path.clone();
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
}
