//! `ctl diff -f FILE`: for each object of the manifests, the live object against what
//! `apply` would make of it, as the server answers a dry run of the apply (apply's own
//! three-way patch, or a create when the object is absent). Both are written as YAML into
//! two directories, LIVE-xxx and MERGED-xxx, compared by `diff -u -N` or
//! $KUBECTL_EXTERNAL_DIFF. Exit code as kubectl's: 0 no differences, 1 differences, 2 (more
//! than 1) a failure.

use super::apply::{apply_patch, object_to_create, prepare};
use super::{Ctx, Reported};
use crate::api::reason_of;
use crate::args::DryRun;
use crate::errors::render_error;
use crate::manifests::load_all;
use crate::merge::{LAST_APPLIED, modified_configuration};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use proto::Reason;
use proto::k8s::Object;
use serde_json::Value;
use std::path::Path;

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// A manifest file, a directory of manifests, or `-` for stdin
    #[arg(short = 'f', long = "filename", required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Descend into subdirectories of a directory given with -f
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Include metadata.managedFields in the diff
    #[arg(long)]
    pub show_managed_fields: bool,
    /// Show the values of Secrets' data instead of masks
    #[arg(long)]
    pub show_secrets: bool,
}

/// `diff` failed (not: found differences): kubectl exits with 2 after printing the line.
#[derive(Debug)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Attempts before giving up on an object that keeps changing between read and dry run.
const MAX_TRIES: usize = 4;

pub async fn diff(ctx: &Ctx, args: &DiffArgs) -> Result<()> {
    let program = diff_program(std::env::var("KUBECTL_EXTERNAL_DIFF").ok().as_deref());
    match diff_with(ctx, args, &program).await {
        Ok(false) => Ok(()),
        // Differences: exit 1, and the diff said it all.
        Ok(true) => Err(Reported.into()),
        Err(e) => Err(Failed(render_error(&e)).into()),
    }
}

/// The program and its leading arguments: $KUBECTL_EXTERNAL_DIFF split on spaces, keeping
/// only arguments of letters, digits, `-` and `=` (kubectl's rule), else `diff -u -N`.
pub fn diff_program(external: Option<&str>) -> Vec<String> {
    match external.filter(|e| !e.is_empty()) {
        Some(e) => {
            let mut words = e.split(' ');
            let mut out = vec![words.next().unwrap_or_default().to_string()];
            out.extend(
                words
                    .filter(|w| {
                        !w.is_empty()
                            && w.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-=".contains(c))
                    })
                    .map(String::from),
            );
            out
        }
        None => vec!["diff".into(), "-u".into(), "-N".into()],
    }
}

/// Whether there are differences.
pub(super) async fn diff_with(ctx: &Ctx, args: &DiffArgs, program: &[String]) -> Result<bool> {
    let live_dir = temp_dir("LIVE-")?;
    let merged_dir = temp_dir("MERGED-")?;
    let docs = load_all(&args.files, args.recursive);
    if docs.is_empty() {
        bail!("no objects passed to diff");
    }
    for doc in docs {
        let (info, object, source) = prepare(ctx, doc?)?;
        let (live, merged) = versions(ctx, info, object, &source).await?;
        let mut from = live.as_ref().map(proto::manifest::to_document);
        let mut to = proto::manifest::to_document(&merged);
        if !args.show_managed_fields {
            from.as_mut().into_iter().for_each(omit_managed_fields);
            omit_managed_fields(&mut to);
        }
        if info.kind == "Secret" && !args.show_secrets {
            mask_secret_data(from.as_mut(), &mut to);
        }
        let m = merged.meta();
        let name = format!(
            "{}{}.{}.{}.{}",
            if info.group.is_empty() {
                String::new()
            } else {
                format!("{}.", info.group)
            },
            info.version,
            info.kind,
            m.namespace,
            m.name
        );
        write(&live_dir.path().join(&name), from.as_ref())?;
        write(&merged_dir.path().join(&name), Some(&to))?;
    }
    run_program(program, live_dir.path(), merged_dir.path()).await
}

fn temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| anyhow!("cannot create a temporary directory: {e}"))
}

/// The live object (None when absent) and what the server would make of the manifest.
async fn versions(
    ctx: &Ctx,
    info: &'static proto::KindInfo,
    object: Object,
    source: &str,
) -> Result<(Option<Object>, Object)> {
    let api = ctx.api().await?;
    // Whatever --dry-run says: diff changes nothing, and asks the server what it would do.
    let dry = api.clone().with_dry_run(DryRun::Server);
    let document = proto::manifest::to_document(&object);
    // As kubectl's diff: the manifest without the last-applied annotation, which the
    // merged object then shows unchanged.
    let mut modified = modified_configuration(&document);
    without_last_applied(&mut modified);
    let (ns, name) = (object.meta().namespace.clone(), object.meta().name.clone());
    for attempt in 1..=MAX_TRIES {
        let live = match api.get(info.plural, &ns, &name).await {
            Ok(live) => live,
            Err(e) if reason_of(&e) == Some(Reason::NotFound) => {
                // kubectl's dry-run create sends the manifest as it is.
                let new = object_to_create(info, &document, &document, source)?;
                return Ok((None, dry.create(new).await?));
            }
            Err(e) => return Err(e),
        };
        let Some(req) = apply_patch(info, &live, &modified) else {
            return Ok((Some(live.clone()), live));
        };
        match dry.patch(req).await {
            Ok(merged) => return Ok((Some(live), merged)),
            Err(e) if reason_of(&e) == Some(Reason::Conflict) && attempt < MAX_TRIES => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the last attempt returns")
}

fn without_last_applied(doc: &mut Value) {
    let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let now_empty = match meta.get_mut("annotations").and_then(Value::as_object_mut) {
        Some(a) => {
            a.remove(LAST_APPLIED);
            a.is_empty()
        }
        None => false,
    };
    if now_empty {
        meta.remove("annotations");
    }
}

fn omit_managed_fields(doc: &mut Value) {
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

/// kubectl's masks for a Secret's values: `***` where equal, `*** (before)` and
/// `*** (after)` where changed, so the diff shows which keys changed and not to what.
pub fn mask_secret_data(from: Option<&mut Value>, to: &mut Value) {
    let mut to_data = to.get_mut("data").and_then(Value::as_object_mut);
    let mut seen = std::collections::BTreeSet::new();
    if let Some(from_data) = from
        .and_then(|f| f.get_mut("data"))
        .and_then(Value::as_object_mut)
    {
        for (k, fv) in from_data.iter_mut() {
            seen.insert(k.clone());
            match to_data.as_deref_mut().and_then(|t| t.get_mut(k)) {
                Some(tv) if tv != fv => {
                    *fv = "*** (before)".into();
                    *tv = "*** (after)".into();
                }
                Some(tv) => {
                    *fv = "***".into();
                    *tv = "***".into();
                }
                None => *fv = "***".into(),
            }
        }
    }
    if let Some(t) = to_data {
        for (k, tv) in t.iter_mut() {
            if !seen.contains(k) {
                *tv = "***".into();
            }
        }
    }
}

/// The object as YAML, or an empty file for an absent one (as kubectl leaves it).
fn write(path: &Path, doc: Option<&Value>) -> Result<()> {
    let text = match doc {
        Some(d) => crate::printers::yaml(d)?,
        None => String::new(),
    };
    std::fs::write(path, text).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

/// Runs the program on the two directories, its output on ours. Exit 0: no differences;
/// 1: differences; anything else is a failure.
async fn run_program(program: &[String], from: &Path, to: &Path) -> Result<bool> {
    let Some((cmd, rest)) = program.split_first() else {
        bail!("no diff program");
    };
    let status = tokio::task::spawn_blocking({
        let (cmd, mut args) = (cmd.clone(), rest.to_vec());
        args.push(from.display().to_string());
        args.push(to.display().to_string());
        move || std::process::Command::new(cmd).args(args).status()
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    match status {
        Ok(s) if s.success() => Ok(false),
        Ok(s) if s.code() == Some(1) => Ok(true),
        Ok(s) => match s.code() {
            Some(c) => bail!("failed to run {cmd:?}: exit status {c}"),
            None => bail!("failed to run {cmd:?}: {s}"),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("failed to run {cmd:?}: executable file not found in $PATH")
        }
        Err(e) => bail!("failed to run {cmd:?}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_program_is_diff_or_the_external_one() {
        assert_eq!(diff_program(None), ["diff", "-u", "-N"]);
        assert_eq!(diff_program(Some("")), ["diff", "-u", "-N"]);
        assert_eq!(
            diff_program(Some("colordiff -N -u --color=always $(rm) a;b")),
            ["colordiff", "-N", "-u", "--color=always"]
        );
    }

    #[test]
    fn secrets_are_masked_showing_only_which_keys_changed() {
        let mut from = json!({"data": {"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}});
        let mut to = json!({"data": {"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}});
        mask_secret_data(Some(&mut from), &mut to);
        assert_eq!(
            from,
            json!({"data": {"same": "***", "changed": "*** (before)", "gone": "***"}})
        );
        assert_eq!(
            to,
            json!({"data": {"same": "***", "changed": "*** (after)", "new": "***"}})
        );
        let mut created = json!({"data": {"k": "dg=="}});
        mask_secret_data(None, &mut created);
        assert_eq!(created, json!({"data": {"k": "***"}}));
    }
}
