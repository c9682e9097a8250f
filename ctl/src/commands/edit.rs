//! `ctl edit`: the objects as YAML (or JSON with `-o json`) in $KUBE_EDITOR, $EDITOR or
//! vi; what the user changed goes to the server as a merge patch guarded by the
//! resourceVersion read, so a change made elsewhere meanwhile is never overwritten
//! silently. A refused change reopens the editor with the reasons on top, as kubectl does.

use super::outcome::Outcomes;
use super::patch::{Target, targets};
use super::{Ctx, Reported};
use crate::api::reason_of;
use crate::args::OutputFormat;
use crate::errors::render_error;
use crate::merge::with_resource_version;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use proto::k8s::{Object, PatchRequest};
use proto::{KindInfo, Reason};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    /// TYPE NAME..., TYPE/NAME..., or TYPE for all of them
    pub args: Vec<String>,
    /// Edit the objects these manifests name
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    /// Descend into subdirectories of a directory given with -f
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Print the patch sent for each object (`Patch: {...}`)
    #[arg(long)]
    pub output_patch: bool,
}

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

/// Why the file is handed back to the user: shown as comments at its top.
#[derive(Debug, Clone, PartialEq)]
pub struct EditReason {
    pub head: String,
    pub other: Vec<String>,
}

/// kubectl's header, with the reasons of the last attempt.
pub fn header(reasons: &[EditReason]) -> String {
    let mut s = HEADER.to_string();
    for r in reasons {
        if r.other.is_empty() {
            s.push_str(&format!("# {}\n", hash_lines(&r.head)));
        } else {
            s.push_str(&format!("# {}:\n", hash_lines(&r.head)));
        }
        for o in &r.other {
            s.push_str(&format!("# * {}\n", hash_lines(o)));
        }
        s.push_str("#\n");
    }
    s
}

/// A message over several lines stays a comment on each.
fn hash_lines(s: &str) -> String {
    s.trim_end().replace('\n', "\n# ")
}

/// The text without its comment lines (`#!` is not one), as kubectl strips them.
pub fn strip_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|l| {
            let t = l.trim();
            !t.starts_with('#') || t.starts_with("#!")
        })
        .collect()
}

/// Whether the file holds anything but blank lines and comments.
pub fn has_lines(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

/// Whether two versions of the file say the same: compared as documents where both read as
/// YAML (formatting and comments aside), else as text without comments.
pub fn same_content(a: &str, b: &str) -> bool {
    match (read_document(a), read_document(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => strip_comments(a) == strip_comments(b),
    }
}

fn read_document(text: &str) -> Result<Value> {
    let text = strip_comments(text);
    if let Ok(v) = serde_json::from_str(&text) {
        return Ok(v);
    }
    proto::manifest::yaml_value(&text).map_err(|e| anyhow!("{e}"))
}

/// The documents of the edited file: one object, or the items of a List.
pub fn parse_edited(text: &str) -> Result<Vec<Value>> {
    let doc = read_document(text)?;
    if doc["kind"] == "List" {
        return match doc.get("items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Ok(vec![]),
        };
    }
    if !doc.is_object() {
        bail!("the file does not hold an object");
    }
    Ok(vec![doc])
}

/// The file's body: the object, or several as a List (kubectl's form).
pub fn render(docs: &[Value], json: bool) -> Result<String> {
    let doc = match docs {
        [one] => one.clone(),
        _ => serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {},
                                "items": docs}),
    };
    if json {
        crate::printers::json(&doc)
    } else {
        crate::printers::yaml(&doc)
    }
}

/// The object as the file shows it: without `metadata.managedFields`.
pub fn editable(object: &Object) -> Value {
    let mut doc = proto::manifest::to_document(object);
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    doc
}

/// RFC 7386 merge patch from `original` to `edited`: changed keys set, removed keys null,
/// lists whole.
pub fn two_way_patch(original: &Value, edited: &Value) -> Value {
    match (original, edited) {
        (Value::Object(o), Value::Object(e)) => {
            let mut patch = Map::new();
            for k in o.keys() {
                if !e.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            for (k, ev) in e {
                match o.get(k) {
                    Some(ov) if ov == ev => {}
                    Some(ov @ Value::Object(_)) if ev.is_object() => {
                        patch.insert(k.clone(), two_way_patch(ov, ev));
                    }
                    _ => {
                        patch.insert(k.clone(), ev.clone());
                    }
                }
            }
            Value::Object(patch)
        }
        _ => edited.clone(),
    }
}

/// kubectl's preconditions: an edit may not rename, move or retype an object.
pub fn check_identity(patch: &Value, namespace: &str) -> Result<()> {
    let changed = |p: &str| patch.pointer(p).is_some();
    if changed("/apiVersion") || changed("/kind") || changed("/metadata/name") {
        bail!("At least one of apiVersion, kind and name was changed");
    }
    if let Some(ns) = patch.pointer("/metadata/namespace") {
        let ns = ns.as_str().unwrap_or_default();
        bail!(
            "the namespace from the provided object {ns:?} does not match the namespace {namespace:?}. You must pass '--namespace={ns}' to perform this operation."
        );
    }
    Ok(())
}

/// The editor to run: $KUBE_EDITOR, else $EDITOR, else vi. A value with spaces is split
/// on them; one with quotes or backslashes goes to $SHELL -c, as kubectl does. The bool
/// says whether the file's path must be appended quoted to the last word (the shell form).
pub fn editor_command(env: impl Fn(&str) -> Option<String>) -> (Vec<String>, bool) {
    let editor = ["KUBE_EDITOR", "EDITOR"]
        .iter()
        .find_map(|v| env(v).filter(|e| !e.is_empty()))
        .unwrap_or_else(|| "vi".to_string());
    if !editor.contains(' ') {
        return (vec![editor], false);
    }
    if !editor.contains(['"', '\'', '\\']) {
        return (editor.split(' ').map(String::from).collect(), false);
    }
    let shell = env("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/bash".into());
    (vec![shell, "-c".into(), editor], true)
}

/// Runs the editor on `path`, with the terminal.
fn launch(editor: &(Vec<String>, bool), path: &Path) -> Result<()> {
    let (words, shell) = editor;
    let name = words.join(" ");
    let mut argv = words.clone();
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if *shell {
        if let Some(last) = argv.last_mut() {
            *last = format!("{last} {:?}", abs.display().to_string());
        }
    } else {
        argv.push(abs.display().to_string());
    }
    let status = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => bail!("there was a problem with the editor {name:?}"),
        Err(_) => bail!("unable to launch the editor {name:?}"),
    }
}

/// kubectl's words after a failure that keeps the file.
fn preserved(path: &Path) {
    if path.exists() {
        eprintln!(
            "A copy of your changes has been stored to {:?}",
            path.display().to_string()
        );
    }
}

/// One object being edited: what its document was when last read or sent, and the
/// resourceVersion that goes with it.
struct Edited {
    info: &'static KindInfo,
    namespace: String,
    name: String,
    uid: String,
    base: Value,
    resource_version: String,
}

impl Edited {
    fn new(info: &'static KindInfo, live: &Object) -> Edited {
        let m = live.meta();
        Edited {
            info,
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            uid: m.uid.clone(),
            base: editable(live),
            resource_version: m.resource_version.clone(),
        }
    }

    /// `deployments.apps "web"`, as kubectl names the object in edit's messages.
    fn subject(&self) -> String {
        let resource = if self.info.group.is_empty() {
            self.info.plural.to_string()
        } else {
            format!("{}.{}", self.info.plural, self.info.group)
        };
        format!("{resource} {:?}", self.name)
    }

    fn matches(&self, doc: &Value) -> bool {
        match doc.pointer("/metadata/uid").and_then(Value::as_str) {
            Some(uid) if !uid.is_empty() => uid == self.uid,
            _ => {
                doc["kind"] == self.info.kind
                    && doc.pointer("/metadata/name").and_then(Value::as_str)
                        == Some(self.name.as_str())
            }
        }
    }
}

pub async fn edit(ctx: &Ctx, args: &EditArgs) -> Result<()> {
    let editor = editor_command(|v| std::env::var(v).ok());
    edit_with(ctx, args, editor).await
}

/// What one round of sending the edited objects came to.
#[derive(Default)]
struct Round {
    reasons: Vec<EditReason>,
    retryable: usize,
    not_found: usize,
    /// Objects changed on the server meanwhile: their document in the next file is the
    /// latest one with the user's changes on top.
    rebased: bool,
}

pub(super) async fn edit_with(
    ctx: &Ctx,
    args: &EditArgs,
    editor: (Vec<String>, bool),
) -> Result<()> {
    let json = ctx.output() == Some(OutputFormat::Json);
    let found: Vec<Target> = targets(ctx, &args.args, &args.files, args.recursive, true).await?;
    if found.is_empty() {
        bail!("edit cancelled, no objects found");
    }
    let api = ctx.api().await?;
    let mut objects = Vec::new();
    for (info, ns, name) in found {
        let live = api.get(info.plural, &ns, &name).await?;
        objects.push(Edited::new(info, &live));
    }
    let docs: Vec<Value> = objects.iter().map(|o| o.base.clone()).collect();
    let original = render(&docs, json)?;
    let mut body = original.clone();
    let mut reasons: Vec<EditReason> = vec![];
    // The file as saved last time, when it was handed back with errors.
    let mut retried: Option<String> = None;
    let mut previous_file: Option<PathBuf> = None;
    loop {
        // kubectl writes no header into JSON.
        let text = if json {
            body.clone()
        } else {
            format!("{}{body}", header(&reasons))
        };
        let path = write_temp(&text, if json { ".json" } else { ".yaml" })?;
        if let Some(p) = previous_file.take() {
            let _ = std::fs::remove_file(p);
        }
        let launched = {
            let (editor, path) = (editor.clone(), path.clone());
            tokio::task::spawn_blocking(move || launch(&editor, &path)).await
        };
        if let Err(e) = launched.map_err(|e| anyhow!("{e}")).and_then(|r| r) {
            preserved(&path);
            return Err(e);
        }
        let edited = std::fs::read_to_string(&path)
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        if let Some(prev) = &retried
            && same_content(prev, &edited)
        {
            preserved(&path);
            bail!("Edit cancelled, no valid changes were saved.");
        }
        if same_content(&original, &edited) {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, no changes made.");
            return Ok(());
        }
        if !has_lines(&edited) {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, saved file was empty.");
            return Ok(());
        }
        let mut docs = match parse_edited(&edited) {
            Ok(d) => d,
            Err(e) => {
                reasons = vec![EditReason {
                    head: format!("The edited file had a syntax error: {e}"),
                    other: vec![],
                }];
                retried = Some(edited.clone());
                body = strip_comments(&edited);
                previous_file = Some(path);
                continue;
            }
        };
        let round = match send(ctx, args, &mut objects, &mut docs).await {
            Ok(r) => r,
            Err(e) => {
                preserved(&path);
                return Err(e);
            }
        };
        if round.retryable > 0 {
            eprintln!(
                "You can run `ctl replace -f {}` to try this update again.",
                path.display()
            );
            return Err(Reported.into());
        }
        if round.not_found > 0 {
            eprintln!(
                "The edits you made on deleted resources have been saved to {:?}",
                path.display().to_string()
            );
            return Err(Reported.into());
        }
        if round.reasons.is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        reasons = round.reasons;
        body = if round.rebased {
            render(&docs, json)?
        } else {
            strip_comments(&edited)
        };
        retried = Some(edited);
        previous_file = Some(path);
    }
}

fn write_temp(text: &str, suffix: &str) -> Result<PathBuf> {
    let file = tempfile::Builder::new()
        .prefix("ctl-edit-")
        .suffix(suffix)
        .tempfile()
        .map_err(|e| anyhow!("cannot create a temporary file: {e}"))?;
    std::fs::write(file.path(), text)
        .map_err(|e| anyhow!("cannot write {}: {e}", file.path().display()))?;
    let (_, path) = file
        .keep()
        .map_err(|e| anyhow!("cannot keep the temporary file: {e}"))?;
    Ok(path)
}

/// Sends each edited document that differs from its object's, as a merge patch guarded by
/// the resourceVersion; prints kubectl's line for each; collects what must be edited again.
async fn send(
    ctx: &Ctx,
    args: &EditArgs,
    objects: &mut [Edited],
    docs: &mut [Value],
) -> Result<Round> {
    let api = ctx.api().await?;
    let mut round = Round::default();
    for doc in docs.iter_mut() {
        // A printer per object, as kubectl's edit: YAML documents without `---` between.
        let out = Outcomes::new(ctx);
        let Some(target) = objects.iter_mut().find(|o| o.matches(doc)) else {
            let name = doc.pointer("/metadata/name").cloned().unwrap_or_default();
            bail!("no original object found for {} {name}", doc["kind"]);
        };
        let ours = proto::manifest::normalize(doc.clone());
        let theirs = proto::manifest::normalize(target.base.clone());
        let mut patch = two_way_patch(&theirs, &ours);
        if let Some(meta) = patch.get_mut("metadata").and_then(Value::as_object_mut) {
            // Server-owned: what the file says of them is no change to send.
            for k in ["resourceVersion", "uid", "creationTimestamp", "generation"] {
                meta.remove(k);
            }
            if meta.is_empty() {
                patch.as_object_mut().map(|p| p.remove("metadata"));
            }
        }
        if crate::merge::is_empty_patch(&patch) {
            // kubectl prints the object as edited (with -o, the object itself).
            match Object::from_json_as(target.info, ours) {
                Ok(object) => out.object(&object, "skipped")?,
                Err(_) => out.named(target.info, &target.name, "skipped"),
            }
            continue;
        }
        check_identity(&patch, &target.namespace)?;
        if args.output_patch {
            println!("Patch: {patch}");
        }
        let req = PatchRequest {
            resource: target.info.plural.to_string(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            patch_type: "merge".into(),
            patch: with_resource_version(patch.clone(), &target.resource_version).to_string(),
            ..Default::default()
        };
        match api.patch(req).await {
            Ok(patched) => {
                out.object(&patched, "edited")?;
                if ctx.dry_run() == crate::args::DryRun::None {
                    target.base = doc.clone();
                    target.resource_version = patched.meta().resource_version.clone();
                }
            }
            Err(e) => match reason_of(&e) {
                Some(Reason::Invalid | Reason::BadRequest) => {
                    eprintln!("error: {} is invalid", target.subject());
                    let message = e.to_string();
                    let detail = match message.split_once(" is invalid: ") {
                        Some((_, d)) => d.to_string(),
                        None => message,
                    };
                    round.reasons.push(EditReason {
                        head: format!("{} was not valid", target.subject()),
                        other: vec![detail],
                    });
                }
                Some(Reason::Conflict) => {
                    eprintln!("error: {} could not be patched: {}", target.subject(), e);
                    let latest = api
                        .get(target.info.plural, &target.namespace, &target.name)
                        .await?;
                    *target = Edited::new(target.info, &latest);
                    let mut rebased = target.base.clone();
                    crate::commands::patch::merge_patch(&mut rebased, &patch);
                    *doc = rebased;
                    round.rebased = true;
                    round.reasons.push(EditReason {
                        head: format!(
                            "{} was changed on the server while you edited it: below is its latest version with your changes on top; save to send them",
                            target.subject()
                        ),
                        other: vec![],
                    });
                }
                Some(Reason::NotFound) => {
                    eprintln!(
                        "error: {} could not be found on the server",
                        target.subject()
                    );
                    round.not_found += 1;
                }
                _ => {
                    eprintln!(
                        "error: {} could not be patched: {}",
                        target.subject(),
                        render_error(&e)
                    );
                    round.retryable += 1;
                }
            },
        }
    }
    Ok(round)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_header_lists_the_reasons() {
        let h = header(&[
            EditReason {
                head: "deployments.apps \"web\" was not valid".into(),
                other: vec!["spec.replicas: Invalid value: -1\nsecond line".into()],
            },
            EditReason {
                head: "The edited file had a syntax error: bad".into(),
                other: vec![],
            },
        ]);
        assert!(h.starts_with(HEADER));
        assert!(h.ends_with(
            "#\n# deployments.apps \"web\" was not valid:\n# * spec.replicas: Invalid value: -1\n# second line\n#\n# The edited file had a syntax error: bad\n#\n"
        ), "{h}");
        assert!(h.lines().all(|l| l.starts_with('#')));
    }

    #[test]
    fn comments_and_content() {
        let a = "# c\napiVersion: v1\nkind: ConfigMap\n#!keep\n";
        assert_eq!(
            strip_comments(a),
            "apiVersion: v1\nkind: ConfigMap\n#!keep\n"
        );
        assert!(same_content(
            "# header\nkind: X\ndata: {a: 1}\n",
            "kind: X\ndata:\n  a: 1\n"
        ));
        assert!(!same_content("kind: X\n", "kind: Y\n"));
        assert!(!has_lines("# only\n\n  # comments\n"));
        assert!(has_lines("# c\nkind: X\n"));
    }

    #[test]
    fn lists_render_and_parse_back() {
        let docs = vec![
            json!({"kind": "A", "metadata": {"name": "a"}}),
            json!({"kind": "B"}),
        ];
        for as_json in [false, true] {
            let text = render(&docs, as_json).unwrap();
            assert_eq!(parse_edited(&text).unwrap(), docs);
        }
        let one = render(&docs[..1], false).unwrap();
        assert_eq!(parse_edited(&one).unwrap(), docs[..1]);
        assert!(parse_edited("a: [\n").is_err());
    }

    #[test]
    fn patches_carry_only_the_changes() {
        let o = json!({"kind": "D", "metadata": {"name": "w", "labels": {"a": "1", "b": "2"}},
                       "spec": {"replicas": 1, "list": [1, 2], "keep": true}});
        let e = json!({"kind": "D", "metadata": {"name": "w", "labels": {"a": "1"}},
                       "spec": {"replicas": 3, "list": [1], "keep": true}});
        let p = two_way_patch(&o, &e);
        assert_eq!(
            p,
            json!({"metadata": {"labels": {"b": null}}, "spec": {"replicas": 3, "list": [1]}})
        );
        let mut applied = o.clone();
        crate::commands::patch::merge_patch(&mut applied, &p);
        assert_eq!(applied, e);
        assert!(check_identity(&p, "default").is_ok());
        assert_eq!(
            check_identity(&json!({"metadata": {"name": "x"}}), "default")
                .unwrap_err()
                .to_string(),
            "At least one of apiVersion, kind and name was changed"
        );
        assert!(check_identity(&json!({"metadata": {"namespace": "x"}}), "default").is_err());
    }

    #[test]
    fn the_editor_comes_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(editor_command(env(&[])), (vec!["vi".to_string()], false));
        assert_eq!(
            editor_command(env(&[("EDITOR", "nano"), ("KUBE_EDITOR", "code --wait")])),
            (vec!["code".to_string(), "--wait".to_string()], false)
        );
        assert_eq!(
            editor_command(env(&[("KUBE_EDITOR", ""), ("EDITOR", "nano")])),
            (vec!["nano".to_string()], false)
        );
        assert_eq!(
            editor_command(env(&[("EDITOR", "my 'ed'"), ("SHELL", "/bin/sh")])),
            (
                vec![
                    "/bin/sh".to_string(),
                    "-c".to_string(),
                    "my 'ed'".to_string()
                ],
                true
            )
        );
    }
}
