//! An Avro value, read against its schema, as the JSON the [`Decoder`](crate::source::Decoder)
//! reads: records and maps are objects, unions their branch, enums their symbol, decimals
//! numbers, dates `YYYY-MM-DD` text, timestamps in the stream's event-time form. The schema
//! is walked beside the value only for what the value does not carry (a decimal's scale).

use std::collections::HashMap;

use apache_avro::schema::{Name, Schema};
use apache_avro::types::Value;
use serde_json::Value as Json;

use super::TimeRender;
use crate::source::time::format_time_ms;

/// The named types of a schema, owned (a `Ref` resolves through them).
pub(crate) type Names = HashMap<Name, Schema>;

/// The named types of `schema`, or why it is not a complete schema.
pub(crate) fn names_of(schema: &Schema) -> Result<Names, String> {
    let resolved = apache_avro::schema::ResolvedSchema::try_from(schema).map_err(|e| e.to_string())?;
    Ok(resolved.get_names().iter().map(|(name, schema)| (name.clone(), (*schema).clone())).collect())
}

/// `value`, read with `schema`, as JSON. An error names the path of the value that has no
/// JSON form (a decimal wider than 128 bits).
pub(crate) fn to_json(value: Value, schema: &Schema, names: &Names, time: TimeRender) -> Result<Json, String> {
    let schema = match schema {
        Schema::Ref { name } => names.get(name).ok_or_else(|| format!("unknown named type {name}"))?,
        other => other,
    };
    Ok(match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::Long(i) => Json::from(i),
        // NaN and the infinities have no JSON form: null, a missing value, as in JSON input.
        Value::Float(f) => number(f64::from(f)),
        Value::Double(f) => number(f),
        Value::String(s) | Value::Enum(_, s) => Json::String(s),
        Value::Uuid(u) => Json::String(u.to_string()),
        // Raw bytes are no feature value: an array, which the decoder reports as bad_features
        // if a feature points at it.
        Value::Bytes(b) | Value::Fixed(_, b) => Json::Array(b.into_iter().map(Json::from).collect()),
        Value::Union(index, inner) => {
            let branch = match schema {
                Schema::Union(union) => union.variants().get(index as usize).unwrap_or(schema),
                _ => schema,
            };
            to_json(*inner, branch, names, time)?
        }
        Value::Array(items) => {
            let item_schema = match schema {
                Schema::Array(array) => &array.items,
                _ => schema,
            };
            Json::Array(items.into_iter().map(|v| to_json(v, item_schema, names, time)).collect::<Result<_, _>>()?)
        }
        Value::Map(map) => {
            let value_schema = match schema {
                Schema::Map(m) => &m.types,
                _ => schema,
            };
            // Sorted keys: a HashMap's order would make the JSON text differ run to run.
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut object = serde_json::Map::with_capacity(entries.len());
            for (key, v) in entries {
                let json = to_json(v, value_schema, names, time).map_err(|e| format!("{key}: {e}"))?;
                object.insert(key, json);
            }
            Json::Object(object)
        }
        Value::Record(fields) => {
            let mut object = serde_json::Map::with_capacity(fields.len());
            for (name, v) in fields {
                let field_schema = match schema {
                    Schema::Record(record) => record.lookup.get(&name).map(|&i| &record.fields[i].schema),
                    _ => None,
                };
                let json = to_json(v, field_schema.unwrap_or(&Schema::Null), names, time)
                    .map_err(|e| format!("{name}: {e}"))?;
                object.insert(name, json);
            }
            Json::Object(object)
        }
        Value::Decimal(decimal) => {
            let scale = match schema {
                Schema::Decimal(d) => d.scale,
                _ => 0,
            };
            let bytes = Vec::<u8>::try_from(&decimal).map_err(|e| e.to_string())?;
            decimal_number(&bytes, scale)?
        }
        Value::BigDecimal(big) => big.to_string().parse::<f64>().map(number).map_err(|e| e.to_string())?,
        Value::Date(days) => Json::String(format_time_ms(i64::from(days) * 86_400_000)[..10].to_string()),
        Value::TimeMillis(ms) => Json::from(ms),
        Value::TimeMicros(us) => Json::from(us),
        Value::TimestampMillis(ms) | Value::LocalTimestampMillis(ms) => time.render(ms),
        Value::TimestampMicros(us) | Value::LocalTimestampMicros(us) => time.render(us.div_euclid(1000)),
        Value::TimestampNanos(ns) | Value::LocalTimestampNanos(ns) => time.render(ns.div_euclid(1_000_000)),
        Value::Duration(_) => return Err("an Avro duration has no single number".into()),
    })
}

fn number(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// A decimal's two's-complement big-endian unscaled bytes and scale as the nearest f64
/// (through its decimal text, so `42766.69` is the double JSON's `42766.69` is).
fn decimal_number(bytes: &[u8], scale: usize) -> Result<Json, String> {
    if bytes.len() > 16 {
        return Err(format!("a decimal of {} bytes is wider than 128 bits", bytes.len()));
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut full = [if negative { 0xff } else { 0 }; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    let unscaled = i128::from_be_bytes(full);
    let text = format!("{unscaled}e-{scale}");
    text.parse::<f64>().map(number).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: Value, schema: &str) -> Json {
        let schema = Schema::parse_str(schema).unwrap();
        to_json(value, &schema, &names_of(&schema).unwrap(), TimeRender::Rfc3339).unwrap()
    }

    #[test]
    fn decimals_are_the_numbers_their_text_is() {
        let schema = r#"{"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}"#;
        let value = |unscaled: i64| Value::Decimal(apache_avro::Decimal::from(unscaled.to_be_bytes().to_vec()));
        assert_eq!(json(value(4_276_669), schema), serde_json::json!(42766.69));
        assert_eq!(json(value(-5), schema), serde_json::json!(-0.05));
    }

    #[test]
    fn unions_enums_dates_and_timestamps() {
        let schema = r#"{"type": "record", "name": "E", "fields": [
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "region", "type": {"type": "enum", "name": "R", "symbols": ["north", "west"]}},
            {"name": "age", "type": ["null", "int"]}]}"#;
        let value = Value::Record(vec![
            ("ts".into(), Value::TimestampMillis(1_793_491_200_723)),
            ("day".into(), Value::Date(20_758)),
            ("region".into(), Value::Enum(1, "west".into())),
            ("age".into(), Value::Union(0, Box::new(Value::Null))),
        ]);
        assert_eq!(
            json(value, schema),
            serde_json::json!({"ts": "2026-11-01T00:00:00.723Z", "day": "2026-11-01", "region": "west", "age": null})
        );
    }
}
