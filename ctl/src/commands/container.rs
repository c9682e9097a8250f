//! `ctl logs` and `ctl exec`: the kubelet API (`proto::kubelet_api`), called on
//! the apiserver, which forwards each call to the kubelet of the pod's node.

use super::Ctx;
use anyhow::{Result, anyhow};
use clap::Args;
use client::KubeletApi;
use client::kubelet_api::{ExecRequest, LogsRequest};
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
