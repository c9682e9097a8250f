//! Pod DNS through the real pod worker with the fake runtime: with `--cluster-dns`, every
//! app container of a ClusterFirst pod gets `<pod dir>/etc-resolv.conf` bind-mounted
//! read-only at /etc/resolv.conf with the cluster's nameserver and search list; a
//! host-network pod and a kubelet without the flag get no such mount.

use apiserver::testing::TestServer;
use client::Api;
use kubelet::network::fake::RecordingNetwork;
use kubelet::runtime::fake::FakeRuntime;
use kubelet::runtime::{ContainerConfig, labels};
use proto::Resource;
use proto::k8s::Pod;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn pod(name: &str, host_network: bool) -> Pod {
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: team}}
spec:
  nodeName: node-dns
  hostNetwork: {host_network}
  dnsConfig: {{searches: [corp.example], options: [{{name: edns0}}]}}
  containers:
  - {{name: app, image: local/busybox:1}}
  - {{name: side, image: local/busybox:1}}
"#
    );
    let obj = proto::manifest::load_documents(&yaml).unwrap().remove(0);
    Pod::try_from_object(obj).unwrap()
}

/// Runs a hollow kubelet with `extra` flags, creates the pods, and returns each app
/// container's config by `pod/container` once all are created.
async fn run(extra: &[&str], pods: &[Pod]) -> (Vec<(String, ContainerConfig)>, tempfile::TempDir) {
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let ns = proto::k8s::Namespace {
        metadata: Some(proto::k8s::ObjectMeta {
            name: "team".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    Api::<proto::k8s::Namespace>::all(client.clone())
        .create(&ns)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let root = dir.path().join("root");
    let mut args = vec![
        "kubelet",
        "--server",
        &server.url,
        "--node-name",
        "node-dns",
        "--node-ip",
        "192.0.2.9",
        "--root-dir",
        root.to_str().unwrap(),
        "--busybox",
        busybox.to_str().unwrap(),
        "--sync-frequency",
        "100ms",
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--healthz-port",
        "0",
    ];
    args.extend_from_slice(extra);
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from(args);
    let rt = FakeRuntime::new();
    let net = RecordingNetwork::new();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt.clone()),
        Some(Arc::new(net.clone())),
        cancel.clone(),
    ));
    let api: Api<Pod> = Api::namespaced(client, "team");
    for p in pods {
        api.create(p).await.unwrap();
    }
    let want = pods.len() * 2;
    let deadline = Instant::now() + Duration::from_secs(15);
    let apps = loop {
        let apps: Vec<(String, ContainerConfig)> = rt
            .containers()
            .iter()
            .filter(|c| c.container_name() != labels::SANDBOX_NAME)
            .map(|c| {
                (
                    format!("{}/{}", c.label(labels::POD_NAME), c.container_name()),
                    rt.config_of(&c.id).unwrap(),
                )
            })
            .collect();
        if apps.len() >= want {
            break apps;
        }
        assert!(
            Instant::now() < deadline,
            "only {} app containers",
            apps.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    server.stop().await;
    (apps, dir)
}

fn resolv_mount(c: &ContainerConfig) -> Option<&kubelet::runtime::Mount> {
    c.mounts
        .iter()
        .find(|m| m.container_path == "/etc/resolv.conf")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_first_pods_get_the_cluster_resolv_conf() {
    let (apps, _dir) = run(
        &[
            "--cluster-dns",
            "10.96.0.10",
            "--cluster-domain",
            "cluster.local",
        ],
        &[pod("p1", false), pod("hn", true)],
    )
    .await;
    assert_eq!(apps.len(), 4, "{apps:?}");
    assert_eq!(
        apps.iter()
            .filter(|(_, c)| resolv_mount(c).is_some())
            .count(),
        2
    );
    for (name, cfg) in &apps {
        let m = resolv_mount(cfg);
        if name.starts_with("hn/") {
            assert!(m.is_none(), "{name}: host-network pod got {m:?}");
            continue;
        }
        let m = m.unwrap_or_else(|| panic!("{name}: no /etc/resolv.conf mount"));
        assert!(m.read_only);
        assert!(m.host_path.ends_with("/etc-resolv.conf"), "{}", m.host_path);
        assert_eq!(
            std::fs::read_to_string(&m.host_path).unwrap(),
            "nameserver 10.96.0.10\n\
             search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
             options ndots:5 edns0\n"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cluster_dns_pods_keep_dockers_resolv_conf() {
    let (apps, dir) = run(&[], &[pod("p1", false)]).await;
    assert_eq!(apps.len(), 2);
    for (name, cfg) in &apps {
        assert!(resolv_mount(cfg).is_none(), "{name}: {:?}", cfg.mounts);
    }
    let written = std::fs::read_dir(dir.path().join("root/pods"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|d| d.path().join("etc-resolv.conf").exists());
    assert!(!written);
}
