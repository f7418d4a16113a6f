//! Protobuf messages (not yet implemented).

use serde_json::Value as Json;

use super::{FormatSpec, TimeRender};
use crate::source::spec::DecodeError;

pub(super) struct ProtoFormat;

impl ProtoFormat {
    pub(super) fn new(_spec: &FormatSpec, _time: TimeRender) -> Result<ProtoFormat, String> {
        Err("Protobuf is not supported yet".into())
    }

    pub(super) async fn to_json(&self, _bytes: &[u8]) -> Result<Json, DecodeError> {
        unreachable!()
    }
}
