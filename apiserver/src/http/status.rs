//! `metav1.Status`: how every failure (and a delete that removed the object) is answered.

use proto::{ApiError, Reason};
use serde_json::{Value, json};

use super::HttpResponse;

/// The HTTP code Kubernetes answers a reason with.
pub(crate) fn code(reason: Reason) -> u16 {
    reason.http_code()
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
    if e.reason == Reason::Invalid {
        status["details"] = invalid_details(&e.message);
    }
    if e.reason == Reason::Conflict
        && let Some(causes) = apply_conflict_causes(&e.message)
    {
        status["details"] = json!({ "causes": causes });
    }
    if let Some(d) = details {
        let mut map = match status.get_mut("details").map(Value::take) {
            Some(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
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

/// `details` of an Invalid failure: the kind, name and one cause per field error of the
/// registry's `<Kind>.<group> "<name>" is invalid: <field>: <msg>; ...` message. kubectl
/// prints an Invalid Status from its causes (`The Deployment "web" is invalid: spec...`)
/// and shows only `The request is invalid` without them.
fn invalid_details(message: &str) -> Value {
    let (subject, errors) = match message.split_once(" is invalid: ") {
        Some((subject, errors)) => (Some(subject), errors),
        None => (None, message),
    };
    let causes: Vec<Value> = errors
        .split("; ")
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once(": ") {
            // A field path has no spaces; anything else is a message of its own.
            Some((field, msg)) if !field.contains(' ') => {
                json!({ "reason": cause_reason(msg), "message": msg, "field": field })
            }
            _ => json!({ "reason": "FieldValueInvalid", "message": e }),
        })
        .collect();
    let mut details = json!({ "causes": causes });
    if let Some((kind, name)) = subject.and_then(|s| s.split_once(' ')) {
        let (kind, group) = kind.split_once('.').unwrap_or((kind, ""));
        details["kind"] = Value::from(kind);
        if !group.is_empty() {
            details["group"] = Value::from(group);
        }
        details["name"] = Value::from(name.trim_matches('"'));
    }
    details
}

/// The causes of a server-side apply conflict, one per field, as Kubernetes lists them
/// (`type: FieldManagerConflict`, `message: conflict with "m" using apps/v1`, `field:
/// .spec.replicas`), read back from the registry's message (one conflict on one line; several
/// as `conflicts with M:` lines each followed by `- PATH` lines).
fn apply_conflict_causes(message: &str) -> Option<Vec<Value>> {
    let rest = message.strip_prefix("Apply failed with ")?;
    let (_, body) = rest.split_once(": ")?;
    let cause = |manager: &str, field: &str| json!({ "reason": "FieldManagerConflict", "message": format!("conflict with {manager}"), "field": field });
    if let Some(single) = body.strip_prefix("conflict with ") {
        let (manager, field) = single.rsplit_once(": ")?;
        return Some(vec![cause(manager, field)]);
    }
    let mut causes = Vec::new();
    let mut manager = None;
    for line in body.lines() {
        if let Some(m) = line.strip_prefix("conflicts with ") {
            manager = Some(m.strip_suffix(':').unwrap_or(m));
        } else if let (Some(field), Some(m)) = (line.strip_prefix("- "), manager) {
            causes.push(cause(m, field));
        }
    }
    (!causes.is_empty()).then_some(causes)
}

/// Kubernetes' cause type for a field error, from the words its message starts with.
fn cause_reason(message: &str) -> &'static str {
    for (prefix, reason) in [
        ("Required value", "FieldValueRequired"),
        ("Duplicate value", "FieldValueDuplicate"),
        ("Unsupported value", "FieldValueNotSupported"),
        ("Forbidden", "FieldValueForbidden"),
        ("Too long", "FieldValueTooLong"),
        ("Too many", "FieldValueTooMany"),
        ("Not found", "FieldValueNotFound"),
    ] {
        if message.starts_with(prefix) {
            return reason;
        }
    }
    "FieldValueInvalid"
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
    fn invalid_failures_carry_their_causes() {
        let s = failure(
            &ApiError::invalid(
                "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0; metadata.name: Required value: name or generateName is required",
            ),
            None,
        );
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["kind"], "Deployment");
        assert_eq!(s["details"]["group"], "apps");
        assert_eq!(s["details"]["name"], "web");
        let causes = s["details"]["causes"].as_array().unwrap();
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0]["field"], "spec.replicas");
        assert_eq!(
            causes[0]["message"],
            "Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(causes[1]["reason"], "FieldValueRequired");
        let plain = failure(&ApiError::invalid("the test operation failed"), None);
        assert_eq!(
            plain["details"]["causes"][0]["message"],
            "the test operation failed"
        );
        assert!(plain["details"].get("name").is_none());
    }

    #[test]
    fn apply_conflicts_carry_one_cause_per_field() {
        let one = failure(
            &ApiError::conflict(
                "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas",
            ),
            None,
        );
        assert_eq!(
            one["details"]["causes"],
            json!([{ "reason": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using apps/v1", "field": ".spec.replicas" }])
        );
        let two = failure(
            &ApiError::conflict(
                "Apply failed with 2 conflicts: conflicts with \"a\" using v1:\n- .data.x\nconflicts with \"b\":\n- .data.y",
            ),
            None,
        );
        let causes = two["details"]["causes"].as_array().unwrap();
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[1]["message"], "conflict with \"b\"");
        assert_eq!(causes[1]["field"], ".data.y");
        let plain = failure(&ApiError::conflict("the object has been modified"), None);
        assert!(plain.get("details").is_none());
    }

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
