//! The archives `ctl cp` moves through exec: written from a local file or tree (for
//! `tar xmf -` in the container) and read from `tar cf -` into a local destination. Reading
//! never writes outside the destination: entries whose path climbs out (`..`) are skipped
//! with kubectl's warning, symlinks are not made (kubectl's rule), and nothing is written
//! through a symlink that already exists below the destination.

use super::spec::clean;
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Writes `src` (a file, a symlink or a whole directory) as an archive whose top entry is
/// `name`.
pub fn build(src: &Path, name: &str, out: impl Write) -> std::io::Result<()> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    if std::fs::symlink_metadata(src)?.is_dir() {
        b.append_dir_all(name, src)?;
    } else {
        b.append_path_with_name(src, name)?;
    }
    b.into_inner()?.flush()
}

/// Where an entry goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Inside(String),
    /// The lexical destination, which is outside `dest`.
    Outside(String),
}

/// kubectl's placement of entry `name` of an archive whose entries all start with `prefix`
/// (the source path): `dest` joined with the rest, cleaned.
pub fn place(dest: &str, prefix: &str, name: &str) -> Result<Placement> {
    let Some(rest) = name.strip_prefix(prefix) else {
        bail!("tar contents corrupted");
    };
    let base = clean(dest);
    let joined = clean(&format!("{base}/{rest}"));
    Ok(if is_inside(&base, &joined) {
        Placement::Inside(joined)
    } else {
        Placement::Outside(joined)
    })
}

/// Whether cleaned `target` is `base` or below it.
fn is_inside(base: &str, target: &str) -> bool {
    match base {
        "." => target != ".." && !target.starts_with("../") && !target.starts_with('/'),
        "/" => target.starts_with('/'),
        b => target == b || target.starts_with(&format!("{b}/")),
    }
}

/// A symlink among the existing path components below `dest` down to `target` (which is
/// inside `dest`): writing there would follow it.
fn symlink_below(dest: &Path, target: &Path) -> Option<PathBuf> {
    let (rest, mut p) = if dest == Path::new(".") {
        (target, PathBuf::new())
    } else {
        (target.strip_prefix(dest).ok()?, dest.to_path_buf())
    };
    for c in rest.components() {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return Some(p),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// What reading an archive said besides writing files (kubectl's warnings).
pub type Warn<'a> = &'a mut dyn FnMut(String);

/// Reads the archive of `tar cf - SRC` into `dest`; `prefix` is [`super::spec::archive_prefix`]
/// of SRC; `hint` is the command kubectl suggests for symlinks. A single file whose
/// destination is an existing directory goes into it.
pub fn extract(
    input: impl Read,
    dest: &str,
    prefix: &str,
    hint: &str,
    warn: Warn<'_>,
) -> Result<usize> {
    let mut archive = tar::Archive::new(input);
    let mut written = 0;
    let mut hinted = false;
    let dest_path = Path::new(dest);
    for entry in archive.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let target = match place(dest, prefix, &name)? {
            Placement::Inside(t) => PathBuf::from(t),
            Placement::Outside(t) => {
                warn(format!(
                    "warning: file {t:?} is outside target destination, skipping"
                ));
                continue;
            }
        };
        let kind = entry.header().entry_type();
        let mut target = target;
        if kind.is_file() && target == Path::new(&clean(dest)) && dest_path.is_dir() {
            // `cp pod:/etc/hosts dir`: into the directory, as cp(1) does.
            target = target.join(super::spec::base(&name));
        }
        if let Some(link) = symlink_below(&clean_path(dest_path), &target) {
            warn(format!(
                "warning: file {:?} is below the symlink {:?}, skipping",
                target.display().to_string(),
                link.display().to_string()
            ));
            continue;
        }
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        if kind.is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?;
            continue;
        }
        if kind.is_symlink() {
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            let t = target.display().to_string();
            if !hinted && !hint.is_empty() {
                warn(format!(
                    "warning: skipping symlink: {t:?} -> {link:?} (consider using \"{hint}\")"
                ));
                hinted = true;
            } else {
                warn(format!("warning: skipping symlink: {t:?} -> {link:?}"));
            }
            continue;
        }
        if !kind.is_file() {
            warn(format!(
                "warning: skipping {:?}: not a regular file or directory",
                target.display().to_string()
            ));
            continue;
        }
        let mut out = std::fs::File::create(&target)
            .with_context(|| format!("creating {}", target.display()))?;
        std::io::copy(&mut entry, &mut out)
            .with_context(|| format!("writing {}", target.display()))?;
        written += 1;
    }
    Ok(written)
}

fn clean_path(p: &Path) -> PathBuf {
    PathBuf::from(clean(&p.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_stays_inside_the_destination() {
        let p = |d: &str, pre: &str, n: &str| place(d, pre, n).unwrap();
        assert_eq!(
            p("out", "tmp/d", "tmp/d/a/b"),
            Placement::Inside("out/a/b".into())
        );
        assert_eq!(p("out", "tmp/d", "tmp/d/"), Placement::Inside("out".into()));
        assert_eq!(p("out", "tmp/f", "tmp/f"), Placement::Inside("out".into()));
        assert_eq!(
            p("/x/out", "", "a/../b"),
            Placement::Inside("/x/out/b".into())
        );
        assert_eq!(p(".", "", "a"), Placement::Inside("a".into()));
        assert_eq!(
            p("out", "tmp/d", "tmp/d/../../evil"),
            Placement::Outside("../evil".into())
        );
        assert_eq!(
            p("/x/out", "", "../out2/evil"),
            Placement::Outside("/x/out2/evil".into())
        );
        assert_eq!(p(".", "", "../evil"), Placement::Outside("../evil".into()));
        // An absolute entry name stays below the destination.
        assert_eq!(
            p("out", "", "/etc/passwd"),
            Placement::Inside("out/etc/passwd".into())
        );
        assert_eq!(
            place("out", "tmp/d", "etc/passwd").unwrap_err().to_string(),
            "tar contents corrupted"
        );
    }

    /// An archive entry with a raw name (the tar crate refuses `..` in names it writes).
    fn raw_entry(
        b: &mut tar::Builder<Vec<u8>>,
        name: &str,
        kind: tar::EntryType,
        data: &[u8],
        link: &str,
    ) {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    #[test]
    fn extraction_refuses_escapes_and_symlinks() {
        let root = tempfile::Builder::new()
            .prefix("ctl-cp-extraction_refuses_escapes_and_symlinks-")
            .tempdir()
            .unwrap();
        let dest = root.path().join("out");
        std::fs::create_dir(&dest).unwrap();
        // A symlink already in the destination, pointing outside it.
        let outside = root.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("link")).unwrap();

        let mut b = tar::Builder::new(Vec::new());
        raw_entry(&mut b, "d/", tar::EntryType::Directory, b"", "");
        raw_entry(&mut b, "d/ok.txt", tar::EntryType::Regular, b"fine", "");
        raw_entry(
            &mut b,
            "d/../../evil.txt",
            tar::EntryType::Regular,
            b"evil",
            "",
        );
        raw_entry(
            &mut b,
            "d/sub/../../../evil2.txt",
            tar::EntryType::Regular,
            b"evil",
            "",
        );
        raw_entry(
            &mut b,
            "d/link/through.txt",
            tar::EntryType::Regular,
            b"evil",
            "",
        );
        raw_entry(&mut b, "d/sym", tar::EntryType::Symlink, b"", "/etc/passwd");
        raw_entry(
            &mut b,
            "d/sub/deep.txt",
            tar::EntryType::Regular,
            b"deep",
            "",
        );
        let bytes = b.into_inner().unwrap();

        let mut warnings = Vec::new();
        let dest_s = dest.to_string_lossy().to_string();
        let n = extract(&bytes[..], &dest_s, "d", "ctl exec x", &mut |w| {
            warnings.push(w)
        })
        .unwrap();
        assert_eq!(n, 2, "{warnings:?}");
        assert_eq!(std::fs::read(dest.join("ok.txt")).unwrap(), b"fine");
        assert_eq!(std::fs::read(dest.join("sub/deep.txt")).unwrap(), b"deep");
        assert!(!root.path().join("evil.txt").exists());
        assert!(!root.path().join("evil2.txt").exists());
        assert!(!outside.join("through.txt").exists());
        assert!(!dest.join("sym").exists());
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("is outside target destination, skipping"));
        assert!(warnings[2].contains("below the symlink"));
        assert!(warnings[3].starts_with("warning: skipping symlink: "));
        assert!(warnings[3].contains("(consider using \"ctl exec x\")"));
    }

    #[test]
    fn a_tree_round_trips_and_a_file_lands_in_a_directory() {
        let root = tempfile::Builder::new()
            .prefix("ctl-cp-a_tree_round_trips-")
            .tempdir()
            .unwrap();
        let src = root.path().join("src");
        std::fs::create_dir_all(src.join("a/b")).unwrap();
        std::fs::create_dir_all(src.join("empty")).unwrap();
        std::fs::write(src.join("top.txt"), "top").unwrap();
        std::fs::write(src.join("a/b/leaf.txt"), "leaf").unwrap();
        let mut bytes = Vec::new();
        build(&src, "copy", &mut bytes).unwrap();
        let dest = root.path().join("dest");
        let n = extract(&bytes[..], &dest.to_string_lossy(), "copy", "", &mut |w| {
            panic!("{w}")
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            std::fs::read_to_string(dest.join("top.txt")).unwrap(),
            "top"
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("a/b/leaf.txt")).unwrap(),
            "leaf"
        );
        assert!(dest.join("empty").is_dir());

        let mut one = Vec::new();
        build(&src.join("top.txt"), "top.txt", &mut one).unwrap();
        let into = root.path().join("into");
        std::fs::create_dir(&into).unwrap();
        extract(&one[..], &into.to_string_lossy(), "top.txt", "", &mut |w| {
            panic!("{w}")
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(into.join("top.txt")).unwrap(),
            "top"
        );
        let file = root.path().join("renamed.txt");
        extract(&one[..], &file.to_string_lossy(), "top.txt", "", &mut |w| {
            panic!("{w}")
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(file).unwrap(), "top");
    }
}
