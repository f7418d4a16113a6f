//! CSV input: typing rule, NaN/inf tokens, quoting, UTF-8, options and every error.

use indicatif::ProgressBar;
use tempfile::TempDir;

use super::*;

#[test]
fn typing_rule_numbers_text_and_missing() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "t.csv",
        "num,mixed,empty,text\n\
         1.5,1.50,,a\n\
         -2e3,x,,b\n\
         .5,1.50,,a\n\
         \" +3 \",2,,\n\
         1.,,,c\n",
    );
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(d.rows, 5);
    assert_eq!(d.format, Format::Csv);
    assert_eq!(names(&d), ["num", "mixed", "empty", "text"]);
    let num = numeric(&d, "num");
    assert_eq!(num.values, [1.5, -2000.0, 0.5, 3.0, 1.0]);
    assert_eq!((num.missing, num.nonfinite), (0, 0));
    // Numbers before the first text keep their original text ("1.50", not "1.5").
    let mixed = categorical(&d, "mixed");
    assert_eq!(labels(mixed), [("1.50", 2), ("2", 1), ("x", 1)]);
    assert_eq!(mixed.missing, 1);
    // A column with no present value is (vacuously) numeric.
    assert_eq!(*numeric(&d, "empty"), NumericValues { values: vec![], missing: 5, nonfinite: 0 });
    let text = categorical(&d, "text");
    assert_eq!(labels(text), [("a", 2), ("b", 1), ("c", 1)]);
    assert_eq!(text.missing, 1);
}

#[test]
fn nan_and_inf_tokens() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "tokens.csv",
        "x,label\n\
         NaN,NaN\n\
         nan,nan\n\
         \" NaN \",inf\n\
         inf,-inf\n\
         -inf,Infinity\n\
         Infinity,word\n\
         -Infinity,-Infinity\n\
         infinity,\n\
         1e400,1e400\n\
         2.5,2.5\n",
    );
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(d.rows, 10);
    let x = numeric(&d, "x");
    assert_eq!(x.values, [2.5]);
    assert_eq!(x.missing, 3, "NaN, nan and ' NaN ' are missing");
    // inf, -inf, Infinity, -Infinity, infinity and 1e400 (overflows to inf) are non-finite.
    assert_eq!(x.nonfinite, 6);
    // In a categorical column NaN tokens are still missing; inf tokens are labels.
    let label = categorical(&d, "label");
    assert_eq!(
        labels(label),
        [("-Infinity", 1), ("-inf", 1), ("1e400", 1), ("2.5", 1), ("Infinity", 1), ("inf", 1), ("word", 1)]
    );
    assert_eq!(label.missing, 3);
}

#[test]
fn quoting_and_utf8_labels_are_byte_exact() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "q.csv",
        "\"city, country\",note\r\n\
         \"Zürich, CH\",\"said \"\"hi\"\"\"\r\n\
         東京,\"two\nlines\"\r\n\
         \" padded \",plain\r\n\
         \"Zürich, CH\",\"\"\r\n\
         apple,plain\r\n",
    );
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(d.rows, 5);
    assert_eq!(names(&d), ["city, country", "note"]);
    // Sorted by bytes: ' ' < 'Z' < 'a' < UTF-8 lead bytes of 東.
    assert_eq!(
        labels(categorical(&d, "city, country")),
        [(" padded ", 1), ("Zürich, CH", 2), ("apple", 1), ("東京", 1)]
    );
    let note = categorical(&d, "note");
    assert_eq!(labels(note), [("plain", 2), ("said \"hi\"", 1), ("two\nlines", 1)]);
    assert_eq!(note.missing, 1, "a quoted empty field is missing");
}

#[test]
fn bom_crlf_and_blank_lines() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "bom.csv", "\u{feff}a,b\r\n1,x\r\n\r\n2,y\r\n");
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(names(&d), ["a", "b"]);
    assert_eq!(d.rows, 2);
    assert_eq!(numeric(&d, "a").values, [1.0, 2.0]);
    assert_eq!(labels(categorical(&d, "b")), [("x", 1), ("y", 1)]);
}

#[test]
fn late_text_after_many_numbers_recounts_every_number() {
    let dir = TempDir::new().unwrap();
    let mut text = String::from("v,w\n");
    for i in 0..3000 {
        text.push_str(&format!("{}.0,{}\n", i % 7, i % 3));
    }
    text.push_str("seven,1\n,2\nNaN,3\n");
    let path = write(&dir, "late.csv", text);
    let d = load_ok(&path, &LoadOptions::default());
    assert_eq!(d.rows, 3003);
    let v = categorical(&d, "v");
    assert_eq!(v.missing, 2);
    let mut expected: Vec<(String, u64)> =
        (0..7).map(|k| (format!("{k}.0"), (0..3000).filter(|i| i % 7 == k).count() as u64)).collect();
    expected.push(("seven".to_string(), 1));
    assert_eq!(v.counts, expected);
    let w = numeric(&d, "w");
    assert_eq!(w.values.len(), 3003);
    assert_eq!(w.values[3000..], [1.0, 2.0, 3.0]);
}

#[test]
fn force_categorical_keeps_original_text() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "f.csv", "code,x\n01,1\n1,2\n1.0,3\nNaN,4\n,5\n01,6\n");
    let d = load_ok(&path, &forced(&["code"]));
    let code = categorical(&d, "code");
    assert_eq!(labels(code), [("01", 2), ("1", 1), ("1.0", 1)]);
    assert_eq!(code.missing, 2);
    assert_eq!(numeric(&d, "x").values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn projection_reads_only_the_named_columns_in_file_order() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "p.csv", "a,b,c\n1,x,3\n4,y,6\n");
    let d = load_ok(&path, &with_columns(&["c", "a", "c"]));
    assert_eq!(names(&d), ["a", "c"]);
    assert_eq!(numeric(&d, "c").values, [3.0, 6.0]);
    let message = load_err(&path, &with_columns(&["a", "zz", "yy"]));
    assert!(message.contains("p.csv: columns not found in the file: \"zz\", \"yy\""), "{message}");
    let message = load_err(&path, &with_columns(&["q"]));
    assert!(message.contains("column not found in the file: \"q\""), "{message}");
}

#[test]
fn ragged_row_names_line_and_field_counts() {
    let dir = TempDir::new().unwrap();
    // The quoted field spans lines 3-4, so the short row starts on line 5.
    let path = write(&dir, "ragged.csv", "a,b,c\n1,2,3\n4,\"five\nfive\",6\n7,8\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("ragged.csv: line 5: expected 3 fields (as in the header), found 2"), "{message}");
    let path = write(&dir, "long.csv", "a,b\n1,2,3\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("long.csv: line 2: expected 2 fields (as in the header), found 3"));
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "bad.csv", b"id,name\n1,ok\n2,\"multi\nline \xff\"\n".as_slice());
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("bad.csv: line 4, column \"name\": invalid UTF-8"), "{message}");
    let path = write(&dir, "badhead.csv", b"id,n\xe9\n1,2\n".as_slice());
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("badhead.csv: line 1: the header is not valid UTF-8"), "{message}");
}

#[test]
fn empty_header_only_and_duplicate_columns_are_errors() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "empty.csv", "");
    assert!(load_err(&path, &LoadOptions::default()).ends_with("empty.csv: the file is empty"));
    let path = write(&dir, "blank.csv", "\n\n");
    assert!(load_err(&path, &LoadOptions::default()).ends_with("blank.csv: the file is empty"));
    let path = write(&dir, "head.csv", "a,b\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("head.csv: the file has a header but no data rows"), "{message}");
    let path = write(&dir, "dup.csv", "a,b,a\n1,2,3\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("dup.csv: duplicate column name \"a\""), "{message}");
    // Reading only the other column is unambiguous.
    let d = load_ok(&path, &with_columns(&["b"]));
    assert_eq!(numeric(&d, "b").values, [2.0]);
}

#[test]
fn progress_bar_reaches_the_file_size() {
    let dir = TempDir::new().unwrap();
    let body = "a,b\n".to_string() + &"1,2\n".repeat(50_000);
    let path = write(&dir, "big.csv", &body);
    let bar = ProgressBar::hidden();
    let options = LoadOptions { progress: Some(bar.clone()), ..LoadOptions::default() };
    let d = load_ok(&path, &options);
    assert_eq!(d.rows, 50_000);
    assert_eq!(bar.length(), Some(body.len() as u64));
    assert_eq!(bar.position(), body.len() as u64);
}
