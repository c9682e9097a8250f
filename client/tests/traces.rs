//! Trace context end to end in one process, against the test collector: a client call's
//! span, the apiserver's request span (parented on the call's `traceparent` in gRPC
//! metadata), the handler's span under it, and the reconcile that the write's watch event
//! causes, a child of that write: one trace.

mod common;

use apiserver::testing::TestServer;
use client::runtime::{Action, Controller, ReconcileError, Request};
use client::{Api, Informer, InformerConfig};
use common::{config_map, connect, eventually, namespace};
use proto::k8s::ConfigMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use telemetry::trace::collector::{CollectedSpan, Collector};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;
impl ReconcileError for Never {}

fn find<'a>(
    spans: &'a [CollectedSpan],
    what: &str,
    f: impl Fn(&CollectedSpan) -> bool,
) -> &'a CollectedSpan {
    spans
        .iter()
        .find(|s| f(s))
        .unwrap_or_else(|| panic!("no {what} among {spans:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_its_server_span_and_the_reconcile_it_causes_are_one_trace() {
    let collector = Collector::start().await.unwrap();
    let guard = telemetry::trace::init_subscriber("component", Some(&collector.endpoint()))
        .expect("the first subscriber of this test binary");
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "tr").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "tr");

    let informer = Arc::new(Informer::new(cms.clone(), InformerConfig::default()));
    informer.start();
    let reconciled: Arc<Mutex<Vec<String>>> = Arc::default();
    let cancel = CancellationToken::new();
    let run = Controller::new("traced", informer.clone()).run(
        |req: Request<ConfigMap>, seen: Arc<Mutex<Vec<String>>>| async move {
            seen.lock().unwrap().push(req.key);
            Ok::<_, Never>(Action::Done)
        },
        |_, _, _| Action::Backoff,
        reconciled.clone(),
        cancel.clone(),
    );
    let controller = tokio::spawn(run);
    assert!(informer.wait_until_synced().await);

    cms.create(&config_map("traced", &[]))
        .instrument(tracing::info_span!("client_call"))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "the reconcile of tr/traced",
        || reconciled.lock().unwrap().iter().any(|k| k == "tr/traced"),
    )
    .await;
    cancel.cancel();
    controller.await.unwrap();
    // Dropped on a worker thread: the last spans are flushed before it returns.
    drop(guard);

    let spans = collector.spans();
    assert!(spans.iter().all(|s| s.service == "component"), "{spans:#?}");
    let call = find(&spans, "client_call", |s| s.name == "client_call");
    let request = find(&spans, "the server's request span", |s| {
        s.name == "k8s.Api/Create" && s.trace_id == call.trace_id
    });
    assert_eq!(
        request.parent_span_id, call.span_id,
        "parented on the traceparent"
    );
    assert_eq!(request.attribute("path"), Some("/k8s.Api/Create"));
    let create = find(&spans, "the handler's create span", |s| {
        s.name == "create" && s.parent_span_id == request.span_id
    });
    assert_eq!(create.attribute("key"), Some("configmaps/tr/traced"));
    let reconcile = find(&spans, "the reconcile of tr/traced", |s| {
        s.name == "reconcile" && s.attribute("key") == Some("tr/traced")
    });
    assert_eq!(
        reconcile.trace_id, call.trace_id,
        "the watch event carried the trace"
    );
    assert_eq!(
        reconcile.parent_span_id, create.span_id,
        "the reconcile is a child of the write"
    );
    // The namespace was created outside any span: a trace of its own.
    let ns = find(&spans, "the namespace's request", |s| {
        s.name == "k8s.Api/Create" && s.span_id != request.span_id
    });
    assert_ne!(ns.trace_id, call.trace_id);
}
