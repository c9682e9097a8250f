//! Reading manifests named by `-f`: files, directories (their .yaml/.yml/.json files,
//! sorted; with -R their subdirectories too) and `-` for stdin.

use anyhow::{Result, anyhow};
use proto::k8s::Object;
use proto::manifest::{ManifestError, load_each_document};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One object of a manifest, with the file it came from for messages.
#[derive(Debug)]
pub struct Doc {
    pub source: String,
    pub object: Object,
}

/// Every object of every source, in order. A source that cannot be read or parsed yields
/// one error in its place, and a document that does not load (an unknown kind, a bad field)
/// one error in its own, so the caller can go on with the others as kubectl does.
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
            match text.and_then(|t| parse_each(&source, &t)) {
                Ok(objects) => out.extend(objects.into_iter().map(|object| {
                    object.map(|object| Doc {
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

/// Parses a file's text document by document, with kubectl's wording for what went wrong:
/// a syntax error fails the file, while a document that does not load is one error among
/// the file's objects.
pub fn parse_each(source: &str, text: &str) -> Result<Vec<Result<Object>>> {
    let documents = load_each_document(text).map_err(|e| anyhow!(describe_error(source, &e)))?;
    let mut out = Vec::new();
    for doc in documents {
        match doc.objects {
            Ok(objects) => out.extend(objects.into_iter().map(Ok)),
            Err(e) => out.push(Err(match unknown_kind(&e) {
                Some((api_version, kind, hint)) => NoKindMatch {
                    name: meta_field(&doc.value, "name"),
                    namespace: meta_field(&doc.value, "namespace"),
                    source: source.to_string(),
                    kind: kind.to_string(),
                    version: api_version.to_string(),
                    hint: hint.to_string(),
                }
                .into(),
                None => anyhow!(describe_error(source, &e)),
            })),
        }
    }
    Ok(out)
}

/// A document of a kind the API does not serve, in kubectl's words (on one line, with
/// kubectl's advice or the apiVersion that serves the kind in parentheses).
#[derive(Debug)]
pub struct NoKindMatch {
    pub name: String,
    pub namespace: String,
    pub source: String,
    pub kind: String,
    pub version: String,
    /// ` (did you mean apps/v1?)` when the kind is served under another apiVersion.
    pub hint: String,
}

impl std::fmt::Display for NoKindMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Go's %q, as kubectl quotes them. kubectl adds "ensure CRDs are installed first" on
        // a line of its own; every ctl failure is one line, so it goes in parentheses, or
        // the apiVersion that does serve the kind when one does.
        let advice = if self.hint.is_empty() {
            " (ensure CRDs are installed first)"
        } else {
            &self.hint
        };
        write!(
            f,
            "resource mapping not found for name: {:?} namespace: {:?} from {:?}: no matches for kind {:?} in version {:?}{advice}",
            self.name, self.namespace, self.source, self.kind, self.version
        )
    }
}

impl std::error::Error for NoKindMatch {}

/// The apiVersion and kind of an unknown-kind error of a whole document (not of a List's
/// item, which kubectl reports as the List's own error).
fn unknown_kind(e: &ManifestError) -> Option<(&str, &str, &str)> {
    match e {
        ManifestError::InDocument { source, .. } => unknown_kind(source),
        ManifestError::UnknownKind {
            api_version,
            kind,
            hint,
        } => Some((api_version, kind, hint)),
        _ => None,
    }
}

fn meta_field(document: &serde_json::Value, field: &str) -> String {
    document["metadata"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
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
    fn an_unknown_kind_is_an_error_of_its_own_document() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.yaml");
        let text = format!(
            "{CM}---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1beta1.metrics.k8s.io\nspec:\n  service: {{name: m, namespace: monitoring}}\n---\n{}",
            CM.replace("name: a", "name: z")
        );
        std::fs::write(&file, text).unwrap();
        let source = file.display().to_string();
        let res = load_all(std::slice::from_ref(&source), false);
        assert_eq!(res.len(), 3);
        assert_eq!(res[0].as_ref().unwrap().object.meta().name, "a");
        assert_eq!(res[2].as_ref().unwrap().object.meta().name, "z");
        let e = res[1].as_ref().unwrap_err();
        assert!(e.downcast_ref::<NoKindMatch>().is_some());
        assert_eq!(
            e.to_string(),
            format!(
                "resource mapping not found for name: \"v1beta1.metrics.k8s.io\" namespace: \"\" from \"{source}\": no matches for kind \"APIService\" in version \"apiregistration.k8s.io/v1\" (ensure CRDs are installed first)"
            )
        );
        // Any other document that does not load stays one error among the others too.
        let res = parse_each(
            "g.yaml",
            &format!("apiVersion: v1\nkind: ConfigMap\nbogus: 1\n---\n{CM}"),
        )
        .unwrap();
        let e = res[0].as_ref().unwrap_err().to_string();
        assert!(e.starts_with("error validating \"g.yaml\": "), "{e}");
        assert_eq!(res[1].as_ref().unwrap().meta().name, "a");
    }

    #[test]
    fn validation_and_unknown_kinds() {
        let first_error = |text: &str| {
            parse_each("f.yaml", text).unwrap()[0]
                .as_ref()
                .unwrap_err()
                .to_string()
        };
        let e = first_error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nbogus: 1\n");
        assert!(e.starts_with("error validating \"f.yaml\": "), "{e}");
        assert!(e.contains("bogus"), "{e}");
        let e = first_error("apiVersion: v1\nkind: Widget\nmetadata:\n  name: a\n");
        assert!(
            e.starts_with("resource mapping not found for name: \"a\" namespace: \"\" from \"f.yaml\": no matches for kind \"Widget\" in version \"v1\""),
            "{e}"
        );
        let e = parse_each("f.yaml", "a: [\n").unwrap_err().to_string();
        assert!(e.starts_with("error parsing f.yaml: yaml: line"), "{e}");
    }
}
