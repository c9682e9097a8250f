//! `ctl logs`, `ctl exec` and `ctl top`: the kubelet API (`proto::kubelet_api`), called on
//! the apiserver, which forwards each call to the kubelet of the pod's node.

use super::Ctx;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::KubeletApi;
use client::kubelet_api::{ExecRequest, LogsRequest, StatsRequest};
use proto::Resource;
use proto::k8s::{ListRequest, Node, Pod};
use std::io::Write;

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// The pod
    pub pod: String,
    /// The container (needed when the pod has several)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Keep streaming new output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Lines from the end (-1: all)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// The previous instance of the container
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Prefix each line with its time stamp
    #[arg(long)]
    pub timestamps: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// The pod
    pub pod: String,
    /// The container (needed when the pod has several)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The command, after `--`
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TopArgs {
    /// `pods` or `nodes`
    pub kind: String,
    /// One pod or node
    pub name: Option<String>,
}

async fn kubelet_api(ctx: &Ctx) -> Result<KubeletApi> {
    Ok(KubeletApi::via_apiserver_with(&ctx.connection).await?)
}

fn status_error(e: client::ApiError) -> anyhow::Error {
    anyhow!("{}", e.message)
}

pub async fn logs(ctx: &Ctx, a: &LogsArgs) -> Result<()> {
    let c = kubelet_api(ctx).await?;
    let mut s = c
        .logs(LogsRequest {
            namespace: ctx.ns.effective().to_string(),
            pod: a.pod.clone(),
            container: a.container.clone().unwrap_or_default(),
            follow: a.follow,
            tail_lines: (a.tail >= 0).then_some(a.tail),
            previous: a.previous,
            timestamps: a.timestamps,
            since_seconds: None,
        })
        .await
        .map_err(status_error)?;
    let mut out = std::io::stdout();
    while let Some(data) = s.next_chunk().await.map_err(status_error)? {
        out.write_all(&data)?;
        out.flush()?;
    }
    Ok(())
}

pub async fn exec(ctx: &Ctx, a: &ExecArgs) -> Result<()> {
    let c = kubelet_api(ctx).await?;
    let r = c
        .exec(ExecRequest {
            namespace: ctx.ns.effective().to_string(),
            pod: a.pod.clone(),
            container: a.container.clone().unwrap_or_default(),
            command: a.command.clone(),
        })
        .await
        .map_err(status_error)?;
    std::io::stdout().write_all(&r.output)?;
    if r.truncated {
        eprintln!("output truncated by the kubelet (16 MiB at most)");
    }
    if r.exit_code != 0 {
        eprintln!("command terminated with exit code {}", r.exit_code);
        return Err(super::Reported.into());
    }
    Ok(())
}

/// `250m`, as kubectl top prints CPU.
pub fn millicores(m: u64) -> String {
    format!("{m}m")
}

/// `12Mi`, as kubectl top prints memory.
pub fn mebibytes(b: u64) -> String {
    format!("{}Mi", b / (1024 * 1024))
}

pub async fn top(ctx: &Ctx, a: &TopArgs) -> Result<()> {
    let api = ctx.api().await?;
    let c = kubelet_api(ctx).await?;
    match a.kind.as_str() {
        "pods" | "pod" | "po" => {
            let ns = ctx.ns.effective().to_string();
            let list = api
                .list(ListRequest {
                    resource: "pods".into(),
                    namespace: ns.clone(),
                    ..Default::default()
                })
                .await?;
            let mut nodes: Vec<String> = Vec::new();
            for o in list.items {
                let Ok(p) = Pod::try_from_object(o) else {
                    continue;
                };
                if a.name.as_ref().is_some_and(|n| *n != p.meta().name) {
                    continue;
                }
                let node = p.spec.map(|s| s.node_name).unwrap_or_default();
                if !node.is_empty() && !nodes.contains(&node) {
                    nodes.push(node);
                }
            }
            let mut rows = Vec::new();
            for node in nodes {
                let st = c
                    .stats(StatsRequest {
                        namespace: ns.clone(),
                        pod: a.name.clone().unwrap_or_default(),
                        node,
                    })
                    .await
                    .map_err(status_error)?;
                for p in st.pods {
                    rows.push((p.name, p.cpu_millicores, p.memory_bytes));
                }
            }
            if rows.is_empty() {
                bail!("no metrics for pods in namespace {ns}");
            }
            rows.sort();
            println!(
                "{:<40} {:<12} {:<14}",
                "NAME", "CPU(cores)", "MEMORY(bytes)"
            );
            for (name, cpu, mem) in rows {
                println!("{name:<40} {:<12} {:<14}", millicores(cpu), mebibytes(mem));
            }
        }
        "nodes" | "node" | "no" => {
            let list = api
                .list(ListRequest {
                    resource: "nodes".into(),
                    ..Default::default()
                })
                .await?;
            println!(
                "{:<30} {:<12} {:<6} {:<14} {:<8}",
                "NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"
            );
            for o in list.items {
                let Ok(n) = Node::try_from_object(o) else {
                    continue;
                };
                let name = n.meta().name.clone();
                if a.name.as_ref().is_some_and(|x| *x != name) {
                    continue;
                }
                let st = match c
                    .stats(StatsRequest {
                        node: name.clone(),
                        ..Default::default()
                    })
                    .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("{name}: {}", e.message);
                        continue;
                    }
                };
                let alloc = n.status.map(|s| s.allocatable).unwrap_or_default();
                let cpu_total = alloc
                    .get("cpu")
                    .and_then(|q| proto::quantity::parse_cpu_millis(q).ok())
                    .unwrap_or(0);
                let mem_total = alloc
                    .get("memory")
                    .and_then(|q| proto::quantity::parse_bytes(q).ok())
                    .unwrap_or(0);
                let pct = |used: u64, total: i64| {
                    if total > 0 {
                        format!("{}%", used * 100 / u64::try_from(total).unwrap_or(1))
                    } else {
                        "<unknown>".to_string()
                    }
                };
                println!(
                    "{name:<30} {:<12} {:<6} {:<14} {:<8}",
                    millicores(st.node_cpu_millicores),
                    pct(st.node_cpu_millicores, cpu_total),
                    mebibytes(st.node_memory_bytes),
                    pct(st.node_memory_bytes, mem_total)
                );
            }
        }
        other => bail!("ctl top: unknown resource {other:?} (pods or nodes)"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn units_as_kubectl_top() {
        assert_eq!(super::millicores(250), "250m");
        assert_eq!(super::mebibytes(12 * 1024 * 1024 + 5), "12Mi");
    }
}
