//! Events about pods (Pulled, Created, Started, Killing, BackOff, Unhealthy...), written by
//! one task through a bounded queue so a slow apiserver never holds a pod worker; when the
//! queue is full an event is dropped (and logged), as client-go's broadcaster does.

use client::{Api, Client};
use proto::k8s::{Event, EventSource, ObjectMeta, ObjectReference, Pod};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Event>,
    node: String,
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
        let (tx, mut rx) = mpsc::channel::<Event>(1024);
        let task = async move {
            loop {
                let ev = tokio::select! {
                    _ = cancel.cancelled() => return,
                    ev = rx.recv() => match ev { Some(e) => e, None => return },
                };
                let ns = ev
                    .metadata
                    .as_ref()
                    .map(|m| m.namespace.clone())
                    .unwrap_or_default();
                let api: Api<Event> = Api::namespaced(client.clone(), &ns);
                if let Err(e) = api.create(&ev).await {
                    tracing::debug!(namespace = %ns, reason = %ev.reason, error = %e, "writing an event failed");
                }
            }
        };
        (
            Recorder {
                tx,
                node: node.to_string(),
            },
            task,
        )
    }

    /// A recorder whose events go nowhere (tests of parts that record events).
    pub fn discard() -> Recorder {
        let (tx, _rx) = mpsc::channel(1);
        Recorder {
            tx,
            node: String::new(),
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
        let now = proto::time::now_rfc3339();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let ev = Event {
            metadata: Some(ObjectMeta {
                name: format!("{}.{:x}{:04x}", meta.name, nanos, rand::random::<u16>()),
                namespace: meta.namespace.clone(),
                ..Default::default()
            }),
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
                uid: meta.uid.clone(),
                api_version: "v1".into(),
                resource_version: String::new(),
                field_path: field_path.to_string(),
            }),
            reason: reason.to_string(),
            message,
            r#type: if warning { "Warning" } else { "Normal" }.into(),
            count: 1,
            first_timestamp: now.clone(),
            last_timestamp: now,
            source: Some(EventSource {
                component: "kubelet".into(),
                host: self.node.clone(),
            }),
            reporting_component: "kubelet".into(),
            reporting_instance: self.node.clone(),
            ..Default::default()
        };
        tracing::info!(pod = %format!("{}/{}", meta.namespace, meta.name), reason, message = %ev.message, "event");
        if self.tx.try_send(ev).is_err() {
            tracing::debug!(pod = %meta.name, reason, "event queue full or closed; event dropped");
        }
    }
}

pub fn container_field_path(kind: crate::runtime::ContainerKind, name: &str) -> String {
    match kind {
        crate::runtime::ContainerKind::Init => format!("spec.initContainers{{{name}}}"),
        _ => format!("spec.containers{{{name}}}"),
    }
}
