//! `label` and `annotate`: `k=v` sets, `k-` removes, sent as merge patches guarded by the
//! resourceVersion read, so `--overwrite` is checked against what is really there.

use super::outcome::Outcomes;
use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::MetaArgs;
use crate::kinds::{Selection, object_name, parse_selection};
use crate::merge::with_resource_version;
use anyhow::{Result, bail};
use proto::k8s::{Object, PatchRequest};
use proto::{KindInfo, Reason};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const MAX_TRIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Labels,
    Annotations,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Labels => "labels",
            Field::Annotations => "annotations",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Field::Labels => "label",
            Field::Annotations => "annotation",
        }
    }
    /// kubectl says "unlabeled" when the command only removes labels.
    fn past(self, changes: &Changes) -> &'static str {
        let only_removes = changes.set.is_empty() && !changes.remove.is_empty();
        match (self, only_removes) {
            (Field::Labels, false) => "labeled",
            (Field::Labels, true) => "unlabeled",
            (Field::Annotations, _) => "annotated",
        }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

/// Splits the arguments into the resource part and the changes (`k=v`, `k-`).
pub fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let is_change = |a: &String| a.contains('=') || (a.ends_with('-') && a.len() > 1);
    let first_change = args.iter().position(is_change).unwrap_or(args.len());
    (args[..first_change].to_vec(), args[first_change..].to_vec())
}

pub fn parse_changes(items: &[String], field: Field) -> Result<Changes> {
    let mut c = Changes::default();
    for item in items {
        if let Some((k, v)) = item.split_once('=') {
            validate_key(k, field)?;
            if field == Field::Labels && !valid_label_value(v) {
                bail!(
                    "invalid label value: \"{item}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
                );
            }
            c.set.insert(k.to_string(), v.to_string());
        } else if let Some(k) = item.strip_suffix('-') {
            validate_key(k, field)?;
            c.remove.push(k.to_string());
        } else {
            bail!(
                "invalid {} format: {item:?} (expected key=value or key-)",
                field.noun()
            );
        }
    }
    if c.set.is_empty() && c.remove.is_empty() {
        bail!("at least one {} update is required", field.noun());
    }
    if let Some(k) = c.remove.iter().find(|k| c.set.contains_key(*k)) {
        bail!(
            "can not both modify and remove the {} {k:?} in the same command",
            field.noun()
        );
    }
    Ok(c)
}

fn valid_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn valid_label_value(v: &str) -> bool {
    v.is_empty() || valid_name_part(v)
}

/// `[prefix/]name`, the prefix a DNS subdomain: Kubernetes' qualified name.
fn validate_key(k: &str, field: Field) -> Result<()> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    if !prefix_ok || !valid_name_part(name) {
        bail!(
            "invalid {} key {k:?}: must be a qualified name ([prefix/]name, name of alphanumerics, '-', '_' or '.', at most 63 characters)",
            field.noun()
        );
    }
    Ok(())
}

/// The patch to `metadata.<field>` that makes `current` reflect `changes`, or None when
/// nothing would change. Changing an existing value needs `overwrite`.
pub fn plan_patch(
    current: &BTreeMap<String, String>,
    changes: &Changes,
    field: Field,
    overwrite: bool,
) -> Result<Option<Value>> {
    let mut patch = Map::new();
    for (k, v) in &changes.set {
        match current.get(k) {
            Some(old) if old == v => {}
            Some(old) if !overwrite => {
                bail!("'{k}' already has a value ({old}), and --overwrite is false")
            }
            _ => {
                patch.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    for k in &changes.remove {
        if current.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    if patch.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        json!({"metadata": {field.key(): Value::Object(patch)}}),
    ))
}

pub async fn label(ctx: &Ctx, args: &MetaArgs, field: Field) -> Result<()> {
    let (resource_args, change_args) = split_args(&args.args);
    let changes = parse_changes(&change_args, field)?;
    if resource_args.is_empty() {
        bail!("you must specify the type of resource");
    }
    let api = ctx.api().await?;
    let targets: Vec<(&'static KindInfo, String, String)> = match parse_selection(&resource_args)? {
        Selection::Named(pairs) => pairs
            .into_iter()
            .map(|(k, n)| (k, ctx.ns.for_object(k), n))
            .collect(),
        Selection::All(kinds) => {
            if ctx.global.selector.is_none() {
                bail!("resource(s) were provided, but no name was specified");
            }
            let mut out = Vec::new();
            for kind in kinds {
                let resp = api.list(ctx.list_request(kind)).await?;
                out.extend(
                    resp.items
                        .iter()
                        .map(|o| (kind, o.meta().namespace.clone(), o.meta().name.clone())),
                );
            }
            out
        }
    };
    let mut failures = 0;
    let out = Outcomes::new(ctx);
    for (kind, ns, name) in targets {
        let res = match label_object(ctx, kind, &ns, &name, &changes, field, args.overwrite).await {
            Ok((true, object)) => out.object(&object, field.past(&changes)),
            Ok((false, object)) => out.object(&object, &format!("not {}", field.past(&changes))),
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            report(&mut failures, &e);
        }
    }
    finish(failures)
}

/// Whether the labels (annotations) changed.
#[cfg(test)]
pub(super) async fn label_one(
    ctx: &Ctx,
    kind: &'static KindInfo,
    ns: &str,
    name: &str,
    changes: &Changes,
    field: Field,
    overwrite: bool,
) -> Result<bool> {
    let (changed, _) = label_object(ctx, kind, ns, name, changes, field, overwrite).await?;
    Ok(changed)
}

/// Whether the labels (annotations) changed, and the object after the change (under
/// `--dry-run`, as it would be).
pub(super) async fn label_object(
    ctx: &Ctx,
    kind: &'static KindInfo,
    ns: &str,
    name: &str,
    changes: &Changes,
    field: Field,
    overwrite: bool,
) -> Result<(bool, Object)> {
    let api = ctx.api().await?;
    for attempt in 1..=MAX_TRIES {
        let live = api.get(kind.plural, ns, name).await?;
        let current = match field {
            Field::Labels => &live.meta().labels,
            Field::Annotations => &live.meta().annotations,
        };
        let current: BTreeMap<String, String> = current
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let Some(patch) = plan_patch(&current, changes, field, overwrite)? else {
            return Ok((false, live));
        };
        let patch = with_resource_version(patch, &live.meta().resource_version);
        let req = PatchRequest {
            resource: kind.plural.to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            patch_type: "merge".into(),
            patch: patch.to_string(),
            subresource: String::new(),
            dry_run: false,
            ..Default::default()
        };
        match api.patch(req).await {
            Ok(patched) => return Ok((true, patched)),
            Err(e) if reason_of(&e) == Some(Reason::Conflict) && attempt < MAX_TRIES => continue,
            Err(e) => return Err(e),
        }
    }
    bail!(
        "{} kept changing; gave up after {MAX_TRIES} attempts",
        object_name(kind, name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splitting_and_parsing() {
        let (res, ch) = split_args(&s(&["pod", "web", "a=1", "b-"]));
        assert_eq!(res, ["pod", "web"]);
        let c = parse_changes(&ch, Field::Labels).unwrap();
        assert_eq!(c.set.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.remove, ["b"]);
        let (res, _) = split_args(&s(&["deploy/web", "app.kubernetes.io/name=x"]));
        assert_eq!(res, ["deploy/web"]);
        assert!(parse_changes(&s(&["a=b@d"]), Field::Labels).is_err());
        assert!(
            parse_changes(&s(&["a=b@d c"]), Field::Annotations).is_ok(),
            "annotation values are free text"
        );
        assert!(parse_changes(&s(&["-bad=x"]), Field::Labels).is_err());
        assert!(parse_changes(&s(&["Bad.Prefix/x=1"]), Field::Labels).is_err());
        assert!(parse_changes(&s(&["a=1", "a-"]), Field::Labels).is_err());
        assert!(parse_changes(&s(&[]), Field::Labels).is_err());
    }

    #[test]
    fn planning() {
        let current: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        let set = |k: &str, v: &str| Changes {
            set: [(k.to_string(), v.to_string())].into(),
            remove: vec![],
        };
        let err = plan_patch(&current, &set("a", "2"), Field::Labels, false)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "'a' already has a value (1), and --overwrite is false");
        assert_eq!(
            plan_patch(&current, &set("a", "2"), Field::Labels, true).unwrap(),
            Some(json!({"metadata": {"labels": {"a": "2"}}}))
        );
        assert_eq!(
            plan_patch(&current, &set("a", "1"), Field::Labels, false).unwrap(),
            None
        );
        let rm = Changes {
            set: BTreeMap::new(),
            remove: vec!["a".into(), "zz".into()],
        };
        assert_eq!(
            plan_patch(&current, &rm, Field::Annotations, false).unwrap(),
            Some(json!({"metadata": {"annotations": {"a": null}}}))
        );
    }
}
