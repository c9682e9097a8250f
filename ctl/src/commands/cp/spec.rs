//! kubectl cp's file specs (`[[NAMESPACE/]POD:]PATH`) and the path arithmetic it does on
//! them, with Go's `path` semantics (remote paths are always POSIX).

use anyhow::{Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Local(String),
    Remote {
        namespace: Option<String>,
        pod: String,
        path: String,
    },
}

const FORMAT: &str = "filespec must match the canonical format: [[namespace/]pod:]file/path";

/// kubectl's `extractFileSpec`.
pub fn parse_spec(arg: &str) -> Result<Spec> {
    let Some(i) = arg.find(':') else {
        return Ok(Spec::Local(strip_trailing_slash(arg).to_string()));
    };
    if i == 0 {
        bail!(FORMAT);
    }
    let (pod, path) = (&arg[..i], strip_trailing_slash(&arg[i + 1..]).to_string());
    let pieces: Vec<&str> = pod.split('/').collect();
    match pieces.as_slice() {
        [pod] => Ok(Spec::Remote {
            namespace: None,
            pod: pod.to_string(),
            path,
        }),
        [ns, pod] => Ok(Spec::Remote {
            namespace: Some(ns.to_string()),
            pod: pod.to_string(),
            path,
        }),
        _ => bail!(FORMAT),
    }
}

/// Which way a copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    FromPod {
        namespace: Option<String>,
        pod: String,
        src: String,
        dest: String,
    },
    ToPod {
        src: String,
        namespace: Option<String>,
        pod: String,
        dest: String,
    },
}

/// The two arguments as kubectl checks them.
pub fn direction(args: &[String]) -> Result<Direction> {
    let [src, dest] = args else {
        bail!("source and destination are required");
    };
    let (src, dest) = (parse_spec(src)?, parse_spec(dest)?);
    let path = |s: &Spec| match s {
        Spec::Local(p) => p.is_empty(),
        Spec::Remote { path, .. } => path.is_empty(),
    };
    if let (Spec::Remote { .. }, Spec::Remote { .. }) = (&src, &dest) {
        bail!("one of src or dest must be a local file specification");
    }
    if path(&src) || path(&dest) {
        bail!("filepath can not be empty");
    }
    match (src, dest) {
        (
            Spec::Remote {
                namespace,
                pod,
                path,
            },
            Spec::Local(dest),
        ) => Ok(Direction::FromPod {
            namespace,
            pod,
            src: path,
            dest,
        }),
        (
            Spec::Local(src),
            Spec::Remote {
                namespace,
                pod,
                path,
            },
        ) => Ok(Direction::ToPod {
            src,
            namespace,
            pod,
            dest: path,
        }),
        _ => bail!("one of src or dest must be a remote file specification"),
    }
}

pub fn strip_trailing_slash(p: &str) -> &str {
    if p.len() > 1 && (p.ends_with('/') || p.ends_with('\\')) {
        &p[..p.len() - 1]
    } else {
        p
    }
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Dir`.
pub fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".into(),
    }
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if p.is_empty() {
        return ".".into();
    }
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// kubectl's `stripPathShortcuts`: leading `../`, a lone `.` or `..`, and a leading `/` go.
pub fn strip_path_shortcuts(p: &str) -> String {
    let mut p = p;
    while let Some(rest) = p.strip_prefix("../") {
        p = rest;
    }
    if p == "." || p == ".." {
        return String::new();
    }
    p.strip_prefix('/').unwrap_or(p).to_string()
}

/// The prefix `tar cf - SRC` puts on every entry (tar drops the leading `/`).
pub fn archive_prefix(src: &str) -> String {
    strip_path_shortcuts(&clean(src.trim_start_matches(['/', '\\'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn file_specs_as_kubectl_reads_them() {
        assert_eq!(parse_spec("/tmp/x/").unwrap(), Spec::Local("/tmp/x".into()));
        assert_eq!(
            parse_spec("web:/etc/hosts").unwrap(),
            Spec::Remote {
                namespace: None,
                pod: "web".into(),
                path: "/etc/hosts".into()
            }
        );
        assert_eq!(
            parse_spec("shop/web:data/").unwrap(),
            Spec::Remote {
                namespace: Some("shop".into()),
                pod: "web".into(),
                path: "data".into()
            }
        );
        assert_eq!(parse_spec(":x").unwrap_err().to_string(), FORMAT);
        assert_eq!(parse_spec("a/b/c:x").unwrap_err().to_string(), FORMAT);
    }

    #[test]
    fn directions_and_refusals() {
        assert_eq!(
            direction(&v(&["ns/p:/a", "out"])).unwrap(),
            Direction::FromPod {
                namespace: Some("ns".into()),
                pod: "p".into(),
                src: "/a".into(),
                dest: "out".into()
            }
        );
        assert_eq!(
            direction(&v(&["in", "p:/a"])).unwrap(),
            Direction::ToPod {
                src: "in".into(),
                namespace: None,
                pod: "p".into(),
                dest: "/a".into()
            }
        );
        let e = |a: &[&str]| direction(&v(a)).unwrap_err().to_string();
        assert_eq!(e(&["a"]), "source and destination are required");
        assert_eq!(
            e(&["p:/a", "q:/b"]),
            "one of src or dest must be a local file specification"
        );
        assert_eq!(
            e(&["a", "b"]),
            "one of src or dest must be a remote file specification"
        );
        assert_eq!(e(&["p:", "b"]), "filepath can not be empty");
    }

    #[test]
    fn go_path_functions() {
        assert_eq!(clean("/tmp//a/./b/../c/"), "/tmp/a/c");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean(""), ".");
        assert_eq!(dir("/tmp/x"), "/tmp");
        assert_eq!(dir("x"), ".");
        assert_eq!(dir("/x"), "/");
        assert_eq!(base("/tmp/x"), "x");
        assert_eq!(base("/"), "/");
        assert_eq!(base("x"), "x");
        assert_eq!(archive_prefix("/tmp/dir"), "tmp/dir");
        assert_eq!(archive_prefix("../../etc/x"), "etc/x");
        assert_eq!(archive_prefix("."), "");
    }
}
