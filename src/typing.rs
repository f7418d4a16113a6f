//! The typing rule, shared by `compare` (dataset loaders), the daemon's decoders and its window
//! accumulators: what a text cell is. Empty → missing; text that Rust's `f64` parser accepts
//! after trimming ASCII blanks → a number (`NaN`, `nan`, … → missing; ±inf stays a number);
//! anything else → a categorical label. One home, so a column types the same offline and live.

/// What a text cell is under the typing rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Empty, or a NaN token (`NaN`, `nan`, `-nan`, … with ASCII blanks around).
    Missing,
    /// A number (finite or ±inf) written with optional ASCII blanks around it.
    Number(f64),
    /// Anything else: a categorical label.
    Text,
}

/// Classifies a text cell (see the module docs).
#[inline]
pub fn classify(text: &str) -> Cell {
    if text.is_empty() {
        return Cell::Missing;
    }
    match text.trim_ascii().parse::<f64>() {
        Ok(v) if v.is_nan() => Cell::Missing,
        Ok(v) => Cell::Number(v),
        Err(_) => Cell::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_type_as_compare_documents() {
        assert_eq!(classify(""), Cell::Missing);
        assert_eq!(classify(" nan "), Cell::Missing);
        assert_eq!(classify(" 1.5\t"), Cell::Number(1.5));
        assert_eq!(classify("-inf"), Cell::Number(f64::NEG_INFINITY));
        assert_eq!(classify("Infinity"), Cell::Number(f64::INFINITY));
        assert_eq!(classify("1,5"), Cell::Text);
        assert_eq!(classify(" "), Cell::Text, "blank but not empty: a label, as compare reads it");
    }
}
