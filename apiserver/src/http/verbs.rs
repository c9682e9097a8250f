//! The verbs on a resource path: get, list, create, update, patch, delete,
//! deletecollection; each decodes Kubernetes' request, calls the gRPC method, and renders
//! the answer (JSON, or a Table when the client asks for one).

use std::time::SystemTime;

use ::http::{Method, StatusCode, request::Parts};
use proto::k8s::{
    CreateRequest, DeleteRequest, GetRequest, ListRequest, ListResponse, Object, PatchRequest,
    Preconditions, UpdateRequest,
};
use proto::{ApiError, KindInfo};
use serde_json::{Value, json};

use super::path::{Parsed, Target};
use super::query::Query;
use super::status::Details;
use super::{GrpcApi, HttpApi, HttpResponse, grpc, json_response, object_json, table};
use crate::auth::Attributes;
use crate::store::Store;

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    parsed: &Parsed,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let t = &parsed.target;
    let watch = match query.bool("watch") {
        Ok(w) => w || parsed.watch,
        Err(e) => return fail(t, &e),
    };
    let named = !t.name.is_empty();
    // A namespaced kind's all-namespaces path (`/api/v1/pods`) only lists and watches.
    let all_namespaces = t.info.namespaced && t.namespace.is_empty();
    if all_namespaces && named {
        return super::status::not_found_path();
    }
    if all_namespaces && !matches!(parts.method, Method::GET | Method::HEAD) {
        return method_not_allowed();
    }
    match (&parts.method, named) {
        (&Method::GET | &Method::HEAD, _) if watch => {
            super::watch::serve(http, parts, t, query).await
        }
        (&Method::GET | &Method::HEAD, true) => get(http, parts, t, query).await,
        (&Method::GET | &Method::HEAD, false) => list(http, parts, t, query).await,
        (&Method::POST, false) => create(http, parts, t, query, body).await,
        (&Method::PUT, true) => update(http, parts, t, query, body, "").await,
        (&Method::PATCH, true) => patch(http, parts, t, query, body, "").await,
        (&Method::DELETE, true) => delete(http, parts, t, query, body).await,
        (&Method::DELETE, false) => delete_collection(http, parts, t, query, body).await,
        _ => method_not_allowed(),
    }
}

/// 405, as Kubernetes answers a verb the path does not serve.
pub(crate) fn method_not_allowed() -> HttpResponse {
    json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server does not allow this method on the requested resource",
            "reason": "MethodNotAllowed", "details": {}, "code": 405,
        }),
    )
}

pub(crate) fn details(t: &Target) -> Details {
    Details {
        name: t.name.clone(),
        group: t.info.group.to_string(),
        kind: t.info.plural.to_string(),
    }
}

/// The Status answer of a failure about `t`.
pub(crate) fn fail(t: &Target, e: &ApiError) -> HttpResponse {
    super::status::error_response(e, Some(&details(t)))
}

pub(crate) fn fail_status(t: &Target, s: &tonic::Status) -> HttpResponse {
    fail(t, &ApiError::from_status(s))
}

/// What the Accept header asks a GET, list or write to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum As {
    Object,
    /// metav1.Table of that version ("v1", "v1beta1").
    Table(&'static str),
    /// metav1.PartialObjectMetadata(List) of that version: metadata only (client-go's
    /// metadata informers, kube-rs `metadata_api`).
    Metadata(&'static str),
}

pub(crate) fn negotiate(headers: &::http::HeaderMap) -> As {
    if let Some(v) = table::wants_table(headers) {
        return As::Table(v);
    }
    let metadata = headers
        .get_all(::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|range| {
            let params: Vec<(String, String)> = range
                .split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let get = |k: &str| params.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
            if get("as") != Some("PartialObjectMetadata") || get("g") != Some("meta.k8s.io") {
                return None;
            }
            match get("v") {
                Some("v1") => Some("v1"),
                Some("v1beta1") => Some("v1beta1"),
                _ => None,
            }
        });
    match metadata {
        Some(v) => As::Metadata(v),
        None => As::Object,
    }
}

/// The Content-Type of an answer rendered `as`.
fn content_type(as_: As, list: bool) -> String {
    match as_ {
        As::Object => "application/json".to_string(),
        As::Table(v) => format!("application/json;as=Table;v={v};g=meta.k8s.io"),
        As::Metadata(v) if list => {
            format!("application/json;as=PartialObjectMetadataList;v={v};g=meta.k8s.io")
        }
        As::Metadata(v) => format!("application/json;as=PartialObjectMetadata;v={v};g=meta.k8s.io"),
    }
}

fn partial(value: &Value, version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": value.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn with_content_type(mut response: HttpResponse, content_type: &str) -> HttpResponse {
    if let Ok(v) = ::http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(::http::header::CONTENT_TYPE, v);
    }
    response
}

/// One object as the client asked for it: JSON, metadata only, or a one-row Table.
pub(crate) fn respond_object(
    parts: &Parts,
    query: &Query,
    info: &'static KindInfo,
    object: &Object,
    code: StatusCode,
    warnings: &[String],
) -> HttpResponse {
    let value = object_json(object);
    let as_ = negotiate(&parts.headers);
    let value = match as_ {
        As::Table(version) => table::table(
            info,
            &[value],
            json!({ "resourceVersion": object.meta().resource_version }),
            table::include_object(parts.uri.query().unwrap_or("")),
            &format!("meta.k8s.io/{version}"),
            SystemTime::now(),
        ),
        As::Metadata(version) => partial(&value, version),
        As::Object => value,
    };
    let _ = query;
    let mut response = with_content_type(json_response(code, &value), &content_type(as_, false));
    super::add_warnings(&mut response, warnings);
    response
}

async fn get<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
) -> HttpResponse {
    let request = GetRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
    };
    match GrpcApi::get(http.api(), grpc(parts, request)).await {
        Ok(r) => respond_object(parts, query, t.info, r.get_ref(), StatusCode::OK, &[]),
        Err(s) => fail_status(t, &s),
    }
}

/// The ListRequest the query describes.
pub(crate) fn list_request(t: &Target, query: &Query) -> Result<ListRequest, ApiError> {
    let limit = query.i64("limit")?.unwrap_or(0);
    if limit < 0 {
        return Err(ApiError::bad_request(format!(
            "limit: Invalid value: {limit}: must be >= 0"
        )));
    }
    Ok(ListRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        label_selector: query.str("labelSelector"),
        field_selector: query.str("fieldSelector"),
        limit,
        r#continue: query.str("continue"),
    })
}

/// What a list's `resourceVersion` and `resourceVersionMatch` ask for. Lists here are always
/// served from the store's current state (sled keeps no older versions), which satisfies
/// "any" (`""`, `"0"`) and "not older than N" once the store has reached N; "exactly N" only
/// when N is the current revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListVersion {
    Any,
    NotOlderThan(u64),
    Exact(u64),
}

/// Kubernetes' ListOptions validation of the two parameters (422 `ListOptions.meta.k8s.io`).
pub(crate) fn list_version(query: &Query) -> Result<ListVersion, ApiError> {
    let rv = query.str("resourceVersion");
    let matching = query.str("resourceVersionMatch");
    let invalid = |detail: String| {
        ApiError::invalid(format!(
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: {detail}"
        ))
    };
    if !matching.is_empty() && rv.is_empty() {
        return Err(invalid(
            "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
                .into(),
        ));
    }
    if !matching.is_empty() && !query.str("continue").is_empty() {
        return Err(invalid(
            "Forbidden: resourceVersionMatch is forbidden when continue is provided".into(),
        ));
    }
    let number = || {
        rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version {rv:?}: not a number"))
        })
    };
    match matching.as_str() {
        "" if rv.is_empty() || rv == "0" => Ok(ListVersion::Any),
        "" | "NotOlderThan" => Ok(ListVersion::NotOlderThan(number()?)),
        "Exact" if rv == "0" => Err(invalid(
            "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                .into(),
        )),
        "Exact" => Ok(ListVersion::Exact(number()?)),
        other => Err(invalid(format!(
            "Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
        ))),
    }
}

/// Whether a list at revision `current` answers `wanted`: `Ok(true)` yes, `Ok(false)` not
/// yet (the store has not reached the revision: ask again), or why never.
pub(crate) fn list_answers(wanted: ListVersion, current: u64) -> Result<bool, ApiError> {
    match wanted {
        ListVersion::Any => Ok(true),
        ListVersion::NotOlderThan(n) => Ok(current >= n),
        ListVersion::Exact(n) if n == current => Ok(true),
        ListVersion::Exact(n) if n < current => Err(ApiError::new(
            proto::Reason::Expired,
            format!("too old resource version: {n} ({current})"),
        )),
        ListVersion::Exact(_) => Ok(false),
    }
}

/// How long a list waits for the store to reach a requested revision (Kubernetes waits 3 s
/// for its watch cache) before the client is told to relist.
const LIST_VERSION_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// `metadata` of a list: resourceVersion, continue, remainingItemCount.
pub(crate) fn list_meta(list: &ListResponse) -> Value {
    let mut meta = json!({ "resourceVersion": list.resource_version });
    if !list.r#continue.is_empty() {
        meta["continue"] = Value::from(list.r#continue.clone());
    }
    if let Some(n) = list.remaining_item_count {
        meta["remainingItemCount"] = Value::from(n);
    }
    meta
}

/// A `<Kind>List` document.
pub(crate) fn list_json(info: &KindInfo, list: &ListResponse) -> Value {
    let items: Vec<Value> = list.items.iter().map(object_json).collect();
    with_items(
        json!({
            "kind": format!("{}List", info.kind),
            "apiVersion": info.api_version,
            "metadata": list_meta(list),
        }),
        items,
    )
}

/// The list document as bytes, each item from the render cache: `{"apiVersion":..,
/// "items":[..],"kind":"<Kind>List","metadata":{..}}`, what `list_json` renders.
pub(crate) fn list_bytes(
    info: &KindInfo,
    list: &ListResponse,
    cache: &super::rendered::RenderCache,
) -> Vec<u8> {
    let items: Vec<bytes::Bytes> = list.items.iter().map(|o| cache.get(o)).collect();
    let mut out = Vec::with_capacity(items.iter().map(|b| b.len() + 1).sum::<usize>() + 256);
    let text = |out: &mut Vec<u8>, s: &str| {
        // A &str always serializes.
        let _ = serde_json::to_writer(&mut *out, s);
    };
    out.extend_from_slice(b"{\"apiVersion\":");
    text(&mut out, info.api_version);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"],\"kind\":");
    text(&mut out, &format!("{}List", info.kind));
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, &list_meta(list));
    out.push(b'}');
    out
}

/// Moves `items` into a list document. (`json!` would serialize them into a deep copy: on
/// a list of thousands that copy cost more than rendering the objects.)
fn with_items(mut list: Value, items: Vec<Value>) -> Value {
    list["items"] = Value::Array(items);
    list
}

async fn list<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
) -> HttpResponse {
    let (request, wanted) = match list_request(t, query).and_then(|r| Ok((r, list_version(query)?)))
    {
        Ok(r) => r,
        Err(e) => return fail(t, &e),
    };
    let deadline = tokio::time::Instant::now() + LIST_VERSION_WAIT;
    let list = loop {
        let list = match GrpcApi::list(http.api(), grpc(parts, request.clone())).await {
            Ok(r) => r.into_inner(),
            Err(s) => return fail_status(t, &s),
        };
        let current = list.resource_version.parse::<u64>().unwrap_or(0);
        match list_answers(wanted, current) {
            Ok(true) => break list,
            Ok(false) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(false) => {
                let (ListVersion::NotOlderThan(n) | ListVersion::Exact(n)) = wanted else {
                    break list;
                };
                let e = ApiError::new(
                    proto::Reason::Expired,
                    format!("Too large resource version: {n}, current: {current}"),
                );
                return fail(t, &e);
            }
            Err(e) => return fail(t, &e),
        }
    };
    let as_ = negotiate(&parts.headers);
    let value = match as_ {
        As::Object => {
            let body = list_bytes(t.info, &list, &http.rendered);
            return with_content_type(
                super::json_bytes_response(StatusCode::OK, body),
                &content_type(as_, true),
            );
        }
        As::Table(version) => {
            let items: Vec<Value> = list.items.iter().map(object_json).collect();
            table::table(
                t.info,
                &items,
                list_meta(&list),
                table::include_object(parts.uri.query().unwrap_or("")),
                &format!("meta.k8s.io/{version}"),
                SystemTime::now(),
            )
        }
        As::Metadata(version) => with_items(
            json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": format!("meta.k8s.io/{version}"),
                "metadata": list_meta(&list),
            }),
            list.items
                .iter()
                .map(|o| {
                    let mut p = partial(&object_json(o), version);
                    // Items name their own type, as Kubernetes writes them.
                    p["apiVersion"] = Value::from(format!("meta.k8s.io/{version}"));
                    p
                })
                .collect(),
        ),
    };
    with_content_type(
        json_response(StatusCode::OK, &value),
        &content_type(as_, true),
    )
}

/// The request body as JSON: JSON, or YAML when the Content-Type says so.
pub(crate) fn body_json(parts: &Parts, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = media_type(parts);
    if body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match content_type.as_str() {
        "application/yaml"
        | "application/x-yaml"
        | "text/yaml"
        | "application/apply-patch+yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
            proto::manifest::yaml_value(text).map_err(|e| {
                ApiError::bad_request(format!(
                    "error decoding YAML: {}",
                    proto::manifest::yaml_error_line(&e)
                ))
            })
        }
        t if t.contains("protobuf") => Err(ApiError::bad_request(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
        )),
        _ => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        }),
    }
}

/// 415 for a body in a format this server does not read (Kubernetes' protobuf, CBOR):
/// client-go then retries in JSON, as it does against any server that refuses them.
pub(crate) fn unsupported_body(parts: &Parts) -> Option<HttpResponse> {
    let media = media_type(parts);
    let readable = matches!(
        media.as_str(),
        "application/json" | "application/yaml" | "application/x-yaml" | "text/yaml" | "*/*" | ""
    );
    if readable {
        return None;
    }
    Some(json_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {media})"),
            "reason": "UnsupportedMediaType", "code": 415,
        }),
    ))
}

/// The request's media type, lower-cased, without parameters.
pub(crate) fn media_type(parts: &Parts) -> String {
    parts
        .headers
        .get(::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The typed object a create or update body holds, checked against the path: apiVersion
/// and kind default to the path's, and must match it when given; the namespace of the URL
/// wins, and a different one in the body is refused.
pub(crate) fn decode_object(
    t: &Target,
    mut value: Value,
    query: &Query,
) -> Result<(Object, Vec<String>), ApiError> {
    let info = t.info;
    let Value::Object(map) = &mut value else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::from(info.api_version));
        }
        Some(v) if v == info.api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({})",
                info.api_version
            )));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::from(info.kind));
        }
        Some(k) if k == info.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                info.kind
            )));
        }
    }
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Value::Object(meta) = meta
        && info.namespaced
    {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), Value::from(t.namespace.clone()));
            }
            Some(ns) if ns == t.namespace || t.namespace.is_empty() => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
    }
    let warnings = validate_fields(info, &mut value, query)?;
    let object = proto::manifest::object_from_value(value)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((object, warnings))
}

/// `fieldValidation` (Strict, Warn (default), Ignore): unknown fields refused, warned about
/// and dropped, or dropped.
pub(crate) fn validate_fields(
    info: &'static KindInfo,
    value: &mut Value,
    query: &Query,
) -> Result<Vec<String>, ApiError> {
    let mode = field_validation(query)?;
    let unknown = unknown_fields(info, value);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    match mode {
        // Kubernetes' create and update handlers prefix decoding errors this way
        // (`transformDecodeError`); kubectl prints the message as it comes.
        FieldValidation::Strict => Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
            unknown
                .iter()
                .map(|f| format!("unknown field {f:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            kind = info.kind,
            version = info.version,
        ))),
        FieldValidation::Warn => {
            prune_unknown(info, value);
            Ok(unknown
                .iter()
                .map(|f| format!("unknown field {f:?}"))
                .collect())
        }
        FieldValidation::Ignore => {
            prune_unknown(info, value);
            Ok(Vec::new())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

pub(crate) fn field_validation(query: &Query) -> Result<FieldValidation, ApiError> {
    match query.get("fieldValidation").unwrap_or("") {
        "Strict" => Ok(FieldValidation::Strict),
        "" | "Warn" => Ok(FieldValidation::Warn),
        "Ignore" => Ok(FieldValidation::Ignore),
        other => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {other}; must be one of Ignore, Warn, Strict"
        ))),
    }
}

fn unknown_fields(info: &'static KindInfo, value: &Value) -> Vec<String> {
    proto::schema::unknown_fields(info, value)
}

fn prune_unknown(info: &'static KindInfo, value: &mut Value) {
    proto::schema::prune_unknown(info, value);
}

/// `fieldManager`, else what Kubernetes derives from the User-Agent: its product name
/// (`kubectl` of `kubectl/v1.32.0 (linux/amd64) ...`), at most 128 characters.
pub(crate) fn field_manager(parts: &Parts, query: &Query) -> String {
    if let Some(m) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let agent = parts
        .headers
        .get(::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let product = agent.split('/').next().unwrap_or("").trim();
    product.chars().take(128).collect()
}

async fn create<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    if let Some(r) = unsupported_body(parts) {
        return r;
    }
    let decoded = body_json(parts, body).and_then(|v| decode_object(t, v, query));
    let (object, mut warnings) = match decoded {
        Ok(d) => d,
        Err(e) => return fail(t, &e),
    };
    let dry_run = match query.dry_run() {
        Ok(d) => d,
        Err(e) => return fail(t, &e),
    };
    let request = CreateRequest {
        object: Some(object),
        dry_run,
        field_manager: field_manager(parts, query),
    };
    match GrpcApi::create(http.api(), grpc(parts, request)).await {
        Ok(r) => {
            warnings.extend(super::warnings_of(r.metadata()));
            respond_object(
                parts,
                query,
                t.info,
                r.get_ref(),
                StatusCode::CREATED,
                &warnings,
            )
        }
        Err(s) => fail_status(t, &s),
    }
}

pub(crate) async fn update<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
    subresource: &str,
) -> HttpResponse {
    if let Some(r) = unsupported_body(parts) {
        return r;
    }
    let decoded = body_json(parts, body).and_then(|v| decode_object(t, v, query));
    let (object, mut warnings) = match decoded {
        Ok(d) => d,
        Err(e) => return fail(t, &e),
    };
    if object.meta().name != t.name {
        let e = if object.meta().name.is_empty() {
            ApiError::bad_request("name: Required value: name is required")
        } else {
            ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({})",
                object.meta().name,
                t.name
            ))
        };
        return fail(t, &e);
    }
    let dry_run = match query.dry_run() {
        Ok(d) => d,
        Err(e) => return fail(t, &e),
    };
    let request = UpdateRequest {
        object: Some(object),
        subresource: subresource.to_string(),
        dry_run,
        field_manager: field_manager(parts, query),
    };
    match GrpcApi::update(http.api(), grpc(parts, request)).await {
        Ok(r) => {
            warnings.extend(super::warnings_of(r.metadata()));
            respond_object(parts, query, t.info, r.get_ref(), StatusCode::OK, &warnings)
        }
        Err(s) => fail_status(t, &s),
    }
}

/// The patch type a Content-Type names.
pub(crate) fn patch_type(media_type: &str) -> Option<&'static str> {
    match media_type {
        "application/json-patch+json" => Some("json"),
        "application/merge-patch+json" => Some("merge"),
        "application/strategic-merge-patch+json" => Some("strategic"),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some("apply"),
        _ => None,
    }
}

pub(crate) fn unsupported_patch_type(media_type: &str) -> HttpResponse {
    json_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {media_type})"),
            "reason": "UnsupportedMediaType", "code": 415,
        }),
    )
}

/// The PatchRequest a PATCH describes (for the object or one of its subresources).
// The error is the answer itself, built once per failed request: boxing saves nothing.
#[allow(clippy::result_large_err)]
pub(crate) fn patch_request(
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
    subresource: &str,
) -> Result<PatchRequest, HttpResponse> {
    let media = media_type(parts);
    let Some(patch_type) = patch_type(&media) else {
        return Err(unsupported_patch_type(&media));
    };
    let patch = std::str::from_utf8(body)
        .map_err(|_| fail(t, &ApiError::bad_request("the patch is not UTF-8")))?
        .to_string();
    let dry_run = query.dry_run().map_err(|e| fail(t, &e))?;
    let force = query.bool("force").map_err(|e| fail(t, &e))?;
    let validation = field_validation(query).map_err(|e| fail(t, &e))?;
    if patch_type == "apply" && query.str("fieldManager").is_empty() {
        return Err(fail(
            t,
            &ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ),
        ));
    }
    if force && patch_type != "apply" {
        return Err(fail(
            t,
            &ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
            ),
        ));
    }
    let request = PatchRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        patch_type: patch_type.to_string(),
        patch,
        subresource: subresource.to_string(),
        dry_run,
        field_manager: field_manager(parts, query),
        force,
        field_validation: match validation {
            FieldValidation::Strict => "Strict",
            FieldValidation::Warn => "Warn",
            FieldValidation::Ignore => "Ignore",
        }
        .to_string(),
    };
    Ok(request)
}

pub(crate) async fn patch<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
    subresource: &str,
) -> HttpResponse {
    let request = match patch_request(parts, t, query, body, subresource) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match GrpcApi::patch(http.api(), grpc(parts, request)).await {
        Ok(r) => {
            let warnings = super::warnings_of(r.metadata());
            respond_object(parts, query, t.info, r.get_ref(), StatusCode::OK, &warnings)
        }
        Err(s) => fail_status(t, &s),
    }
}

/// Kubernetes' DeleteOptions, from the body (JSON) and the query.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: String,
    pub preconditions: Option<Preconditions>,
    pub dry_run: bool,
}

pub(crate) fn delete_options(
    parts: &Parts,
    query: &Query,
    body: &[u8],
) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions::default();
    let mut orphan: Option<bool> = None;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let v = body_json(parts, body)?;
        if let Some(g) = v.get("gracePeriodSeconds").and_then(Value::as_i64) {
            o.grace_period_seconds = Some(g);
        }
        if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation_policy = p.to_string();
        }
        if let Some(p) = v.get("preconditions").filter(|p| p.is_object()) {
            o.preconditions = Some(Preconditions {
                uid: p
                    .get("uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                resource_version: p
                    .get("resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            });
        }
        if let Some(d) = v.get("dryRun").and_then(Value::as_array) {
            for x in d {
                match x.as_str() {
                    Some("All") => o.dry_run = true,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "Invalid dryRun value: {:?}: supported values: \"All\"",
                            other.unwrap_or("")
                        )));
                    }
                }
            }
        }
        orphan = v.get("orphanDependents").and_then(Value::as_bool);
    }
    if let Some(g) = query.i64("gracePeriodSeconds")? {
        o.grace_period_seconds = Some(g);
    }
    if let Some(p) = query.get("propagationPolicy") {
        o.propagation_policy = p.to_string();
    }
    if query.get("orphanDependents").is_some() {
        orphan = Some(query.bool("orphanDependents")?);
    }
    o.dry_run |= query.dry_run()?;
    if let Some(orphan) = orphan {
        if !o.propagation_policy.is_empty() {
            return Err(ApiError::invalid(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \""
                    .to_string()
                    + &o.propagation_policy
                    + "\": orphanDependents and deletionPropagation cannot be both set",
            ));
        }
        o.propagation_policy = if orphan { "Orphan" } else { "Background" }.to_string();
    }
    Ok(o)
}

pub(crate) fn delete_request(t: &Target, name: &str, o: &DeleteOptions) -> DeleteRequest {
    DeleteRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        name: name.to_string(),
        preconditions: o.preconditions.clone(),
        grace_period_seconds: o.grace_period_seconds,
        propagation_policy: o.propagation_policy.clone(),
        dry_run: o.dry_run,
    }
}

/// Whether a delete left the object in place (finalizers, or a pod's graceful termination)
/// rather than removing it.
pub(crate) fn still_there(object: &Object) -> bool {
    let m = object.meta();
    !m.deletion_timestamp.is_empty()
        && (!m.finalizers.is_empty() || m.deletion_grace_period_seconds.unwrap_or(0) > 0)
}

async fn delete<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let options = match delete_options(parts, query, body) {
        Ok(o) => o,
        Err(e) => return fail(t, &e),
    };
    let request = delete_request(t, &t.name, &options);
    match GrpcApi::delete(http.api(), grpc(parts, request)).await {
        Ok(r) => {
            let warnings = super::warnings_of(r.metadata());
            let object = r.into_inner();
            if still_there(&object) {
                respond_object(parts, query, t.info, &object, StatusCode::OK, &warnings)
            } else {
                let mut response = json_response(
                    StatusCode::OK,
                    &super::status::success(&details(t), &object.meta().uid),
                );
                super::add_warnings(&mut response, &warnings);
                response
            }
        }
        Err(s) => fail_status(t, &s),
    }
}

/// DELETE on a collection: authorized as `deletecollection`, then every object the
/// selectors match is deleted through the same delete as one by one; answers the list of
/// what was deleted.
async fn delete_collection<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let attrs = Attributes::resource(
        "deletecollection",
        t.info.group,
        t.info.plural,
        &t.namespace,
        "",
    );
    if let Err(r) = http.authorize(parts, &attrs).await {
        return r;
    }
    let options = match delete_options(parts, query, body) {
        Ok(o) => o,
        Err(e) => return fail(t, &e),
    };
    let request = match list_request(t, query) {
        Ok(r) => r,
        Err(e) => return fail(t, &e),
    };
    let list = match GrpcApi::list(http.api(), grpc(parts, request)).await {
        Ok(r) => r.into_inner(),
        Err(s) => return fail_status(t, &s),
    };
    let mut deleted = Vec::new();
    for item in &list.items {
        let mut target = t.clone();
        target.namespace = item.meta().namespace.clone();
        let request = delete_request(&target, &item.meta().name, &options);
        match GrpcApi::delete(http.api(), grpc(parts, request)).await {
            Ok(r) => deleted.push(r.into_inner()),
            // Gone meanwhile: what the caller wanted.
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return fail_status(t, &s),
        }
    }
    let out = ListResponse {
        items: deleted,
        resource_version: list.resource_version,
        ..Default::default()
    };
    json_response(StatusCode::OK, &list_json(t.info, &out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_resource_versions_are_checked_and_answered_as_kubernetes() {
        let v = |q: &str| list_version(&Query::parse(q));
        assert_eq!(v("").unwrap(), ListVersion::Any);
        assert_eq!(v("resourceVersion=0").unwrap(), ListVersion::Any);
        assert_eq!(
            v("resourceVersion=7").unwrap(),
            ListVersion::NotOlderThan(7)
        );
        assert_eq!(
            v("resourceVersion=7&resourceVersionMatch=Exact").unwrap(),
            ListVersion::Exact(7)
        );
        let e = v("resourceVersionMatch=Exact").unwrap_err();
        assert_eq!(e.reason, proto::Reason::Invalid);
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
        assert!(
            v("resourceVersion=0&resourceVersionMatch=Exact")
                .unwrap_err()
                .message
                .contains("\"exact\" is forbidden for resourceVersion \"0\"")
        );
        assert!(
            v("resourceVersion=1&resourceVersionMatch=Newest")
                .unwrap_err()
                .message
                .contains("Unsupported value: \"Newest\"")
        );
        assert_eq!(
            v("resourceVersion=x").unwrap_err().reason,
            proto::Reason::BadRequest
        );

        assert!(list_answers(ListVersion::Any, 3).unwrap());
        assert!(list_answers(ListVersion::NotOlderThan(3), 5).unwrap());
        assert!(!list_answers(ListVersion::NotOlderThan(9), 5).unwrap());
        assert!(list_answers(ListVersion::Exact(5), 5).unwrap());
        assert!(!list_answers(ListVersion::Exact(9), 5).unwrap());
        let old = list_answers(ListVersion::Exact(3), 5).unwrap_err();
        assert_eq!(old.reason, proto::Reason::Expired);
        assert_eq!(old.message, "too old resource version: 3 (5)");
    }

    #[test]
    fn list_bytes_read_as_the_list_document() {
        use proto::Resource;
        let info = proto::resource::kind_by_plural("configmaps").unwrap();
        let items = (0..3)
            .map(|i| {
                let mut c = proto::k8s::ConfigMap::default();
                c.meta_mut().name = format!("c{i}");
                c.meta_mut().uid = format!("u{i}");
                c.meta_mut().resource_version = format!("{}", 10 + i);
                c.into_object()
            })
            .collect();
        let list = ListResponse {
            items,
            resource_version: "12".into(),
            r#continue: "next".into(),
            remaining_item_count: Some(4),
        };
        let cache = super::super::rendered::RenderCache::default();
        for _ in 0..2 {
            let bytes: Value = serde_json::from_slice(&list_bytes(info, &list, &cache)).unwrap();
            assert_eq!(bytes, list_json(info, &list));
            assert_eq!(bytes["kind"], "ConfigMapList");
            assert_eq!(bytes["items"][2]["metadata"]["name"], "c2");
        }
    }

    fn parts(content_type: &str) -> Parts {
        let (p, ()) = ::http::Request::builder()
            .header("content-type", content_type)
            .body(())
            .unwrap()
            .into_parts();
        p
    }

    fn target(plural: &str, ns: &str, name: &str) -> Target {
        Target {
            info: proto::resource::kind_by_plural(plural).unwrap(),
            namespace: ns.into(),
            name: name.into(),
            subresource: String::new(),
        }
    }

    #[test]
    fn objects_take_type_and_namespace_from_the_path() {
        let t = target("configmaps", "team", "");
        let q = Query::default();
        let (o, _) = decode_object(&t, json!({"metadata": {"name": "c"}}), &q).unwrap();
        assert_eq!(o.meta().namespace, "team");
        assert_eq!(o.info().unwrap().kind, "ConfigMap");
        let e = decode_object(
            &t,
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata": {"name": "c", "namespace": "other"}}),
            &q,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "the namespace of the provided object does not match the namespace sent on the request"
        );
        assert!(decode_object(&t, json!({"apiVersion":"apps/v1","metadata":{}}), &q).is_err());
        assert!(decode_object(&t, json!({"kind":"Secret","metadata":{}}), &q).is_err());
    }

    #[test]
    fn bodies_are_json_or_yaml() {
        let v = body_json(&parts("application/yaml"), b"a: 1\nb: x\n").unwrap();
        assert_eq!(v, json!({"a": 1, "b": "x"}));
        let v = body_json(&parts("application/json; charset=utf-8"), br#"{"a":1}"#).unwrap();
        assert_eq!(v, json!({"a": 1}));
        assert!(body_json(&parts("application/json"), b"{").is_err());
    }

    #[test]
    fn patch_types_follow_the_content_type() {
        assert_eq!(patch_type("application/merge-patch+json"), Some("merge"));
        assert_eq!(patch_type("application/json-patch+json"), Some("json"));
        assert_eq!(
            patch_type("application/strategic-merge-patch+json"),
            Some("strategic")
        );
        assert_eq!(patch_type("application/apply-patch+yaml"), Some("apply"));
        assert_eq!(patch_type("application/json"), None);
    }

    #[test]
    fn delete_options_come_from_body_and_query() {
        let p = parts("application/json");
        let o = delete_options(
            &p,
            &Query::parse("gracePeriodSeconds=0"),
            br#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","preconditions":{"uid":"u"}}"#,
        )
        .unwrap();
        assert_eq!(o.grace_period_seconds, Some(0));
        assert_eq!(o.propagation_policy, "Foreground");
        assert_eq!(o.preconditions.unwrap().uid, "u");
        let o = delete_options(&p, &Query::parse("orphanDependents=true&dryRun=All"), b"").unwrap();
        assert_eq!(o.propagation_policy, "Orphan");
        assert!(o.dry_run);
        assert!(
            delete_options(
                &p,
                &Query::parse("orphanDependents=false&propagationPolicy=Foreground"),
                b""
            )
            .is_err()
        );
    }
}
