//! Served versions that are not stored (`proto::convert::VERSIONS`: autoscaling/v1
//! HorizontalPodAutoscaler), converted at the HTTP API's door, as Kubernetes converts
//! between a request's version and the storage version. A request under such a version
//! becomes a request under the stored one (its path rewritten, its body converted), is
//! served by the same handlers, and its answer is converted back: objects, `<Kind>List`s,
//! the objects of Table rows and every watch event. Nothing behind the door (gRPC, the
//! registry, the store, the render cache) knows the version exists.
//!
//! Patches are the one verb that cannot be forwarded as they come: a patch speaks of the
//! version's fields. A json, merge or strategic patch is applied here to the object as the
//! version shows it, the result converted back, and the difference sent on as a merge patch
//! guarded by the resourceVersion that was read (read again and retried when the object
//! changed meanwhile). A server-side apply configuration is converted to the stored version,
//! stating only what it states, and applied there.

use ::http::request::Parts;
use ::http::{Method, StatusCode};
use bytes::Bytes;
use futures::StreamExt;
use proto::convert::Version;
use proto::k8s::GetRequest;
use proto::schema::MessageSchema;
use proto::{ApiError, KindInfo};
use serde_json::{Map, Value};

use super::path::{self, Target};
use super::query::Query;
use super::verbs::{self, FieldValidation, fail, fail_status};
use super::{Body, GrpcApi, HttpApi, HttpResponse, object_json};
use crate::auth::Attributes;
use crate::store::Store;

/// How often a patch is tried again when the object changed between its read and its write.
const PATCH_TRIES: usize = 5;

/// The served version a resource path names (under `/apis/{group}/{version}/`), if it is
/// not the stored one.
pub(crate) fn of_path(path: &str) -> Option<&'static Version> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ["apis", group, version, rest @ ..] = segments.as_slice() else {
        return None;
    };
    let rest = match rest {
        ["watch", r @ ..] => r,
        r => r,
    };
    let plural = match rest {
        ["namespaces", _, plural, ..] => plural,
        [plural, ..] => plural,
        [] => return None,
    };
    proto::convert::by_path(group, version, plural)
}

/// Every kind the HTTP API serves in some version: the stored kinds, then the served
/// versions (for OpenAPI).
pub(crate) fn served_kinds() -> impl Iterator<Item = &'static KindInfo> {
    proto::resource::ALL_KINDS
        .iter()
        .copied()
        .chain(proto::convert::VERSIONS.iter().map(|v| v.info))
}

/// The schema of a kind's objects in the version `k` names.
pub(crate) fn kind_schema(k: &KindInfo) -> &'static MessageSchema {
    proto::convert::VERSIONS
        .iter()
        .find(|v| std::ptr::eq(v.info, k))
        .and_then(|v| proto::schema::message(v.message))
        .unwrap_or_else(|| proto::schema::kind_message(k))
}

/// The fields Kubernetes marks required in a message: the schema's facts, else those of a
/// served version's own message.
pub(crate) fn required(m: &MessageSchema) -> &'static [&'static str] {
    let facts = m.required();
    if !facts.is_empty() {
        return facts;
    }
    proto::convert::definition(&m.full_name).map_or(&[], |(_, r)| r)
}

/// The path under the stored version (`/apis/autoscaling/v2/...` for `.../v1/...`).
fn storage_path(version: &Version, path: &str) -> String {
    let prefix = format!("/apis/{}/{}/", version.info.group, version.info.version);
    let rest = path
        .trim_start_matches('/')
        .split_once('/')
        .and_then(|(_, r)| r.split_once('/'))
        .and_then(|(_, r)| r.split_once('/'))
        .map_or("", |(_, r)| r);
    debug_assert!(path.starts_with(&prefix));
    format!(
        "/apis/{}/{}/{rest}",
        version.storage.group, version.storage.version
    )
}

/// A request under `version`: converted in, served as the stored version, converted out.
pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    version: &'static Version,
    mut parts: Parts,
    bytes: Bytes,
    stream_body: Option<Body>,
) -> HttpResponse {
    let stored = storage_path(version, parts.uri.path());
    let parsed = match path::parse(&stored) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(uri) = rewrite_uri(&parts.uri, &stored) else {
        return path::not_found();
    };
    parts.uri = uri;
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    let t = &parsed.target;
    let watch = match query.bool("watch") {
        Ok(w) => w || parsed.watch,
        Err(e) => return fail(t, &e),
    };
    let (bytes, warnings) = match parts.method {
        Method::POST | Method::PUT => match incoming(version, &mut parts, &query, &bytes) {
            Ok(converted) => converted,
            Err(e) => return fail(t, &e),
        },
        Method::PATCH => return Box::pin(patch(http, version, parts, t, &query, &bytes)).await,
        _ => (bytes, Vec::new()),
    };
    // Boxed, as every call into the stored handlers here: their futures are large, and
    // inline they would sit in this one's frame (a worker's stack overflowed).
    let response = Box::pin(http.stored_resource(parts, bytes, stream_body)).await;
    outgoing(version, response, &warnings, watch).await
}

fn rewrite_uri(uri: &::http::Uri, path: &str) -> Option<::http::Uri> {
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut p = uri.clone().into_parts();
    p.path_and_query = Some(path_and_query.parse().ok()?);
    ::http::Uri::from_parts(p).ok()
}

/// The `cannot be handled` wording of Kubernetes' decoding errors.
fn undecodable(version: &Version, detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version {v:?} cannot be handled as a {kind}: {detail}",
        kind = version.info.kind,
        v = version.info.version,
    ))
}

/// A create or update body of `version` as the stored version's JSON, with the warnings its
/// unknown fields earn (`fieldValidation`).
fn incoming(
    version: &Version,
    parts: &mut Parts,
    query: &Query,
    bytes: &[u8],
) -> Result<(Bytes, Vec<String>), ApiError> {
    if verbs::unsupported_body(parts).is_some() {
        // Left for the stored version's handler to refuse with its 415.
        return Ok((Bytes::copy_from_slice(bytes), Vec::new()));
    }
    let mut value = verbs::body_json(parts, bytes)?;
    type_meta(version, &mut value)?;
    let warnings = unknown_fields(version, &mut value, query)?;
    let stored = (version.to_storage)(value).map_err(|e| undecodable(version, e))?;
    parts.headers.insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("application/json"),
    );
    Ok((
        Bytes::from(serde_json::to_vec(&stored).unwrap_or_default()),
        warnings,
    ))
}

/// apiVersion and kind default to the version's and must be its own when given, as the
/// stored version's handler checks them against the path.
fn type_meta(version: &Version, value: &mut Value) -> Result<(), ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let info = version.info;
    for (key, expected, what) in [
        ("apiVersion", info.api_version, "API version"),
        ("kind", info.kind, "kind"),
    ] {
        match map.get(key).and_then(Value::as_str) {
            None | Some("") => {
                map.insert(key.into(), Value::from(expected));
            }
            Some(v) if v == expected => {}
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "the {what} in the data ({v}) does not match the expected {what} ({expected})"
                )));
            }
        }
    }
    Ok(())
}

/// Unknown fields of a document of `version`, by `fieldValidation`: refused (Strict), or
/// dropped with a warning each (Warn, the default) or silently (Ignore).
fn unknown_fields(
    version: &Version,
    value: &mut Value,
    query: &Query,
) -> Result<Vec<String>, ApiError> {
    let mode = verbs::field_validation(query)?;
    let Some(schema) = proto::schema::message(version.message) else {
        return Ok(Vec::new());
    };
    let mut pruned = value.clone();
    let unknown = proto::schema::prune_unknown_message(schema, &mut pruned);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    *value = pruned;
    match mode {
        FieldValidation::Strict => Err(undecodable(
            version,
            format!("strict decoding error: {}", listed.join(", ")),
        )),
        FieldValidation::Warn => Ok(listed),
        FieldValidation::Ignore => Ok(Vec::new()),
    }
}

/// A PATCH under `version` (see the module's documentation).
async fn patch<S: Store>(
    http: &HttpApi<S>,
    version: &'static Version,
    mut parts: Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let media = verbs::media_type(&parts);
    let Some(patch_type) = verbs::patch_type(&media) else {
        return verbs::unsupported_patch_type(&media);
    };
    let parsed = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the patch is not UTF-8"))
        .and_then(|text| {
            crate::patch::patch_type(patch_type)
                .and_then(|ty| crate::patch::parse(ty, text).map(|p| (ty, p)))
        });
    let (ty, parsed) = match parsed {
        Ok(p) => p,
        Err(e) => return fail(t, &e),
    };
    if ty == crate::patch::PatchType::Apply {
        return Box::pin(apply(http, version, parts, t, query, parsed)).await;
    }
    let attrs = Attributes::resource("patch", t.info.group, t.info.plural, &t.namespace, &t.name)
        .with_subresource(&t.subresource);
    if let Err(r) = http.authorize(&parts, &attrs).await {
        return r;
    }
    parts.headers.insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("application/merge-patch+json"),
    );
    for attempt in 1..=PATCH_TRIES {
        // Read as the server: the caller may patch without the right to get, as in
        // Kubernetes; what it sees is the patch's answer, which `patch` lets it see.
        let get = GetRequest {
            resource: t.info.plural.to_string(),
            namespace: t.namespace.clone(),
            name: t.name.clone(),
        };
        let live = match GrpcApi::get(http.api(), tonic::Request::new(get)).await {
            Ok(r) => object_json(r.get_ref()),
            Err(s) => return fail_status(t, &s),
        };
        let (merge, warnings) = match version_patch(version, &live, ty, &parsed, query) {
            Ok(m) => m,
            Err(e) => return fail(t, &e),
        };
        let precondition_kept = resource_version(&merge) == resource_version(&live);
        let bytes = Bytes::from(serde_json::to_vec(&merge).unwrap_or_default());
        let response = Box::pin(http.stored_resource(parts.clone(), bytes, None)).await;
        // Changed between the read and the write: read again, unless the caller's own
        // resourceVersion is what failed.
        if response.status() == StatusCode::CONFLICT && precondition_kept && attempt < PATCH_TRIES {
            continue;
        }
        return outgoing(version, response, &warnings, false).await;
    }
    unreachable!("the last attempt returns")
}

fn resource_version(doc: &Value) -> Option<&str> {
    doc.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// The merge patch (of the stored version) that does what `patch` (of `version`) does to
/// `live` (the stored version's JSON), guarded by `live`'s resourceVersion unless the patch
/// names its own.
fn version_patch(
    version: &Version,
    live: &Value,
    ty: crate::patch::PatchType,
    patch: &Value,
    query: &Query,
) -> Result<(Value, Vec<String>), ApiError> {
    let internal = |e: proto::convert::ConvertError| {
        ApiError::new(
            proto::Reason::Internal,
            format!("converting to {}: {e}", version.info.api_version),
        )
    };
    let shown = (version.from_storage)(live.clone()).map_err(internal)?;
    let mut patched = crate::patch::patch_value(ty, version.message, &shown, patch)?;
    type_meta(version, &mut patched)?;
    let warnings = unknown_fields(version, &mut patched, query)?;
    let stored = (version.to_storage)(patched).map_err(|e| undecodable(version, e))?;
    let mut merge = merge_diff(live, &stored);
    if resource_version(&stored).is_none_or(|rv| Some(rv) == resource_version(live))
        && let Some(rv) = resource_version(live)
        && let Value::Object(map) = &mut merge
    {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert("resourceVersion".into(), Value::from(rv));
        }
    }
    Ok((merge, warnings))
}

/// The JSON merge patch (RFC 7386) that takes `from` to `to`: changed and added members,
/// removed ones as null, objects compared member by member, anything else replaced whole.
fn merge_diff(from: &Value, to: &Value) -> Value {
    let (Value::Object(a), Value::Object(b)) = (from, to) else {
        return to.clone();
    };
    let mut out = Map::new();
    for (k, va) in a {
        match b.get(k) {
            None => {
                out.insert(k.clone(), Value::Null);
            }
            Some(vb) if vb != va => {
                out.insert(k.clone(), merge_diff(va, vb));
            }
            Some(_) => {}
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            out.insert(k.clone(), vb.clone());
        }
    }
    Value::Object(out)
}

/// Server-side apply of a configuration of `version`: applied as the stored version's.
async fn apply<S: Store>(
    http: &HttpApi<S>,
    version: &'static Version,
    parts: Parts,
    t: &Target,
    query: &Query,
    mut config: Value,
) -> HttpResponse {
    let converted = type_meta(version, &mut config)
        .and_then(|()| unknown_fields(version, &mut config, query))
        .and_then(|warnings| {
            let stored =
                (version.config_to_storage)(config).map_err(|e| undecodable(version, e))?;
            Ok((stored, warnings))
        });
    let (stored, warnings) = match converted {
        Ok(c) => c,
        Err(e) => return fail(t, &e),
    };
    // JSON is YAML: the apply handler reads it as it comes.
    let bytes = Bytes::from(serde_json::to_vec(&stored).unwrap_or_default());
    let response = Box::pin(http.stored_resource(parts, bytes, None)).await;
    outgoing(version, response, &warnings, false).await
}

/// The stored version's answer as `version`'s: JSON documents converted, a watch converted
/// event by event as it streams; failures (Status documents) pass as they are.
async fn outgoing(
    version: &'static Version,
    response: HttpResponse,
    warnings: &[String],
    watch: bool,
) -> HttpResponse {
    let (mut head, body) = response.into_parts();
    let json = head
        .headers
        .get(::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = if !head.status.is_success() || !json {
        body
    } else if watch {
        Body::from_stream(watch_lines(version, body))
    } else {
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => {
                return super::api_error_response(&ApiError::new(
                    proto::Reason::Internal,
                    format!("reading the answer: {e}"),
                ));
            }
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut value) => {
                if let Err(e) = convert_document(version, &mut value) {
                    return super::api_error_response(&e);
                }
                head.headers.remove(::http::header::CONTENT_LENGTH);
                Body::from(serde_json::to_vec(&value).unwrap_or_default())
            }
            Err(_) => Body::from(bytes),
        }
    };
    let mut response = ::http::Response::from_parts(head, body);
    super::add_warnings(&mut response, warnings);
    response
}

/// An object, a `<Kind>List` or a Table of the stored version, as `version` shows it.
fn convert_document(version: &Version, value: &mut Value) -> Result<(), ApiError> {
    let storage = version.storage;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (api_version, kind) = (text(value, "apiVersion"), text(value, "kind"));
    if kind == "Table" {
        let rows = value.get_mut("rows").and_then(Value::as_array_mut);
        for row in rows.into_iter().flatten() {
            if let Some(object) = row.get_mut("object") {
                convert_document(version, object)?;
            }
        }
        return Ok(());
    }
    if api_version != storage.api_version {
        return Ok(());
    }
    if kind == storage.kind {
        let converted = (version.from_storage)(std::mem::take(value)).map_err(|e| {
            ApiError::new(
                proto::Reason::Internal,
                format!("converting to {}: {e}", version.info.api_version),
            )
        })?;
        *value = converted;
    } else if kind == format!("{}List", storage.kind) {
        value["apiVersion"] = Value::from(version.info.api_version);
        let items = value.get_mut("items").and_then(Value::as_array_mut);
        for item in items.into_iter().flatten() {
            convert_document(version, item)?;
        }
    }
    Ok(())
}

/// A watch body, each `{"type":..,"object":..}` line converted.
fn watch_lines(
    version: &'static Version,
    body: Body,
) -> impl futures::Stream<Item = Result<Bytes, axum::Error>> {
    let state = (body.into_data_stream(), Vec::<u8>::new(), false);
    futures::stream::unfold(state, move |(mut stream, mut pending, done)| async move {
        if done {
            return None;
        }
        loop {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    pending.extend_from_slice(&chunk);
                    let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
                        continue;
                    };
                    let rest = pending.split_off(end + 1);
                    let out = convert_lines(version, &pending);
                    return Some((Ok(out), (stream, rest, false)));
                }
                Some(Err(e)) => return Some((Err(e), (stream, pending, true))),
                None if pending.is_empty() => return None,
                None => {
                    let out = convert_lines(version, &pending);
                    return Some((Ok(out), (stream, Vec::new(), true)));
                }
            }
        }
    })
}

fn convert_lines(version: &Version, text: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(text.len() + 64);
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let converted = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|mut event| {
                let object = event.get_mut("object")?;
                convert_document(version, object).ok()?;
                serde_json::to_vec(&event).ok()
            });
        match converted {
            Some(bytes) => out.extend_from_slice(&bytes),
            None => out.extend_from_slice(line),
        }
        out.push(b'\n');
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hpa_v1() -> &'static Version {
        proto::convert::by_path("autoscaling", "v1", "horizontalpodautoscalers").unwrap()
    }

    #[test]
    fn paths_of_a_served_version_map_to_the_stored_one() {
        for (path, stored) in [
            (
                "/apis/autoscaling/v1/namespaces/a/horizontalpodautoscalers/web/status",
                "/apis/autoscaling/v2/namespaces/a/horizontalpodautoscalers/web/status",
            ),
            (
                "/apis/autoscaling/v1/horizontalpodautoscalers",
                "/apis/autoscaling/v2/horizontalpodautoscalers",
            ),
            (
                "/apis/autoscaling/v1/watch/namespaces/a/horizontalpodautoscalers",
                "/apis/autoscaling/v2/watch/namespaces/a/horizontalpodautoscalers",
            ),
        ] {
            let v = of_path(path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(storage_path(v, path), stored);
        }
        assert!(of_path("/apis/autoscaling/v2/horizontalpodautoscalers").is_none());
        assert!(of_path("/apis/autoscaling/v1/namespaces/a/deployments").is_none());
        assert!(of_path("/api/v1/pods").is_none());
        assert!(of_path("/apis/autoscaling/v1").is_none());
    }

    #[test]
    fn lists_tables_and_objects_convert_and_others_pass() {
        let v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "w", "resourceVersion": "5"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "w"},
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60}}}]}});
        let mut list = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscalerList",
            "metadata": {"resourceVersion": "5"}, "items": [v2.clone()]});
        convert_document(hpa_v1(), &mut list).unwrap();
        assert_eq!(list["apiVersion"], "autoscaling/v1");
        assert_eq!(list["items"][0]["apiVersion"], "autoscaling/v1");
        assert_eq!(
            list["items"][0]["spec"]["targetCPUUtilizationPercentage"],
            60
        );
        let mut table = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "rows": [{"cells": ["w"], "object": v2}]});
        convert_document(hpa_v1(), &mut table).unwrap();
        assert_eq!(table["rows"][0]["object"]["apiVersion"], "autoscaling/v1");
        let status = json!({"kind": "Status", "apiVersion": "v1", "code": 404});
        let mut same = status.clone();
        convert_document(hpa_v1(), &mut same).unwrap();
        assert_eq!(same, status);
        // Watch lines, a bookmark among them.
        let lines = format!(
            "{}\n{}\n",
            json!({"type": "ADDED", "object": list["items"][0]}),
            json!({"type": "BOOKMARK", "object": {"kind": "HorizontalPodAutoscaler",
                "apiVersion": "autoscaling/v2", "metadata": {"resourceVersion": "9"}}})
        );
        let out = convert_lines(hpa_v1(), lines.as_bytes());
        let events: Vec<Value> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["object"]["apiVersion"], "autoscaling/v1");
        assert_eq!(events[1]["object"]["metadata"]["resourceVersion"], "9");
    }

    #[test]
    fn patches_in_v1_become_guarded_merge_patches_of_v2() {
        let live = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "w", "namespace": "a", "resourceVersion": "7"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "w"},
                "metrics": [
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 60}}}]}});
        let q = Query::default();
        let patch = json!({"spec": {"targetCPUUtilizationPercentage": 40, "maxReplicas": 5}});
        let (merge, warnings) =
            version_patch(hpa_v1(), &live, crate::patch::PatchType::Merge, &patch, &q).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(merge["metadata"], json!({"resourceVersion": "7"}));
        assert_eq!(merge["spec"]["maxReplicas"], 5);
        // The memory metric is kept; the CPU target changed.
        let metrics = merge["spec"]["metrics"].as_array().unwrap();
        assert_eq!(metrics[0]["resource"]["name"], "memory");
        assert_eq!(metrics[1]["resource"]["target"]["averageUtilization"], 40);
        // The caller's own resourceVersion stays the precondition.
        let patch = json!({"metadata": {"resourceVersion": "3"}, "spec": {"maxReplicas": 6}});
        let (merge, _) = version_patch(
            hpa_v1(),
            &live,
            crate::patch::PatchType::Strategic,
            &patch,
            &q,
        )
        .unwrap();
        assert_eq!(merge["metadata"]["resourceVersion"], "3");
        // Unknown v1 fields: warned about by default, refused when strict.
        let patch = json!({"spec": {"targetMemory": 1}});
        let (_, warnings) =
            version_patch(hpa_v1(), &live, crate::patch::PatchType::Merge, &patch, &q).unwrap();
        assert_eq!(warnings, ["unknown field \"spec.targetMemory\""]);
        let strict = Query::parse("fieldValidation=Strict");
        let e = version_patch(
            hpa_v1(),
            &live,
            crate::patch::PatchType::Merge,
            &patch,
            &strict,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "HorizontalPodAutoscaler in version \"v1\" cannot be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field \"spec.targetMemory\""
        );
    }

    #[test]
    fn merge_diff_takes_one_document_to_the_other() {
        let a = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]});
        let b = json!({"b": {"c": 2, "d": 4}, "e": [1], "f": "x"});
        let d = merge_diff(&a, &b);
        assert_eq!(d, json!({"a": null, "b": {"d": 4}, "e": [1], "f": "x"}));
        let mut applied = a.clone();
        crate::patch::merge_patch(&mut applied, &d);
        assert_eq!(applied, b);
    }

    #[test]
    fn bodies_default_their_type_and_refuse_another_version() {
        let v = hpa_v1();
        let mut doc = json!({"metadata": {"name": "w"}});
        type_meta(v, &mut doc).unwrap();
        assert_eq!(doc["apiVersion"], "autoscaling/v1");
        let mut doc = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"});
        assert_eq!(
            type_meta(v, &mut doc).unwrap_err().message,
            "the API version in the data (autoscaling/v2) does not match the expected API version (autoscaling/v1)"
        );
    }

    #[test]
    fn discovery_and_openapi_serve_the_version_after_the_stored_one() {
        let all = super::super::discovery::group_versions();
        let group = super::super::discovery::group(&all, "autoscaling").unwrap();
        assert_eq!(
            group["versions"],
            json!([{"groupVersion": "autoscaling/v2", "version": "v2"},
                   {"groupVersion": "autoscaling/v1", "version": "v1"}])
        );
        assert_eq!(group["preferredVersion"]["version"], "v2");
        let aggregated = super::super::discovery::aggregated(&all, false, "v2");
        let autoscaling = aggregated["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "autoscaling")
            .unwrap();
        let versions: Vec<&str> = autoscaling["versions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["version"].as_str())
            .collect();
        assert_eq!(versions, ["v2", "v1"]);
        let doc = super::super::openapi::v3_document("autoscaling", "v1").unwrap();
        let schemas = &doc["components"]["schemas"];
        let spec = &schemas["io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec"];
        assert_eq!(spec["required"], json!(["maxReplicas", "scaleTargetRef"]));
        assert!(spec["properties"]["targetCPUUtilizationPercentage"].is_object());
        assert!(
            doc["paths"]
                .get("/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/{name}/status")
                .is_some()
        );
        // The whole-API document has both versions.
        let v2 = super::super::openapi::v2_document();
        assert!(
            v2["definitions"]["io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerList"].is_object()
        );
        assert!(v2["definitions"]["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"].is_object());
    }
}
