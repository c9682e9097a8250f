//! Reclaim of local-path volumes on this node. The controller-manager's local-path
//! provisioner makes a hostPath PersistentVolume per claim, pinned to one node; when its
//! claim goes and its policy is Delete, the binder marks it Released and leaves it here:
//! the kubelet of that node removes the directory, then deletes the volume (Kubernetes
//! leaves this to the provisioner, which runs a helper pod on the node for it).
//!
//! Only directories under `--local-path-root` whose last component is the volume's own
//! (`pvc-<uid>_<namespace>_<name>`) are removed, by handles that never follow a link and
//! never cross into another mount.

use crate::volumes::fsat;
use client::{Api, Client, DeleteParams, DeletePreconditions, Informer, InformerConfig};
use proto::k8s::PersistentVolume;
use proto::{Reason, Resource};
use std::collections::HashSet;
use std::path::{Component, Path};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use proto::local_path::{
    ANN_PROVISIONED_BY, HOSTNAME_LABEL, PROVISIONER, is_local_path, volume_node,
};
/// The default `--local-path-root` (and the controller-manager's).
pub const DEFAULT_ROOT: &str = "/var/lib/kubelet-local-path";

/// Released volumes are looked at again this often, so one whose removal failed (or whose
/// event was missed) is retried.
const RESYNC: Duration = Duration::from_secs(10);

/// What to do with one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reclaim {
    /// Not a Released local-path Delete volume of this node.
    Keep,
    /// Remove this directory (relative to the root), then the volume.
    Remove(String),
    /// Ours to reclaim, but its path is not one this kubelet removes.
    Refuse(String),
}

/// `path` relative to `root` when it lies beneath it, is plain (absolute, no `.` or `..`)
/// and ends in the volume's own directory name (`<volume>_...`); otherwise why not.
pub fn relative_dir(root: &Path, path: &str, volume: &str) -> Result<String, String> {
    let p = Path::new(path);
    let plain = |p: &Path| {
        p.is_absolute()
            && p.components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
    };
    if !plain(root) {
        return Err(format!(
            "local-path root {root:?} is not a plain absolute path"
        ));
    }
    if !plain(p) {
        return Err(format!("{path:?} is not a plain absolute path"));
    }
    let rel = p
        .strip_prefix(root)
        .map_err(|_| format!("{path:?} is outside the local-path root {root:?}"))?;
    let leaf = rel
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{path:?} names no directory under {root:?}"))?;
    if !leaf.starts_with(&format!("{volume}_")) {
        return Err(format!(
            "{path:?} is not the directory of volume {volume} ({volume}_<namespace>_<name>)"
        ));
    }
    rel.to_str()
        .map(String::from)
        .ok_or_else(|| format!("{path:?} is not UTF-8"))
}

/// Pure: whether `pv` is this node's to reclaim now (`node_names`: the node's name and
/// hostname label value).
pub fn plan(pv: &PersistentVolume, node_names: &[&str], root: &Path) -> Reclaim {
    let m = pv.meta();
    let spec = pv.spec.clone().unwrap_or_default();
    let released = pv.status.as_ref().is_some_and(|s| s.phase == "Released");
    let ours = is_local_path(pv) && volume_node(pv).is_some_and(|n| node_names.contains(&n));
    if !ours
        || !released
        || !m.deletion_timestamp.is_empty()
        || spec.persistent_volume_reclaim_policy != "Delete"
    {
        return Reclaim::Keep;
    }
    let Some(host_path) = spec.host_path.as_ref() else {
        return Reclaim::Refuse("not a hostPath volume".into());
    };
    match relative_dir(root, &host_path.path, &m.name) {
        Ok(rel) => Reclaim::Remove(rel),
        Err(why) => Reclaim::Refuse(why),
    }
}

/// Removes `rel` beneath `root` and everything in it; a missing directory (never used by a
/// pod, or removed before a crash) is done already.
pub fn remove_dir(root: &Path, rel: &str) -> std::io::Result<()> {
    let root_fd = match fsat::open_root(root) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let rel = Path::new(rel);
    let (Some(parent), Some(leaf)) = (rel.parent(), rel.file_name()) else {
        return Err(std::io::Error::other("no directory to remove"));
    };
    let parent = parent.to_string_lossy();
    let parent = if parent.is_empty() { "." } else { &parent };
    let dir = match fsat::open_dir(&root_fd, parent) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    fsat::remove_all_at(&dir, leaf)
}

/// Watches every PersistentVolume (the `system:local-path-deleter` role lets nodes) and
/// reclaims this node's; runs until `cancel`.
pub async fn run(
    client: Client,
    node_names: Vec<String>,
    root: std::path::PathBuf,
    cancel: CancellationToken,
) {
    let api: Api<PersistentVolume> = Api::all(client);
    let informer = Informer::new(api.clone(), InformerConfig::default());
    let mut events = informer.subscribe();
    informer.start();
    let mut tick = tokio::time::interval(RESYNC);
    let mut refused: HashSet<String> = HashSet::new();
    let names: Vec<&str> = node_names.iter().map(String::as_str).collect();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            ev = events.recv() => if ev.is_none() { break },
            _ = tick.tick() => {}
        }
        for pv in informer.store().list() {
            let name = pv.meta().name.clone();
            match plan(&pv, &names, &root) {
                Reclaim::Keep => {}
                Reclaim::Refuse(why) => {
                    if refused.insert(pv.meta().uid.clone()) {
                        tracing::warn!(volume = %name, reason = %why, "not reclaiming a local-path volume");
                    }
                }
                Reclaim::Remove(rel) => reclaim(&api, &pv, &root, rel).await,
            }
        }
    }
    informer.stop();
}

#[tracing::instrument(skip_all, fields(volume = %pv.meta().name))]
async fn reclaim(api: &Api<PersistentVolume>, pv: &PersistentVolume, root: &Path, rel: String) {
    let root_buf = root.to_path_buf();
    let shown = root.join(&rel);
    let removed = tokio::task::spawn_blocking(move || remove_dir(&root_buf, &rel)).await;
    match removed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(dir = %shown.display(), error = %e, "removing the volume's directory failed; retrying later");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "the removal task failed");
            return;
        }
    }
    let params = DeleteParams {
        // Only the volume seen Released (not a new one of the same name).
        preconditions: Some(DeletePreconditions {
            uid: pv.meta().uid.clone(),
            resource_version: String::new(),
        }),
        ..Default::default()
    };
    match api.delete(&pv.meta().name, &params).await {
        Ok(_) => tracing::info!(dir = %shown.display(), "local-path volume reclaimed"),
        Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
        Err(e) => tracing::warn!(error = %e, "deleting the reclaimed volume failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        HostPathVolumeSource, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
        PersistentVolumeSpec, PersistentVolumeStatus, VolumeNodeAffinity,
    };

    fn volume(path: &str, node: &str, policy: &str, phase: &str) -> PersistentVolume {
        let mut pv = PersistentVolume {
            spec: Some(PersistentVolumeSpec {
                host_path: Some(HostPathVolumeSource {
                    path: path.into(),
                    r#type: Some("DirectoryOrCreate".into()),
                }),
                persistent_volume_reclaim_policy: policy.into(),
                node_affinity: Some(VolumeNodeAffinity {
                    required: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: vec![NodeSelectorRequirement {
                                key: HOSTNAME_LABEL.into(),
                                operator: "In".into(),
                                values: vec![node.into()],
                            }],
                            match_fields: vec![],
                        }],
                    }),
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: phase.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = pv.meta_mut();
        m.name = "pvc-u1".into();
        m.uid = "v1".into();
        m.annotations
            .insert(ANN_PROVISIONED_BY.into(), PROVISIONER.into());
        pv
    }

    const ROOT: &str = "/var/lib/kubelet-local-path";
    const DIR: &str = "/var/lib/kubelet-local-path/pvc-u1_shop_www-web-0";

    #[test]
    fn only_released_delete_volumes_of_this_node_are_reclaimed() {
        let root = Path::new(ROOT);
        let me = ["n1", "host-n1"];
        let plan_of = |pv: &PersistentVolume| plan(pv, &me, root);
        assert_eq!(
            plan_of(&volume(DIR, "n1", "Delete", "Released")),
            Reclaim::Remove("pvc-u1_shop_www-web-0".into())
        );
        assert_eq!(
            plan_of(&volume(DIR, "host-n1", "Delete", "Released")),
            Reclaim::Remove("pvc-u1_shop_www-web-0".into()),
            "by hostname label"
        );
        assert_eq!(
            plan_of(&volume(DIR, "n2", "Delete", "Released")),
            Reclaim::Keep
        );
        assert_eq!(
            plan_of(&volume(DIR, "n1", "Retain", "Released")),
            Reclaim::Keep
        );
        assert_eq!(
            plan_of(&volume(DIR, "n1", "Delete", "Bound")),
            Reclaim::Keep
        );
        let mut hand_made = volume(DIR, "n1", "Delete", "Released");
        hand_made.meta_mut().annotations.clear();
        assert_eq!(plan_of(&hand_made), Reclaim::Keep, "not provisioned");
        let mut other = volume(DIR, "n1", "Delete", "Released");
        other
            .meta_mut()
            .annotations
            .insert(ANN_PROVISIONED_BY.into(), "example.com/nfs".into());
        assert_eq!(plan_of(&other), Reclaim::Keep);
        let nested = "/var/lib/kubelet-local-path/e2e-run/pvc-u1_ns_n";
        assert_eq!(
            plan_of(&volume(nested, "n1", "Delete", "Released")),
            Reclaim::Remove("e2e-run/pvc-u1_ns_n".into()),
            "a class's nodePath beneath the root"
        );
    }

    #[test]
    fn paths_outside_the_root_or_of_another_volume_are_refused() {
        let root = Path::new(ROOT);
        for path in [
            "/etc",
            "/var/lib/kubelet-local-path",
            "/var/lib/kubelet-local-path/../../etc/pvc-u1_x_y",
            "/var/lib/kubelet-local-path-other/pvc-u1_x_y",
            "var/lib/kubelet-local-path/pvc-u1_x_y",
            "/var/lib/kubelet-local-path/pvc-u2_x_y",
            "/var/lib/kubelet-local-path/pvc-u1",
        ] {
            assert!(
                matches!(
                    plan(&volume(path, "n1", "Delete", "Released"), &["n1"], root),
                    Reclaim::Refuse(_)
                ),
                "{path}"
            );
        }
        assert!(relative_dir(Path::new("relative"), DIR, "pvc-u1").is_err());
    }

    #[test]
    fn removal_never_follows_a_link_out_of_the_root() {
        let base = tempfile::tempdir().expect("temp dir");
        let root = base.path().join("root");
        let outside = base.path().join("outside");
        std::fs::create_dir_all(root.join("pvc-a_ns_n/sub")).unwrap();
        std::fs::write(root.join("pvc-a_ns_n/sub/data"), b"x").unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"keep").unwrap();
        // A link inside the volume to a directory outside: the link goes, not its target.
        std::os::unix::fs::symlink(&outside, root.join("pvc-a_ns_n/escape")).unwrap();
        remove_dir(&root, "pvc-a_ns_n").expect("removed");
        assert!(!root.join("pvc-a_ns_n").exists());
        assert!(outside.join("keep").exists());
        // A link in place of a parent directory is not walked through.
        std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
        std::fs::create_dir_all(outside.join("pvc-b_ns_n")).unwrap();
        assert!(remove_dir(&root, "linked/pvc-b_ns_n").is_err());
        assert!(outside.join("pvc-b_ns_n").exists());
        // Gone already: done.
        remove_dir(&root, "pvc-a_ns_n").expect("idempotent");
        remove_dir(&base.path().join("missing-root"), "pvc-a_ns_n").expect("no root yet");
    }

    #[test]
    fn a_pod_waits_for_its_claim_with_kubernetes_words() {
        use crate::volumes::claim_volume;
        use proto::k8s::{
            PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimStatus,
        };
        let claim = |phase: &str, volume: &str| PersistentVolumeClaim {
            spec: Some(PersistentVolumeClaimSpec {
                volume_name: volume.into(),
                ..Default::default()
            }),
            status: Some(PersistentVolumeClaimStatus {
                phase: phase.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(claim_volume(&claim("Pending", "")), Err("PVC is not bound"));
        assert_eq!(
            claim_volume(&claim("Pending", "pvc-1")),
            Err("PVC is not bound"),
            "half bound"
        );
        assert_eq!(
            claim_volume(&claim("Bound", "pvc-1")).as_deref(),
            Ok("pvc-1")
        );
        let mut going = claim("Bound", "pvc-1");
        going.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        assert_eq!(claim_volume(&going), Err("PVC is being deleted"));
    }

    /// Issue 17: a container mounting a claim the pod defines, whose setup failed, was told
    /// the pod does not define the volume.
    #[test]
    fn a_mount_of_a_claim_not_yet_set_up_says_so() {
        use crate::runtime::{ContainerInfo, ContainerKind, ContainerState};
        use proto::k8s::{
            Container, PersistentVolumeClaimVolumeSource, Pod, PodSpec, Volume, VolumeMount,
            volume::VolumeSource,
        };
        let c = Container {
            name: "kv".into(),
            image: "local/busybox:1".into(),
            volume_mounts: vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut pod = Pod {
            spec: Some(PodSpec {
                containers: vec![c.clone()],
                volumes: vec![Volume {
                    name: "data".into(),
                    volume_source: Some(VolumeSource::PersistentVolumeClaim(
                        PersistentVolumeClaimVolumeSource {
                            claim_name: "data-kv-0".into(),
                            ..Default::default()
                        },
                    )),
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        pod.meta_mut().name = "kv-0".into();
        let sandbox = ContainerInfo {
            id: "sb".into(),
            name: String::new(),
            image: String::new(),
            image_id: String::new(),
            labels: Default::default(),
            state: ContainerState::Running,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            created_at: None,
            started_at: None,
            finished_at: None,
            pid: None,
            ip: None,
        };
        let err = crate::spec::container_config(
            "k8s",
            "n1",
            &pod,
            &c,
            ContainerKind::App,
            0,
            &sandbox,
            &Default::default(),
        )
        .expect_err("no volume set up");
        let msg = err.to_string();
        assert!(msg.contains("could not be set up"), "{msg}");
        assert!(!msg.contains("does not define"), "{msg}");
    }
}
