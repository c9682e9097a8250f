//! Where pod usage comes from (Kubernetes' resource metrics API, served there by
//! metrics-server). Here the real source asks each node's kubelet for its pods' stats
//! through the apiserver's kubelet proxy (the `Kubelet` gRPC service the apiserver serves on
//! the API address, as `ctl top pods` does); tests use `FakeMetrics`.

use client::KubeletApi;
use client::kubelet_api::StatsRequest;
use futures::future::BoxFuture;
use proto::k8s::Pod;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Resources a source can measure (names as in a pod's requests).
pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";

/// Pod usage of one resource, in milli-units (millicores for cpu, milli-bytes for
/// memory, as Kubernetes' MilliValue), by pod name.
pub type PodUsage = HashMap<String, i64>;

pub trait MetricsSource: Send + Sync {
    /// Usage of `resource` for those of `pods` (all in `namespace`) that have a sample.
    /// A pod without one is left out (the calculator treats it as missing); an error means
    /// no sample could be had at all.
    fn pod_usage<'a>(
        &'a self,
        namespace: &'a str,
        pods: &'a [Pod],
        resource: &'a str,
    ) -> BoxFuture<'a, Result<PodUsage, String>>;
}

/// The kubelet stats through the apiserver's proxy. The gRPC connection is made on first
/// use and kept; a transport error drops it so the next sync reconnects.
pub struct KubeletMetrics {
    connection: client::ConnectionConfig,
    call: tokio::sync::Mutex<Option<KubeletApi>>,
}

impl KubeletMetrics {
    /// Plaintext to the apiserver at `server` (tests).
    pub fn new(server: impl Into<String>) -> Self {
        Self::with_connection(client::ConnectionConfig::plaintext(&server.into()))
    }

    /// With the trust and credentials the controller-manager connects with.
    pub fn with_connection(connection: client::ConnectionConfig) -> Self {
        KubeletMetrics {
            connection,
            call: tokio::sync::Mutex::new(None),
        }
    }

    async fn stats_client(&self) -> Result<KubeletApi, String> {
        let mut slot = self.call.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let client = KubeletApi::via_apiserver_with(&self.connection)
            .await
            .map_err(|e| format!("the apiserver's kubelet proxy: {e}"))?;
        *slot = Some(client.clone());
        Ok(client)
    }

    async fn usage(
        &self,
        namespace: &str,
        pods: &[Pod],
        resource: &str,
    ) -> Result<PodUsage, String> {
        // (name, uid) per node: a sample of an earlier pod of the same name (another uid)
        // is not this pod's.
        let mut by_node: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for p in pods {
            let node = p.spec.as_ref().map_or("", |s| s.node_name.as_str());
            let (name, uid) = p
                .metadata
                .as_ref()
                .map_or(("", ""), |m| (m.name.as_str(), m.uid.as_str()));
            if !node.is_empty() {
                by_node.entry(node).or_default().push((name, uid));
            }
        }
        let kubelets = self.stats_client().await?;
        let mut out = PodUsage::new();
        let mut errors = Vec::new();
        for (node, names) in &by_node {
            let req = StatsRequest {
                namespace: namespace.to_string(),
                pod: String::new(),
                node: node.to_string(),
            };
            match kubelets.stats(req).await.map_err(|e| e.message) {
                Ok(st) => {
                    for p in st.pods {
                        let ours = names.iter().any(|(n, u)| {
                            *n == p.name && (u.is_empty() || p.uid.is_empty() || *u == p.uid)
                        });
                        if p.namespace == namespace && ours {
                            let v = match resource {
                                CPU => i64::try_from(p.cpu_millicores).unwrap_or(i64::MAX),
                                _ => i64::try_from(p.memory_bytes)
                                    .unwrap_or(i64::MAX)
                                    .saturating_mul(1000),
                            };
                            out.insert(p.name, v);
                        }
                    }
                }
                // One node's kubelet unreachable: its pods are missing, as metrics-server
                // leaves out what it could not scrape.
                Err(e) => {
                    tracing::debug!(node, error = %e, "no stats from the node's kubelet");
                    errors.push(format!("node {node}: {e}"));
                }
            }
        }
        if out.is_empty() && !errors.is_empty() {
            *self.call.lock().await = None;
            return Err(format!(
                "unable to fetch metrics from the kubelets: {}",
                errors.join("; ")
            ));
        }
        Ok(out)
    }
}

impl MetricsSource for KubeletMetrics {
    fn pod_usage<'a>(
        &'a self,
        namespace: &'a str,
        pods: &'a [Pod],
        resource: &'a str,
    ) -> BoxFuture<'a, Result<PodUsage, String>> {
        Box::pin(self.usage(namespace, pods, resource))
    }
}

/// Test source: a fixed usage per pod, or a total spread evenly over the pods asked about
/// (a load that does not grow with the replicas), or an error.
#[derive(Default)]
pub struct FakeMetrics {
    state: Mutex<FakeState>,
}

#[derive(Default, Clone)]
struct FakeState {
    per_pod: HashMap<String, i64>,
    total: Option<i64>,
    error: Option<String>,
}

impl FakeMetrics {
    pub fn new() -> Self {
        Self::default()
    }
    /// This pod uses `milli` (millicores for cpu).
    pub fn set_pod(&self, pod: &str, milli: i64) {
        self.lock().per_pod.insert(pod.to_string(), milli);
    }
    /// Every pod asked about without a per-pod value uses `total / pods`.
    pub fn set_total(&self, total_milli: Option<i64>) {
        self.lock().total = total_milli;
    }
    pub fn set_error(&self, error: Option<&str>) {
        self.lock().error = error.map(String::from);
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl MetricsSource for FakeMetrics {
    fn pod_usage<'a>(
        &'a self,
        _namespace: &'a str,
        pods: &'a [Pod],
        _resource: &'a str,
    ) -> BoxFuture<'a, Result<PodUsage, String>> {
        let st = self.lock().clone();
        Box::pin(async move {
            if let Some(e) = st.error {
                return Err(e);
            }
            let n = i64::try_from(pods.len()).unwrap_or(1).max(1);
            let mut out = PodUsage::new();
            for p in pods {
                let name = p.metadata.as_ref().map_or("", |m| m.name.as_str());
                if let Some(v) = st.per_pod.get(name) {
                    out.insert(name.to_string(), *v);
                } else if let Some(t) = st.total {
                    out.insert(name.to_string(), t / n);
                }
            }
            Ok(out)
        })
    }
}
