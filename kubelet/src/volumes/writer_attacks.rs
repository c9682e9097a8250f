//! The atomic writer against a volume directory someone tampered with: `..data` pointing
//! out, links planted at the top level and inside the data directory, a thread swapping
//! links while writes run. Every target is a canary directory the test made; after each
//! attack the canary must hold exactly what it held before.

use super::atomic_writer::{AtomicWriter, FileData, Payload};
use super::fsat;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

struct Scene {
    _tmp: tempfile::TempDir,
    vol: PathBuf,
    canary: PathBuf,
}

fn scene(test: &str) -> Scene {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("kubelet-{test}-"))
        .tempdir()
        .unwrap();
    let canary = tmp.path().join("canary");
    std::fs::create_dir_all(canary.join("nested")).unwrap();
    std::fs::write(canary.join("c1"), b"canary one").unwrap();
    std::fs::write(canary.join("a"), b"canary a").unwrap();
    std::fs::write(canary.join("nested/c2"), b"canary two").unwrap();
    let vol = tmp.path().join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    Scene {
        _tmp: tmp,
        vol,
        canary,
    }
}

/// Every file under `dir` (not following links) with its content.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let fd = fsat::open_root(dir).unwrap();
    fsat::read_tree(&fd)
        .unwrap()
        .files
        .into_iter()
        .map(|(k, (data, _, _))| (k, data))
        .collect()
}

fn canary_intact(s: &Scene) {
    let want: BTreeMap<String, Vec<u8>> = [
        ("a".to_string(), b"canary a".to_vec()),
        ("c1".to_string(), b"canary one".to_vec()),
        ("nested/c2".to_string(), b"canary two".to_vec()),
    ]
    .into();
    assert_eq!(snapshot(&s.canary), want, "the canary directory changed");
}

fn writer(s: &Scene) -> AtomicWriter {
    AtomicWriter::new(fsat::open_root(&s.vol).unwrap(), "test")
}

fn payload(pairs: &[(&str, &str)]) -> Payload {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                FileData {
                    data: v.as_bytes().to_vec(),
                    mode: 0o644,
                },
            )
        })
        .collect()
}

fn read(s: &Scene, rel: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(s.vol.join(rel)).unwrap()).into_owned()
}

fn data_dirs(s: &Scene) -> Vec<String> {
    std::fs::read_dir(&s.vol)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| super::atomic_writer::is_data_dir_name(n))
        .collect()
}

fn replace_with_link(target: &Path, at: &Path) {
    if std::fs::symlink_metadata(at).is_ok_and(|m| m.is_dir()) {
        std::fs::remove_dir_all(at).unwrap();
    } else {
        let _ = std::fs::remove_file(at);
    }
    symlink(target, at).unwrap();
}

#[test]
fn writes_swap_content_in_place() {
    let s = scene("swap");
    let w = writer(&s);
    assert!(w.write(&payload(&[("a", "1"), ("b", "2")]), None).unwrap());
    assert_eq!(read(&s, "a"), "1");
    assert!(
        !w.write(&payload(&[("a", "1"), ("b", "2")]), None).unwrap(),
        "unchanged: no write"
    );
    assert!(
        w.write(&payload(&[("a", "10"), ("d/e", "3")]), None)
            .unwrap()
    );
    assert_eq!(read(&s, "a"), "10");
    assert_eq!(read(&s, "d/e"), "3");
    assert!(!s.vol.join("b").exists(), "a removed key disappears");
    assert_eq!(data_dirs(&s).len(), 1, "the old data directory is gone");
}

#[test]
fn data_link_pointing_out_is_never_followed() {
    let s = scene("datalink");
    let w = writer(&s);
    w.write(&payload(&[("a", "1")]), None).unwrap();
    // The attack of issue 12: `ln -sfn <host dir> /cfg/..data`, then a ConfigMap change.
    for target in [
        s.canary.clone(),
        PathBuf::from("../canary"),
        PathBuf::from("..data/../../canary"),
    ] {
        replace_with_link(&target, &s.vol.join("..data"));
        assert!(w.write(&payload(&[("a", "2")]), None).unwrap());
        canary_intact(&s);
        assert_eq!(read(&s, "a"), "2");
        w.write(&payload(&[("a", "1")]), None).unwrap();
        canary_intact(&s);
    }
    // A name of the writer's own form that is itself a link out.
    let fake = s.vol.join("..1970_01_01_00_00_00.1");
    symlink(&s.canary, &fake).unwrap();
    replace_with_link(Path::new("..1970_01_01_00_00_00.1"), &s.vol.join("..data"));
    assert!(w.write(&payload(&[("a", "3")]), None).unwrap());
    canary_intact(&s);
    assert_eq!(read(&s, "a"), "3");
    assert!(
        std::fs::symlink_metadata(&fake).is_err(),
        "the planted link is removed"
    );
    // `..data` as a real directory holding a link out, and as a plain file.
    std::fs::remove_file(s.vol.join("..data")).unwrap();
    std::fs::create_dir(s.vol.join("..data")).unwrap();
    symlink(&s.canary, s.vol.join("..data/a")).unwrap();
    assert!(w.write(&payload(&[("a", "4")]), None).unwrap());
    canary_intact(&s);
    assert_eq!(read(&s, "a"), "4");
    std::fs::remove_file(s.vol.join("..data")).unwrap();
    std::fs::write(s.vol.join("..data"), b"x").unwrap();
    assert!(w.write(&payload(&[("a", "5")]), None).unwrap());
    canary_intact(&s);
    assert_eq!(read(&s, "a"), "5");
    assert_eq!(data_dirs(&s).len(), 1);
}

#[test]
fn links_planted_at_the_top_or_in_the_data_dir_are_not_followed() {
    let s = scene("planted");
    let w = writer(&s);
    w.write(&payload(&[("a", "1"), ("d/e", "2")]), None)
        .unwrap();
    // The top-level name of a key made a link to a host file: the container must see the
    // key's value, not the host file, after the next write.
    replace_with_link(&s.canary.join("c1"), &s.vol.join("a"));
    replace_with_link(&s.canary, &s.vol.join("d"));
    symlink(&s.canary, s.vol.join("junk")).unwrap();
    // And inside the current data directory.
    let cur = std::fs::read_link(s.vol.join("..data")).unwrap();
    replace_with_link(&s.canary.join("c1"), &s.vol.join(&cur).join("a"));
    replace_with_link(&s.canary, &s.vol.join(&cur).join("d"));
    assert!(
        w.write(&payload(&[("a", "1"), ("d/e", "2")]), None)
            .unwrap(),
        "a tampered volume is rewritten even when the payload did not change"
    );
    canary_intact(&s);
    assert_eq!(read(&s, "a"), "1");
    assert_eq!(read(&s, "d/e"), "2");
    assert!(std::fs::symlink_metadata(s.vol.join("junk")).is_err());
    assert_eq!(
        std::fs::read_link(s.vol.join("a")).unwrap(),
        Path::new("..data/a")
    );
}

#[test]
fn counting_and_reading_ignore_links() {
    let s = scene("count");
    std::fs::create_dir(s.vol.join("d")).unwrap();
    std::fs::write(s.vol.join("d/f"), b"x").unwrap();
    symlink(&s.canary, s.vol.join("d/to-canary")).unwrap();
    symlink(s.canary.join("c1"), s.vol.join("file-link")).unwrap();
    let fd = fsat::open_root(&s.vol).unwrap();
    assert_eq!(fsat::count_files(&fd).unwrap(), 1, "links are not counted");
    let t = fsat::read_tree(&fd).unwrap();
    assert_eq!(t.files.len(), 1);
    assert_eq!(t.other.len(), 2, "links reported, not followed: {t:?}");
}

#[test]
fn link_races_never_reach_outside() {
    let s = scene("race");
    let w = writer(&s);
    w.write(&payload(&[("a", "0")]), None).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let vol = s.vol.clone();
    let canary = s.canary.clone();
    let stop2 = stop.clone();
    let attacker = std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            n += 1;
            // Swap whatever is there now for links out, at every level the writer touches.
            let names: Vec<String> = std::fs::read_dir(&vol)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let pick = &names.get((n as usize) % names.len().max(1)).cloned();
            let tmp = vol.join(format!(".swap{n}"));
            let target: &Path = if n.is_multiple_of(2) {
                &canary
            } else {
                Path::new("../canary")
            };
            if symlink(target, &tmp).is_ok() {
                let at = match (n % 4, pick) {
                    (0, _) => vol.join("..data"),
                    (1, Some(p)) => vol.join(p),
                    // Only inside a real directory: the attacker itself must not write
                    // through one of its own links into the canary.
                    (2, Some(p))
                        if std::fs::symlink_metadata(vol.join(p)).is_ok_and(|m| m.is_dir()) =>
                    {
                        vol.join(p).join("a")
                    }
                    _ => vol.join("a"),
                };
                // rename(2) swaps atomically: the writer sees the old or the link.
                if std::fs::rename(&tmp, &at).is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
            }
            std::thread::yield_now();
        }
        n
    });
    let started = std::time::Instant::now();
    let mut writes = 0;
    while writes < 300 && started.elapsed() < std::time::Duration::from_secs(20) {
        // Errors are allowed (the next sync retries); reaching outside is not.
        let _ = w.write(&payload(&[("a", &writes.to_string()), ("b/c", "x")]), None);
        writes += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = attacker.join().unwrap();
    assert!(swaps > 10, "the attacker ran ({swaps} swaps)");
    canary_intact(&s);
    // Once the attacker stops, the volume heals on the next write.
    w.write(&payload(&[("a", "final"), ("b/c", "x")]), None)
        .unwrap();
    canary_intact(&s);
    assert_eq!(read(&s, "a"), "final");
    assert_eq!(read(&s, "b/c"), "x");
    let names: Vec<String> = std::fs::read_dir(&s.vol)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "..data, one data dir, a, b: {names:?}");
}

#[test]
fn modes_and_fs_group() {
    let s = scene("modes");
    let w = writer(&s);
    let mut p = payload(&[("plain", "1")]);
    p.insert(
        "secret".into(),
        FileData {
            data: b"2".to_vec(),
            mode: 0o400,
        },
    );
    p.insert(
        "dir/exec".into(),
        FileData {
            data: b"3".to_vec(),
            mode: 0o755,
        },
    );
    w.write(&p, None).unwrap();
    let mode = |rel: &str| std::fs::metadata(s.vol.join(rel)).unwrap().mode() & 0o7777;
    assert_eq!(mode("plain"), 0o644);
    assert_eq!(mode("secret"), 0o400);
    assert_eq!(mode("dir/exec"), 0o755);
    assert_eq!(mode("dir"), 0o755);
    // fsGroup: group-owned and group-readable, directories setgid.
    let gid = 4242;
    assert!(w.write(&p, Some(gid)).unwrap(), "a new group is a change");
    let meta = |rel: &str| std::fs::metadata(s.vol.join(rel)).unwrap();
    assert_eq!(mode("plain"), 0o644);
    assert_eq!(mode("secret"), 0o440);
    assert_eq!(mode("dir"), 0o2755);
    for f in ["plain", "secret", "dir/exec", "dir"] {
        assert_eq!(meta(f).gid(), gid, "{f}");
    }
    assert!(!w.write(&p, Some(gid)).unwrap(), "unchanged");
    // A mode changed behind the writer's back is put right.
    let cur = std::fs::read_link(s.vol.join("..data")).unwrap();
    std::fs::set_permissions(
        s.vol.join(cur).join("secret"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    assert!(w.write(&p, Some(gid)).unwrap());
    assert_eq!(mode("secret"), 0o440);
}
