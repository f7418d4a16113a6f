//! Column-name patterns for `--columns`: `*` matches any run of characters (also none), `?`
//! exactly one; every other character matches itself. A wide file's `feature_*` then selects
//! hundreds of columns without listing them. An entry that is exactly a column's name selects
//! that column only, so a name that itself contains `*` or `?` still means itself.

use crate::glob::matches;

/// Whether `pattern` uses a wildcard (otherwise it is a plain name).
pub(crate) fn is_pattern(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Which of `names` the `wanted` entries select (one flag per name), and the entries that
/// select none (first occurrence order, no repeats).
pub(crate) fn choose(wanted: &[String], names: &[String]) -> (Vec<bool>, Vec<String>) {
    let exact = |w: &str| names.iter().any(|n| n == w);
    let picks = |w: &str, name: &str| name == w || (is_pattern(w) && !exact(w) && matches(w, name));
    let keep = names.iter().map(|n| wanted.iter().any(|w| picks(w, n))).collect();
    let mut missing: Vec<String> = Vec::new();
    for w in wanted {
        if !missing.contains(w) && !names.iter().any(|n| picks(w, n)) {
            missing.push(w.clone());
        }
    }
    (keep, missing)
}

/// Whether some entry of `wanted` could select `name` (a superset of [`choose`], for readers
/// that discover names as they go and settle with [`choose`] at the end).
pub(crate) fn may_pick(wanted: &[String], name: &str) -> bool {
    wanted.iter().any(|w| w == name || (is_pattern(w) && matches(w, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_name_means_itself() {
        let names: Vec<String> = ["f*", "f1", "g"].iter().map(|s| s.to_string()).collect();
        let wanted = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(choose(&wanted(&["f*"]), &names), (vec![true, false, false], vec![]));
        assert_eq!(choose(&wanted(&["g?", "g", "h*"]), &names).1, vec!["g?".to_string(), "h*".to_string()]);
        assert_eq!(choose(&wanted(&["?"]), &names).0, vec![false, false, true]);
    }

    #[test]
    fn patterns_are_told_from_names() {
        assert!(is_pattern("f_*") && is_pattern("f?"));
        assert!(!is_pattern("income"));
    }
}
