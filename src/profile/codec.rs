//! The binary profile file: `DRIFTDPF`, a little-endian u32 format version, a u64 payload
//! length, the payload, and the payload's SHA-256 (so a truncated or damaged file is an error,
//! never wrong numbers). The payload is the [`Profile`] field by field (layout on [`encode`]);
//! the version is checked before anything else is read, so a future layout is reported as such.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{CategoricalSummary, ColumnProfile, ColumnSummary, Moments, NumericSummary, Profile, ProfileError};
use crate::stats::kll::KllSketch;

/// The first bytes of every profile file.
pub const MAGIC: &[u8; 8] = b"DRIFTDPF";
/// The layout written and the only one read (docs/profiles.md, "Versioning").
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8;
const CHECKSUM: usize = 32;

/// Whether `path` is a profile: its first bytes are [`MAGIC`], or (unreadable or shorter) its
/// extension is `.profile`, so that a damaged profile is reported as one.
pub fn is_profile(path: &Path) -> bool {
    let mut head = [0u8; 8];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    matches!(read, Ok(8) if &head == MAGIC) || path.extension().is_some_and(|e| e == "profile")
}

pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| ProfileError::Io { path: name.clone(), message: err.to_string() })?;
    decode(&bytes, &name)
}

/// Writes atomically (a temporary file beside it, renamed), so a reader never sees half a file.
pub fn save(profile: &Profile, path: &Path) -> Result<(), ProfileError> {
    crate::atomic_file::write_atomic(path, &encode(profile)).map_err(|(what, err)| ProfileError::Io {
        path: path.display().to_string(),
        message: format!("cannot {what}: {err}"),
    })
}

/// The file's bytes. Payload: binning, edges_from (strings: u32 length + UTF-8), rows (u64),
/// inputs (u32 count + strings), columns (u32 count), then per column its name, a tag (0
/// numeric, 1 categorical) and — numeric: n, missing, nonfinite, edges (u32 count + f64),
/// bins (u32 count + u64), moments (count, mean, m2, min, max), sketch (k u16, n, coin,
/// u32 levels, each u32 count + f64 items); categorical: missing, u32 count + (label, count).
pub fn encode(profile: &Profile) -> Vec<u8> {
    let mut w = Vec::new();
    put_str(&mut w, &profile.binning);
    put_str(&mut w, &profile.edges_from);
    w.extend(profile.rows.to_le_bytes());
    put_len(&mut w, profile.inputs.len());
    profile.inputs.iter().for_each(|input| put_str(&mut w, input));
    put_len(&mut w, profile.columns.len());
    for column in &profile.columns {
        put_str(&mut w, &column.name);
        match &column.summary {
            ColumnSummary::Numeric(s) => {
                w.push(0);
                [s.n, s.missing, s.nonfinite].iter().for_each(|v| w.extend(v.to_le_bytes()));
                put_len(&mut w, s.edges.len());
                s.edges.iter().for_each(|v| w.extend(v.to_le_bytes()));
                put_len(&mut w, s.bins.len());
                s.bins.iter().for_each(|v| w.extend(v.to_le_bytes()));
                let m = &s.moments;
                w.extend(m.count.to_le_bytes());
                [m.mean, m.m2, m.min, m.max].iter().for_each(|v| w.extend(v.to_le_bytes()));
                w.extend(s.sketch.k().to_le_bytes());
                w.extend(s.sketch.n().to_le_bytes());
                w.extend(s.sketch.coin().to_le_bytes());
                put_len(&mut w, s.sketch.levels().len());
                for level in s.sketch.levels() {
                    put_len(&mut w, level.len());
                    level.iter().for_each(|v| w.extend(v.to_le_bytes()));
                }
            }
            ColumnSummary::Categorical(s) => {
                w.push(1);
                w.extend(s.missing.to_le_bytes());
                put_len(&mut w, s.counts.len());
                for (label, count) in &s.counts {
                    put_str(&mut w, label);
                    w.extend(count.to_le_bytes());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(HEADER + w.len() + CHECKSUM);
    out.extend(MAGIC);
    out.extend(FORMAT_VERSION.to_le_bytes());
    out.extend((w.len() as u64).to_le_bytes());
    out.extend(&w);
    out.extend(Sha256::digest(&w));
    out
}

fn put_len(w: &mut Vec<u8>, len: usize) {
    w.extend((len as u32).to_le_bytes());
}

fn put_str(w: &mut Vec<u8>, text: &str) {
    put_len(w, text.len());
    w.extend(text.as_bytes());
}

/// Reads a profile file's bytes; `path` names it in errors.
pub fn decode(bytes: &[u8], path: &str) -> Result<Profile, ProfileError> {
    let magic = std::str::from_utf8(MAGIC).unwrap_or_default();
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return Err(ProfileError::Truncated { path: path.into(), what: format!("{} bytes", bytes.len()) });
        }
        return Err(ProfileError::NotAProfile { path: path.into(), magic });
    }
    let truncated = |what: &str| ProfileError::Truncated { path: path.into(), what: what.into() };
    let header = bytes.get(..HEADER).ok_or_else(|| truncated("in the header"))?;
    let version = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
    if version != FORMAT_VERSION {
        return Err(ProfileError::Version { path: path.into(), found: version, supported: FORMAT_VERSION });
    }
    let len = u64::from_le_bytes(header[12..20].try_into().unwrap_or_default());
    let rest = &bytes[HEADER..];
    let want = usize::try_from(len).ok().and_then(|l| l.checked_add(CHECKSUM));
    match want {
        Some(want) if rest.len() < want => {
            return Err(truncated(&format!("{} of {} bytes after the header", rest.len(), want)))
        }
        Some(want) if rest.len() > want => {
            return Err(corrupt(path, format!("{} bytes after its end", rest.len() - want)))
        }
        None => return Err(corrupt(path, format!("impossible payload length {len}"))),
        Some(_) => {}
    }
    let (payload, checksum) = rest.split_at(rest.len() - CHECKSUM);
    if Sha256::digest(payload).as_slice() != checksum {
        return Err(corrupt(path, "checksum mismatch (the file was damaged)".into()));
    }
    let mut r = Reader { bytes: payload, at: 0 };
    let profile = read_profile(&mut r).ok_or_else(|| corrupt(path, format!("unreadable at byte {}", HEADER + r.at)))?;
    if r.at != payload.len() {
        return Err(corrupt(path, "bytes left after the last column".into()));
    }
    validate(&profile).map_err(|detail| corrupt(path, detail))?;
    Ok(profile)
}

fn corrupt(path: &str, detail: String) -> ProfileError {
    ProfileError::Corrupt { path: path.into(), detail }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
    /// `count` items, refusing counts larger than the bytes left (no huge allocation from a
    /// damaged length).
    fn items<T>(&mut self, min_size: usize, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let count = self.u32()? as usize;
        if count.checked_mul(min_size)? > self.bytes.len() - self.at {
            return None;
        }
        (0..count).map(|_| item(self)).collect()
    }
}

fn read_profile(r: &mut Reader<'_>) -> Option<Profile> {
    let binning = r.str()?;
    let edges_from = r.str()?;
    let rows = r.u64()?;
    let inputs = r.items(4, Reader::str)?;
    let columns = r.items(5, read_column)?;
    Some(Profile { binning, edges_from, rows, inputs, columns })
}

fn read_column(r: &mut Reader<'_>) -> Option<ColumnProfile> {
    let name = r.str()?;
    let summary = match r.u8()? {
        0 => {
            let (n, missing, nonfinite) = (r.u64()?, r.u64()?, r.u64()?);
            let edges = r.items(8, Reader::f64)?;
            let bins = r.items(8, Reader::u64)?;
            let moments = Moments { count: r.u64()?, mean: r.f64()?, m2: r.f64()?, min: r.f64()?, max: r.f64()? };
            let (k, sketch_n, coin) = (r.u16()?, r.u64()?, r.u64()?);
            let levels = r.items(4, |r| r.items(8, Reader::f64))?;
            let sketch = KllSketch::from_parts(k, sketch_n, levels, coin).ok()?;
            ColumnSummary::Numeric(NumericSummary { n, missing, nonfinite, edges, bins, moments, sketch })
        }
        1 => {
            let missing = r.u64()?;
            let counts = r.items(12, |r| Some((r.str()?, r.u64()?)))?;
            ColumnSummary::Categorical(CategoricalSummary { missing, counts })
        }
        _ => return None,
    };
    Some(ColumnProfile { name, summary })
}

/// The invariants every reader relies on.
fn validate(profile: &Profile) -> Result<(), String> {
    for column in &profile.columns {
        let name = &column.name;
        match &column.summary {
            ColumnSummary::Numeric(s) => {
                if s.bins.len() != s.edges.len() + 1 || s.bins.iter().sum::<u64>() != s.n {
                    return Err(format!("column {name:?}: bin counts do not match its edges and n"));
                }
                if s.edges.iter().any(|e| !e.is_finite()) || s.edges.windows(2).any(|w| w[0] > w[1]) {
                    return Err(format!("column {name:?}: edges are not finite and ascending"));
                }
                if s.sketch.n() != s.n || s.moments.count != s.n {
                    return Err(format!("column {name:?}: sketch or moments count differs from n"));
                }
            }
            ColumnSummary::Categorical(s) => {
                if s.counts.windows(2).any(|w| w[0].0.as_bytes() >= w[1].0.as_bytes())
                    || s.counts.iter().any(|c| c.1 == 0)
                {
                    return Err(format!("column {name:?}: categories are not sorted, distinct and counted"));
                }
            }
        }
    }
    Ok(())
}
