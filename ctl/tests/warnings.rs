//! `ctl` prints the apiserver's warnings as kubectl does: `Warning: <text>` on stderr, the
//! normal output on stdout. Runs the real binary against an in-process apiserver.

use apiserver::testing::TestServer;

#[tokio::test]
async fn apply_prints_pod_security_warnings_on_stderr() {
    let server = TestServer::start_with(|c| {
        c.pod_security_enforce = apiserver::pod_security::Level::Baseline;
        c.pod_security_warn = apiserver::pod_security::Level::Baseline;
    })
    .await;
    let dir = tempfile::Builder::new()
        .prefix("ctl-warnings-test-")
        .tempdir()
        .unwrap();
    let manifest = dir.path().join("agent.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      hostNetwork: true\n      containers:\n      - name: agent\n        image: local/busybox:1\n",
    )
    .unwrap();
    let ctl = env!("CARGO_BIN_EXE_ctl");
    let url = server.url.clone();
    let path = manifest.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(ctl)
            .args(["--server", &url, "apply", "-f"])
            .arg(&path)
            .output()
    })
    .await
    .unwrap()
    .expect("ctl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(
        stderr.trim_end(),
        r#"Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#
    );
    assert!(stdout.contains("daemonset.apps/agent created"), "{stdout}");

    // A pod with the same spec is refused, with Kubernetes' wording.
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\nspec:\n  hostNetwork: true\n  containers:\n  - name: agent\n    image: local/busybox:1\n",
    )
    .unwrap();
    let url = server.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(ctl)
            .args(["--server", &url, "apply", "-f"])
            .arg(&pod)
            .output()
    })
    .await
    .unwrap()
    .expect("ctl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(r#"pods "agent" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#),
        "{stderr}"
    );
    server.stop().await;
}
