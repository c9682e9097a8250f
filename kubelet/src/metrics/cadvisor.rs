//! `/metrics/cadvisor`: the per-container figures Kubernetes' kubelet serves from its
//! embedded cAdvisor, with cAdvisor's names, HELP texts and labels (`container, id, image,
//! name, namespace, pod`; CPU also `cpu="total"`), read from the runtime at scrape time.
//!
//! Differences from cAdvisor: `id` is the runtime's container id (cAdvisor gives the
//! container's cgroup path), only running pod containers are listed (no sandboxes, no
//! system cgroups), and the node is the `id="/"` series with the node's figures (the sum of
//! its pod containers, as `/metrics/resource`).

use super::resource::seconds_since_epoch;
use super::text::FamilyWriter;
use crate::runtime::labels;
use crate::stats::Readings;
use std::time::UNIX_EPOCH;

/// One series' labels and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub container: String,
    pub id: String,
    pub image: String,
    pub name: String,
    pub namespace: String,
    pub pod: String,
    pub cpu_seconds: f64,
    pub memory_working_set_bytes: f64,
    pub memory_usage_bytes: f64,
    pub start_time_seconds: Option<f64>,
}

/// The series of one scrape: the node (`id="/"`) first, then containers by labels.
pub fn series(r: &Readings) -> Vec<Series> {
    let mut node = Series {
        container: String::new(),
        id: "/".into(),
        image: String::new(),
        name: String::new(),
        namespace: String::new(),
        pod: String::new(),
        cpu_seconds: 0.0,
        memory_working_set_bytes: 0.0,
        memory_usage_bytes: 0.0,
        start_time_seconds: None,
    };
    let (mut cpu_ns, mut ws, mut usage) = (0u64, 0u64, 0u64);
    let mut out = Vec::with_capacity(r.readings.len() + 1);
    for reading in &r.readings {
        let c = &reading.info;
        let st = &reading.stats;
        cpu_ns = cpu_ns.saturating_add(st.cpu_usage_ns);
        ws = ws.saturating_add(st.memory_bytes);
        usage = usage.saturating_add(st.memory_usage_bytes);
        out.push(Series {
            container: c.container_name().to_string(),
            id: c.id.clone(),
            image: c.image.clone(),
            name: c.name.clone(),
            namespace: c.label(labels::POD_NAMESPACE).to_string(),
            pod: c.label(labels::POD_NAME).to_string(),
            cpu_seconds: st.cpu_usage_ns as f64 / 1e9,
            memory_working_set_bytes: st.memory_bytes as f64,
            memory_usage_bytes: st.memory_usage_bytes as f64,
            start_time_seconds: c.started_at.map(seconds_since_epoch),
        });
    }
    node.cpu_seconds = cpu_ns as f64 / 1e9;
    node.memory_working_set_bytes = ws as f64;
    node.memory_usage_bytes = usage as f64;
    out.sort_by(|a, b| {
        (&a.container, &a.id, &a.image, &a.name, &a.namespace, &a.pod).cmp(&(
            &b.container,
            &b.id,
            &b.image,
            &b.name,
            &b.namespace,
            &b.pod,
        ))
    });
    out.insert(0, node);
    out
}

/// The endpoint's body (text format 0.0.4, timestamps in milliseconds), families in name
/// order.
pub fn render(r: &Readings) -> String {
    let all = series(r);
    let ts =
        r.at.duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok());
    let mut out = String::new();
    let mut f = FamilyWriter::new(
        &mut out,
        "container_cpu_usage_seconds_total",
        "counter",
        "Cumulative cpu time consumed in seconds.",
    );
    for s in &all {
        f.sample(&labels_of(s, Some("total")), s.cpu_seconds, ts);
    }
    let mut f = FamilyWriter::new(
        &mut out,
        "container_memory_usage_bytes",
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
    );
    for s in &all {
        f.sample(&labels_of(s, None), s.memory_usage_bytes, ts);
    }
    let mut f = FamilyWriter::new(
        &mut out,
        "container_memory_working_set_bytes",
        "gauge",
        "Current working set in bytes.",
    );
    for s in &all {
        f.sample(&labels_of(s, None), s.memory_working_set_bytes, ts);
    }
    let started: Vec<_> = all
        .iter()
        .filter_map(|s| s.start_time_seconds.map(|t| (s, t)))
        .collect();
    if !started.is_empty() {
        let mut f = FamilyWriter::new(
            &mut out,
            "container_start_time_seconds",
            "gauge",
            "Start time of the container since unix epoch in seconds.",
        );
        for (s, t) in started {
            f.sample(&labels_of(s, None), t, ts);
        }
    }
    out
}

/// cAdvisor's labels in name order; `cpu` only on the CPU counter.
fn labels_of<'a>(s: &'a Series, cpu: Option<&'a str>) -> Vec<(&'static str, &'a str)> {
    let mut l = vec![("container", s.container.as_str())];
    if let Some(cpu) = cpu {
        l.push(("cpu", cpu));
    }
    l.extend([
        ("id", s.id.as_str()),
        ("image", s.image.as_str()),
        ("name", s.name.as_str()),
        ("namespace", s.namespace.as_str()),
        ("pod", s.pod.as_str()),
    ]);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{ContainerInfo, ContainerState, ContainerStats};
    use crate::stats::Reading;
    use std::time::Duration;

    #[test]
    fn cadvisor_series_carry_cadvisors_labels() {
        let info = ContainerInfo {
            id: "abc123".into(),
            name: "k8s_web_web-0_default_u1_0".into(),
            image: "local/busybox:1".into(),
            image_id: String::new(),
            labels: [
                (labels::POD_NAMESPACE, "default"),
                (labels::POD_NAME, "web-0"),
                (labels::CONTAINER_NAME, "web"),
                (labels::CONTAINER_TYPE, "app"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            state: ContainerState::Running,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            created_at: None,
            started_at: Some(UNIX_EPOCH + Duration::from_secs(1_733_483_900)),
            finished_at: None,
            pid: Some(1),
            ip: None,
        };
        let r = Readings {
            readings: vec![Reading {
                info,
                stats: ContainerStats {
                    cpu_usage_ns: 1_500_000_000,
                    cpu_millicores: 3,
                    memory_bytes: 4096,
                    memory_usage_bytes: 8192,
                },
            }],
            failed: false,
            at: UNIX_EPOCH + Duration::from_millis(1_733_484_000_123),
        };
        let text = render(&r);
        let want = [
            "# TYPE container_cpu_usage_seconds_total counter",
            r#"container_cpu_usage_seconds_total{container="",cpu="total",id="/",image="",name="",namespace="",pod=""} 1.5 1733484000123"#,
            r#"container_cpu_usage_seconds_total{container="web",cpu="total",id="abc123",image="local/busybox:1",name="k8s_web_web-0_default_u1_0",namespace="default",pod="web-0"} 1.5 1733484000123"#,
            r#"container_memory_usage_bytes{container="web",id="abc123",image="local/busybox:1",name="k8s_web_web-0_default_u1_0",namespace="default",pod="web-0"} 8192 1733484000123"#,
            r#"container_memory_working_set_bytes{container="",id="/",image="",name="",namespace="",pod=""} 4096 1733484000123"#,
            r#"container_memory_working_set_bytes{container="web",id="abc123",image="local/busybox:1",name="k8s_web_web-0_default_u1_0",namespace="default",pod="web-0"} 4096 1733484000123"#,
            r#"container_start_time_seconds{container="web",id="abc123",image="local/busybox:1",name="k8s_web_web-0_default_u1_0",namespace="default",pod="web-0"} 1.7334839e+09 1733484000123"#,
        ];
        for w in want {
            assert!(text.contains(w), "{w} missing from:\n{text}");
        }
        assert!(
            !text.contains(r#"container_start_time_seconds{container="""#),
            "the node has no start time:\n{text}"
        );
    }
}
