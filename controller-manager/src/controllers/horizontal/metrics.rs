//! Where pod usage comes from: the resource metrics API (metrics.k8s.io, served by the
//! apiserver from the samples it scrapes off each kubelet's /metrics/resource, where
//! Kubernetes has metrics-server), read as Kubernetes' resource metrics client reads it:
//! a pod's usage is the sum of its containers', a ContainerResource metric's is the named
//! container's. Tests use `FakeMetrics`.

use client::MetricsApi;
use client::metrics_api::{PodMetrics, usage_of};
use futures::future::BoxFuture;
use proto::k8s::Pod;
use std::collections::HashMap;
use std::sync::Mutex;

/// Resources a source can measure (names as in a pod's requests).
pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";

/// Pod usage of one resource, in milli-units (millicores for cpu, milli-bytes for
/// memory, as Kubernetes' MilliValue), by pod name.
pub type PodUsage = HashMap<String, i64>;

pub trait MetricsSource: Send + Sync {
    /// Usage of `resource` for those of `pods` (all in `namespace`) that have a sample:
    /// the whole pod's when `container` is empty, else that container's. A pod without
    /// a sample is left out (the calculator treats it as missing); an error means no
    /// sample could be had at all.
    fn pod_usage<'a>(
        &'a self,
        namespace: &'a str,
        pods: &'a [Pod],
        resource: &'a str,
        container: &'a str,
    ) -> BoxFuture<'a, Result<PodUsage, String>>;
}

/// The metrics API through the controller-manager's own connection to the apiserver.
pub struct ResourceMetrics {
    api: MetricsApi,
}

impl ResourceMetrics {
    pub fn new(api: MetricsApi) -> Self {
        ResourceMetrics { api }
    }

    async fn usage(
        &self,
        namespace: &str,
        pods: &[Pod],
        resource: &str,
        container: &str,
    ) -> Result<PodUsage, String> {
        let items = self.api.pods(namespace, "").await.map_err(|e| {
            format!(
                "unable to fetch metrics from resource metrics API: {}",
                e.message
            )
        })?;
        usage_by_pod(&items, pods, resource, container)
    }
}

impl MetricsSource for ResourceMetrics {
    fn pod_usage<'a>(
        &'a self,
        namespace: &'a str,
        pods: &'a [Pod],
        resource: &'a str,
        container: &'a str,
    ) -> BoxFuture<'a, Result<PodUsage, String>> {
        Box::pin(self.usage(namespace, pods, resource, container))
    }
}

/// Kubernetes' resourceMetricsClient over the samples of `pods` (a sample of an earlier
/// pod of the same name, another uid, is not this pod's): getPodMetrics sums a pod's
/// containers and leaves out a pod one of whose containers lacks the resource;
/// getContainerMetrics takes the named container and fails when a pod's sample has no
/// such container. No sample for any of the pods is an error, as there.
pub fn usage_by_pod(
    items: &[PodMetrics],
    pods: &[Pod],
    resource: &str,
    container: &str,
) -> Result<PodUsage, String> {
    let ours = |m: &PodMetrics| {
        let Some(meta) = m.metadata.as_ref() else {
            return false;
        };
        pods.iter().any(|p| {
            p.metadata.as_ref().is_some_and(|pm| {
                pm.name == meta.name
                    && (pm.uid.is_empty() || meta.uid.is_empty() || pm.uid == meta.uid)
            })
        })
    };
    let items: Vec<&PodMetrics> = items.iter().filter(|m| ours(m)).collect();
    if items.is_empty() {
        return Err("no metrics returned from resource metrics API".into());
    }
    let mut out = PodUsage::new();
    for m in items {
        let (ns, name) = m
            .metadata
            .as_ref()
            .map_or(("", ""), |m| (m.namespace.as_str(), m.name.as_str()));
        let value = if container.is_empty() {
            client::metrics_api::pod_total(m, resource)
        } else {
            let c = m
                .containers
                .iter()
                .find(|c| c.name == container)
                .ok_or_else(|| {
                    format!(
                        "failed to get container metrics: container {container} not present in metrics for pod {ns}/{name}"
                    )
                })?;
            usage_of(&c.usage, resource)
        };
        if let Some(v) = value.and_then(|q| q.try_milli_value()) {
            out.insert(name.to_string(), v);
        }
    }
    Ok(out)
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
        _container: &'a str,
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

#[cfg(test)]
mod tests {
    use super::*;
    use client::metrics_api::ContainerMetrics;
    use proto::k8s::ObjectMeta;

    fn meta(name: &str, uid: &str) -> Option<ObjectMeta> {
        Some(ObjectMeta {
            name: name.into(),
            namespace: "ns".into(),
            uid: uid.into(),
            ..Default::default()
        })
    }

    fn pod(name: &str, uid: &str) -> Pod {
        Pod {
            metadata: meta(name, uid),
            ..Default::default()
        }
    }

    fn sample(name: &str, uid: &str, containers: &[(&str, &str, &str)]) -> PodMetrics {
        PodMetrics {
            metadata: meta(name, uid),
            containers: containers
                .iter()
                .map(|(n, cpu, mem)| ContainerMetrics {
                    name: n.to_string(),
                    usage: [(CPU, *cpu), (MEMORY, *mem)]
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_pods_usage_is_its_containers_summed_in_milli_units() {
        let pods = [pod("a", "1"), pod("b", "2"), pod("c", "3")];
        let items = [
            sample(
                "a",
                "",
                &[("web", "150m", "10Mi"), ("log", "2500000n", "1Mi")],
            ),
            // A container without a memory figure: b has no memory sample.
            sample("b", "", &[("web", "10m", "")]),
            // Not one of the target's pods.
            sample("z", "", &[("web", "900m", "1Gi")]),
        ];
        let cpu = usage_by_pod(&items, &pods, CPU, "").unwrap();
        assert_eq!(cpu, HashMap::from([("a".into(), 153), ("b".into(), 10)]));
        let mem = usage_by_pod(&items, &pods, MEMORY, "").unwrap();
        assert_eq!(mem, HashMap::from([("a".into(), 11 * 1024 * 1024 * 1000)]));
    }

    #[test]
    fn a_container_resource_reads_the_named_container() {
        let pods = [pod("a", ""), pod("b", "")];
        let items = [
            sample("a", "", &[("web", "150m", "10Mi"), ("log", "3m", "1Mi")]),
            sample("b", "", &[("web", "20m", "2Mi"), ("log", "1m", "1Mi")]),
        ];
        let cpu = usage_by_pod(&items, &pods, CPU, "log").unwrap();
        assert_eq!(cpu, HashMap::from([("a".into(), 3), ("b".into(), 1)]));
        let e = usage_by_pod(&items, &pods, CPU, "proxy").unwrap_err();
        assert_eq!(
            e,
            "failed to get container metrics: container proxy not present in metrics for pod ns/a"
        );
    }

    #[test]
    fn no_sample_of_the_pods_is_an_error_and_another_uid_is_not_this_pod() {
        let pods = [pod("a", "new")];
        let e = usage_by_pod(&[], &pods, CPU, "").unwrap_err();
        assert_eq!(e, "no metrics returned from resource metrics API");
        let old = [sample("a", "old", &[("web", "5m", "1Mi")])];
        assert!(usage_by_pod(&old, &pods, CPU, "").is_err());
        let same = [sample("a", "new", &[("web", "5m", "1Mi")])];
        assert_eq!(
            usage_by_pod(&same, &pods, CPU, "").unwrap(),
            HashMap::from([("a".into(), 5)])
        );
    }
}
