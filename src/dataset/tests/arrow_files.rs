//! Parquet and Arrow IPC input, files written with the arrow / parquet writers.

use std::fs::File;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float32Array, Float64Array, Int64Array,
    ListArray, RecordBatch, StringArray, UInt8Array,
};
use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
use arrow_ipc::CompressionType;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

use super::*;

/// Six rows covering every supported kind of column; expected values are in `check_typed`.
fn typed_batch() -> RecordBatch {
    let inf = f64::INFINITY;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("f", Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), Some(inf), None, Some(-inf), Some(2.0)]))),
        ("i", Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4), Some(5), Some(-6)]))),
        ("u", Arc::new(UInt8Array::from(vec![1, 2, 3, 4, 5, 6]))),
        (
            "flag",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None, Some(true), Some(true), Some(false)])),
        ),
        (
            "numtext",
            Arc::new(StringArray::from(vec![Some("1.5"), Some("NaN"), Some(""), None, Some(" 2 "), Some("inf")])),
        ),
        ("text", Arc::new(StringArray::from(vec![Some("b"), Some("a"), Some("NaN"), None, Some("a"), Some("1")]))),
        (
            "dict",
            Arc::new(DictionaryArray::<Int32Type>::from_iter([
                Some("x"),
                Some("y"),
                Some("x"),
                None,
                Some("z"),
                Some("x"),
            ])),
        ),
        (
            "dictnum",
            Arc::new(DictionaryArray::<Int32Type>::from_iter([
                Some("1.5"),
                Some("2.5"),
                Some("1.5"),
                Some("NaN"),
                Some("1.5"),
                None,
            ])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![Some(150), Some(-25), None, Some(0), Some(100), Some(1)])
                    .with_precision_and_scale(5, 2)
                    .unwrap(),
            ),
        ),
        ("day", Arc::new(Date32Array::from(vec![Some(0), Some(1), Some(19000), None, Some(-1), Some(2)]))),
        ("f32", Arc::new(Float32Array::from(vec![0.1f32, 0.1, 2.5, f32::NAN, 0.1, 1e10]))),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

fn check_typed(d: &Dataset) {
    assert_eq!(d.rows, 6);
    assert_eq!(names(d), ["f", "i", "u", "flag", "numtext", "text", "dict", "dictnum", "dec", "day", "f32"]);
    let f = numeric(d, "f");
    assert_eq!((f.values.as_slice(), f.missing, f.nonfinite), ([1.5, 2.0].as_slice(), 2, 2));
    let i = numeric(d, "i");
    assert_eq!((i.values.as_slice(), i.missing), ([1.0, 3.0, 4.0, 5.0, -6.0].as_slice(), 1));
    assert_eq!(numeric(d, "u").values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let flag = categorical(d, "flag");
    assert_eq!((labels(flag), flag.missing), (vec![("false", 2), ("true", 3)], 1));
    let numtext = numeric(d, "numtext");
    assert_eq!((numtext.values.as_slice(), numtext.missing, numtext.nonfinite), ([1.5, 2.0].as_slice(), 3, 1));
    let text = categorical(d, "text");
    assert_eq!((labels(text), text.missing), (vec![("1", 1), ("a", 2), ("b", 1)], 2));
    let dict = categorical(d, "dict");
    assert_eq!((labels(dict), dict.missing), (vec![("x", 3), ("y", 1), ("z", 1)], 1));
    let dictnum = numeric(d, "dictnum");
    assert_eq!((dictnum.values.as_slice(), dictnum.missing), ([1.5, 2.5, 1.5, 1.5].as_slice(), 2));
    let dec = numeric(d, "dec");
    assert_eq!((dec.values.as_slice(), dec.missing), ([1.5, -0.25, 0.0, 1.0, 0.01].as_slice(), 1));
    // Dates are numeric days since the epoch.
    let day = numeric(d, "day");
    assert_eq!((day.values.as_slice(), day.missing), ([0.0, 1.0, 19000.0, -1.0, 2.0].as_slice(), 1));
    let f32s = numeric(d, "f32");
    assert_eq!(f32s.values, [f64::from(0.1f32), f64::from(0.1f32), 2.5, f64::from(0.1f32), 1e10]);
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch, props: WriterProperties) {
    let file = File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// Row groups of two rows, so dictionaries and flips cross row-group boundaries.
fn small_groups(dictionary: bool) -> WriterProperties {
    WriterProperties::builder().set_max_row_group_row_count(Some(2)).set_dictionary_enabled(dictionary).build()
}

fn write_ipc_file(path: &std::path::Path, batch: &RecordBatch, options: IpcWriteOptions) {
    let file = File::create(path).unwrap();
    let mut writer = FileWriter::try_new_with_options(file, &batch.schema(), options).unwrap();
    let mid = batch.num_rows() * 2 / 3;
    writer.write(&batch.slice(0, mid)).unwrap();
    writer.write(&batch.slice(mid, batch.num_rows() - mid)).unwrap();
    writer.finish().unwrap();
}

fn write_ipc_stream(path: &std::path::Path, batch: &RecordBatch) {
    let file = File::create(path).unwrap();
    let mut writer = StreamWriter::try_new(file, &batch.schema()).unwrap();
    writer.write(&batch.slice(0, 3)).unwrap();
    writer.write(&batch.slice(3, 3)).unwrap();
    writer.finish().unwrap();
}

#[test]
fn parquet_typed_columns_with_and_without_dictionaries() {
    let dir = TempDir::new().unwrap();
    for dictionary in [true, false] {
        let path = dir.path().join(format!("typed-{dictionary}.parquet"));
        write_parquet(&path, &typed_batch(), small_groups(dictionary));
        for threads in [1, 2, 5] {
            let d = load_ok(&path, &LoadOptions { threads, ..LoadOptions::default() });
            assert_eq!(d.format, Format::Parquet);
            check_typed(&d);
        }
    }
}

#[test]
fn arrow_ipc_file_stream_and_compressed() {
    let dir = TempDir::new().unwrap();
    let batch = typed_batch();
    let plain = dir.path().join("typed.arrow");
    write_ipc_file(&plain, &batch, IpcWriteOptions::default());
    let lz4 = dir.path().join("typed.feather");
    let options = IpcWriteOptions::default().try_with_compression(Some(CompressionType::LZ4_FRAME)).unwrap();
    write_ipc_file(&lz4, &batch, options);
    let zstd = dir.path().join("typed.ipc");
    let options = IpcWriteOptions::default().try_with_compression(Some(CompressionType::ZSTD)).unwrap();
    write_ipc_file(&zstd, &batch, options);
    // The stream format is recognised by its first bytes, whatever the extension.
    let stream = dir.path().join("typed-stream.arrow");
    write_ipc_stream(&stream, &batch);
    let arrows = dir.path().join("typed.arrows");
    write_ipc_stream(&arrows, &batch);
    for path in [plain, lz4, zstd, stream, arrows] {
        let d = load_ok(&path, &LoadOptions::default());
        assert_eq!(d.format, Format::ArrowIpc);
        check_typed(&d);
    }
}

#[test]
fn force_categorical_renders_typed_values() {
    let dir = TempDir::new().unwrap();
    let parquet = dir.path().join("f.parquet");
    write_parquet(&parquet, &typed_batch(), small_groups(true));
    let ipc = dir.path().join("f.arrow");
    write_ipc_file(&ipc, &typed_batch(), IpcWriteOptions::default());
    for path in [parquet, ipc] {
        let d = load_ok(&path, &forced(&["f", "i", "dec", "f32", "day", "numtext", "dictnum"]));
        let f = categorical(&d, "f");
        assert_eq!((labels(f), f.missing), (vec![("-inf", 1), ("1.5", 1), ("2.0", 1), ("inf", 1)], 2));
        let i = categorical(&d, "i");
        assert_eq!(labels(i), [("-6", 1), ("1", 1), ("3", 1), ("4", 1), ("5", 1)]);
        let dec = categorical(&d, "dec");
        assert_eq!(labels(dec), [("-0.25", 1), ("0.00", 1), ("0.01", 1), ("1.00", 1), ("1.50", 1)]);
        // f32 values keep f32's shortest form.
        let f32s = categorical(&d, "f32");
        assert_eq!((labels(f32s), f32s.missing), (vec![("0.1", 3), ("10000000000.0", 1), ("2.5", 1)], 1));
        assert_eq!(labels(categorical(&d, "day")), [("-1", 1), ("0", 1), ("1", 1), ("19000", 1), ("2", 1)]);
        let numtext = categorical(&d, "numtext");
        assert_eq!((labels(numtext), numtext.missing), (vec![(" 2 ", 1), ("1.5", 1), ("inf", 1)], 3));
        let dictnum = categorical(&d, "dictnum");
        assert_eq!((labels(dictnum), dictnum.missing), (vec![("1.5", 3), ("2.5", 1)], 2));
        assert_eq!(numeric(&d, "u").values.len(), 6);
    }
}

#[test]
fn string_columns_flipping_after_numbers_keep_the_numbers_text() {
    let dir = TempDir::new().unwrap();
    let values = ["1.50", "2", "1.50", "x", "3", "1.50", "NaN"];
    let batch = RecordBatch::try_from_iter([
        ("s", Arc::new(StringArray::from(values.to_vec())) as ArrayRef),
        ("d", Arc::new(values.iter().copied().collect::<DictionaryArray<Int32Type>>()) as ArrayRef),
    ])
    .unwrap();
    let mut paths = Vec::new();
    for dictionary in [true, false] {
        let path = dir.path().join(format!("flip-{dictionary}.parquet"));
        write_parquet(&path, &batch, small_groups(dictionary));
        paths.push(path);
    }
    let ipc = dir.path().join("flip.arrow");
    write_ipc_file(&ipc, &batch.slice(0, 6), IpcWriteOptions::default());
    for path in &paths {
        let d = load_ok(path, &LoadOptions::default());
        for name in ["s", "d"] {
            let c = categorical(&d, name);
            assert_eq!((labels(c), c.missing), (vec![("1.50", 3), ("2", 1), ("3", 1), ("x", 1)], 1), "{name}");
        }
    }
    let d = load_ok(&ipc, &LoadOptions::default());
    assert_eq!(labels(categorical(&d, "s")), [("1.50", 3), ("2", 1), ("3", 1), ("x", 1)]);
}

#[test]
fn projection_and_nested_columns() {
    let dir = TempDir::new().unwrap();
    let tags = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)]), None]);
    let batch = RecordBatch::try_from_iter([
        ("a", Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef),
        ("tags", Arc::new(tags) as ArrayRef),
        ("b", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
    ])
    .unwrap();
    let parquet = dir.path().join("nested.parquet");
    write_parquet(&parquet, &batch, WriterProperties::default());
    let ipc = dir.path().join("nested.arrow");
    write_ipc_file(&ipc, &batch.slice(0, 2), IpcWriteOptions::default());
    for path in [parquet, ipc] {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let message = load_err(&path, &LoadOptions::default());
        assert!(message.contains(&format!("{name}: column \"tags\": type List(")), "{message}");
        assert!(message.ends_with("is not supported"), "{message}");
        let d = load_ok(&path, &with_columns(&["b", "a"]));
        assert_eq!(names(&d), ["a", "b"]);
        assert_eq!(numeric(&d, "a").values, [1.0, 2.0]);
        assert_eq!(labels(categorical(&d, "b")), [("x", 1), ("y", 1)]);
        let message = load_err(&path, &with_columns(&["a", "nope"]));
        assert!(message.ends_with(&format!("{name}: column not found in the file: \"nope\"")));
    }
}

#[test]
fn not_parquet_not_arrow_empty_and_zero_rows() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "fake.parquet", "a,b\n1,2\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("fake.parquet: not a Parquet file (no PAR1 magic bytes)"), "{message}");
    let path = write(&dir, "empty.parquet", "");
    assert!(load_err(&path, &LoadOptions::default()).ends_with("empty.parquet: the file is empty"));
    let path = write(&dir, "torn.parquet", b"PAR1 this is not really parquet PAR1".as_slice());
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("torn.parquet: "), "{message}");
    let path = write(&dir, "fake.arrow", "a,b\n1,2\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.ends_with("fake.arrow: not an Arrow IPC file or stream"), "{message}");
    let path = write(&dir, "v1.feather", b"FEA1\0\0\0\0".as_slice());
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("v1.feather: not an Arrow IPC file or stream (this is Feather v1"));

    let batch =
        RecordBatch::try_from_iter([("a", Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef)]).unwrap();
    let path = dir.path().join("zero.parquet");
    write_parquet(&path, &batch, WriterProperties::default());
    assert!(load_err(&path, &LoadOptions::default()).ends_with("zero.parquet: the file has no data rows"));
    let path = dir.path().join("zero.arrow");
    write_ipc_file(&path, &batch, IpcWriteOptions::default());
    assert!(load_err(&path, &LoadOptions::default()).ends_with("zero.arrow: the file has no data rows"));
}

#[test]
fn parquet_progress_counts_compressed_bytes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("p.parquet");
    write_parquet(&path, &typed_batch(), small_groups(true));
    let bar = indicatif::ProgressBar::hidden();
    let options = LoadOptions { progress: Some(bar.clone()), ..LoadOptions::default() };
    load_ok(&path, &options);
    let length = bar.length().unwrap();
    assert!(length > 0);
    assert_eq!(bar.position(), length);
}

#[test]
fn layouts_come_from_metadata_with_the_loaders_selection() {
    let dir = TempDir::new().unwrap();
    let batch = typed_batch();
    let parquet = dir.path().join("t.parquet");
    write_parquet(&parquet, &batch, small_groups(true));
    let file = dir.path().join("t.arrow");
    write_ipc_file(&file, &batch, IpcWriteOptions::default());
    let stream = dir.path().join("t.arrows");
    write_ipc_stream(&stream, &batch);
    let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
    for path in [&parquet, &file, &stream] {
        let layout = crate::dataset::layout(path, &LoadOptions::default()).unwrap().unwrap();
        assert_eq!(layout.rows, Some(6), "{}", path.display());
        let got: Vec<&String> = layout.columns.iter().map(|c| &c.name).collect();
        assert_eq!(got, names.iter().collect::<Vec<_>>());
        let values: Vec<bool> = layout.columns.iter().map(|c| c.values).collect();
        assert_eq!(values, names.iter().map(|n| n != "flag").collect::<Vec<_>>(), "booleans only keep counts");
        // The selection is `load`'s: patterns, and the same error for a name not in the file.
        let some = crate::dataset::layout(path, &with_columns(&["f*"])).unwrap().unwrap();
        assert!(some.columns.iter().all(|c| c.name.starts_with('f')) && !some.columns.is_empty());
        let message = crate::dataset::layout(path, &with_columns(&["nope"])).unwrap_err().to_string();
        assert_eq!(message, load_err(path, &with_columns(&["nope"])));
    }
    let csv = write(&dir, "t.csv", "a\n1\n");
    assert!(crate::dataset::layout(&csv, &LoadOptions::default()).unwrap().is_none());
}
