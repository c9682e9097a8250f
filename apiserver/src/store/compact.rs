//! Offline compaction of a sled store directory (etcd's compact + defrag in one): the live
//! trees are copied into a fresh directory that then replaces the old one, and the event
//! history is left behind. sled keeps old page images in its log file until its segment
//! cleaner reuses them, so a rewrite or a delete alone leaves earlier values (the plain text
//! of Secrets written before encryption was turned on, values under a dropped key) in the
//! files; after this they are in no file of the store. Watches from before it get Expired
//! and relist. The old files are deleted, not overwritten: their blocks stay on the disk
//! until the filesystem reuses them.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::{Error, Result};

/// The tree holding the watch history (see `sled_store`): not carried over.
const HISTORY_TREE: &[u8] = b"events";
/// Entries copied per batch.
const BATCH: usize = 1024;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactReport {
    pub trees: usize,
    pub entries: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

fn backend(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Backend(format!("compacting {}: {what}: {e}", path.display()))
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

/// Bytes in all files under `dir`.
fn size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Compacts the store in `dir`, which no process may have open. Other files in `dir`
/// (the service-account key the scripts keep there) move along with the store.
pub fn compact(dir: &Path) -> Result<CompactReport> {
    let fresh = sibling(dir, ".compacting");
    let old = sibling(dir, ".before-compaction");
    for leftover in [&fresh, &old] {
        if leftover.exists() {
            return Err(backend(
                "a previous compaction did not finish",
                leftover,
                "move it away (the store is whichever of it and the data dir holds the db file you trust)",
            ));
        }
    }
    let mut report = CompactReport {
        bytes_before: size(dir),
        ..Default::default()
    };
    {
        let src = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|e| backend("opening", dir, e))?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&fresh)
            .map_err(|e| backend("creating", &fresh, e))?;
        let dst = sled::Config::new()
            .path(&fresh)
            .flush_every_ms(None)
            .open()
            .map_err(|e| backend("opening", &fresh, e))?;
        for name in src.tree_names() {
            if &*name == HISTORY_TREE {
                continue;
            }
            let from = src.open_tree(&name).map_err(|e| backend("reading", dir, e))?;
            let to = dst.open_tree(&name).map_err(|e| backend("writing", &fresh, e))?;
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for kv in from.iter() {
                let (k, v) = kv.map_err(|e| backend("reading", dir, e))?;
                batch.insert(k, v);
                n += 1;
                report.entries += 1;
                if n == BATCH {
                    to.apply_batch(std::mem::take(&mut batch))
                        .map_err(|e| backend("writing", &fresh, e))?;
                    n = 0;
                }
            }
            to.apply_batch(batch)
                .map_err(|e| backend("writing", &fresh, e))?;
            report.trees += 1;
        }
        dst.flush().map_err(|e| backend("flushing", &fresh, e))?;
    }
    // Files that are not sled's (sled's own: conf, db, blobs/, snap.*) come along.
    for entry in std::fs::read_dir(dir).map_err(|e| backend("listing", dir, e))? {
        let entry = entry.map_err(|e| backend("listing", dir, e))?;
        let name = entry.file_name();
        let s = name.to_string_lossy();
        if s == "conf" || s == "db" || s == "blobs" || s.starts_with("snap.") {
            continue;
        }
        std::fs::rename(entry.path(), fresh.join(&name))
            .map_err(|e| backend("moving", &entry.path(), e))?;
    }
    std::fs::rename(dir, &old).map_err(|e| backend("renaming", dir, e))?;
    std::fs::rename(&fresh, dir).map_err(|e| {
        backend(
            "renaming",
            &fresh,
            format!("{e} (the old store is in {})", old.display()),
        )
    })?;
    std::fs::remove_dir_all(&old).map_err(|e| backend("removing", &old, e))?;
    if let Some(parent) = dir.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    report.bytes_after = size(dir);
    Ok(report)
}
