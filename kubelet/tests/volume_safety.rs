//! Volumes a container cannot turn against its node, against real Docker containers (issue
//! 12): a configMap volume is read-only inside the container and its writer survives a
//! tampered volume directory; the subPath escape of CVE-2017-1002101 is refused after a
//! restart; a secret volume is a tmpfs with its defaultMode, downwardAPI and projected
//! volumes are written, and every mount goes away with the pod. The kubelet and apiserver
//! run in-process; targets of attacks are directories the test made.
//!
//! Needs root (mounts) and Docker with busybox-static: outside CI a missing prerequisite
//! skips with a message; with `CI=true` it fails.

use apiserver::testing::TestServer;
use client::Api;
use kubelet::runtime::docker::DockerRuntime;
use proto::Resource;
use proto::k8s::{ConfigMap, Pod, Secret};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::Prereq;
use tokio_util::sync::CancellationToken;

// Every test here needs root besides Docker: the kubelet mounts tmpfs and subPath binds.
mod common;

fn sh(args: &[&str]) -> (bool, String) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run a command");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A kubelet of its own node on a temp root, and everything it made removed at the end
/// (containers by node label; mounts under the temp dir, deepest first), also on failure.
struct Env {
    dir: tempfile::TempDir,
    node: String,
    client: client::Client,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<kubelet::Result<()>>>,
    _server: TestServer,
}

impl Env {
    async fn start(test: &str, rt: DockerRuntime) -> Env {
        let server = TestServer::start().await;
        let dir = tempfile::Builder::new()
            .prefix(&format!("kubelet-{test}-"))
            .tempdir()
            .unwrap();
        let node = format!("{}-{}", test.replace('_', "-"), std::process::id());
        let cfg = common::loopback_kubelet_config(
            &server.url,
            &node,
            dir.path(),
            &format!("vs{}", std::process::id()),
        );
        let cancel = CancellationToken::new();
        let task = tokio::spawn(kubelet::kubelet::run(
            cfg,
            Arc::new(rt),
            None,
            cancel.clone(),
        ));
        let client = client::Client::connect(&server.url).await.unwrap();
        Env {
            dir,
            node,
            client,
            cancel,
            task: Some(task),
            _server: server,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    async fn create<K: Resource>(&self, yaml: &str) {
        let obj = proto::manifest::load_documents(&yaml.replace("NODE", &self.node))
            .unwrap()
            .remove(0);
        let Ok(k) = K::try_from_object(obj) else {
            panic!("not the kind asked for: {yaml}")
        };
        let api: Api<K> = Api::namespaced(self.client.clone(), "default");
        api.create(&k).await.unwrap();
    }

    fn container(&self, pod: &str, name: &str) -> String {
        sh(&[
            "docker",
            "ps",
            "-q",
            "--filter",
            &format!("label={}={}", kubelet::runtime::labels::NODE, self.node),
            "--filter",
            &format!("label=io.kubernetes.pod.name={pod}"),
            "--filter",
            &format!("label=io.kubernetes.container.name={name}"),
        ])
        .1
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
    }

    /// Every log line of every instance of the pod's containers.
    fn all_logs(&self, pod: &str) -> String {
        let ids = sh(&[
            "docker",
            "ps",
            "-aq",
            "--filter",
            &format!("label={}={}", kubelet::runtime::labels::NODE, self.node),
            "--filter",
            &format!("label=io.kubernetes.pod.name={pod}"),
        ])
        .1;
        ids.lines()
            .map(|id| sh(&["docker", "logs", id]).1)
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn wait_running(&self, pod: &str, name: &str) -> String {
        self.wait(&format!("{pod}/{name} running"), || {
            let id = self.container(pod, name);
            (!id.is_empty()).then_some(id)
        })
        .await
    }

    async fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn wait_pod(&self, name: &str, what: &str, f: impl Fn(&Pod) -> bool) -> Pod {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let p = self.pod(name).await;
            if f(&p) {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                p.status
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn pod(&self, name: &str) -> Pod {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), "default");
        pods.get(name).await.unwrap()
    }

    fn exec(&self, id: &str, script: &str) -> (bool, String) {
        sh(&["docker", "exec", id, "sh", "-c", script])
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            t.abort();
        }
        common::remove_node_containers(&self.node);
        // Mounts the kubelet made under this test's dir, deepest first.
        if let (Ok(text), Ok(base)) = (
            std::fs::read_to_string("/proc/self/mountinfo"),
            std::fs::canonicalize(self.dir.path()),
        ) {
            // Field 5 of mountinfo; test paths have no characters it escapes.
            let mut points: Vec<PathBuf> = text
                .lines()
                .filter_map(|l| l.split(' ').nth(4))
                .map(PathBuf::from)
                .filter(|p| p.starts_with(&base))
                .collect();
            points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
            for p in points {
                let _ = sh(&["umount", "-l", p.to_str().unwrap_or_default()]);
            }
        }
    }
}

/// A directory the test made, standing in for a host directory a pod must never reach.
fn canary(env: &Env) -> PathBuf {
    let c = env.dir.path().join("host-canary");
    std::fs::create_dir_all(c.join("nested")).unwrap();
    std::fs::write(c.join("host-secret-file"), b"host data").unwrap();
    std::fs::write(c.join("nested/more"), b"more host data").unwrap();
    c
}

fn canary_intact(c: &Path) {
    assert_eq!(
        std::fs::read(c.join("host-secret-file")).ok().as_deref(),
        Some(&b"host data"[..]),
        "the host directory's file is gone or changed"
    );
    assert_eq!(
        std::fs::read(c.join("nested/more")).ok().as_deref(),
        Some(&b"more host data"[..])
    );
    assert_eq!(std::fs::read_dir(c).unwrap().count(), 2, "nothing added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_map_volume_is_read_only_and_its_writer_survives_tampering() {
    let test = "vol_cm_tamper";
    let Some(rt) = common::docker(test, &[Prereq::Root]).await else {
        return;
    };
    let env = Env::start(test, rt).await;
    let host = canary(&env);
    env.create::<ConfigMap>(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\ndata: {a: one}\n",
    )
    .await;
    env.create::<Pod>(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: tamper, namespace: default}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  volumes: [{name: cfg, configMap: {name: cfg}}]
  containers:
  - name: c
    image: local/busybox:1
    command: ["sleep", "3600"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
"#,
    )
    .await;
    let id = env.wait_running("tamper", "c").await;
    assert_eq!(env.exec(&id, "cat /cfg/a").1, "one");
    // The attack of issue 12, from inside: the mount is read-only although the pod did not
    // ask for readOnly.
    let (ok, out) = env.exec(&id, &format!("ln -sfn {} /cfg/..data", host.display()));
    assert!(!ok, "ln inside a configMap volume succeeded: {out}");
    let (ok, out) = env.exec(&id, "readlink /cfg/..data");
    assert!(
        ok && out.trim().starts_with(".."),
        "..data unchanged: {out}"
    );
    let (ok, out) = env.exec(&id, &format!("ln -s {} /cfg/..evil", host.display()));
    assert!(!ok && out.contains("Read-only file system"), "{out}");
    let (ok, out) = env.exec(&id, "echo x > /cfg/new");
    assert!(!ok && out.contains("Read-only file system"), "{out}");

    // And should the directory be tampered with anyway (from the host here), the writer
    // does not follow: `..data` made to point at the host directory, a top-level link at a
    // host file, then the ConfigMap changes.
    let uid = env.pod("tamper").await.meta().uid.clone();
    let vol = env.root().join(format!("pods/{uid}/volumes/configmap/cfg"));
    let tmp = vol.join("..evil");
    std::os::unix::fs::symlink(&host, &tmp).unwrap();
    std::fs::rename(&tmp, vol.join("..data")).unwrap();
    std::fs::remove_file(vol.join("a")).unwrap();
    std::os::unix::fs::symlink(host.join("host-secret-file"), vol.join("a")).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let mut cm = cms.get("cfg").await.unwrap();
    cm.data.insert("a".into(), "two".into());
    cm.data.insert("b".into(), "three".into());
    cms.update(&cm).await.unwrap();
    env.wait("the new ConfigMap content in the container", || {
        (env.exec(&id, "cat /cfg/a /cfg/b").1 == "twothree").then_some(())
    })
    .await;
    canary_intact(&host);
    assert_eq!(
        std::fs::read_link(vol.join("a")).unwrap(),
        Path::new("..data/a")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_path_swapped_for_a_link_out_is_refused_after_restart() {
    let test = "vol_subpath_escape";
    let Some(rt) = common::docker(test, &[Prereq::Root]).await else {
        return;
    };
    let env = Env::start(test, rt).await;
    let host = canary(&env);
    // First run: `x` (made by the kubelet) is an empty directory; the container swaps it for
    // a link to a host directory and exits. CVE-2017-1002101: the restarted container saw
    // the host directory through `subPath: x`.
    env.create::<Pod>(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: escape, namespace: default}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  volumes: [{{name: data, emptyDir: {{}}}}]
  containers:
  - name: c
    image: local/busybox:1
    command: ["sh", "-c", "echo listing; ls -a /x; if [ -L /data/x ]; then sleep 3600; fi; rm -rf /data/x && ln -s {} /data/x && echo swapped; exit 1"]
    volumeMounts:
    - {{name: data, mountPath: /data}}
    - {{name: data, mountPath: /x, subPath: x}}
"#,
        host.display()
    ))
    .await;
    let pod = env
        .wait_pod("escape", "the restarted container refused", |p| {
            waiting(p, "c").is_some_and(|(reason, _)| reason == "CreateContainerConfigError")
        })
        .await;
    let (_, message) = waiting(&pod, "c").unwrap();
    assert!(
        message.contains("subpath \"x\" not within volume path"),
        "{message}"
    );
    let logs = env.all_logs("escape");
    assert!(logs.contains("swapped"), "the first run swapped x: {logs}");
    assert!(
        !logs.contains("host-secret-file"),
        "a container saw the host directory: {logs}"
    );
    canary_intact(&host);
}

/// The waiting reason and message of a container's status.
fn waiting(p: &Pod, name: &str) -> Option<(String, String)> {
    p.status
        .as_ref()?
        .container_statuses
        .iter()
        .find(|s| s.name == name)?
        .state
        .as_ref()?
        .waiting
        .as_ref()
        .map(|w| (w.reason.clone(), w.message.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_volume_is_tmpfs_with_its_mode_and_goes_with_the_pod() {
    let test = "vol_secret_tmpfs";
    let Some(rt) = common::docker(test, &[Prereq::Root]).await else {
        return;
    };
    let env = Env::start(test, rt).await;
    env.create::<Secret>(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: default}\nstringData: {password: s3cr3t}\n",
    )
    .await;
    env.create::<ConfigMap>(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {color: blue}\n",
    )
    .await;
    // defaultMode 0400 (256); a downwardAPI volume and a projected one mixing all three.
    env.create::<Pod>(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: sec, namespace: default, labels: {app: demo}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: s, secret: {secretName: creds, defaultMode: 256}}
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
  - name: all
    projected:
      sources:
      - secret: {name: creds, items: [{key: password, path: pw, mode: 384}]}
      - configMap: {name: settings}
      - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace}}]}
  - {name: settings, configMap: {name: settings}}
  - {name: scratch, emptyDir: {}}
  containers:
  - name: c
    image: local/busybox:1
    command: ["sleep", "3600"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts:
    - {name: s, mountPath: /sec}
    - {name: info, mountPath: /info}
    - {name: all, mountPath: /all}
    - {name: settings, mountPath: /etc/color, subPath: color}
    - {name: scratch, mountPath: /scratch, subPath: a/b}
"#,
    )
    .await;
    let id = env.wait_running("sec", "c").await;
    let mounts = env.exec(&id, "cat /proc/mounts").1;
    let line = |at: &str| {
        mounts
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(at))
            .unwrap_or("")
            .to_string()
    };
    let sec = line("/sec");
    assert!(sec.starts_with("tmpfs /sec tmpfs ro,"), "{mounts}");
    assert!(line("/all").starts_with("tmpfs /all tmpfs ro,"), "{mounts}");
    assert!(line("/info").contains(" ro,"), "{mounts}");
    assert_eq!(env.exec(&id, "cat /sec/password").1, "s3cr3t");
    assert_eq!(env.exec(&id, "stat -L -c %a /sec/password").1.trim(), "400");
    assert_eq!(env.exec(&id, "cat /info/name").1, "sec");
    assert_eq!(env.exec(&id, "cat /info/labels").1, "app=\"demo\"");
    assert_eq!(env.exec(&id, "cat /info/mem").1, "64");
    assert_eq!(
        env.exec(&id, "cat /all/pw /all/color /all/ns").1,
        "s3cr3tbluedefault"
    );
    assert_eq!(
        env.exec(&id, "stat -L -c %a /all/pw /all/color").1,
        "600\n644\n"
    );
    // subPath: one file of a configMap (through its `..data` link, inside the volume), and
    // directories made in an emptyDir, writable.
    assert_eq!(env.exec(&id, "cat /etc/color").1, "blue");
    assert!(env.exec(&id, "echo hi > /scratch/f").0);
    assert!(env.exec(&id, "echo x > /etc/color").1.contains("Read-only"));
    // On the host: a tmpfs at the volume directory.
    let uid = env.pod("sec").await.meta().uid.clone();
    let vol = env.root().join(format!("pods/{uid}/volumes/secret/s"));
    let (_, fm) = sh(&["findmnt", "-n", "-o", "FSTYPE", vol.to_str().unwrap()]);
    assert_eq!(fm.trim(), "tmpfs", "findmnt {}", vol.display());

    // The pod goes: its tmpfs mounts are unmounted and its directory removed.
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    pods.delete("sec", &client::api::DeleteParams::default())
        .await
        .unwrap();
    let pod_dir = env.root().join(format!("pods/{uid}"));
    env.wait("the pod directory removed", || {
        (!pod_dir.exists()).then_some(())
    })
    .await;
    let left = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!left.contains(&uid), "a mount of the pod is left: {left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_dir_is_writable_by_the_pod_user_owned_by_fs_group_and_memory_is_tmpfs() {
    let test = "vol_empty_dir";
    let Some(rt) = common::docker(test, &[Prereq::Root]).await else {
        return;
    };
    let env = Env::start(test, rt).await;
    env.create::<Pod>(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: ed, namespace: default}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
  containers:
  - name: c
    image: local/busybox:1
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
"#,
    )
    .await;
    let id = env.wait_running("ed", "c").await;
    // A non-root user writes both; what it makes belongs to the fsGroup (setgid dir).
    let (ok, out) = env.exec(&id, "echo hi > /scratch/f && echo hi > /mem/f && id -u");
    assert!(
        ok,
        "a runAsUser 1000 container cannot write its emptyDirs: {out}"
    );
    assert_eq!(out.trim(), "1000");
    assert_eq!(
        env.exec(&id, "stat -c %g /scratch/f /mem/f").1,
        "2000\n2000\n"
    );
    let mounts = env.exec(&id, "cat /proc/mounts").1;
    let mem = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/mem"))
        .unwrap_or("");
    assert!(mem.starts_with("tmpfs /mem tmpfs rw,"), "{mounts}");
    assert!(
        mem.contains("size=8192k"),
        "sizeLimit is the tmpfs size: {mem}"
    );
    // The limit holds: 9 MiB do not fit.
    let (ok, out) = env.exec(&id, "dd if=/dev/zero of=/mem/big bs=1M count=9");
    assert!(!ok, "9 MiB fit in an 8Mi emptyDir: {out}");

    let uid = env.pod("ed").await.meta().uid.clone();
    let vol = env.root().join(format!("pods/{uid}/volumes/empty-dir/mem"));
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    pods.delete("ed", &client::api::DeleteParams::default())
        .await
        .unwrap();
    env.wait("the memory emptyDir unmounted with the pod", || {
        (!sh(&["findmnt", vol.to_str().unwrap()]).0).then_some(())
    })
    .await;
}
