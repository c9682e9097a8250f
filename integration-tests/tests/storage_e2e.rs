//! Storage on demand end to end: the StatefulSet of Kubernetes' own example
//! (`application/web/web.yaml` of the website, from the shared corpus) on a two-node
//! cluster of real daemons with no hand-made PersistentVolume. Its claims get the default
//! class (DefaultStorageClass admission), the scheduler picks each pod's node
//! (WaitForFirstConsumer), the controller-manager's local-path provisioner makes a hostPath
//! volume there, the pods run Ready with them; a member deleted comes back with its data;
//! deleting the claims removes the directories (the kubelet of the volume's node reclaims
//! it) and the volumes.
//!
//! The example's nginx image is not reachable here: the container runs busybox's httpd
//! from `local/busybox:1` on the same port and document root. The test's own default class
//! puts the volumes under `/var/lib/kubelet-local-path/e2e-<run>` (beneath the kubelets'
//! default `--local-path-root`), removed at the end whatever happens.
//!
//! Needs root, Docker and busybox-static: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{Cluster, Options, is_ready, prerequisites, wait_for};
use integration_tests::text;
use proto::Resource;
use proto::k8s::{PersistentVolume, PersistentVolumeClaim, Pod};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WEB: &str = "k8s-website__application_web_web.yaml";
const LOCAL_PATH_ROOT: &str = "/var/lib/kubelet-local-path";

fn corpus_dir() -> PathBuf {
    match std::env::var_os("K8S_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/k8s-corpus"),
    }
}

/// The example with the local image: busybox's httpd serving the volume, ending at once on
/// SIGTERM (as nginx does; a bare httpd as PID 1 would wait out the grace period).
fn web_manifest() -> String {
    let path = corpus_dir().join(WEB);
    let yaml = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let image = "        image: registry.k8s.io/nginx-slim:0.8\n";
    assert!(yaml.contains(image), "the example's image line moved");
    yaml.replace(
        image,
        "        image: local/busybox:1\n        command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p 80 -h /usr/share/nginx/html & wait\"]\n",
    )
}

/// The run's default class: local-path, WaitForFirstConsumer, Delete, its volumes under a
/// directory named after the run.
fn class_manifest(name: &str, node_path: &str) -> String {
    format!(
        r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {name}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
parameters:
  nodePath: {node_path}
"#
    )
}

/// Removes the run's volume directory when the test ends, passed or not.
struct RunDir(PathBuf);

impl Drop for RunDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("removing {}: {e}", self.0.display());
        }
        // The kubelets' default root, made for this run's volumes: removed when empty.
        if let Some(root) = self.0.parent() {
            let _ = std::fs::remove_dir(root);
        }
    }
}

fn uid(p: &Pod) -> String {
    p.meta().uid.clone()
}

async fn ready_pod(c: &Cluster, name: &str, not_uid: &str) -> Pod {
    wait_for(
        Duration::from_secs(60),
        &format!("{name} Ready"),
        async || {
            let p = c.pods_api("default").get_opt(name).await.ok().flatten()?;
            (is_ready(&p) && uid(&p) != not_uid && p.meta().deletion_timestamp.is_empty())
                .then_some(p)
        },
    )
    .await
}

fn exec(c: &Cluster, pod: &str, script: &str) -> String {
    let out = c.ctl(&["exec", pod, "--", "sh", "-c", script], None);
    assert!(out.status.success(), "exec in {pod}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_statefulset_runs_on_provisioned_volumes_and_keeps_its_data() {
    if !prerequisites("storage_e2e") {
        return;
    }
    let started = Instant::now();
    let c = Cluster::start(
        "storage",
        Options {
            nodes: 2,
            ..Options::default()
        },
    )
    .await;
    let up = started.elapsed();
    let class = format!("e2e-{}", c.tag);
    let run_dir = RunDir(Path::new(LOCAL_PATH_ROOT).join(&class));
    let node_path = run_dir.0.to_string_lossy().into_owned();
    c.apply(&class_manifest(&class, &node_path));
    // kubectl's table: both the controller-manager's class and the run's are defaults.
    let table = c.ctl_ok(&["get", "storageclass"]);
    let header = table.lines().next().unwrap_or_default();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE"
        ],
        "{table}"
    );
    for name in [class.as_str(), "local-path"] {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{name} (default)")))
            .unwrap_or_else(|| panic!("{name} (default) in\n{table}"));
        assert!(
            line.contains("rancher.io/local-path   Delete          WaitForFirstConsumer   false"),
            "{line}"
        );
    }
    let out = c.apply(&web_manifest());
    assert!(out.contains("statefulset.apps/web"), "{out}");

    let t0 = Instant::now();
    let web0 = ready_pod(&c, "web-0", "").await;
    let web1 = ready_pod(&c, "web-1", "").await;
    let all_ready = t0.elapsed();

    // Each claim got the run's default class and its own volume on its pod's node.
    let claims: client::Api<PersistentVolumeClaim> =
        client::Api::namespaced(c.client.clone(), "default");
    let volumes: client::Api<PersistentVolume> = client::Api::all(c.client.clone());
    let mut dirs = Vec::new();
    for pod in [&web0, &web1] {
        let name = format!("www-{}", pod.meta().name);
        let claim = claims.get(&name).await.expect("the claim exists");
        let spec = claim.spec.clone().unwrap_or_default();
        assert_eq!(spec.storage_class_name.as_deref(), Some(class.as_str()));
        assert_eq!(
            claim.status.as_ref().map(|s| s.phase.as_str()),
            Some("Bound")
        );
        let pv = volumes.get(&spec.volume_name).await.expect("its volume");
        assert_eq!(pv.meta().name, format!("pvc-{}", claim.meta().uid));
        let node = pod
            .spec
            .as_ref()
            .map(|s| s.node_name.clone())
            .unwrap_or_default();
        let pinned = pv
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|r| r.node_selector_terms[0].match_expressions[0].values.clone())
            .unwrap_or_default();
        assert_eq!(pinned, [node], "the volume is pinned to the pod's node");
        let path = pv
            .spec
            .as_ref()
            .and_then(|s| s.host_path.as_ref())
            .map(|h| PathBuf::from(&h.path))
            .expect("a hostPath volume");
        assert_eq!(
            path,
            run_dir
                .0
                .join(format!("pvc-{}_default_{name}", claim.meta().uid))
        );
        assert!(path.is_dir(), "{} made on the node", path.display());
        dirs.push(path);
    }

    // Data written in the pod lands in the volume's directory and survives the pod.
    let marker = format!("hello from {}", c.tag);
    exec(
        &c,
        "web-0",
        &format!("echo '{marker}' > /usr/share/nginx/html/index.html"),
    );
    let on_disk = std::fs::read_to_string(dirs[0].join("index.html")).expect("the file");
    assert_eq!(on_disk.trim(), marker);
    let t1 = Instant::now();
    c.ctl_ok(&["delete", "pod", "web-0"]);
    let again = ready_pod(&c, "web-0", &uid(&web0)).await;
    let back = t1.elapsed();
    assert_eq!(
        again.spec.as_ref().map(|s| &s.node_name),
        web0.spec.as_ref().map(|s| &s.node_name),
        "the member comes back on its volume's node"
    );
    assert_eq!(
        exec(&c, "web-0", "cat /usr/share/nginx/html/index.html").trim(),
        marker
    );

    // The set goes, then its claims: each volume's directory is removed on its node and
    // the volume deleted.
    c.ctl_ok(&["delete", "statefulset", "web"]);
    wait_for(Duration::from_secs(30), "web pods gone", async || {
        c.pods("default", "app=nginx")
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    let t2 = Instant::now();
    c.ctl_ok(&["delete", "pvc", "www-web-0", "www-web-1"]);
    wait_for(
        Duration::from_secs(30),
        "directories and volumes reclaimed",
        async || {
            let left = volumes.list(&Default::default()).await.ok()?.items;
            let ours = left
                .iter()
                .filter(|v| {
                    v.spec
                        .as_ref()
                        .is_some_and(|s| s.storage_class_name == class)
                })
                .count();
            (ours == 0 && dirs.iter().all(|d| !d.exists())).then_some(())
        },
    )
    .await;
    let reclaimed = t2.elapsed();
    eprintln!(
        "storage_e2e: cluster up {up:?}, 2 members Ready {all_ready:?}, member back {back:?}, \
         claims reclaimed {reclaimed:?}, total {:?}",
        started.elapsed()
    );
}
