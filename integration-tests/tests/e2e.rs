//! End-to-end scenarios on a three-node cluster (`integration_tests::cluster`): every daemon
//! a separate process, nodes as network namespaces, pods in the host's Docker engine, and
//! the user's side through `ctl`. One scenario runs at a time (a cluster per scenario is
//! what two cores can carry). Each prints its wall time.
//!
//! Needs root, Docker and busybox-static: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{
    Cluster, Daemon, Options, is_ready, pod_ip, prerequisites, restart_count, wait_for,
};
use integration_tests::text;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Prints a scenario's figures and appends them to `target/e2e-report.txt`, which
/// `scripts/test.sh` prints at the end (cargo hides a passing test's output).
fn report(line: String) {
    eprintln!("{line}");
    let path = integration_tests::target_dir().join("e2e-report.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes());
    }
}

/// One cluster at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WEB: &str = include_str!("../../examples/web.yaml");

/// A busybox pod that sleeps, pinned to a node: the client side of a scenario.
fn client_pod(name: &str, node: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - name: client
    image: local/busybox:1
    command: ["sleep", "3600"]
"#
    )
}

/// Runs `script` with `sh -c` in a pod through `ctl exec`; returns (success, stdout).
fn exec_sh(c: &Cluster, pod: &str, script: &str) -> (bool, String) {
    let out = c.ctl(&["exec", pod, "--", "sh", "-c", script], None);
    (out.status.success(), text(&out.stdout))
}

/// (busybox 1.35's `wget -T` segfaults when built static, hence `timeout`.)
/// Hostnames (pod names) answering `count` requests to `http://ip:port/` from `pod`.
fn answers(c: &Cluster, pod: &str, ip: &str, port: u16, count: usize) -> Vec<String> {
    let script = format!(
        "for i in $(seq {count}); do timeout 3 wget -q -O- http://{ip}:{port}/ || echo FAILED; done"
    );
    let (_, out) = exec_sh(c, pod, &script);
    out.lines().map(|l| l.trim().to_string()).collect()
}

const WEB_LB: &str = "
apiVersion: v1
kind: Service
metadata:
  name: web-lb
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - port: 80
    targetPort: http
";

/// A LoadBalancer Service over the web pods: the service-lb-controller gives it every
/// node's address, and kube-proxy answers on each of them at the Service's port, for a
/// pod (node 0, iptables) and for the node itself (node 1, nftables, OUTPUT).
async fn load_balancer(c: &Cluster, backends: &BTreeSet<String>) {
    c.apply(WEB_LB);
    let mut node_ips: Vec<String> = c.nodes.iter().map(|n| n.ip.clone()).collect();
    node_ips.sort_by_key(|ip| ip.parse::<std::net::IpAddr>().ok());
    let services: client::Api<proto::k8s::Service> =
        client::Api::namespaced(c.client.clone(), "default");
    let ingress = wait_for(
        Duration::from_secs(30),
        "the LoadBalancer Service gets the nodes' addresses",
        async || {
            let svc = services.get("web-lb").await.ok()?;
            let ips: Vec<String> = svc
                .status?
                .load_balancer?
                .ingress
                .into_iter()
                .map(|i| i.ip)
                .collect();
            (ips == node_ips).then_some(ips)
        },
    )
    .await;
    for ip in &ingress {
        wait_for(
            Duration::from_secs(30),
            &format!("the LoadBalancer answering on {ip}:80 from a pod"),
            async || {
                let got = answers(c, "client", ip, 80, 3);
                got.iter().all(|l| backends.contains(l)).then_some(())
            },
        )
        .await;
    }
    let own = format!("http://{}/", c.nodes[1].ip);
    let out = c.node_exec(
        1,
        &[
            "busybox", "timeout", "3", "busybox", "wget", "-q", "-O-", &own,
        ],
    );
    assert!(
        out.status.success() && backends.contains(text(&out.stdout).trim()),
        "node 1 reaches the LoadBalancer at its own address: {} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn names(pods: &[proto::k8s::Pod]) -> BTreeSet<String> {
    pods.iter()
        .map(|p| {
            p.metadata
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// Seconds between two RFC 3339 timestamps (whole seconds, as the API stores them).
fn seconds_between(from: &str, to: &str) -> Option<i64> {
    let f = proto::time::parse_rfc3339(from)?;
    let t = proto::time::parse_rfc3339(to)?;
    Some(t.duration_since(f).map(|d| d.as_secs() as i64).unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_web_example_spreads_and_its_service_answers_from_every_backend() {
    if !prerequisites("s1_web") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("web", Options::default()).await;
    let up = started.elapsed();

    let t0 = Instant::now();
    let out = c.apply(WEB);
    assert!(out.contains("deployment.apps/web"), "{out}");
    let pods = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(120))
        .await;
    let all_ready = t0.elapsed();
    let nodes: BTreeSet<usize> = pods.iter().filter_map(|p| c.node_index(p)).collect();
    assert_eq!(nodes.len(), 3, "3 replicas on 3 different nodes: {nodes:?}");
    let mut startup = vec![];
    for p in &pods {
        let created = p
            .metadata
            .as_ref()
            .map(|m| m.creation_timestamp.clone())
            .unwrap_or_default();
        let ready_at = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.r#type == "Ready"))
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_default();
        startup.push(seconds_between(&created, &ready_at).unwrap_or(-1));
    }

    // A client on node 0: one backend is local (through its own node's bridge), two are
    // across the test bridge on other nodes.
    c.apply(&client_pod("client", &c.nodes[0].name));
    let client = wait_pod_ready(&c, "client").await;
    assert_eq!(c.node_index(&client), Some(0));
    let ip = c.cluster_ip("default", "web").await;
    assert!(!ip.is_empty(), "the Service has a ClusterIP");
    let expected = names(&pods);
    let seen = wait_for(
        Duration::from_secs(30),
        "the ClusterIP answering from all 3 backends",
        async || {
            let got = answers(&c, "client", &ip, 80, 30);
            let set: BTreeSet<String> = got.iter().filter(|l| *l != "FAILED").cloned().collect();
            (set == expected && !got.iter().any(|l| l == "FAILED")).then_some(got)
        },
    )
    .await;
    assert_eq!(seen.len(), 30);
    // Cluster DNS: the full name and the short one (search list) resolve to the ClusterIP,
    // and a request by name is answered.
    for name in ["web.default.svc.cluster.local", "web"] {
        // (busybox nslookup also tries the other search domains and exits 1 on their
        // NXDOMAIN: the answer is what counts.)
        let (_, out) = exec_sh(&c, "client", &format!("nslookup {name}"));
        assert!(
            out.contains(&format!("Address: {ip}")),
            "nslookup {name}: {out}"
        );
    }
    let (ok, out) = exec_sh(&c, "client", "timeout 3 wget -q -O- http://web/");
    assert!(
        ok && expected.contains(out.trim()),
        "wget http://web/: {out}"
    );
    // Service links: the client, made after the Service, has its address in env.
    let (_, env) = exec_sh(&c, "client", "echo $WEB_SERVICE_HOST:$WEB_SERVICE_PORT");
    assert_eq!(env.trim(), format!("{ip}:80"));
    // The same from a pod on node 1, whose kube-proxy programs nftables instead.
    assert!(c.opts.nftables_nodes.contains(&1));
    let table = |i: usize| c.node_exec(i, &["nft", "list", "table", "ip", "kube-proxy"]);
    assert!(table(1).status.success(), "node 1 has the nftables table");
    assert!(
        !table(0).status.success(),
        "node 0 (iptables mode) has none"
    );
    ready_client(&c, "client1", 1).await;
    wait_for(
        Duration::from_secs(30),
        "the ClusterIP answering from all 3 backends on the nftables node",
        async || {
            let got = answers(&c, "client1", &ip, 80, 30);
            let set: BTreeSet<String> = got.iter().cloned().collect();
            (set == expected).then_some(())
        },
    )
    .await;
    // And from a process on a node itself (OUTPUT DNAT), node 2.
    let url = format!("http://{ip}/");
    let out = c.node_exec(
        2,
        &[
            "busybox", "timeout", "3", "busybox", "wget", "-q", "-O-", &url,
        ],
    );
    assert!(
        out.status.success(),
        "node 2 reaches the ClusterIP: {}",
        text(&out.stderr)
    );
    assert!(
        expected.contains(text(&out.stdout).trim()),
        "{}",
        text(&out.stdout)
    );
    load_balancer(&c, &expected).await;
    secure_identities(&c);

    report(format!(
        "scenario 1: cluster up in {:.1}s; apply to 3 ready pods {:.1}s; per-pod creation to Ready {:?} s (API timestamps, whole seconds); total {:.1}s",
        up.as_secs_f64(),
        all_ready.as_secs_f64(),
        startup,
        started.elapsed().as_secs_f64()
    ));
}

/// The cluster runs secure: every node joined by the bootstrap flow and runs on its own
/// client certificate (CN `system:node:<name>`, O `system:nodes`) from a CSR the
/// controller-manager approved and signed; `ctl` is the admin of `admin.kubeconfig`.
fn secure_identities(c: &Cluster) {
    for (i, n) in c.nodes.iter().enumerate() {
        let path = c.kubelet_root(i).join("pki/kubelet-client-current.pem");
        let pem =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let certs = pki::inspect::parse_pem(&pem).expect("the kubelet's client certificate");
        assert_eq!(certs[0].common_name, format!("system:node:{}", n.name));
        assert_eq!(certs[0].organizations, ["system:nodes"]);
    }
    let token_id = c.join_token.split('.').next().unwrap_or_default();
    let csrs = c.ctl_ok(&["get", "csr"]);
    let joined = csrs
        .lines()
        .filter(|l| {
            l.contains(&format!("system:bootstrap:{token_id}")) && l.contains("Approved,Issued")
        })
        .count();
    assert!(
        joined >= c.nodes.len(),
        "a CSR per node from the bootstrap token, approved and issued:\n{csrs}"
    );
    let me = c.ctl_ok(&["auth", "whoami"]);
    assert!(me.contains("kubernetes-admin"), "{me}");
}

fn pod_name(p: &proto::k8s::Pod) -> String {
    p.metadata
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default()
}

/// Starts the web example and waits for its 3 ready pods.
async fn web(c: &Cluster) -> Vec<proto::k8s::Pod> {
    c.apply(WEB);
    c.wait_ready_pods("default", "app=web", 3, Duration::from_secs(120))
        .await
}

/// Waits until pod `name` (default namespace) is Running and Ready; returns it.
async fn wait_pod_ready(c: &Cluster, name: &str) -> proto::k8s::Pod {
    let what = format!("pod {name} ready");
    wait_for(Duration::from_secs(60), &what, async || {
        let p = c.pods_api("default").get_opt(name).await.ok().flatten()?;
        is_ready(&p).then_some(p)
    })
    .await
}

async fn ready_client(c: &Cluster, name: &str, node: usize) {
    c.apply(&client_pod(name, &c.nodes[node].name));
    wait_pod_ready(c, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_self_healing_container_kill_pod_delete_and_liveness() {
    if !prerequisites("s2_self_healing") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("heal", Options::default()).await;
    let pods = web(&c).await;

    // A container killed behind the kubelet's back is restarted in the same pod.
    let victim = pod_name(&pods[0]);
    let before = c.container_ids(&victim, "web");
    assert_eq!(before.len(), 1, "one running web container of {victim}");
    let out = integration_tests::cluster::docker(&["kill", &before[0]]);
    assert!(out.status.success(), "docker kill: {}", text(&out.stderr));
    let t = Instant::now();
    let p = wait_for(
        Duration::from_secs(60),
        "the killed container restarted and ready",
        async || {
            let p = c.pods_api("default").get(&victim).await.ok()?;
            (restart_count(&p, "web") == 1 && is_ready(&p)).then_some(p)
        },
    )
    .await;
    let after = c.container_ids(&victim, "web");
    assert_eq!(after.len(), 1);
    assert_ne!(after, before, "a new container");
    assert_eq!(pod_name(&p), victim, "the same pod");
    let restart_took = t.elapsed();

    // A deleted pod is replaced by the ReplicaSet.
    let gone = pod_name(&pods[1]);
    // `ctl delete` waits until the pod is gone (as kubectl): time it with the replacement.
    let t = Instant::now();
    c.ctl_ok(&["delete", "pod", &gone]);
    let now = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(90))
        .await;
    assert!(
        !names(&now).contains(&gone),
        "{gone} replaced: {:?}",
        names(&now)
    );
    let replace_took = t.elapsed();

    // A failing liveness probe restarts the container.
    c.apply(&format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: live
spec:
  nodeName: {}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: local/busybox:1
    command: ["sh", "-c", "touch /tmp/healthy; exec sleep 3600"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 1
      failureThreshold: 2
"#,
        c.nodes[2].name
    ));
    wait_pod_ready(&c, "live").await;
    c.ctl_ok(&["exec", "live", "--", "rm", "/tmp/healthy"]);
    let t = Instant::now();
    wait_for(
        Duration::from_secs(60),
        "live restarted by its liveness probe",
        async || {
            let p = c.pods_api("default").get_opt("live").await.ok().flatten()?;
            (restart_count(&p, "app") >= 1 && is_ready(&p)).then_some(())
        },
    )
    .await;
    let liveness_took = t.elapsed();
    let described = c.ctl_ok(&["describe", "pod", "live"]);
    assert!(
        described.contains("Liveness probe failed"),
        "the Unhealthy event names the probe:\n{described}"
    );
    report(format!(
        "scenario 2: killed container back in {:.1}s; deleted pod replaced in {:.1}s; liveness restart in {:.1}s; total {:.1}s",
        restart_took.as_secs_f64(),
        replace_took.as_secs_f64(),
        liveness_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_node_failure_moves_its_pods_and_the_service_keeps_answering() {
    if !prerequisites("s3_node_failure") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let opts = Options {
        node_monitor_grace: "6s".into(),
        node_lease_secs: 2,
        default_toleration_secs: 2,
        ..Options::default()
    };
    let c = Cluster::start("nodefail", opts).await;
    let pods = web(&c).await;
    ready_client(&c, "client", 0).await;
    let lost = 2;
    let lost_name = c.nodes[lost].name.clone();
    let on_lost: Vec<String> = pods
        .iter()
        .filter(|p| c.node_index(p) == Some(lost))
        .map(pod_name)
        .collect();
    assert_eq!(on_lost.len(), 1, "one web pod on node {lost}");

    c.partition(lost);
    let t = Instant::now();

    let moved = c
        .wait_serving_pods("default", "app=web", 3, Duration::from_secs(90), |p| {
            c.node_index(p) != Some(lost)
        })
        .await;
    let recovered = t.elapsed();
    let nodes: Client = c.client.clone();
    let node: proto::k8s::Node = client::Api::all(nodes).get(&lost_name).await.expect("node");
    let taints: Vec<String> = node
        .spec
        .as_ref()
        .map(|s| {
            s.taints
                .iter()
                .map(|t| format!("{}:{}", t.key, t.effect))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        taints.contains(&"node.kubernetes.io/unreachable:NoExecute".to_string()),
        "{taints:?}"
    );
    let mut want: Vec<String> = moved.iter().map(pod_ip).collect();
    want.sort();
    let ip = c.cluster_ip("default", "web").await;
    wait_for(
        Duration::from_secs(30),
        "endpoints = the 3 pods off the lost node",
        async || (c.endpoint_ips("default", "web").await == want).then_some(()),
    )
    .await;
    let expected = names(&moved);
    wait_for(
        Duration::from_secs(30),
        "the Service answering from the 3 moved pods only",
        async || {
            let got = answers(&c, "client", &ip, 80, 30);
            let set: BTreeSet<String> = got.iter().cloned().collect();
            (set == expected).then_some(())
        },
    )
    .await;

    // Healed, the node comes back, and its kubelet removes the pods evicted meanwhile.
    c.heal(lost);
    c.wait_nodes_ready(Duration::from_secs(60)).await;
    wait_for(
        Duration::from_secs(60),
        "the evicted pod gone once its node is back",
        async || {
            let p = c.pods_api("default").get_opt(&on_lost[0]).await.ok()?;
            p.is_none().then_some(())
        },
    )
    .await;
    assert!(c.container_ids(&on_lost[0], "web").is_empty());
    report(format!(
        "scenario 3: pods of the partitioned node running elsewhere {:.1}s after the partition (grace 6s + toleration 2s); total {:.1}s",
        recovered.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

type Client = client::Client;

/// A pod calling `http://ip/` in a loop, one `ok` or `FAIL` line per request.
fn loop_client(name: &str, node: &str, ip: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - name: client
    image: local/busybox:1
    command: ["sh", "-c", "while true; do if timeout 3 wget -q -O- http://{ip}/ >/dev/null; then echo ok; else echo FAIL; fi; sleep 0.05; done"]
"#
    )
}

/// (ok, failed) request counts in the loop client's log.
fn tally(c: &Cluster, pod: &str) -> (usize, usize) {
    // Before the container started there is no log yet: nothing counted.
    let log = text(&c.ctl(&["logs", pod], None).stdout);
    let ok = log.lines().filter(|l| l.trim() == "ok").count();
    let failed = log.lines().filter(|l| l.trim() == "FAIL").count();
    (ok, failed)
}

async fn wait_more_ok(c: &Cluster, pod: &str, beyond: usize) {
    wait_for(
        Duration::from_secs(30),
        "the client's requests flowing",
        async || (tally(c, pod).0 > beyond).then_some(()),
    )
    .await;
}

async fn template_image(c: &Cluster) -> String {
    let deps: client::Api<proto::k8s::Deployment> =
        client::Api::namespaced(c.client.clone(), "default");
    let d = deps.get("web").await.expect("deployment");
    d.spec
        .and_then(|s| s.template)
        .and_then(|t| t.spec)
        .and_then(|s| s.containers.first().map(|c| c.image.clone()))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_rolling_update_and_undo_lose_no_request() {
    if !prerequisites("s4_rolling_update") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let mut c = Cluster::start("rollout", Options::default()).await;
    let v2 = c.tag_image("busybox");
    let old = web(&c).await;
    let ip = c.cluster_ip("default", "web").await;
    // The caller's node runs kube-proxy in nftables mode: endpoint churn as map updates.
    c.apply(&loop_client("caller", &c.nodes[1].name, &ip));
    wait_more_ok(&c, "caller", 20).await;

    let t = Instant::now();
    let out = c.ctl_ok(&["set", "image", "deployment/web", &format!("web={v2}")]);
    assert!(out.contains("deployment.apps/web image updated"), "{out}");
    let out = c.ctl(
        &["rollout", "status", "deployment/web", "--timeout", "120s"],
        None,
    );
    assert!(
        out.status.success(),
        "rollout status: {}",
        text(&out.stderr)
    );
    let new = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(60))
        .await;
    assert!(names(&new).is_disjoint(&names(&old)), "every pod replaced");
    assert_eq!(template_image(&c).await, v2);
    let update_took = t.elapsed();
    let (ok1, failed1) = tally(&c, "caller");
    wait_more_ok(&c, "caller", ok1 + 10).await;

    let t = Instant::now();
    c.ctl_ok(&["rollout", "undo", "deployment/web"]);
    let out = c.ctl(
        &["rollout", "status", "deployment/web", "--timeout", "120s"],
        None,
    );
    assert!(
        out.status.success(),
        "rollout status: {}",
        text(&out.stderr)
    );
    let back = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(60))
        .await;
    assert!(names(&back).is_disjoint(&names(&new)));
    assert_eq!(template_image(&c).await, "local/busybox:1");
    let undo_took = t.elapsed();
    let (ok2, _) = tally(&c, "caller");
    wait_more_ok(&c, "caller", ok2 + 10).await;
    let (ok, failed) = tally(&c, "caller");
    report(format!(
        "scenario 4: update {:.1}s, undo {:.1}s; requests {ok} ok, {failed} failed (update: {failed1} failed); total {:.1}s",
        update_took.as_secs_f64(),
        undo_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(failed, 0, "no request fails during the update and the undo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_scale_up_and_down_with_endpoints_following() {
    if !prerequisites("s5_scale") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("scale", Options::default()).await;
    web(&c).await;
    for n in [10usize, 2] {
        let t = Instant::now();
        let out = c.ctl_ok(&["scale", "deployment", "web", "--replicas", &n.to_string()]);
        assert!(out.contains("scaled"), "{out}");
        let pods = c
            .wait_ready_pods("default", "app=web", n, Duration::from_secs(120))
            .await;
        let mut want: Vec<String> = pods.iter().map(pod_ip).collect();
        want.sort();
        assert_eq!(want.len(), n);
        wait_for(
            Duration::from_secs(30),
            "endpoints = the ready pods' IPs",
            async || (c.endpoint_ips("default", "web").await == want).then_some(()),
        )
        .await;
        let listed = c.ctl_ok(&["get", "deployment", "web"]);
        assert!(listed.contains(&format!("{n}/{n}")), "{listed}");
        report(format!(
            "scenario 5: scaled to {n} in {:.1}s",
            t.elapsed().as_secs_f64()
        ));
    }
    report(format!(
        "scenario 5: total {:.1}s",
        started.elapsed().as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_config_and_secrets_as_env_and_files_and_updates_reach_files() {
    if !prerequisites("s6_config") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("config", Options::default()).await;
    c.apply(include_str!("../../examples/config.yaml"));
    wait_for(
        Duration::from_secs(60),
        "config-demo Succeeded",
        async || {
            let p = c.pods_api("default").get_opt("config-demo").await.ok()??;
            (p.status?.phase == "Succeeded").then_some(())
        },
    )
    .await;
    let log = c.ctl_ok(&["logs", "config-demo"]);
    assert!(
        log.contains("LOG_LEVEL=info") && log.contains("PASSWORD=s3cr3t"),
        "env from ConfigMap and Secret: {log}"
    );
    assert!(
        log.contains("password file: s3cr3t"),
        "Secret as a file: {log}"
    );
    assert!(
        log.contains("greeting=hello"),
        "file from the ConfigMap: {log}"
    );

    c.apply(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: local/busybox:1
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: secret, mountPath: /etc/secret, readOnly: true}
  volumes:
  - name: config
    configMap: {name: app-config}
  - name: secret
    secret: {secretName: app-secret}
"#,
    );
    wait_pod_ready(&c, "reader").await;
    let read = |path: &str| exec_sh(&c, "reader", &format!("cat {path}")).1;
    assert_eq!(read("/etc/secret/password"), "s3cr3t");
    assert!(read("/etc/app/app.properties").contains("color=blue"));

    let t = Instant::now();
    let updated = include_str!("../../examples/config.yaml").replace("color=blue", "color=green");
    c.apply(&updated);
    wait_for(
        Duration::from_secs(90),
        "the mounted file updated in the running pod",
        async || {
            read("/etc/app/app.properties")
                .contains("color=green")
                .then_some(())
        },
    )
    .await;
    report(format!(
        "scenario 6: ConfigMap update reached the mounted file in {:.1}s; total {:.1}s",
        t.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

/// (kind, namespace/name, `field` of its metadata) for every object of `kinds`.
async fn snapshot(
    c: &Cluster,
    kinds: &[&str],
    field: fn(&proto::k8s::ObjectMeta) -> String,
) -> BTreeSet<(String, String, String)> {
    let mut all = BTreeSet::new();
    for kind in kinds {
        let list = c
            .client
            .list(proto::k8s::ListRequest {
                resource: kind.to_string(),
                ..Default::default()
            })
            .await;
        for o in list.expect("list").items {
            let m = o.meta();
            all.insert((
                kind.to_string(),
                format!("{}/{}", m.namespace, m.name),
                field(m),
            ));
        }
    }
    all
}

/// Kind, namespace, name and uid of every object of the kinds a user made here.
async fn inventory(c: &Cluster) -> BTreeSet<(String, String, String)> {
    let kinds = [
        "deployments",
        "replicasets",
        "pods",
        "services",
        "configmaps",
        "namespaces",
    ];
    snapshot(c, &kinds, |m| m.uid.clone()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_control_plane_sigkill_and_restart_loses_nothing_and_restarts_no_pod() {
    if !prerequisites("s7_control_plane") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let mut c = Cluster::start("cprestart", Options::default()).await;
    let pods = web(&c).await;
    c.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\ndata: {k: v}\n");
    let containers: Vec<Vec<String>> = pods
        .iter()
        .map(|p| c.container_ids(&pod_name(p), "web"))
        .collect();
    let before = inventory(&c).await;

    // Mid-scenario: a scale is accepted, then the whole control plane dies at once.
    c.ctl_ok(&["scale", "deployment", "web", "--replicas", "5"]);
    c.kill(Daemon::Apiserver);
    c.kill(Daemon::ControllerManager);
    c.kill(Daemon::Scheduler);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = Instant::now();
    c.restart_apiserver().await;
    c.start_daemon(Daemon::ControllerManager);
    c.start_daemon(Daemon::Scheduler);
    let now = c
        .wait_ready_pods("default", "app=web", 5, Duration::from_secs(120))
        .await;
    let converged = t.elapsed();
    for (p, ids) in pods.iter().zip(&containers) {
        let name = pod_name(p);
        let cur = now
            .iter()
            .find(|q| pod_name(q) == name)
            .unwrap_or_else(|| panic!("{name} still there"));
        assert_eq!(restart_count(cur, "web"), 0, "{name} not restarted");
        assert_eq!(
            &c.container_ids(&name, "web"),
            ids,
            "{name}: same container"
        );
    }
    let after = inventory(&c).await;
    let lost: Vec<_> = before.difference(&after).collect();
    assert!(lost.is_empty(), "objects lost or replaced: {lost:?}");
    c.wait_nodes_ready(Duration::from_secs(30)).await;
    report(format!(
        "scenario 7: control plane back and 5 replicas ready {:.1}s after restart; total {:.1}s",
        converged.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

/// A failing `ctl`: non-zero exit and one line on stderr containing `cause`.
fn fails_with(c: &Cluster, args: &[&str], stdin: Option<&str>, cause: &str) -> String {
    let out = c.ctl(args, stdin);
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "ctl {args:?} must fail; stdout: {}",
        text(&out.stdout)
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.to_lowercase().contains(&cause.to_lowercase()),
        "ctl {args:?}: {err:?} should name {cause:?}"
    );
    err
}

/// Every object with its resourceVersion, to show nothing changed.
async fn versions(c: &Cluster) -> BTreeSet<(String, String, String)> {
    let kinds = ["deployments", "pods", "services", "configmaps", "secrets"];
    snapshot(c, &kinds, |m| m.resource_version.clone()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_bad_input_through_ctl_fails_in_one_line_and_changes_nothing() {
    if !prerequisites("s8_bad_input") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("badinput", Options::default()).await;
    web(&c).await;
    c.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v1}\n");
    let stale = c.ctl_ok(&["get", "configmap", "cfg", "-o", "yaml"]);
    assert!(stale.contains("resourceVersion"), "{stale}");
    // Someone else changes it: the copy in hand is now stale.
    c.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v2}\n");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = versions(&c).await;

    fails_with(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"),
        "yaml",
    );
    fails_with(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n"),
        "Frobnicator",
    );
    fails_with(
        &c,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\ndata: {k: v}\n"),
        "Bad_Name",
    );
    fails_with(
        &c,
        &["replace", "-f", "-"],
        Some(&stale.replace("k: v1", "k: v3")),
        "conflict",
    );
    fails_with(
        &c,
        &["scale", "deployment", "web", "--replicas=-4"],
        None,
        "replicas",
    );
    let out = crate_ctl_unreachable();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("127.0.0.1:1"), "names the server: {err}");

    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = versions(&c).await;
    assert_eq!(before, after, "nothing changed in the cluster");
    let cm = c.ctl_ok(&["get", "configmap", "cfg", "-o", "yaml"]);
    assert!(cm.contains("v2") && !cm.contains("v3"), "{cm}");
    report(format!(
        "scenario 8: total {:.1}s",
        started.elapsed().as_secs_f64()
    ));
}

fn crate_ctl_unreachable() -> std::process::Output {
    integration_tests::ctl("http://127.0.0.1:1", &["get", "pods"], None)
}

/// A Deployment whose pods burn (or not) their CPU limit, with 100m requested.
fn burner(busy: bool) -> String {
    let cmd = if busy {
        "trap 'exit 0' TERM; while :; do :; done"
    } else {
        "trap 'exit 0' TERM; while :; do sleep 1; done"
    };
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: burn
spec:
  # No replicas: the HPA owns the count (applying a count would reset it, as in Kubernetes).
  selector:
    matchLabels: {{app: burn}}
  template:
    metadata:
      labels: {{app: burn}}
    spec:
      containers:
      - name: burn
        image: local/busybox:1
        command: ["sh", "-c", "{cmd}"]
        resources:
          requests: {{cpu: 100m}}
          limits: {{cpu: 200m}}
"#
    )
}

const HPA: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: burn
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 5
"#;

async fn deployment_replicas(c: &Cluster, name: &str) -> i32 {
    let deps: client::Api<proto::k8s::Deployment> =
        client::Api::namespaced(c.client.clone(), "default");
    deps.get(name)
        .await
        .ok()
        .and_then(|d| d.spec.and_then(|s| s.replicas))
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_cpu_load_scales_a_deployment_out_and_back_in() {
    if !prerequisites("s9_autoscale") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("hpa", Options::default()).await;
    c.apply(&burner(true));
    c.apply(HPA);
    // 1 pod at its 200m limit = 200% of its 100m request, target 50%: ceil(1 * 200/50) = 4,
    // held to maxReplicas 3. The HPA reads CPU from metrics.k8s.io, which the apiserver
    // fills by scraping the kubelets (every 3s here; a rate needs two scrapes).
    let t = Instant::now();
    wait_for(
        Duration::from_secs(120),
        "the HPA scaling burn to 3",
        async || (deployment_replicas(&c, "burn").await == 3).then_some(()),
    )
    .await;
    let up = t.elapsed();
    c.wait_serving_pods("default", "app=burn", 3, Duration::from_secs(60), |_| true)
        .await;
    let described = c.ctl_ok(&["describe", "hpa", "burn"]);
    assert!(described.contains("SuccessfulRescale"), "{described}");
    let listed = c.ctl_ok(&["get", "hpa", "burn"]);
    assert!(listed.contains("burn"), "{listed}");

    // The load goes away: after the 5 s scale-down window, back to minReplicas.
    let t = Instant::now();
    c.apply(&burner(false));
    assert_eq!(
        deployment_replicas(&c, "burn").await,
        3,
        "apply keeps the HPA's count"
    );
    wait_for(
        Duration::from_secs(120),
        "the HPA scaling burn back to 1",
        async || (deployment_replicas(&c, "burn").await == 1).then_some(()),
    )
    .await;
    let down = t.elapsed();
    report(format!(
        "scenario 9: scaled 1 -> 3 on CPU in {:.1}s; back to 1 in {:.1}s after the load stopped; total {:.1}s",
        up.as_secs_f64(),
        down.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

const BATCH: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: count
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: count
        image: local/busybox:1
        command: ["sh", "-c", "echo done on $(hostname)"]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: local/busybox:1
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: tick
            image: local/busybox:1
            command: ["date"]
"#;

fn job_status(j: &proto::k8s::Job) -> (i32, bool) {
    let st = j.status.clone().unwrap_or_default();
    let complete = st
        .conditions
        .iter()
        .any(|c| c.r#type == "Complete" && c.status == "True");
    (st.succeeded, complete)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_job_cronjob_and_daemonset_run_on_real_nodes() {
    if !prerequisites("s10_batch") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("batch", Options::default()).await;
    c.apply(BATCH);
    let jobs: client::Api<proto::k8s::Job> = client::Api::namespaced(c.client.clone(), "default");

    // The Job: 3 completions, 2 at a time, then Complete.
    let t = Instant::now();
    wait_for(
        Duration::from_secs(90),
        "Job count Complete with 3 succeeded",
        async || {
            let j = jobs.get_opt("count").await.ok()??;
            (job_status(&j) == (3, true)).then_some(())
        },
    )
    .await;
    let job_took = t.elapsed();
    let pods = c.pods("default", "job-name=count").await;
    let succeeded = pods
        .iter()
        .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Succeeded"))
        .count();
    assert_eq!(succeeded, 3, "exactly 3 pods ran to success");
    let listed = c.ctl_ok(&["get", "jobs"]);
    assert!(listed.contains("3/3"), "{listed}");
    let log = c.ctl_ok(&["logs", &pod_name(&pods[0])]);
    assert!(log.contains("done on"), "{log}");

    // The DaemonSet: one pod on each node.
    let agents = c
        .wait_serving_pods("default", "app=agent", 3, Duration::from_secs(60), |_| true)
        .await;
    let nodes: BTreeSet<usize> = agents.iter().filter_map(|p| c.node_index(p)).collect();
    assert_eq!(nodes.len(), 3, "one agent per node: {nodes:?}");

    // The CronJob: a Job at the next minute, run to completion.
    let t = Instant::now();
    let name = wait_for(
        Duration::from_secs(150),
        "a Job made by the CronJob, Complete",
        async || {
            let list = jobs.list(&client::ListParams::default()).await.ok()?;
            list.items
                .iter()
                .find(|j| {
                    let n = j
                        .metadata
                        .as_ref()
                        .map(|m| m.name.clone())
                        .unwrap_or_default();
                    n.starts_with("tick-") && job_status(j).1
                })
                .and_then(|j| j.metadata.as_ref().map(|m| m.name.clone()))
        },
    )
    .await;
    let cron_took = t.elapsed();
    let described = c.ctl_ok(&["get", "cronjob", "tick"]);
    assert!(described.contains("tick"), "{described}");
    report(format!(
        "scenario 10: Job of 3 completions done in {:.1}s; DaemonSet on 3 nodes; CronJob's first Job {name} complete {:.1}s later (schedule every minute); total {:.1}s",
        job_took.as_secs_f64(),
        cron_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

fn stateful(dir: &std::path::Path) -> String {
    let mut yaml = String::new();
    for i in 0..3 {
        yaml.push_str(&format!(
            r#"apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-{i}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath:
    path: {}/pv-{i}
    type: DirectoryOrCreate
---
"#,
            dir.display()
        ));
    }
    yaml.push_str(
        r#"apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: http, port: 8080}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: local/busybox:1
        command: ["sh", "-c", "hostname >> /data/boots; httpd -f -p 8080 -h /data & trap 'exit 0' TERM; wait"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: manual
      resources:
        requests: {storage: 1Gi}
"#,
    );
    yaml
}

fn creation(p: &proto::k8s::Pod) -> String {
    p.metadata
        .as_ref()
        .map(|m| m.creation_timestamp.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s11_statefulset_ordered_pods_with_their_own_volumes_and_names() {
    if !prerequisites("s11_statefulset") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let c = Cluster::start("sts", Options::default()).await;
    c.apply(&stateful(c.dir()));
    let t = Instant::now();
    let pods = c
        .wait_ready_pods("default", "app=db", 3, Duration::from_secs(120))
        .await;
    let up = t.elapsed();
    let mut by_name: Vec<_> = pods.iter().map(|p| (pod_name(p), creation(p))).collect();
    by_name.sort();
    assert_eq!(
        by_name.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["db-0", "db-1", "db-2"]
    );
    // OrderedReady: each made no earlier than the one before it.
    assert!(
        by_name[0].1 <= by_name[1].1 && by_name[1].1 <= by_name[2].1,
        "{by_name:?}"
    );
    let claims = c.ctl_ok(&["get", "pvc"]);
    for i in 0..3 {
        assert!(claims.contains(&format!("data-db-{i}")), "{claims}");
    }
    assert_eq!(claims.matches("Bound").count(), 3, "{claims}");

    // Stable network identity: db-1.db resolves to db-1's pod IP (headless Service).
    ready_client(&c, "client", 0).await;
    let db1 = pods.iter().find(|p| pod_name(p) == "db-1").expect("db-1");
    let ip1 = pod_ip(db1);
    wait_for(
        Duration::from_secs(30),
        "db-1.db resolving to its pod",
        async || {
            let (_, out) = exec_sh(&c, "client", "nslookup db-1.db.default.svc.cluster.local");
            out.contains(&format!("Address: {ip1}")).then_some(())
        },
    )
    .await;

    // A deleted member comes back under its name, with its own volume and what it wrote.
    c.ctl_ok(&["delete", "pod", "db-1"]);
    let back = c
        .wait_ready_pods("default", "app=db", 3, Duration::from_secs(90))
        .await;
    let new1 = back
        .iter()
        .find(|p| pod_name(p) == "db-1")
        .expect("db-1 back");
    assert_ne!(
        new1.metadata.as_ref().map(|m| m.uid.clone()),
        db1.metadata.as_ref().map(|m| m.uid.clone()),
        "a new pod"
    );
    let (_, boots) = exec_sh(&c, "db-1", "cat /data/boots");
    assert_eq!(boots.lines().filter(|l| *l == "db-1").count(), 2, "{boots}");
    report(format!(
        "scenario 11: 3 ordered members ready in {:.1}s; total {:.1}s",
        up.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}
