//! Unit tests of `yaml.rs`.

use super::*;

fn scalar(node: &Node) -> &Scalar {
    match &node.kind {
        NodeKind::Scalar(s) => s,
        other => panic!("not a scalar: {other:?}"),
    }
}

#[test]
fn positions_are_one_based_and_point_at_values() {
    let (root, problems) = parse("http:\n  listen: \"127.0.0.1:1\"\nmonitors:\n  - name: a\n").unwrap();
    assert!(problems.is_empty());
    let listen = KeyPath::root().key("http").key("listen");
    assert_eq!(root.locate(&listen), Mark { line: 2, column: 11 });
    let s = scalar(root.get(&listen).unwrap());
    assert_eq!((s.text.as_str(), s.plain, s.raw.as_str()), ("127.0.0.1:1", false, "\"127.0.0.1:1\""));
    let name = KeyPath::root().key("monitors").index(0).key("name");
    assert_eq!(root.locate(&name), Mark { line: 4, column: 11 });
    // A missing key is reported where its mapping starts.
    assert_eq!(root.locate(&KeyPath::root().key("monitors").index(0).key("window")), Mark { line: 4, column: 5 });
}

#[test]
fn syntax_errors_carry_a_position() {
    let problem = parse("a: [1, 2\n").unwrap_err();
    assert_eq!(problem.mark, Some(Mark { line: 1, column: 4 }));
    assert!(problem.message.contains("unclosed bracket"), "{}", problem.message);
    let problem = parse("a:\n\tb: 1\n").unwrap_err();
    assert_eq!(problem.mark.map(|m| m.line), Some(2));
    let problem = parse("w: { size: ${X} }\n").unwrap_err();
    assert!(problem.message.ends_with("quote values that use `${…}`: '${VAR}')"), "{}", problem.message);
    assert!(parse("w: { size: '${X}' }\n").is_ok());
}

#[test]
fn duplicates_and_non_string_keys_are_reported_and_parsing_goes_on() {
    let (root, problems) = parse("a: 1\nb: 2\na: 3\n? [x]\n: 4\nc: 5\n").unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].mark, Some(Mark { line: 3, column: 1 }));
    assert!(problems[0].message.contains("duplicate key `a` (first defined at line 1)"));
    assert_eq!(problems[1].message, "mapping keys must be strings");
    assert_eq!(scalar(root.get(&KeyPath::root().key("a")).unwrap()).text, "1");
    assert_eq!(scalar(root.get(&KeyPath::root().key("c")).unwrap()).text, "5");
}

#[test]
fn aliases_and_merge_keys_expand() {
    let text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\ncopy: *b\n";
    let (root, problems) = parse(text).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let get = |p: &[&str]| {
        let path = KeyPath(p.iter().map(|k| Segment::Key(k.to_string())).collect());
        scalar(root.get(&path).unwrap()).text.clone()
    };
    assert_eq!(get(&["use", "x"]), "1");
    assert_eq!(get(&["use", "y"]), "3");
    assert_eq!(get(&["copy", "y"]), "2");
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let p = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    let problem = parse(&text).unwrap_err();
    assert!(problem.message.contains("expands to more than"), "{}", problem.message);
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(parse(&deep).unwrap_err().message.contains("nesting deeper"));
}

/// The audit's bomb: a 4 KiB anchored scalar aliased through a few levels (a 4.4 KB file
/// that reached 840 MB) stops at the byte budget, long before the node cap.
#[test]
fn an_alias_bomb_of_one_large_scalar_stops_at_the_byte_budget() {
    let mut text = format!("s: &s \"{}\"\n", "x".repeat(4096));
    text.push_str("l0: &l0 [*s, *s, *s, *s, *s, *s, *s, *s, *s, *s]\n");
    for i in 1..4 {
        let p = i - 1;
        text.push_str(&format!("l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"));
    }
    assert!(text.len() < 4500, "{}", text.len());
    let problem = parse(&text).unwrap_err();
    assert!(problem.message.contains("bytes of text"), "{}", problem.message);
    // 10,000 copies would be 40 MB (and 80 MB with the source text); the budget is 4 MiB.
    assert_eq!(expansion_budget(text.len()), 4 << 20);
    // A legitimate use of anchors stays far below it.
    let defaults = "d: &d {size: 1h, lateness: 5m}\nm: [{<<: *d, name: a}, {<<: *d, name: b}]\n";
    assert!(parse(defaults).unwrap().1.is_empty());
}

/// 90,000 keys in one mapping (the node cap allows ~100,000), every tenth a duplicate: all
/// reported (the check is a hash lookup per key; the audit's 99,990-key file took 70 s
/// with the linear scan).
#[test]
fn many_keys_are_checked_for_duplicates_in_linear_time() {
    let mut text = String::with_capacity(2 << 20);
    for i in 0..90_000 {
        let key = if i % 10 == 9 { i - 9 } else { i };
        text.push_str(&format!("k{key}: {i}\n"));
    }
    let (root, problems) = parse(&text).unwrap();
    assert_eq!(problems.len(), 9_000);
    assert!(problems[0].message.contains("duplicate key `k0` (first defined at line 1)"), "{}", problems[0].message);
    let NodeKind::Map(entries) = root.kind else { panic!("not a mapping") };
    assert_eq!(entries.len(), 81_000);
}

/// Every scalar byte held by a tree, value and source text (what the budget counts).
fn held_bytes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar(s) => s.text.len() + s.raw.len(),
        NodeKind::Seq(items) => items.iter().map(held_bytes).sum(),
        NodeKind::Map(entries) => entries.iter().map(|e| e.key.len() + held_bytes(&e.value)).sum(),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

    /// Anchors and aliases of any fan-out, depth and scalar size: the parse never panics
    /// and what it keeps never exceeds the byte budget (memory stays bounded whatever the
    /// aliases multiply).
    #[test]
    fn aliases_of_any_shape_stay_within_the_budget(
        scalar in 1usize..20_000,
        fan_out in 1usize..12,
        depth in 1usize..8,
    ) {
        let mut text = format!("s: &l0 \"{}\"\n", "v".repeat(scalar));
        for i in 1..=depth {
            let items = vec![format!("*l{}", i - 1); fan_out].join(", ");
            text.push_str(&format!("l{i}: &l{i} [{items}]\n"));
        }
        if let Ok((root, _)) = parse(&text) {
            proptest::prop_assert!(held_bytes(&root) <= expansion_budget(text.len()));
        }
    }
}

#[test]
fn one_document_only_and_empty_is_an_empty_mapping() {
    assert!(parse("a: 1\n---\nb: 2\n").unwrap_err().message.contains("only one YAML document"));
    let (root, _) = parse("# nothing\n").unwrap();
    assert_eq!(root.kind, NodeKind::Map(Vec::new()));
}

#[test]
fn long_values_are_shortened_in_messages() {
    let (root, _) = parse(&format!("a: {}\n", "x".repeat(500))).unwrap();
    let shown = root.get(&KeyPath::root().key("a")).unwrap().describe();
    assert_eq!(shown, format!("{:?}…", "x".repeat(60)));
}

#[test]
fn str_tag_and_quotes_make_scalars_non_plain() {
    let (root, _) = parse("a: !!str 5\nb: 5\nc: ''\nd:\n").unwrap();
    let get = |k: &str| scalar(root.get(&KeyPath::root().key(k)).unwrap()).clone();
    assert!(!get("a").plain && get("b").plain);
    assert!(!get("c").is_null());
    assert!(get("d").is_null());
}
