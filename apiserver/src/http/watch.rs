//! Watch over HTTP: the gRPC watch stream as a chunked `application/json` body, one
//! `{"type":"ADDED","object":{...}}` per line, as Kubernetes streams it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::http::{StatusCode, request::Parts};
use bytes::Bytes;
use futures::StreamExt;
use proto::k8s::{Object, WatchEvent, WatchRequest};
use proto::{ApiError, KindInfo};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::path::Target;
use super::query::Query;
use super::rendered::RenderCache;
use super::verbs::{fail, fail_status, list_request};
use super::{Body, GrpcApi, HttpApi, HttpResponse, grpc, object_json, table};
use crate::store::Store;

/// The annotation on the BOOKMARK that ends a watch's initial events.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How each object is rendered: as itself, or as a one-row Table (`kubectl get -w`).
#[derive(Clone)]
struct Render {
    info: &'static KindInfo,
    table: Option<&'static str>,
    query: String,
    cache: Arc<RenderCache>,
}

impl Render {
    fn object(&self, object: &Object) -> Value {
        let value = object_json(object);
        match self.table {
            None => value,
            Some(version) => table::table(
                self.info,
                &[value],
                json!({ "resourceVersion": object.meta().resource_version }),
                table::include_object(&self.query),
                &format!("meta.k8s.io/{version}"),
                SystemTime::now(),
            ),
        }
    }

    fn bookmark(&self, resource_version: &str, initial_end: bool) -> Value {
        if let Some(version) = self.table {
            // A Table watch decodes every object as a Table: the bookmark is an empty one.
            return json!({
                "kind": "Table",
                "apiVersion": format!("meta.k8s.io/{version}"),
                "metadata": { "resourceVersion": resource_version },
                "columnDefinitions": [],
                "rows": [],
            });
        }
        let mut metadata = json!({ "resourceVersion": resource_version });
        if initial_end {
            metadata["annotations"] = json!({ INITIAL_EVENTS_END: "true" });
        }
        json!({
            "kind": self.info.kind,
            "apiVersion": self.info.api_version,
            "metadata": metadata,
        })
    }

    fn event(&self, event: &WatchEvent) -> Bytes {
        if let (Some(o), None, "ADDED" | "MODIFIED") =
            (&event.object, self.table, event.r#type.as_str())
        {
            // Every watcher of a change sends the same bytes: rendered once.
            return cached_line(&event.r#type, &self.cache.get(o));
        }
        let object = match (&event.object, event.r#type.as_str()) {
            (_, "BOOKMARK") | (None, _) => self.bookmark(&event.resource_version, false),
            (Some(o), _) => self.object(o),
        };
        line(&event.r#type, object)
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    // The object moves into the event (`json!` would serialize it into a copy first).
    let mut event = serde_json::Map::new();
    event.insert("type".into(), Value::from(kind));
    event.insert("object".into(), object);
    let mut out = serde_json::to_vec(&event).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// `{"object":<rendered>,"type":"<kind>"}` and a newline, as `line` writes it.
fn cached_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b",\"type\":");
    // A &str always serializes.
    let _ = serde_json::to_writer(&mut out, kind);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// The ERROR event a failed watch ends with (410 Expired: the client relists).
fn error_line(e: &ApiError) -> Bytes {
    line("ERROR", super::status::failure(e, None))
}

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
) -> HttpResponse {
    match start(http, parts, t, query).await {
        Ok(r) => r,
        Err(r) => r,
    }
}

async fn start<S: Store>(
    http: &HttpApi<S>,
    parts: &Parts,
    t: &Target,
    query: &Query,
) -> Result<HttpResponse, HttpResponse> {
    let bad = |e: ApiError| fail(t, &e);
    let mut field_selector = query.str("fieldSelector");
    if !t.name.is_empty() {
        // `/watch/namespaces/a/pods/x` (and `pods/x?watch=1`) watch that one object.
        let by_name = format!("metadata.name={}", t.name);
        field_selector = if field_selector.is_empty() {
            by_name
        } else {
            format!("{field_selector},{by_name}")
        };
    }
    let allow_bookmarks = query.bool("allowWatchBookmarks").map_err(bad)?;
    let send_initial = match query.get("sendInitialEvents") {
        None => false,
        Some(_) => query.bool("sendInitialEvents").map_err(bad)?,
    };
    if send_initial {
        if query.get("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(bad(ApiError::invalid(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )));
        }
        if !allow_bookmarks {
            return Err(bad(ApiError::invalid(
                "ListOptions.meta.k8s.io \"\" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
            )));
        }
    }
    let timeout = query.i64("timeoutSeconds").map_err(bad)?;
    let deadline = timeout
        .filter(|s| *s > 0)
        .map(|s| Instant::now() + Duration::from_secs(s as u64));
    let render = Render {
        info: t.info,
        table: table::wants_table(&parts.headers),
        query: parts.uri.query().unwrap_or("").to_string(),
        cache: http.rendered.clone(),
    };
    let mut initial = VecDeque::new();
    let mut resource_version = query.str("resourceVersion");
    if send_initial {
        // The state as ADDED events, then a BOOKMARK marking its end, then every change.
        let mut lt = t.clone();
        lt.name.clear();
        let mut request = list_request(&lt, query).map_err(bad)?;
        request.field_selector = field_selector.clone();
        request.limit = 0;
        request.r#continue.clear();
        let list = GrpcApi::list(http.api(), grpc(parts, request))
            .await
            .map_err(|s| fail_status(t, &s))?
            .into_inner();
        for item in &list.items {
            initial.push_back(line("ADDED", render.object(item)));
        }
        initial.push_back(line(
            "BOOKMARK",
            render.bookmark(&list.resource_version, true),
        ));
        resource_version = list.resource_version;
    }
    let request = WatchRequest {
        resource: t.info.plural.to_string(),
        namespace: t.namespace.clone(),
        label_selector: query.str("labelSelector"),
        field_selector,
        resource_version,
        allow_watch_bookmarks: allow_bookmarks,
    };
    let stream = GrpcApi::watch(http.api(), grpc(parts, request))
        .await
        .map_err(|s| refused(t, &s))?
        .into_inner();
    let state = State {
        initial,
        stream,
        deadline,
        render,
        done: false,
    };
    let body = futures::stream::unfold(state, next).map(Ok::<_, Infallible>);
    let mut response = ::http::Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A watch refused before it started, as Kubernetes' Status; a refusal over the watch caps
/// (429) tells when to retry in `Retry-After`, as the gRPC one does in its metadata.
fn refused(t: &Target, s: &tonic::Status) -> HttpResponse {
    let e = ApiError::from_status(s);
    let mut response = fail(t, &e);
    if let Some(seconds) = e.retry_after_seconds {
        response
            .headers_mut()
            .entry(::http::header::RETRY_AFTER)
            .or_insert(::http::HeaderValue::from(seconds));
    }
    response
}

/// The body's state: what is still to send, read one event at a time when hyper asks for
/// the next chunk, so a client that stops reading (its HTTP/2 window or TCP buffer full)
/// stops the pulling, the gRPC-side buffer fills, and the watcher is closed after the
/// stall timeout (crate::watch) instead of events piling up here.
struct State<W> {
    initial: VecDeque<Bytes>,
    stream: W,
    deadline: Option<Instant>,
    render: Render,
    done: bool,
}

async fn next<W>(mut s: State<W>) -> Option<(Bytes, State<W>)>
where
    W: futures::Stream<Item = crate::watch::EventResult> + Unpin,
{
    if let Some(b) = s.initial.pop_front() {
        return Some((b, s));
    }
    if s.done {
        return None;
    }
    let item = match s.deadline {
        // timeoutSeconds: the server ends the watch, the client starts a new one.
        Some(d) => tokio::time::timeout_at(d, s.stream.next()).await.ok()?,
        None => s.stream.next().await,
    };
    match item? {
        Ok(event) => {
            let b = s.render.event(&event);
            Some((b, s))
        }
        Err(status) => {
            s.done = true;
            Some((error_line(&ApiError::from_status(&status)), s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;

    #[test]
    fn events_render_as_kubernetes_lines() {
        let render = Render {
            info: proto::resource::kind_by_plural("pods").unwrap(),
            table: None,
            query: String::new(),
            cache: Arc::default(),
        };
        let mut pod = proto::k8s::Pod::default();
        pod.meta_mut().name = "p".into();
        pod.meta_mut().uid = "u".into();
        pod.meta_mut().resource_version = "5".into();
        let ev = WatchEvent {
            r#type: "ADDED".into(),
            object: Some(pod.into_object()),
            resource_version: "5".into(),
            trace_parent: String::new(),
        };
        let v: Value = serde_json::from_slice(&render.event(&ev)).unwrap();
        assert_eq!(v["type"], "ADDED");
        assert_eq!(v["object"]["kind"], "Pod");
        assert_eq!(v["object"]["metadata"]["name"], "p");
        // The cached rendering reads the same as the uncached one (a DELETED event).
        let deleted = WatchEvent {
            r#type: "DELETED".into(),
            ..ev.clone()
        };
        let d: Value = serde_json::from_slice(&render.event(&deleted)).unwrap();
        assert_eq!(d["object"], v["object"]);
        assert_eq!(d["type"], "DELETED");
        let bm = WatchEvent {
            r#type: "BOOKMARK".into(),
            object: None,
            resource_version: "9".into(),
            trace_parent: String::new(),
        };
        let v: Value = serde_json::from_slice(&render.event(&bm)).unwrap();
        assert_eq!(
            v,
            json!({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"9"}}})
        );
        let e: Value = serde_json::from_slice(&error_line(&ApiError::new(
            proto::Reason::Expired,
            "too old resource version: 1 (5)",
        )))
        .unwrap();
        assert_eq!(e["type"], "ERROR");
        assert_eq!(e["object"]["code"], 410);
        assert_eq!(e["object"]["reason"], "Expired");
        let table = Render {
            table: Some("v1"),
            ..render
        };
        let v: Value = serde_json::from_slice(&table.event(&bm)).unwrap();
        assert_eq!(v["object"]["kind"], "Table");
        assert_eq!(v["object"]["metadata"]["resourceVersion"], "9");
    }
}
