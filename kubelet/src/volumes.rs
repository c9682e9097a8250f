//! Pod volumes on the node: emptyDir (a directory under the root dir, removed with the pod),
//! hostPath, configMap and secret (files written atomically and replaced in place when the
//! object changes, through a `..data` symlink swap as Kubernetes' atomic writer does), and
//! persistentVolumeClaim bound to a hostPath PersistentVolume.

use crate::error::{Error, Result};
use client::{Api, Client};
use proto::k8s::{
    ConfigMap, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Secret,
    volume::VolumeSource,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

fn verr(volume: &str, message: impl Into<String>) -> Error {
    Error::Volume {
        volume: volume.to_string(),
        message: message.into(),
    }
}

/// The files of a configMap or secret volume: `items` when given, else every key.
pub fn projected_files(
    data: &BTreeMap<String, Vec<u8>>,
    items: &[KeyToPath],
) -> std::result::Result<BTreeMap<String, Vec<u8>>, String> {
    if items.is_empty() {
        return Ok(data.clone());
    }
    let mut out = BTreeMap::new();
    for it in items {
        let Some(v) = data.get(&it.key) else {
            return Err(format!(
                "configmap references non-existent config key: {}",
                it.key
            ));
        };
        if it.path.contains("..") || it.path.starts_with('/') {
            return Err(format!("invalid path {:?}", it.path));
        }
        out.insert(it.path.clone(), v.clone());
    }
    Ok(out)
}

/// Writes `files` into `dir` atomically: a fresh timestamped directory, then the `..data`
/// symlink swapped to it by rename, and one `name -> ..data/name` link per top-level entry.
/// Returns whether anything changed.
pub fn atomic_write(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<bool> {
    std::fs::create_dir_all(dir)?;
    let data_link = dir.join("..data");
    // Unchanged: nothing to do.
    if let Ok(current) = std::fs::read_link(&data_link) {
        let cur = dir.join(current);
        let same = files
            .iter()
            .all(|(k, v)| std::fs::read(cur.join(k)).ok().as_deref() == Some(v.as_slice()))
            && count_files(&cur) == files.len();
        if same {
            return Ok(false);
        }
    }
    let stamp = format!(
        "..{}_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
        std::process::id()
    );
    let new_dir = dir.join(&stamp);
    std::fs::create_dir_all(&new_dir)?;
    for (k, v) in files {
        let p = new_dir.join(k);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, v)?;
    }
    let tmp_link = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp_link);
    std::os::unix::fs::symlink(&stamp, &tmp_link)?;
    let old = std::fs::read_link(&data_link).ok();
    std::fs::rename(&tmp_link, &data_link)?;
    // Top-level names link through ..data.
    let mut tops: Vec<String> = files
        .keys()
        .map(|k| k.split('/').next().unwrap_or(k).to_string())
        .collect();
    tops.dedup();
    for top in &tops {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{top}"), &link)?;
        }
    }
    // Links to keys that went away, and the old data directory.
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !tops.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old
        && old != Path::new(&stamp)
    {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    Ok(true)
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                n += count_files(&e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// Makes every volume of the pod and returns its host directory by volume name.
/// Called again on each sync: configMap and secret contents follow their objects.
pub async fn setup(client: &Client, root: &Path, pod: &Pod) -> Result<HashMap<String, String>> {
    let meta = pod.metadata.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let base = pod_dir(root, &meta.uid).join("volumes");
    let mut out = HashMap::new();
    for v in &spec.volumes {
        let name = &v.name;
        let path: PathBuf = match &v.volume_source {
            Some(VolumeSource::EmptyDir(_)) => {
                let p = base.join("empty-dir").join(name);
                std::fs::create_dir_all(&p).map_err(|e| verr(name, e.to_string()))?;
                p
            }
            Some(VolumeSource::HostPath(h)) => {
                let p = PathBuf::from(&h.path);
                match h.r#type.as_deref().unwrap_or("") {
                    "DirectoryOrCreate" => {
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
            Some(VolumeSource::ConfigMap(c)) => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &meta.namespace);
                let data: BTreeMap<String, Vec<u8>> = match api.get_opt(&c.name).await? {
                    Some(cm) => cm
                        .data
                        .into_iter()
                        .map(|(k, v)| (k, v.into_bytes()))
                        .chain(cm.binary_data)
                        .collect(),
                    None if c.optional == Some(true) => BTreeMap::new(),
                    None => return Err(verr(name, format!("configmap {:?} not found", c.name))),
                };
                let files = projected_files(&data, &c.items).map_err(|m| verr(name, m))?;
                let p = base.join("configmap").join(name);
                atomic_write(&p, &files).map_err(|e| verr(name, e.to_string()))?;
                p
            }
            Some(VolumeSource::Secret(s)) => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &meta.namespace);
                let data: BTreeMap<String, Vec<u8>> = match api.get_opt(&s.secret_name).await? {
                    Some(sec) => sec.data.into_iter().collect(),
                    None if s.optional == Some(true) => BTreeMap::new(),
                    None => {
                        return Err(verr(name, format!("secret {:?} not found", s.secret_name)));
                    }
                };
                let files = projected_files(&data, &s.items).map_err(|m| verr(name, m))?;
                let p = base.join("secret").join(name);
                atomic_write(&p, &files).map_err(|e| verr(name, e.to_string()))?;
                p
            }
            Some(VolumeSource::PersistentVolumeClaim(c)) => {
                let pvcs: Api<PersistentVolumeClaim> =
                    Api::namespaced(client.clone(), &meta.namespace);
                let pvc = pvcs.get(&c.claim_name).await?;
                let pv_name = pvc.spec.map(|s| s.volume_name).unwrap_or_default();
                if pv_name.is_empty() {
                    return Err(verr(
                        name,
                        format!("persistentvolumeclaim {:?} is not bound", c.claim_name),
                    ));
                }
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
            Some(_) | None => {
                // Unsupported sources get an empty directory so the pod still runs.
                tracing::warn!(pod = %meta.name, volume = %name, "volume type not supported; using an empty directory");
                let p = base.join("unsupported").join(name);
                std::fs::create_dir_all(&p).map_err(|e| verr(name, e.to_string()))?;
                p
            }
        };
        out.insert(name.clone(), path.to_string_lossy().into_owned());
    }
    Ok(out)
}

/// Removes everything the kubelet made for a pod (emptyDirs, configMap and secret copies).
pub fn cleanup(root: &Path, uid: &str) {
    let dir = pod_dir(root, uid);
    if dir.exists()
        && let Err(e) = std::fs::remove_dir_all(&dir)
    {
        tracing::warn!(uid, error = %e, "removing the pod's directory failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_swaps_content_in_place() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("cm");
        let mut files = BTreeMap::new();
        files.insert("a".to_string(), b"1".to_vec());
        files.insert("b".to_string(), b"2".to_vec());
        assert!(atomic_write(&dir, &files).unwrap());
        assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"1");
        assert!(!atomic_write(&dir, &files).unwrap(), "unchanged: no write");
        files.insert("a".to_string(), b"10".to_vec());
        files.remove("b");
        assert!(atomic_write(&dir, &files).unwrap());
        assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"10");
        assert!(!dir.join("b").exists(), "a removed key disappears");
        let data_dirs = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir() && e.file_name() != "..data")
            .count();
        assert_eq!(data_dirs, 1, "the old data directory is gone");
    }

    #[test]
    fn items_select_and_rename_keys() {
        let data: BTreeMap<String, Vec<u8>> = [
            ("k".to_string(), b"v".to_vec()),
            ("x".to_string(), b"y".to_vec()),
        ]
        .into();
        let items = vec![KeyToPath {
            key: "k".into(),
            path: "sub/file".into(),
            mode: None,
        }];
        let f = projected_files(&data, &items).unwrap();
        assert_eq!(f.keys().collect::<Vec<_>>(), vec!["sub/file"]);
        let bad = vec![KeyToPath {
            key: "nope".into(),
            path: "p".into(),
            mode: None,
        }];
        assert!(projected_files(&data, &bad).unwrap_err().contains("nope"));
    }
}
