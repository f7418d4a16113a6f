//! Atomic file replacement, shared by the files driftd writes whole (reference profiles,
//! dataset profiles): a reader sees the old file or the new one, never a part of either.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`, so a
/// reader never sees half a file (reference and dataset profiles). The error says what failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, std::io::Error)> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let no_name = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path does not name a file");
    let name = path.file_name().ok_or_else(|| ("write", no_name()))?;
    // Unique per process and call, so concurrent saves never share a temporary file.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".{}.tmp-{}-{serial}", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(("write", e));
    }
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(("write", e));
    }
    // The rename is durable only once the directory entry is on disk. Not every platform lets
    // a directory be opened or synced, and the data is already safe, so failures are ignored.
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
