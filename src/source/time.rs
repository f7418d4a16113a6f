//! Event time: RFC 3339 text and Unix epoch numbers (seconds or milliseconds) parsed to
//! milliseconds since the epoch, UTC ([`parse_rfc3339`], [`parse_epoch`]), and the one time
//! formatter ([`format_time_ms`]).
//!
//! Inputs: the text of a JSON string or number, a CSV cell, or an Arrow value rendered as text.
//! Output: `i64` ms, or a short reason for the `bad_event_time` log line. Every accepted time
//! lies in years 0000–9999 ([`MIN_MS`] ..= [`MAX_MS`]), so an epoch in the wrong unit is
//! rejected rather than placed in the year 55 000; nothing here panics or overflows.

use super::spec::TimeFormat;

/// Unit of an epoch number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
}

/// 0000-01-01T00:00:00Z in ms since the epoch.
pub const MIN_MS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z in ms since the epoch.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// Checks the supported range.
pub fn check_range(ms: i64) -> Result<i64, &'static str> {
    if (MIN_MS..=MAX_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err("outside the years 0000-9999 (wrong epoch unit?)")
    }
}

/// Parses an RFC 3339 date-time with a UTC offset into ms since the epoch.
///
/// Hand-parsed (about 80 lines) rather than pulling in chrono or jiff: the grammar is small and
/// fixed, `YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.frac]('Z'|'z'|±hh:mm)`. The UTC offset is required
/// (a local time without one is ambiguous); second 60 (a leap second) is accepted and lands on
/// the next second, like a POSIX clock. Sub-millisecond digits are truncated toward negative
/// infinity (the floor), as chrono's `timestamp_millis` does.
pub fn parse_rfc3339(text: &str) -> Result<i64, &'static str> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err("too short for RFC 3339 (expected e.g. 2024-05-01T12:00:00Z)");
    }
    let year = digits(b, 0, 4).ok_or("bad year")?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2).ok_or("bad month")?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2).ok_or("bad day")?;
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err("expected 'T' between date and time");
    }
    let hour = digits(b, 11, 2).ok_or("bad hour")?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2).ok_or("bad minute")?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2).ok_or("bad second")?;
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("time of day out of range");
    }
    let mut i = 19;
    let mut frac_ms: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                frac_ms = frac_ms * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return Err("no digits after the decimal point");
        }
        for _ in (i - start)..3 {
            frac_ms *= 10;
        }
    }
    let offset_s: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2).ok_or("bad UTC offset")?;
            expect(b, i + 3, b':').map_err(|_| "bad UTC offset (expected ±hh:mm)")?;
            let om = digits(b, i + 4, 2).ok_or("bad UTC offset")?;
            if oh > 23 || om > 59 {
                return Err("UTC offset out of range");
            }
            i += 6;
            let s = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -s
            } else {
                s
            }
        }
        None => return Err("no UTC offset (add Z or ±hh:mm)"),
        Some(_) => return Err("unexpected character before the UTC offset"),
    };
    if i != b.len() {
        return Err("trailing characters after the UTC offset");
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_s;
    check_range(secs * 1000 + frac_ms)
}

fn expect(b: &[u8], i: usize, byte: u8) -> Result<(), &'static str> {
    if b.get(i) == Some(&byte) {
        Ok(())
    } else {
        Err("not an RFC 3339 date-time (expected e.g. 2024-05-01T12:00:00Z)")
    }
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (proleptic Gregorian, UTC).
pub fn rfc3339_utc(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Milliseconds since the epoch as RFC 3339 UTC: `2026-11-01T12:00:00Z`, with `.250` when the
/// time is not a whole second. The one time formatter of every output (logs, reports, JSON,
/// notifications).
pub fn format_time_ms(ms: i64) -> String {
    let text = rfc3339_utc(ms.div_euclid(1000));
    match ms.rem_euclid(1000) {
        0 => text,
        frac => format!("{}.{frac:03}Z", text.trim_end_matches('Z')),
    }
}

/// The proleptic Gregorian date (year, month, day) of a day count since 1970-01-01, the
/// inverse of `days_from_civil` (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Consumes an optional `+` / `-` at `b[*i]`; true when it was `-`.
fn take_sign(b: &[u8], i: &mut usize) -> bool {
    match b.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    }
}

/// Parses an epoch number written in decimal (JSON number grammar, plus an optional leading
/// `+` and surrounding ASCII blanks for text cells), exactly, into ms (floor): no `f64`
/// rounding, so `1700000000.123` s is exactly `1700000000123` ms.
pub fn parse_epoch(text: &str, unit: EpochUnit) -> Result<i64, &'static str> {
    const BAD: &str = "not a number";
    let b = text.trim_ascii().as_bytes();
    let mut i = 0;
    let negative = take_sign(b, &mut i);
    // Mantissa as an integer of at most 36 significant digits, with a decimal exponent.
    let mut mantissa: u128 = 0;
    let mut significant = 0u32;
    let mut exp10: i64 = 0;
    let mut any_digit = false;
    let mut seen_point = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                any_digit = true;
                if mantissa == 0 && c == b'0' {
                    // Leading zeros carry no precision.
                } else {
                    significant += 1;
                    if significant > 36 {
                        return Err("too many digits");
                    }
                    mantissa = mantissa * 10 + u128::from(c - b'0');
                }
                if seen_point {
                    exp10 -= 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if !any_digit {
        return Err(BAD);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let exp_negative = take_sign(b, &mut i);
        let start = i;
        let mut e: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            e = (e * 10 + i64::from(b[i] - b'0')).min(100_000);
            i += 1;
        }
        if i == start {
            return Err(BAD);
        }
        exp10 += if exp_negative { -e } else { e };
    }
    if i != b.len() {
        return Err(BAD);
    }
    if unit == EpochUnit::Seconds {
        exp10 += 3;
    }
    let out_of_range = "outside the years 0000-9999 (wrong epoch unit?)";
    // |ms| = floor or ceil of mantissa · 10^exp10; anything past 10^16 is out of range anyway.
    let (quotient, inexact) = if mantissa == 0 {
        (0u128, false)
    } else if exp10 >= 0 {
        if exp10 > 20 {
            return Err(out_of_range);
        }
        (mantissa.checked_mul(10u128.pow(exp10 as u32)).ok_or(out_of_range)?, false)
    } else if exp10 < -38 {
        (0, true)
    } else {
        let d = 10u128.pow((-exp10) as u32);
        (mantissa / d, !mantissa.is_multiple_of(d))
    };
    let magnitude = i64::try_from(quotient).map_err(|_| out_of_range)?;
    let ms = if negative { -magnitude - i64::from(inexact) } else { magnitude };
    check_range(ms)
}

/// Milliseconds since the Unix epoch, wall clock: processing-time watermarks, notification
/// retry times and silences (persisted across restarts, hence not a monotonic clock).
pub(crate) fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Parses event-time text in `format` (shared by the JSON walk and the CSV / Parquet reader).
pub(super) fn parse_time_text(text: &str, format: TimeFormat) -> Result<i64, &'static str> {
    match format {
        TimeFormat::Rfc3339 => parse_rfc3339(text),
        TimeFormat::EpochSeconds => parse_epoch(text, EpochUnit::Seconds),
        TimeFormat::EpochMillis => parse_epoch(text, EpochUnit::Millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: Python `int(datetime.fromisoformat(s).timestamp() * 1000)` (exact for
    // these inputs), e.g. datetime.fromisoformat("2024-05-01T12:00:00+02:00").timestamp()
    // == 1714557600.0.
    #[test]
    fn times_format_as_rfc3339_utc() {
        // 2026-11-01T12:00:00Z = 1793534400 s: `date -u -d 2026-11-01T12:00:00Z +%s`.
        assert_eq!(format_time_ms(1_793_534_400_000), "2026-11-01T12:00:00Z");
        assert_eq!(format_time_ms(1_793_534_400_250), "2026-11-01T12:00:00.250Z");
        assert_eq!(format_time_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_zulu_offsets_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00Z"), Ok(1_714_564_800_000));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00+02:00"), Ok(1_714_557_600_000));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00-05:30"), Ok(1_714_584_600_000));
        assert_eq!(parse_rfc3339("2024-05-01t12:00:00z"), Ok(1_714_564_800_000));
        assert_eq!(parse_rfc3339("2024-05-01 12:00:00Z"), Ok(1_714_564_800_000));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.5Z"), Ok(1_714_564_800_500));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.123456789Z"), Ok(1_714_564_800_123));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.07+00:00"), Ok(1_714_564_800_070));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Ok(-1));
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00Z"), Ok(MIN_MS));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59.999Z"), Ok(MAX_MS));
        // A leap second lands on the next second.
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Ok(1_483_228_800_000));
    }

    #[test]
    fn rfc3339_rejects_garbage() {
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00.Z",
            "2024-13-01T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2024-04-31T12:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:60:00Z",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00Zjunk",
            "2024-05-01X12:00:00Z",
            "２０２4-05-01T12:00:00Z",
            "1714564800",
            "-001-05-01T12:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn epoch_exact_decimals() {
        use EpochUnit::*;
        assert_eq!(parse_epoch("1700000000", Seconds), Ok(1_700_000_000_000));
        assert_eq!(parse_epoch("1700000000.123", Seconds), Ok(1_700_000_000_123));
        assert_eq!(parse_epoch("1700000000.1239", Seconds), Ok(1_700_000_000_123));
        assert_eq!(parse_epoch("1.7e9", Seconds), Ok(1_700_000_000_000));
        assert_eq!(parse_epoch(" 1700000000123 ", Millis), Ok(1_700_000_000_123));
        assert_eq!(parse_epoch("1700000000123.9", Millis), Ok(1_700_000_000_123));
        assert_eq!(parse_epoch("-0.0015", Seconds), Ok(-2));
        assert_eq!(parse_epoch("-1.5", Millis), Ok(-2));
        assert_eq!(parse_epoch("+12", Millis), Ok(12));
        assert_eq!(parse_epoch("0e999999999", Seconds), Ok(0));
        assert_eq!(parse_epoch("5e-60", Seconds), Ok(0));
    }

    #[test]
    fn epoch_rejects_garbage_and_out_of_range() {
        use EpochUnit::*;
        for bad in ["", "-", ".", "1e", "abc", "1.2.3", "NaN", "inf", "1_000", "0x10", "1 2"] {
            assert!(parse_epoch(bad, Seconds).is_err(), "{bad:?} accepted");
        }
        // Microseconds read as milliseconds: year ~55 900.
        assert!(parse_epoch("1700000000000000", Millis).is_err());
        assert!(parse_epoch("1e300", Seconds).is_err());
        assert!(parse_epoch("99999999999999999999999999999999999999", Millis).is_err());
        assert!(parse_epoch("1234567890123456789012345678901234567", Millis).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,40}") {
            let _ = parse_rfc3339(&text);
            let _ = parse_epoch(&text, EpochUnit::Seconds);
            let _ = parse_epoch(&text, EpochUnit::Millis);
        }

        #[test]
        fn rfc3339_agrees_with_epoch(ms in MIN_MS..=MAX_MS) {
            // Format with the inverse algorithm (civil_from_days) and parse back.
            let days = ms.div_euclid(86_400_000);
            let rem = ms.rem_euclid(86_400_000);
            let (y, m, d) = civil_from_days(days);
            let text = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000
            );
            proptest::prop_assert_eq!(parse_rfc3339(&text), Ok(ms));
            let (sign, abs) = (if ms < 0 { "-" } else { "" }, ms.unsigned_abs());
            let seconds = format!("{sign}{}.{:03}", abs / 1000, abs % 1000);
            proptest::prop_assert_eq!(parse_epoch(&seconds, EpochUnit::Seconds), Ok(ms));
        }
    }
}
