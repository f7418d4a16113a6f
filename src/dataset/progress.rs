//! Progress reporting while reading: a `Read + Seek` wrapper that moves an optional
//! [`indicatif::ProgressBar`] to the byte position reached in the file.

use std::io::{Read, Seek, SeekFrom};

use indicatif::ProgressBar;

/// Wraps a reader; after every read or seek, sets the bar's position to the file offset.
pub(crate) struct ProgressReader<R> {
    inner: R,
    pos: u64,
    bar: Option<ProgressBar>,
}

impl<R> ProgressReader<R> {
    /// `len` (the file size) becomes the bar's length.
    pub(crate) fn new(inner: R, bar: Option<&ProgressBar>, len: u64) -> Self {
        if let Some(bar) = bar {
            bar.set_length(len);
            bar.set_position(0);
        }
        ProgressReader { inner, pos: 0, bar: bar.cloned() }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        if let Some(bar) = &self.bar {
            bar.set_position(self.pos);
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for ProgressReader<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        if let Some(bar) = &self.bar {
            bar.set_position(self.pos);
        }
        Ok(self.pos)
    }
}
