//! The reader task of a file stream: records from the file, decoded, in batches for the monitor
//! task; bad rows reported by item number; the items a checkpoint consumed skipped.

use super::*;

/// How a reader reads.
pub(super) struct Reader {
    /// Items the checkpoint says were already consumed: read and dropped.
    pub(super) skip: u64,
    pub(super) max_rate: Option<f64>,
}

/// A reader (blocking): the file's rows, in batches, until the end, a stop, or a fatal error.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_source(
    monitor: &str,
    stream: Stream,
    path: PathBuf,
    mut source: FileSource,
    reader: Reader,
    tx: mpsc::Sender<Item>,
    stop: &CancellationToken,
    errors: &Mutex<Vec<String>>,
) {
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
                errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("monitor {monitor}: stream {stream}: {fatal}"));
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
