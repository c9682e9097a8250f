//! What the kubelet's Docker tests share: connecting to Docker under the skip-or-fail rule,
//! and removing every container a test's kubelet made.

#![allow(dead_code)] // each test file uses what it needs

use kubelet::runtime::docker::DockerRuntime;
use std::process::Command;
use testkit::Prereq;

/// Docker, when the test's prerequisites (busybox-static always, plus `more`) are met;
/// `None` means skip (outside CI) after `testkit` said why; under CI it panics instead.
pub async fn docker(test: &str, more: &[Prereq]) -> Option<DockerRuntime> {
    let mut needs = vec![Prereq::Busybox];
    needs.extend_from_slice(more);
    if !testkit::require(test, &needs) {
        return None;
    }
    match DockerRuntime::connect().await {
        Ok(rt) => Some(rt),
        Err(e) => {
            testkit::unmet(test, &format!("needs a Docker engine: {e}"));
            None
        }
    }
}

/// Force-removes every container carrying the node label `node` (the test's kubelet).
pub fn remove_node_containers(node: &str) {
    let ids = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label={}={node}", kubelet::runtime::labels::NODE))
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f"])
            .args(&ids)
            .output();
    }
}

/// Removes the node's containers when dropped, also when the test fails.
pub struct NodeContainers(pub String);

impl Drop for NodeContainers {
    fn drop(&mut self) {
        remove_node_containers(&self.0);
    }
}

/// A kubelet on loopback against `server` (its API on a free port), with its root under
/// `dir` and containers named with `prefix`: what the Docker tests start.
pub fn loopback_kubelet_config(
    server: &str,
    node: &str,
    dir: &std::path::Path,
    prefix: &str,
) -> kubelet::config::Config {
    let root = dir.join("root");
    <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        server,
        "--node-name",
        node,
        "--node-ip",
        "127.0.0.1",
        "--root-dir",
        &root.to_string_lossy(),
        "--container-prefix",
        prefix,
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--healthz-port",
        "0",
    ])
}
