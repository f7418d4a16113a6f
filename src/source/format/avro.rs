//! Avro messages: bare datums of a local `.avsc`, or Confluent-framed datums whose writer
//! schema comes from the registry by id, resolved against the reader schema — the local file,
//! else the subject's latest version (looked up again whenever an unseen id appears). The
//! datum is read by `apache-avro`; `avro_json.rs` maps the value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apache_avro::schema::Schema;
use serde_json::Value as Json;

use super::avro_json::{names_of, to_json, Names};
use super::registry::{split_frame, Fetch, Registry};
use super::{fetch_error, FormatSpec, TimeRender};
use crate::source::spec::DecodeError;

/// A parsed schema and its named types.
struct Parsed {
    schema: Schema,
    names: Names,
    /// The schema in full (defaults included) as JSON: `Schema`'s `==` was seen to call two
    /// records with different fields equal (apache-avro 0.21), so sameness is this text's.
    full: String,
    /// How errors name it: the file, or `registry id N`.
    label: String,
}

impl Parsed {
    fn new(text: &str, label: String) -> Result<Parsed, String> {
        let schema = Schema::parse_str(text).map_err(|e| format!("{label}: not an Avro schema: {e}"))?;
        let names = names_of(&schema).map_err(|e| format!("{label}: {e}"))?;
        let full = serde_json::to_string(&schema).map_err(|e| format!("{label}: {e}"))?;
        Ok(Parsed { schema, names, full, label })
    }
}

/// How the datums of one writer id are read.
struct Reading {
    writer: Parsed,
    /// The reader schema, when it differs from the writer's (then the value is resolved).
    reader: Option<Arc<Parsed>>,
}

pub(super) struct AvroFormat {
    local: Option<Arc<Parsed>>,
    registry: Option<Registry>,
    subject: String,
    time: TimeRender,
    /// Per writer id: how its datums are read, or why they cannot be.
    readings: Mutex<HashMap<u32, Result<Arc<Reading>, DecodeError>>>,
    /// The subject's latest version (id, schema), the reader when there is no local schema.
    latest: Mutex<Option<(u32, Arc<Parsed>)>>,
}

impl AvroFormat {
    pub(super) fn new(spec: &FormatSpec, time: TimeRender) -> Result<AvroFormat, String> {
        let local = match &spec.schema_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                Some(Arc::new(Parsed::new(&text, path.display().to_string())?))
            }
            None => None,
        };
        let registry = spec.registry.clone().map(Registry::new).transpose()?;
        if local.is_none() && registry.is_none() {
            return Err("an Avro stream needs a schema file or a registry".into());
        }
        Ok(AvroFormat {
            local,
            registry,
            subject: spec.subject.clone(),
            time,
            readings: Mutex::default(),
            latest: Mutex::default(),
        })
    }

    pub(super) async fn to_json(&self, bytes: &[u8]) -> Result<Json, DecodeError> {
        let Some(registry) = &self.registry else {
            let local = self.local.as_ref().expect("checked in new");
            return read(local, None, bytes, self.time);
        };
        let (id, datum) = split_frame(bytes).map_err(DecodeError::BadFraming)?;
        let reading = self.reading(registry, id).await?;
        read(&reading.writer, reading.reader.as_deref(), datum, self.time)
    }

    /// How to read writer `id`: cached, else fetched and checked against the reader schema.
    async fn reading(&self, registry: &Registry, id: u32) -> Result<Arc<Reading>, DecodeError> {
        if let Some(known) = self.readings.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return known.clone();
        }
        let registered = registry.by_id(id).await.map_err(|e| fetch_error(id, e))?;
        let label = format!("registry id {id}");
        let bad = |message: String| DecodeError::BadSchema { schema: label.clone(), message };
        if registered.schema_type.as_deref().is_some_and(|t| t != "AVRO") {
            // Cached: an id's schema never changes.
            let error = bad(format!("a {} schema, not Avro", registered.schema_type.as_deref().unwrap_or("")));
            return self.remember(id, Err(error));
        }
        let writer = match Parsed::new(&registered.schema, label.clone()) {
            Ok(writer) => writer,
            Err(message) => return self.remember(id, Err(bad(message))),
        };
        let reader = match &self.local {
            Some(local) => Some(local.clone()),
            None => self.latest(registry, id).await?,
        };
        // No up-front compatibility check: apache-avro 0.21's `SchemaCompatibility` refuses
        // identical decimal fields; each datum's resolution reports a real mismatch instead.
        let reader = reader.filter(|r| r.full != writer.full);
        let resolved = reader.as_ref().map_or("none: the writer's own", |r| r.label.as_str());
        tracing::info!(subject = %self.subject, id, reader = resolved, "New Avro writer schema from the registry.");
        self.remember(id, Ok(Arc::new(Reading { writer, reader })))
    }

    fn remember(&self, id: u32, reading: Result<Arc<Reading>, DecodeError>) -> Result<Arc<Reading>, DecodeError> {
        self.readings.lock().unwrap_or_else(|e| e.into_inner()).insert(id, reading.clone());
        reading
    }

    /// The subject's latest schema, looked up again now that writer `id` is new; a newer
    /// latest replaces the reader of every id (the cache of readings is cleared). `None` when
    /// the subject is unknown (each writer then reads as itself).
    async fn latest(&self, registry: &Registry, id: u32) -> Result<Option<Arc<Parsed>>, DecodeError> {
        let found = match registry.latest(&self.subject).await {
            Ok(found) => found,
            Err(Fetch::NotFound) => return Ok(None),
            Err(error) => return Err(fetch_error(id, error)),
        };
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let latest_id = found.id.unwrap_or(id);
        if let Some((known, parsed)) = latest.as_ref() {
            if *known == latest_id {
                return Ok(Some(parsed.clone()));
            }
        }
        let label = format!("subject {} latest (id {latest_id})", self.subject);
        let parsed = Arc::new(
            Parsed::new(&found.schema, label.clone())
                .map_err(|message| DecodeError::BadSchema { schema: label, message })?,
        );
        *latest = Some((latest_id, parsed.clone()));
        self.readings.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(Some(parsed))
    }
}

/// One datum of `writer`, resolved against `reader` when given; every byte must be used.
/// A datum that does not resolve is `bad_schema` (the schemas disagree, not the bytes).
fn read(writer: &Parsed, reader: Option<&Parsed>, datum: &[u8], time: TimeRender) -> Result<Json, DecodeError> {
    let invalid = |message: String| DecodeError::InvalidAvro { schema: writer.label.clone(), message };
    let mut rest = datum;
    let mut value =
        apache_avro::from_avro_datum(&writer.schema, &mut rest, None).map_err(|e| invalid(e.to_string()))?;
    if !rest.is_empty() {
        return Err(invalid(format!("{} bytes left after the datum", rest.len())));
    }
    let (schema, names) = match reader {
        Some(r) => {
            widen_decimals(&mut value);
            value = value.resolve(&r.schema).map_err(|e| DecodeError::BadSchema {
                schema: writer.label.clone(),
                message: format!("does not resolve against the reader schema ({}): {e}", r.label),
            })?;
            (&r.schema, &r.names)
        }
        None => (&writer.schema, &writer.names),
    };
    to_json(value, schema, names, time).map_err(invalid)
}

/// Sign-extends every decimal to 16 bytes. apache-avro 0.21's resolution refuses a decimal
/// whose bytes are fewer than its precision could need (`42766.69` in 3 bytes, precision 12),
/// though Avro writes the shortest form; 16 bytes hold every precision up to 38.
fn widen_decimals(value: &mut apache_avro::types::Value) {
    use apache_avro::types::Value;
    match value {
        Value::Decimal(decimal) => {
            let Ok(bytes) = Vec::<u8>::try_from(&*decimal) else { return };
            if bytes.len() < 16 {
                let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) { 0xff } else { 0 };
                let mut wide = vec![fill; 16 - bytes.len()];
                wide.extend(bytes);
                *decimal = apache_avro::Decimal::from(wide);
            }
        }
        Value::Union(_, inner) => widen_decimals(inner),
        Value::Array(items) => items.iter_mut().for_each(widen_decimals),
        Value::Map(map) => map.values_mut().for_each(widen_decimals),
        Value::Record(fields) => fields.iter_mut().for_each(|(_, v)| widen_decimals(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::types::Value;

    fn parsed(file: &str) -> Parsed {
        let path = format!("{}/tests/registry/{file}", env!("CARGO_MANIFEST_DIR"));
        Parsed::new(&std::fs::read_to_string(&path).unwrap(), file.into()).unwrap()
    }

    #[test]
    fn a_writer_resolves_against_a_reader_with_an_added_default_and_a_removed_field() {
        let (v1, v2) = (parsed("inputs_v1.avsc"), parsed("inputs_v2.avsc"));
        assert_ne!(v1.full, v2.full);
        let features = Value::Record(vec![
            ("age".into(), Value::Int(41)),
            // The shortest form, as Avro writers write it (3 bytes).
            ("income".into(), Value::Decimal(apache_avro::Decimal::from(vec![0x41, 0x41, 0xbd]))),
            ("debt_ratio".into(), Value::Double(0.0773)),
            ("credit_lines".into(), Value::Int(6)),
            ("months_employed".into(), Value::Union(0, Box::new(Value::Null))),
            ("loan_amount".into(), Value::Long(19900)),
            ("region".into(), Value::Enum(3, "west".into())),
            ("loan_purpose".into(), Value::String("car".into())),
        ]);
        let event = Value::Record(vec![
            ("request_id".into(), Value::String("r".into())),
            ("ts".into(), Value::TimestampMillis(1_793_491_200_723)),
            ("features".into(), features),
        ]);
        let datum = apache_avro::to_avro_datum(&v1.schema, event).unwrap();
        let json = read(&v1, Some(&v2), &datum, TimeRender::Rfc3339).unwrap();
        assert_eq!(
            json["features"],
            serde_json::json!({"age": 41, "income": 42766.69, "debt_ratio": 0.0773, "credit_lines": 6,
                "months_employed": null, "loan_amount": 19900, "region": "west", "employment_type": "salaried"})
        );
        assert_eq!(json["ts"], "2026-11-01T00:00:00.723Z");
        let mut longer = datum.clone();
        longer.push(0);
        let err = read(&v1, None, &longer, TimeRender::Rfc3339).unwrap_err();
        assert_eq!(err.reason().as_str(), "invalid_avro");
    }
}
