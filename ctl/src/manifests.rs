//! Reading manifests named by `-f`: files, directories (their .yaml/.yml/.json files,
//! sorted; with -R their subdirectories too) and `-` for stdin.

use anyhow::{Result, anyhow};
use proto::k8s::Object;
use proto::manifest::{ManifestError, load_documents};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One object of a manifest, with the file it came from for messages.
#[derive(Debug)]
pub struct Doc {
    pub source: String,
    pub object: Object,
}

/// Every object of every source, in order. A source that cannot be read or parsed yields
/// one error in its place, so the caller can go on with the others.
pub fn load_all(files: &[String], recursive: bool) -> Vec<Result<Doc>> {
    let mut out = Vec::new();
    for f in files {
        let paths = match expand(f, recursive) {
            Ok(p) => p,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        for (source, text) in paths {
            match text.and_then(|t| parse(&source, &t)) {
                Ok(objects) => out.extend(objects.into_iter().map(|object| {
                    Ok(Doc {
                        source: source.clone(),
                        object,
                    })
                })),
                Err(e) => out.push(Err(e)),
            }
        }
    }
    out
}

/// The (name, text) of each file `arg` stands for.
fn expand(arg: &str, recursive: bool) -> Result<Vec<(String, Result<String>)>> {
    if arg == "-" {
        let mut text = String::new();
        let res = std::io::stdin()
            .read_to_string(&mut text)
            .map(|_| text)
            .map_err(|e| anyhow!("cannot read stdin: {e}"));
        return Ok(vec![("STDIN".to_string(), res)]);
    }
    let path = Path::new(arg);
    if !path.exists() {
        return Err(anyhow!("the path \"{arg}\" does not exist"));
    }
    let files = if path.is_dir() {
        manifest_files(path, recursive)?
    } else {
        vec![path.to_path_buf()]
    };
    Ok(files
        .into_iter()
        .map(|p| {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(&p).map_err(|e| anyhow!("cannot read {name}: {e}"));
            (name, text)
        })
        .collect())
}

/// The manifest files of a directory, sorted by path.
pub fn manifest_files(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow!("cannot read directory {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if recursive {
                out.extend(manifest_files(&p, true)?);
            }
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Parses a file's text, with kubectl's wording for what went wrong.
pub fn parse(source: &str, text: &str) -> Result<Vec<Object>> {
    load_documents(text).map_err(|e| anyhow!(describe_error(source, &e)))
}

fn describe_error(source: &str, e: &ManifestError) -> String {
    let mut inner = e;
    while let ManifestError::InDocument { source: s, .. } = inner {
        inner = s;
    }
    match inner {
        ManifestError::Yaml { .. } | ManifestError::Json { .. } => {
            format!("error parsing {source}: {e}")
        }
        ManifestError::UnknownKind { .. } => format!("unable to recognize \"{source}\": {e}"),
        _ => format!("error validating \"{source}\": error validating data: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";

    #[test]
    fn directories_are_sorted_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.yaml"), CM.replace("name: a", "name: b")).unwrap();
        std::fs::write(dir.path().join("a.yml"), CM).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/c.json"),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#,
        )
        .unwrap();
        let arg = dir.path().display().to_string();
        let names = |recursive| -> Vec<String> {
            load_all(std::slice::from_ref(&arg), recursive)
                .into_iter()
                .map(|d| d.unwrap().object.meta().name.clone())
                .collect()
        };
        assert_eq!(names(false), ["a", "b"]);
        assert_eq!(names(true), ["a", "b", "c"]);
    }

    #[test]
    fn errors_name_the_file_and_the_rest_continue() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n").unwrap();
        let good = dir.path().join("good.yaml");
        std::fs::write(
            &good,
            format!("{CM}---\n{}", CM.replace("name: a", "name: z")),
        )
        .unwrap();
        let args = vec![
            bad.display().to_string(),
            "/no/such/file.yaml".to_string(),
            good.display().to_string(),
        ];
        let res = load_all(&args, false);
        assert_eq!(res.len(), 4);
        let e0 = res[0].as_ref().unwrap_err().to_string();
        assert!(
            e0.starts_with(&format!("error parsing {}", bad.display())),
            "{e0}"
        );
        assert!(e0.contains("line"), "{e0}");
        assert_eq!(
            res[1].as_ref().unwrap_err().to_string(),
            "the path \"/no/such/file.yaml\" does not exist"
        );
        assert_eq!(res[3].as_ref().unwrap().object.meta().name, "z");
    }

    #[test]
    fn validation_and_unknown_kinds() {
        let e = parse(
            "f.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nbogus: 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("error validating \"f.yaml\": "), "{e}");
        assert!(e.contains("bogus"), "{e}");
        let e = parse(
            "f.yaml",
            "apiVersion: v1\nkind: Widget\nmetadata:\n  name: a\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("unable to recognize \"f.yaml\""), "{e}");
    }
}
