//! The report's number: NaN serialised as `null`, ±infinity as the strings `"inf"` / `"-inf"`,
//! finite floats in their shortest round-trip form (docs/compare.md).

use serde::ser::Serializer;
use serde::Serialize;

/// A float that serialises NaN as `null` and ±inf as `"inf"` / `"-inf"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            serializer.serialize_none()
        } else if v == f64::INFINITY {
            serializer.serialize_str("inf")
        } else if v == f64::NEG_INFINITY {
            serializer.serialize_str("-inf")
        } else {
            serializer.serialize_f64(v)
        }
    }
}
