//! Arrow arrays → column builders, shared by the Parquet and Arrow IPC readers.
//!
//! Inputs: the record batches' arrays of one column, in file order. Output: [`ColumnData`].
//! Type mapping as stated on [`super::Dataset`] ([`is_numeric_type`]); `Null` is all missing;
//! nested and other types are rejected up front by [`check_type`]. Dictionary-encoded strings
//! are counted by key: once categorical, a batch bumps one counter per dictionary index and
//! labels are looked up once per distinct index; while still numeric, each dictionary value is
//! classified once (per dictionary) and rows are mapped through that table, in file order.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, Float64Array, PrimitiveArray, RecordBatch};
use arrow_schema::DataType;

use super::builder::{push_value, ColumnBuilder};
use super::{ColumnData, DatasetError};
use crate::typing::{classify, Cell};

/// Whether a column of this type can be read.
pub(crate) fn check_type(data_type: &DataType) -> bool {
    use DataType::*;
    match data_type {
        Null | Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) | Date32 | Date64 | Time32(_)
        | Time64(_) | Timestamp(..) | Duration(_) | Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView
        | FixedSizeBinary(_) => true,
        Dictionary(_, value) => !matches!(**value, Dictionary(..)) && check_type(value),
        _ => false,
    }
}

/// Whether columns of this type are numeric unless forced categorical.
pub(crate) fn is_numeric_type(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Int8 | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
            | Decimal32(..)
            | Decimal64(..)
            | Decimal128(..)
            | Decimal256(..)
            | Date32
            | Date64
            | Time32(_)
            | Time64(_)
            | Timestamp(..)
            | Duration(_)
    )
}

/// Whether a column of this type may keep one `f64` per row (numeric, or text that may parse
/// as numbers); booleans and all-null columns only keep counts.
pub(crate) fn holds_values(data_type: &DataType) -> bool {
    !matches!(data_type, DataType::Null | DataType::Boolean)
}

/// Whether a column of this type is text or bytes (its labels are kept when categorical).
pub(crate) fn is_text_type(data_type: &DataType) -> bool {
    use DataType::*;
    match data_type {
        Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => true,
        Dictionary(_, value) => is_text_type(value),
        _ => false,
    }
}

fn is_string(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Integer native types, converted to `f64` for numeric columns and to decimal text
/// (through `i128`, which holds every width) for forced-categorical ones.
trait Integer: Copy {
    fn to_f64(self) -> f64;
    fn to_i128(self) -> i128;
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl Integer for $t {
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline]
            fn to_i128(self) -> i128 { self as i128 }
        }
    )*};
}
integer!(i8, i16, i32, i64, u8, u16, u32, u64);

/// How a dictionary value reads under the text rule.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Missing,
    Finite(f64),
    NonFinite,
    Text,
}

/// The current dictionary of a dictionary-encoded column.
struct Dict {
    values: ArrayRef,
    /// Per value, filled the first time the column needs it while numeric.
    classes: Option<Vec<Class>>,
    /// Per value, rows counted while categorical and not yet given to the builder.
    counts: Vec<u64>,
}

/// One column being read from record batches.
pub(crate) struct ArrowColumn {
    builder: ColumnBuilder,
    dict: Option<Dict>,
}

impl ArrowColumn {
    pub(crate) fn new(force_categorical: bool) -> Self {
        ArrowColumn { builder: ColumnBuilder::new(force_categorical), dict: None }
    }

    /// Reserves room for `rows` values if the column is numeric.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.builder.reserve(rows);
    }

    /// Rows before the flip to categorical that must be re-read; see `builder.rs`.
    pub(crate) fn fixup_rows(&self) -> u64 {
        self.builder.fixup_rows()
    }

    /// Adds the labels of a re-read of rows `0..fixup_rows` (a forced-categorical column).
    pub(crate) fn merge_fixup(&mut self, mut fixup: ArrowColumn) {
        fixup.flush();
        self.builder.merge_fixup(fixup.builder);
    }

    pub(crate) fn finish(mut self) -> ColumnData {
        self.flush();
        self.builder.finish()
    }

    /// Appends the cells of one array. The error is a message without the column name.
    pub(crate) fn push(&mut self, array: &dyn Array) -> Result<(), String> {
        use DataType::*;
        let cast = |to: &DataType| arrow_cast::cast(array, to).map_err(|e| e.to_string());
        match array.data_type() {
            Null => self.builder.push_missing(array.len() as u64),
            Boolean => {
                let bools = array.as_boolean();
                let trues = bools.true_count() as u64;
                let falses = bools.false_count() as u64;
                self.builder.push_missing(bools.null_count() as u64);
                self.builder.push_label_n("false", falses);
                self.builder.push_label_n("true", trues);
            }
            Float64 => self.push_f64s(array.as_primitive::<Float64Type>()),
            Float32 => {
                for v in array.as_primitive::<Float32Type>() {
                    match v {
                        Some(v) => self.builder.push_f32(v),
                        None => self.builder.push_missing(1),
                    }
                }
            }
            Float16 => {
                for v in array.as_primitive::<Float16Type>() {
                    match v {
                        Some(v) => self.builder.push_f32(v.to_f32()),
                        None => self.builder.push_missing(1),
                    }
                }
            }
            Int8 => self.push_ints(array.as_primitive::<Int8Type>()),
            Int16 => self.push_ints(array.as_primitive::<Int16Type>()),
            Int32 => self.push_ints(array.as_primitive::<Int32Type>()),
            Int64 => self.push_ints(array.as_primitive::<Int64Type>()),
            UInt8 => self.push_ints(array.as_primitive::<UInt8Type>()),
            UInt16 => self.push_ints(array.as_primitive::<UInt16Type>()),
            UInt32 => self.push_ints(array.as_primitive::<UInt32Type>()),
            UInt64 => self.push_ints(array.as_primitive::<UInt64Type>()),
            Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
                if self.builder.is_numeric() {
                    self.push_f64s(cast(&Float64)?.as_primitive::<Float64Type>());
                } else {
                    // Decimal text keeps the scale: `1.50` for 150 at scale 2.
                    self.push_strs(cast(&Utf8)?.as_string::<i32>().iter());
                }
            }
            Date32 | Time32(_) => self.push_ints(cast(&Int32)?.as_primitive::<Int32Type>()),
            Date64 | Time64(_) | Timestamp(..) | Duration(_) => {
                self.push_ints(cast(&Int64)?.as_primitive::<Int64Type>())
            }
            Utf8 => self.push_strs(array.as_string::<i32>().iter()),
            LargeUtf8 => self.push_strs(array.as_string::<i64>().iter()),
            Utf8View => self.push_strs(array.as_string_view().iter()),
            Binary | BinaryView | FixedSizeBinary(_) => self.push_strs(cast(&Utf8)?.as_string::<i32>().iter()),
            LargeBinary => self.push_strs(cast(&LargeUtf8)?.as_string::<i64>().iter()),
            Dictionary(_, value) if is_string(value) => {
                if let Some(dict) = array.as_any_dictionary_opt() {
                    self.push_dictionary(dict.keys(), dict.values(), || dict.normalized_keys());
                }
            }
            Dictionary(_, value) => self.push(cast(value)?.as_ref())?,
            other => return Err(format!("type {other} is not supported")),
        }
        Ok(())
    }

    fn push_strs<'a>(&mut self, values: impl Iterator<Item = Option<&'a str>>) {
        for v in values {
            match v {
                Some(text) => self.builder.push_text(text),
                None => self.builder.push_missing(1),
            }
        }
    }

    fn push_f64s(&mut self, array: &Float64Array) {
        let values = array.values();
        if let Some(num) = self.builder.numeric_mut() {
            match array.nulls().filter(|n| n.null_count() > 0) {
                None if values.iter().fold(true, |ok, v| ok & v.is_finite()) => num.values.extend_from_slice(values),
                None => values.iter().for_each(|&v| push_value(num, v)),
                Some(nulls) => {
                    for (i, &v) in values.iter().enumerate() {
                        if nulls.is_valid(i) {
                            push_value(num, v);
                        } else {
                            num.missing += 1;
                        }
                    }
                }
            }
            self.builder.add_rows(values.len() as u64);
        } else {
            for v in array {
                match v {
                    Some(v) => self.builder.push_f64(v),
                    None => self.builder.push_missing(1),
                }
            }
        }
    }

    fn push_ints<T>(&mut self, array: &PrimitiveArray<T>)
    where
        T: ArrowPrimitiveType,
        T::Native: Integer,
    {
        if let Some(num) = self.builder.numeric_mut() {
            match array.nulls().filter(|n| n.null_count() > 0) {
                None => num.values.extend(array.values().iter().map(|v| v.to_f64())),
                Some(nulls) => {
                    for (i, v) in array.values().iter().enumerate() {
                        if nulls.is_valid(i) {
                            num.values.push(v.to_f64());
                        } else {
                            num.missing += 1;
                        }
                    }
                }
            }
            self.builder.add_rows(array.len() as u64);
        } else {
            for v in array {
                match v {
                    Some(v) => self.builder.push_int(v.to_i128()),
                    None => self.builder.push_missing(1),
                }
            }
        }
    }

    /// A dictionary-encoded string array: `keys` (with the nulls), the dictionary `values`,
    /// and `normalized` giving every key as an index into `values`.
    fn push_dictionary(&mut self, keys: &dyn Array, values: &ArrayRef, normalized: impl FnOnce() -> Vec<usize>) {
        let rows = keys.len();
        if values.is_empty() {
            // Only null keys can point into an empty dictionary.
            self.builder.push_missing(rows as u64);
            return;
        }
        if !self.dict.as_ref().is_some_and(|d| Arc::ptr_eq(&d.values, values)) {
            self.flush();
            self.dict = Some(Dict { values: Arc::clone(values), classes: None, counts: vec![0; values.len()] });
        }
        let Some(dict) = self.dict.as_mut() else { return };
        let keys_nulls = keys.logical_nulls().filter(|n| n.null_count() > 0);
        let valid = |i: usize| keys_nulls.as_ref().is_none_or(|n| n.is_valid(i));
        let indices = normalized();

        if let Some(num) = self.builder.numeric_mut() {
            let classes = dict.classes.get_or_insert_with(|| classify_values(&dict.values));
            let has_text = indices.iter().enumerate().any(|(i, &k)| valid(i) && classes.get(k) == Some(&Class::Text));
            if !has_text {
                for (i, &k) in indices.iter().enumerate() {
                    match classes.get(k).filter(|_| valid(i)) {
                        Some(Class::Finite(v)) => num.values.push(*v),
                        Some(Class::NonFinite) => num.nonfinite += 1,
                        _ => num.missing += 1,
                    }
                }
                self.builder.add_rows(rows as u64);
                return;
            }
            self.builder.flip();
        }
        let mut nulls = 0u64;
        for (i, &k) in indices.iter().enumerate() {
            match dict.counts.get_mut(k).filter(|_| valid(i)) {
                Some(count) => *count += 1,
                None => nulls += 1,
            }
        }
        self.builder.push_missing(nulls);
    }

    /// Gives the pending per-key counts of the current dictionary to the builder.
    fn flush(&mut self) {
        let Some(dict) = self.dict.as_mut() else { return };
        for (i, count) in dict.counts.iter_mut().enumerate() {
            if *count > 0 {
                match str_value(dict.values.as_ref(), i) {
                    Some(label) => self.builder.push_text_n(label, *count),
                    None => self.builder.push_missing(*count),
                }
                *count = 0;
            }
        }
    }
}

fn classify_values(values: &ArrayRef) -> Vec<Class> {
    (0..values.len())
        .map(|i| match str_value(values.as_ref(), i).map(classify) {
            None | Some(Cell::Missing) => Class::Missing,
            Some(Cell::Number(v)) if v.is_finite() => Class::Finite(v),
            Some(Cell::Number(_)) => Class::NonFinite,
            Some(Cell::Text) => Class::Text,
        })
        .collect()
}

/// Value `i` of a string array of any layout; `None` when null (or not a string array).
fn str_value(values: &dyn Array, i: usize) -> Option<&str> {
    if i >= values.len() || values.is_null(i) {
        return None;
    }
    match values.data_type() {
        DataType::Utf8 => Some(values.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(values.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(values.as_string_view().value(i)),
        _ => None,
    }
}

/// Appends a record batch's arrays to `columns` (array k to column k), each column cut at its
/// row limit (`limit[k]` rows; `row` is the batch's first row in the file). `place` ("row group
/// 3: ", "record batch 7: ") starts the message of a column that cannot take its array.
pub(crate) fn push_batch(
    columns: &mut [ArrowColumn],
    batch: &RecordBatch,
    row: u64,
    limit: Option<&[u64]>,
    path: &std::path::Path,
    place: &str,
) -> Result<(), DatasetError> {
    for (k, (column, array)) in columns.iter_mut().zip(batch.columns()).enumerate() {
        let array = match limit {
            Some(l) if row >= l[k] => continue,
            Some(l) if row + array.len() as u64 > l[k] => array.slice(0, (l[k] - row) as usize),
            _ => Arc::clone(array),
        };
        column.push(array.as_ref()).map_err(|message| DatasetError::BadColumn {
            path: path.to_path_buf(),
            column: batch.schema().field(k).name().clone(),
            message: format!("{place}{message}"),
        })?;
    }
    Ok(())
}

/// The file's column names and the indices of the selected ones (`--columns`), each of a type
/// driftd reads (else the error names the column and its Arrow type).
pub(crate) fn select_typed(
    path: &std::path::Path,
    schema: &arrow_schema::Schema,
    options: &super::LoadOptions,
) -> Result<(Vec<String>, Vec<usize>), DatasetError> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let selected = super::select(path, &names, options)?;
    for &i in &selected {
        let field = schema.field(i);
        if !check_type(field.data_type()) {
            return Err(DatasetError::UnsupportedType {
                path: path.to_path_buf(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
            });
        }
    }
    Ok((names, selected))
}
