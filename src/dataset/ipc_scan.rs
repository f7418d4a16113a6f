//! Row count and largest message body of an Arrow IPC file or stream, from the message headers
//! alone: each header is parsed and its body skipped with a seek, so sizing a streaming
//! compare costs a few reads, not a pass over the data (the arrow reader has no such call).
//!
//! Best effort: `None` when the headers do not read as expected (a legacy layout, a truncated
//! file); the real reader then reports what is wrong, and the caller plans without row counts.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What the headers say: data rows, and the largest record-batch body in bytes (the reader
/// holds one whole body, all columns, while it decodes the projected ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpcScan {
    pub rows: u64,
    pub max_body: u64,
}

/// Scans the messages that follow `skip` bytes of file header (the file format's magic padded
/// to 8, 0 for the stream format). The file format pads its magic with zeros to the writer's
/// alignment (8 bytes by the spec, 64 by arrow-rs), so leading zero words are skipped there.
pub(crate) fn scan(path: &Path, skip: u64) -> Option<IpcScan> {
    let file = File::open(path).ok()?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    input.seek(SeekFrom::Start(skip)).ok()?;
    let (mut rows, mut max_body) = (0u64, 0u64);
    let mut word = [0u8; 4];
    let mut meta = Vec::new();
    let mut padding = skip > 0;
    loop {
        if input.read_exact(&mut word).is_err() {
            break; // a stream may end without its end-of-stream marker
        }
        if padding && word == [0; 4] {
            continue;
        }
        padding = false;
        if word == [0xFF; 4] {
            input.read_exact(&mut word).ok()?;
        }
        let len = usize::try_from(i32::from_le_bytes(word)).ok()?;
        if len == 0 {
            break; // end-of-stream marker; in the file format the footer follows
        }
        meta.resize(len, 0);
        input.read_exact(&mut meta).ok()?;
        let message = arrow_ipc::root_as_message(&meta).ok()?;
        let body = u64::try_from(message.bodyLength()).ok()?;
        if let Some(batch) = message.header_as_record_batch() {
            rows += u64::try_from(batch.length()).ok()?;
            max_body = max_body.max(body);
        }
        input.seek_relative(i64::try_from(body).ok()?).ok()?;
    }
    Some(IpcScan { rows, max_body })
}
