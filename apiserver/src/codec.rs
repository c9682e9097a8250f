//! Objects are stored as protobuf-encoded `Object`s without their resourceVersion: the
//! store's revision is the resourceVersion, set on every read.

use bytes::Bytes;
use prost::Message;
use proto::{ApiError, Object};

use crate::store::Revision;

pub fn encode(object: &Object) -> Bytes {
    let mut o = object.clone();
    if o.info().is_some() {
        o.meta_mut().resource_version.clear();
    }
    Bytes::from(o.encode_to_vec())
}

pub fn decode(bytes: &[u8], revision: Revision) -> Result<Object, ApiError> {
    let mut o = Object::decode(bytes)
        .map_err(|e| ApiError::internal(format!("stored object does not decode: {e}")))?;
    if o.info().is_none() {
        return Err(ApiError::internal("stored object has no kind"));
    }
    o.meta_mut().resource_version = revision.to_string();
    o.set_type_meta();
    Ok(o)
}

/// Parses a client's resourceVersion; empty means "none given".
pub fn parse_revision(rv: &str) -> Result<Option<Revision>, ApiError> {
    if rv.is_empty() {
        return Ok(None);
    }
    rv.parse::<Revision>().map(Some).map_err(|_| {
        ApiError::bad_request(format!(
            "invalid resourceVersion {rv:?}: must be a decimal number"
        ))
    })
}
