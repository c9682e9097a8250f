//! `ctl patch`: a strategic merge, JSON merge or JSON patch (given as JSON or YAML) sent
//! to the server, which applies it; `patched`, or `patched (no change)` when the object
//! came out as it was.

use super::outcome::Outcomes;
use super::{Ctx, finish, report};
use crate::kinds::{Selection, parse_selection};
use crate::manifests::load_all;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use proto::KindInfo;
use proto::k8s::{Object, PatchRequest, Scale};
use serde_json::Value;

#[derive(Args, Debug, Clone)]
pub struct PatchArgs {
    /// TYPE NAME, or TYPE/NAME
    pub args: Vec<String>,
    /// The patch to apply, as JSON or YAML
    #[arg(short = 'p', long)]
    pub patch: Option<String>,
    /// A file holding the patch
    #[arg(long, value_name = "FILE")]
    pub patch_file: Option<std::path::PathBuf>,
    /// The type of patch: json, merge or strategic
    #[arg(long = "type", default_value = "strategic", value_name = "TYPE")]
    pub patch_type: String,
    /// Patch the objects these manifests name
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    /// Descend into subdirectories of a directory given with -f
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Patch this subresource of the object: status or scale
    #[arg(long, value_name = "NAME")]
    pub subresource: Option<String>,
}

const PATCH_TYPES: &str = "[json merge strategic]";

/// The `--type` as the API names it.
pub fn patch_type(name: &str) -> Result<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "json" => Ok("json"),
        "merge" => Ok("merge"),
        "strategic" => Ok("strategic"),
        _ => bail!("--type must be one of {PATCH_TYPES}, not {name:?}"),
    }
}

/// The patch text as JSON: kubectl accepts YAML as well (JSON is YAML).
pub fn patch_json(text: &str) -> Result<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let v: Value = proto::manifest::yaml_value(text).map_err(|e| {
        // The parser's message without its drawing of the input: one line.
        let message = e.without_snippet().to_string();
        let first = message.lines().next().unwrap_or_default().to_string();
        anyhow!("unable to parse {text:?}: {first}")
    })?;
    Ok(v)
}

/// The patch text from `-p` or `--patch-file`, with kubectl's complaints.
fn patch_text(args: &PatchArgs) -> Result<String> {
    match (&args.patch, &args.patch_file) {
        (Some(_), Some(_)) => bail!("cannot specify --patch and --patch-file together"),
        (Some(p), None) if !p.is_empty() => Ok(p.clone()),
        (None, Some(f)) => {
            std::fs::read_to_string(f).map_err(|e| anyhow!("unable to read patch file: {e}"))
        }
        _ => bail!("must specify --patch or --patch-file containing the contents of the patch"),
    }
}

/// The document an object is compared in: a change of resourceVersion or managedFields
/// alone is no change to show.
fn compared(o: &Object) -> Value {
    let mut doc = o.to_json();
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    doc
}

fn verb(changed: bool) -> &'static str {
    if changed {
        "patched"
    } else {
        "patched (no change)"
    }
}

pub async fn patch(ctx: &Ctx, args: &PatchArgs) -> Result<()> {
    let ty = patch_type(&args.patch_type)?;
    let text = patch_text(args)?;
    let patch = patch_json(&text)?;
    let subresource = args.subresource.clone().unwrap_or_default();
    if !matches!(subresource.as_str(), "" | "status" | "scale") {
        bail!("invalid subresource value: {subresource:?}. Must be one of [status scale]");
    }
    let targets = targets(ctx, &args.args, &args.files, args.recursive, false).await?;
    if targets.is_empty() {
        bail!("no objects passed to patch");
    }
    let out = outcomes(ctx);
    let mut failures = 0;
    for (kind, ns, name) in targets {
        let res = if subresource == "scale" {
            patch_scale(ctx, kind, &ns, &name, ty, &patch, &out).await
        } else {
            patch_one(ctx, kind, &ns, &name, ty, &patch, &subresource, &out).await
        };
        if let Err(e) = res {
            report(&mut failures, &e);
        }
    }
    finish(failures)
}

/// What a command acting on named objects acts on.
pub(super) type Target = (&'static KindInfo, String, String);

/// (kind, namespace, name) of each object named on the command line (`TYPE NAME...`,
/// `TYPE/NAME...`) or by `-f`; with `list_all`, a bare `TYPE` means every object of the
/// type the selectors match (as `edit` takes it).
pub(super) async fn targets(
    ctx: &Ctx,
    args: &[String],
    files: &[String],
    recursive: bool,
    list_all: bool,
) -> Result<Vec<Target>> {
    if !files.is_empty() {
        if !args.is_empty() {
            bail!("when using -f, do not name resources on the command line");
        }
        let mut out = vec![];
        for doc in load_all(files, recursive) {
            let doc = doc?;
            let kind = doc
                .object
                .info()
                .ok_or_else(|| anyhow!("empty object in {}", doc.source))?;
            let ns = ctx.ns.for_manifest(kind, &doc.object.meta().namespace)?;
            out.push((kind, ns, doc.object.meta().name.clone()));
        }
        return Ok(out);
    }
    if args.is_empty() {
        bail!("you must provide one or more resources by argument or filename");
    }
    match parse_selection(args)? {
        Selection::Named(pairs) => Ok(pairs
            .into_iter()
            .map(|(k, n)| (k, ctx.ns.for_object(k), n))
            .collect()),
        Selection::All(kinds) if list_all => {
            let api = ctx.api().await?;
            let mut out = vec![];
            for kind in kinds {
                let resp = api.list(ctx.list_request(kind)).await?;
                out.extend(
                    resp.items
                        .iter()
                        .map(|o| (kind, o.meta().namespace.clone(), o.meta().name.clone())),
                );
            }
            Ok(out)
        }
        Selection::All(_) => bail!("resource(s) were provided, but no name was specified"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn patch_one(
    ctx: &Ctx,
    kind: &'static KindInfo,
    ns: &str,
    name: &str,
    ty: &str,
    patch: &Value,
    subresource: &str,
    out: &Outcomes,
) -> Result<()> {
    let (after, changed) = patch_object(ctx, kind, ns, name, ty, patch, subresource).await?;
    out.object(&after, verb(changed))
}

/// kubectl's patch says `patched` even under --dry-run (its printer's operation replaces
/// the dry-run template): the same lines here.
fn outcomes(ctx: &Ctx) -> Outcomes {
    Outcomes::new(ctx).without_dry_run_suffix()
}

/// The object after the patch (under a dry run, as it would be), and whether it changed.
pub(super) async fn patch_object(
    ctx: &Ctx,
    kind: &'static KindInfo,
    ns: &str,
    name: &str,
    ty: &str,
    patch: &Value,
    subresource: &str,
) -> Result<(Object, bool)> {
    let api = ctx.api().await?;
    // Read first, as kubectl does: the object before tells whether the patch changed it.
    let before = api.get(kind.plural, ns, name).await?;
    let req = PatchRequest {
        resource: kind.plural.to_string(),
        namespace: ns.to_string(),
        name: name.to_string(),
        patch_type: ty.to_string(),
        patch: patch.to_string(),
        subresource: subresource.to_string(),
        ..Default::default()
    };
    let after = api.patch(req).await?;
    let changed = compared(&before) != compared(&after);
    Ok((after, changed))
}

/// The scale subresource: the server serves it to read and replace, so the patch is
/// applied here, to the Scale as read, and the result written guarded by its
/// resourceVersion (a concurrent change is a Conflict, not overwritten).
async fn patch_scale(
    ctx: &Ctx,
    kind: &'static KindInfo,
    ns: &str,
    name: &str,
    ty: &str,
    patch: &Value,
    out: &Outcomes,
) -> Result<()> {
    if !kind.has_scale {
        bail!(
            "{} has no subresource \"scale\"",
            crate::kinds::object_name(kind, name)
        );
    }
    let api = ctx.api().await?;
    let before = api.get_scale(kind.plural, ns, name).await?;
    let doc = serde_json::to_value(&before)?;
    let patched = apply_locally(ty, &doc, patch)?;
    let mut scale: Scale = serde_json::from_value(patched)
        .map_err(|e| anyhow!("the patched scale is not valid: {e}"))?;
    scale.metadata = before.metadata.clone();
    let changed = scale != before;
    let after = if changed {
        api.update_scale(kind.plural, scale).await?
    } else {
        before
    };
    if out.prints_objects() {
        let doc = scale_document(&after);
        print_document(ctx, &doc)?;
    } else {
        out.line(&format!("scale.autoscaling/{name}"), verb(changed));
    }
    Ok(())
}

fn scale_document(s: &Scale) -> Value {
    let mut doc = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Some(m) = doc.as_object_mut() {
        m.insert("apiVersion".into(), "autoscaling/v1".into());
        m.insert("kind".into(), "Scale".into());
    }
    doc
}

fn print_document(ctx: &Ctx, doc: &Value) -> Result<()> {
    use crate::args::OutputFormat;
    match ctx.output() {
        Some(OutputFormat::Json) => print!("{}", crate::printers::json(doc)?),
        Some(OutputFormat::Name) => println!(
            "scale.autoscaling/{}",
            doc["metadata"]["name"].as_str().unwrap_or_default()
        ),
        _ => print!("{}", crate::printers::yaml(doc)?),
    }
    Ok(())
}

/// A merge patch (RFC 7386) or JSON patch (RFC 6902) applied to a document; a strategic
/// merge patch on a Scale is a merge patch (it holds no lists).
pub fn apply_locally(ty: &str, doc: &Value, patch: &Value) -> Result<Value> {
    let mut out = doc.clone();
    match ty {
        "json" => json_patch(&mut out, patch)?,
        _ => merge_patch(&mut out, patch),
    }
    Ok(out)
}

pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// RFC 6902 on one document: add, remove, replace, move, copy, test.
fn json_patch(doc: &mut Value, patch: &Value) -> Result<()> {
    let Some(ops) = patch.as_array() else {
        bail!("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    };
    for op in ops {
        let kind = op["op"].as_str().unwrap_or_default();
        let path = op["path"].as_str().unwrap_or_default();
        match kind {
            "add" => add(doc, path, op["value"].clone())?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                remove(doc, path)?;
                add(doc, path, op["value"].clone())?;
            }
            "move" | "copy" => {
                let from = op["from"].as_str().unwrap_or_default();
                let v = if kind == "move" {
                    remove(doc, from)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| missing(from))?
                };
                add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&op["value"]) {
                    bail!("testing value {path} failed");
                }
            }
            other => bail!("Unexpected kind: {other}"),
        }
    }
    Ok(())
}

fn missing(path: &str) -> anyhow::Error {
    anyhow!("Object to be patched is missing field ({path})")
}

fn split(path: &str) -> Result<(&str, String)> {
    let i = path.rfind('/').ok_or_else(|| missing(path))?;
    let last = path[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((&path[..i], last))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<()> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(key, value);
        }
        Some(Value::Array(a)) => {
            let i = if key == "-" {
                a.len()
            } else {
                key.parse::<usize>().map_err(|_| missing(path))?
            };
            if i > a.len() {
                return Err(missing(path));
            }
            a.insert(i, value);
        }
        _ => return Err(missing(path)),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value> {
    let (parent, key) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(&key).ok_or_else(|| missing(path)),
        Some(Value::Array(a)) => match key.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(missing(path)),
        },
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_are_json_or_yaml() {
        assert_eq!(
            patch_json(r#"{"spec":{"replicas":2}}"#).unwrap(),
            json!({"spec": {"replicas": 2}})
        );
        assert_eq!(
            patch_json("spec:\n  replicas: 2\n").unwrap(),
            json!({"spec": {"replicas": 2}})
        );
        assert!(
            patch_json("spec: [\n")
                .unwrap_err()
                .to_string()
                .starts_with("unable to parse \"spec: [\\n\": ")
        );
    }

    #[test]
    fn types_and_flags() {
        assert_eq!(patch_type("Merge").unwrap(), "merge");
        assert_eq!(
            patch_type("apply").unwrap_err().to_string(),
            "--type must be one of [json merge strategic], not \"apply\""
        );
        let args = |p: Option<&str>, f: Option<&str>| PatchArgs {
            args: vec![],
            patch: p.map(String::from),
            patch_file: f.map(Into::into),
            patch_type: "strategic".into(),
            files: vec![],
            recursive: false,
            subresource: None,
        };
        assert_eq!(
            patch_text(&args(Some("{}"), Some("x")))
                .unwrap_err()
                .to_string(),
            "cannot specify --patch and --patch-file together"
        );
        assert_eq!(
            patch_text(&args(None, None)).unwrap_err().to_string(),
            "must specify --patch or --patch-file containing the contents of the patch"
        );
    }

    #[test]
    fn local_patches() {
        let doc = json!({"spec": {"replicas": 1}, "status": {"replicas": 1}});
        assert_eq!(
            apply_locally(
                "merge",
                &doc,
                &json!({"spec": {"replicas": 3}, "status": null})
            )
            .unwrap(),
            json!({"spec": {"replicas": 3}})
        );
        let ops = json!([
            {"op": "replace", "path": "/spec/replicas", "value": 4},
            {"op": "add", "path": "/spec/list", "value": [1]},
            {"op": "add", "path": "/spec/list/-", "value": 2},
            {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"},
            {"op": "test", "path": "/spec/copy", "value": 4},
            {"op": "remove", "path": "/status"}
        ]);
        assert_eq!(
            apply_locally("json", &doc, &ops).unwrap(),
            json!({"spec": {"replicas": 4, "list": [1, 2], "copy": 4}})
        );
        let err = apply_locally("json", &doc, &json!([{"op": "remove", "path": "/spec/x"}]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "Object to be patched is missing field (/spec/x)");
    }
}
