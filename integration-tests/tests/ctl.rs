//! `ctl` against the real apiserver binary, as a user drives it: apply a Kubernetes-style
//! manifest, read it back, change it, and feed it bad input. Every failure must be one line
//! on stderr naming the cause, with a non-zero exit, and must change nothing in the cluster.

use std::time::Duration;

use integration_tests::{Process, ctl, free_addr, spawn_apiserver, text, wait_ready};

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1.0
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 1, memory: 128Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
"#;

struct Cluster {
    url: String,
    _server: Process,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let dir = tempfile::Builder::new()
        .prefix("it-ctl-")
        .tempdir()
        .expect("temp dir");
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut server = spawn_apiserver(
        &dir.path().join("data"),
        addr,
        dir.path().join("apiserver.log"),
    );
    wait_ready(&url, &mut server, Duration::from_secs(20)).await;
    Cluster {
        url,
        _server: server,
        _dir: dir,
    }
}

/// Runs ctl and returns (success, stdout, stderr).
fn run(c: &Cluster, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let out = ctl(&c.url, args, stdin);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn assert_one_line_failure(c: &Cluster, args: &[&str], stdin: Option<&str>, must_contain: &[&str]) {
    let (ok, _, err) = run(c, args, stdin);
    assert!(!ok, "ctl {args:?} should fail");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "ctl {args:?}: expected one line on stderr, got:\n{err}"
    );
    for m in must_contain {
        assert!(
            err.contains(m),
            "ctl {args:?}: error should mention {m:?}, got: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_change_and_delete_like_kubectl() {
    let c = cluster().await;
    let (ok, out, err) = run(&c, &["apply", "-f", "-"], Some(WEB));
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "deployment.apps/web created\nservice/web created"
    );
    let (ok, out, _) = run(&c, &["apply", "-f", "-"], Some(WEB));
    assert!(ok);
    assert_eq!(
        out.trim(),
        "deployment.apps/web unchanged\nservice/web unchanged"
    );

    // As with kubectl: a field the manifest declares is reset to the manifest's value by
    // the next apply (replicas back to 3 after a scale), a field it does not declare (a
    // label added by hand) keeps its live value.
    let (ok, out, err) = run(&c, &["scale", "deployment", "web", "--replicas", "5"], None);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "deployment.apps/web scaled");
    let (ok, _, err) = run(&c, &["label", "deployment", "web", "team=blue"], None);
    assert!(ok, "{err}");
    let changed = WEB.replace("web:1.0", "web:1.1");
    let (ok, out, _) = run(&c, &["apply", "-f", "-"], Some(&changed));
    assert!(ok);
    assert!(
        out.contains("deployment.apps/web configured") && out.contains("service/web unchanged"),
        "{out}"
    );

    let (ok, out, _) = run(&c, &["get", "deploy", "web", "-o", "json"], None);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("ctl -o json prints JSON");
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.local/web:1.1"
    );
    assert_eq!(
        v["spec"]["replicas"], 3,
        "the manifest's replicas win on apply, as in kubectl"
    );
    assert_eq!(
        v["metadata"]["labels"]["team"], "blue",
        "a label the manifest never set is kept"
    );
    assert_eq!(
        v["metadata"]["generation"], 3,
        "generation counts spec changes and prints as a number"
    );
    assert_eq!(
        v["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%",
        "defaults applied"
    );

    // An int-or-string field given as a number reads back as a number, and re-applying it
    // finds nothing changed.
    let numeric = "apiVersion: v1\nkind: Service\nmetadata: {name: num}\nspec:\n  selector: {app: web}\n  ports:\n  - {port: 80, targetPort: 8080}\n";
    let (ok, out, err) = run(&c, &["apply", "-f", "-"], Some(numeric));
    assert!(ok && out.contains("service/num created"), "{out}{err}");
    let (ok, out, _) = run(&c, &["apply", "-f", "-"], Some(numeric));
    assert!(ok && out.contains("service/num unchanged"), "{out}");
    let (_, out, _) = run(&c, &["get", "svc", "num", "-o", "json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["spec"]["ports"][0]["targetPort"], 8080);
    let (ok, _, _) = run(&c, &["delete", "svc", "num"], None);
    assert!(ok);

    let (ok, out, _) = run(&c, &["get", "deployments"], None);
    assert!(ok);
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(
        out.lines().nth(1).unwrap_or_default().starts_with("web "),
        "{out}"
    );

    let (ok, out, _) = run(&c, &["get", "svc", "-o", "name"], None);
    assert!(ok);
    // The apiserver keeps `default/kubernetes` (its own Service), as Kubernetes' does.
    assert_eq!(out.trim(), "service/kubernetes\nservice/web");
    let (ok, out, _) = run(&c, &["get", "po", "-A"], None);
    assert!(ok && out.is_empty());

    let (ok, out, _) = run(&c, &["describe", "deployment", "web"], None);
    assert!(ok);
    assert!(
        out.contains("Name:") && out.contains("web") && out.contains("Events:"),
        "{out}"
    );

    let (ok, out, err) = run(&c, &["delete", "-f", "-"], Some(WEB));
    assert!(ok, "{err}");
    assert!(
        out.contains("deployment.apps \"web\" deleted") && out.contains("service \"web\" deleted"),
        "{out}"
    );
    assert_one_line_failure(
        &c,
        &["get", "deploy", "web"],
        None,
        &["NotFound", "\"web\" not found"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_naming_the_cause_and_changes_nothing() {
    let c = cluster().await;
    let (ok, _, err) = run(&c, &["apply", "-f", "-"], Some(WEB));
    assert!(ok, "{err}");
    let (_, before, _) = run(&c, &["get", "all", "-A", "-o", "yaml"], None);

    // Malformed YAML: line and column.
    assert_one_line_failure(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [1\n"),
        &["line", "column"],
    );
    // Unknown kind, and a known kind under the wrong apiVersion.
    assert_one_line_failure(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Widget\nmetadata:\n  name: x\n"),
        &["Widget"],
    );
    assert_one_line_failure(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Deployment\nmetadata:\n  name: x\n"),
        &["Deployment", "apps/v1"],
    );
    // A field we do not support: named by its path, never dropped silently.
    let bogus = WEB.replace("replicas: 3", "replicas: 3\n  replicaz: 4");
    assert_one_line_failure(&c, &["apply", "-f", "-"], Some(&bogus), &["spec.replicaz"]);
    // Invalid values: field path and rule.
    assert_one_line_failure(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"),
        &["metadata.name", "RFC 1123"],
    );
    let mismatch = WEB.replace(
        "      labels: {app: web}\n    spec:",
        "      labels: {app: other}\n    spec:",
    );
    assert_one_line_failure(
        &c,
        &["apply", "-f", "-"],
        Some(&mismatch),
        &["spec.template.metadata.labels"],
    );
    // Unknown resource type on the command line.
    assert_one_line_failure(&c, &["get", "widgets"], None, &["widgets"]);
    // A conflicting update: replace with a stale resourceVersion.
    let (ok, live, _) = run(&c, &["get", "deploy", "web", "-o", "yaml"], None);
    assert!(ok);
    let (ok, _, err) = run(&c, &["label", "deploy", "web", "touched=yes"], None);
    assert!(ok, "{err}");
    assert_one_line_failure(
        &c,
        &["replace", "-f", "-"],
        Some(&live),
        &["Conflict", "modified"],
    );
    let (ok, _, err) = run(&c, &["label", "deploy", "web", "touched-"], None);
    assert!(ok, "{err}");

    // Nothing changed: the cluster reads back exactly as before, except resourceVersions
    // moved by the label round trip.
    let (_, after, _) = run(&c, &["get", "all", "-A", "-o", "yaml"], None);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| {
                !l.trim_start().starts_with("resourceVersion:")
                    && !l.trim_start().starts_with("generation:")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&before), strip(&after));
    let (ok, out, _) = run(&c, &["get", "cm", "-A", "-o", "name"], None);
    assert!(
        ok && out.trim().is_empty(),
        "no ConfigMap may have been created: {out}"
    );

    // An unreachable server: one line, fast, no hang.
    let start = std::time::Instant::now();
    let out = ctl("http://127.0.0.1:1", &["get", "pods"], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("unable to connect"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}
