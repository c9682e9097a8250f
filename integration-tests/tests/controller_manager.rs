//! Two controller-manager processes (the real binary) against one apiserver process: only
//! the holder of the kube-system/kube-controller-manager Lease acts; when it is killed
//! (SIGKILL, so it cannot release the lease) the other takes over within the lease
//! duration; SIGTERM releases the lease and exits 0.
//!
//! Needs `cargo build -p apiserver -p controller-manager -p ctl --bins` first.

use client::Api;
use integration_tests::{Process, binary, free_addr, spawn_apiserver, wait_ready};
use proto::Resource;
use proto::k8s::{Lease, Pod, ReplicaSet};
use std::process::Command;
use std::time::{Duration, Instant};

const LEASE: Duration = Duration::from_secs(3);

fn spawn_cm(server: &str, identity: &str, dir: &std::path::Path) -> Process {
    Process::spawn(
        identity,
        Command::new(binary("controller-manager"))
            .args(["--server", server])
            .args(["--controllers", "replicaset"])
            .args(["--leader-elect-identity", identity])
            .args(["--leader-elect-lease-duration", "3s"])
            .args(["--leader-elect-renew-deadline", "2s"])
            .args(["--leader-elect-retry-period", "500ms"])
            // Several replicas (and other tests) on one host: never the default 10257.
            .args(["--metrics-bind-address", "127.0.0.1:0"])
            .env("RUST_LOG", "info"),
        dir.join(format!("{identity}.log")),
    )
}

async fn holder(api: &Api<Lease>) -> Option<String> {
    let lease = api.get_opt("kube-controller-manager").await.ok()??;
    lease
        .spec
        .map(|s| s.holder_identity)
        .filter(|h| !h.is_empty())
}

async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pods(client: &client::Client) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), "default")
        .list(&client::ListParams::labels("app=leader-test"))
        .await
        .unwrap()
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_acts_and_a_standby_takes_over_within_the_lease() {
    let dir = tempfile::Builder::new()
        .prefix("cm-leader-")
        .tempdir()
        .unwrap();
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut apiserver = spawn_apiserver(
        &dir.path().join("data"),
        addr,
        dir.path().join("apiserver.log"),
    );
    let client = wait_ready(&url, &mut apiserver, Duration::from_secs(30)).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");

    let mut a = spawn_cm(&url, "cm-a", dir.path());
    let mut b = spawn_cm(&url, "cm-b", dir.path());
    let leader = wait_until("a leader", Duration::from_secs(20), || holder(&leases)).await;
    assert!(leader == "cm-a" || leader == "cm-b", "{leader}");
    // Both ran long enough to campaign; the lease has one holder.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(holder(&leases).await.as_deref(), Some(leader.as_str()));
    let (leader_proc, standby_proc, standby) = if leader == "cm-a" {
        (&mut a, &mut b, "cm-b")
    } else {
        (&mut b, &mut a, "cm-a")
    };

    // The leader acts: a ReplicaSet gets its pods (no kubelet: they stay Pending).
    let rs_yaml = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: leader-test, namespace: default}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: leader-test}}\n  template:\n    metadata: {labels: {app: leader-test}}\n    spec: {containers: [{name: c, image: busybox}]}\n";
    let rs =
        ReplicaSet::try_from_object(proto::manifest::load_documents(rs_yaml).unwrap().remove(0))
            .unwrap();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    rs_api.create(&rs).await.unwrap();
    wait_until("3 pods", Duration::from_secs(20), || async {
        (pods(&client).await.len() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(pods(&client).await.len(), 3, "exactly one replica acted");
    let standby_log = standby_proc.log_text();
    assert!(
        !standby_log.contains("starting controller"),
        "the standby must not start controllers:\n{standby_log}"
    );
    assert!(leader_proc.log_text().contains("starting controller"));

    // Kill the leader without a chance to release: the standby takes over within the lease.
    leader_proc.kill();
    let killed = Instant::now();
    wait_until("the standby to take the lease", LEASE * 3, || async {
        (holder(&leases).await.as_deref() == Some(standby)).then_some(())
    })
    .await;
    let takeover = killed.elapsed();
    assert!(
        takeover <= LEASE + Duration::from_secs(2),
        "takeover took {takeover:?}, lease is {LEASE:?}"
    );
    // And it acts: a deleted pod is replaced.
    let victim = pods(&client).await.remove(0);
    Api::<Pod>::namespaced(client.clone(), "default")
        .delete(&victim.meta().name, &Default::default())
        .await
        .unwrap();
    wait_until("a replacement pod", Duration::from_secs(20), || async {
        let p = pods(&client).await;
        (p.len() == 3 && p.iter().all(|p| p.meta().uid != victim.meta().uid)).then_some(())
    })
    .await;
    assert!(standby_proc.log_text().contains("starting controller"));

    // SIGTERM: exits cleanly and gives the lease up at once.
    assert!(
        standby_proc.terminate(Duration::from_secs(15)),
        "clean exit on SIGTERM:\n{}",
        standby_proc.log_text()
    );
    wait_until("the lease released", Duration::from_secs(5), || async {
        holder(&leases).await.is_none().then_some(())
    })
    .await;
    println!("takeover after SIGKILL of the leader: {takeover:?} (lease {LEASE:?})");
}

fn web(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: \"{image}\"}}]}}\n"
    )
}

/// `ctl` and the controller-manager binary together, as a user drives them (no kubelet:
/// pods stay Pending, so rollouts create ReplicaSets and pods but never finish).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_scale_rollout_history_and_undo_against_the_real_binaries() {
    use integration_tests::{ctl, text};
    let dir = tempfile::Builder::new()
        .prefix("cm-ctl-")
        .tempdir()
        .unwrap();
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut apiserver = spawn_apiserver(
        &dir.path().join("data"),
        addr,
        dir.path().join("apiserver.log"),
    );
    let client = wait_ready(&url, &mut apiserver, Duration::from_secs(30)).await;
    let _cm = Process::spawn(
        "controller-manager",
        Command::new(binary("controller-manager"))
            .args(["--server", &url, "--controllers", "replicaset,deployment"])
            .args(["--leader-elect=false"])
            .args(["--metrics-bind-address", "127.0.0.1:0"])
            .env("RUST_LOG", "info"),
        dir.path().join("cm.log"),
    );
    let run = |args: &[&str], stdin: Option<&str>| {
        let out = ctl(&url, args, stdin);
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let rs_sizes = || async {
        let mut v: Vec<(String, i32)> = rs_api
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| {
                let rev = r
                    .meta()
                    .annotations
                    .get("deployment.kubernetes.io/revision")
                    .cloned()
                    .unwrap_or_default();
                (rev, r.spec.and_then(|s| s.replicas).unwrap_or(0))
            })
            .collect();
        v.sort();
        v
    };

    let (ok, out, err) = run(&["apply", "-f", "-"], Some(&web("img:1")));
    assert!(ok, "{out}{err}");
    wait_until(
        "revision 1 with 2 pods",
        Duration::from_secs(20),
        || async {
            let pods = Api::<Pod>::namespaced(client.clone(), "default")
                .list(&client::ListParams::labels("app=web"))
                .await
                .ok()?
                .items;
            (rs_sizes().await == [("1".to_string(), 2)] && pods.len() == 2).then_some(())
        },
    )
    .await;
    let (ok, out, _) = run(&["scale", "deployment", "web", "--replicas", "4"], None);
    assert!(ok);
    assert_eq!(out, "deployment.apps/web scaled\n");
    wait_until(
        "the ReplicaSet follows the scale",
        Duration::from_secs(20),
        || async { (rs_sizes().await == [("1".to_string(), 4)]).then_some(()) },
    )
    .await;

    // A new template: revision 2 surges by 25% of 4 = 1; nothing is ready, so nothing
    // old may go (maxUnavailable 25% of 4 = 1, but none of the old pods is available either).
    let (ok, _, err) = run(
        &["apply", "-f", "-"],
        Some(&web("img:2").replace("replicas: 2", "replicas: 4")),
    );
    assert!(ok, "{err}");
    wait_until("revision 2 created", Duration::from_secs(20), || async {
        let s = rs_sizes().await;
        (s.len() == 2 && s[1].0 == "2").then_some(s)
    })
    .await;
    let (ok, out, _) = run(&["rollout", "history", "deployment/web"], None);
    assert!(ok);
    // kubectl's name printer writes "NAME OPERATION\n" with an empty operation: the
    // trailing space is kubectl's.
    assert_eq!(
        out,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
    let (ok, out, err) = run(
        &["rollout", "status", "deployment/web", "--timeout", "1s"],
        None,
    );
    assert!(!ok);
    // The first line may still be "Waiting for deployment spec update to be observed...".
    assert!(
        out.lines().any(
            |l| l.starts_with("Waiting for deployment \"web\" rollout to finish: ")
                || l == "Waiting for deployment spec update to be observed..."
        ),
        "{out}"
    );
    assert!(!out.contains("successfully rolled out"), "{out}");
    assert_eq!(err, "error: timed out waiting for the condition\n");

    let (ok, out, err) = run(&["rollout", "undo", "deployment/web"], None);
    assert!(ok, "{err}");
    assert_eq!(out, "deployment.apps/web rolled back\n");
    wait_until(
        "revision 1 became revision 3",
        Duration::from_secs(20),
        || async {
            let s = rs_sizes().await;
            (s.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>() == ["2", "3"]).then_some(())
        },
    )
    .await;
    let (ok, out, _) = run(&["rollout", "history", "deployment", "web"], None);
    assert!(ok);
    assert!(
        out.contains("\n2         <none>\n3         <none>\n"),
        "{out}"
    );
    let (ok, _, err) = run(
        &["rollout", "undo", "deployment/web", "--to-revision", "7"],
        None,
    );
    assert!(!ok);
    assert_eq!(
        err,
        "error: unable to find specified revision 7 in history\n"
    );
    let (ok, out, _) = run(&["rollout", "pause", "deployment/web"], None);
    assert!(ok);
    assert_eq!(out, "deployment.apps/web paused\n");
    let (ok, out, _) = run(&["rollout", "resume", "deployment/web"], None);
    assert!(ok);
    assert_eq!(out, "deployment.apps/web resumed\n");
}
