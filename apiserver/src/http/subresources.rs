//! Subresources: `status`, `scale` (autoscaling/v1 Scale), `binding`, `eviction`,
//! `finalize`, and the dispatch of logs, exec, attach, port-forward, proxy and token to
//! their modules.

use ::http::{Method, StatusCode, request::Parts};
use bytes::Bytes;
use proto::ApiError;
use proto::k8s::{
    BindRequest, Binding, DeleteOptions, EvictRequest, Eviction, GetScaleRequest, Scale,
    UpdateScaleRequest,
};
use serde_json::{Value, json};

use super::path::{Parsed, Target};
use super::query::Query;
use super::verbs::{self, fail, fail_status, method_not_allowed};
use super::{Body, GrpcApi, HttpApi, HttpResponse, grpc, json_response};
use crate::store::Store;

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    parts: Parts,
    parsed: Parsed,
    query: &Query,
    bytes: Bytes,
    stream_body: Option<Body>,
) -> HttpResponse {
    let t = &parsed.target;
    let plural = t.info.plural;
    let sub = t.subresource.as_str();
    // A name is required for every subresource but the collection-level `bindings`.
    if t.name.is_empty() && sub != "binding" {
        return super::status::not_found_path();
    }
    // Bodies not read yet (a streaming subresource the path did not announce as such).
    let body = match stream_body {
        Some(b) if !matches!(sub, "exec" | "attach" | "portforward" | "proxy" | "log") => {
            match super::read_body(b).await {
                Ok(v) => Bytes::from(v),
                Err(r) => return r,
            }
        }
        Some(b) => {
            return streaming(http, parts, &parsed, b).await;
        }
        None => bytes,
    };
    match (sub, &parts.method) {
        ("status", _) if !t.info.has_status => super::status::not_found_path(),
        ("status", &Method::GET) => verbs::serve(http, &parts, &unsub(&parsed), query, &[]).await,
        ("status", &Method::PUT) => verbs::update(http, &parts, t, query, &body, "status").await,
        ("status", &Method::PATCH) => verbs::patch(http, &parts, t, query, &body, "status").await,
        ("scale", _) if !t.info.has_scale => super::status::not_found_path(),
        ("scale", &Method::GET) => get_scale(http, &parts, t).await,
        ("scale", &Method::PUT) => put_scale(http, &parts, t, query, &body).await,
        ("scale", &Method::PATCH) => patch_scale(http, &parts, t, query, &body).await,
        ("binding", &Method::POST) if plural == "pods" => bind(http, &parts, t, &body).await,
        ("eviction", &Method::POST) if plural == "pods" => {
            evict(http, &parts, t, query, &body).await
        }
        ("finalize", &Method::PUT) if plural == "namespaces" => {
            verbs::update(http, &parts, t, query, &body, "finalize").await
        }
        ("token", &Method::POST) if plural == "serviceaccounts" => {
            super::reviews::token_request(http, &parts, &t.namespace, &t.name, &body).await
        }
        ("log", &Method::GET) if plural == "pods" => {
            super::stream::pod_log(http, &parts, &t.namespace, &t.name).await
        }
        ("status" | "scale" | "binding" | "eviction" | "finalize" | "token" | "log", _)
            if known(plural, sub) =>
        {
            method_not_allowed()
        }
        _ => super::status::not_found_path(),
    }
}

fn known(plural: &str, sub: &str) -> bool {
    matches!(
        (plural, sub),
        ("pods", "binding" | "eviction" | "log")
            | ("namespaces", "finalize")
            | ("serviceaccounts", "token")
            | (_, "status" | "scale")
    )
}

/// The path without its subresource (GET `.../status` answers the whole object).
fn unsub(parsed: &Parsed) -> Parsed {
    let mut p = parsed.clone();
    p.target.subresource.clear();
    p.watch = false;
    p
}

/// Exec, attach, port-forward, and proxy: the request as it came (its connection may be
/// upgraded).
async fn streaming<S: Store>(
    http: &HttpApi<S>,
    parts: Parts,
    parsed: &Parsed,
    body: Body,
) -> HttpResponse {
    let t = &parsed.target;
    let (ns, name) = (t.namespace.clone(), t.name.clone());
    match (t.info.plural, t.subresource.as_str()) {
        ("pods", "log") if parts.method == Method::GET => {
            super::stream::pod_log(http, &parts, &ns, &name).await
        }
        ("pods", "exec") if matches!(parts.method, Method::GET | Method::POST) => {
            let request = ::http::Request::from_parts(parts, body);
            super::stream::pod_exec(http, request, &ns, &name, false).await
        }
        ("pods", "attach") if matches!(parts.method, Method::GET | Method::POST) => {
            let request = ::http::Request::from_parts(parts, body);
            super::stream::pod_exec(http, request, &ns, &name, true).await
        }
        ("pods", "portforward") if matches!(parts.method, Method::GET | Method::POST) => {
            let request = ::http::Request::from_parts(parts, body);
            super::stream::pod_port_forward(http, request, &ns, &name).await
        }
        ("pods" | "nodes" | "services", "proxy") => proxy(http, parts, parsed, body).await,
        ("pods", "exec" | "attach" | "portforward" | "log") => method_not_allowed(),
        _ => super::status::not_found_path(),
    }
}

/// `nodes/{name}/proxy/...` etc.: not served (the kubelet API is gRPC); said clearly.
async fn proxy<S: Store>(
    _http: &HttpApi<S>,
    _parts: Parts,
    parsed: &Parsed,
    _body: Body,
) -> HttpResponse {
    fail(
        &parsed.target,
        &ApiError::not_found(format!(
            "{}/proxy is not served by this apiserver (asked for {:?})",
            parsed.target.info.plural, parsed.rest
        )),
    )
}

/// autoscaling/v1 Scale as Kubernetes writes it.
pub(crate) fn scale_json(scale: &Scale) -> Value {
    let metadata = scale
        .metadata
        .as_ref()
        .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
        .unwrap_or_else(|| json!({}));
    let mut status = json!({ "replicas": scale.status.as_ref().map_or(0, |s| s.replicas) });
    if let Some(s) = scale.status.as_ref().filter(|s| !s.selector.is_empty()) {
        status["selector"] = Value::from(s.selector.clone());
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": { "replicas": scale.spec.as_ref().map_or(0, |s| s.replicas) },
        "status": status,
    })
}

/// A Scale document (PUT body, or the patched one) into the proto.
pub(crate) fn scale_from_json(t: &Target, value: &Value) -> Result<Scale, ApiError> {
    let metadata = match value.get("metadata") {
        Some(m) => serde_json::from_value(m.clone())
            .map_err(|e| ApiError::bad_request(format!("Scale metadata: {e}")))?,
        None => proto::k8s::ObjectMeta::default(),
    };
    let mut metadata: proto::k8s::ObjectMeta = metadata;
    if metadata.name.is_empty() {
        metadata.name = t.name.clone();
    } else if metadata.name != t.name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            metadata.name, t.name
        )));
    }
    if metadata.namespace.is_empty() {
        metadata.namespace = t.namespace.clone();
    } else if metadata.namespace != t.namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let replicas = match value.pointer("/spec/replicas") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| ApiError::bad_request("spec.replicas: must be an integer"))?,
    };
    Ok(Scale {
        api_version: "autoscaling/v1".into(),
        kind: "Scale".into(),
        metadata: Some(metadata),
        spec: Some(proto::k8s::ScaleSpec { replicas }),
        status: None,
    })
}

async fn get_scale<S: Store>(http: &HttpApi<S>, parts: &Parts, t: &Target) -> HttpResponse {
    let request = GetScaleRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
    };
    match GrpcApi::get_scale(http.api(), grpc(parts, request)).await {
        Ok(r) => json_response(StatusCode::OK, &scale_json(r.get_ref())),
        Err(s) => fail_status(t, &s),
    }
}

async fn update_scale<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    scale: Scale,
    field_manager: &str,
    dry_run: bool,
) -> HttpResponse {
    let request = UpdateScaleRequest {
        resource: t.info.plural.to_string(),
        scale: Some(scale),
        field_manager: field_manager.to_string(),
        dry_run,
    };
    match GrpcApi::update_scale(http.api(), grpc(parts, request)).await {
        Ok(r) => json_response(StatusCode::OK, &scale_json(r.get_ref())),
        Err(s) => fail_status(t, &s),
    }
}

async fn put_scale<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let dry_run = match query.dry_run() {
        Ok(d) => d,
        Err(e) => return fail(t, &e),
    };
    let scale = verbs::body_json(parts, body).and_then(|v| scale_from_json(t, &v));
    match scale {
        Ok(s) => {
            let manager = query.get("fieldManager").unwrap_or("");
            update_scale(http, parts, t, s, manager, dry_run).await
        }
        Err(e) => fail(t, &e),
    }
}

/// PATCH on scale: the patch applied to the current Scale document, then an update.
async fn patch_scale<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let request = match verbs::patch_request(parts, t, query, body, "scale") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let current = GetScaleRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
    };
    let current = match GrpcApi::get_scale(http.api(), grpc(parts, current)).await {
        Ok(r) => scale_json(r.get_ref()),
        Err(s) => return fail_status(t, &s),
    };
    let patched = match apply_patch(&request.patch_type, &current, &request.patch) {
        Ok(v) => v,
        Err(e) => return fail(t, &e),
    };
    let mut scale = match scale_from_json(t, &patched) {
        Ok(s) => s,
        Err(e) => return fail(t, &e),
    };
    // A patch is not a precondition unless it names a resourceVersion itself.
    if let Some(m) = scale.metadata.as_mut()
        && patched.pointer("/metadata/resourceVersion")
            == current.pointer("/metadata/resourceVersion")
    {
        m.resource_version.clear();
    }
    update_scale(
        http,
        parts,
        t,
        scale,
        &request.field_manager,
        request.dry_run,
    )
    .await
}

/// A patch applied to the Scale document (json, merge and strategic as for any object;
/// an apply patch merges the fields it sets, Scale having no lists).
fn apply_patch(patch_type: &str, doc: &Value, patch: &str) -> Result<Value, ApiError> {
    if patch_type != "apply" {
        return crate::patch::apply_to_json(patch_type, "k8s.Scale", doc, patch);
    }
    let p = crate::patch::parse(crate::patch::PatchType::Apply, patch)?;
    let mut out = doc.clone();
    crate::patch::merge_patch(&mut out, &p);
    Ok(out)
}

/// `POST pods/{name}/binding` (and `POST bindings`): schedules the pod; 201 Status Success.
async fn bind<S: Store>(http: &HttpApi<S>, parts: &Parts, t: &Target, body: &[u8]) -> HttpResponse {
    let value = match verbs::body_json(parts, body) {
        Ok(v) => v,
        Err(e) => return fail(t, &e),
    };
    let mut binding: Binding = match serde_json::from_value(value) {
        Ok(b) => b,
        Err(e) => return fail(t, &ApiError::bad_request(format!("invalid Binding: {e}"))),
    };
    let meta = binding.metadata.get_or_insert_with(Default::default);
    if meta.namespace.is_empty() {
        meta.namespace = t.namespace.clone();
    } else if meta.namespace != t.namespace {
        return fail(
            t,
            &ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ),
        );
    }
    if !t.name.is_empty() {
        if meta.name.is_empty() {
            meta.name = t.name.clone();
        } else if meta.name != t.name {
            return fail(
                t,
                &ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({})",
                    meta.name, t.name
                )),
            );
        }
    }
    let mut target = t.clone();
    target.name = meta.name.clone();
    let request = BindRequest {
        binding: Some(binding),
    };
    match GrpcApi::bind(http.api(), grpc(parts, request)).await {
        Ok(_) => json_response(StatusCode::CREATED, &created_status()),
        Err(s) => fail_status(&target, &s),
    }
}

fn created_status() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

/// `POST pods/{name}/eviction` (a policy/v1 or v1beta1 Eviction): the eviction
/// subresource of [`crate::eviction`], answered as Kubernetes does: 201 with a Success
/// Status, 429 with the DisruptionBudget cause when a budget refuses, 500 when several
/// budgets cover the pod.
async fn evict<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
    body: &[u8],
) -> HttpResponse {
    let value = match verbs::body_json(parts, body) {
        Ok(v) => v,
        Err(e) => return fail(t, &e),
    };
    match value.get("kind").and_then(Value::as_str) {
        None | Some("Eviction") => {}
        Some(k) => {
            return fail(
                t,
                &ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind (Eviction)"
                )),
            );
        }
    }
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let options_body = value
        .get("deleteOptions")
        .map(|o| serde_json::to_vec(o).unwrap_or_default())
        .unwrap_or_default();
    let json_parts = {
        let mut p = ::http::Request::new(());
        *p.headers_mut() = parts.headers.clone();
        p.headers_mut().insert(
            ::http::header::CONTENT_TYPE,
            ::http::HeaderValue::from_static("application/json"),
        );
        p.into_parts().0
    };
    // The request's own dryRun joins the Eviction's (Kubernetes' propagateDryRun).
    let options = match verbs::delete_options(&json_parts, query, &options_body) {
        Ok(o) => o,
        Err(e) => return fail(t, &e),
    };
    let eviction = Eviction {
        api_version: "policy/v1".into(),
        kind: "Eviction".into(),
        metadata: Some(proto::k8s::ObjectMeta {
            name: name.to_string(),
            namespace: t.namespace.clone(),
            ..Default::default()
        }),
        delete_options: Some(DeleteOptions {
            grace_period_seconds: options.grace_period_seconds,
            preconditions: options.preconditions.clone(),
            propagation_policy: Some(options.propagation_policy.clone()).filter(|p| !p.is_empty()),
            dry_run: if options.dry_run {
                vec!["All".to_string()]
            } else {
                Vec::new()
            },
            ..Default::default()
        }),
    };
    let request = EvictRequest {
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        eviction: Some(eviction),
    };
    match GrpcApi::evict(http.api(), grpc(parts, request)).await {
        Ok(_) => json_response(StatusCode::CREATED, &created_status()),
        Err(s) => eviction_refused(t, &crate::eviction::refusal_of(&s)),
    }
}

/// The Status of a refused eviction, with what Kubernetes adds to it.
fn eviction_refused(t: &Target, refusal: &crate::eviction::Refusal) -> HttpResponse {
    let e = &refusal.error;
    if e.message == crate::eviction::MANY_BUDGETS_MESSAGE {
        // Kubernetes answers this one with a bare Status: no reason, no details.
        let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": e.message, "code": 500});
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &status);
    }
    if e.reason != proto::Reason::TooManyRequests {
        return fail(t, e);
    }
    let mut status = super::status::failure(e, None);
    let mut details = json!({});
    if let Some(cause) = &refusal.cause {
        details["causes"] =
            json!([{"reason": crate::eviction::DISRUPTION_BUDGET_CAUSE, "message": cause}]);
    }
    let retry_after = e.retry_after_seconds.filter(|s| *s > 0);
    if let Some(seconds) = retry_after {
        details["retryAfterSeconds"] = Value::from(seconds);
    }
    status["details"] = details;
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &status);
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(
            ::http::header::RETRY_AFTER,
            ::http::HeaderValue::from(seconds),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            info: proto::resource::kind_by_plural("deployments").unwrap(),
            namespace: "a".into(),
            name: "web".into(),
            subresource: "scale".into(),
        }
    }

    #[test]
    fn scale_round_trips_through_its_json() {
        let scale = Scale {
            api_version: "autoscaling/v1".into(),
            kind: "Scale".into(),
            metadata: Some(proto::k8s::ObjectMeta {
                name: "web".into(),
                namespace: "a".into(),
                ..Default::default()
            }),
            spec: Some(proto::k8s::ScaleSpec { replicas: 3 }),
            status: Some(proto::k8s::ScaleStatus {
                replicas: 2,
                selector: "app=web".into(),
            }),
        };
        let v = scale_json(&scale);
        assert_eq!(v["kind"], "Scale");
        assert_eq!(v["apiVersion"], "autoscaling/v1");
        assert_eq!(v["spec"]["replicas"], 3);
        assert_eq!(v["status"], json!({"replicas": 2, "selector": "app=web"}));
        let patched = apply_patch("merge", &v, r#"{"spec":{"replicas":5}}"#).unwrap();
        let back = scale_from_json(&target(), &patched).unwrap();
        assert_eq!(back.spec.unwrap().replicas, 5);
        assert_eq!(back.metadata.unwrap().name, "web");
        let wrong = json!({"metadata": {"name": "other"}, "spec": {"replicas": 1}});
        assert!(scale_from_json(&target(), &wrong).is_err());
    }
}
