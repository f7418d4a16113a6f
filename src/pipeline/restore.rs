//! Opening the state store and restoring from it: checkpoints into cores (a changed file or
//! another topic is an error), the rules' state, references captured by an earlier run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::error::RunError;
use super::tracked::Tracked;
use crate::build::{PreparedSource, PreparedStream};
use crate::config::Config;
use crate::record::Stream;
use crate::store::{FileFingerprint, ObservationSink, SourcePosition, Store};

/// The rules engine's state from the store (fresh when absent or unreadable).
pub fn restored_rules_state(store: &Store) -> crate::rules::EngineState {
    let stored = store
        .rules_state()
        .map_err(|e| e.to_string())
        .and_then(|bytes| bytes.map(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())).transpose());
    stored
        .unwrap_or_else(|error| {
            warn!(error = %error, "The stored alert states cannot be read; starting with none.");
            None
        })
        .unwrap_or_default()
}

/// Opens the store (cleared with `--reset-state`) and the observations file (cut back to the
/// last checkpoint), and records which observations file this run writes.
pub fn open_store(
    config: &Config,
    reset_state: bool,
    observations: Option<&Path>,
) -> Result<(Store, Option<ObservationSink>), RunError> {
    let store = if reset_state {
        let (store, aside) = Store::open_or_set_aside(&config.state.path)?;
        if let Some(aside) = aside {
            warn!(path = %store.path().display(), moved_to = %aside.display(), "The state database could not be opened: moved aside, starting over (--reset-state).");
        }
        store
    } else {
        Store::open(&config.state.path)?
    };
    if reset_state {
        info!(path = %store.path().display(), "Checkpoints cleared (--reset-state).");
        store.clear()?;
    }
    let mark = store.sink_mark()?;
    let sink = observations.map(|path| ObservationSink::open(path, mark.as_ref())).transpose()?;
    store.set_sink_mark(sink.as_ref().map(ObservationSink::mark).as_ref())?;
    Ok((store, sink))
}

/// Where a stream resumes.
pub struct Resume {
    pub finished: bool,
    pub position: Tracked,
}

/// A stream's core restored from its checkpoint (if any), after checking that its source is
/// the one checkpointed: the same file content, or the same Kafka topic.
pub fn restore_stream(
    store: &Store,
    monitor: &str,
    mut prepared: PreparedStream,
    file: Option<FileFingerprint>,
) -> Result<(PreparedStream, Resume), RunError> {
    let stream = prepared.stream;
    let fresh = fresh_position(&prepared, file)?;
    let Some(checkpoint) = store.load(monitor, stream)? else {
        return Ok((prepared, Resume { finished: false, position: fresh }));
    };
    let reset = "run with --reset-state to start over";
    let Some(core) = prepared.core.take() else {
        return Err(RunError::Checkpoint(format!(
            "monitor {monitor}: stream {stream}: the store {} has a checkpoint but no captured reference for it \
             (was the reference changed to `capture`?): cannot resume; {reset}",
            store.path().display()
        )));
    };
    let position = resume_position(store, monitor, stream, &checkpoint.source, fresh)?;
    let restored =
        core.resume(prepared.spec, checkpoint.state).map_err(|e| RunError::Checkpoint(format!("{e} ({reset})")))?;
    prepared.core = Some(restored);
    info!(
        monitor = %monitor,
        stream = %stream,
        position = ?position,
        finished = checkpoint.finished,
        "Resumed from the checkpoint."
    );
    Ok((prepared, Resume { finished: checkpoint.finished, position }))
}

/// Where a labels stream resumes: the position its predictions stream's checkpoint saved with
/// the join (the labels stream has no checkpoint of its own).
pub fn restore_labels(
    store: &Store,
    monitor: &str,
    prepared: &PreparedStream,
    file: Option<FileFingerprint>,
) -> Result<Resume, RunError> {
    let fresh = fresh_position(prepared, file)?;
    let saved = store.load(monitor, Stream::Predictions)?.and_then(|c| c.labels);
    let Some(saved) = saved else { return Ok(Resume { finished: false, position: fresh }) };
    let position = resume_position(store, monitor, Stream::Labels, &saved.source, fresh)?;
    info!(monitor = %monitor, stream = %Stream::Labels, position = ?position, finished = saved.finished, "Resumed from the predictions' checkpoint.");
    Ok(Resume { finished: saved.finished, position })
}

/// Where a stream's source stands with nothing taken yet.
fn fresh_position(prepared: &PreparedStream, file: Option<FileFingerprint>) -> Result<Tracked, RunError> {
    match (&prepared.source, file) {
        (PreparedSource::File { .. }, Some(file)) => Ok(Tracked::File { file, consumed: 0 }),
        (PreparedSource::Kafka { config, .. }, _) => {
            Ok(Tracked::Kafka { topic: config.topic.clone(), next: BTreeMap::new() })
        }
        (PreparedSource::File { .. }, None) => Err(RunError::Internal("a file source without fingerprint".into())),
    }
}

/// The saved position of a stream, checked against its source now: the same file content, or
/// the same Kafka topic.
fn resume_position(
    store: &Store,
    monitor: &str,
    stream: Stream,
    saved_source: &SourcePosition,
    fresh: Tracked,
) -> Result<Tracked, RunError> {
    let reset = "run with --reset-state to start over";
    let position = match (saved_source, fresh) {
        (SourcePosition::File { file: saved, consumed }, Tracked::File { file, .. }) => {
            if saved.size != file.size || saved.sha256 != file.sha256 {
                return Err(RunError::Checkpoint(format!(
                    "monitor {monitor}: stream {stream}: {} changed since the checkpoint in {} \
                     ({} bytes, sha256 {} then; {} bytes, sha256 {} now): cannot resume; {reset}",
                    file.path.display(),
                    store.path().display(),
                    saved.size,
                    short(&saved.sha256),
                    file.size,
                    short(&file.sha256),
                )));
            }
            Tracked::File { file, consumed: *consumed }
        }
        (SourcePosition::Kafka { topic: saved, next_offsets }, Tracked::Kafka { topic, .. }) => {
            if *saved != topic {
                return Err(RunError::Checkpoint(format!(
                    "monitor {monitor}: stream {stream}: the checkpoint in {} is for Kafka topic {saved}, \
                     the configuration reads {topic}: cannot resume; {reset}",
                    store.path().display()
                )));
            }
            Tracked::Kafka { topic, next: next_offsets.clone() }
        }
        _ => {
            return Err(RunError::Checkpoint(format!(
                "monitor {monitor}: stream {stream}: the checkpoint in {} is for another kind of source: \
                 cannot resume; {reset}",
                store.path().display()
            )))
        }
    };
    Ok(position)
}

pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Where a copy of a captured reference is written: `<state.path>/captured/<monitor>.<stream>.json`.
pub fn captured_copy_path(store_file: &Path, monitor: &str, stream: Stream) -> PathBuf {
    let dir = store_file.parent().unwrap_or(Path::new("."));
    dir.join("captured").join(format!("{monitor}.{stream}.json"))
}

/// The references captured by earlier runs, for the monitors that capture theirs.
pub fn stored_references(
    store: &Store,
    config: &Config,
) -> Result<BTreeMap<(String, Stream), crate::reference::ReferenceProfile>, RunError> {
    let mut stored = BTreeMap::new();
    for monitor in &config.monitors {
        if !matches!(
            monitor.reference,
            crate::config::ReferenceConfig::Capture { .. } | crate::config::ReferenceConfig::Trailing { .. }
        ) {
            continue;
        }
        for (stream, _) in monitor.streams() {
            if let Some(profile) = store.reference(&monitor.name, stream)? {
                if profile.meta.rows == 0 {
                    info!(monitor = %monitor.name, stream = %stream, features = profile.features(stream).len(), "Trailing reference's features loaded from the store.");
                } else {
                    info!(monitor = %monitor.name, stream = %stream, rows = profile.meta.rows, "Captured reference loaded from the store.");
                }
                stored.insert((monitor.name.clone(), stream), profile);
            }
        }
    }
    Ok(stored)
}
