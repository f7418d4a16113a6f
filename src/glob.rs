//! Name patterns: `*` matches any run of characters (also none), `?` exactly one, every other
//! character itself; whole names, by characters. One matcher for `--columns` (dataset/glob.rs)
//! and the rules' feature selectors (`rules::glob_match`).

/// Whether `name` matches `pattern`, by characters (not bytes), the whole name.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic greedy walk with one backtrack point: linear in practice, never exponential.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names() {
        assert!(matches("feature_*", "feature_12"));
        assert!(matches("feature_*", "feature_"));
        assert!(!matches("feature_*", "a_feature_1"));
        assert!(matches("*_id", "user_id"));
        assert!(matches("f?_*x", "f1_abcx"));
        assert!(!matches("f?", "f12"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
        assert!(matches("é?", "éü"), "characters, not bytes");
        assert!(matches("plain", "plain") && !matches("plain", "plainer"));
    }
}
