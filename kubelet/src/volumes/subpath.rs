//! Safe subPath (Kubernetes' `pkg/volume/util/subpath/subpath_linux.go`, after
//! CVE-2017-1002101). A container can turn any name in a writable volume into a link, so
//! the kubelet never hands the runtime `<volume>/<subPath>` as a path: it opens the subPath
//! beneath the volume root (`openat2` with `RESOLVE_BENEATH`: links that stay inside the
//! volume resolve, as in Kubernetes; a link that leads out, absolute or by `..`, fails),
//! bind-mounts the opened handle onto a kubelet-owned target
//! `<root>/pods/<uid>/volume-subpaths/<volume>/<container>/<mount index>` and gives the
//! runtime that target. Whatever happens to the name afterwards, the mount holds the object
//! that was checked.

use super::{fsat, mounts};
use crate::error::{Error, Result};
use crate::runtime::Mount;
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{Mode, SFlag, mkdirat};
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The kubelet's checks of a subPath before it provisions it, with Kubernetes' messages
/// (`kubelet_pods.go` makeMounts).
pub fn validate(sub_path: &str) -> std::result::Result<(), String> {
    if sub_path.starts_with('/') {
        return Err(format!(
            "error SubPath `{sub_path}` must not be an absolute path"
        ));
    }
    if sub_path.split('/').any(|c| c == "..") {
        return Err(format!(
            "unable to provision SubPath `{sub_path}`: must not contain '..'"
        ));
    }
    Ok(())
}

/// A subPath mount still to prepare: where the volume is, and which mount of which
/// container it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub volume: String,
    pub sub_path: String,
    /// The mount's index in the container's `volumeMounts`.
    pub index: usize,
}

fn err(volume: &str, message: impl Into<String>) -> Error {
    Error::Volume {
        volume: volume.to_string(),
        message: message.into(),
    }
}

fn safe_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('/') && !s.starts_with('.') && !s.contains('\0')
}

/// Resolves every subPath mount of `mounts` (those with `sub_path` set, whose `host_path`
/// is still the volume's directory) into a bind mount under the pod's `volume-subpaths`,
/// and points the mount at it.
pub fn prepare_mounts(root: &Path, uid: &str, container: &str, mounts: &mut [Mount]) -> Result<()> {
    for m in mounts.iter_mut() {
        let Some(req) = m.sub_path.take() else {
            continue;
        };
        let target = prepare(root, uid, container, Path::new(&m.host_path), &req)?;
        m.host_path = target.to_string_lossy().into_owned();
    }
    Ok(())
}

/// Opens `req.sub_path` beneath `volume_path` (making it as a directory when missing, as
/// Kubernetes does, without following links) and bind-mounts it onto its target. Returns
/// the target.
pub fn prepare(
    root: &Path,
    uid: &str,
    container: &str,
    volume_path: &Path,
    req: &Request,
) -> Result<PathBuf> {
    let volume = req.volume.as_str();
    validate(&req.sub_path).map_err(|m| err(volume, m))?;
    for (what, s) in [
        ("pod uid", uid),
        ("volume", volume),
        ("container", container),
    ] {
        if !safe_name(s) {
            return Err(err(volume, format!("invalid {what} name {s:?}")));
        }
    }
    mounts::check_host_namespace().map_err(|m| err(volume, m))?;
    let root_fd = fsat::open_root(root).map_err(|e| err(volume, e.to_string()))?;
    let parent_rel = format!("pods/{uid}/volume-subpaths/{volume}/{container}");
    let parent = fsat::mkdir_all(&root_fd, &parent_rel, 0o750)
        .map_err(|e| err(volume, format!("making {parent_rel}: {e}")))?;
    let name = req.index.to_string();
    let target = root.join(&parent_rel).join(&name);
    // A target from an earlier start of this container: undone first and made afresh, so a
    // restart sees the subPath as it is now (or fails, with nothing bound, when it now
    // leads out).
    if mounts::is_mount_point(&parent, &name).map_err(|e| err(volume, e.to_string()))?
        || is_bind_of_same_fs(&parent, &name)
    {
        mounts::unmount(&target).map_err(|e| err(volume, format!("unmounting {target:?}: {e}")))?;
    }
    fsat::remove_all_at(&parent, OsStr::new(&name))
        .map_err(|e| err(volume, format!("clearing {target:?}: {e}")))?;
    let vol = fsat::open_root(volume_path)
        .map_err(|e| err(volume, format!("opening volume path {volume_path:?}: {e}")))?;
    let rel = req.sub_path.trim_matches('/');
    let source = match open_sub_path(&vol, rel) {
        Err(Errno::ENOENT) => {
            // Missing: made as a directory now, while it cannot be a link (a name made
            // later by the container could be).
            make_dirs(&vol, rel).map_err(|e| {
                err(
                    volume,
                    format!("creating subPath {:?}: {e}", req.sub_path),
                )
            })?;
            open_sub_path(&vol, rel)
        }
        other => other,
    }
    .map_err(|e| match e {
        Errno::EXDEV | Errno::ELOOP => err(
            volume,
            format!(
                "subpath {:?} not within volume path {volume_path:?}: it leads out of the volume through a link",
                req.sub_path
            ),
        ),
        e => err(volume, format!("opening subPath {:?}: {e}", req.sub_path)),
    })?;
    let st = nix::sys::stat::fstat(&source).map_err(|e| err(volume, e.to_string()))?;
    let is_dir = fsat::kind(&st) == SFlag::S_IFDIR;

    if is_dir {
        mkdirat(&parent, name.as_str(), Mode::from_bits_truncate(0o750))
            .map_err(|e| err(volume, format!("making {target:?}: {e}")))?;
    } else {
        fsat::open_beneath(
            &parent,
            &name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
            0o640,
        )
        .map_err(|e| err(volume, format!("making {target:?}: {e}")))?;
    }
    mounts::bind_fd(&source, &target).map_err(|e| {
        err(
            volume,
            format!("bind-mounting subPath {:?}: {e}", req.sub_path),
        )
    })?;
    tracing::debug!(volume, sub_path = %req.sub_path, target = %target.display(), "subPath bound");
    Ok(target)
}

/// A bind mount from the same file system keeps the device number; mountinfo tells.
fn is_bind_of_same_fs(parent: &OwnedFd, name: &str) -> bool {
    let Ok(dir) = std::fs::read_link(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(parent)
    )) else {
        return false;
    };
    let target = dir.join(name);
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| mounts::parse_mount_points(&t).contains(&target))
        .unwrap_or(false)
}

/// Makes the missing directories of `rel` beneath `vol` with the volume root's permission
/// bits (Kubernetes' `SafeMakeDir`: an emptyDir's 0777 stays writable for the container's
/// user), following no link.
fn make_dirs(vol: &OwnedFd, rel: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let perm = nix::sys::stat::fstat(vol).map_err(fsat::to_io)?.st_mode & 0o7777;
    let mut cur = fsat::open_dir(vol, ".")?;
    for comp in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
        let made = match mkdirat(&cur, comp, Mode::from_bits_truncate(0o700)) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(e) => return Err(fsat::to_io(e)),
        };
        cur = fsat::open_dir(&cur, comp)?;
        if made {
            // Not through mkdir's mode, which the umask trims.
            std::fs::File::from(cur.try_clone()?)
                .set_permissions(std::fs::Permissions::from_mode(perm))?;
        }
    }
    Ok(())
}

fn open_sub_path(vol: impl AsFd, rel: &str) -> std::result::Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(vol, if rel.is_empty() { "." } else { rel }, how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_paths_are_refused_with_kubernetes_messages() {
        assert!(validate("x").is_ok());
        assert!(validate("a/b..c/d").is_ok());
        assert_eq!(
            validate("/etc").unwrap_err(),
            "error SubPath `/etc` must not be an absolute path"
        );
        assert_eq!(
            validate("a/../../etc").unwrap_err(),
            "unable to provision SubPath `a/../../etc`: must not contain '..'"
        );
    }

    #[test]
    fn links_inside_resolve_links_out_are_refused() {
        if !testkit::require(
            "links_inside_resolve_links_out_are_refused",
            &[testkit::Prereq::Root],
        ) {
            return;
        }
        let tmp = tempfile::Builder::new()
            .prefix("kubelet-subpath-binds-")
            .tempdir()
            .unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        struct Guard(PathBuf);
        impl Drop for Guard {
            fn drop(&mut self) {
                let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
                let mut pts: Vec<PathBuf> = mounts::parse_mount_points(&text)
                    .into_iter()
                    .filter(|p| p.starts_with(&self.0))
                    .collect();
                pts.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
                for p in pts {
                    let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
                }
            }
        }
        let _guard = Guard(base.clone());
        let root = base.join("root");
        std::fs::create_dir_all(&root).unwrap();
        let vol = base.join("vol");
        let host = base.join("host");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(host.join("host-file"), b"host").unwrap();
        std::fs::create_dir_all(vol.join("real")).unwrap();
        std::fs::write(vol.join("real/f"), b"in volume").unwrap();
        std::os::unix::fs::symlink("real", vol.join("inside")).unwrap();
        std::os::unix::fs::symlink(&host, vol.join("abs-out")).unwrap();
        std::os::unix::fs::symlink("../host", vol.join("rel-out")).unwrap();
        std::os::unix::fs::symlink("real/../../host", vol.join("sneaky")).unwrap();
        let req = |sub: &str, index| Request {
            volume: "v".into(),
            sub_path: sub.into(),
            index,
        };
        let t = prepare(&root, "u1", "c", &vol, &req("inside", 0)).unwrap();
        assert_eq!(std::fs::read(t.join("f")).unwrap(), b"in volume");
        let t = prepare(&root, "u1", "c", &vol, &req("real/f", 1)).unwrap();
        assert_eq!(
            std::fs::read(&t).unwrap(),
            b"in volume",
            "a file binds as a file"
        );
        let t = prepare(&root, "u1", "c", &vol, &req("new/dir", 2)).unwrap();
        assert!(vol.join("new/dir").is_dir(), "a missing subPath is made");
        assert!(t.is_dir());
        for out in ["abs-out", "rel-out", "sneaky", "abs-out/host-file"] {
            let e = prepare(&root, "u1", "c", &vol, &req(out, 3)).unwrap_err();
            assert!(
                e.to_string().contains("not within volume path"),
                "{out}: {e}"
            );
        }
        // The name swapped for a link out after a first bind: the next prepare refuses, and
        // the old bind is gone.
        let t = prepare(&root, "u1", "c", &vol, &req("real", 4)).unwrap();
        assert!(t.join("f").exists());
        std::fs::rename(vol.join("real"), vol.join("moved")).unwrap();
        std::os::unix::fs::symlink(&host, vol.join("real")).unwrap();
        let e = prepare(&root, "u1", "c", &vol, &req("real", 4)).unwrap_err();
        assert!(e.to_string().contains("not within volume path"), "{e}");
        assert!(!t.join("host-file").exists());
        assert!(!t.join("f").exists(), "the earlier bind was undone");
        assert_eq!(std::fs::read(host.join("host-file")).unwrap(), b"host");
    }
}
