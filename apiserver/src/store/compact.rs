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

/// Refuses to go on when a compaction of `dir` was interrupted: serving then could mean
/// serving an empty store (the data dir renamed away) or one without the files it moved.
pub fn check_finished(dir: &Path) -> Result<()> {
    let fresh = sibling(dir, ".compacting");
    let old = sibling(dir, ".before-compaction");
    match (old.exists(), fresh.exists()) {
        (false, false) => Ok(()),
        (true, _) => Err(Error::Backend(format!(
            "a compaction of {} did not finish: {} holds the store as it was before; move it back to {} (and remove {} if present) before starting",
            dir.display(),
            old.display(),
            dir.display(),
            fresh.display()
        ))),
        (false, true) => Err(Error::Backend(format!(
            "a compaction of {} did not finish: {} is a partial copy; move any file in it that is not sled's (conf, db, blobs, snap.*) back to {}, then remove it",
            dir.display(),
            fresh.display(),
            dir.display()
        ))),
    }
}

/// Compacts the store in `dir`, which no process may have open. Other files in `dir`
/// (the service-account key the scripts keep there) move along with the store.
pub fn compact(dir: &Path) -> Result<CompactReport> {
    check_finished(dir)?;
    let fresh = sibling(dir, ".compacting");
    let old = sibling(dir, ".before-compaction");
    let mut report = CompactReport {
        bytes_before: size(dir),
        ..Default::default()
    };
    {
        // No background flusher: it would hold the files open after the handle is dropped.
        let src = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
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
            let from = src
                .open_tree(&name)
                .map_err(|e| backend("reading", dir, e))?;
            let to = dst
                .open_tree(&name)
                .map_err(|e| backend("writing", &fresh, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_compaction_stops_the_next_start() {
        let tmp = tempfile::Builder::new()
            .prefix("compact-test-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        assert!(check_finished(&dir).is_ok());
        std::fs::create_dir(tmp.path().join("data.compacting")).unwrap();
        let e = check_finished(&dir).unwrap_err().to_string();
        assert!(e.contains("data.compacting is a partial copy"), "{e}");
        std::fs::rename(&dir, tmp.path().join("data.before-compaction")).unwrap();
        let e = check_finished(&dir).unwrap_err().to_string();
        assert!(
            e.contains("data.before-compaction holds the store as it was before"),
            "{e}"
        );
    }

    #[test]
    fn keeps_live_entries_and_other_files_and_drops_the_history() {
        let tmp = tempfile::Builder::new()
            .prefix("compact-test-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("data");
        {
            let db = sled::Config::new()
                .path(&dir)
                .flush_every_ms(None)
                .open()
                .unwrap();
            db.open_tree("objects").unwrap().insert("k", "v").unwrap();
            db.open_tree("events").unwrap().insert("1", "old").unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("revision", "1")
                .unwrap();
            db.flush().unwrap();
        }
        std::fs::write(dir.join("sa.key"), "key").unwrap();
        let report = compact(&dir).unwrap();
        assert_eq!(report.entries, 2);
        assert_eq!(std::fs::read_to_string(dir.join("sa.key")).unwrap(), "key");
        let db = sled::Config::new().path(&dir).open().unwrap();
        assert_eq!(
            &*db.open_tree("objects").unwrap().get("k").unwrap().unwrap(),
            b"v"
        );
        assert!(db.open_tree("events").unwrap().is_empty());
        assert!(check_finished(&dir).is_ok());
    }
}
