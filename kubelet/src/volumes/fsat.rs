//! File operations relative to an open directory handle that never follow a symbolic link
//! and never leave the directory they start from: what a root daemon needs to work inside
//! a tree that a container can write to (or could have written to before it was made
//! read-only). Every path here is relative; `openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS` refuses `..`, absolute names and links on every component, so a
//! name swapped for a link between two calls makes the call fail instead of reaching
//! outside.

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat2, readlinkat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

pub fn to_io(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn strict() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH
        | ResolveFlag::RESOLVE_NO_SYMLINKS
        | ResolveFlag::RESOLVE_NO_MAGICLINKS
}

/// Opens `rel` beneath `dir` with `flags`, following no link on any component.
pub fn open_beneath(dir: impl AsFd, rel: &str, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .mode(Mode::from_bits_truncate(mode))
        .resolve(strict());
    openat2(dir, rel, how).map_err(to_io)
}

/// Opens the directory `rel` beneath `dir` (no links followed; `.` is `dir` itself).
pub fn open_dir(dir: impl AsFd, rel: &str) -> io::Result<OwnedFd> {
    open_beneath(dir, rel, OFlag::O_DIRECTORY | OFlag::O_RDONLY, 0)
}

/// Opens an absolute path as a directory handle: the one place a path is resolved the
/// ordinary way, for the kubelet's own root directory (which a pod cannot reach).
pub fn open_root(path: &std::path::Path) -> io::Result<OwnedFd> {
    let f = std::fs::File::open(path)?;
    if !f.metadata()?.is_dir() {
        return Err(to_io(Errno::ENOTDIR));
    }
    Ok(f.into())
}

/// What `name` in `dir` is, without following it; `None` when absent.
pub fn lstat_at(dir: impl AsFd, name: &str) -> io::Result<Option<FileStat>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(to_io(e)),
    }
}

pub fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// The target of the link `name` in `dir`; `None` when `name` is absent or not a link.
pub fn read_link_at(dir: impl AsFd, name: &str) -> io::Result<Option<OsString>> {
    match readlinkat(dir, name) {
        Ok(t) => Ok(Some(t)),
        Err(Errno::ENOENT | Errno::EINVAL) => Ok(None),
        Err(e) => Err(to_io(e)),
    }
}

/// Makes `rel` (and every missing parent) beneath `dir` with `mode`, refusing links on the
/// way, and returns it opened.
pub fn mkdir_all(dir: impl AsFd, rel: &str, mode: u32) -> io::Result<OwnedFd> {
    let mut cur = open_dir(dir, ".")?;
    for comp in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
        match mkdirat(&cur, comp, Mode::from_bits_truncate(mode)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(to_io(e)),
        }
        cur = open_dir(&cur, comp)?;
    }
    Ok(cur)
}

/// The names in `dir` (without `.` and `..`).
pub fn entries(dir: impl AsFd) -> io::Result<Vec<OsString>> {
    // A fresh handle: a directory stream shares its offset with the handle it came from.
    let fd = open_dir(dir, ".")?;
    let mut d = nix::dir::Dir::from_fd(fd).map_err(to_io)?;
    let mut out = Vec::new();
    for e in d.iter() {
        let e = e.map_err(to_io)?;
        let name = e.file_name().to_bytes();
        if name != b"." && name != b".." {
            out.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(out)
}

/// Removes `name` from `dir` and, when it is a directory, everything in it, depth first,
/// by names relative to handles: links are removed, never followed, and a mount point
/// (another file system under `dir`) is refused rather than entered.
pub fn remove_all_at(dir: impl AsFd, name: &OsStr) -> io::Result<()> {
    let dir = dir.as_fd();
    let Some(st) = lstat_os(dir, name)? else {
        return Ok(());
    };
    if kind(&st) != SFlag::S_IFDIR {
        return unlink_os(dir, name, UnlinkatFlags::NoRemoveDir);
    }
    let how = OpenHow::new()
        .flags(OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(strict() | ResolveFlag::RESOLVE_NO_XDEV);
    let child = match openat2(dir, name, how) {
        Ok(fd) => fd,
        // Swapped for a link or a file since the lstat: remove that name itself.
        Err(Errno::ELOOP | Errno::ENOTDIR) => {
            return unlink_os(dir, name, UnlinkatFlags::NoRemoveDir);
        }
        Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::EXDEV) => {
            return Err(io::Error::other(format!(
                "{}: is a mount point; not removing across it",
                name.to_string_lossy()
            )));
        }
        Err(e) => return Err(to_io(e)),
    };
    let here = nix::sys::stat::fstat(&child).map_err(to_io)?;
    if here.st_dev != st.st_dev {
        return Err(io::Error::other(format!(
            "{}: is a mount point; not removing across it",
            name.to_string_lossy()
        )));
    }
    // Everything that can go goes; the first failure (a mount point inside) is reported
    // after the rest was tried, and the directories around it stay.
    let mut first_err = None;
    for e in entries(&child)? {
        if let Err(err) = remove_all_at(&child, &e) {
            first_err.get_or_insert(err);
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => unlink_os(dir, name, UnlinkatFlags::RemoveDir),
    }
}

fn lstat_os(dir: impl AsFd, name: &OsStr) -> io::Result<Option<FileStat>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(to_io(e)),
    }
}

fn unlink_os(dir: impl AsFd, name: &OsStr, flag: UnlinkatFlags) -> io::Result<()> {
    match unlinkat(dir, name, flag) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(to_io(e)),
    }
}

/// Regular files beneath `dir`, by relative path, with their content and permission bits.
/// Links and anything else that is not a file or a directory are not followed; they are
/// reported in `other` so a caller can tell a tree it did not write.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: std::collections::BTreeMap<String, (Vec<u8>, u32, u32)>,
    pub other: Vec<String>,
}

/// Reads the tree under `dir` (files: content, mode bits, group), following no link.
pub fn read_tree(dir: impl AsFd) -> io::Result<Tree> {
    let mut t = Tree::default();
    walk(dir.as_fd(), "", &mut |rel, st, fd| {
        match (st.map(kind), fd) {
            (Some(SFlag::S_IFREG), Some(fd)) => {
                let mut f = std::fs::File::from(fd);
                let mut buf = Vec::new();
                io::Read::read_to_end(&mut f, &mut buf)?;
                let (mode, gid) = st
                    .map(|s| (s.st_mode & 0o7777, s.st_gid))
                    .unwrap_or_default();
                t.files.insert(rel.to_string(), (buf, mode, gid));
            }
            (Some(SFlag::S_IFDIR), _) => {}
            _ => t.other.push(rel.to_string()),
        }
        Ok(())
    })?;
    Ok(t)
}

/// How many regular files are beneath `dir`; links (to files or directories) are neither
/// counted nor followed.
pub fn count_files(dir: impl AsFd) -> io::Result<usize> {
    let mut n = 0;
    walk(dir.as_fd(), "", &mut |_, st, _| {
        if st.map(kind) == Some(SFlag::S_IFREG) {
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}

/// Visits every entry: its relative path, what it is (`None` for a name that is not UTF-8,
/// which nothing here writes) and, for a regular file, a read handle.
type Visit<'a> = dyn FnMut(&str, Option<&FileStat>, Option<OwnedFd>) -> io::Result<()> + 'a;

fn walk(dir: std::os::fd::BorrowedFd<'_>, prefix: &str, f: &mut Visit<'_>) -> io::Result<()> {
    for name in entries(dir)? {
        let Some(name) = name.to_str().map(str::to_string) else {
            f(&format!("{prefix}{}", name.to_string_lossy()), None, None)?;
            continue;
        };
        let rel = format!("{prefix}{name}");
        let Some(st) = lstat_at(dir, &name)? else {
            continue;
        };
        match kind(&st) {
            SFlag::S_IFDIR => {
                f(&rel, Some(&st), None)?;
                let child = open_dir(dir, &name)?;
                walk(child.as_fd(), &format!("{rel}/"), f)?;
            }
            SFlag::S_IFREG => {
                // Non-blocking: a name swapped for a FIFO must not hang the reader.
                let fd = open_beneath(dir, &name, OFlag::O_RDONLY | OFlag::O_NONBLOCK, 0)?;
                f(&rel, Some(&st), Some(fd))?;
            }
            _ => f(&rel, Some(&st), None)?,
        }
    }
    Ok(())
}
