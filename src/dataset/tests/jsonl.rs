//! JSON Lines input: value types, key union, options and every error.

use tempfile::TempDir;

use super::*;

#[test]
fn value_types_and_key_union() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "v.jsonl",
        concat!(
            "{\"n\": 1, \"s\": \"1.5\", \"b\": true, \"t\": \"red\"}\n",
            "\n",
            "   \r\n",
            "{\"t\": \"blue\", \"n\": -2.5e1, \"s\": \"NaN\", \"b\": false, \"late\": 7}\r\n",
            "{\"n\": null, \"s\": \" inf \", \"b\": true, \"t\": \"caf\\u00e9\"}\n",
            "{\"n\": 1e400, \"s\": \"\", \"b\": null}\n",
        ),
    );
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(d.format, Format::JsonLines);
    assert_eq!(d.rows, 4, "blank lines are skipped");
    assert_eq!(names(&d), ["n", "s", "b", "t", "late"]);
    let n = numeric(&d, "n");
    assert_eq!((n.values.as_slice(), n.missing, n.nonfinite), ([1.0, -25.0].as_slice(), 1, 1));
    let s = numeric(&d, "s");
    assert_eq!((s.values.as_slice(), s.missing, s.nonfinite), ([1.5].as_slice(), 2, 1));
    let b = categorical(&d, "b");
    assert_eq!((labels(b), b.missing), (vec![("false", 1), ("true", 2)], 1));
    let t = categorical(&d, "t");
    assert_eq!((labels(t), t.missing), (vec![("blue", 1), ("café", 1), ("red", 1)], 1));
    let late = numeric(&d, "late");
    assert_eq!((late.values.as_slice(), late.missing), ([7.0].as_slice(), 3));
}

#[test]
fn numbers_keep_their_json_text_when_the_column_is_categorical() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "m.jsonl",
        "{\"x\": 1.50}\n{\"x\": 2}\n{\"x\": \"1.50\"}\n{\"x\": \"n/a\"}\n{\"x\": 1.50}\n{\"x\": \"NaN\"}\n",
    );
    let d = load_ok(&path, &LoadOptions::default());
    let x = categorical(&d, "x");
    assert_eq!(labels(x), [("1.50", 3), ("2", 1), ("n/a", 1)]);
    assert_eq!(x.missing, 1);
    let d = load_ok(&path, &forced(&["x"]));
    assert_eq!(labels(categorical(&d, "x")), [("1.50", 3), ("2", 1), ("n/a", 1)]);

    let path = write(&dir, "f.jsonl", "{\"k\": 1.0, \"y\": 1}\n{\"k\": 1, \"y\": 2}\n{\"k\": null, \"y\": 3}\n");
    let d = load_ok(&path, &forced(&["k"]));
    let k = categorical(&d, "k");
    assert_eq!((labels(k), k.missing), (vec![("1", 1), ("1.0", 1)], 1));
    assert_eq!(numeric(&d, "y").values, [1.0, 2.0, 3.0]);
}

#[test]
fn projection_and_missing_keys() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "p.jsonl", "{\"a\": 1, \"b\": {\"nested\": 1}}\n{\"c\": \"x\", \"a\": 2}\n");
    // Unselected fields are not read, so their nested values are no error.
    let d = load_ok(&path, &with_columns(&["c", "a"]));
    assert_eq!(names(&d), ["a", "c"]);
    assert_eq!(numeric(&d, "a").values, [1.0, 2.0]);
    assert_eq!(categorical(&d, "c").missing, 1);
    let message = load_err(&path, &with_columns(&["a", "zz"]));
    assert!(message.ends_with("p.jsonl: column not found in the file: \"zz\""), "{message}");
}

#[test]
fn nested_values_name_line_and_field() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "n.jsonl", "{\"age\": 1}\n\n{\"age\": [1, 2]}\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("n.jsonl: line 3, field \"age\": nested arrays are not supported"));
    let path = write(&dir, "o.jsonl", "{\"x\": 1, \"meta\": {\"a\": 1}}\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("o.jsonl: line 1, field \"meta\": nested objects are not supported"));
}

#[test]
fn bad_json_names_the_line() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "bad.jsonl", "{\"a\": 1}\n{\"a\": 2,}\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("bad.jsonl: line 2, column 9: invalid JSON: "), "{message}");
    let path = write(&dir, "trunc.jsonl", "{\"a\": 1}\n{\"a\": \n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("trunc.jsonl: line 2, column "), "{message}");
    let path = write(&dir, "utf8.jsonl", b"{\"a\": \"ok\"}\n{\"a\": \"\xff\"}\n".as_slice());
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("utf8.jsonl: line 2, column "), "{message}");
}

#[test]
fn lines_that_are_not_objects_and_repeated_keys() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "arr.jsonl", "{\"a\": 1}\n[1, 2]\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("arr.jsonl: line 2: expected a JSON object, found an array"));
    let path = write(&dir, "num.jsonl", "42\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("num.jsonl: line 1: expected a JSON object, found a number"));
    let path = write(&dir, "dup.jsonl", "{\"a\": 1, \"b\": 2, \"a\": 3}\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("dup.jsonl: line 1, field \"a\": the key appears more than once"));
}

#[test]
fn empty_and_keyless_files_are_errors() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "e.jsonl", "");
    assert!(load_err(&path, &LoadOptions::default()).ends_with("e.jsonl: the file is empty"));
    let path = write(&dir, "blank.ndjson", "\n  \n");
    assert!(load_err(&path, &LoadOptions::default()).ends_with("blank.ndjson: the file is empty"));
    let path = write(&dir, "keyless.jsonl", "{}\n{}\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("keyless.jsonl: the file has no columns"), "{message}");
}

#[test]
fn late_text_after_many_numbers_recounts_every_number() {
    let dir = TempDir::new().unwrap();
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!("{{\"v\": {}.5}}\n", i % 4));
    }
    text.push_str("{\"v\": true}\n{}\n");
    let path = write(&dir, "late.jsonl", text);
    let d = load_ok(&path, &LoadOptions::default());
    let v = categorical(&d, "v");
    assert_eq!(labels(v), [("0.5", 500), ("1.5", 500), ("2.5", 500), ("3.5", 500), ("true", 1)]);
    assert_eq!(v.missing, 1);
}
