//! The reader task of a file stream ([`spawn`]): records from the file, decoded, in batches
//! for the monitor task; bad rows reported by item number; the items a checkpoint consumed
//! skipped; `--max-rate` paces it like live traffic.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tracing::{debug, error};

use super::FileSource;
use crate::source::row::{describe, SourceError};
use crate::source::task::{Consumed, Item, SourceContext, BATCH_RECORDS};

/// How a reader reads.
pub struct Reader {
    /// Items the checkpoint says were already consumed: read and dropped.
    pub skip: u64,
    /// Rows per second at most (`driftd run --max-rate`).
    pub max_rate: Option<f64>,
}

/// Spawns the file's reader (a blocking task) on `ctx.tracker`.
pub fn spawn(ctx: SourceContext, path: PathBuf, source: FileSource, reader: Reader) {
    let tracker = ctx.tracker.clone();
    tracker.spawn_blocking(move || read_source(ctx, path, source, reader));
}

/// A reader (blocking): the file's rows, in batches, until the end, a stop, or a fatal error.
fn read_source(ctx: SourceContext, path: PathBuf, mut source: FileSource, reader: Reader) {
    let SourceContext { monitor, stream, tx, stop, observer, .. } = ctx;
    let send = |item| tx.blocking_send(item).is_ok();
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    let mut first = 0u64;
    let started = Instant::now();
    let mut delivered = 0u64;
    let mut exhausted = true;
    for (position, item) in (0u64..).zip(source.by_ref()) {
        if stop.is_cancelled() {
            debug!(monitor = %monitor, stream = %stream, "Source stopped.");
            exhausted = false;
            break;
        }
        if position < reader.skip && !matches!(&item, Err(e) if e.is_fatal()) {
            continue;
        }
        match item {
            Ok(decoded) => {
                if batch.is_empty() {
                    first = position;
                }
                batch.push(decoded.record);
                let full = batch.len() == BATCH_RECORDS;
                let pause = reader.max_rate.and_then(|rate| {
                    delivered += 1;
                    let due = started + Duration::from_secs_f64(delivered as f64 / rate);
                    due.checked_duration_since(Instant::now()).filter(|d| *d >= Duration::from_millis(1))
                });
                if (full || pause.is_some())
                    && !send(Item::Records {
                        first,
                        records: std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS)),
                    })
                {
                    return;
                }
                if let Some(pause) = pause {
                    std::thread::sleep(pause);
                }
            }
            Err(SourceError::Bad { position: at, error }) => {
                if !batch.is_empty() && !send(Item::Records { first, records: std::mem::take(&mut batch) }) {
                    return;
                }
                let message = format!("{} {}: {error}", path.display(), describe(&at));
                if !send(Item::Bad { stream, at: Consumed::Item(position), reason: error.reason().as_str(), message }) {
                    return;
                }
            }
            Err(fatal) => {
                error!(monitor = %monitor, stream = %stream, error = %fatal, "Source failed.");
                observer.failed(fatal.to_string());
                exhausted = false;
                break;
            }
        }
    }
    if !batch.is_empty() && !send(Item::Records { first, records: batch }) {
        return;
    }
    send(Item::End { stream, exhausted });
}
