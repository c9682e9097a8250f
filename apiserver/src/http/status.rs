//! `metav1.Status`: how every failure (and a delete that removed the object) is answered.

use proto::{ApiError, Reason};
use serde_json::{Value, json};

use super::HttpResponse;

/// The HTTP code Kubernetes answers a reason with.
pub(crate) fn code(reason: Reason) -> u16 {
    match reason {
        Reason::NotFound => 404,
        Reason::AlreadyExists | Reason::Conflict => 409,
        Reason::Invalid => 422,
        Reason::BadRequest => 400,
        Reason::Expired => 410,
        Reason::Forbidden => 403,
        Reason::Unauthorized => 401,
        Reason::TooLarge => 413,
        Reason::Unavailable => 503,
        Reason::Internal => 500,
    }
}

/// What the failed request was about, for `details` (kubectl prints nothing of it, client
/// libraries read it).
#[derive(Debug, Default, Clone)]
pub(crate) struct Details {
    pub name: String,
    pub group: String,
    /// The resource (plural), as Kubernetes fills `details.kind`.
    pub kind: String,
}

/// The Status document of a failure.
pub(crate) fn failure(e: &ApiError, details: Option<&Details>) -> Value {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": e.message,
        "reason": e.reason.as_str(),
        "code": code(e.reason),
    });
    // InternalError has no reason field in Kubernetes' JSON but keeps the message.
    if e.reason == Reason::Internal {
        status["reason"] = Value::from("InternalError");
    }
    if let Some(d) = details {
        let mut map = serde_json::Map::new();
        if !d.name.is_empty() {
            map.insert("name".into(), Value::from(d.name.clone()));
        }
        if !d.group.is_empty() {
            map.insert("group".into(), Value::from(d.group.clone()));
        }
        if !d.kind.is_empty() {
            map.insert("kind".into(), Value::from(d.kind.clone()));
        }
        if !map.is_empty() {
            status["details"] = Value::Object(map);
        }
    }
    status
}

pub(crate) fn error_response(e: &ApiError, details: Option<&Details>) -> HttpResponse {
    let code = ::http::StatusCode::from_u16(code(e.reason))
        .unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = super::json_response(code, &failure(e, details));
    if matches!(e.reason, Reason::Unavailable) {
        // Clients back off and retry, as Kubernetes tells them to.
        response.headers_mut().insert(
            ::http::header::RETRY_AFTER,
            ::http::HeaderValue::from_static("1"),
        );
    }
    response
}

/// A path no handler serves.
pub(crate) fn not_found_path() -> HttpResponse {
    error_response(
        &ApiError::not_found("the server could not find the requested resource"),
        None,
    )
}

/// The Status a delete answers when the object is gone.
pub(crate) fn success(details: &Details, uid: &str) -> Value {
    let mut d = json!({ "name": details.name, "kind": details.kind });
    if !details.group.is_empty() {
        d["group"] = Value::from(details.group.clone());
    }
    if !uid.is_empty() {
        d["uid"] = Value::from(uid);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_kubernetes_writes_them() {
        let s = failure(
            &ApiError::not_found("pods \"x\" not found"),
            Some(&Details {
                name: "x".into(),
                group: String::new(),
                kind: "pods".into(),
            }),
        );
        assert_eq!(
            s,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                "message":"pods \"x\" not found","reason":"NotFound",
                "details":{"name":"x","kind":"pods"},"code":404})
        );
        assert_eq!(code(Reason::Invalid), 422);
        assert_eq!(code(Reason::Expired), 410);
        assert_eq!(code(Reason::AlreadyExists), 409);
    }
}
