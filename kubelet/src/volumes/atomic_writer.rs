//! Kubernetes' atomic writer for configMap, secret, downwardAPI and projected volumes,
//! made so that nothing in the volume directory can steer it. The layout is Kubernetes':
//!
//! ```text
//! <volume>/..2026_12_06_03_49_31.1234   the data, written fresh on each change
//! <volume>/..data -> ..2026_12_06_03_49_31.1234   swapped by rename: readers see old or new
//! <volume>/<top> -> ..data/<top>          one link per top-level name of the payload
//! ```
//!
//! The writer works only through a handle on the volume directory and names relative to it
//! ([`super::fsat`]): it reads `..data` without following it and accepts only a name of its
//! own `..<timestamp>` form that is a real directory; anything else means the volume was
//! tampered with, which is logged, and the volume is rebuilt from scratch. Files are created
//! with `O_EXCL | O_NOFOLLOW` in a directory it just made, removal unlinks names inside the
//! handle (directories depth first, links never followed, mount points refused), and every
//! entry of the volume directory that is not part of the new state is removed, so a planted
//! link at any level is deleted, never followed.

use super::fsat;
use nix::errno::Errno;
use nix::fcntl::{OFlag, renameat};
use nix::sys::stat::{Mode, SFlag, mkdirat};
use nix::unistd::symlinkat;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

const DATA_LINK: &str = "..data";
const NEW_DATA_LINK: &str = "..data_tmp";
/// Kubernetes' limits on an item path and on each of its names.
const MAX_PATH_LENGTH: usize = 4096;
const MAX_FILE_NAME_LENGTH: usize = 255;
/// Kubernetes' default `defaultMode` for every projected kind.
pub const DEFAULT_MODE: u32 = 0o644;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid path: {0}")]
    InvalidPath(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> WriteError {
    let context = context.into();
    move |source| WriteError::Io { context, source }
}

/// One file of a payload: its content and permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// Relative path to file.
pub type Payload = BTreeMap<String, FileData>;

/// Kubernetes' `validatePath` of the atomic writer (and the API's validation of item paths):
/// not empty, relative, no `..` name, not starting with `..` (those names are the writer's),
/// and, stricter than Kubernetes' path cleaning, no empty or `.` names.
pub fn validate_path(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err(format!("must not be empty: {p:?}"));
    }
    if p.starts_with('/') {
        return Err(format!("must be relative path: {p}"));
    }
    if p.len() > MAX_PATH_LENGTH {
        return Err(format!(
            "must be less than or equal to {MAX_PATH_LENGTH} characters"
        ));
    }
    let items: Vec<&str> = p.split('/').collect();
    for item in &items {
        if *item == ".." {
            return Err(format!("must not contain '..': {p}"));
        }
        if item.is_empty() || *item == "." {
            return Err(format!("must not contain empty or '.' path elements: {p}"));
        }
        if item.len() > MAX_FILE_NAME_LENGTH {
            return Err(format!(
                "filenames must be less than or equal to {MAX_FILE_NAME_LENGTH} characters"
            ));
        }
        if item.contains('\0') {
            return Err(format!("must not contain NUL: {p:?}"));
        }
    }
    if items[0].starts_with("..") {
        return Err(format!("must not start with '..': {p}"));
    }
    Ok(())
}

/// Every path valid, and no path both a file and the directory of another.
pub fn validate_payload(payload: &Payload) -> Result<(), String> {
    for p in payload.keys() {
        validate_path(p)?;
        let mut prefix = String::new();
        for comp in p.split('/') {
            if !prefix.is_empty() {
                if payload.contains_key(&prefix) {
                    return Err(format!("{prefix} is both a file and a directory"));
                }
                prefix.push('/');
            }
            prefix.push_str(comp);
        }
    }
    Ok(())
}

/// The top-level names a payload shows to the container (`a` for `a/b/c`).
pub fn top_level_names(payload: &Payload) -> BTreeSet<String> {
    payload
        .keys()
        .map(|k| k.split('/').next().unwrap_or(k).to_string())
        .collect()
}

/// True for `..YYYY_MM_DD_HH_MM_SS.<digits>`, the only data directory names this writer
/// makes and the only targets of `..data` it accepts.
pub fn is_data_dir_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("..") else {
        return false;
    };
    let Some((stamp, suffix)) = rest.split_once('.') else {
        return false;
    };
    let shape = stamp.len() == 19
        && stamp.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 10 | 13 | 16 => b == b'_',
            _ => b.is_ascii_digit(),
        });
    shape && !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit())
}

fn data_dir_name(now: std::time::SystemTime, n: u32) -> String {
    // `2026-12-06T03:49:31Z...` -> `2026_12_06_03_49_31`
    let t = proto::time::format_rfc3339(now);
    let stamp: String = t
        .chars()
        .take(19)
        .map(|c| if c.is_ascii_digit() { c } else { '_' })
        .collect();
    format!("..{stamp}.{n}")
}

/// Permission bits as written: Kubernetes' `SetVolumeOwnership` for these (read-only)
/// volumes adds group read (and, on directories, setgid and group search) when an fsGroup
/// is set.
pub fn file_mode(mode: u32, fs_group: Option<u32>) -> u32 {
    let m = mode & 0o777;
    if fs_group.is_some() { m | 0o440 } else { m }
}

pub fn dir_mode(fs_group: Option<u32>) -> u32 {
    if fs_group.is_some() { 0o2755 } else { 0o755 }
}

/// The writer for one volume directory, held open.
pub struct AtomicWriter {
    dir: OwnedFd,
    /// For logs: the pod and volume.
    label: String,
}

impl AtomicWriter {
    /// A writer for the directory `dir` (already open; see [`fsat::mkdir_all`]).
    pub fn new(dir: OwnedFd, label: impl Into<String>) -> Self {
        AtomicWriter {
            dir,
            label: label.into(),
        }
    }

    /// The data directory `..data` names, when it is one this writer made: a link whose
    /// target has the writer's name form and is a real directory. `Err(reason)` when the
    /// volume was tampered with.
    fn current(&self) -> Result<Option<String>, String> {
        let target = match fsat::read_link_at(&self.dir, DATA_LINK) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return match fsat::lstat_at(&self.dir, DATA_LINK) {
                    Ok(None) => Ok(None),
                    Ok(Some(_)) => Err(format!("{DATA_LINK} is not a link")),
                    Err(e) => Err(format!("{DATA_LINK}: {e}")),
                };
            }
            Err(e) => return Err(format!("{DATA_LINK}: {e}")),
        };
        let Some(name) = target.to_str().filter(|t| is_data_dir_name(t)) else {
            return Err(format!(
                "{DATA_LINK} points at {target:?}, which is not a data directory of this writer"
            ));
        };
        match fsat::lstat_at(&self.dir, name) {
            Ok(Some(st)) if fsat::kind(&st) == SFlag::S_IFDIR => Ok(Some(name.to_string())),
            Ok(_) => Err(format!("{DATA_LINK} points at {name:?}, not a directory")),
            Err(e) => Err(format!("{name}: {e}")),
        }
    }

    /// True when the volume shows exactly `payload`: the data directory holds exactly these
    /// files with these modes (and group), every top-level name is the writer's link and
    /// nothing else is in the volume directory. Any doubt (an error, a link where a file
    /// should be) is "no": the caller rewrites.
    fn shows(&self, current: &str, payload: &Payload, fs_group: Option<u32>) -> bool {
        let Ok(data) = fsat::open_dir(&self.dir, current) else {
            return false;
        };
        let Ok(tree) = fsat::read_tree(&data) else {
            return false;
        };
        if !tree.other.is_empty() || tree.files.len() != payload.len() {
            return false;
        }
        let files_match = payload.iter().all(|(k, f)| {
            tree.files.get(k).is_some_and(|(data, mode, gid)| {
                *data == f.data
                    && *mode == file_mode(f.mode, fs_group)
                    && fs_group.is_none_or(|g| *gid == g)
            })
        });
        if !files_match {
            return false;
        }
        let tops = top_level_names(payload);
        let links_match = tops.iter().all(|t| {
            fsat::read_link_at(&self.dir, t)
                .ok()
                .flatten()
                .is_some_and(|l| l == OsStr::new(&format!("{DATA_LINK}/{t}")))
        });
        let Ok(names) = fsat::entries(&self.dir) else {
            return false;
        };
        links_match
            && names.iter().all(|n| {
                n.to_str()
                    .is_some_and(|n| n == DATA_LINK || n == current || tops.contains(n))
            })
    }

    /// Makes the volume show `payload`. Returns whether anything was written.
    pub fn write(&self, payload: &Payload, fs_group: Option<u32>) -> Result<bool, WriteError> {
        validate_payload(payload).map_err(WriteError::InvalidPath)?;
        let current = match self.current() {
            Ok(c) => c,
            Err(reason) => {
                tracing::warn!(volume = %self.label, %reason, "volume directory was tampered with; rebuilding it without following anything in it");
                None
            }
        };
        if let Some(cur) = &current
            && self.shows(cur, payload, fs_group)
        {
            return Ok(false);
        }
        let (name, data) = self.make_data_dir(fs_group)?;
        for (path, f) in payload {
            write_file(&data, path, f, fs_group).map_err(io(format!("writing {path}")))?;
        }
        drop(data);
        self.swap_data_link(&name)?;
        let tops = top_level_names(payload);
        for top in &tops {
            let want = format!("{DATA_LINK}/{top}");
            let ok = fsat::read_link_at(&self.dir, top)
                .ok()
                .flatten()
                .is_some_and(|l| l == OsStr::new(&want));
            if !ok {
                fsat::remove_all_at(&self.dir, OsStr::new(top))
                    .map_err(io(format!("removing {top}")))?;
                symlinkat(want.as_str(), &self.dir, top.as_str())
                    .map_err(fsat::to_io)
                    .map_err(io(format!("linking {top}")))?;
            }
        }
        // Everything else goes: the old data directory, keys that went away, and whatever
        // was planted.
        for entry in fsat::entries(&self.dir).map_err(io("listing the volume"))? {
            let keep = entry
                .to_str()
                .is_some_and(|n| n == DATA_LINK || n == name || tops.contains(n));
            if keep {
                continue;
            }
            let ours = entry
                .to_str()
                .is_some_and(|n| n == NEW_DATA_LINK || is_data_dir_name(n))
                || current.as_deref() == entry.to_str();
            if !ours && !is_old_top_link(&self.dir, &entry) {
                tracing::warn!(volume = %self.label, entry = %entry.to_string_lossy(), "removing an entry this writer did not make");
            }
            fsat::remove_all_at(&self.dir, &entry)
                .map_err(io(format!("removing {}", entry.to_string_lossy())))?;
        }
        Ok(true)
    }

    fn make_data_dir(&self, fs_group: Option<u32>) -> Result<(String, OwnedFd), WriteError> {
        let now = std::time::SystemTime::now();
        for _ in 0..16 {
            let name = data_dir_name(now, rand::random::<u32>());
            match mkdirat(&self.dir, name.as_str(), Mode::from_bits_truncate(0o700)) {
                Ok(()) => {}
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(io("making the data directory")(fsat::to_io(e))),
            }
            let fd = fsat::open_dir(&self.dir, &name).map_err(io(format!("opening {name}")))?;
            set_owner_mode(&fd, dir_mode(fs_group), fs_group)
                .map_err(io(format!("setting the mode of {name}")))?;
            return Ok((name, fd));
        }
        Err(io("making the data directory")(std::io::Error::other(
            "no free name",
        )))
    }

    /// Points `..data` at `name` in one rename (readers see the old or the new data).
    fn swap_data_link(&self, name: &str) -> Result<(), WriteError> {
        fsat::remove_all_at(&self.dir, OsStr::new(NEW_DATA_LINK))
            .map_err(io(format!("removing {NEW_DATA_LINK}")))?;
        symlinkat(name, &self.dir, NEW_DATA_LINK)
            .map_err(fsat::to_io)
            .map_err(io(format!("linking {NEW_DATA_LINK}")))?;
        // rename(2) will not put a link over a directory: a planted `..data` directory goes
        // first (its content is removed, never followed).
        if let Ok(Some(st)) = fsat::lstat_at(&self.dir, DATA_LINK)
            && fsat::kind(&st) == SFlag::S_IFDIR
        {
            fsat::remove_all_at(&self.dir, OsStr::new(DATA_LINK))
                .map_err(io(format!("removing a {DATA_LINK} directory")))?;
        }
        renameat(&self.dir, NEW_DATA_LINK, &self.dir, DATA_LINK)
            .map_err(fsat::to_io)
            .map_err(io(format!("renaming {NEW_DATA_LINK} to {DATA_LINK}")))
    }
}

/// A link `x -> ..data/x` of a key that went away: expected, not worth a warning.
fn is_old_top_link(dir: &OwnedFd, entry: &OsStr) -> bool {
    let Some(name) = entry.to_str() else {
        return false;
    };
    fsat::read_link_at(dir, name)
        .ok()
        .flatten()
        .is_some_and(|l| l == OsStr::new(&format!("{DATA_LINK}/{name}")))
}

fn set_owner_mode(fd: &OwnedFd, mode: u32, fs_group: Option<u32>) -> std::io::Result<()> {
    let f = std::fs::File::from(fd.try_clone()?);
    if let Some(g) = fs_group {
        std::os::unix::fs::fchown(&f, None, Some(g))?;
    }
    // After the chown: changing the group clears setgid on some file systems.
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// Writes one file under the fresh data directory `data`, making its parents. Created with
/// `O_EXCL | O_NOFOLLOW` beneath `data`: never through a link, never outside.
fn write_file(
    data: &OwnedFd,
    path: &str,
    f: &FileData,
    fs_group: Option<u32>,
) -> std::io::Result<()> {
    let (parent, leaf) = match path.rsplit_once('/') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let parent_fd = match parent {
        Some(p) => {
            let fd = fsat::mkdir_all(data, p, 0o700)?;
            // Each directory made on the way gets the directory mode.
            let mut cur = fsat::open_dir(data, ".")?;
            for comp in p.split('/') {
                cur = fsat::open_dir(&cur, comp)?;
                set_owner_mode(&cur, dir_mode(fs_group), fs_group)?;
            }
            fd
        }
        None => fsat::open_dir(data, ".")?,
    };
    let fd = fsat::open_beneath(
        parent_fd.as_fd(),
        leaf,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
        0o600,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(&f.data)?;
    if let Some(g) = fs_group {
        std::os::unix::fs::fchown(&file, None, Some(g))?;
    }
    file.set_permissions(std::fs::Permissions::from_mode(file_mode(f.mode, fs_group)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_names_are_only_the_writers_own() {
        let n = data_dir_name(std::time::UNIX_EPOCH, 42);
        assert_eq!(n, "..1970_01_01_00_00_00.42");
        assert!(is_data_dir_name(&n));
        for bad in [
            "..data",
            "..data_tmp",
            "/etc",
            "../x",
            "..1970_01_01_00_00_00.",
            "..1970_01_01_00_00_00.1/x",
            "..1970_01_01_00_00_00.1/../../etc",
            "1970_01_01_00_00_00.1",
            "..1970-01-01_00_00_00.1",
            "...",
        ] {
            assert!(!is_data_dir_name(bad), "{bad}");
        }
    }

    #[test]
    fn item_paths_are_validated_as_kubernetes_does() {
        for ok in ["a", "a/b", "a.b", "a..b", "dir/..x"] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "must not be empty"),
            ("/etc/passwd", "must be relative path"),
            ("a/../../etc", "must not contain '..'"),
            ("..", "must not contain '..'"),
            ("..data", "must not start with '..'"),
            ("..2026_01_01_00_00_00.1/x", "must not start with '..'"),
            ("a//b", "empty"),
            ("a/./b", "empty or '.'"),
            ("a/", "empty"),
        ] {
            let e = validate_path(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let mut p = Payload::new();
        p.insert(
            "a".into(),
            FileData {
                data: vec![],
                mode: 0o644,
            },
        );
        p.insert(
            "a/b".into(),
            FileData {
                data: vec![],
                mode: 0o644,
            },
        );
        assert!(validate_payload(&p).unwrap_err().contains("both"));
    }

    #[test]
    fn modes_with_and_without_fs_group() {
        assert_eq!(file_mode(0o400, None), 0o400);
        assert_eq!(file_mode(0o400, Some(2000)), 0o440);
        assert_eq!(file_mode(0o7777, None), 0o777);
        assert_eq!(dir_mode(Some(1)), 0o2755);
    }
}
