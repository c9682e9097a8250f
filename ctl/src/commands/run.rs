//! `ctl run NAME --image=I`: one pod, as kubectl 1.33's run generator builds it (label
//! `run=NAME`, `dnsPolicy: ClusterFirst`, arguments as `args` or with `--command` as the
//! command); `--expose` adds a ClusterIP service. With `-i`/`--attach` it waits for the pod
//! to run, attaches to its main process (the kubelet API's ExecStream with `attach`), returns
//! the container's exit code under `--restart=Never|OnFailure`, and deletes the pod with
//! `--rm`.
//!
//! ctl's global `-l` is `--selector`; here it carries the pod's labels, as kubectl's `-l`
//! (`--labels`) does.

use super::Ctx;
use super::container::session::{self, Output, Session};
use super::container::{RemoteExit, exec::use_tty, term};
use super::expose::{ExposeOptions, expose_service};
use super::generate::doc::{apply_overrides, container, parse_labels, to_object};
use super::generate::{print_outcome, send};
use crate::args::{DryRun, OutputFormat, parse_duration};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::kubelet_api::{ExecStreamOpen, LogsRequest};
use proto::Resource;
use proto::k8s::{DeleteRequest, Object, Pod};
use proto::kind_validation::is_env_var_name;
use proto::resource::info;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The pod's name
    pub name: String,
    /// The image for the container to run
    #[arg(long, required = true)]
    pub image: String,
    /// The port that this container exposes
    #[arg(long)]
    pub port: Option<String>,
    /// Environment variables to set in the container, `K=V` (repeatable)
    #[arg(long)]
    pub env: Vec<String>,
    /// Comma separated labels to apply to the pod (default: run=NAME; `-l` works too)
    #[arg(long)]
    pub labels: Option<String>,
    /// Annotations to apply to the pod, `K=V` (repeatable)
    #[arg(long)]
    pub annotations: Vec<String>,
    /// The restart policy for this Pod: Always, OnFailure or Never
    #[arg(long, default_value = "Always")]
    pub restart: String,
    /// Use the arguments after NAME as the container's command instead of its args
    #[arg(long)]
    pub command: bool,
    /// Keep stdin open on the container; attach to it (implies --attach)
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Allocate a TTY for the container
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Wait for the pod to run, then attach to it as `attach` would
    #[arg(long)]
    pub attach: bool,
    /// Delete the pod after it exits (only with --attach or -i)
    #[arg(long)]
    pub rm: bool,
    /// Leave stdin open after the first attach completes
    #[arg(long)]
    pub leave_stdin_open: bool,
    /// Always, IfNotPresent or Never (default: the server's)
    #[arg(long)]
    pub image_pull_policy: Option<String>,
    /// Run the container in privileged mode
    #[arg(long)]
    pub privileged: bool,
    /// Also create a ClusterIP service for the pod (needs --port)
    #[arg(long)]
    pub expose: bool,
    /// Suppress prompt messages
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// JSON merged into the generated pod before it is sent (`{"spec": {...}}`)
    #[arg(long)]
    pub overrides: Option<String>,
    /// How --overrides applies: merge (JSON merge patch; the only one ctl has)
    #[arg(long, default_value = "merge")]
    pub override_type: String,
    /// How long to wait for the pod to be running
    #[arg(long, default_value = "1m0s")]
    pub pod_running_timeout: String,
    /// Arguments of the container (its command with --command), after `--`
    pub args: Vec<String>,
}

/// What `run` was asked, checked in kubectl's order with kubectl's words.
pub fn validate(a: &RunArgs, labels: Option<&str>, dry_run: DryRun) -> Result<()> {
    if a.tty && !a.stdin {
        bail!("-i/--stdin is required for containers with -t/--tty=true");
    }
    if a.expose && a.port.as_deref().unwrap_or("").is_empty() {
        bail!("--port must be set when exposing a service");
    }
    if !matches!(a.restart.as_str(), "Always" | "OnFailure" | "Never") {
        bail!("invalid restart policy: {}", a.restart);
    }
    let attach = a.attach || a.stdin;
    if a.rm && !attach {
        bail!("--rm should only be used for attached containers");
    }
    if attach && dry_run != DryRun::None {
        bail!(
            "--dry-run=[server|client] can't be used with attached containers options (--attach, --stdin, or --tty)"
        );
    }
    if let Some(p) = a.image_pull_policy.as_deref()
        && !matches!(p, "" | "Always" | "IfNotPresent" | "Never")
    {
        bail!("invalid image pull policy: {p}");
    }
    if let Some(l) = labels {
        parse_labels(l)?;
    }
    Ok(())
}

fn parse_env(env: &[String]) -> Result<Vec<Value>> {
    env.iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) if !k.is_empty() && is_env_var_name(k).is_empty() => {
                Ok(json!({"name": k, "value": v}))
            }
            _ => Err(anyhow!("invalid env: {e}")),
        })
        .collect()
}

fn parse_annotations(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut invalid = Vec::new();
    for p in pairs {
        match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), v.to_string());
            }
            _ => invalid.push(p.as_str()),
        }
    }
    if !invalid.is_empty() {
        bail!("invalid annotations format: {}", invalid.join(", "));
    }
    Ok(out)
}

/// The pod kubectl's run generator makes.
pub fn pod(a: &RunArgs, labels: Option<&str>, namespace: Option<&str>) -> Result<Object> {
    let labels = match labels.filter(|l| !l.is_empty()) {
        Some(l) => parse_labels(l)?,
        None => BTreeMap::from([("run".to_string(), a.name.clone())]),
    };
    let annotations = parse_annotations(&a.annotations)?;
    let mut c = container(&a.name, &a.image, &[]);
    if !a.args.is_empty() {
        let key = if a.command { "command" } else { "args" };
        c.insert(key.into(), json!(a.args));
    }
    let env = parse_env(&a.env)?;
    if !env.is_empty() {
        c.insert("env".into(), env.into());
    }
    if let Some(p) = a.image_pull_policy.as_deref().filter(|p| !p.is_empty()) {
        c.insert("imagePullPolicy".into(), p.into());
    }
    if let Some(port) = a.port.as_deref().filter(|p| !p.is_empty()) {
        let n: i32 = port
            .parse()
            .map_err(|_| anyhow!("strconv.Atoi: parsing {port:?}: invalid syntax"))?;
        c.insert("ports".into(), json!([{"containerPort": n}]));
    }
    if a.stdin {
        c.insert("stdin".into(), true.into());
        if !a.leave_stdin_open {
            c.insert("stdinOnce".into(), true.into());
        }
    }
    if a.tty {
        c.insert("tty".into(), true.into());
    }
    if a.privileged {
        c.insert("securityContext".into(), json!({"privileged": true}));
    }
    let mut meta = json!({"name": a.name, "labels": labels});
    if let Some(ns) = namespace {
        meta["namespace"] = ns.into();
    }
    if !annotations.is_empty() {
        meta["annotations"] = json!(annotations);
    }
    to_object(
        &info::Pod,
        json!({
            "metadata": meta,
            "spec": {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": a.restart},
            "status": {},
        }),
    )
}

/// `--expose`: the service of kubectl's run (selector: the pod's labels; labels only
/// when --labels gave some).
pub fn run_service(pod: &Object, a: &RunArgs, labels: Option<&str>) -> Result<Object> {
    let selector = labels
        .filter(|l| !l.is_empty())
        .map(String::from)
        .unwrap_or_else(|| format!("run={}", a.name));
    let opts = ExposeOptions {
        port: a.port.clone(),
        selector: Some(selector),
        labels: labels.map(String::from),
        ..Default::default()
    };
    let mut svc = expose_service(pod, &opts)?;
    if labels.is_none_or(str::is_empty) {
        svc.meta_mut().labels.clear();
    }
    let ns = &pod.meta().namespace;
    if !ns.is_empty() {
        svc.meta_mut().namespace = ns.clone();
    }
    Ok(svc)
}

pub async fn run(ctx: &Ctx, a: &RunArgs) -> Result<()> {
    let labels = a
        .labels
        .clone()
        .or_else(|| ctx.global.selector.clone())
        .filter(|l| !l.is_empty());
    validate(a, labels.as_deref(), ctx.dry_run())?;
    let timeout = parse_duration(&a.pod_running_timeout)
        .map_err(|e| anyhow!("--pod-running-timeout: {e}"))?;
    let pod_object = apply_overrides(
        pod(a, labels.as_deref(), ctx.ns.explicit.as_deref())?,
        a.overrides.as_deref().unwrap_or(""),
        &a.override_type,
    )?;
    let attach = a.attach || a.stdin;

    let mut created: Vec<Object> = Vec::new();
    let mut failures = Vec::new();
    let pod_shown = send(ctx, pod_object.clone()).await?;
    created.push(pod_shown.clone());
    if a.expose {
        match run_service(&pod_object, a, labels.as_deref()) {
            Ok(svc) => match send(ctx, svc).await {
                Ok(svc) => {
                    print_outcome(ctx, &svc, "created")?;
                    // kubectl ends the service with `---`, and its YAML printer starts the
                    // second object with another.
                    if ctx.output() == Some(OutputFormat::Yaml) {
                        println!("---\n---");
                    }
                    created.push(svc);
                }
                Err(e) => failures.push(e),
            },
            Err(e) => failures.push(e),
        }
    }
    if !attach {
        print_outcome(ctx, &pod_shown, "created")?;
        return match failures.pop() {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let result = attach_and_wait(ctx, a, &pod_shown, timeout).await;
    if a.rm {
        for o in &created {
            remove(ctx, o, a.quiet).await;
        }
    }
    result
}

/// Deletes what `run` created (`--rm`), reporting as `delete` does; a failure is printed,
/// not returned: the run's own outcome matters more.
async fn remove(ctx: &Ctx, o: &Object, quiet: bool) {
    let Some(info) = o.info() else { return };
    let req = DeleteRequest {
        resource: info.plural.to_string(),
        namespace: o.meta().namespace.clone(),
        name: o.meta().name.clone(),
        ..Default::default()
    };
    let res = async { ctx.api().await?.delete(req).await }.await;
    match res {
        Ok(_) if !quiet => println!("{} \"{}\" deleted", info.singular, o.meta().name),
        Ok(_) => {}
        Err(e) if crate::api::reason_of(&e) == Some(proto::Reason::NotFound) => {}
        Err(e) => eprintln!("{}", crate::errors::render_error(&e)),
    }
}

/// Where a pod is on its way to being attached to.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Waiting,
    RunningAndReady,
    Completed,
}

pub fn progress(pod: &Pod) -> Progress {
    let status = pod.status.clone().unwrap_or_default();
    match status.phase.as_str() {
        "Succeeded" | "Failed" => Progress::Completed,
        "Running"
            if status
                .conditions
                .iter()
                .any(|c| c.r#type == "Ready" && c.status == "True") =>
        {
            Progress::RunningAndReady
        }
        _ => Progress::Waiting,
    }
}

async fn get_pod(ctx: &Ctx, ns: &str, name: &str) -> Result<Pod> {
    let o = ctx.api().await?.get("pods", ns, name).await?;
    Pod::try_from_object(o).map_err(|_| anyhow!("pods \"{name}\" is not a pod"))
}

/// Polls the pod until `done` says so, or the timeout passes.
async fn wait_for(
    ctx: &Ctx,
    ns: &str,
    name: &str,
    timeout: Duration,
    done: impl Fn(&Pod) -> bool,
) -> Result<Pod> {
    let start = Instant::now();
    loop {
        let pod = get_pod(ctx, ns, name).await?;
        if done(&pod) {
            return Ok(pod);
        }
        if !timeout.is_zero() && start.elapsed() >= timeout {
            bail!("timed out waiting for the condition");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn attach_and_wait(
    ctx: &Ctx,
    a: &RunArgs,
    created: &Object,
    timeout: Duration,
) -> Result<()> {
    let ns = created.meta().namespace.clone();
    let name = created.meta().name.clone();
    let pod = wait_for(ctx, &ns, &name, timeout, |p| {
        progress(p) != Progress::Waiting
    })
    .await?;
    if progress(&pod) == Progress::Completed {
        print_logs(ctx, &ns, &name).await?;
    } else if let Err(e) = attach(ctx, a, &ns, &name).await {
        eprintln!("warning: couldn't attach to pod/{name}, falling back to streaming logs: {e:#}");
        print_logs(ctx, &ns, &name).await?;
    }
    // kubectl returns the container's exit code when the pod does not restart it.
    if a.leave_stdin_open || a.restart == "Always" {
        return Ok(());
    }
    let succeeded_only = a.restart == "OnFailure";
    let pod = wait_for(ctx, &ns, &name, timeout, |p| {
        let phase = p.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("");
        phase == "Succeeded" || (!succeeded_only && phase == "Failed")
    })
    .await?;
    exit_of(&pod)
}

/// The run's result from its finished pod: the first container's exit code, reported as
/// kubectl reports it.
pub fn exit_of(pod: &Pod) -> Result<()> {
    let status = pod.status.clone().unwrap_or_default();
    let (ns, name) = (&pod.meta().namespace, &pod.meta().name);
    match status.phase.as_str() {
        "Succeeded" => Ok(()),
        "Failed" => {
            let terminated = status
                .container_statuses
                .first()
                .and_then(|c| c.state.as_ref())
                .and_then(|s| s.terminated.clone());
            match terminated {
                Some(t) if t.exit_code != 0 => {
                    // kubectl prints its exit error as is: no `error:`, the message
                    // (often empty) on the next line.
                    let text = format!("pod {ns}/{name} terminated ({})\n{}", t.reason, t.message);
                    eprint!("{text}");
                    if !text.ends_with('\n') {
                        eprintln!();
                    }
                    Err(RemoteExit(t.exit_code).into())
                }
                _ => bail!("pod {ns}/{name} failed with unknown exit code"),
            }
        }
        phase => bail!("pod {ns}/{name} left in phase {phase}"),
    }
}

/// Attaches this terminal to the container's main process until it ends.
async fn attach(ctx: &Ctx, a: &RunArgs, ns: &str, name: &str) -> Result<()> {
    let (tty, notice) = use_tty(a.tty, a.stdin, std::io::stdin().is_terminal());
    if let (Some(n), false) = (notice, a.quiet) {
        eprintln!("{n}");
    }
    let open = ExecStreamOpen {
        namespace: ns.to_string(),
        pod: name.to_string(),
        container: name.to_string(),
        command: vec![],
        stdin: a.stdin,
        stdout: true,
        stderr: !tty,
        tty,
        attach: true,
    };
    let mut s = Session::open(ctx, open).await?;
    if !a.quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let _raw = if tty {
        Some(term::RawMode::enable()?)
    } else {
        None
    };
    if tty && let Some((w, h)) = term::size() {
        let _ = s.input().send(session::resize(w, h)).await;
    }
    if a.stdin {
        session::feed_stdin(std::io::stdin(), s.input());
    }
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        match s.next().await? {
            Output::Stdout(d) => {
                out.write_all(&d)?;
                out.flush()?;
            }
            Output::Stderr(d) => {
                err.write_all(&d)?;
                err.flush()?;
            }
            Output::Exit(_) => return Ok(()),
        }
    }
}

async fn print_logs(ctx: &Ctx, ns: &str, name: &str) -> Result<()> {
    let api = super::container::kubelet_api(ctx).await?;
    let mut s = api
        .logs(LogsRequest {
            namespace: ns.to_string(),
            pod: name.to_string(),
            container: name.to_string(),
            ..Default::default()
        })
        .await
        .map_err(super::container::status_error)?;
    let mut out = std::io::stdout();
    while let Some(d) = s
        .next_chunk()
        .await
        .map_err(super::container::status_error)?
    {
        out.write_all(&d)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::generate::doc::testing::AsDoc;
    use super::super::generate::doc::testing::assert_same_as_kubectl;
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn args(line: &[&str]) -> RunArgs {
        let mut argv = vec!["run"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).unwrap().run
    }

    #[test]
    fn pod_is_kubectls() {
        // kubectl run web --image=nginx --port=80 --env=A=1 --dry-run=client -o yaml
        let a = args(&["web", "--image=nginx", "--port=80", "--env=A=1"]);
        assert_same_as_kubectl(
            &pod(&a, None, None).unwrap(),
            r#"apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - env:
    - name: A
      value: "1"
    image: nginx
    name: web
    ports:
    - containerPort: 80
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
"#,
        );
    }

    #[test]
    fn args_command_labels_and_stdin() {
        let a = args(&[
            "web",
            "--image=busybox",
            "--restart=Never",
            "--command",
            "-i",
            "-t",
            "--",
            "sh",
            "-c",
            "echo hi",
        ]);
        let p = pod(&a, Some("a=b,c=d"), Some("apps")).unwrap().doc();
        assert_eq!(p["metadata"]["labels"], json!({"a": "b", "c": "d"}));
        assert_eq!(p["metadata"]["namespace"], "apps");
        let c = &p["spec"]["containers"][0];
        assert_eq!(c["command"], json!(["sh", "-c", "echo hi"]));
        assert!(c["args"].is_null());
        assert_eq!(
            (c["stdin"].clone(), c["stdinOnce"].clone(), c["tty"].clone()),
            (json!(true), json!(true), json!(true))
        );
        assert_eq!(p["spec"]["restartPolicy"], "Never");
        // Without --command the words are the image's arguments.
        let a = args(&["web", "--image=busybox", "--", "a", "b"]);
        let p = pod(&a, None, None).unwrap().doc();
        assert_eq!(p["spec"]["containers"][0]["args"], json!(["a", "b"]));
    }

    #[test]
    fn kubectls_refusals() {
        let msg =
            |line: &[&str], dry: DryRun| validate(&args(line), None, dry).unwrap_err().to_string();
        assert_eq!(
            msg(&["w", "--image=i", "-t"], DryRun::None),
            "-i/--stdin is required for containers with -t/--tty=true"
        );
        assert_eq!(
            msg(&["w", "--image=i", "--rm"], DryRun::None),
            "--rm should only be used for attached containers"
        );
        assert_eq!(
            msg(&["w", "--image=i", "-i", "--rm"], DryRun::Client),
            "--dry-run=[server|client] can't be used with attached containers options (--attach, --stdin, or --tty)"
        );
        assert_eq!(
            msg(&["w", "--image=i", "--restart=Sometimes"], DryRun::None),
            "invalid restart policy: Sometimes"
        );
        assert_eq!(
            msg(&["w", "--image=i", "--expose"], DryRun::None),
            "--port must be set when exposing a service"
        );
        assert_eq!(
            pod(&args(&["w", "--image=i", "--env=1X=y"]), None, None)
                .unwrap_err()
                .to_string(),
            "invalid env: 1X=y"
        );
    }

    #[test]
    fn exposed_run_gets_kubectls_service() {
        let a = args(&["web", "--image=nginx", "--port=80", "--expose"]);
        let p = pod(&a, None, None).unwrap();
        let svc = run_service(&p, &a, None).unwrap().doc();
        assert!(svc["metadata"]["labels"].is_null());
        assert_eq!(svc["spec"]["selector"], json!({"run": "web"}));
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP", "targetPort": 80}])
        );
    }

    fn pod_in(yaml_status: &str) -> Pod {
        let o = proto::manifest::load_documents(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: w, namespace: d}}\nspec:\n  containers: [{{name: w, image: i}}]\nstatus: {yaml_status}\n"
        ))
        .unwrap()
        .remove(0);
        Pod::try_from_object(o).unwrap()
    }

    #[test]
    fn progress_and_exit_codes_of_the_pod() {
        assert_eq!(progress(&pod_in("{phase: Pending}")), Progress::Waiting);
        assert_eq!(
            progress(&pod_in(
                "{phase: Running, conditions: [{type: Ready, status: 'True'}]}"
            )),
            Progress::RunningAndReady
        );
        assert_eq!(progress(&pod_in("{phase: Failed}")), Progress::Completed);
        assert!(exit_of(&pod_in("{phase: Succeeded}")).is_ok());
        let e = exit_of(&pod_in(
            "{phase: Failed, containerStatuses: [{name: w, state: {terminated: {exitCode: 3, reason: Error}}}]}",
        ))
        .unwrap_err();
        assert_eq!(e.downcast_ref::<RemoteExit>().map(|r| r.0), Some(3));
        assert_eq!(
            exit_of(&pod_in("{phase: Failed}")).unwrap_err().to_string(),
            "pod d/w failed with unknown exit code"
        );
    }
}
