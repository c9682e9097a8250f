//! `top` on a real cluster: the apiserver scrapes every kubelet's `/metrics/resource`
//! (metrics.k8s.io, every 3 s in the harness), `ctl top nodes|pods` and real kubectl
//! (1.33 and 1.27, the admin kubeconfig) read it. Pods that hold 16 MiB in tmpfs and spin
//! a 50m cpu limit must show up with that memory and a non-zero cpu; every node must have
//! a line with figures (no `<unknown>`); ctl's output must be kubectl's, byte for byte,
//! when both read the same samples; and both must say the same when there is nothing to
//! show yet.
//!
//! Needs root, Docker and busybox-static (and the kubectl builds): skipped with a message
//! outside CI, failing in CI. The cluster and everything in it go at the end.

use integration_tests::cluster::{Cluster, Options, prerequisites, wait_for};
use integration_tests::kubectl::{self, Checks, Kubectl, Run};
use integration_tests::text;
use std::time::{Duration, Instant};

const NS: &str = "top";

const WORKLOAD: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: top
---
apiVersion: v1
kind: Namespace
metadata:
  name: top-empty
---
apiVersion: v1
kind: Namespace
metadata:
  name: top-fresh
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mem
  namespace: top
spec:
  replicas: 2
  selector:
    matchLabels: {app: mem}
  template:
    metadata:
      labels: {app: mem}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: hold
        image: local/busybox:1
        # 16 MiB in tmpfs: charged to the container's memory cgroup, part of its working set.
        command: ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 && exec sleep 3600"]
      - name: spin
        image: local/busybox:1
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]
        resources:
          limits: {cpu: 50m}
"#;

/// A pod created just before asking: no sample of it can exist yet.
const YOUNG: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: young
  namespace: top-fresh
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: local/busybox:1
    command: ["sleep", "3600"]
"#;

/// `12m` -> 12, `34Mi` -> 34; None for anything else (`<unknown>`).
fn figure(cell: &str, unit: &str) -> Option<u64> {
    cell.strip_suffix(unit)?.parse().ok()
}

/// The whitespace-separated cells of each line after the header.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn header(out: &str) -> Vec<&str> {
    out.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect()
}

/// Every node has a line with cpu, a percentage and non-zero memory.
fn nodes_complete(out: &str, nodes: &[String]) -> bool {
    let rows = rows(out);
    nodes.iter().all(|n| {
        rows.iter().any(|r| {
            r.len() == 5
                && r[0] == *n
                && figure(&r[1], "m").is_some()
                && r[2].ends_with('%')
                && figure(&r[3], "Mi").is_some_and(|m| m > 0)
                && r[4].ends_with('%')
        })
    })
}

/// Both `mem` pods (by name) are listed under `top` with at least 16 Mi and some cpu.
fn pods_complete(out: &str, pods: &[String]) -> bool {
    let rows = rows(out);
    pods.iter().all(|p| {
        rows.iter().any(|r| {
            r.len() == 4
                && r[0] == NS
                && r[1] == *p
                && figure(&r[2], "m").is_some_and(|c| c > 0)
                && figure(&r[3], "Mi").is_some_and(|m| m >= 16)
        })
    })
}

fn ctl(c: &Cluster, args: &[&str]) -> (bool, String, String) {
    let out = c.ctl(args, None);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Runs ctl and kubectl back to back until they print the same bytes (the samples move
/// every 3 s, so two reads can straddle a scrape); the last pair either way.
fn same_output(c: &Cluster, k: &Kubectl, args: &[&str]) -> (String, Run) {
    let mut last = None;
    for _ in 0..6 {
        let (_, mine, _) = ctl(c, args);
        let theirs = k.run(args);
        if theirs.ok() && mine == theirs.stdout {
            return (mine, theirs);
        }
        last = Some((mine, theirs));
        std::thread::sleep(Duration::from_millis(300));
    }
    last.expect("one attempt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_reads_the_metrics_api_as_kubectl_does() {
    let test = "top_reads_the_metrics_api";
    if !prerequisites(test) {
        return;
    }
    let Some(binaries) = kubectl::require(test, &["1.33", "1.27"]) else {
        return;
    };
    let started = Instant::now();
    let c = Cluster::start(
        "top",
        Options {
            nodes: 2,
            ..Options::default()
        },
    )
    .await;
    let nodes: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
    c.apply(WORKLOAD);
    let pods: Vec<String> = c
        .wait_ready_pods(NS, "app=mem", 2, Duration::from_secs(90))
        .await
        .iter()
        .map(|p| {
            p.metadata
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default()
        })
        .collect();
    let ready = Instant::now();

    // ctl top nodes: a line with figures for every node once two scrapes have been made.
    let out = wait_for(
        Duration::from_secs(60),
        "ctl top nodes with every node",
        async || {
            let (ok, out, _) = ctl(&c, &["top", "nodes"]);
            (ok && nodes_complete(&out, &nodes)).then_some(out)
        },
    )
    .await;
    eprintln!("ctl top nodes:\n{out}");
    assert_eq!(
        header(&out),
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    );
    // ctl top pods -A: both pods with the 16 MiB they hold and the cpu they spin.
    let out = wait_for(
        Duration::from_secs(60),
        "ctl top pods -A with the mem pods",
        async || {
            let (ok, out, _) = ctl(&c, &["top", "pods", "-A"]);
            (ok && pods_complete(&out, &pods)).then_some(out)
        },
    )
    .await;
    let first_figures = ready.elapsed();
    eprintln!("ctl top pods -A:\n{out}");
    assert_eq!(
        header(&out),
        ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    );
    // --containers: the tmpfs is the hold container's, the spinning the spin container's.
    let (ok, out, err) = ctl(&c, &["top", "pods", "-n", NS, "--containers"]);
    assert!(ok, "{err}");
    eprintln!("ctl top pods --containers:\n{out}");
    assert_eq!(header(&out), ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]);
    for p in &pods {
        let rows = rows(&out);
        let of = |container: &str| {
            rows.iter()
                .find(|r| r.len() == 4 && r[0] == *p && r[1] == container)
                .cloned()
                .unwrap_or_else(|| panic!("no {p}/{container} line in\n{out}"))
        };
        assert!(
            figure(&of("hold")[3], "Mi").is_some_and(|m| m >= 16),
            "{out}"
        );
        assert!(figure(&of("spin")[2], "m").is_some_and(|c| c > 0), "{out}");
    }
    // One pod by name; the selector narrows; --no-headers drops the header.
    let (ok, out, err) = ctl(&c, &["top", "pod", &pods[0], "-n", NS, "--no-headers"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with(&pods[0]), "{out}");
    let (ok, out, err) = ctl(&c, &["top", "pods", "-n", NS, "-l", "app=none"]);
    assert!(ok && out.is_empty(), "{out}{err}");
    assert_eq!(err.trim(), "No resources found in top namespace.");

    // Real kubectl against the same API, and ctl printing exactly what it prints.
    let dir = c.dir().join("kubectl-top");
    let mut checks = Checks::default();
    let mut kubectl_nodes = String::new();
    for (i, binary) in binaries.iter().enumerate() {
        let k = Kubectl::new(
            binary,
            &c.kubeconfig("admin"),
            &dir.join(format!("home{i}")),
        );
        let label = k.label.clone();
        let (mine, r) = same_output(&c, &k, &["top", "nodes"]);
        checks.check(
            r.ok() && nodes_complete(&r.stdout, &nodes),
            &format!("{label}: top nodes lists every node with figures"),
            &r,
        );
        // kubectl 1.27 headed the percentages `CPU%` and `MEMORY%` (later ones, and ctl,
        // `CPU(%)`): there the figures must be the same.
        let same = if k.minor <= 27 {
            header(&r.stdout) == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
                && rows(&mine) == rows(&r.stdout)
        } else {
            mine == r.stdout
        };
        checks.check_msg(
            same,
            &format!("{label}: ctl top nodes prints what kubectl prints"),
            || format!("ctl:\n{mine}\nkubectl:\n{}", r.stdout),
        );
        if i == 0 {
            kubectl_nodes = r.stdout.clone();
        }
        let (mine, r) = same_output(&c, &k, &["top", "pods", "-A"]);
        checks.check(
            r.ok() && pods_complete(&r.stdout, &pods),
            &format!("{label}: top pods -A lists the running pods with their memory"),
            &r,
        );
        checks.check_msg(
            mine == r.stdout,
            &format!("{label}: ctl top pods -A prints what kubectl prints"),
            || format!("ctl:\n{mine}\nkubectl:\n{}", r.stdout),
        );
        for args in [
            &["top", "pods", "-n", NS, "--containers", "--sort-by", "cpu"][..],
            &["top", "nodes", "--sort-by", "memory", "--no-headers"][..],
        ] {
            let (mine, r) = same_output(&c, &k, args);
            checks.check(r.ok(), &format!("{label}: {}", args.join(" ")), &r);
            checks.check_msg(
                mine == r.stdout,
                &format!("{label}: ctl {} prints what kubectl prints", args.join(" ")),
                || format!("ctl:\n{mine}\nkubectl:\n{}", r.stdout),
            );
        }
        // Nothing to show: an empty namespace is not an error, in the same words.
        let r = k.run(&["top", "pods", "-n", "top-empty"]);
        checks.check(
            r.ok()
                && r.stdout.is_empty()
                && r.stderr.trim() == "No resources found in top-empty namespace.",
            &format!("{label}: top pods in an empty namespace"),
            &r,
        );
        // A pod by name without a sample: the server's NotFound, the same for both.
        let r = k.run(&["top", "pod", "nosuchpod", "-n", NS]);
        let (ok, _, err) = ctl(&c, &["top", "pod", "nosuchpod", "-n", NS]);
        checks.check(
            !r.ok() && !ok && r.stderr.trim() == err.trim(),
            &format!(
                "{label}: top pod of a missing pod fails as ctl's does ({})",
                err.trim()
            ),
            &r,
        );
    }
    let (ok, out, err) = ctl(&c, &["top", "pods", "-n", "top-empty"]);
    checks.check_msg(
        ok && out.is_empty() && err.trim() == "No resources found in top-empty namespace.",
        "ctl top pods in an empty namespace",
        || format!("{out}{err}"),
    );

    // A pod that exists but has no sample yet: kubectl's "metrics not available yet",
    // asked right after the pod is created (a sample needs the container running and two
    // scrapes, seconds later).
    c.wait_namespace_ready("top-fresh").await;
    let fresh = Instant::now();
    c.apply(YOUNG);
    let (ok, _, err) = ctl(&c, &["top", "pods", "-n", "top-fresh"]);
    let k = Kubectl::new(&binaries[0], &c.kubeconfig("admin"), &dir.join("home0"));
    let r = k.run(&["top", "pods", "-n", "top-fresh"]);
    let asked_within = fresh.elapsed();
    checks.check_msg(
        !ok && err.trim() == "error: metrics not available yet",
        &format!("ctl: no sample yet ({asked_within:?} after the pod was created)"),
        || err.clone(),
    );
    checks.check(
        !r.ok() && r.stderr.trim() == "error: metrics not available yet",
        &format!("kubectl: no sample yet ({asked_within:?} after the pod was created)"),
        &r,
    );

    eprintln!(
        "top: figures {:.1}s after the pods were ready; kubectl top nodes ({}):\n{kubectl_nodes}\ntotal {:.1}s",
        first_figures.as_secs_f64(),
        binaries[0].display(),
        started.elapsed().as_secs_f64()
    );
    checks.finish("top");
}
