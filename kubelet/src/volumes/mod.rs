//! Pod volumes on the node: emptyDir (a directory under the root dir, removed with the pod),
//! hostPath, persistentVolumeClaim bound to a hostPath PersistentVolume, and the kinds whose
//! files the kubelet writes: configMap, secret, downwardAPI and projected. Those go through
//! [`atomic_writer`] (Kubernetes' `..data` layout, made so a container cannot steer it),
//! are always mounted read-only, and secret and projected volumes live on a tmpfs the
//! kubelet mounts ([`mounts`]). subPath mounts are bound through [`subpath`].

pub mod atomic_writer;
pub mod downward;
pub mod fsat;
pub mod local_path;
pub mod mounts;
pub mod subpath;
pub mod token;
pub mod unsupported;

use crate::error::{Error, Result};
use atomic_writer::{AtomicWriter, DEFAULT_MODE, FileData, Payload};
use client::{Api, Client};
use proto::k8s::{
    ConfigMap, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Secret,
    volume::VolumeSource,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use token::{TokenKey, TokenManager};

pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

fn verr(volume: &str, message: impl Into<String>) -> Error {
    Error::Volume {
        volume: volume.to_string(),
        message: message.into(),
    }
}

/// Kinds whose content the kubelet writes: mounted read-only into every container,
/// whatever the mount says (Kubernetes).
pub fn is_kubelet_written(source: Option<&VolumeSource>) -> bool {
    matches!(
        source,
        Some(
            VolumeSource::ConfigMap(_)
                | VolumeSource::Secret(_)
                | VolumeSource::DownwardApi(_)
                | VolumeSource::Projected(_)
        )
    )
}

/// Which kind of object a key list belongs to, for Kubernetes' messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    ConfigMap,
    Secret,
}

/// The files of a configMap or secret volume (or projection): `items` when given (a missing
/// key is an error unless `optional`), else every key; each with its item mode or
/// `default_mode`.
pub fn key_files(
    kind: KeySource,
    data: &BTreeMap<String, Vec<u8>>,
    items: &[KeyToPath],
    default_mode: u32,
    optional: bool,
) -> std::result::Result<Payload, String> {
    let mut out = Payload::new();
    if items.is_empty() {
        for (k, v) in data {
            out.insert(
                k.clone(),
                FileData {
                    data: v.clone(),
                    mode: default_mode,
                },
            );
        }
        return Ok(out);
    }
    for it in items {
        let Some(v) = data.get(&it.key) else {
            if optional {
                continue;
            }
            return Err(match kind {
                KeySource::ConfigMap => {
                    format!("configmap references non-existent config key: {}", it.key)
                }
                KeySource::Secret => format!("references non-existent secret key: {}", it.key),
            });
        };
        atomic_writer::validate_path(&it.path)
            .map_err(|m| format!("invalid path {:?}: {m}", it.path))?;
        out.insert(
            it.path.clone(),
            FileData {
                data: v.clone(),
                mode: it.mode.map(|m| m as u32).unwrap_or(default_mode),
            },
        );
    }
    Ok(out)
}

fn mode_of(default_mode: Option<i32>) -> u32 {
    default_mode.map(|m| m as u32).unwrap_or(DEFAULT_MODE)
}

/// Adds `more` to `into`; a path from two sources is an error (Kubernetes' validation
/// refuses such a projected volume).
fn merge(into: &mut Payload, more: Payload) -> std::result::Result<(), String> {
    for (k, v) in more {
        if into.contains_key(&k) {
            return Err(format!("conflicting duplicate paths: {k}"));
        }
        into.insert(k, v);
    }
    Ok(())
}

async fn config_map_data(
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    Ok(api.get_opt(name).await?.map(|cm| {
        cm.data
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .chain(cm.binary_data)
            .collect()
    }))
}

async fn secret_data(
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    Ok(api
        .get_opt(name)
        .await?
        .map(|s| s.data.into_iter().collect()))
}

/// The payload of a kubelet-written volume, and whether it belongs on a tmpfs (secret and
/// projected, as Kubernetes' memory-backed wrappers).
async fn payload_of(
    client: &Client,
    tokens: &TokenManager,
    pod: &Pod,
    volume: &str,
    source: &VolumeSource,
) -> Result<(Payload, bool)> {
    let ns = pod
        .metadata
        .as_ref()
        .map(|m| m.namespace.as_str())
        .unwrap_or("");
    let node = downward::NodeAllocatable::of_this_node();
    match source {
        VolumeSource::ConfigMap(c) => {
            let optional = c.optional == Some(true);
            let data = match config_map_data(client, ns, &c.name).await? {
                Some(d) => d,
                None if optional => BTreeMap::new(),
                None => return Err(verr(volume, format!("configmap {:?} not found", c.name))),
            };
            let p = key_files(
                KeySource::ConfigMap,
                &data,
                &c.items,
                mode_of(c.default_mode),
                optional,
            )
            .map_err(|m| verr(volume, m))?;
            Ok((p, false))
        }
        VolumeSource::Secret(s) => {
            let optional = s.optional == Some(true);
            let data = match secret_data(client, ns, &s.secret_name).await? {
                Some(d) => d,
                None if optional => BTreeMap::new(),
                None => {
                    return Err(verr(
                        volume,
                        format!("secret {:?} not found", s.secret_name),
                    ));
                }
            };
            let p = key_files(
                KeySource::Secret,
                &data,
                &s.items,
                mode_of(s.default_mode),
                optional,
            )
            .map_err(|m| verr(volume, m))?;
            Ok((p, true))
        }
        VolumeSource::DownwardApi(d) => {
            let p = downward::files(pod, &d.items, mode_of(d.default_mode), &node)
                .map_err(|m| verr(volume, m))?;
            Ok((p, false))
        }
        VolumeSource::Projected(pr) => {
            let mode = mode_of(pr.default_mode);
            let mut out = Payload::new();
            for src in &pr.sources {
                let part = if let Some(c) = &src.config_map {
                    let optional = c.optional == Some(true);
                    match config_map_data(client, ns, &c.name).await? {
                        Some(d) => key_files(KeySource::ConfigMap, &d, &c.items, mode, optional),
                        None if optional => Ok(Payload::new()),
                        None => Err(format!("configmap {:?} not found", c.name)),
                    }
                } else if let Some(s) = &src.secret {
                    let optional = s.optional == Some(true);
                    match secret_data(client, ns, &s.name).await? {
                        Some(d) => key_files(KeySource::Secret, &d, &s.items, mode, optional),
                        None if optional => Ok(Payload::new()),
                        None => Err(format!("secret {:?} not found", s.name)),
                    }
                } else if let Some(d) = &src.downward_api {
                    downward::files(pod, &d.items, mode, &node)
                } else if let Some(t) = &src.service_account_token {
                    service_account_token(tokens, pod, t, mode).await
                } else {
                    Err("projected source with no configMap, secret or downwardAPI".to_string())
                };
                merge(&mut out, part.map_err(|m| verr(volume, m))?).map_err(|m| verr(volume, m))?;
            }
            Ok((out, true))
        }
        _ => Err(verr(volume, "not a kubelet-written volume")),
    }
}

/// The ServiceAccount a pod runs as (`serviceAccountName`, else the deprecated
/// `serviceAccount`, else `default`).
pub fn service_account_of(pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    spec.map(|s| s.service_account_name.as_str())
        .filter(|n| !n.is_empty())
        .or_else(|| {
            spec.map(|s| s.service_account.as_str())
                .filter(|n| !n.is_empty())
        })
        .unwrap_or("default")
        .to_string()
}

/// One serviceAccountToken projection: the pod's bound token at `path`.
async fn service_account_token(
    tokens: &TokenManager,
    pod: &Pod,
    t: &proto::k8s::ServiceAccountTokenProjection,
    mode: u32,
) -> std::result::Result<Payload, String> {
    atomic_writer::validate_path(&t.path).map_err(|m| format!("invalid path {:?}: {m}", t.path))?;
    let meta = pod.metadata.clone().unwrap_or_default();
    let key = TokenKey {
        namespace: meta.namespace,
        service_account: service_account_of(pod),
        pod_name: meta.name,
        pod_uid: meta.uid,
        audience: t.audience.clone(),
        expiration_seconds: t
            .expiration_seconds
            .map(i64::from)
            .unwrap_or(token::DEFAULT_EXPIRATION_SECONDS),
    };
    let token = tokens.token(&key).await?;
    let mut out = Payload::new();
    out.insert(
        t.path.clone(),
        FileData {
            data: token.into_bytes(),
            mode,
        },
    );
    Ok(out)
}

fn safe_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('/') && !s.starts_with('.') && !s.contains('\0')
}

/// The pod's fsGroup, when set.
pub fn fs_group(pod: &Pod) -> Option<u32> {
    pod.spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|sc| sc.fs_group)
        .and_then(|g| u32::try_from(g).ok())
}

/// Writes a kubelet-written volume at `pods/<uid>/volumes/<kind>/<name>` under `root`:
/// the directory made without following links, a tmpfs mounted on it first when asked,
/// then the atomic writer. Returns the volume's path.
#[allow(clippy::too_many_arguments)]
fn write_volume(
    root: &Path,
    uid: &str,
    pod_key: &str,
    kind: &str,
    volume: &str,
    payload: &Payload,
    tmpfs: bool,
    fs_group: Option<u32>,
) -> Result<PathBuf> {
    let rel = format!("pods/{uid}/volumes/{kind}/{volume}");
    let root_fd = fsat::open_root(root).map_err(|e| verr(volume, format!("{root:?}: {e}")))?;
    let mut dir = fsat::mkdir_all(&root_fd, &rel, 0o750)
        .map_err(|e| verr(volume, format!("making {rel}: {e}")))?;
    let path = root.join(&rel);
    if tmpfs && !mounts::is_mount_point(&root_fd, &rel).map_err(|e| verr(volume, e.to_string()))? {
        mounts::check_host_namespace().map_err(|m| verr(volume, m))?;
        mounts::mount_tmpfs(&path)
            .map_err(|e| verr(volume, format!("mounting a tmpfs at {path:?}: {e}")))?;
        // The handle from before the mount is the directory under it.
        dir = fsat::open_dir(&root_fd, &rel).map_err(|e| verr(volume, e.to_string()))?;
    }
    if let Some(g) = fs_group {
        let f = std::fs::File::from(dir.try_clone().map_err(|e| verr(volume, e.to_string()))?);
        std::os::unix::fs::fchown(&f, None, Some(g))
            .and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(atomic_writer::dir_mode(
                    Some(g),
                )))
            })
            .map_err(|e| verr(volume, format!("fsGroup on {rel}: {e}")))?;
    }
    let label = format!("{pod_key} volume {volume}");
    AtomicWriter::new(dir, label)
        .write(payload, fs_group)
        .map_err(|e| verr(volume, e.to_string()))?;
    Ok(path)
}

/// A memory-backed emptyDir without a sizeLimit gets this much (Kubernetes sizes it to the
/// node's allocatable memory; a fixed cap keeps one pod from filling the node's RAM).
pub const MEMORY_EMPTY_DIR_DEFAULT: u64 = 256 << 20;

/// An emptyDir at `pods/<uid>/volumes/empty-dir/<name>`, made as Kubernetes' emptyDir plugin
/// does: mode 0777 so any user the pod runs as can write it; with an fsGroup, owned by that
/// group with the setgid bit, so files made in it stay the group's; `medium: Memory` on a
/// tmpfs of its sizeLimit. Ownership and mode are set only when the directory is made, so a
/// container's own chmod is not undone on every sync.
fn empty_dir(
    root: &Path,
    uid: &str,
    volume: &str,
    src: &proto::k8s::EmptyDirVolumeSource,
    fs_group: Option<u32>,
) -> Result<PathBuf> {
    let rel = format!("pods/{uid}/volumes/empty-dir/{volume}");
    let path = root.join(&rel);
    let root_fd = fsat::open_root(root).map_err(|e| verr(volume, format!("{root:?}: {e}")))?;
    let existed = fsat::open_dir(&root_fd, &rel).is_ok();
    let mut dir = fsat::mkdir_all(&root_fd, &rel, 0o777)
        .map_err(|e| verr(volume, format!("making {rel}: {e}")))?;
    let memory = src.medium == "Memory";
    let mut fresh = !existed;
    if memory && !mounts::is_mount_point(&root_fd, &rel).map_err(|e| verr(volume, e.to_string()))? {
        let size = match src.size_limit.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => proto::quantity::parse_bytes(q)
                .ok()
                .and_then(|b| u64::try_from(b).ok())
                .filter(|b| *b > 0)
                .ok_or_else(|| verr(volume, format!("emptyDir sizeLimit {q:?} is not a size")))?,
            None => MEMORY_EMPTY_DIR_DEFAULT,
        };
        mounts::check_host_namespace().map_err(|m| verr(volume, m))?;
        mounts::mount_memory_empty_dir(&path, size)
            .map_err(|e| verr(volume, format!("mounting a tmpfs at {path:?}: {e}")))?;
        dir = fsat::open_dir(&root_fd, &rel).map_err(|e| verr(volume, e.to_string()))?;
        fresh = true;
    }
    if fresh {
        use std::os::unix::fs::PermissionsExt;
        let f = std::fs::File::from(dir);
        let mode = match fs_group {
            Some(g) => {
                std::os::unix::fs::fchown(&f, None, Some(g))
                    .map_err(|e| verr(volume, format!("fsGroup on {rel}: {e}")))?;
                0o2777
            }
            None => 0o777,
        };
        // mkdir's mode passes through the umask: set it explicitly.
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| verr(volume, format!("mode of {rel}: {e}")))?;
    }
    Ok(path)
}

/// Makes every volume of the pod and returns its host directory by volume name.
/// Called again on each sync: configMap, secret, downwardAPI and projected contents follow
/// their sources.
pub async fn setup(
    client: &Client,
    tokens: &TokenManager,
    root: &Path,
    pod: &Pod,
) -> Result<HashMap<String, String>> {
    let meta = pod.metadata.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    if !safe_name(&meta.uid) {
        return Err(Error::Config(format!("invalid pod uid {:?}", meta.uid)));
    }
    let base = pod_dir(root, &meta.uid).join("volumes");
    let group = fs_group(pod);
    let mut out = HashMap::new();
    for v in &spec.volumes {
        let name = &v.name;
        if !safe_name(name) {
            return Err(verr(name, "invalid volume name"));
        }
        let path: PathBuf = match &v.volume_source {
            Some(VolumeSource::EmptyDir(e)) => empty_dir(root, &meta.uid, name, e, group)?,
            Some(VolumeSource::HostPath(h)) => {
                let p = PathBuf::from(&h.path);
                match h.r#type.as_deref().unwrap_or("") {
                    // "" makes a missing directory too: the runtime is handed mounts whose
                    // source must exist (containerd's CRI makes it the same way).
                    "DirectoryOrCreate" | "" if !p.exists() => {
                        std::fs::create_dir_all(&p).map_err(|e| verr(name, e.to_string()))?
                    }
                    "FileOrCreate" if !p.exists() => {
                        std::fs::write(&p, b"").map_err(|e| verr(name, e.to_string()))?;
                    }
                    "Directory" if !p.is_dir() => {
                        return Err(verr(
                            name,
                            format!("hostPath type check failed: {} is not a directory", h.path),
                        ));
                    }
                    "File" if !p.is_file() => {
                        return Err(verr(
                            name,
                            format!("hostPath type check failed: {} is not a file", h.path),
                        ));
                    }
                    _ => {}
                }
                p
            }
            Some(
                src @ (VolumeSource::ConfigMap(_)
                | VolumeSource::Secret(_)
                | VolumeSource::DownwardApi(_)
                | VolumeSource::Projected(_)),
            ) => {
                let kind = match src {
                    VolumeSource::ConfigMap(_) => "configmap",
                    VolumeSource::Secret(_) => "secret",
                    VolumeSource::DownwardApi(_) => "downward-api",
                    _ => "projected",
                };
                let (payload, tmpfs) = payload_of(client, tokens, pod, name, src).await?;
                write_volume(
                    root,
                    &meta.uid,
                    &format!("{}/{}", meta.namespace, meta.name),
                    kind,
                    name,
                    &payload,
                    tmpfs,
                    group,
                )?
            }
            Some(VolumeSource::PersistentVolumeClaim(c)) => {
                let pvcs: Api<PersistentVolumeClaim> =
                    Api::namespaced(client.clone(), &meta.namespace);
                // Kubernetes' volume manager: the pod waits (FailedMount) until its claim
                // is bound, with its words.
                let claim_error = |why: String| {
                    verr(
                        name,
                        format!(
                            "error processing PVC {}/{}: {why}",
                            meta.namespace, c.claim_name
                        ),
                    )
                };
                let pvc = pvcs.get_opt(&c.claim_name).await?.ok_or_else(|| {
                    claim_error(format!(
                        "failed to fetch PVC from API server: persistentvolumeclaims {:?} not found",
                        c.claim_name
                    ))
                })?;
                let pv_name = claim_volume(&pvc).map_err(|why| claim_error(why.into()))?;
                let pvs: Api<PersistentVolume> = Api::all(client.clone());
                let pv = pvs.get(&pv_name).await?;
                let spec = pv.spec.unwrap_or_default();
                let path = spec
                    .host_path
                    .map(|h| h.path)
                    .or_else(|| spec.local.map(|l| l.path))
                    .ok_or_else(|| {
                        verr(
                            name,
                            format!(
                                "persistentvolume {pv_name:?} is not a hostPath or local volume"
                            ),
                        )
                    })?;
                let p = PathBuf::from(path);
                std::fs::create_dir_all(&p).map_err(|e| verr(name, e.to_string()))?;
                p
            }
            // No plugin here mounts it: FailedMount, as Kubernetes, never a stand-in
            // directory the pod would take for its volume.
            Some(other) => return Err(verr(name, unsupported::no_plugin_message(name, other))),
            None => {
                // No source at all is an emptyDir (Kubernetes' defaulting).
                let p = base.join("unsupported").join(name);
                std::fs::create_dir_all(&p).map_err(|e| verr(name, e.to_string()))?;
                p
            }
        };
        out.insert(name.clone(), path.to_string_lossy().into_owned());
    }
    Ok(out)
}

/// The volume a claim is bound to, or why the pod must wait (Kubernetes' messages).
pub fn claim_volume(pvc: &PersistentVolumeClaim) -> std::result::Result<String, &'static str> {
    if pvc
        .metadata
        .as_ref()
        .is_some_and(|m| !m.deletion_timestamp.is_empty())
    {
        return Err("PVC is being deleted");
    }
    if pvc.status.as_ref().is_none_or(|s| s.phase != "Bound") {
        return Err("PVC is not bound");
    }
    match pvc.spec.as_ref().map(|s| s.volume_name.as_str()) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err("PVC has empty pvc.Spec.VolumeName"),
    }
}

/// Removes everything the kubelet made for a pod: first the mounts it made under the pod
/// directory (secret and projected tmpfs, subPath binds), then the directory, by handles,
/// never following a link and never crossing into a mount it did not make (such a mount is
/// logged and the directory around it stays).
pub fn cleanup(root: &Path, uid: &str) {
    if !safe_name(uid) {
        tracing::warn!(uid, "not cleaning up a pod with an invalid uid");
        return;
    }
    let dir = pod_dir(root, uid);
    if !dir.exists() {
        return;
    }
    if let Ok(canonical) = std::fs::canonicalize(&dir) {
        match mounts::mounts_under(&canonical) {
            Ok(plan) => {
                for d in plan {
                    match d {
                        mounts::Disposition::Unmount(p) => {
                            if let Err(e) = mounts::unmount(&p) {
                                tracing::warn!(uid, mount = %p.display(), error = %e, "unmounting failed");
                            }
                        }
                        mounts::Disposition::Foreign(p) => {
                            tracing::warn!(uid, mount = %p.display(), "a mount the kubelet did not make is under the pod directory; leaving it");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(uid, error = %e, "reading the mount table failed"),
        }
    }
    let removed = fsat::open_root(&root.join("pods"))
        .and_then(|pods| fsat::remove_all_at(&pods, std::ffi::OsStr::new(uid)));
    if let Err(e) = removed {
        tracing::warn!(uid, error = %e, "removing the pod's directory failed");
    }
}

#[cfg(test)]
mod writer_attacks;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_select_rename_and_set_modes() {
        let data: BTreeMap<String, Vec<u8>> = [
            ("k".to_string(), b"v".to_vec()),
            ("x".to_string(), b"y".to_vec()),
        ]
        .into();
        let items = vec![KeyToPath {
            key: "k".into(),
            path: "sub/file".into(),
            mode: Some(0o600),
        }];
        let f = key_files(KeySource::ConfigMap, &data, &items, 0o644, false).unwrap();
        assert_eq!(f.keys().collect::<Vec<_>>(), vec!["sub/file"]);
        assert_eq!(f["sub/file"].mode, 0o600);
        let all = key_files(KeySource::Secret, &data, &[], 0o400, false).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.values().all(|f| f.mode == 0o400));
        let missing = vec![KeyToPath {
            key: "nope".into(),
            path: "p".into(),
            mode: None,
        }];
        assert_eq!(
            key_files(KeySource::ConfigMap, &data, &missing, 0o644, false).unwrap_err(),
            "configmap references non-existent config key: nope"
        );
        assert_eq!(
            key_files(KeySource::Secret, &data, &missing, 0o644, false).unwrap_err(),
            "references non-existent secret key: nope"
        );
        assert!(
            key_files(KeySource::Secret, &data, &missing, 0o644, true)
                .unwrap()
                .is_empty(),
            "optional: missing keys are skipped"
        );
        for bad in ["../../etc/passwd", "/etc/passwd", "..data", "a//b"] {
            let items = vec![KeyToPath {
                key: "k".into(),
                path: bad.into(),
                mode: None,
            }];
            assert!(
                key_files(KeySource::ConfigMap, &data, &items, 0o644, false).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn writer_kinds_are_read_only_and_projections_cannot_collide() {
        assert!(is_kubelet_written(Some(&VolumeSource::Secret(
            Default::default()
        ))));
        assert!(is_kubelet_written(Some(&VolumeSource::Projected(
            Default::default()
        ))));
        assert!(!is_kubelet_written(Some(&VolumeSource::EmptyDir(
            Default::default()
        ))));
        let one = |k: &str| {
            Payload::from([(
                k.to_string(),
                FileData {
                    data: vec![],
                    mode: 0o644,
                },
            )])
        };
        let mut p = one("a");
        merge(&mut p, one("b")).unwrap();
        assert!(merge(&mut p, one("a")).unwrap_err().contains("conflicting"));
    }

    /// Unmounts (lazily) whatever is still mounted under a test's directory, also when the
    /// test failed.
    struct MountGuard(PathBuf);
    impl Drop for MountGuard {
        fn drop(&mut self) {
            let Ok(base) = std::fs::canonicalize(&self.0) else {
                return;
            };
            let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            let mut pts: Vec<PathBuf> = mounts::parse_mount_points(&text)
                .into_iter()
                .filter(|p| p.starts_with(&base))
                .collect();
            pts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
            for p in pts {
                let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
            }
        }
    }

    #[test]
    fn cleanup_unmounts_its_own_tmpfs_and_never_crosses_a_foreign_mount() {
        if !testkit::require(
            "cleanup_unmounts_its_own_tmpfs_and_never_crosses_a_foreign_mount",
            &[testkit::Prereq::Root],
        ) {
            return;
        }
        let tmp = tempfile::Builder::new()
            .prefix("kubelet-cleanup-mounts-")
            .tempdir()
            .unwrap();
        let _guard = MountGuard(tmp.path().to_path_buf());
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("pods")).unwrap();
        let uid = "uid-cleanup";
        let payload = Payload::from([(
            "k".to_string(),
            FileData {
                data: b"v".to_vec(),
                mode: 0o400,
            },
        )]);
        let vol = write_volume(&root, uid, "t/p", "secret", "s", &payload, true, None).unwrap();
        let pod = std::fs::canonicalize(pod_dir(&root, uid)).unwrap();
        let ours = mounts::Disposition::Unmount(pod.join("volumes/secret/s"));
        assert_eq!(mounts::mounts_under(&pod).unwrap(), vec![ours]);
        assert_eq!(std::fs::read(vol.join("k")).unwrap(), b"v");
        // Written again: still one tmpfs, not a second one on top.
        write_volume(&root, uid, "t/p", "secret", "s", &payload, true, None).unwrap();
        assert_eq!(mounts::mounts_under(&pod).unwrap().len(), 1);
        // A mount someone else made inside the pod directory, holding a file.
        let foreign = pod.join("volumes/nfs/e");
        std::fs::create_dir_all(&foreign).unwrap();
        nix::mount::mount(
            Some("tmpfs"),
            &foreign,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        std::fs::write(foreign.join("keep"), b"theirs").unwrap();
        cleanup(&root, uid);
        assert_eq!(
            mounts::mounts_under(&pod).unwrap(),
            vec![mounts::Disposition::Foreign(foreign.clone())],
            "ours unmounted, theirs left"
        );
        assert_eq!(std::fs::read(foreign.join("keep")).unwrap(), b"theirs");
        assert!(!vol.exists(), "the secret volume's directory is gone");
        mounts::unmount(&foreign).unwrap();
        cleanup(&root, uid);
        assert!(!pod.exists());
    }
}
