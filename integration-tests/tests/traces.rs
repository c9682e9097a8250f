//! One `ctl apply` of a Deployment followed through a real cluster: every daemon runs
//! with `--tracing-endpoint` pointing at an OTLP collector in the test, `ctl` exports
//! through OTEL_EXPORTER_OTLP_ENDPOINT, and the spans of the apply's trace come from the
//! apiserver, the controller-manager (deployment, then replicaset), the scheduler and the
//! kubelet, each named by its resource's `service.name`, each linked to its parent.
//!
//! Needs root, Docker and busybox-static: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{Cluster, Options, prerequisites, wait_for};
use integration_tests::text;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use telemetry::trace::collector::{CollectedSpan, Collector};

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: traced
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: traced}
  template:
    metadata:
      labels: {app: traced}
    spec:
      containers:
      - name: main
        image: local/busybox:1
        command: ["sleep", "3600"]
"#;

/// The spans of `trace`.
fn in_trace<'a>(spans: &'a [CollectedSpan], trace: &str) -> Vec<&'a CollectedSpan> {
    spans.iter().filter(|s| s.trace_id == trace).collect()
}

/// The spans of a trace, but its root, whose parent is not among them.
fn dangling<'a>(traced: &[&'a CollectedSpan], root: &CollectedSpan) -> Vec<&'a CollectedSpan> {
    let ids: BTreeSet<&str> = traced.iter().map(|s| s.span_id.as_str()).collect();
    traced
        .iter()
        .filter(|s| s.span_id != root.span_id && !ids.contains(s.parent_span_id.as_str()))
        .copied()
        .collect()
}

fn services(spans: &[&CollectedSpan]) -> BTreeSet<String> {
    spans.iter().map(|s| s.service.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apply_is_one_trace_across_the_daemons() {
    if !prerequisites("traces") {
        return;
    }
    // Every address of the host: the kubelet and kube-proxy run in node namespaces and
    // reach it at the bridge address.
    let collector = Collector::start_on("0.0.0.0:0".parse().unwrap())
        .await
        .expect("start the OTLP collector");
    let opts = Options {
        nodes: 1,
        nftables_nodes: vec![],
        tracing_endpoint: Some(collector.endpoint()),
        ..Options::default()
    };
    let c = Cluster::start("traces", opts).await;

    let mut ctl = Command::new(integration_tests::binary("ctl"));
    ctl.arg("--kubeconfig")
        .arg(c.kubeconfig("admin"))
        .args(["apply", "-f", "-"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ctl.spawn().expect("spawn ctl");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), DEPLOYMENT.as_bytes()).unwrap();
    let out = child.wait_with_output().expect("ctl apply");
    assert!(out.status.success(), "ctl apply: {}", text(&out.stderr));

    // The pod runs: the kubelet has synced it.
    wait_for(
        Duration::from_secs(90),
        "the traced pod running",
        async || {
            c.ctl_ok(&["get", "pods", "-l", "app=traced"])
                .contains("Running")
                .then_some(())
        },
    )
    .await;

    let ctl_span = collector
        .wait_for(Duration::from_secs(10), |s| {
            s.iter().any(|s| s.service == "ctl" && s.name == "ctl")
        })
        .await
        .expect("ctl exported its command span")
        .into_iter()
        .find(|s| s.service == "ctl" && s.name == "ctl")
        .unwrap();
    assert_eq!(ctl_span.attribute("command"), Some("apply"));
    let trace = ctl_span.trace_id.clone();
    let wanted: BTreeSet<String> = ["apiserver", "controller-manager", "scheduler", "kubelet"]
        .map(String::from)
        .into();
    // Spans are exported in batches, every second or so, each when it ends: wait until
    // every daemon is there and every span's parent has arrived too.
    let spans = collector
        .wait_for(Duration::from_secs(30), |s| {
            let traced = in_trace(s, &trace);
            services(&traced).is_superset(&wanted) && dangling(&traced, &ctl_span).is_empty()
        })
        .await;
    let all = collector.spans();
    let traced = in_trace(&all, &trace);
    let summary: Vec<String> = traced
        .iter()
        .map(|s| format!("{} {} {:?}", s.service, s.name, s.attribute("key")))
        .collect();
    let got = services(&traced);
    assert!(
        spans.is_some(),
        "the apply's trace has spans from {got:?} (wanted all of {wanted:?}) or a span whose parent never arrived:\n{}",
        summary.join("\n")
    );

    // Every span but ctl's has its parent in the trace: nothing is left dangling.
    let loose: Vec<String> = dangling(&traced, &ctl_span)
        .iter()
        .map(|s| {
            format!(
                "{} {} {:?} (parent {})",
                s.service,
                s.name,
                s.attribute("key"),
                s.parent_span_id
            )
        })
        .collect();
    assert!(
        loose.is_empty(),
        "spans whose parent never arrived: {loose:#?}\nin {summary:#?}"
    );
    // The chain as Kubernetes runs it.
    let has = |service: &str, name: &str, key: Option<&str>| {
        traced.iter().any(|s| {
            s.service == service
                && s.name == name
                && key.is_none_or(|k| s.attribute("key").is_some_and(|v| v.contains(k)))
        })
    };
    assert!(has("apiserver", "k8s.Api/Create", None), "{summary:#?}");
    assert!(
        has("controller-manager", "reconcile", Some("default/traced")),
        "{summary:#?}"
    );
    assert!(has("scheduler", "schedule", None), "{summary:#?}");
    assert!(has("kubelet", "sync_pod", None), "{summary:#?}");
    let per_service: Vec<String> = got
        .iter()
        .map(|svc| {
            format!(
                "{svc} {}",
                traced.iter().filter(|s| &s.service == svc).count()
            )
        })
        .collect();
    eprintln!(
        "traces: {} spans in the apply's trace: {}",
        traced.len(),
        per_service.join(", ")
    );
}
