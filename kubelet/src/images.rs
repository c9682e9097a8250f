//! Images made on the node itself, since no registry is reachable: the pause image (the
//! sandbox) and a busybox image for workloads, both a root filesystem holding Debian's static
//! busybox (`busybox-static`, `/bin/busybox`) imported through the runtime. Also loading of
//! `docker save` tarballs from `--image-dir`.

use crate::error::{Error, Result};
use crate::runtime::Runtime;
use std::path::Path;

/// The sandbox image: busybox sleeping forever (it only holds the namespaces).
pub const PAUSE_IMAGE: &str = "kubelet.local/pause:busybox";
/// A general-purpose image for workloads and tests (`sh`, `nc`, `httpd`, `sleep`...).
pub const BUSYBOX_IMAGE: &str = "local/busybox:1";

/// Applets linked in the image as `/bin/<name>` (plus `/bin/busybox` itself).
const APPLETS: &[&str] = &[
    "sh", "ash", "cat", "echo", "sleep", "ls", "nc", "httpd", "wget", "env", "hostname", "ip",
    "ifconfig", "ps", "kill", "true", "false", "test", "[", "grep", "sed", "date", "mkdir", "rm",
    "touch", "ping", "id", "pwd", "printf", "head", "tail", "wc", "sort", "uname", "mount", "top",
    "find", "xargs", "tr", "cut", "expr", "seq", "yes", "awk", "cp", "mv", "ln", "chmod", "stat",
    "df", "du", "free", "nslookup", "timeout", "netstat", "vi", "tee", "basename", "dirname",
    "readlink", "sync", "usleep", "trap",
];

/// A root filesystem tarball: `/bin/busybox`, applet symlinks, and the directories a
/// container expects.
pub fn busybox_rootfs(busybox: &[u8]) -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let io = |e| Error::io("building the image tarball", e);
    for dir in [
        "bin", "etc", "tmp", "proc", "sys", "dev", "root", "var", "usr", "usr/bin",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(if dir == "tmp" { 0o1777 } else { 0o755 });
        h.set_size(0);
        h.set_mtime(0);
        b.append_data(&mut h, format!("{dir}/"), std::io::empty())
            .map_err(io)?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o755);
    h.set_size(busybox.len() as u64);
    h.set_mtime(0);
    b.append_data(&mut h, "bin/busybox", busybox).map_err(io)?;
    for applet in APPLETS {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        h.set_mtime(0);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .map_err(io)?;
    }
    for (name, content) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        h.set_mtime(0);
        b.append_data(&mut h, name, content.as_bytes())
            .map_err(io)?;
    }
    b.into_inner().map_err(io)
}

/// Makes `image` from the host's busybox unless the runtime has it already.
pub async fn ensure_busybox_image<R: Runtime>(
    runtime: &R,
    image: &str,
    busybox_path: &Path,
    cmd: &[&str],
) -> Result<()> {
    if runtime.inspect_image(image).await?.is_some() {
        return Ok(());
    }
    let bin = std::fs::read(busybox_path).map_err(|e| {
        Error::io(
            format!(
                "reading {} to build image {image} (install Debian's busybox-static)",
                busybox_path.display()
            ),
            e,
        )
    })?;
    let tar = busybox_rootfs(&bin)?;
    let cmd_json = serde_json::to_string(cmd).unwrap_or_else(|_| "[]".into());
    let changes = vec![
        format!("CMD {cmd_json}"),
        "ENV PATH=/bin:/usr/bin".to_string(),
    ];
    runtime
        .import_rootfs(image, bytes::Bytes::from(tar), &changes)
        .await?;
    tracing::info!(image, "built image from {}", busybox_path.display());
    Ok(())
}

/// The pause image and the busybox workload image.
pub async fn ensure_local_images<R: Runtime>(runtime: &R, busybox_path: &Path) -> Result<()> {
    ensure_busybox_image(
        runtime,
        PAUSE_IMAGE,
        busybox_path,
        &["/bin/busybox", "sleep", "2147483647"],
    )
    .await?;
    ensure_busybox_image(runtime, BUSYBOX_IMAGE, busybox_path, &["sh"]).await
}

/// Loads every `*.tar` (a `docker save` archive) in `dir`; returns how many loaded.
pub async fn load_image_dir<R: Runtime>(runtime: &R, dir: &Path) -> Result<usize> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("reading image dir {}", dir.display()), e))?;
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("tar") {
            continue;
        }
        let data = tokio::fs::read(&path)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        match runtime.load_image(bytes::Bytes::from(data)).await {
            Ok(()) => {
                n += 1;
                tracing::info!(path = %path.display(), "loaded image tarball");
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "loading image tarball failed")
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_has_busybox_and_applet_links() {
        let tar_bytes = busybox_rootfs(b"\x7fELF fake").unwrap();
        let mut a = tar::Archive::new(&tar_bytes[..]);
        let mut names = Vec::new();
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            if p == "bin/sh" {
                assert_eq!(e.link_name().unwrap().unwrap().to_string_lossy(), "busybox");
            }
            names.push(p);
        }
        assert!(names.contains(&"bin/busybox".to_string()));
        assert!(names.contains(&"bin/nc".to_string()));
        assert!(names.contains(&"tmp/".to_string()));
    }

    #[tokio::test]
    async fn images_are_imported_once() {
        let rt = crate::runtime::fake::FakeRuntime::new();
        let dir = tempfile::tempdir().unwrap();
        let bb = dir.path().join("busybox");
        std::fs::write(&bb, b"bin").unwrap();
        ensure_local_images(&rt, &bb).await.unwrap();
        ensure_local_images(&rt, &bb).await.unwrap();
        let imports = rt
            .calls()
            .into_iter()
            .filter(|c| matches!(c, crate::runtime::fake::Call::Import(_)))
            .count();
        assert_eq!(imports, 2, "pause and busybox, each once");
    }
}
