//! Events about pods (Pulled, Created, Started, Killing, BackOff, Unhealthy...), written
//! through the recorder every daemon shares (`client::events`): one task behind a bounded
//! queue so a slow apiserver never holds a pod worker (a full queue drops the event, with a
//! log line), repeats of the same (object, field, type, reason, message) turned into
//! `count`/`lastTimestamp` patches of one Event at most once per interval (10 s doubling to
//! 5 min), similar events with differing messages combined after ten, and a spam filter per
//! pod. A pod failing in a loop costs the store one object and a few patches.

use client::events::{ApiSink, EventType, RecorderConfig};
use client::{Client, SystemClock};
use proto::k8s::{ObjectReference, Pod};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Recorder {
    inner: client::events::Recorder,
}

impl Recorder {
    /// The recorder and the task that writes its events (until `cancel`).
    pub fn new(
        client: Client,
        node: &str,
        cancel: CancellationToken,
    ) -> (
        Recorder,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (inner, broadcaster) = client::events::recorder(
            RecorderConfig::new("kubelet", node, node),
            Arc::new(SystemClock),
        );
        (
            Recorder { inner },
            broadcaster.run(ApiSink::new(client), cancel),
        )
    }

    /// A recorder whose events go nowhere (tests of parts that record events).
    pub fn discard() -> Recorder {
        Recorder {
            inner: client::events::Recorder::discard(),
        }
    }

    /// `field_path` names the container (`spec.containers{name}`), empty for the pod.
    pub fn pod_event(
        &self,
        pod: &Pod,
        warning: bool,
        reason: &str,
        field_path: &str,
        message: String,
    ) {
        let meta = pod.metadata.clone().unwrap_or_default();
        tracing::info!(pod = %format!("{}/{}", meta.namespace, meta.name), reason, %message, "event");
        let reference = ObjectReference {
            kind: "Pod".into(),
            namespace: meta.namespace,
            name: meta.name,
            uid: meta.uid,
            api_version: "v1".into(),
            resource_version: String::new(),
            field_path: field_path.to_string(),
        };
        self.inner.record(
            reference,
            EventType::warning_if(warning),
            reason,
            message,
            "",
        );
    }
}

pub fn container_field_path(kind: crate::runtime::ContainerKind, name: &str) -> String {
    match kind {
        crate::runtime::ContainerKind::Init => format!("spec.initContainers{{{name}}}"),
        _ => format!("spec.containers{{{name}}}"),
    }
}
