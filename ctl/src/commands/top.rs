//! `ctl top nodes|pods`: usage from the resource metrics API (metrics.k8s.io, through
//! `client::MetricsApi`), printed as kubectl top prints it: the same columns, units (cpu
//! in millicores rounded up, memory in whole Mi), sorting, `<unknown>` for a node without
//! a sample, kubectl's tab-aligned layout (Go's tabwriter: cells padded to the widest plus
//! three, at least six, every cell including the last), and its messages when there is
//! nothing to show yet.

use super::Ctx;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::MetricsApi;
use client::metrics_api::{ListMetricsRequest, NodeMetrics, PodMetrics};
use proto::k8s::{ListRequest, Node, Pod};
use proto::quantity::Quantity;
use proto::{ApiError, Resource};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

#[derive(Args, Debug, Clone)]
pub struct TopArgs {
    /// `nodes` (`node`, `no`) or `pods` (`pod`, `po`)
    pub kind: String,
    /// One node or pod
    pub name: Option<String>,
    /// Pods: print the usage of each container
    #[arg(long)]
    pub containers: bool,
    /// Sort by `cpu` or `memory` (largest first); by name when unset
    #[arg(long)]
    pub sort_by: Option<String>,
    /// Print no header line
    #[arg(long)]
    pub no_headers: bool,
    /// Nodes: percentages of capacity instead of allocatable
    #[arg(long)]
    pub show_capacity: bool,
}

/// Pods without a sample are normal this long after they start (kubectl's
/// metricsCreationDelay); older ones are reported by name.
const METRICS_CREATION_DELAY: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Cpu,
    Memory,
}

impl SortBy {
    pub fn parse(s: Option<&str>) -> Result<SortBy> {
        match s.unwrap_or("") {
            "" => Ok(SortBy::Name),
            "cpu" => Ok(SortBy::Cpu),
            "memory" => Ok(SortBy::Memory),
            _ => bail!("--sort-by accepts only cpu or memory"),
        }
    }
}

/// The resources kubectl top measures, in its column order.
const CPU: &str = "cpu";
const MEMORY: &str = "memory";
const MEASURED: [&str; 2] = [CPU, MEMORY];
const UNKNOWN: &str = "<unknown>";

/// cpu and memory of a usage map; absent or unreadable is zero, as Go's map lookup.
fn usage(map: &BTreeMap<String, String>) -> [Quantity; 2] {
    MEASURED.map(|r| map.get(r).and_then(|q| q.parse().ok()).unwrap_or_default())
}

/// A pod's usage: its containers' added (a container without a figure adds zero).
fn pod_usage(p: &PodMetrics) -> [Quantity; 2] {
    p.containers.iter().fold(Default::default(), |acc, c| {
        let u = usage(&c.usage);
        [acc[0] + u[0], acc[1] + u[1]]
    })
}

/// kubectl's printSingleResourceUsage: `12m`, `34Mi`.
fn quantity_cell(resource: &str, q: &Quantity) -> String {
    match resource {
        CPU => format!("{}m", q.milli_value()),
        _ => format!("{}Mi", q.value() / (1024 * 1024)),
    }
}

/// The usage cells of one line: each resource's figure, then its share of `available`
/// when the node lists the resource (kubectl truncates the percentage).
fn usage_cells(u: &[Quantity; 2], available: Option<&[Option<Quantity>; 2]>) -> Vec<String> {
    let mut cells = Vec::new();
    for (i, r) in MEASURED.iter().enumerate() {
        cells.push(quantity_cell(r, &u[i]));
        if let Some(Some(avail)) = available.map(|a| &a[i]) {
            let fraction = if avail.is_zero() {
                0.0
            } else {
                u[i].milli_value() as f64 / avail.milli_value() as f64 * 100.0
            };
            cells.push(format!("{}%", fraction as i64));
        }
    }
    cells
}

fn name_of(meta: Option<&proto::k8s::ObjectMeta>) -> (&str, &str) {
    meta.map_or(("", ""), |m| (m.namespace.as_str(), m.name.as_str()))
}

/// `kubectl top nodes`: one line per node with a sample (with its share of the node's
/// allocatable or capacity when the node is known), then `<unknown>` lines for known
/// nodes without one.
pub fn node_lines(
    metrics: &[NodeMetrics],
    available: &BTreeMap<String, [Option<Quantity>; 2]>,
    sort_by: SortBy,
    no_headers: bool,
) -> Vec<Vec<String>> {
    let mut rows: Vec<(&str, [Quantity; 2])> = metrics
        .iter()
        .map(|m| (name_of(m.metadata.as_ref()).1, usage(&m.usage)))
        .collect();
    rows.sort_by(|a, b| match sort_by {
        SortBy::Name => a.0.cmp(b.0),
        SortBy::Cpu => b.1[0].milli_value().cmp(&a.1[0].milli_value()),
        SortBy::Memory => b.1[1].value().cmp(&a.1[1].value()),
    });
    let mut lines = Vec::new();
    if !no_headers {
        lines.push(
            ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
                .map(String::from)
                .to_vec(),
        );
    }
    for (name, u) in &rows {
        let mut line = vec![name.to_string()];
        line.extend(usage_cells(u, available.get(*name)));
        lines.push(line);
    }
    for name in available.keys() {
        if !rows.iter().any(|(n, _)| n == name) {
            let mut line = vec![name.clone()];
            line.extend(std::iter::repeat_n(UNKNOWN.to_string(), 2 * MEASURED.len()));
            lines.push(line);
        }
    }
    lines
}

/// `kubectl top pods`: one line per pod (or per container with `containers`), the
/// namespace first with `with_namespace`.
pub fn pod_lines(
    metrics: &[PodMetrics],
    containers: bool,
    with_namespace: bool,
    sort_by: SortBy,
    no_headers: bool,
) -> Vec<Vec<String>> {
    let mut lines = Vec::new();
    if !no_headers {
        let mut h = Vec::new();
        if with_namespace {
            h.push("NAMESPACE".to_string());
        }
        if containers {
            h.push("POD".to_string());
        }
        h.extend(["NAME", "CPU(cores)", "MEMORY(bytes)"].map(String::from));
        lines.push(h);
    }
    let mut pods: Vec<(&PodMetrics, [Quantity; 2])> =
        metrics.iter().map(|p| (p, pod_usage(p))).collect();
    pods.sort_by(|(a, ua), (b, ub)| match sort_by {
        SortBy::Cpu => ub[0].milli_value().cmp(&ua[0].milli_value()),
        SortBy::Memory => ub[1].value().cmp(&ua[1].value()),
        SortBy::Name => {
            let (an, a) = name_of(a.metadata.as_ref());
            let (bn, b) = name_of(b.metadata.as_ref());
            if with_namespace && an != bn {
                an.cmp(bn)
            } else {
                a.cmp(b)
            }
        }
    });
    for (p, u) in &pods {
        let (ns, name) = name_of(p.metadata.as_ref());
        let prefix = || {
            let mut line = Vec::new();
            if with_namespace {
                line.push(ns.to_string());
            }
            line
        };
        if containers {
            let mut cs: Vec<(&str, [Quantity; 2])> = p
                .containers
                .iter()
                .map(|c| (c.name.as_str(), usage(&c.usage)))
                .collect();
            cs.sort_by(|a, b| match sort_by {
                SortBy::Name => a.0.cmp(b.0),
                SortBy::Cpu => b.1[0].milli_value().cmp(&a.1[0].milli_value()),
                SortBy::Memory => b.1[1].value().cmp(&a.1[1].value()),
            });
            for (c, cu) in cs {
                let mut line = prefix();
                line.push(name.to_string());
                line.push(c.to_string());
                line.extend(usage_cells(&cu, None));
                lines.push(line);
            }
        } else {
            let mut line = prefix();
            line.push(name.to_string());
            line.extend(usage_cells(u, None));
            lines.push(line);
        }
    }
    lines
}

/// Go's text/tabwriter as kubectl configures it (minwidth 6, padding 3, pad with spaces,
/// align left) over lines whose every cell is tab-terminated, as kubectl top writes them:
/// a column is as wide as its widest cell plus three, and is computed per block of
/// consecutive lines that have that column.
pub fn tabwriter(lines: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;

    fn format(lines: &[Vec<String>], widths: &mut Vec<usize>, out: &mut String) {
        let column = widths.len();
        let mut start = 0;
        let mut i = 0;
        while i < lines.len() {
            if lines[i].len() <= column {
                i += 1;
                continue;
            }
            write_lines(&lines[start..i], widths, out);
            let block = i;
            let mut width = MIN_WIDTH;
            while i < lines.len() && lines[i].len() > column {
                width = width.max(lines[i][column].chars().count() + PADDING);
                i += 1;
            }
            widths.push(width);
            format(&lines[block..i], widths, out);
            widths.pop();
            start = i;
        }
        write_lines(&lines[start..], widths, out);
    }

    fn write_lines(lines: &[Vec<String>], widths: &[usize], out: &mut String) {
        for line in lines {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if let Some(w) = widths.get(j) {
                    let pad = w.saturating_sub(cell.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        }
    }

    let mut out = String::new();
    format(lines, &mut Vec::new(), &mut out);
    out
}

/// Go's time.Duration String for the ages kubectl prints (`2m3.5s`, `1h0m0s`).
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    if secs == 0 && nanos == 0 {
        return "0s".into();
    }
    let mut frac = String::new();
    if nanos > 0 {
        frac = format!(".{nanos:09}").trim_end_matches('0').to_string();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}{frac}s")
    } else if m > 0 {
        format!("{m}m{s}{frac}s")
    } else {
        format!("{s}{frac}s")
    }
}

/// kubectl's verifyEmptyMetrics for a list that came back empty: no pods at all is fine
/// (None: say "No resources found"), a pod past the creation delay is named, otherwise
/// the samples are simply not there yet.
pub fn empty_pod_metrics(pods: &[Pod], now: SystemTime) -> Option<String> {
    if pods.is_empty() {
        return None;
    }
    for p in pods {
        let m = p.meta();
        let created = proto::time::parse_rfc3339(&m.creation_timestamp).unwrap_or(now);
        let age = now.duration_since(created).unwrap_or_default();
        if age > METRICS_CREATION_DELAY {
            return Some(format!(
                "Metrics not available for pod {}/{}, age: {}",
                m.namespace,
                m.name,
                go_duration(age)
            ));
        }
    }
    Some("metrics not available yet".into())
}

/// A node's allocatable (or capacity) cpu and memory.
fn node_available(n: &Node, capacity: bool) -> [Option<Quantity>; 2] {
    let empty = BTreeMap::new();
    let list = n.status.as_ref().map_or(&empty, |s| {
        if capacity {
            &s.capacity
        } else {
            &s.allocatable
        }
    });
    MEASURED.map(|r| list.get(r).and_then(|q| q.parse().ok()))
}

/// A server without the metrics API answers Unimplemented; kubectl says it this way.
fn metrics_error(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<ApiError>() {
        Some(a) if a.message == "Unimplemented" || a.message.contains("unimplemented") => {
            anyhow!("Metrics API not available")
        }
        _ => e,
    }
}

pub async fn top(ctx: &Ctx, a: &TopArgs) -> Result<()> {
    let sort_by = SortBy::parse(a.sort_by.as_deref())?;
    match a.kind.as_str() {
        "nodes" | "node" | "no" => top_nodes(ctx, a, sort_by).await,
        "pods" | "pod" | "po" => top_pods(ctx, a, sort_by).await,
        other => bail!("unknown command {other:?} for \"ctl top\" (nodes or pods)"),
    }
}

async fn top_nodes(ctx: &Ctx, a: &TopArgs, sort_by: SortBy) -> Result<()> {
    let selector = ctx.label_selector();
    if a.name.is_some() && !selector.is_empty() {
        bail!("only one of NAME or --selector can be provided");
    }
    let api = ctx.api().await?;
    let metrics = MetricsApi::new(api.client().clone());
    let items = match &a.name {
        Some(n) => vec![api.call(metrics.node(n)).await.map_err(metrics_error)?],
        None => api
            .call(metrics.nodes(&selector))
            .await
            .map_err(metrics_error)?,
    };
    if items.is_empty() {
        bail!("metrics not available yet");
    }
    let nodes: Vec<Node> = match &a.name {
        Some(n) => Node::try_from_object(api.get("nodes", "", n).await?)
            .into_iter()
            .collect(),
        None => api
            .list(ListRequest {
                resource: "nodes".into(),
                label_selector: selector,
                ..Default::default()
            })
            .await?
            .items
            .into_iter()
            .filter_map(|o| Node::try_from_object(o).ok())
            .collect(),
    };
    let available = nodes
        .iter()
        .map(|n| (n.meta().name.clone(), node_available(n, a.show_capacity)))
        .collect();
    print!(
        "{}",
        tabwriter(&node_lines(&items, &available, sort_by, a.no_headers))
    );
    Ok(())
}

async fn top_pods(ctx: &Ctx, a: &TopArgs, sort_by: SortBy) -> Result<()> {
    let labels = ctx.label_selector();
    let fields = ctx.field_selector();
    if a.name.is_some() && (!labels.is_empty() || !fields.is_empty()) {
        bail!("only one of NAME or selector can be provided");
    }
    let api = ctx.api().await?;
    let metrics = MetricsApi::new(api.client().clone());
    let all = ctx.ns.all;
    let ns = ctx.ns.effective().to_string();
    let items = match &a.name {
        Some(n) => vec![api.call(metrics.pod(&ns, n)).await.map_err(metrics_error)?],
        None => api
            .call(metrics.list_pods(ListMetricsRequest {
                namespace: if all { String::new() } else { ns.clone() },
                label_selector: labels.clone(),
                field_selector: fields.clone(),
                ..Default::default()
            }))
            .await
            .map_err(metrics_error)?,
    };
    if items.is_empty() {
        // As kubectl, the pods looked at are those of the namespace in effect.
        let pods: Vec<Pod> = api
            .list(ListRequest {
                resource: "pods".into(),
                namespace: ns.clone(),
                label_selector: labels,
                field_selector: fields,
                ..Default::default()
            })
            .await?
            .items
            .into_iter()
            .filter_map(|o| Pod::try_from_object(o).ok())
            .collect();
        if let Some(msg) = empty_pod_metrics(&pods, SystemTime::now()) {
            bail!("{msg}");
        }
        if all {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {ns} namespace.");
        }
        return Ok(());
    }
    print!(
        "{}",
        tabwriter(&pod_lines(&items, a.containers, all, sort_by, a.no_headers))
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::metrics_api::ContainerMetrics;
    use proto::k8s::ObjectMeta;

    fn usage_map(cpu: &str, memory: &str) -> BTreeMap<String, String> {
        [(CPU, cpu), (MEMORY, memory)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn meta(ns: &str, name: &str) -> Option<ObjectMeta> {
        Some(ObjectMeta {
            name: name.into(),
            namespace: ns.into(),
            ..Default::default()
        })
    }

    fn node(name: &str, cpu: &str, memory: &str) -> NodeMetrics {
        NodeMetrics {
            metadata: meta("", name),
            usage: usage_map(cpu, memory),
            ..Default::default()
        }
    }

    fn pod(ns: &str, name: &str, containers: &[(&str, &str, &str)]) -> PodMetrics {
        PodMetrics {
            metadata: meta(ns, name),
            containers: containers
                .iter()
                .map(|(n, c, m)| ContainerMetrics {
                    name: n.to_string(),
                    usage: usage_map(c, m),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn q(s: &str) -> Option<Quantity> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn sort_by_accepts_cpu_or_memory_as_kubectl() {
        assert_eq!(SortBy::parse(None).unwrap(), SortBy::Name);
        assert_eq!(SortBy::parse(Some("cpu")).unwrap(), SortBy::Cpu);
        assert_eq!(SortBy::parse(Some("memory")).unwrap(), SortBy::Memory);
        let e = SortBy::parse(Some("name")).unwrap_err();
        assert_eq!(e.to_string(), "--sort-by accepts only cpu or memory");
    }

    #[test]
    fn nodes_print_as_kubectl_top_nodes() {
        let metrics = vec![
            node("node-b", "1234567n", "2000Mi"),
            node("node-a", "250m", "1Gi"),
        ];
        let available = BTreeMap::from([
            ("node-a".to_string(), [q("2"), q("4Gi")]),
            ("node-b".to_string(), [q("4"), q("8000Mi")]),
            ("node-c".to_string(), [q("4"), q("8Gi")]),
        ]);
        let out = tabwriter(&node_lines(&metrics, &available, SortBy::Name, false));
        // 1234567n rounds up to 2m; 2000Mi of 8000Mi is 25%; node-c has no sample.
        assert_eq!(
            out,
            "NAME     CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)   \n\
             node-a   250m         12%         1024Mi          25%         \n\
             node-b   2m           0%          2000Mi          25%         \n\
             node-c   <unknown>    <unknown>   <unknown>       <unknown>   \n"
        );
        let out = tabwriter(&node_lines(&metrics, &available, SortBy::Memory, true));
        assert!(out.starts_with("node-b "), "{out}");
        let out = tabwriter(&node_lines(&metrics, &available, SortBy::Cpu, true));
        assert!(out.starts_with("node-a "), "{out}");
    }

    #[test]
    fn a_node_not_listed_has_no_percentages_as_in_kubectl() {
        let out = tabwriter(&node_lines(
            &[node("n", "5m", "3Mi")],
            &BTreeMap::new(),
            SortBy::Name,
            true,
        ));
        assert_eq!(out, "n     5m    3Mi   \n");
    }

    #[test]
    fn pods_print_as_kubectl_top_pods() {
        let metrics = vec![
            pod(
                "default",
                "web-1",
                &[("web", "3m", "20Mi"), ("log", "1m", "5Mi")],
            ),
            pod("default", "db-0", &[("db", "100m", "300Mi")]),
        ];
        let out = tabwriter(&pod_lines(&metrics, false, false, SortBy::Name, false));
        assert_eq!(
            out,
            "NAME    CPU(cores)   MEMORY(bytes)   \n\
             db-0    100m         300Mi           \n\
             web-1   4m           25Mi            \n"
        );
        let out = tabwriter(&pod_lines(&metrics, true, false, SortBy::Name, false));
        assert_eq!(
            out,
            "POD     NAME   CPU(cores)   MEMORY(bytes)   \n\
             db-0    db     100m         300Mi           \n\
             web-1   log    1m           5Mi             \n\
             web-1   web    3m           20Mi            \n"
        );
        let out = tabwriter(&pod_lines(&metrics, true, false, SortBy::Cpu, true));
        assert_eq!(
            out,
            "db-0    db    100m   300Mi   \n\
             web-1   web   3m     20Mi    \n\
             web-1   log   1m     5Mi     \n"
        );
    }

    #[test]
    fn all_namespaces_put_the_namespace_first_and_sort_by_it() {
        let metrics = vec![
            pod("kube-system", "dns", &[("dns", "2m", "12Mi")]),
            pod("default", "web", &[("web", "1m", "1Mi")]),
        ];
        let out = tabwriter(&pod_lines(&metrics, false, true, SortBy::Name, false));
        assert_eq!(
            out,
            "NAMESPACE     NAME   CPU(cores)   MEMORY(bytes)   \n\
             default       web    1m           1Mi             \n\
             kube-system   dns    2m           12Mi            \n"
        );
        // --sort-by memory ignores the namespace.
        let out = tabwriter(&pod_lines(&metrics, false, true, SortBy::Memory, true));
        assert!(out.starts_with("kube-system "), "{out}");
    }

    #[test]
    fn the_tabwriter_pads_per_block_of_lines_with_the_column() {
        let lines: Vec<Vec<String>> = [vec!["a", "bb"], vec!["ccccccc"], vec!["d", "e"]]
            .into_iter()
            .map(|l| l.into_iter().map(String::from).collect())
            .collect();
        assert_eq!(
            tabwriter(&lines),
            "a         bb    \nccccccc   \nd         e     \n"
        );
    }

    #[test]
    fn ages_are_printed_as_go_durations() {
        assert_eq!(go_duration(Duration::from_millis(125_500)), "2m5.5s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_secs(42)), "42s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }

    fn created(name: &str, at: SystemTime) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "default".into(),
                creation_timestamp: proto::time::format_rfc3339(at),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn empty_metrics_are_explained_as_kubectl_does() {
        let now = SystemTime::now();
        assert_eq!(empty_pod_metrics(&[], now), None);
        let young = created("young", now - Duration::from_secs(30));
        assert_eq!(
            empty_pod_metrics(std::slice::from_ref(&young), now).as_deref(),
            Some("metrics not available yet")
        );
        let old = created("old", now - Duration::from_secs(600));
        let msg = empty_pod_metrics(&[young, old], now).unwrap();
        assert!(
            msg.starts_with("Metrics not available for pod default/old, age: 10m"),
            "{msg}"
        );
    }
}
