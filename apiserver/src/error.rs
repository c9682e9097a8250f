//! The crate's error type is the API's: every failure leaves the server as a `proto::ApiError`
//! with a reason a client can act on. Store errors are translated here, in one place.

use crate::store;
use proto::{ApiError, KindInfo};

pub type Result<T> = std::result::Result<T, ApiError>;

/// `deployments.apps "web"`, the way Kubernetes names an object in its messages.
/// The name is quoted with escapes (Go's %q, Rust's `{:?}`) so that no client-chosen name can
/// break an error message over lines.
pub fn object_ref(info: &KindInfo, name: &str) -> String {
    if info.group.is_empty() {
        format!("{} {name:?}", info.plural)
    } else {
        format!("{}.{} {name:?}", info.plural, info.group)
    }
}

pub fn not_found(info: &KindInfo, name: &str) -> ApiError {
    ApiError::not_found(format!("{} not found", object_ref(info, name)))
}

pub fn conflict(info: &KindInfo, name: &str) -> ApiError {
    ApiError::conflict(format!(
        "Operation cannot be fulfilled on {}: the object has been modified; please apply your changes to the latest version and try again",
        object_ref(info, name)
    ))
}

/// Translates a store failure on the object `name` of kind `info`.
pub fn from_store(info: &KindInfo, name: &str, e: store::Error) -> ApiError {
    match e {
        store::Error::AlreadyExists(_) => {
            ApiError::already_exists(format!("{} already exists", object_ref(info, name)))
        }
        store::Error::NotFound(_) => not_found(info, name),
        store::Error::Conflict { .. } => conflict(info, name),
        store::Error::Expired { requested, oldest } => ApiError::new(
            proto::Reason::Expired,
            format!("too old resource version: {requested} ({oldest})"),
        ),
        store::Error::TooSlow => ApiError::new(
            proto::Reason::Expired,
            "watch fell too far behind and was closed; relist and watch again",
        ),
        store::Error::Closed => {
            ApiError::new(proto::Reason::Unavailable, "apiserver is shutting down")
        }
        store::Error::Backend(msg) => ApiError::internal(format!("storage error: {msg}")),
    }
}
