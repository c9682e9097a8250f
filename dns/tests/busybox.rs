//! Interoperability with a real resolver: busybox's `nslookup` (its own DNS client, so it
//! works in the static busybox) asks the daemon for a Service created through the API.
//! The second test runs busybox in a Docker container whose /etc/resolv.conf names the
//! daemon (as the kubelet's --cluster-dns makes it) and records what `nslookup` and `wget`
//! resolve there. Skipped with a reason when busybox or Docker is missing (fails in CI).

use apiserver::testing::TestServer;
use client::{Api, Client};
use cluster_dns::{Config, start};
use proto::k8s::{ObjectMeta, Service, ServicePort, ServiceSpec};
use std::process::Command;
use std::time::Duration;

fn busybox() -> Option<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

async fn web_service(client: &Client) -> String {
    let svc = Service {
        metadata: Some(ObjectMeta {
            name: "web".into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        spec: Some(ServiceSpec {
            ports: vec![ServicePort {
                name: "http".into(),
                port: 80,
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let web = Api::<Service>::namespaced(client.clone(), "default")
        .create(&svc)
        .await
        .unwrap();
    web.spec.unwrap().cluster_ip
}

async fn output(mut cmd: Command) -> String {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits for the daemon's table to hold the Service (the informers sync in the
/// background).
async fn wait_synced(running: &cluster_dns::Running, name: &str) {
    let mut rx = running.table.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ready = rx.borrow().as_ref().is_some_and(|t| {
            matches!(
                t.lookup(name, cluster_dns::codec::TYPE_A),
                cluster_dns::table::Lookup::Answer(_)
            )
        });
        if ready {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never in the table"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), rx.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busybox_nslookup_gets_the_cluster_ip() {
    let test = "busybox_nslookup_gets_the_cluster_ip";
    let Some(bb) = busybox() else {
        testkit::unmet(test, "no busybox");
        return;
    };
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let ip = web_service(&client).await;
    let mut cfg = Config::new(&server.url);
    cfg.listen = Some("127.0.0.1:0".parse().unwrap());
    let running = start(cfg).await.unwrap();
    let name = "web.default.svc.cluster.local";
    wait_synced(&running, name).await;
    let dns = running.udp_addr.to_string();

    let mut cmd = Command::new(bb);
    cmd.args(["nslookup", name, &dns]);
    let out = output(cmd).await;
    eprintln!("busybox nslookup {name} {dns}:\n{out}");
    assert!(out.contains(&format!("Address: {ip}")), "{out}");

    let mut cmd = Command::new(bb);
    cmd.args(["nslookup", "nope.default.svc.cluster.local", &dns]);
    let out = output(cmd).await;
    assert!(out.contains("NXDOMAIN"), "{out}");

    running.stop().await.unwrap();
    server.stop().await;
}

/// Removes the test's container whatever happens.
struct ContainerGuard(String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

fn docker_bridge_ip() -> Option<std::net::Ipv4Addr> {
    // `docker network inspect` leaves the gateway out on some engines; the bridge device
    // holds it.
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "docker0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let cidr = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)?;
    cidr.split('/').next()?.parse().ok()
}

fn busybox_image() -> Option<&'static str> {
    ["local/busybox:1", "kubelet.local/pause:busybox"]
        .into_iter()
        .find(|i| {
            Command::new("docker")
                .args(["image", "inspect", i])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// A container with the resolv.conf the kubelet writes for a ClusterFirst pod in
/// `default`, naming the daemon on the Docker bridge's gateway port 53.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_resolves_through_the_pod_resolv_conf() {
    let test = "a_container_resolves_through_the_pod_resolv_conf";
    let Some(gw) = docker_bridge_ip() else {
        testkit::unmet(test, "no docker bridge network");
        return;
    };
    let Some(image) = busybox_image() else {
        testkit::unmet(
            test,
            "no busybox image (local/busybox:1 or kubelet.local/pause:busybox)",
        );
        return;
    };
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let ip = web_service(&client).await;
    let mut cfg = Config::new(&server.url);
    cfg.listen = Some((gw, 53).into());
    // The container asks from Docker's bridge network, neither a pod nor a node.
    cfg.allowed_client_cidrs = vec![format!("{gw}/16").parse().unwrap()];
    let running = match start(cfg).await {
        Ok(r) => r,
        Err(e) => {
            testkit::unmet(test, &format!("cannot serve on {gw}:53: {e}"));
            return;
        }
    };
    wait_synced(&running, "web.default.svc.cluster.local").await;
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("etc-resolv.conf");
    std::fs::write(
        &resolv,
        format!(
            "nameserver {gw}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        ),
    )
    .unwrap();
    let name = format!("cluster-dns-test-{}", std::process::id());
    let _guard = ContainerGuard(name.clone());
    let script = "nslookup web.default.svc.cluster.local; echo =====; \
        nslookup web; echo =====; \
        ping -c 1 -W 1 web.default.svc.cluster.local; echo =====; \
        ping -c 1 -W 1 web; echo =====; \
        wget -q -T 1 -O /dev/null http://web.default.svc.cluster.local/; echo wget-rc=$?; \
        wget -q -T 1 -O /dev/null http://127.0.0.1:1/; echo wget-ip-rc=$?";
    let mut cmd = Command::new("docker");
    cmd.args([
        "run",
        "--rm",
        "--name",
        &name,
        "-v",
        &format!("{}:/etc/resolv.conf:ro", resolv.display()),
        "--entrypoint",
        "/bin/busybox",
        image,
        "sh",
        "-c",
        script,
    ]);
    let out = output(cmd).await;
    eprintln!("in a container ({image}) with nameserver {gw}:\n{out}");
    let parts: Vec<&str> = out.split("=====").collect();
    assert!(
        parts[0].contains(&format!("Address: {ip}")),
        "nslookup of the full name: {out}"
    );
    // The short name through the search list.
    assert!(
        parts[1].contains(&format!("Address: {ip}")),
        "nslookup web: {out}"
    );
    // glibc's resolver in the static busybox (ping) resolves both too, through ndots:5 and
    // the search list. (busybox wget in this build crashes even on an IP literal, so it
    // cannot tell anything about DNS; see docs/dns.md.)
    assert!(
        parts[2].contains(&format!("PING web.default.svc.cluster.local ({ip})")),
        "ping full name: {out}"
    );
    assert!(
        parts[3].contains(&format!("PING web ({ip})")),
        "ping web: {out}"
    );
    running.stop().await.unwrap();
    server.stop().await;
}
