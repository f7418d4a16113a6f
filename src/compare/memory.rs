//! The memory budget of a streaming compare (`--memory-limit`): sizes like `2G`, `500M`,
//! `1.5GiB` or plain bytes, and the default when none is given — half of the memory the
//! kernel reports available (`MemAvailable` in /proc/meminfo) when compare starts, so a
//! comparison leaves room for the rest of the machine without being needlessly cut into groups.

/// Used when /proc/meminfo cannot be read (not Linux, or a restricted container).
const FALLBACK_LIMIT: u64 = 2 << 30;

/// Parses a size: a number (decimals allowed) and an optional unit `K`, `M`, `G`, `T`
/// (powers of 1024, with or without a trailing `B` / `iB`), any case. `2G` is 2·2^30 bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let unit_start = lower.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(unit_start);
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("{trimmed:?}: unknown unit (use K, M, G or T, e.g. 2G or 500M)")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{trimmed:?} is not a size (e.g. 2G or 500M)"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("{trimmed:?}: a size must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// The default budget: half of `MemAvailable`, or `FALLBACK_LIMIT`.
pub fn default_limit() -> u64 {
    std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| available(&text)).map_or(FALLBACK_LIMIT, |b| b / 2)
}

/// `MemAvailable` (else `MemTotal`) in bytes, from the text of /proc/meminfo.
fn available(meminfo: &str) -> Option<u64> {
    let field = |name: &str| {
        meminfo.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib * 1024)
        })
    };
    field("MemAvailable").or_else(|| field("MemTotal"))
}

/// A size for messages: `1.5 GiB`, `300 MiB`, `12 KiB`, `100 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit == "B" {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size(" 64kb "), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        for bad in ["", "G", "2X", "-1G", "0", "nanG", "2 GG"] {
            assert!(parse_size(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn available_memory_comes_from_meminfo() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(available(text), Some(20_000_000 * 1024));
        assert_eq!(available("MemTotal: 1000 kB\n"), Some(1_024_000), "older kernels lack MemAvailable");
        assert_eq!(available("nothing"), None);
    }

    #[test]
    fn sizes_print_readably() {
        assert_eq!(human(100), "100 B");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }
}
