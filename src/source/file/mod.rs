//! The file source: JSON Lines, CSV, Parquet and Arrow IPC files replayed as records in
//! event-time order — the embedded default for demos, tests and backfills. JSON Lines are
//! read here line by line; CSV (`table.rs`) and Parquet / Arrow IPC (`batches.rs`) rows are
//! flat messages built from their cells; the rows all readers yield are in `row.rs`. The
//! reader task of `driftd run` over a file: `task.rs`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::batches::Batches;
use super::decode::Decoder;
use super::row::{Row, Rows, SourceError};
use super::spec::{DecodeContext, DecodeError, DecodeReason, Decoded, EventTimeSpec};
use super::table::CsvRows;
use crate::dataset::Format;

mod task;
use crate::record::{Position, Stream};
pub use task::{spawn, Reader};

/// Counts of what a file source yielded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub records: u64,
    /// Bad rows per reason, indexed like [`DecodeReason::ALL`].
    pub invalid: [u64; DecodeReason::ALL.len()],
    /// Sum of [`Decoded::unknown_fields`].
    pub unknown_fields: u64,
    /// The file was not in event-time order and was sorted in memory.
    pub sorted_in_memory: bool,
}

impl FileStats {
    pub fn invalid(&self, reason: DecodeReason) -> u64 {
        DecodeReason::ALL.iter().position(|&r| r == reason).map_or(0, |i| self.invalid[i])
    }

    pub fn invalid_total(&self) -> u64 {
        self.invalid.iter().sum()
    }
}

/// A file replayed as records.
///
/// Inputs: a path, a [`Format`], a [`Decoder`] (its spec and feature list), the monitor index
/// and stream. Output: an iterator of `Result<Decoded, SourceError>`: decoded records, and
/// per-row errors ([`SourceError::Bad`], with the line and a [`DecodeError`]) that the caller
/// counts and logs and then carries on; a fatal error (I/O, a corrupt Parquet page) is yielded
/// once and ends the iteration. [`FileSource::stats`] counts both.
///
/// Rows: JSON Lines are decoded by the decoder, one message per line (`\n` or `\r\n`; blank
/// lines skipped; a line longer than the decoder's size limit is `too_large` without being
/// held in memory). CSV (header row, RFC 4180) and Parquet / Arrow IPC (columns by name) build
/// the record from the cells directly — a row is a flat message: the event time and each
/// pointer of the spec name a column (`/ts` → column `ts`), and with
/// [`super::FeatureSpec::Object`] every feature is the column of the same name (the pointer
/// does not apply to flat rows). Text cells follow `driftd compare`'s text rule (see
/// [`super::Decoder::with_categorical`] for categorical features); typed columns map as in
/// [`crate::dataset`]. Positions are [`Position::File`] with the 1-based line (CSV: the line
/// where the row starts; Parquet / Arrow: the row number).
///
/// Ordering (invariant: records come out in event-time order, ties in file order): `open`
/// first scans the event times only (JSON Lines: the parse stops at the time field;
/// Parquet / Arrow: only the time column is read) and stops at the first time that goes
/// backwards. A sorted file is then streamed: memory is one row (or one 8192-row batch).
/// An unsorted file is read whole, decoded, and stably sorted in memory: every record is held
/// at once, about 100 B plus 32 B per feature plus the bytes of text values (≈ 0.75 KB for 20
/// features: 1 M records ≈ 0.75 GB), so sort large backfills beforehand. Its bad rows come
/// first, in file order. The file must not change while it is read.
pub struct FileSource {
    decoder: Decoder,
    monitor: usize,
    stream: Stream,
    rows: Mode,
    stats: FileStats,
}

enum Mode {
    Streaming(Box<dyn Rows + Send>),
    Sorted(std::vec::IntoIter<Result<Decoded, SourceError>>),
    Done,
}

impl FileSource {
    /// Opens `path`, checks its header / schema against the decoder, and scans its order.
    pub fn open(
        path: &Path,
        format: Format,
        decoder: Decoder,
        monitor: usize,
        stream: Stream,
    ) -> Result<FileSource, SourceError> {
        if matches!(decoder.spec().event_time, EventTimeSpec::KafkaTimestamp) {
            return Err(SourceError::unusable(path, "a file has no Kafka timestamp: name an event-time field"));
        }
        let sorted = scan_order(path, format, &decoder, monitor, stream, PARALLEL_SCAN_BYTES)?;
        let mut rows = open_rows(path, format, &decoder, false)?;
        let mut stats = FileStats::default();
        let mode = if sorted {
            Mode::Streaming(rows)
        } else {
            stats.sorted_in_memory = true;
            let mut good = Vec::new();
            let mut items = Vec::new();
            while let Some(row) = rows.next_row(&decoder, monitor, stream)? {
                match row {
                    Row::Record(d) => good.push(d),
                    Row::Bad(position, error) => items.push(Err(SourceError::Bad { position, error })),
                    Row::Time(_) => {}
                }
            }
            good.sort_by_key(|d| d.record.event_time_ms);
            items.extend(good.into_iter().map(Ok));
            Mode::Sorted(items.into_iter())
        };
        Ok(FileSource { decoder, monitor, stream, rows: mode, stats })
    }

    pub fn stats(&self) -> &FileStats {
        &self.stats
    }

    fn count(&mut self, item: &Result<Decoded, SourceError>) {
        match item {
            Ok(d) => {
                self.stats.records += 1;
                self.stats.unknown_fields += u64::from(d.unknown_fields);
            }
            Err(SourceError::Bad { error, .. }) => {
                if let Some(i) = DecodeReason::ALL.iter().position(|&r| r == error.reason()) {
                    self.stats.invalid[i] += 1;
                }
            }
            Err(_) => {}
        }
    }
}

impl Iterator for FileSource {
    type Item = Result<Decoded, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match &mut self.rows {
            Mode::Done => return None,
            Mode::Sorted(items) => items.next()?,
            Mode::Streaming(rows) => loop {
                match rows.next_row(&self.decoder, self.monitor, self.stream) {
                    Ok(None) => {
                        self.rows = Mode::Done;
                        return None;
                    }
                    Ok(Some(Row::Record(d))) => break Ok(d),
                    Ok(Some(Row::Bad(position, error))) => break Err(SourceError::Bad { position, error }),
                    Ok(Some(Row::Time(_))) => {}
                    Err(fatal) => {
                        self.rows = Mode::Done;
                        break Err(fatal);
                    }
                }
            },
        };
        self.count(&item);
        Some(item)
    }
}

/// JSON Lines files from this size on are scanned for order by two threads (one per half).
const PARALLEL_SCAN_BYTES: u64 = 32 << 20;

/// Whether the file's event times never go backwards (bad rows skipped), stopping at the first
/// that does. A JSON Lines file of at least `parallel_from` bytes is cut after the line that
/// crosses its middle and each half is scanned on its own thread: the scan precedes streaming
/// and would otherwise hold one core while the other waits (~0.6 s for 1 GB). The answer, and
/// which I/O error is returned, are those of the one-pass scan (see [`Segment::then`]).
pub(super) fn scan_order(
    path: &Path,
    format: Format,
    decoder: &Decoder,
    monitor: usize,
    stream: Stream,
    parallel_from: u64,
) -> Result<bool, SourceError> {
    // Anything but a regular file (or an error) takes the one-pass scan, which reports it.
    let size = std::fs::metadata(path).ok().filter(|m| m.is_file()).map_or(0, |m| m.len());
    if !matches!(format, Format::JsonLines) || size < parallel_from.max(2) {
        let mut rows = open_rows(path, format, decoder, true)?;
        return Segment::scan(&mut *rows, decoder, monitor, stream).then(Segment::default());
    }
    let split = line_start_after(path, size / 2)?;
    let mut first = JsonLines::open_range(path, decoder, true, 0, split)?;
    let mut second = JsonLines::open_range(path, decoder, true, split, size - split)?;
    std::thread::scope(|scope| {
        let later = scope.spawn(|| Segment::scan(&mut second, decoder, monitor, stream));
        let earlier = Segment::scan(&mut first, decoder, monitor, stream);
        let later = later.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        earlier.then(later)
    })
}

/// The offset just past the first `\n` at or after `at` (the file's size if there is none).
fn line_start_after(path: &Path, at: u64) -> Result<u64, SourceError> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    file.seek(SeekFrom::Start(at)).map_err(|e| SourceError::io(path, e))?;
    let skipped = BufReader::new(file).skip_until(b'\n').map_err(|e| SourceError::io(path, e))?;
    Ok(at + skipped as u64)
}

/// One stretch of the ordering scan: its first and last event times, and what stopped it early
/// (a time going backwards, or a fatal error), in line order.
#[derive(Default)]
struct Segment {
    first: Option<i64>,
    last: Option<i64>,
    stop: Option<Result<(), SourceError>>,
}

impl Segment {
    fn scan(rows: &mut dyn Rows, decoder: &Decoder, monitor: usize, stream: Stream) -> Segment {
        let mut seg = Segment::default();
        loop {
            match rows.next_row(decoder, monitor, stream) {
                Ok(None) => return seg,
                Ok(Some(Row::Time(t))) => {
                    if seg.last.is_some_and(|last| t < last) {
                        seg.stop = Some(Ok(()));
                        return seg;
                    }
                    if seg.first.is_none() {
                        seg.first = Some(t);
                    }
                    seg.last = Some(t);
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    seg.stop = Some(Err(e));
                    return seg;
                }
            }
        }
    }

    /// The one-pass answer over this segment followed by `next`: this one's early stop wins
    /// (it comes first in the file), then the step between the two (`next`'s first time is
    /// met before anything else in `next`), then `next`'s own stop.
    fn then(self, next: Segment) -> Result<bool, SourceError> {
        match self.stop {
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => return Ok(false),
            None => {}
        }
        if let (Some(last), Some(first)) = (self.last, next.first) {
            if first < last {
                return Ok(false);
            }
        }
        match next.stop {
            Some(Err(e)) => Err(e),
            Some(Ok(())) => Ok(false),
            None => Ok(true),
        }
    }
}

fn open_rows(
    path: &Path,
    format: Format,
    decoder: &Decoder,
    time_only: bool,
) -> Result<Box<dyn Rows + Send>, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
    if meta.is_dir() {
        return Err(SourceError::io(path, "it is a directory"));
    }
    Ok(match format {
        Format::JsonLines => Box::new(JsonLines::open(path, decoder, time_only)?),
        Format::Csv => Box::new(CsvRows::open(path, decoder, time_only)?),
        Format::Parquet | Format::ArrowIpc => Box::new(Batches::open(path, format, decoder, time_only)?),
    })
}

/// JSON Lines, one message per line (of the whole file, or of a byte range of it).
struct JsonLines<R = File> {
    path: PathBuf,
    reader: BufReader<R>,
    line: u64,
    buf: Vec<u8>,
    limit: usize,
    time_only: bool,
}

impl JsonLines {
    fn open(path: &Path, decoder: &Decoder, time_only: bool) -> Result<JsonLines, SourceError> {
        let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
        Ok(JsonLines::new(path, decoder, time_only, file))
    }
}

impl JsonLines<std::io::Take<File>> {
    /// The lines of `len` bytes from `start` (which must be a line start).
    fn open_range(path: &Path, decoder: &Decoder, time_only: bool, start: u64, len: u64) -> Result<Self, SourceError> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path).map_err(|e| SourceError::io(path, e))?;
        file.seek(SeekFrom::Start(start)).map_err(|e| SourceError::io(path, e))?;
        Ok(JsonLines::new(path, decoder, time_only, file.take(len)))
    }
}

impl<R: Read> JsonLines<R> {
    fn new(path: &Path, decoder: &Decoder, time_only: bool, inner: R) -> JsonLines<R> {
        JsonLines {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, inner),
            line: 0,
            buf: Vec::new(),
            limit: decoder.spec().max_message_bytes,
            time_only,
        }
    }

    /// Reads the next line into `buf` (without its end of line), keeping at most `limit + 1`
    /// bytes; returns the line's full length, or `None` at the end of the file.
    fn read_line(&mut self) -> std::io::Result<Option<usize>> {
        self.buf.clear();
        // `limit + 2` leaves room for the limit, one byte over it, and the newline.
        let cap = self.limit.saturating_add(2) as u64;
        let read = (&mut self.reader).take(cap).read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut len = read;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            len -= 1;
        } else if read as u64 == cap {
            // Too long: skip the rest of the line without keeping it.
            let skipped = self.reader.skip_until(b'\n')?;
            len += skipped.saturating_sub(1);
            self.buf.truncate(self.limit + 1);
        }
        if len <= self.limit && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
            len -= 1;
        }
        Ok(Some(len))
    }
}

impl<R: Read> Rows for JsonLines<R> {
    fn next_row(&mut self, decoder: &Decoder, monitor: usize, stream: Stream) -> Result<Option<Row>, SourceError> {
        loop {
            let Some(len) = self.read_line().map_err(|e| SourceError::io(&self.path, e))? else {
                return Ok(None);
            };
            let position = Position::File { line: self.line };
            if len > self.limit {
                return Ok(Some(Row::Bad(position, DecodeError::TooLarge { size: len, limit: self.limit })));
            }
            if self.buf.trim_ascii().is_empty() {
                continue;
            }
            if self.time_only {
                // Bad rows are reported by the full pass; the scan only needs the times.
                match decoder.event_time(&self.buf, None) {
                    Ok(t) => return Ok(Some(Row::Time(t))),
                    Err(_) => continue,
                }
            }
            let ctx = DecodeContext { monitor, stream, position: position.clone(), kafka_timestamp_ms: None };
            return Ok(Some(match decoder.decode(&self.buf, ctx) {
                Ok(d) => Row::Record(d),
                Err(e) => Row::Bad(position, e),
            }));
        }
    }
}
