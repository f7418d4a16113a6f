//! The checkpoint store of `driftd run`: an embedded redb database at
//! `<state.path>/checkpoints.redb` (tables `checkpoints`, `meta`, `references`; one write
//! transaction per checkpoint, so it is all there or not at all), and the optional
//! observations file it keeps consistent with it (exactly once across crashes). Details on [`Store`].

// redb's error type is large; it only travels once per window, never per record.
#![allow(clippy::result_large_err)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use redb::{Database, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::monitor::{MonitorState, Observation};
use crate::record::Stream;
use crate::reference::ReferenceProfile;

/// Checkpoints keyed by (monitor name, stream name).
const CHECKPOINTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("checkpoints");
/// References captured from a stream (`reference: {capture: …}`), keyed by (monitor, stream):
/// the profile in its file format ([`crate::reference::to_json`]), written once, in the same
/// transaction as the stream's first checkpoint, so a restart neither captures again nor
/// resumes without its reference.
const REFERENCES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("references");
/// Store-wide values (`observations`: the [`SinkMark`]).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SINK_KEY: &str = "observations";
/// `meta` key of the rules engine's state (JSON of [`crate::rules::EngineState`]).
const RULES_KEY: &str = "rules";

/// The database file inside `state.path`.
pub const STORE_FILE: &str = "checkpoints.redb";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store {}: {message}", path.display())]
    Store { path: PathBuf, message: String },
    #[error("observations file {}: {source}", path.display())]
    Sink { path: PathBuf, source: std::io::Error },
}

/// What identifies a file source's content: a changed file cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFingerprint {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

impl FileFingerprint {
    /// Reads the whole file once.
    pub fn of(path: &Path) -> std::io::Result<FileFingerprint> {
        let size = std::fs::metadata(path)?.len();
        let sha256 = crate::reference::sha256_file(path)?;
        Ok(FileFingerprint { path: path.to_path_buf(), size, sha256 })
    }
}

/// Where a stream's source stood at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourcePosition {
    File {
        file: FileFingerprint,
        /// Items (records and bad rows) the file source had delivered and the core had taken,
        /// in delivery order (for a file sorted in memory this is not the line number).
        consumed: u64,
    },
    Kafka {
        topic: String,
        /// Per partition, the offset after the last message the core has taken (what is
        /// committed to the group once this checkpoint is durable).
        next_offsets: std::collections::BTreeMap<i32, i64>,
    },
}

/// One (monitor, stream)'s checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub state: MonitorState,
    pub source: SourcePosition,
    /// The stream was exhausted and its windows flushed.
    pub finished: bool,
    /// A predictions stream with labels joined: how far the labels stream was taken into the
    /// join (whose state is in `state`), saved in the same transaction so neither gets ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelsPosition>,
}

/// Where a labels stream stood at its predictions stream's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelsPosition {
    pub source: SourcePosition,
    /// The labels stream was exhausted (every window's performance final).
    pub finished: bool,
}

/// The observations file's length as of the last checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkMark {
    pub path: PathBuf,
    pub len: u64,
}

/// The state database, shared by the checkpoint store, the notification outbox and the
/// silences, each taking the current [`Database`] per operation so that it can be replaced:
/// after an I/O error redb answers `PreviousIo` to everything until the file is reopened.
#[derive(Clone)]
pub struct DbHandle(std::sync::Arc<DbCell>);

struct DbCell {
    /// `None` only between closing a failed database and a reopen that failed.
    db: std::sync::RwLock<Option<std::sync::Arc<Database>>>,
    /// The file, when known (a handle made from an open database cannot reopen it).
    path: Option<PathBuf>,
}

impl From<std::sync::Arc<Database>> for DbHandle {
    fn from(db: std::sync::Arc<Database>) -> DbHandle {
        DbHandle(std::sync::Arc::new(DbCell { db: std::sync::RwLock::new(Some(db)), path: None }))
    }
}

impl DbHandle {
    fn opened(db: Database, path: &Path) -> DbHandle {
        let cell = DbCell { db: std::sync::RwLock::new(Some(std::sync::Arc::new(db))), path: Some(path.to_path_buf()) };
        DbHandle(std::sync::Arc::new(cell))
    }

    /// The database; `PreviousIo` while it is closed for a reopen that has not succeeded yet.
    pub fn get(&self) -> Result<std::sync::Arc<Database>, redb::Error> {
        let slot = self.0.db.read().unwrap_or_else(|e| e.into_inner());
        slot.clone().ok_or(redb::Error::PreviousIo)
    }

    /// Reopens the database if an I/O error has made redb refuse it (or an earlier reopen
    /// failed); `Ok(true)` when it was reopened, `Ok(false)` when it was usable.
    pub fn reopen_if_failed(&self) -> Result<bool, String> {
        let mut slot = self.0.db.write().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = slot.as_ref() {
            match db.begin_write() {
                // Dropped unused: an abort, nothing written.
                Ok(_) => return Ok(false),
                Err(redb::TransactionError::Storage(redb::StorageError::PreviousIo)) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        let Some(path) = &self.0.path else { return Err("the database cannot be reopened (no path)".into()) };
        // Opening a file that needs repair rewrites it: a repair cut short by the same full
        // disk can leave it inconsistent, so space is proven first.
        probe_space(path)?;
        if let Some(db) = slot.take() {
            // The file lock is released only when the last handle is gone; a transaction in
            // flight elsewhere holds one for a moment: the next attempt will do.
            match std::sync::Arc::try_unwrap(db) {
                Ok(db) => drop(db),
                Err(db) => {
                    *slot = Some(db);
                    return Err("the failed database is still in use; retrying".into());
                }
            }
        }
        match std::panic::catch_unwind(|| Database::create(path)) {
            Ok(Ok(db)) => {
                *slot = Some(std::sync::Arc::new(db));
                Ok(true)
            }
            Ok(Err(e)) => Err(format!("cannot reopen the state database: {e}")),
            Err(_) => Err("cannot reopen the state database: the database library failed".into()),
        }
    }
}

/// Space for a repair of the database at `path`: as many bytes as it has (at least 1 MiB, at
/// most 64 MiB) written and synced beside it, then removed.
fn probe_space(path: &Path) -> Result<(), String> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0).clamp(1 << 20, 64 << 20);
    let probe = path.with_extension("redb.space-probe");
    let written = (|| {
        let mut file = File::create(&probe)?;
        let block = vec![0u8; 1 << 16];
        let mut left = len;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(&block[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| format!("no space to reopen the state database yet ({} bytes): {e}", len))
}

/// The open store.
///
/// The checkpoint store of `driftd run`: an embedded redb database at
/// `<state.path>/checkpoints.redb`, and the optional observations file it keeps consistent.
///
/// Tables: `checkpoints`, keyed by (monitor, stream), holds a [`Checkpoint`] as JSON — the
/// monitor core's [`MonitorState`] and the source position (for a file: its size and SHA-256,
/// and how many items the file source had delivered, in delivery order; for Kafka: the topic
/// and the next offset per partition, committed to the group only after the checkpoint); `meta` holds the
/// observations file's length at the last checkpoint ([`SinkMark`]); `references` holds the
/// references captured from streams, written with their stream's first checkpoint. Every write is one redb
/// write transaction (durable on commit), so a checkpoint is all there or not at all.
///
/// Exactly-once observations: a window's observations are appended to the observations file
/// and then, under the same lock, its checkpoint is committed together with the file's new
/// length. After a crash between the two, the restart truncates the file to the committed
/// length and the restored core closes that window again: nothing lost, nothing twice.
///
/// After an I/O error (a full disk) redb refuses every later operation until the file is
/// opened again: the database is held in a [`DbHandle`] that the store, the outbox and the
/// silences share, which [`Store::recover`] reopens in place.
pub struct Store {
    db: DbHandle,
    path: PathBuf,
}

impl Store {
    /// Opens (creating the directory and the database if needed) `<dir>/checkpoints.redb`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(STORE_FILE);
        let fail = |message: String| StoreError::Store { path: path.clone(), message };
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        // redb reports most damage as an error but panics on some ("internal error"): both are
        // one line naming the file and the way out.
        let opened = std::panic::catch_unwind(|| Database::create(&path));
        let unusable = |what: String| {
            fail(format!(
                "cannot open the state database: {what}. It may be corrupt or truncated; `driftd run --reset-state` \
                 moves it aside (kept, renamed) and starts over"
            ))
        };
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(unusable(e.to_string())),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the database library failed".into());
                return Err(unusable(what));
            }
        };
        let store = Store { db: DbHandle::opened(db, &path), path: path.clone() };
        // Every table exists from the start, so readers never meet a missing table.
        store.write(|txn| {
            txn.open_table(CHECKPOINTS)?;
            txn.open_table(META)?;
            txn.open_table(REFERENCES)?;
            Ok(())
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`Store::open`], and if the file cannot be opened, moves it aside — renamed
    /// `checkpoints.redb.unusable-<unix seconds>`, never deleted — and starts a new one.
    /// Returns the store and where the old file went.
    pub fn open_or_set_aside(dir: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open(dir) {
            Ok(store) => Ok((store, None)),
            Err(first) => {
                let path = dir.join(STORE_FILE);
                if !path.exists() {
                    return Err(first);
                }
                let seconds = crate::source::time::now_ms().div_euclid(1000);
                let aside = dir.join(format!("{STORE_FILE}.unusable-{seconds}"));
                std::fs::rename(&path, &aside).map_err(|e| StoreError::Store {
                    path: path.clone(),
                    message: format!("cannot move the unusable database aside to {}: {e}", aside.display()),
                })?;
                Ok((Store::open(dir)?, Some(aside)))
            }
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Store { path: self.path.clone(), message: e.to_string() }
    }

    fn write(&self, f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>) -> Result<(), StoreError> {
        let txn = self.db.get().map_err(|e| self.error(e))?.begin_write().map_err(|e| self.error(e))?;
        f(&txn).map_err(|e| self.error(e))?;
        txn.commit().map_err(|e| self.error(e))
    }

    fn get(&self, table: TableDefinition<'_, &str, &[u8]>, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.get().map_err(|e| self.error(e))?.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(table).map_err(|e| self.error(e))?;
        let value = table.get(key).map_err(|e| self.error(e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    /// The checkpoint of (monitor, stream), if any.
    pub fn load(&self, monitor: &str, stream: Stream) -> Result<Option<Checkpoint>, StoreError> {
        let txn = self.db.get().map_err(|e| self.error(e))?.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(CHECKPOINTS).map_err(|e| self.error(e))?;
        let Some(value) = table.get((monitor, stream.name())).map_err(|e| self.error(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| self.error(format!("the checkpoint of {monitor}/{stream} cannot be read: {e}")))
    }

    /// Deletes every checkpoint and captured reference (`--reset-state`).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.write(|txn| {
            for table in [CHECKPOINTS, REFERENCES] {
                txn.delete_table(table)?;
                txn.open_table(table)?;
            }
            txn.delete_table(META)?;
            txn.open_table(META)?;
            Ok(())
        })
    }

    /// The reference (monitor, stream) captured in an earlier run, if any.
    pub fn reference(&self, monitor: &str, stream: Stream) -> Result<Option<ReferenceProfile>, StoreError> {
        let txn = self.db.get().map_err(|e| self.error(e))?.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(REFERENCES).map_err(|e| self.error(e))?;
        let Some(value) = table.get((monitor, stream.name())).map_err(|e| self.error(e))? else {
            return Ok(None);
        };
        let at = format!("{} (captured reference of {monitor}/{stream})", self.path.display());
        crate::reference::from_json(value.value(), &at).map(Some).map_err(|e| self.error(e))
    }

    /// Writes a captured reference within `txn` (pass it as [`Self::save`]'s `also`).
    pub fn put_reference(
        txn: &redb::WriteTransaction,
        monitor: &str,
        stream: Stream,
        profile_json: &str,
    ) -> Result<(), redb::Error> {
        txn.open_table(REFERENCES)?.insert((monitor, stream.name()), profile_json.as_bytes())?;
        Ok(())
    }

    /// Commits a checkpoint and, when given, the observations file's length, the rules
    /// engine's state and whatever `also` writes (the window's notifications), atomically.
    pub fn save(
        &self,
        monitor: &str,
        stream: Stream,
        checkpoint: &Checkpoint,
        mark: Option<&SinkMark>,
        rules_state: Option<&[u8]>,
        also: &dyn Fn(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(checkpoint).map_err(|e| self.error(e))?;
        let mark = mark.map(serde_json::to_vec).transpose().map_err(|e| self.error(e))?;
        self.write(|txn| {
            txn.open_table(CHECKPOINTS)?.insert((monitor, stream.name()), bytes.as_slice())?;
            let mut meta = txn.open_table(META)?;
            if let Some(mark) = &mark {
                meta.insert(SINK_KEY, mark.as_slice())?;
            }
            if let Some(state) = rules_state {
                meta.insert(RULES_KEY, state)?;
            }
            drop(meta);
            also(txn)
        })
    }

    /// The rules engine's state at the last checkpoint (JSON), if any.
    pub fn rules_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(META, RULES_KEY)
    }

    /// The database, shared with the notification outbox (same transactions) and silences.
    pub fn database(&self) -> &DbHandle {
        &self.db
    }

    /// After a failed write: reopens the database if redb now refuses it (see [`DbHandle`]).
    /// `Ok(true)` when it was reopened.
    pub fn recover(&self) -> Result<bool, StoreError> {
        self.db.reopen_if_failed().map_err(|e| self.error(e))
    }

    /// The observations file's length at the last checkpoint.
    pub fn sink_mark(&self) -> Result<Option<SinkMark>, StoreError> {
        self.get(META, SINK_KEY)?.map(|bytes| serde_json::from_slice(&bytes).map_err(|e| self.error(e))).transpose()
    }

    /// Records (or, with `None`, forgets) the observations file and its length.
    pub fn set_sink_mark(&self, mark: Option<&SinkMark>) -> Result<(), StoreError> {
        let bytes = mark.map(serde_json::to_vec).transpose().map_err(|e| self.error(e))?;
        self.write(|txn| {
            let mut table = txn.open_table(META)?;
            match &bytes {
                Some(bytes) => {
                    table.insert(SINK_KEY, bytes.as_slice())?;
                }
                None => {
                    table.remove(SINK_KEY)?;
                }
            }
            Ok(())
        })
    }
}

/// The `--observations` file: every published observation as a JSON line, appended and
/// flushed per window.
pub struct ObservationSink {
    file: File,
    path: PathBuf,
    len: u64,
}

impl ObservationSink {
    /// Opens `path` for appending; when `mark` names the same file, first cuts it back to the
    /// length of the last checkpoint (windows published after it will be published again).
    pub fn open(path: &Path, mark: Option<&SinkMark>) -> Result<ObservationSink, StoreError> {
        let fail = |source| StoreError::Sink { path: path.to_path_buf(), source };
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(fail)?;
        let mut len = file.metadata().map_err(fail)?.len();
        if let Some(mark) = mark.filter(|m| m.path == path) {
            if len > mark.len {
                tracing::info!(
                    path = %path.display(),
                    from = len,
                    to = mark.len,
                    "Observations published after the last checkpoint removed (they will be published again)."
                );
                file.set_len(mark.len).map_err(fail)?;
                len = mark.len;
            } else if len < mark.len {
                tracing::warn!(path = %path.display(), len, expected = mark.len, "The observations file is shorter than at the last checkpoint.");
            }
        }
        Ok(ObservationSink { file, path: path.to_path_buf(), len })
    }

    pub fn mark(&self) -> SinkMark {
        SinkMark { path: self.path.clone(), len: self.len }
    }

    /// Cuts the file back to `len`: what an attempt whose checkpoint failed appended, whole or
    /// in part, goes (the retry appends it again).
    pub fn truncate(&mut self, len: u64) -> Result<(), StoreError> {
        self.file.set_len(len).map_err(|source| StoreError::Sink { path: self.path.clone(), source })?;
        self.len = len;
        Ok(())
    }

    /// Appends one window's (or several windows') observations and flushes.
    pub fn append(&mut self, observations: &[Observation]) -> Result<(), StoreError> {
        let mut text = String::new();
        for o in observations {
            text.push_str(&crate::monitor::observation_json(o));
            text.push('\n');
        }
        let fail = |source| StoreError::Sink { path: self.path.clone(), source };
        self.file.write_all(text.as_bytes()).map_err(fail)?;
        self.file.flush().map_err(fail)?;
        self.len += text.len() as u64;
        Ok(())
    }
}
