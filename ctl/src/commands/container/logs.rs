//! `ctl logs (POD | TYPE/NAME) [CONTAINER]` and `ctl logs -l SELECTOR`, as kubectl: one
//! log request per (pod, container) chosen; read one after the other, or all at once when
//! following several (at most `--max-log-requests`). Output goes out by whole lines, each
//! with `[pod/NAME/CONTAINER] ` in front under `--prefix`, so concurrent logs never mix
//! within a line.

use super::pods::{
    DEFAULT_CONTAINER_ANNOTATION, Target, by_logging, choose_container, get_pod, has_container,
    list_pods, parse_target, workload_pods,
};
use super::{kubelet_api, status_error};
use crate::args::parse_duration;
use crate::commands::Ctx;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::KubeletApi;
use client::kubelet_api::{LogStream, LogsRequest};
use futures::StreamExt;
use futures::stream::BoxStream;
use proto::Resource;
use proto::k8s::Pod;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

const USAGE: &str = "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]";

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// POD or TYPE/NAME (the first pod of a deployment, job...), and optionally the
    /// container
    pub args: Vec<String>,
    /// Print the logs of this container
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Specify if the logs should be streamed
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Lines of recent log file to display. Defaults to -1 with no selector, showing all
    /// log lines otherwise 10, if a selector is provided
    #[arg(long, allow_negative_numbers = true)]
    pub tail: Option<i64>,
    /// The logs of the previous instance of the container, if it exists
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Include timestamps on each line in the log output
    #[arg(long)]
    pub timestamps: bool,
    /// Only return logs newer than a relative duration like 5s, 2m, or 3h
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Only return logs after a specific date (RFC3339)
    #[arg(long, value_name = "TIME")]
    pub since_time: Option<String>,
    /// Prefix each log line with the log source (pod name and container name)
    #[arg(long)]
    pub prefix: bool,
    /// Get all containers' logs in the pod(s)
    #[arg(long)]
    pub all_containers: bool,
    /// Get logs from all pods of TYPE/NAME. Sets --prefix
    #[arg(long)]
    pub all_pods: bool,
    /// Maximum number of concurrent logs to follow when using a selector
    #[arg(long, default_value_t = 5)]
    pub max_log_requests: usize,
    /// If watching / following pod logs, allow for any errors that occur to be non-fatal
    #[arg(long)]
    pub ignore_errors: bool,
    /// Maximum bytes of logs to return (0: no limit)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub limit_bytes: i64,
    /// How long to wait for a pod of TYPE/NAME to exist
    #[arg(long, default_value = "20s", value_name = "DURATION")]
    pub pod_running_timeout: String,
}

/// What the flags ask, checked as kubectl checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `None` with a selector.
    pub target: Option<String>,
    pub container: Option<String>,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub prefix: bool,
}

pub fn plan(a: &LogsArgs, selector: &str, now: SystemTime) -> Result<Plan> {
    let usage = || {
        anyhow!(
            "expected '{USAGE}'.\nPOD or TYPE/NAME is a required argument for the logs command (see 'ctl logs --help')"
        )
    };
    let (target, mut container) = match a.args.as_slice() {
        [] if selector.is_empty() => return Err(usage()),
        [] => (None, a.container.clone()),
        [_] if !selector.is_empty() => bail!("only a selector (-l) or a POD name is allowed"),
        [t] => (Some(t.clone()), a.container.clone()),
        [t, c] => {
            if a.container.is_some() {
                bail!("only one of -c or an inline [CONTAINER] arg is allowed");
            }
            (Some(t.clone()), Some(c.clone()))
        }
        _ => return Err(usage()),
    };
    container = container.filter(|c| !c.is_empty());
    if a.since.is_some() && a.since_time.is_some() {
        bail!("at most one of `sinceTime` or `sinceSeconds` may be specified");
    }
    if let (true, Some(c)) = (a.all_containers, &container) {
        bail!("--all-containers=true should not be specified with container name {c}");
    }
    if a.limit_bytes < 0 {
        bail!("--limit-bytes must be greater than 0");
    }
    let tail_lines = match a.tail {
        None if !selector.is_empty() => Some(10),
        None | Some(-1) => None,
        Some(t) if t < -1 => bail!("--tail must be greater than or equal to -1"),
        Some(t) => Some(t),
    };
    let since_seconds = match (&a.since, &a.since_time) {
        (Some(s), _) => {
            let d = parse_duration(s)
                .map_err(|e| anyhow!("invalid argument {s:?} for \"--since\" flag: {e}"))?;
            // Rounded to the nearest second, as kubectl does; 0 means all.
            let secs = (d + Duration::from_millis(500)).as_secs() as i64;
            (secs > 0).then_some(secs)
        }
        (None, Some(t)) => {
            let at = proto::time::parse_rfc3339(t)
                .ok_or_else(|| anyhow!("parsing time {t:?} as RFC3339: not a valid time"))?;
            // The kubelet takes an age: lines from that instant on (at least the last second).
            let age = now.duration_since(at).unwrap_or_default();
            Some(age.as_secs_f64().ceil().max(1.0) as i64)
        }
        (None, None) => None,
    };
    Ok(Plan {
        target,
        container,
        tail_lines,
        since_seconds,
        prefix: a.prefix || a.all_pods,
    })
}

/// kubectl's `--prefix`: the source of each line.
pub fn prefix_of(pod: &str, container: &str) -> String {
    format!("[pod/{pod}/{container}] ")
}

/// One log to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// The containers of `pod` to read: all of them (init containers first) or the one asked,
/// defaulted as kubectl does (a notice on stderr when it picked one of several).
fn containers_of(pod: &Pod, asked: Option<&str>, all: bool, quiet: bool) -> Result<Vec<String>> {
    if all {
        let spec = pod.spec.clone().unwrap_or_default();
        return Ok(spec
            .init_containers
            .iter()
            .chain(&spec.containers)
            .map(|c| c.name.clone())
            .collect());
    }
    let mut pod = pod.clone();
    // logs (unlike exec) warns about a default-container annotation naming no container
    // and falls back to the first one.
    if asked.is_none()
        && let Some(d) = pod
            .meta()
            .annotations
            .get(DEFAULT_CONTAINER_ANNOTATION)
            .cloned()
        && !d.is_empty()
        && !has_container(&pod, &d)
    {
        eprintln!(
            "Default container name {d:?} not found in pod {}",
            pod.meta().name
        );
        pod.meta_mut()
            .annotations
            .remove(DEFAULT_CONTAINER_ANNOTATION);
    }
    let (c, notice) = choose_container(&pod, asked)?;
    if let (Some(n), false) = (notice, quiet) {
        eprintln!("{n}");
    }
    Ok(vec![c])
}

fn sources_of(pods: &[Pod], plan: &Plan, a: &LogsArgs, quiet: bool) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for p in pods {
        for container in containers_of(p, plan.container.as_deref(), a.all_containers, quiet)? {
            out.push(Source {
                namespace: p.meta().namespace.clone(),
                pod: p.meta().name.clone(),
                container,
            });
        }
    }
    Ok(out)
}

/// kubectl's check before following several logs at once.
pub fn check_concurrency(follow: bool, requests: usize, max: usize) -> Result<()> {
    if follow && requests > 1 && requests > max {
        bail!(
            "you are attempting to follow {requests} log streams, but maximum allowed concurrency is {max}, use --max-log-requests to increase the limit"
        );
    }
    Ok(())
}

pub async fn logs(ctx: &Ctx, a: &LogsArgs) -> Result<()> {
    let selector = ctx.label_selector();
    let plan = plan(a, &selector, SystemTime::now())?;
    let timeout = parse_duration(&a.pod_running_timeout)
        .map_err(|e| anyhow!("--pod-running-timeout: {e}"))?;
    let sources = match &plan.target {
        None => {
            let pods = list_pods(ctx, &selector).await?;
            if pods.is_empty() {
                eprintln!("No resources found in {} namespace.", ctx.ns.effective());
                return Ok(());
            }
            sources_of(&pods, &plan, a, false)?
        }
        Some(t) => match parse_target(t, "get the logs from")? {
            Target::Pod(name) => {
                let pod = get_pod(ctx, ctx.ns.effective(), &name).await.map_err(|e| {
                    if crate::api::reason_of(&e) == Some(proto::Reason::NotFound) {
                        anyhow!(
                            "error from server (NotFound): {e} in namespace {:?}",
                            ctx.ns.effective()
                        )
                    } else {
                        e
                    }
                })?;
                sources_of(&[pod], &plan, a, false)?
            }
            Target::Workload(kind, name) => {
                let mut pods = workload_pods(ctx, kind, &name, timeout, by_logging).await?;
                if !a.all_pods {
                    if pods.len() > 1 {
                        eprintln!(
                            "Found {} pods, using pod/{}",
                            pods.len(),
                            pods[0].meta().name
                        );
                    }
                    pods.truncate(1);
                }
                // --all-pods: kubectl says nothing about the defaulted containers.
                sources_of(&pods, &plan, a, a.all_pods)?
            }
        },
    };
    check_concurrency(a.follow, sources.len(), a.max_log_requests)?;
    let api = kubelet_api(ctx).await?;
    let retry_until = a.follow.then(|| Instant::now() + timeout);
    let streams: Vec<BoxStream<'static, Result<Vec<u8>>>> = sources
        .iter()
        .map(|s| {
            let req = request(s, &plan, a);
            lines(api.clone(), req, prefix(s, &plan), a, retry_until)
        })
        .collect();
    let mut out = std::io::stdout();
    let mut write = |line: Vec<u8>| -> Result<()> {
        out.write_all(&line)?;
        out.flush()?;
        Ok(())
    };
    if a.follow && streams.len() > 1 {
        let mut all = futures::stream::select_all(streams);
        while let Some(line) = all.next().await {
            write(line?)?;
        }
    } else {
        for mut s in streams {
            while let Some(line) = s.next().await {
                write(line?)?;
            }
        }
    }
    Ok(())
}

fn request(s: &Source, plan: &Plan, a: &LogsArgs) -> LogsRequest {
    LogsRequest {
        namespace: s.namespace.clone(),
        pod: s.pod.clone(),
        container: s.container.clone(),
        follow: a.follow,
        tail_lines: plan.tail_lines,
        previous: a.previous,
        timestamps: a.timestamps,
        since_seconds: plan.since_seconds,
    }
}

fn prefix(s: &Source, plan: &Plan) -> Vec<u8> {
    if plan.prefix {
        prefix_of(&s.pod, &s.container).into_bytes()
    } else {
        Vec::new()
    }
}

/// Whole lines (the last one maybe without its newline) with the prefix in front.
#[derive(Debug, Default)]
pub struct Lines {
    prefix: Vec<u8>,
    partial: Vec<u8>,
    /// Bytes of log still allowed (`--limit-bytes`); `None`: no limit.
    left: Option<u64>,
}

impl Lines {
    pub fn new(prefix: Vec<u8>, limit_bytes: u64) -> Lines {
        Lines {
            prefix,
            partial: Vec::new(),
            left: (limit_bytes > 0).then_some(limit_bytes),
        }
    }

    /// The complete lines `chunk` finishes; `done` once the byte limit is reached.
    pub fn push(&mut self, mut chunk: &[u8]) -> (Vec<u8>, bool) {
        let mut done = false;
        if let Some(left) = &mut self.left {
            if (chunk.len() as u64) >= *left {
                chunk = &chunk[..*left as usize];
                done = true;
            }
            *left -= chunk.len() as u64;
        }
        let mut out = Vec::new();
        for piece in chunk.split_inclusive(|b| *b == b'\n') {
            self.partial.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                out.extend_from_slice(&self.prefix);
                out.append(&mut self.partial);
            }
        }
        if done {
            out.extend(self.finish());
        }
        (out, done)
    }

    /// What is left at the end of the log.
    pub fn finish(&mut self) -> Vec<u8> {
        if self.partial.is_empty() {
            return Vec::new();
        }
        let mut out = self.prefix.clone();
        out.append(&mut self.partial);
        out
    }
}

enum State {
    Start(KubeletApi, LogsRequest),
    Reading(LogStream),
    Done,
}

/// One log as a stream of line batches; with `--ignore-errors`, a failure is printed and
/// ends this log only.
fn lines(
    api: KubeletApi,
    req: LogsRequest,
    prefix: Vec<u8>,
    a: &LogsArgs,
    retry_until: Option<Instant>,
) -> BoxStream<'static, Result<Vec<u8>>> {
    let ignore = a.ignore_errors;
    let buf = Lines::new(prefix, a.limit_bytes.max(0) as u64);
    futures::stream::unfold(
        (State::Start(api, req), buf),
        move |(state, mut buf)| async move {
            let mut state = state;
            loop {
                let e: anyhow::Error = match state {
                    State::Done => return None,
                    State::Start(api, req) => match api.logs(req.clone()).await {
                        Ok(s) => {
                            state = State::Reading(s);
                            continue;
                        }
                        // Following a container not started yet: kubectl says why and
                        // tries again every second, for --pod-running-timeout.
                        Err(e) if retry_until.is_some_and(|d| Instant::now() < d) && !ignore => {
                            eprintln!("{}", e.message);
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            state = State::Start(api, req);
                            continue;
                        }
                        Err(e) => status_error(e),
                    },
                    State::Reading(mut s) => match s.next_chunk().await {
                        Ok(Some(chunk)) => {
                            let (out, done) = buf.push(&chunk);
                            state = if done { State::Done } else { State::Reading(s) };
                            if out.is_empty() {
                                continue;
                            }
                            return Some((Ok(out), (state, buf)));
                        }
                        Ok(None) => {
                            let rest = buf.finish();
                            if rest.is_empty() {
                                return None;
                            }
                            return Some((Ok(rest), (State::Done, buf)));
                        }
                        Err(e) => status_error(e),
                    },
                };
                if ignore {
                    eprintln!("error: {e}");
                    return None;
                }
                return Some((Err(e), (State::Done, buf)));
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn parse(args: &[&str]) -> LogsArgs {
        use crate::args::{Cli, Command};
        use clap::Parser;
        let cli = Cli::try_parse_from(["ctl", "logs"].iter().chain(args)).unwrap();
        let Command::Logs(l) = cli.command else {
            panic!("not logs")
        };
        l
    }

    fn plan_of(args: &[&str], selector: &str) -> Result<Plan> {
        plan(
            &parse(args),
            selector,
            UNIX_EPOCH + Duration::from_secs(1_000_000),
        )
    }

    #[test]
    fn targets_containers_and_kubectls_refusals() {
        let p = plan_of(&["web"], "").unwrap();
        assert_eq!(p.target.as_deref(), Some("web"));
        assert_eq!(p.container, None);
        assert_eq!(p.tail_lines, None);
        let p = plan_of(&["web", "side"], "").unwrap();
        assert_eq!(p.container.as_deref(), Some("side"));
        let p = plan_of(&["deployment/web", "-c", "app"], "").unwrap();
        assert_eq!(p.container.as_deref(), Some("app"));
        let e = |args: &[&str], sel: &str| plan_of(args, sel).unwrap_err().to_string();
        assert!(
            e(&[], "").starts_with("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.")
        );
        assert_eq!(
            e(&["web"], "app=x"),
            "only a selector (-l) or a POD name is allowed"
        );
        assert_eq!(
            e(&["web", "side", "-c", "app"], ""),
            "only one of -c or an inline [CONTAINER] arg is allowed"
        );
        assert_eq!(
            e(&["web", "--all-containers", "-c", "app"], ""),
            "--all-containers=true should not be specified with container name app"
        );
        assert_eq!(
            e(
                &["web", "--since=5m", "--since-time=2024-01-01T00:00:00Z"],
                ""
            ),
            "at most one of `sinceTime` or `sinceSeconds` may be specified"
        );
        assert_eq!(
            e(&["web", "--tail=-2"], ""),
            "--tail must be greater than or equal to -1"
        );
        assert_eq!(
            e(&["web", "--limit-bytes=-1"], ""),
            "--limit-bytes must be greater than 0"
        );
    }

    #[test]
    fn tail_defaults_to_ten_with_a_selector() {
        assert_eq!(plan_of(&[], "app=x").unwrap().tail_lines, Some(10));
        assert_eq!(plan_of(&["--tail=-1"], "app=x").unwrap().tail_lines, None);
        assert_eq!(plan_of(&["--tail=3"], "app=x").unwrap().tail_lines, Some(3));
        assert_eq!(
            plan_of(&["web", "--tail=0"], "").unwrap().tail_lines,
            Some(0)
        );
    }

    #[test]
    fn since_as_seconds() {
        assert_eq!(
            plan_of(&["web", "--since=5m"], "").unwrap().since_seconds,
            Some(300)
        );
        assert_eq!(
            plan_of(&["web", "--since=1500ms"], "")
                .unwrap()
                .since_seconds,
            Some(2)
        );
        assert_eq!(
            plan_of(&["web", "--since=0s"], "").unwrap().since_seconds,
            None
        );
        // now is 1_000_000 s after the epoch: 1970-01-12T13:46:40Z.
        let p = plan_of(&["web", "--since-time=1970-01-12T13:45:00Z"], "").unwrap();
        assert_eq!(p.since_seconds, Some(100));
        assert!(plan_of(&["web", "--since-time=yesterday"], "").is_err());
        assert!(plan_of(&["web", "--since=5x"], "").is_err());
    }

    #[test]
    fn all_pods_sets_prefix() {
        assert!(!plan_of(&["deploy/web"], "").unwrap().prefix);
        assert!(plan_of(&["deploy/web", "--prefix"], "").unwrap().prefix);
        assert!(plan_of(&["deploy/web", "--all-pods"], "").unwrap().prefix);
    }

    #[test]
    fn lines_carry_the_prefix_and_never_split() {
        let mut l = Lines::new(prefix_of("web-1", "app").into_bytes(), 0);
        assert_eq!(
            l.push(b"one\ntw"),
            (b"[pod/web-1/app] one\n".to_vec(), false)
        );
        assert_eq!(
            l.push(b"o\nthree"),
            (b"[pod/web-1/app] two\n".to_vec(), false)
        );
        assert_eq!(l.finish(), b"[pod/web-1/app] three".to_vec());
        assert_eq!(l.finish(), Vec::<u8>::new());
        let mut plain = Lines::new(Vec::new(), 0);
        assert_eq!(plain.push(b"a\nb\n"), (b"a\nb\n".to_vec(), false));
    }

    #[test]
    fn limit_bytes_cuts_the_log() {
        let mut l = Lines::new(Vec::new(), 5);
        assert_eq!(l.push(b"ab\n"), (b"ab\n".to_vec(), false));
        assert_eq!(l.push(b"cdef\n"), (b"cd".to_vec(), true));
    }

    #[test]
    fn following_too_many_logs_is_refused() {
        assert!(check_concurrency(true, 5, 5).is_ok());
        assert!(check_concurrency(false, 9, 5).is_ok());
        assert_eq!(
            check_concurrency(true, 6, 5).unwrap_err().to_string(),
            "you are attempting to follow 6 log streams, but maximum allowed concurrency is 5, use --max-log-requests to increase the limit"
        );
    }
}
