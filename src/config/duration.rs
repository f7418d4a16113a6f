//! Durations (`250ms`, `30s`, `15m`, `1h`, `1d`, `1h30m`) and window sizes (a duration or
//! `10000 events`) as written in the configuration.
//!
//! Input: the text of one value. Output: a whole number of milliseconds, or a message saying
//! what is accepted. No overflow, no fractions (`1.5h` is `1h30m`), no negative values.

use std::time::Duration;

use super::model::WindowSize;

const UNITS: [(&str, u64); 5] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];

/// Parse a duration: one or more `<integer><unit>` parts (units `ms`, `s`, `m`, `h`, `d`,
/// spaces allowed between parts), or a bare `0`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let help = || {
        format!(
            "invalid duration {text:?}: expected a whole number and a unit (ms, s, m, h, d), such as 30s, 15m or 1h30m"
        )
    };
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = t;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(help());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(help());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| help())?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..letters];
        let &(_, scale) = UNITS.iter().find(|(name, _)| *name == unit).ok_or_else(help)?;
        rest = rest[letters..].trim_start();
        total = number
            .checked_mul(scale)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("duration {text:?} is too long"))?;
    }
    Ok(Duration::from_millis(total))
}

/// Parse a window size or slide: `N events` (N ≥ 1) or a positive duration.
pub fn parse_window_size(text: &str) -> Result<WindowSize, String> {
    let t = text.trim();
    if let Some(count) = t.strip_suffix("events").or_else(|| t.strip_suffix("event")) {
        let count = count.trim();
        return match count.parse::<u64>() {
            Ok(n) if n >= 1 && count.bytes().all(|b| b.is_ascii_digit()) => Ok(WindowSize::Events(n)),
            _ => Err(format!(
                "invalid size {text:?}: expected a whole number of events of at least 1, such as `10000 events`"
            )),
        };
    }
    match parse_duration(t) {
        Ok(d) if d.is_zero() => Err(format!("size {text:?} must be longer than zero")),
        Ok(d) => Ok(WindowSize::Time(d)),
        Err(_) if t.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{text:?} needs a unit: a duration such as `1h`, or a count such as `{t} events`"))
        }
        Err(_) => {
            Err(format!("invalid size {text:?}: expected a duration (ms, s, m, h, d), such as `1h`, or `N events`"))
        }
    }
}

/// A duration as it would be written in the configuration (`1h30m`, `250ms`, `0s`).
pub fn format_duration(duration: Duration) -> String {
    let mut ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, scale) in UNITS.iter().rev() {
        if ms >= *scale {
            out.push_str(&format!("{}{name}", ms / scale));
            ms %= scale;
        }
    }
    out
}

/// A window size as it would be written.
pub fn format_window_size(size: WindowSize) -> String {
    match size {
        WindowSize::Time(d) => format_duration(d),
        WindowSize::Events(n) => format!("{n} events"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in ["", "5", "1.5h", "-1s", "1w", "h", "1 h x", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("18446744073709551615d").unwrap_err().contains("too long"));
    }

    #[test]
    fn window_sizes() {
        assert_eq!(parse_window_size("10000 events"), Ok(WindowSize::Events(10_000)));
        assert_eq!(parse_window_size("1 event"), Ok(WindowSize::Events(1)));
        assert_eq!(parse_window_size("1h"), Ok(WindowSize::Time(Duration::from_secs(3600))));
        assert!(parse_window_size("0 events").is_err());
        assert!(parse_window_size("-3 events").is_err());
        assert!(parse_window_size("0s").unwrap_err().contains("longer than zero"));
        assert!(parse_window_size("10000").unwrap_err().contains("`10000 events`"));
    }

    proptest! {
        #[test]
        fn format_and_parse_round_trip(ms in 0u64..10_000_000_000_000) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,24}") {
            let _ = parse_duration(&text);
            let _ = parse_window_size(&text);
        }
    }
}
