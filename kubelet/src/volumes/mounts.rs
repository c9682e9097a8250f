//! The mounts the kubelet makes for pods: a tmpfs under each secret and projected volume,
//! and a bind mount per subPath under `volume-subpaths/`. Deciding which mounts under a
//! pod's directory are the kubelet's own is a pure function of `/proc/self/mountinfo`;
//! cleanup unmounts only those and refuses to remove anything across another mount.

use super::fsat;
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// Every secret and projected volume gets at most this much memory.
pub const TMPFS_SIZE: &str = "64m";

/// The mount points of a mountinfo text (field 5, with its octal escapes undone).
pub fn parse_mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What cleanup does with a mount under a pod directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The kubelet made it: unmount.
    Unmount(PathBuf),
    /// Someone else did: leave it, and do not remove the pod directory across it.
    Foreign(PathBuf),
}

/// The mounts under `pod_dir` (canonical), deepest first, each marked as the kubelet's own
/// (a tmpfs at `volumes/secret/<v>`, `volumes/projected/<v>` or `volumes/empty-dir/<v>`, anything under
/// `volume-subpaths/`) or not.
pub fn plan_unmounts(mount_points: &[PathBuf], pod_dir: &Path) -> Vec<Disposition> {
    let mut under: Vec<&PathBuf> = mount_points
        .iter()
        .filter(|p| p.starts_with(pod_dir) && p.as_path() != pod_dir)
        .collect();
    under.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    under.dedup();
    let ours = |p: &Path| {
        let rel: Vec<String> = p
            .strip_prefix(pod_dir)
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        matches!(
            rel.iter().map(String::as_str).collect::<Vec<_>>()[..],
            ["volumes", "secret" | "projected" | "empty-dir", _] | ["volume-subpaths", _, _, _]
        )
    };
    let foreign: Vec<&PathBuf> = under.iter().copied().filter(|p| !ours(p)).collect();
    under
        .iter()
        .map(|p| {
            // One of ours with someone else's mount inside stays too: unmounting it would
            // take theirs along.
            let covers_foreign = foreign.iter().any(|f| f.starts_with(p) && f != p);
            if ours(p) && !covers_foreign {
                Disposition::Unmount((*p).clone())
            } else {
                Disposition::Foreign((*p).clone())
            }
        })
        .collect()
}

/// Mounts the kubelet makes are for the container runtime to see: they must be made in the
/// runtime's mount namespace. A kubelet started in a private one (`ip netns exec` makes
/// one) would hand the runtime empty directories; refuse instead.
pub fn check_host_namespace() -> Result<(), String> {
    let me = std::fs::read_link("/proc/self/ns/mnt").map_err(|e| e.to_string())?;
    let host = match std::fs::read_link("/proc/1/ns/mnt") {
        Ok(h) => h,
        // Cannot tell (not root, or no such process): assume the same.
        Err(_) => return Ok(()),
    };
    if me == host {
        Ok(())
    } else {
        Err(format!(
            "the kubelet runs in a mount namespace ({}) other than the host's ({}): mounts it makes would not be seen by the container runtime; run it in the host's mount namespace (for a network namespace: nsenter --net=..., not ip netns exec)",
            me.display(),
            host.display()
        ))
    }
}

/// True when `rel` beneath `dir` is on another file system than its parent (a mount point
/// of another device: a tmpfs).
pub fn is_mount_point(dir: impl std::os::fd::AsFd, rel: &str) -> std::io::Result<bool> {
    let dir = dir.as_fd();
    let (parent, leaf) = rel.rsplit_once('/').unwrap_or((".", rel));
    let p = fsat::open_dir(dir, parent)?;
    let parent_st = nix::sys::stat::fstat(&p).map_err(fsat::to_io)?;
    match fsat::lstat_at(&p, leaf)? {
        Some(st) => Ok(st.st_dev != parent_st.st_dev),
        None => Ok(false),
    }
}

/// A size-limited tmpfs at `target` (a directory the kubelet made).
pub fn mount_tmpfs(target: &Path) -> std::io::Result<()> {
    let data = format!("size={TMPFS_SIZE},mode=0755");
    nix::mount::mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(data.as_str()),
    )
    .map_err(fsat::to_io)
}

/// The tmpfs of an `emptyDir` with `medium: Memory`: `size` bytes (its sizeLimit), world
/// writable as every emptyDir, executables allowed (Kubernetes mounts it without noexec).
pub fn mount_memory_empty_dir(target: &Path, size: u64) -> std::io::Result<()> {
    let data = format!("size={size},mode=0777");
    nix::mount::mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(data.as_str()),
    )
    .map_err(fsat::to_io)
}

/// Bind-mounts what `source` (an open handle) refers to onto `target`, through its
/// `/proc/self/fd` path: the mount gets exactly the object that was opened, whatever its
/// path has become since (Kubernetes' safe subpath).
pub fn bind_fd(source: &std::os::fd::OwnedFd, target: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let src = format!("/proc/self/fd/{}", source.as_raw_fd());
    nix::mount::mount(
        Some(src.as_str()),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(fsat::to_io)
}

/// Unmounts `target` without following a link in its last name; a busy mount is detached.
pub fn unmount(target: &Path) -> std::io::Result<()> {
    match nix::mount::umount2(target, MntFlags::UMOUNT_NOFOLLOW) {
        Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => Ok(()),
        Err(nix::errno::Errno::EBUSY) => {
            nix::mount::umount2(target, MntFlags::UMOUNT_NOFOLLOW | MntFlags::MNT_DETACH)
                .map_err(fsat::to_io)
        }
        Err(e) => Err(fsat::to_io(e)),
    }
}

/// The mount points under `pod_dir` right now, from this process' mountinfo.
pub fn mounts_under(pod_dir: &Path) -> std::io::Result<Vec<Disposition>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(plan_unmounts(&parse_mount_points(&text), pod_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kubelets_own_mounts_are_unmounted() {
        let text = "\
36 35 98:0 / /var/lib/k/pods/u1/volumes/secret/s rw,nosuid - tmpfs tmpfs rw,size=65536k
37 35 98:0 / /var/lib/k/pods/u1/volumes/projected/p rw - tmpfs tmpfs rw
38 35 98:0 /x /var/lib/k/pods/u1/volume-subpaths/v/c/0 rw - ext4 /dev/sda rw
39 35 98:0 / /var/lib/k/pods/u1/volumes/nfs/e rw - nfs host:/x rw
40 35 98:0 / /var/lib/k/pods/u1/volumes/secret/s/deeper rw - tmpfs tmpfs rw
41 35 98:0 / /var/lib/k/pods/u2/volumes/secret/s rw - tmpfs tmpfs rw
42 35 98:0 / /var/lib/k/pods/u1/volumes/secret/with\\040space rw - tmpfs tmpfs rw
43 35 98:0 / /var/lib/k/pods/u1/volumes/empty-dir/mem rw - tmpfs tmpfs rw
";
        let pts = parse_mount_points(text);
        assert_eq!(
            pts[6],
            PathBuf::from("/var/lib/k/pods/u1/volumes/secret/with space")
        );
        let plan = plan_unmounts(&pts, Path::new("/var/lib/k/pods/u1"));
        let p = |s: &str| PathBuf::from(format!("/var/lib/k/pods/u1/{s}"));
        assert_eq!(plan.len(), 7, "{plan:?}");
        let at = |d: &Disposition| plan.iter().position(|x| x == d).unwrap();
        assert!(
            at(&Disposition::Foreign(p("volumes/secret/s/deeper")))
                < at(&Disposition::Foreign(p("volumes/secret/s"))),
            "deepest first; ours with a foreign mount inside is left too: {plan:?}"
        );
        assert!(plan.contains(&Disposition::Unmount(p("volumes/projected/p"))));
        assert!(plan.contains(&Disposition::Unmount(p("volume-subpaths/v/c/0"))));
        assert!(plan.contains(&Disposition::Foreign(p("volumes/nfs/e"))));
        // A memory-backed emptyDir's tmpfs.
        assert!(plan.contains(&Disposition::Unmount(p("volumes/empty-dir/mem"))));
        assert!(plan.contains(&Disposition::Unmount(p("volumes/secret/with space"))));
    }
}
