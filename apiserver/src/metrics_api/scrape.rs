//! The scraper: every resolution, each Node's kubelet is asked for `/metrics/resource`
//! through the apiserver's own kubelet connection (the proxy's channel: TLS with the
//! kubelet-client certificate, the Node's InternalIP and published port), all nodes at
//! once, each within its own timeout. A node that fails is logged and left out of the
//! round; nothing a kubelet answers can stop the loop.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proto::k8s::ListRequest;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, warn};

use super::parse::{self, Batch};
use super::storage::Storage;
use crate::kubelet_proxy::KubeletProxy;
use crate::registry::Registry;
use crate::store::Store;

/// The kubelet's resource metrics path (Kubernetes' `/metrics/resource`).
pub const RESOURCE_METRICS_PATH: &str = "/metrics/resource";

/// A kubelet answer larger than this is refused (a node with thousands of containers
/// writes well under 1 MiB).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("cannot reach the kubelet: {0}")]
    Dial(String),
    #[error("GET {RESOURCE_METRICS_PATH}: {0}")]
    Request(String),
    #[error("GET {RESOURCE_METRICS_PATH} answered {0}")]
    Status(u16),
    #[error("cannot read the answer: {0}")]
    Body(String),
    #[error("not the Prometheus text format: {0}")]
    Parse(#[from] parse::ParseError),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

#[derive(Debug, Clone, Copy)]
pub struct ScrapeOptions {
    /// Between rounds (`--metric-resolution`).
    pub resolution: Duration,
    /// One node's scrape, connection included.
    pub timeout: Duration,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Rounds until `shutdown` turns true.
pub async fn run<S: Store>(
    registry: Registry<S>,
    kubelet: Arc<KubeletProxy<S>>,
    storage: Arc<RwLock<Storage>>,
    options: ScrapeOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(options.resolution);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let resolution_ms = i64::try_from(options.resolution.as_millis()).unwrap_or(i64::MAX);
    info!(resolution = ?options.resolution, "metrics.k8s.io: scraping kubelets");
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        // A round in flight when the server stops is abandoned, not finished against a
        // closing store.
        let batch = tokio::select! {
            batch = round(&registry, &kubelet, options.timeout) => batch,
            _ = shutdown.changed() => return,
        };
        let mut s = storage.write().unwrap_or_else(|e| e.into_inner());
        s.store(batch, resolution_ms);
        let (nodes, pods) = s.counts();
        debug!(nodes, pods, "metrics.k8s.io: usage available");
    }
}

/// One round: every node, concurrently; the successes merged.
async fn round<S: Store>(
    registry: &Registry<S>,
    kubelet: &KubeletProxy<S>,
    timeout: Duration,
) -> Batch {
    let request = ListRequest {
        resource: "nodes".into(),
        ..Default::default()
    };
    let nodes = match registry.list(&request).await {
        Ok(list) => list.items,
        Err(e) => {
            warn!(error = %e, "metrics.k8s.io: cannot list nodes; round skipped");
            return Batch::default();
        }
    };
    let scrapes = nodes.iter().map(|n| {
        let name = n.meta().name.clone();
        let span = tracing::info_span!("scrape_node", node = %name);
        async move {
            let result = tokio::time::timeout(timeout, scrape(kubelet, &name))
                .await
                .unwrap_or(Err(ScrapeError::Timeout(timeout)));
            if let Err(e) = &result {
                warn!(node = %name, error = %e, "metrics.k8s.io: scraping the node's kubelet failed; node skipped this round");
            }
            result.ok()
        }
        .instrument(span)
    });
    let mut merged = Batch::default();
    for batch in futures::future::join_all(scrapes)
        .await
        .into_iter()
        .flatten()
    {
        merged.nodes.extend(batch.nodes);
        for (pod, containers) in batch.pods {
            // A pod is on one node; a duplicate (a stale kubelet) keeps the first seen.
            merged.pods.entry(pod).or_insert(containers);
        }
    }
    merged
}

async fn scrape<S: Store>(kubelet: &KubeletProxy<S>, node: &str) -> Result<Batch, ScrapeError> {
    let channel = kubelet
        .node_channel(node)
        .await
        .map_err(|s| ScrapeError::Dial(s.message().to_string()))?;
    let text = get(channel, RESOURCE_METRICS_PATH).await?;
    Ok(parse::decode(node, &text, now_ms())?)
}

/// An HTTP/2 GET on a kubelet connection (a tonic channel sends any request; its origin
/// is the kubelet's address).
pub(crate) async fn get<C>(mut channel: C, path: &str) -> Result<String, ScrapeError>
where
    C: tower_service::Service<
            ::http::Request<tonic::body::Body>,
            Response = ::http::Response<tonic::body::Body>,
        >,
    C::Error: std::fmt::Display,
{
    let request = ::http::Request::get(path)
        .header(::http::header::ACCEPT, "text/plain")
        .body(tonic::body::Body::empty())
        .map_err(|e| ScrapeError::Request(e.to_string()))?;
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .map_err(|e| ScrapeError::Request(e.to_string()))?;
    let response = channel
        .call(request)
        .await
        .map_err(|e| ScrapeError::Request(e.to_string()))?;
    if !response.status().is_success() {
        return Err(ScrapeError::Status(response.status().as_u16()));
    }
    let body = axum::body::Body::new(response.into_body());
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| ScrapeError::Body(e.to_string()))?;
    String::from_utf8(bytes.to_vec()).map_err(|e| ScrapeError::Body(e.to_string()))
}
