//! Real kubectl against a real cluster: the acceptance test of the Kubernetes HTTP API.
//!
//! One cluster (`integration_tests::cluster`, one node, TLS, RBAC) and several kubectl builds
//! (the default `kubectl`, 1.32, runs every command; 1.27 and 1.33 run the protocol-sensitive
//! ones: discovery, tables, watch, apply, logs, exec, explain, auth). Each command's expected
//! output is what Kubernetes prints (kubectl's and the apiserver's wording). Checks are soft:
//! one run lists every failing command with kubectl's `-v=8` requests and responses, then
//! fails.
//!
//! The corpus check applies every public manifest of `../shared/k8s-corpus/` with real
//! `kubectl apply` and with `ctl apply`, each into its own throwaway apiserver, and compares
//! which objects each got accepted.
//!
//! Needs root, Docker and busybox-static (the cluster) and the kubectl builds under
//! `/usr/lib/google-cloud-sdk/bin/`: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{Cluster, Options, prerequisites};
use integration_tests::kubectl::{
    self, Checks, Kubectl, Run, applied_objects, parse_table, table_columns, user_kubeconfig,
};
use integration_tests::text;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// 1.32 (the SDK's default) runs the whole suite; the others the protocol-sensitive part.
/// (The SDK's plain `kubectl` is a dispatcher that picks a build by the server's version.)
const VERSIONS: [&str; 3] = ["1.32", "1.27", "1.33"];

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write a manifest");
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or(Value::Null)
}

/// Polls a kubectl command until `pred` holds on its run (or `timeout`); returns the last run.
fn poll(k: &Kubectl, args: &[&str], timeout: Duration, pred: impl Fn(&Run) -> bool) -> Run {
    let deadline = Instant::now() + timeout;
    loop {
        let r = k.run(args);
        if pred(&r) || Instant::now() >= deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn deployment(name: &str, replicas: u32, env: &[(&str, &str)]) -> String {
    let mut env_yaml = String::new();
    if !env.is_empty() {
        env_yaml.push_str("        env:\n");
        for (k, v) in env {
            env_yaml.push_str(&format!("        - name: {k}\n          value: \"{v}\"\n"));
        }
    }
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: local/busybox:1
        command: ["sleep", "3600"]
{env_yaml}"#
    )
}

/// A `kubectl create <kind> ...` whose object later steps need: its output is checked; when
/// it fails, the object is made from `yaml` with `kubectl create -f -` (the dynamic client:
/// JSON on the wire, no schema download) so that the rest of the suite still runs.
fn create_or_fallback(k: &Kubectl, checks: &mut Checks, args: &[&str], expected: &str, yaml: &str) {
    let r = k.run(args);
    if !checks.stdout_is(&r, expected) {
        let r = k.run_with(&["create", "--validate=false", "-f", "-"], Some(yaml));
        eprintln!(
            "({}: fell back to `create -f -`: {})",
            r.command,
            if r.ok() { "made" } else { r.stderr.trim() }
        );
    }
}

fn configmap_yaml(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {key}: \"{value}\"\n"
    )
}

/// What every section needs.
struct Ctx<'a> {
    c: &'a Cluster,
    /// Admin kubectl in the version's namespace.
    k: Kubectl,
    /// The same binary as user `jane` (group `dev`), bound to a pod-reader Role in `ns`.
    jane: Kubectl,
    ns: String,
    dir: PathBuf,
    /// A second image (a tag of local/busybox:1) for `set image`.
    image2: String,
    full: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drives_a_real_cluster() {
    let test = "kubectl_drives_a_real_cluster";
    if !prerequisites(test) {
        return;
    }
    let Some(binaries) = kubectl::require(test, &VERSIONS) else {
        return;
    };
    let started = Instant::now();
    let mut c = Cluster::start(
        "kubectl",
        Options {
            nodes: 1,
            ..Options::default()
        },
    )
    .await;
    let image2 = c.tag_image("kubectl2");
    let dir = c.dir().join("kubectl");
    std::fs::create_dir_all(&dir).expect("kubectl dir");
    let jane_config = dir.join("jane.kubeconfig");
    user_kubeconfig(&c.apiserver_dir(), &c.url, "jane", &["dev"], &jane_config);
    eprintln!("cluster up in {:?}", started.elapsed());

    let mut checks = Checks::default();
    for (i, binary) in binaries.iter().enumerate() {
        let version_started = Instant::now();
        let admin = Kubectl::new(
            binary,
            &c.kubeconfig("admin"),
            &dir.join(format!("home{i}")),
        );
        let ns = format!("kc-1{}", admin.minor);
        let vdir = dir.join(&ns);
        std::fs::create_dir_all(&vdir).expect("version dir");
        let cx = Ctx {
            c: &c,
            k: admin.in_namespace(&ns),
            jane: admin.with_kubeconfig(&jane_config).in_namespace(&ns),
            ns: ns.clone(),
            dir: vdir,
            image2: image2.clone(),
            full: i == 0,
        };
        discovery(&cx, &admin, &mut checks);
        if !namespace(&cx, &admin, &mut checks).await {
            continue;
        }
        configmaps(&cx, &mut checks);
        watch(&cx, &mut checks);
        server_side_apply(&cx, &mut checks);
        if cx.full {
            workloads(&cx, &mut checks);
            cascade(&cx, &mut checks);
        }
        logs_and_exec(&cx, &mut checks);
        explain(&cx, &mut checks);
        auth(&cx, &mut checks);
        eprintln!(
            "{}: {:?} ({} checks failed so far)",
            admin.label,
            version_started.elapsed(),
            checks.failures.len()
        );
    }
    eprintln!("kubectl suite: {:?} in all", started.elapsed());
    checks.finish("kubectl against the cluster");
}

/// `version`, `api-versions`, `api-resources`, `get nodes`.
fn discovery(cx: &Ctx, admin: &Kubectl, checks: &mut Checks) {
    let r = admin.run(&["version", "-o", "json"]);
    let v = json(&r);
    let git = v["serverVersion"]["gitVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    checks.check(
        r.ok() && v["serverVersion"]["major"] == "1" && git.starts_with("v1."),
        "serverVersion.major \"1\" and a v1.x gitVersion",
        &r,
    );
    let r = admin.run(&["version"]);
    if admin.minor >= 28 {
        checks.stdout_has_line(&r, &format!("Server Version: {git}"));
    } else {
        // 1.27 still prints the whole version.Info by default.
        let want = format!(
            "Server Version: version.Info{{Major:\"1\", Minor:\"{}\", GitVersion:\"{git}\",",
            v["serverVersion"]["minor"].as_str().unwrap_or("?")
        );
        checks.check(
            r.ok() && r.lines().iter().any(|l| l.starts_with(&want)),
            &format!("a stdout line starting {want:?}"),
            &r,
        );
    }

    let r = admin.run(&["api-versions"]);
    let have: Vec<&str> = r.lines();
    let missing: Vec<&str> = [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "networking.k8s.io/v1",
        "coordination.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "certificates.k8s.io/v1",
        "authorization.k8s.io/v1",
        "authentication.k8s.io/v1",
    ]
    .into_iter()
    .filter(|gv| !have.contains(gv))
    .collect();
    checks.check(
        r.ok() && missing.is_empty(),
        &format!("api-versions lists every served group/version (missing: {missing:?})"),
        &r,
    );

    // (name, shortnames, apiVersion, namespaced, kind) as Kubernetes 1.33 lists them.
    let expected = [
        ("configmaps", "cm", "v1", "true", "ConfigMap"),
        ("endpoints", "ep", "v1", "true", "Endpoints"),
        ("events", "ev", "v1", "true", "Event"),
        ("limitranges", "limits", "v1", "true", "LimitRange"),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        ("nodes", "no", "v1", "false", "Node"),
        (
            "persistentvolumeclaims",
            "pvc",
            "v1",
            "true",
            "PersistentVolumeClaim",
        ),
        ("persistentvolumes", "pv", "v1", "false", "PersistentVolume"),
        ("pods", "po", "v1", "true", "Pod"),
        ("resourcequotas", "quota", "v1", "true", "ResourceQuota"),
        ("secrets", "", "v1", "true", "Secret"),
        ("serviceaccounts", "sa", "v1", "true", "ServiceAccount"),
        ("services", "svc", "v1", "true", "Service"),
        (
            "controllerrevisions",
            "",
            "apps/v1",
            "true",
            "ControllerRevision",
        ),
        ("daemonsets", "ds", "apps/v1", "true", "DaemonSet"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        ("replicasets", "rs", "apps/v1", "true", "ReplicaSet"),
        ("statefulsets", "sts", "apps/v1", "true", "StatefulSet"),
        (
            "tokenreviews",
            "",
            "authentication.k8s.io/v1",
            "false",
            "TokenReview",
        ),
        (
            "selfsubjectreviews",
            "",
            "authentication.k8s.io/v1",
            "false",
            "SelfSubjectReview",
        ),
        (
            "localsubjectaccessreviews",
            "",
            "authorization.k8s.io/v1",
            "true",
            "LocalSubjectAccessReview",
        ),
        (
            "selfsubjectaccessreviews",
            "",
            "authorization.k8s.io/v1",
            "false",
            "SelfSubjectAccessReview",
        ),
        (
            "subjectaccessreviews",
            "",
            "authorization.k8s.io/v1",
            "false",
            "SubjectAccessReview",
        ),
        (
            "horizontalpodautoscalers",
            "hpa",
            "autoscaling/v2",
            "true",
            "HorizontalPodAutoscaler",
        ),
        ("cronjobs", "cj", "batch/v1", "true", "CronJob"),
        ("jobs", "", "batch/v1", "true", "Job"),
        (
            "certificatesigningrequests",
            "csr",
            "certificates.k8s.io/v1",
            "false",
            "CertificateSigningRequest",
        ),
        ("leases", "", "coordination.k8s.io/v1", "true", "Lease"),
        (
            "ingresses",
            "ing",
            "networking.k8s.io/v1",
            "true",
            "Ingress",
        ),
        (
            "clusterrolebindings",
            "",
            "rbac.authorization.k8s.io/v1",
            "false",
            "ClusterRoleBinding",
        ),
        (
            "clusterroles",
            "",
            "rbac.authorization.k8s.io/v1",
            "false",
            "ClusterRole",
        ),
        (
            "rolebindings",
            "",
            "rbac.authorization.k8s.io/v1",
            "true",
            "RoleBinding",
        ),
        ("roles", "", "rbac.authorization.k8s.io/v1", "true", "Role"),
    ];
    let r = admin.run(&["api-resources"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout)
                == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        "api-resources header NAME SHORTNAMES APIVERSION NAMESPACED KIND",
        &r,
    );
    let rows = parse_table(&r.stdout);
    let mut wrong = vec![];
    for (name, short, av, namespaced, kind) in expected {
        let want = [name, short, av, namespaced, kind].join(" | ");
        match rows
            .iter()
            .find(|row| row.get("NAME").map(String::as_str) == Some(name))
        {
            None => wrong.push(format!("missing: {want}")),
            Some(row) => {
                let got = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
                    .map(|c| row.get(c).cloned().unwrap_or_default())
                    .join(" | ");
                if got != want {
                    wrong.push(format!("want {want}, got {got}"));
                }
            }
        }
    }
    checks.check(
        r.ok() && wrong.is_empty(),
        &format!(
            "api-resources rows as Kubernetes lists them:\n  {}",
            wrong.join("\n  ")
        ),
        &r,
    );

    for path in ["/healthz", "/livez", "/readyz"] {
        let r = admin.run(&["get", "--raw", path]);
        checks.stdout_is(&r, "ok");
    }

    // The SDK's `kubectl` picks the build matching the server's /version.
    let dispatcher = kubectl::binary("");
    if cx.full && dispatcher.is_file() {
        let r = admin
            .with_path(&dispatcher)
            .run(&["get", "nodes", "-o", "name"]);
        checks.stdout_is(&r, &format!("node/{}", cx.c.nodes[0].name));
    }

    // The node, in Kubernetes' node table.
    let node = &cx.c.nodes[0];
    let r = admin.run(&["get", "nodes"]);
    checks.check(
        r.ok() && table_columns(&r.stdout) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        "get nodes header NAME STATUS ROLES AGE VERSION",
        &r,
    );
    let rows = parse_table(&r.stdout);
    checks.check(
        rows.iter().any(|row| {
            row["NAME"] == node.name && row["STATUS"] == "Ready" && row["ROLES"] == "<none>"
        }),
        &format!("get nodes: a row `{} Ready <none> ...`", node.name),
        &r,
    );
    let r = admin.run(&["get", "nodes", "-o", "wide"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout)
                == [
                    "NAME",
                    "STATUS",
                    "ROLES",
                    "AGE",
                    "VERSION",
                    "INTERNAL-IP",
                    "EXTERNAL-IP",
                    "OS-IMAGE",
                    "KERNEL-VERSION",
                    "CONTAINER-RUNTIME",
                ]
            && parse_table(&r.stdout)
                .iter()
                .any(|row| row["NAME"] == node.name && row["INTERNAL-IP"] == node.ip),
        &format!(
            "get nodes -o wide: Kubernetes' wide columns, INTERNAL-IP {}",
            node.ip
        ),
        &r,
    );
}

/// The version's namespace, jane's Role and RoleBinding in it. False when the namespace
/// could not be made (nothing else can run).
async fn namespace(cx: &Ctx<'_>, admin: &Kubectl, checks: &mut Checks) -> bool {
    let ns = &cx.ns;
    create_or_fallback(
        admin,
        checks,
        &["create", "namespace", ns],
        &format!("namespace/{ns} created"),
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    let r = admin.run(&["get", "namespace", ns, "-o", "name"]);
    if !checks.stdout_is(&r, &format!("namespace/{ns}")) {
        return false;
    }
    cx.c.wait_namespace_ready(ns).await;
    let r = admin.run(&["get", "namespace", ns]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "STATUS", "AGE"]
            && parse_table(&r.stdout)
                .first()
                .is_some_and(|row| row["NAME"] == *ns && row["STATUS"] == "Active"),
        "get namespace: NAME STATUS AGE with STATUS Active",
        &r,
    );
    let k = &cx.k;
    create_or_fallback(
        k,
        checks,
        &[
            "create",
            "role",
            "pod-reader",
            "--verb=get,list,watch",
            "--resource=pods,pods/log",
        ],
        "role.rbac.authorization.k8s.io/pod-reader created",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: pod-reader\n\
         rules:\n- apiGroups: [\"\"]\n  resources: [pods, pods/log]\n  verbs: [get, list, watch]\n",
    );
    create_or_fallback(
        k,
        checks,
        &[
            "create",
            "rolebinding",
            "jane-reads-pods",
            "--role=pod-reader",
            "--user=jane",
        ],
        "rolebinding.rbac.authorization.k8s.io/jane-reads-pods created",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: jane-reads-pods\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: pod-reader\n\
         subjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: jane\n",
    );
    true
}

/// `create`, `get -o ...`, `label`, `annotate`, `patch`, `replace`, `edit`, `delete`.
fn configmaps(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    let ns = &cx.ns;
    create_or_fallback(
        k,
        checks,
        &["create", "configmap", "c1", "--from-literal=k=v1"],
        "configmap/c1 created",
        &configmap_yaml("c1", "k", "v1"),
    );
    // kubectl create configmap words a failure itself; create -f shows the server's Status.
    let r = k.run(&["create", "configmap", "c1", "--from-literal=k=v1"]);
    checks.fails_with(
        &r,
        1,
        r#"error: failed to create configmap: configmaps "c1" already exists"#,
    );
    let file = write(&cx.dir, "c1.yaml", &configmap_yaml("c1", "k", "v1"));
    let r = k.run(&["create", "-f", s(&file)]);
    checks.fails_with(
        &r,
        1,
        &format!(
            r#"Error from server (AlreadyExists): error when creating "{}": configmaps "c1" already exists"#,
            s(&file)
        ),
    );

    // get in every output format.
    let r = k.run(&["get", "configmap", "c1"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "DATA", "AGE"]
            && parse_table(&r.stdout)
                .first()
                .is_some_and(|row| row["NAME"] == "c1" && row["DATA"] == "1"),
        "get configmap: NAME DATA AGE, `c1 1 ...`",
        &r,
    );
    let r = k.run(&["get", "configmap", "c1", "-o", "json"]);
    let v = json(&r);
    checks.check(
        r.ok()
            && v["kind"] == "ConfigMap"
            && v["apiVersion"] == "v1"
            && v["metadata"]["name"] == "c1"
            && v["metadata"]["namespace"] == ns.as_str()
            && v["metadata"]["uid"].as_str().is_some_and(|u| !u.is_empty())
            && v["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
            && v["metadata"]["creationTimestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
            && v["data"]["k"] == "v1"
            && v["metadata"].get("managedFields").is_none(),
        "get -o json: kind, apiVersion, metadata (uid, resourceVersion, RFC 3339 \
         creationTimestamp, no managedFields), data",
        &r,
    );
    let r = k.run(&["get", "configmap", "c1", "-o", "yaml"]);
    checks.check(
        r.ok()
            && r.lines().contains(&"apiVersion: v1")
            && r.lines().contains(&"kind: ConfigMap")
            && r.lines().contains(&"  k: v1")
            && r.lines().contains(&"  name: c1"),
        "get -o yaml: apiVersion, kind, data.k, metadata.name",
        &r,
    );
    let r = k.run(&["get", "configmap", "c1", "-o", "name"]);
    checks.stdout_is(&r, "configmap/c1");
    let r = k.run(&["get", "configmap", "c1", "-o", "jsonpath={.data.k}"]);
    checks.stdout_is(&r, "v1");
    let r = k.run(&[
        "get",
        "configmaps",
        "-o",
        "custom-columns=NAME:.metadata.name,VALUE:.data.k",
    ]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "VALUE"]
            && parse_table(&r.stdout)
                .iter()
                .any(|row| row["NAME"] == "c1" && row["VALUE"] == "v1"),
        "custom-columns NAME VALUE with `c1 v1`",
        &r,
    );
    let r = k.run(&["get", "configmap", "nope"]);
    checks.fails_with(
        &r,
        1,
        r#"Error from server (NotFound): configmaps "nope" not found"#,
    );
    // A list: the namespace's kube-root-ca.crt and c1.
    let r = k.run(&["get", "configmaps", "-o", "name"]);
    checks.check(
        r.ok()
            && r.lines().contains(&"configmap/c1")
            && r.lines().contains(&"configmap/kube-root-ca.crt"),
        "get configmaps -o name lists c1 and kube-root-ca.crt",
        &r,
    );

    // label, annotate, selectors.
    let r = k.run(&["label", "configmap", "c1", "team=a"]);
    checks.stdout_is(&r, "configmap/c1 labeled");
    let r = k.run(&["get", "configmaps", "-l", "team=a", "-o", "name"]);
    checks.stdout_is(&r, "configmap/c1");
    let r = k.run(&["get", "configmap", "c1", "--show-labels"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "DATA", "AGE", "LABELS"]
            && parse_table(&r.stdout)
                .first()
                .is_some_and(|row| row["LABELS"] == "team=a"),
        "get --show-labels: a LABELS column with team=a",
        &r,
    );
    // Pages of one: limit and continue.
    let all = k.run(&["get", "configmaps", "-o", "name"]);
    let r = k.run(&["get", "configmaps", "-o", "name", "--chunk-size=1"]);
    checks.check(
        r.ok() && all.ok() && r.stdout == all.stdout && r.log.contains("continue="),
        "get --chunk-size=1 pages with continue tokens and lists the same objects",
        &r,
    );
    // Every namespace has its kube-root-ca.crt.
    let r = k.run(&["get", "configmaps", "--all-namespaces"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAMESPACE", "NAME", "DATA", "AGE"]
            && parse_table(&r.stdout)
                .iter()
                .any(|row| row["NAMESPACE"] == "kube-system" && row["NAME"] == "kube-root-ca.crt")
            && parse_table(&r.stdout)
                .iter()
                .any(|row| row["NAMESPACE"] == *ns && row["NAME"] == "c1"),
        "get configmaps --all-namespaces: NAMESPACE NAME DATA AGE, rows of several namespaces",
        &r,
    );
    let r = k.run(&["get", "configmaps", "-l", "team!=a", "-o", "name"]);
    checks.check(
        r.ok() && !r.lines().contains(&"configmap/c1"),
        "a label selector `team!=a` leaves c1 out",
        &r,
    );
    let r = k.run(&[
        "get",
        "configmaps",
        "--field-selector",
        "metadata.name=c1",
        "-o",
        "name",
    ]);
    checks.stdout_is(&r, "configmap/c1");
    let r = k.run(&["label", "configmap", "c1", "team-"]);
    checks.stdout_is(&r, "configmap/c1 unlabeled");
    let r = k.run(&["get", "configmaps", "-l", "team=a"]);
    checks.check(
        r.ok()
            && r.stdout.trim().is_empty()
            && r.stderr.trim() == format!("No resources found in {ns} namespace."),
        "no configmap labelled team=a any more: `No resources found in <ns> namespace.`",
        &r,
    );
    let r = k.run(&["annotate", "configmap", "c1", "note=hello"]);
    // kubectl before 1.28 says `annotate` (its printer's operation), later `annotated`.
    let word = if k.minor >= 28 {
        "annotated"
    } else {
        "annotate"
    };
    checks.stdout_is(&r, &format!("configmap/c1 {word}"));
    let r = k.run(&[
        "get",
        "configmap",
        "c1",
        "-o",
        "jsonpath={.metadata.annotations.note}",
    ]);
    checks.stdout_is(&r, "hello");

    // patch: merge, json, no-op, a failing json-patch test.
    let r = k.run(&[
        "patch",
        "configmap",
        "c1",
        "--type=merge",
        "-p",
        r#"{"data":{"k":"v2"}}"#,
    ]);
    checks.stdout_is(&r, "configmap/c1 patched");
    let r = k.run(&[
        "patch",
        "configmap",
        "c1",
        "--type=merge",
        "-p",
        r#"{"data":{"k":"v2"}}"#,
    ]);
    checks.stdout_is(&r, "configmap/c1 patched (no change)");
    let r = k.run(&[
        "patch",
        "configmap",
        "c1",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/data/j","value":"x"}]"#,
    ]);
    checks.stdout_is(&r, "configmap/c1 patched");
    let r = k.run(&[
        "patch",
        "configmap",
        "c1",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/data/k","value":"other"},{"op":"remove","path":"/data/j"}]"#,
    ]);
    checks.check(
        r.code == Some(1),
        "a json patch whose `test` op fails is refused (exit 1)",
        &r,
    );
    let r = k.run(&["get", "configmap", "c1", "-o", "json"]);
    let v = json(&r);
    checks.check(
        v["data"] == serde_json::json!({"k": "v2", "j": "x"}),
        "data after the patches: {k: v2, j: x}",
        &r,
    );

    // replace: the object as read, changed; then the same (now stale) file: Conflict.
    let mut doc = v.clone();
    doc["data"]["k"] = "replaced".into();
    let file = write(&cx.dir, "c1.json", &doc.to_string());
    let r = k.run(&["replace", "-f", s(&file)]);
    checks.stdout_is(&r, "configmap/c1 replaced");
    let r = k.run(&["replace", "-f", s(&file)]);
    checks.fails_with(
        &r,
        1,
        &format!(
            "Error from server (Conflict): error when replacing \"{}\": Operation cannot be \
             fulfilled on configmaps \"c1\": the object has been modified; please apply your \
             changes to the latest version and try again",
            s(&file)
        ),
    );

    // edit through an editor that changes the file.
    let editor = write(
        &cx.dir,
        "editor.sh",
        "#!/bin/sh\nsed -i 's/^  k: replaced$/  k: edited/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod the editor");
    let r = k
        .with_env("KUBE_EDITOR", s(&editor))
        .run(&["edit", "configmap", "c1"]);
    checks.stdout_is(&r, "configmap/c1 edited");
    let r = k.run(&["get", "configmap", "c1", "-o", "jsonpath={.data.k}"]);
    checks.stdout_is(&r, "edited");

    // Field validation: Strict (kubectl's default) refuses an unknown field, Warn warns.
    let bad = write(
        &cx.dir,
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndatum:\n  a: b\n",
    );
    let r = k.run(&["apply", "-f", s(&bad)]);
    checks.fails_with(
        &r,
        1,
        &format!(
            r#"Error from server (BadRequest): error when creating "{}": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "datum""#,
            s(&bad)
        ),
    );
    let r = k.run(&["apply", "--validate=warn", "-f", s(&bad)]);
    checks.check(
        r.ok()
            && r.lines() == ["configmap/bad created"]
            && r.stderr
                .lines()
                .any(|l| l == r#"Warning: unknown field "datum""#),
        "apply --validate=warn: created, with `Warning: unknown field \"datum\"`",
        &r,
    );

    // delete, and a missing object.
    let r = k.run(&["delete", "configmap", "c1"]);
    checks.stdout_is(&r, r#"configmap "c1" deleted"#);
    let r = k.run(&["delete", "configmap", "c1"]);
    checks.fails_with(
        &r,
        1,
        r#"Error from server (NotFound): configmaps "c1" not found"#,
    );
}

/// `get -w` (tables, one row per change) and `get -w -o jsonpath`.
fn watch(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    create_or_fallback(
        k,
        checks,
        &["create", "configmap", "w0", "--from-literal=a=0"],
        "configmap/w0 created",
        &configmap_yaml("w0", "a", "0"),
    );
    let mut table = k.spawn(&["get", "configmaps", "-w"]);
    let header = table.wait_line(Duration::from_secs(20), |l| l.starts_with("NAME"));
    let first = table.wait_line(Duration::from_secs(10), |l| l.starts_with("w0 "));
    checks.check_msg(
        header.as_deref().map(table_columns)
            == Some(vec!["NAME".into(), "DATA".into(), "AGE".into()])
            && first.is_some(),
        "get configmaps -w prints the table header and the existing w0",
        || table.report(),
    );
    create_or_fallback(
        k,
        checks,
        &["create", "configmap", "w1", "--from-literal=a=1"],
        "configmap/w1 created",
        &configmap_yaml("w1", "a", "1"),
    );
    let added = table.wait_line(Duration::from_secs(10), |l| l.starts_with("w1 "));
    checks.check_msg(
        added.is_some() && table.is_running(),
        "get configmaps -w prints a row for w1 created after it started, and keeps watching",
        || table.report(),
    );
    drop(table);

    let mut values = k.spawn(&[
        "get",
        "configmap",
        "w0",
        "-w",
        "-o",
        "jsonpath={.data.a}{\"\\n\"}",
    ]);
    let first = values.wait_line(Duration::from_secs(20), |l| l == "0");
    let r = k.run(&[
        "patch",
        "configmap",
        "w0",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"changed"}}"#,
    ]);
    checks.stdout_is(&r, "configmap/w0 patched");
    let changed = values.wait_line(Duration::from_secs(10), |l| l == "changed");
    checks.check_msg(
        first.is_some() && changed.is_some(),
        "get configmap w0 -w -o jsonpath prints 0, then `changed` after a patch",
        || values.report(),
    );
}

/// `apply --server-side`: create, a conflict with client-side apply's manager, force.
fn server_side_apply(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    let cm = |data: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n{data}")
    };
    let f1 = write(&cx.dir, "ssa-1.yaml", &cm("  a: \"1\"\n  b: \"2\"\n"));
    let r = k.run(&["apply", "--server-side", "-f", s(&f1)]);
    checks.stdout_is(&r, "configmap/ssa serverside-applied");
    let r = k.run(&[
        "get",
        "configmap",
        "ssa",
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let v = json(&r);
    let managers: Vec<(String, String)> = v["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["manager"].as_str().unwrap_or("").to_string(),
                        m["operation"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kubectl_entry = v["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["manager"] == "kubectl"))
        .cloned()
        .unwrap_or(Value::Null);
    checks.check(
        managers == [("kubectl".to_string(), "Apply".to_string())]
            && kubectl_entry["fieldsType"] == "FieldsV1"
            && kubectl_entry["apiVersion"] == "v1"
            && kubectl_entry["fieldsV1"]["f:data"]["f:a"].is_object()
            && kubectl_entry["fieldsV1"]["f:data"]["f:b"].is_object(),
        "managedFields after a server-side apply: one entry, manager kubectl, operation \
         Apply, FieldsV1 with f:data f:a and f:b",
        &r,
    );
    // Applying without b: the manager stops owning it, so it is removed.
    let f2 = write(&cx.dir, "ssa-2.yaml", &cm("  a: \"1\"\n"));
    let r = k.run(&["apply", "--server-side", "-f", s(&f2)]);
    checks.stdout_is(&r, "configmap/ssa serverside-applied");
    let r = k.run(&["get", "configmap", "ssa", "-o", "json"]);
    checks.check(
        json(&r)["data"] == serde_json::json!({"a": "1"}),
        "a field server-side apply stops applying is removed (data == {a: 1})",
        &r,
    );

    // A Deployment with zero replicas (no pods): client-side apply owns .spec.replicas.
    let d0 = write(&cx.dir, "ssa-deploy-0.yaml", &deployment("ssa", 0, &[]));
    let r = k.run(&["apply", "-f", s(&d0)]);
    checks.stdout_is(&r, "deployment.apps/ssa created");
    let d1 = write(&cx.dir, "ssa-deploy-1.yaml", &deployment("ssa", 1, &[]));
    let r = k.run(&["apply", "--server-side", "-f", s(&d1)]);
    // Kubernetes names an Update manager by its API version only: the manager identifier
    // conflicts are reported with never carries the time (apimachinery's
    // BuildManagerIdentifier clears it), so no `at <time>` appears.
    let conflict = r.stderr.lines().any(|l| {
        l == r#"error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
    });
    checks.check(
        r.code == Some(1) && conflict,
        "exit 1 and `error: Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" \
         using apps/v1: .spec.replicas`",
        &r,
    );
    checks.check(
        r.stderr.contains("--force-conflicts"),
        "the conflict message tells about --force-conflicts",
        &r,
    );
    let r = k.run(&[
        "get",
        "deployment",
        "ssa",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    checks.stdout_is(&r, "0");
    let r = k.run(&["apply", "--server-side", "--force-conflicts", "-f", s(&d1)]);
    checks.stdout_is(&r, "deployment.apps/ssa serverside-applied");
    let r = k.run(&[
        "get",
        "deployment",
        "ssa",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    checks.stdout_is(&r, "1");
    let r = k.run(&["delete", "deployment", "ssa"]);
    checks.stdout_is(&r, r#"deployment.apps "ssa" deleted"#);
}

/// `apply` (created, unchanged, configured), `diff`, `wait`, the workload tables,
/// `rollout status|history|undo|restart`, `set image`, strategic `patch`, `scale`.
fn workloads(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    let node = &cx.c.nodes[0].name;
    let v1 = write(&cx.dir, "web.yaml", &deployment("web", 2, &[]));
    let v2 = write(&cx.dir, "web-v2.yaml", &deployment("web", 2, &[("A", "1")]));
    let r = k.run(&["apply", "-f", s(&v1)]);
    if !checks.stdout_is(&r, "deployment.apps/web created") {
        return;
    }
    let r = k.run(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=90s",
    ]);
    checks.stdout_is(&r, "deployment.apps/web condition met");
    let r = k.run(&["apply", "-f", s(&v1)]);
    checks.stdout_is(&r, "deployment.apps/web unchanged");
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        r#"jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}"#,
    ]);
    checks.check(
        r.ok()
            && serde_json::from_str::<Value>(&r.stdout)
                .is_ok_and(|v| v["spec"]["replicas"] == 2 && v["kind"] == "Deployment"),
        "apply records the last-applied-configuration annotation",
        &r,
    );

    // Tables of the workload kinds, as Kubernetes' printers.
    let r = k.run(&["get", "deployment", "web"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
            && parse_table(&r.stdout).first().is_some_and(|row| {
                row["NAME"] == "web"
                    && row["READY"] == "2/2"
                    && row["UP-TO-DATE"] == "2"
                    && row["AVAILABLE"] == "2"
            }),
        "get deployment: NAME READY UP-TO-DATE AVAILABLE AGE, `web 2/2 2 2 ...`",
        &r,
    );
    let r = k.run(&["get", "deployment", "web", "-o", "wide"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout)
                == [
                    "NAME",
                    "READY",
                    "UP-TO-DATE",
                    "AVAILABLE",
                    "AGE",
                    "CONTAINERS",
                    "IMAGES",
                    "SELECTOR",
                ]
            && parse_table(&r.stdout).first().is_some_and(|row| {
                row["CONTAINERS"] == "main"
                    && row["IMAGES"] == "local/busybox:1"
                    && row["SELECTOR"] == "app=web"
            }),
        "get deployment -o wide: + CONTAINERS IMAGES SELECTOR, `main local/busybox:1 app=web`",
        &r,
    );
    let r = k.run(&["get", "pods", "-l", "app=web", "-o", "wide"]);
    let rows = parse_table(&r.stdout);
    checks.check(
        r.ok()
            && table_columns(&r.stdout)
                == [
                    "NAME",
                    "READY",
                    "STATUS",
                    "RESTARTS",
                    "AGE",
                    "IP",
                    "NODE",
                    "NOMINATED NODE",
                    "READINESS GATES",
                ]
            && rows.len() == 2
            && rows.iter().all(|row| {
                row["NAME"].starts_with("web-")
                    && row["READY"] == "1/1"
                    && row["STATUS"] == "Running"
                    && row["RESTARTS"] == "0"
                    && row["NODE"] == *node
                    && row["NOMINATED NODE"] == "<none>"
                    && row["READINESS GATES"] == "<none>"
                    && row["IP"].parse::<std::net::Ipv4Addr>().is_ok()
            }),
        "get pods -o wide: Kubernetes' columns, two `web-... 1/1 Running 0` rows on the node",
        &r,
    );
    let r = k.run(&["get", "replicasets", "-l", "app=web"]);
    checks.check(
        r.ok()
            && table_columns(&r.stdout) == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
            && parse_table(&r.stdout).first().is_some_and(|row| {
                row["DESIRED"] == "2" && row["CURRENT"] == "2" && row["READY"] == "2"
            }),
        "get replicasets: NAME DESIRED CURRENT READY AGE, `2 2 2`",
        &r,
    );

    let r = k.run(&["get", "all", "-o", "name"]);
    checks.check(
        r.ok()
            && r.lines().contains(&"deployment.apps/web")
            && r.lines()
                .iter()
                .any(|l| l.starts_with("replicaset.apps/web-"))
            && r.lines().iter().any(|l| l.starts_with("pod/web-")),
        "get all (the `all` category) lists the deployment, its replica set and pods",
        &r,
    );
    let r = k.run(&["cordon", node]);
    checks.stdout_is(&r, &format!("node/{node} cordoned"));
    let r = k.run(&["get", "node", node, "-o", "jsonpath={.spec.unschedulable}"]);
    checks.stdout_is(&r, "true");
    let r = k.run(&["uncordon", node]);
    checks.stdout_is(&r, &format!("node/{node} uncordoned"));

    // diff: 0 when the same, 1 with a unified diff when not.
    let r = k.run(&["diff", "-f", s(&v1)]);
    checks.check(
        r.code == Some(0) && r.stdout.is_empty(),
        "diff of the applied manifest: exit 0, no output",
        &r,
    );
    let r = k.run(&["diff", "-f", s(&v2)]);
    checks.check(
        r.code == Some(1)
            && r.lines().iter().any(|l| l.starts_with("+++ "))
            && r.lines()
                .iter()
                .any(|l| l.starts_with('+') && l.contains("name: A"))
            && !r
                .lines()
                .iter()
                .any(|l| l.starts_with('-') && l.contains("replicas")),
        "diff of a changed manifest: exit 1, a unified diff adding env A (replicas unchanged)",
        &r,
    );

    // A rollout by apply, one by set image, back by undo, a restart.
    let rolled = |r: &Run| {
        r.ok() && r.lines().last() == Some(&r#"deployment "web" successfully rolled out"#)
    };
    let r = k.run(&["apply", "-f", s(&v2)]);
    checks.stdout_is(&r, "deployment.apps/web configured");
    let r = k.run(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    checks.check(
        rolled(&r),
        "rollout status ends with `deployment \"web\" successfully rolled out`",
        &r,
    );
    let r = k.run(&[
        "set",
        "image",
        "deployment/web",
        &format!("main={}", cx.image2),
    ]);
    checks.stdout_is(&r, "deployment.apps/web image updated");
    let r = k.run(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    checks.check(rolled(&r), "rollout status after set image", &r);
    let r = k.run(&["rollout", "history", "deployment/web"]);
    let lines: Vec<String> = r
        .lines()
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    checks.check(
        r.ok()
            && lines
                == [
                    "deployment.apps/web",
                    "REVISION CHANGE-CAUSE",
                    "1 <none>",
                    "2 <none>",
                    "3 <none>",
                ],
        "rollout history: deployment.apps/web, REVISION CHANGE-CAUSE, revisions 1 2 3",
        &r,
    );
    let r = k.run(&["rollout", "undo", "deployment/web"]);
    checks.stdout_is(&r, "deployment.apps/web rolled back");
    let r = k.run(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    checks.check(rolled(&r), "rollout status after undo", &r);
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    checks.stdout_is(&r, "local/busybox:1");
    let r = k.run(&["rollout", "restart", "deployment/web"]);
    checks.stdout_is(&r, "deployment.apps/web restarted");
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        r#"jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}"#,
    ]);
    checks.check(
        r.ok() && r.stdout.len() >= 20 && r.stdout.contains('T'),
        "rollout restart sets the template's kubectl.kubernetes.io/restartedAt",
        &r,
    );
    let r = k.run(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    checks.check(rolled(&r), "rollout status after restart", &r);

    // Strategic merge: env merged by name into the container merged by name.
    let before = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    let r = k.run(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"B","value":"2"}]}]}}}}"#,
    ]);
    checks.stdout_is(&r, "deployment.apps/web patched");
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[*].name}",
    ]);
    checks.check(
        r.ok() && {
            let words: Vec<&str> = r.stdout.split_whitespace().collect();
            words.len() == 4
                && words[0] == "main"
                && words[1] == before.stdout
                && words[2..].contains(&"A")
                && words[2..].contains(&"B")
        },
        "a strategic patch merges env B into container main (one container, image kept, env A and B)",
        &r,
    );
    let r = k.run(&[
        "patch",
        "deployment",
        "web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"A","$patch":"delete"}]}]}}}}"#,
    ]);
    checks.stdout_is(&r, "deployment.apps/web patched");
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env[*].name}",
    ]);
    checks.stdout_is(&r, "B");

    // scale, with a precondition that does not hold.
    let r = k.run(&["scale", "deployment", "web", "--replicas=3"]);
    checks.stdout_is(&r, "deployment.apps/web scaled");
    let r = k.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    checks.stdout_is(&r, "3");
    let r = k.run(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=2",
        "--replicas=1",
    ]);
    checks.check(
        r.code == Some(1) && r.stderr.contains("Expected replicas to be 2, was 3"),
        "scale --current-replicas=2 of a 3-replica deployment: `Expected replicas to be 2, was 3`",
        &r,
    );
    let r = poll(
        k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
        Duration::from_secs(60),
        |r| r.stdout == "3",
    );
    checks.stdout_is(&r, "3");
    let r = k.run(&["delete", "deployment", "web"]);
    checks.stdout_is(&r, r#"deployment.apps "web" deleted"#);
}

/// `delete --cascade=orphan` keeps the ReplicaSet without its owner;
/// `--cascade=foreground` returns once the dependents are gone.
fn cascade(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    for (name, cascade) in [("orphan", "orphan"), ("fg", "foreground")] {
        let f = write(&cx.dir, &format!("{name}.yaml"), &deployment(name, 1, &[]));
        let r = k.run(&["apply", "-f", s(&f)]);
        if !checks.stdout_is(&r, &format!("deployment.apps/{name} created")) {
            continue;
        }
        let selector = format!("app={name}");
        let r = poll(
            k,
            &["get", "replicasets", "-l", &selector, "-o", "name"],
            Duration::from_secs(30),
            |r| r.lines().len() == 1,
        );
        checks.check(
            r.lines().len() == 1,
            "the deployment made its ReplicaSet",
            &r,
        );
        let r = k.run(&[
            "delete",
            "deployment",
            name,
            &format!("--cascade={cascade}"),
            "--timeout=60s",
        ]);
        checks.stdout_is(&r, &format!("deployment.apps \"{name}\" deleted"));
        match cascade {
            "orphan" => {
                // The garbage collector must leave it: look again a little later.
                std::thread::sleep(Duration::from_secs(3));
                let r = k.run(&[
                    "get",
                    "replicasets",
                    "-l",
                    &selector,
                    "-o",
                    "jsonpath={range .items[*]}{.metadata.name} owners={.metadata.ownerReferences}{\"\\n\"}{end}",
                ]);
                checks.check(
                    r.ok() && r.lines().len() == 1 && r.lines()[0].ends_with(" owners="),
                    "--cascade=orphan: the ReplicaSet stays, without ownerReferences",
                    &r,
                );
                let r = k.run(&["delete", "replicasets", "-l", &selector]);
                checks.ok(&r);
            }
            _ => {
                let r = k.run(&["get", "replicasets", "-l", &selector, "-o", "name"]);
                checks.check(
                    r.ok() && r.stdout.is_empty(),
                    "--cascade=foreground: when delete returns, the ReplicaSet is gone",
                    &r,
                );
            }
        }
    }
}

/// `run`, `wait --for=condition=Ready`, `logs` (`--tail`, `-f`, a bad container),
/// `exec` (stdin through, exit code back).
fn logs_and_exec(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    let r = k.run(&[
        "run",
        "logger",
        "--image=local/busybox:1",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo line $i; sleep 1; done",
    ]);
    if !checks.stdout_is(&r, "pod/logger created") {
        return;
    }
    let r = k.run(&[
        "wait",
        "--for=condition=Ready",
        "pod/logger",
        "--timeout=90s",
    ]);
    checks.stdout_is(&r, "pod/logger condition met");
    let number = |l: &str| {
        l.strip_prefix("line ")
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    // At least three lines written.
    let r = poll(k, &["logs", "logger"], Duration::from_secs(20), |r| {
        r.lines().len() >= 3
    });
    checks.check(
        r.ok() && r.lines().len() >= 3 && r.lines().first() == Some(&"line 1"),
        "logs: the pod's output from `line 1`",
        &r,
    );
    let r = k.run(&["logs", "logger", "--tail=2"]);
    let nums: Vec<Option<u32>> = r.lines().iter().map(|l| number(l)).collect();
    checks.check(
        r.ok() && nums.len() == 2 && nums[0].is_some() && nums[1] == nums[0].map(|n| n + 1),
        "logs --tail=2: the last two lines, consecutive",
        &r,
    );
    let mut follow = k.spawn(&["logs", "-f", "logger"]);
    let old = follow.drain(Duration::from_secs(2));
    let last = old.iter().filter_map(|l| number(l)).max().unwrap_or(0);
    let newer = follow.wait_line(Duration::from_secs(8), |l| {
        number(l).is_some_and(|n| n > last + 1)
    });
    checks.check_msg(
        last > 0 && newer.is_some() && follow.is_running(),
        "logs -f prints the past lines, then lines written later, and keeps following",
        || follow.report(),
    );
    drop(follow);
    // kubectl checks the container name itself; the server's own answer through --raw.
    let r = k.run(&["logs", "logger", "-c", "nope"]);
    checks.fails_with(&r, 1, "error: container nope is not valid for pod logger");
    let r = k.run(&[
        "get",
        "--raw",
        &format!(
            "/api/v1/namespaces/{}/pods/logger/log?container=nope",
            cx.ns
        ),
    ]);
    checks.fails_with(
        &r,
        1,
        "Error from server (BadRequest): container nope is not valid for pod logger",
    );

    let r = k.run_with(
        &[
            "exec",
            "-i",
            "logger",
            "--",
            "sh",
            "-c",
            "cat; echo to-stderr >&2; exit 3",
        ],
        Some("hello from kubectl\n"),
    );
    checks.check(
        r.code == Some(3)
            && r.stdout == "hello from kubectl\n"
            && r.stderr.lines().any(|l| l == "to-stderr")
            && r.stderr
                .lines()
                .any(|l| l == "command terminated with exit code 3"),
        "exec -i: stdin reaches the command, its stdout and stderr come back, exit code 3 \
         (`command terminated with exit code 3`)",
        &r,
    );
    let r = k.run(&["exec", "logger", "--", "echo", "hi"]);
    checks.stdout_is(&r, "hi");
}

/// `explain` from the server's OpenAPI.
fn explain(cx: &Ctx, checks: &mut Checks) {
    let k = &cx.k;
    let r = k.run(&["explain", "deployment.spec.template.spec.containers"]);
    let lines = r.lines();
    let described = |field: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(field))
            .and_then(|i| lines.get(i + 1))
            .is_some_and(|d| {
                d.starts_with("    ") && d.trim().len() > 3 && !d.contains("<no description>")
            })
    };
    checks.check(
        r.ok()
            && lines.contains(&"KIND:       Deployment")
            && lines.contains(&"VERSION:    v1")
            && lines.contains(&"FIELD: containers <[]Container>")
            && lines.contains(&"DESCRIPTION:")
            && lines.contains(&"FIELDS:")
            && lines.contains(&"  image\t<string>")
            && lines.contains(&"  name\t<string> -required-")
            && described("  image\t")
            && described("  ports\t"),
        "explain deployment.spec.template.spec.containers: KIND/VERSION/FIELD headers, \
         fields image <string> and name <string> -required-, each with a description",
        &r,
    );
    let r = k.run(&["explain", "pods.spec.nosuchfield"]);
    checks.check(
        r.code == Some(1) && r.stderr.contains(r#"field "nosuchfield" does not exist"#),
        "explain of a missing field: `field \"nosuchfield\" does not exist`",
        &r,
    );
}

/// `auth can-i` (admin, and jane bound by RBAC), a Forbidden as Kubernetes words it,
/// `auth whoami` (1.28+).
fn auth(cx: &Ctx, checks: &mut Checks) {
    let (k, jane, ns) = (&cx.k, &cx.jane, &cx.ns);
    let r = k.run(&["auth", "can-i", "create", "deployments"]);
    checks.stdout_is(&r, "yes");
    let r = jane.run(&["auth", "can-i", "list", "pods"]);
    checks.stdout_is(&r, "yes");
    let r = jane.run(&["auth", "can-i", "get", "pods", "--subresource=log"]);
    checks.stdout_is(&r, "yes");
    let r = jane.run(&["auth", "can-i", "delete", "pods"]);
    checks.check(
        r.code == Some(1) && r.lines() == ["no"],
        "jane: auth can-i delete pods prints `no`, exit 1",
        &r,
    );
    let r = jane.run(&["auth", "can-i", "list", "pods", "--namespace", "default"]);
    checks.check(
        r.code == Some(1) && r.lines() == ["no"],
        "jane: auth can-i list pods in another namespace prints `no`",
        &r,
    );
    let r = jane.run(&["get", "pods", "-o", "name"]);
    checks.check(
        r.ok() && (r.lines().contains(&"pod/logger") || !cx.full),
        "jane lists pods in her namespace",
        &r,
    );
    let r = jane.run(&["delete", "pod", "logger"]);
    checks.fails_with(
        &r,
        1,
        &format!(
            "Error from server (Forbidden): pods \"logger\" is forbidden: User \"jane\" cannot \
             delete resource \"pods\" in API group \"\" in the namespace \"{ns}\""
        ),
    );
    let r = jane.run(&["get", "secrets"]);
    checks.fails_with(
        &r,
        1,
        &format!(
            "Error from server (Forbidden): secrets is forbidden: User \"jane\" cannot list \
             resource \"secrets\" in API group \"\" in the namespace \"{ns}\""
        ),
    );
    // A ServiceAccount token (TokenRequest), then used as the only credential.
    let r = k.run(&["create", "token", "default", "--duration=10m"]);
    let token = r.stdout.trim().to_string();
    checks.check(
        r.ok() && token.split('.').count() == 3 && token.starts_with("eyJ"),
        "create token default: a JWT",
        &r,
    );
    if k.minor >= 28 && r.ok() {
        let sa_config = cx.dir.join("sa.kubeconfig");
        client::Kubeconfig::for_user(
            "kubernetes",
            &cx.c.url,
            &cx.c.ca_pem(),
            "default",
            &client::Credentials::Token(token),
        )
        .write(&sa_config)
        .expect("write the ServiceAccount kubeconfig");
        let r = k.with_kubeconfig(&sa_config).run(&[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ]);
        checks.stdout_is(&r, &format!("system:serviceaccount:{ns}:default"));
    }
    if k.minor >= 28 {
        let r = k.run(&["auth", "whoami"]);
        let rows = parse_table(&r.stdout);
        let value = |attr: &str| {
            rows.iter()
                .find(|row| row.get("ATTRIBUTE").map(String::as_str) == Some(attr))
                .map(|row| row["VALUE"].clone())
                .unwrap_or_default()
        };
        checks.check(
            r.ok()
                && table_columns(&r.stdout) == ["ATTRIBUTE", "VALUE"]
                && value("Username") == "kubernetes-admin"
                && value("Groups") == "[system:masters system:authenticated]",
            "auth whoami: Username kubernetes-admin, Groups [system:masters system:authenticated]",
            &r,
        );
        let r = jane.run(&["auth", "whoami", "-o", "json"]);
        let v = json(&r);
        checks.check(
            r.ok()
                && v["kind"] == "SelfSubjectReview"
                && v["status"]["userInfo"]["username"] == "jane"
                && v["status"]["userInfo"]["groups"]
                    == serde_json::json!(["dev", "system:authenticated"]),
            "jane: auth whoami -o json: SelfSubjectReview of jane in [dev system:authenticated]",
            &r,
        );
    }
}

// ---------------------------------------------------------------------------------------
// The corpus: real kubectl apply and ctl apply accept and refuse the same documents.

/// Namespaces the corpus uses without creating them (its SOURCES.md).
const CORPUS_NAMESPACES: [&str; 5] = [
    "istio-system",
    "monitoring",
    "spark-cluster",
    "default-mem-example",
    "kube-system",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("k8s-corpus")
}

/// One throwaway apiserver (TLS, AlwaysAllow, no controllers: no pod ever runs), with the
/// namespaces the corpus uses without making them; returns it and its admin kubeconfig.
async fn throwaway_apiserver(dir: &Path, name: &str) -> (integration_tests::Process, PathBuf) {
    let data = dir.join(name);
    let mut p = integration_tests::spawn_tls_apiserver(
        &data,
        integration_tests::free_addr(),
        dir.join(format!("{name}.log")),
    );
    let client = integration_tests::wait_ready_tls(&data, &mut p, Duration::from_secs(30)).await;
    let namespaces: client::Api<proto::k8s::Namespace> = client::Api::all(client);
    for ns in CORPUS_NAMESPACES {
        let object = proto::k8s::Namespace {
            metadata: Some(proto::k8s::ObjectMeta {
                name: ns.to_string(),
                ..Default::default()
            }),
            ..Default::default()
        };
        if let Err(e) = namespaces.create(&object).await {
            assert!(
                e.to_string().contains("already exists"),
                "create namespace {ns}: {e}"
            );
        }
    }
    (p, data.join("admin.kubeconfig"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_accepts_and_refuses_the_corpus_as_ctl_does() {
    let test = "kubectl_apply_accepts_and_refuses_the_corpus_as_ctl_does";
    let Some(binaries) = kubectl::require(test, &["1.32"]) else {
        return;
    };
    let corpus = std::fs::canonicalize(corpus_dir()).unwrap_or_else(|_| corpus_dir());
    if !corpus.is_dir() {
        testkit::unmet(test, &format!("needs the corpus at {}", corpus.display()));
        return;
    }
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("it-kubectl-corpus-")
        .tempdir()
        .expect("temp dir");
    let (_kube_server, kube_config) = throwaway_apiserver(dir.path(), "for-kubectl").await;
    let (_ctl_server, ctl_config) = throwaway_apiserver(dir.path(), "for-ctl").await;
    let k = Kubectl::new(&binaries[0], &kube_config, &dir.path().join("home"));
    let ctl = |args: &[&str]| integration_tests::ctl_kubeconfig(&ctl_config, args, None);

    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("read the corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    let mut differences = vec![];
    // The first line kubectl printed for each differing file, the file's path taken out:
    // the same cause differing in many files is one line of the summary.
    let mut causes: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut accepted, mut refused) = (0, 0);
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kr = k.run(&["apply", "-f", s(file)]);
        let cr = ctl(&["apply", "-f", s(file)]);
        let mut by_kubectl = applied_objects(&kr.stdout);
        let mut by_ctl = applied_objects(&text(&cr.stdout));
        by_kubectl.sort();
        by_ctl.sort();
        accepted += by_kubectl.len();
        refused += kr
            .stderr
            .lines()
            .filter(|l| l.starts_with("Error") || l.starts_with("error"))
            .count();
        if by_kubectl != by_ctl || kr.ok() != cr.status.success() {
            let first = kr
                .stderr
                .lines()
                .find(|l| l.starts_with("error") || l.starts_with("Error"))
                .unwrap_or("(kubectl printed no error)")
                .replace(s(file), "<file>");
            *causes.entry(first).or_default() += 1;
            let only = |a: &[String], b: &[String]| -> Vec<String> {
                let mut b = b.to_vec();
                a.iter()
                    .filter(|x| match b.iter().position(|y| y == *x) {
                        Some(i) => {
                            b.remove(i);
                            false
                        }
                        None => true,
                    })
                    .cloned()
                    .collect()
            };
            differences.push(format!(
                "{name}:\n  accepted by kubectl only: {:?}\n  accepted by ctl only: {:?}\n  \
                 kubectl exit {:?}, stderr:\n{}  ctl exit {:?}, stderr:\n{}  kubectl -v=8 tail:\n{}",
                only(&by_kubectl, &by_ctl),
                only(&by_ctl, &by_kubectl),
                kr.code,
                indent4(&head(&kr.stderr, 6)),
                cr.status.code(),
                indent4(&head(&text(&cr.stderr), 6)),
                indent4(&head(&kr.exchange(), 8)),
            ));
        }
    }
    eprintln!(
        "corpus: {} files, {accepted} objects accepted and {refused} refusals by kubectl, \
         {} files differ from ctl, in {:?}",
        files.len(),
        differences.len(),
        started.elapsed()
    );
    assert!(
        files.len() > 50,
        "the corpus has only {} files",
        files.len()
    );
    let summary: Vec<String> = causes
        .iter()
        .map(|(cause, n)| format!("  {n} file(s): {cause}"))
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} corpus files: kubectl apply and ctl apply differ. By kubectl's first error:\n{}\n\n{}",
        differences.len(),
        files.len(),
        summary.join("\n"),
        differences.join("\n")
    );
}

fn head(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    let mut out = all[..all.len().min(lines)].join("\n");
    if all.len() > lines {
        out.push_str(&format!("\n... ({} more lines)", all.len() - lines));
    }
    out
}

fn indent4(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}
