//! ctl driven by command lines as kubectl users type them, flags before, between and after
//! the arguments (and `--server` last), against the real apiserver binary: each line's
//! output, and its effect read back with another line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use integration_tests::{Process, binary, free_addr, spawn_apiserver, text, wait_ready};

struct Cluster {
    url: String,
    home: PathBuf,
    _server: Process,
    _dir: tempfile::TempDir,
}

async fn cluster(name: &str) -> Cluster {
    let dir = tempfile::Builder::new()
        .prefix(&format!("it-ctl-lines-{name}-"))
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
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    Cluster {
        url,
        home,
        _server: server,
        _dir: dir,
    }
}

use testkit::shell_words as words;

/// `ctl LINE --server URL` with a HOME of its own (no kubeconfig of the machine's); the
/// server goes first when the line has `--` (what follows is the container's command).
fn run(c: &Cluster, line: &str) -> (bool, String, String) {
    let mut argv = words(line);
    let server = ["--server".to_string(), c.url.clone()];
    match argv.iter().position(|w| w == "--") {
        Some(_) => argv.splice(0..0, server),
        None => argv.splice(argv.len().., server),
    };
    let out = Command::new(binary("ctl"))
        .args(&argv)
        .env("HOME", &c.home)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run ctl");
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// `ctl LINE` for `config` lines: the kubeconfig is `file`, nothing else.
fn config(home: &Path, file: &Path, line: &str) -> (bool, String, String) {
    let out = Command::new(binary("ctl"))
        .args(words(line))
        .env("HOME", home)
        .env("KUBECONFIG", file)
        .stdin(Stdio::null())
        .output()
        .expect("run ctl");
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Each line succeeds and prints exactly `want` (trimmed).
fn expect(c: &Cluster, lines: &[(&str, &str)]) {
    for (line, want) in lines {
        let (ok, out, err) = run(c, line);
        assert!(ok, "ctl {line}: failed: {err}");
        assert_eq!(out.trim(), *want, "ctl {line}\nstderr: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lines_with_flags_anywhere() {
    let c = cluster("flags").await;
    expect(
        &c,
        &[
            ("create namespace shop", "namespace/shop created"),
            ("get ns shop -o=name", "namespace/shop"),
            ("-oname get namespace shop", "namespace/shop"),
            (
                "create deployment frontend --image=local/busybox:1 -n shop --replicas=2",
                "deployment.apps/frontend created",
            ),
            (
                "-n shop get deployment frontend -o jsonpath={.spec.replicas}",
                "2",
            ),
            (
                "get deploy -ojsonpath={.spec.template.spec.containers[0].image} frontend --namespace=shop",
                "local/busybox:1",
            ),
            // The line a user reported: -n between the arguments.
            (
                "set image deployment/frontend -n shop busybox=local/busybox:2",
                "deployment.apps/frontend image updated",
            ),
            (
                "get deployment/frontend --namespace shop -o jsonpath={.spec.template.spec.containers[0].image}",
                "local/busybox:2",
            ),
            (
                "-n shop set image deployment/frontend busybox=local/busybox:3 --dry-run=server",
                "deployment.apps/frontend image updated (server dry run)",
            ),
            (
                "get -n shop deployment frontend -o jsonpath={.spec.template.spec.containers[0].image}",
                "local/busybox:2",
            ),
            (
                "label deployment -n shop frontend tier=web",
                "deployment.apps/frontend labeled",
            ),
            (
                "get deployments -l tier=web -n shop -o name",
                "deployment.apps/frontend",
            ),
            ("-n shop -l tier=db get deployments -o name", ""),
            (
                "annotate -n shop deployment/frontend note=hi",
                "deployment.apps/frontend annotated",
            ),
            (
                "scale --replicas=3 deployment/frontend -n shop",
                "deployment.apps/frontend scaled",
            ),
            (
                "get -n shop deploy frontend -o jsonpath={.spec.replicas}",
                "3",
            ),
            (
                r#"patch deployment frontend -n shop -p '{"spec":{"replicas":1}}'"#,
                "deployment.apps/frontend patched",
            ),
            (
                r#"-n shop patch deployment frontend --type=merge -p '{"spec":{"replicas":1}}'"#,
                "deployment.apps/frontend patched (no change)",
            ),
            (
                "get deploy frontend -o jsonpath={.spec.replicas} -n shop",
                "1",
            ),
            (
                "rollout pause deployment/frontend -n shop",
                "deployment.apps/frontend paused",
            ),
            (
                "-n shop rollout resume deployment frontend",
                "deployment.apps/frontend resumed",
            ),
            (
                "rollout -n shop restart deployment/frontend",
                "deployment.apps/frontend restarted",
            ),
            (
                "delete -n shop deployment frontend --wait=false",
                "deployment.apps \"frontend\" deleted",
            ),
        ],
    );
    let (ok, _, err) = run(&c, "get deployment frontend -n shop");
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");

    // Generators and expose, flags on either side of the names.
    expect(
        &c,
        &[
            (
                "create deployment web -n shop --image=local/busybox:1 --port=8080",
                "deployment.apps/web created",
            ),
            (
                "expose -n shop deployment web --port=80 --target-port 8080",
                "service/web exposed",
            ),
            (
                "get svc web -o jsonpath={.spec.ports[0].targetPort} --namespace shop",
                "8080",
            ),
            (
                "create configmap settings --from-literal=color=blue -n shop",
                "configmap/settings created",
            ),
            (
                "-n shop create secret generic creds --from-literal k=v",
                "secret/creds created",
            ),
            (
                "create service clusterip db -n shop --tcp=5432:5432",
                "service/db created",
            ),
            (
                "get -n shop configmap settings -o jsonpath={.data.color}",
                "blue",
            ),
            (
                "get svc -o custom-columns=NAME:.metadata.name,PORT:.spec.ports[0].port -n shop",
                "NAME   PORT\ndb     5432\nweb    80",
            ),
            (
                "run once -n shop --image=local/busybox:1 --restart=Never -- sleep 10 -n x",
                "pod/once created",
            ),
            (
                "get pod -n shop once -o jsonpath={.spec.containers[0].args}",
                r#"["sleep","10","-n","x"]"#,
            ),
            // Without `--`, kubectl still reads flags after the command's words.
            (
                "run twice --image=local/busybox:1 sleep 10 --restart=Never -n shop",
                "pod/twice created",
            ),
            (
                "get pod twice -o jsonpath={.spec.containers[0].args} -n shop",
                r#"["sleep","10"]"#,
            ),
            (
                "-n shop delete configmap,secret --all --wait=false",
                "configmap \"settings\" deleted\nsecret \"creds\" deleted",
            ),
        ],
    );

    // -o in its spellings prints the same document.
    let (ok, json, _) = run(&c, "get namespace shop -o json");
    assert!(ok);
    for line in [
        "get namespace shop -ojson",
        "get namespace shop --output=json",
        "-o json get namespace shop",
        "get --output json namespace shop",
    ] {
        let (ok, out, err) = run(&c, line);
        assert!(ok, "{line}: {err}");
        assert_eq!(out, json, "{line}");
    }
    let (ok, yaml, _) = run(&c, "get namespace shop -o yaml");
    assert!(ok);
    assert!(yaml.contains("name: shop"), "{yaml}");
    let (_, out, _) = run(&c, "-oyaml get namespace shop");
    assert_eq!(out, yaml);
    // Client dry run: printed, not stored.
    let (ok, out, err) = run(&c, "create namespace other --dry-run");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "namespace/other created (dry run)");
    let (ok, _, _) = run(&c, "get namespace other");
    assert!(!ok, "a dry run stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_lines_write_what_kubectl_reads() {
    let dir = tempfile::Builder::new()
        .prefix("it-ctl-lines-config-")
        .tempdir()
        .expect("temp dir");
    let home = dir.path();
    let file = dir.path().join("kubeconfig");
    let lines: &[(&str, &str)] = &[
        (
            "config set-cluster dev --server https://10.0.0.1:6443 --insecure-skip-tls-verify",
            "Cluster \"dev\" set.",
        ),
        (
            "config set-credentials --token=abc alice",
            "User \"alice\" set.",
        ),
        (
            "config set-context dev --cluster=dev -n web --user alice",
            "Context \"dev\" created.",
        ),
        ("config use-context dev", "Switched to context \"dev\"."),
        (
            "config set-context --current --namespace=shop",
            "Context \"dev\" modified.",
        ),
        ("config current-context", "dev"),
        ("config get-contexts -o name", "dev"),
        ("-o name config get-contexts dev", "dev"),
        ("config get-clusters", "NAME\ndev"),
    ];
    for (line, want) in lines {
        let (ok, out, err) = config(home, &file, line);
        assert!(ok, "ctl {line}: {err}");
        assert_eq!(out.trim(), *want, "ctl {line}");
    }
    let (ok, out, _) = config(home, &file, "config get-contexts");
    assert!(ok);
    let table: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        table,
        [
            vec!["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"],
            vec!["*", "dev", "dev", "alice", "shop"],
        ]
    );
    // The real kubectl reads the file ctl wrote, when this machine has it.
    let kubectl = Path::new("/usr/lib/google-cloud-sdk/bin/kubectl.1.33");
    if kubectl.exists() {
        let out = Command::new(kubectl)
            .args(["config", "get-contexts", "--kubeconfig"])
            .arg(&file)
            .output()
            .expect("kubectl");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("*         dev    dev       alice      shop"),
            "{}",
            text(&out.stdout)
        );
    }
    // view: redacted unless --raw, -o jsonpath on either side.
    for (line, want) in [
        ("config view -o jsonpath={.users[0].user.token}", "REDACTED"),
        (
            "-o jsonpath={.users[0].user.token} config view --raw",
            "abc",
        ),
        (
            "config view --minify -ojsonpath={.contexts[0].context.namespace}",
            "shop",
        ),
    ] {
        let (ok, out, err) = config(home, &file, line);
        assert!(ok, "ctl {line}: {err}");
        assert_eq!(out.trim(), want, "ctl {line}");
    }
    let (ok, _, err) = config(home, &file, "config use-context nope");
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "error: no context exists with the name: \"nope\""
    );
    let (ok, out, _) = config(home, &file, "config rename-context dev prod");
    assert!(ok);
    assert_eq!(out.trim(), "Context \"dev\" renamed to \"prod\".");
    let (_, out, _) = config(home, &file, "config current-context");
    assert_eq!(out.trim(), "prod");
}
