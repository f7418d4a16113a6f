//! Escaping and number formatting shared by the HTML page and its SVG charts.
//!
//! Invariants: every piece of user data (file paths, column names, bin and category labels)
//! goes through [`esc`] before it reaches the page, in text and attribute positions alike — the
//! same five-character escape is valid in HTML text, quoted HTML attributes and inline SVG.
//! Labels drawn inside charts additionally go through [`visible`] so that control characters
//! (a newline inside a category) cannot break a line of SVG text.

/// Escape `& < > " '` for HTML/SVG text content and double- or single-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL is not allowed in HTML; the parser would replace it anyway.
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(ch),
        }
    }
    out
}

/// A one-line form of a label for drawing: newlines become "↵", other control characters "�",
/// and at most `max_chars` characters are kept (the last one replaced by "…" when cut).
/// Not escaped: pass the result to [`esc`].
pub fn visible(label: &str, max_chars: usize) -> String {
    let one_line: Vec<char> = label
        .chars()
        .map(|c| match c {
            '\n' => '↵',
            '\r' => '↵',
            '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect();
    if one_line.len() <= max_chars || max_chars == 0 {
        one_line.into_iter().collect()
    } else {
        let mut cut: String = one_line[..max_chars - 1].iter().collect();
        cut.push('…');
        cut
    }
}

/// Mantissa digits after the point and decimal exponent of `v` rounded to `sig` significant
/// digits (the exponent is taken after rounding, so 9.9996 → 1.000e1).
fn split_sci(v: f64, sig: usize) -> (String, i32) {
    let text = format!("{:.*e}", sig.saturating_sub(1), v);
    match text.split_once('e') {
        Some((mantissa, exp)) => (mantissa.to_string(), exp.parse().unwrap_or(0)),
        None => (text, 0),
    }
}

/// `v` with 4 significant digits: fixed notation for 1e-3 ≤ |v| < 1e6, scientific otherwise.
/// NaN is "n/a"; infinities are "∞" / "−∞".
pub fn sig4(v: f64) -> String {
    sig(v, 4, false)
}

/// As [`sig4`] but with trailing zeros removed (axis ticks and bin edges).
pub fn short(v: f64, digits: usize) -> String {
    sig(v, digits, true)
}

fn sig(v: f64, digits: usize, trim: bool) -> String {
    if v.is_nan() {
        return "n/a".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞".to_string() } else { "−∞".to_string() };
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let (mantissa, exp) = split_sci(v, digits);
    if !(-3..6).contains(&exp) {
        let mantissa = if trim { trim_zeros(&mantissa) } else { mantissa };
        return format!("{mantissa}e{exp}").replace('-', "−");
    }
    let decimals = (digits as i32 - 1 - exp).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let text = if trim { trim_zeros(&text) } else { text };
    text.replace('-', "−")
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

/// A p-value in scientific notation, "1.234e−27"; exact 0 and 1 stay short.
pub fn pvalue(v: f64) -> String {
    if v.is_nan() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    if v == 1.0 {
        return "1".to_string();
    }
    let (mantissa, exp) = split_sci(v, 4);
    format!("{mantissa}e{exp}").replace('-', "−")
}

/// An integer with thousands separators: 1234567 → "1,234,567".
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A share in [0, 1] as a percentage with one decimal ("n/a" when undefined).
pub fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", 100.0 * share)
    } else {
        "n/a".to_string()
    }
}

/// Shorten every number inside a numeric bin label ("(25103.720000000001, 31000.5]") to
/// `digits` significant digits, for drawing; the full label stays in the tooltip.
pub fn shorten_numbers(label: &str, digits: usize) -> String {
    let mut out = String::with_capacity(label.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            match token.parse::<f64>() {
                Ok(v) if v.is_finite() => out.push_str(&short(v, digits)),
                _ => out.push_str(token),
            }
            token.clear();
        }
    };
    for ch in label.chars() {
        let continues = ch.is_ascii_digit()
            || ch == '.'
            || ((ch == 'e' || ch == 'E') && !token.is_empty())
            || ((ch == '-' || ch == '+') && (token.is_empty() || token.ends_with(['e', 'E'])));
        if continues {
            token.push(ch);
        } else {
            flush(&mut token, &mut out);
            out.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert('x')</script> a"b&c"#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; a&quot;b&amp;c"
        );
        assert_eq!(esc("naïve 🚀"), "naïve 🚀");
    }

    #[test]
    fn visible_labels_are_one_line_and_cut() {
        assert_eq!(visible("a\nb\tc\u{7}", 10), "a↵b c\u{FFFD}");
        assert_eq!(visible("abcdefgh", 5), "abcd…");
        assert_eq!(visible("🚀🚀🚀", 3), "🚀🚀🚀");
    }

    #[test]
    fn four_significant_digits() {
        assert_eq!(sig4(0.123456), "0.1235");
        assert_eq!(sig4(0.1), "0.1000");
        // Integer digits are never replaced by zeros.
        assert_eq!(sig4(25103.72), "25104");
        assert_eq!(sig4(9.99996), "10.00");
        assert_eq!(sig4(1234567.0), "1.235e6");
        assert_eq!(sig4(0.00012346), "1.235e−4");
        assert_eq!(sig4(-0.5), "−0.5000");
        assert_eq!(sig4(f64::NAN), "n/a");
        assert_eq!(short(0.30000000000000004, 4), "0.3");
        assert_eq!(short(20000.0, 4), "20000");
    }

    #[test]
    fn p_values_are_scientific() {
        assert_eq!(pvalue(1.3e-27), "1.300e−27");
        assert_eq!(pvalue(0.04999), "4.999e−2");
        assert_eq!(pvalue(1.0), "1");
        assert_eq!(pvalue(0.0), "0");
    }

    #[test]
    fn integers_and_percent() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(percent(0.6), "60.0%");
        assert_eq!(percent(f64::NAN), "n/a");
    }

    #[test]
    fn bin_labels_are_shortened() {
        assert_eq!(shorten_numbers("(−inf, 34.199999999999996]", 6), "(−inf, 34.2]");
        assert_eq!(shorten_numbers("(25103.72, 1e-05]", 6), "(25103.7, 1e−5]");
        assert_eq!(shorten_numbers("[-3.5, 2)", 6), "[−3.5, 2)");
        assert_eq!(shorten_numbers("west", 6), "west");
    }
}
