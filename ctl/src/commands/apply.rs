//! `apply`, `create` and `replace` from manifests. Each document is handled on its own: a
//! failure is printed on one line and the others still go through.

use super::outcome::Outcomes;
use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::{DryRun, FileArgs};
use crate::kinds::object_name;
use crate::manifests::{Doc, NoKindMatch, load_all};
use crate::merge::{
    LAST_APPLIED, is_empty_patch, last_applied, modified_configuration, three_way_patch,
    with_resource_version,
};
use anyhow::{Result, anyhow, bail};
use proto::k8s::{Object, PatchRequest};
use proto::{ApiError, KindInfo, Reason};
use serde_json::Value;

/// A concurrent writer makes the patch fail with Conflict; apply then reads the object
/// again and recomputes, as kubectl does, a bounded number of times.
const MAX_TRIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Replaced,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Replaced => "replaced",
        }
    }
}

/// The document's kind, and the object with its namespace settled.
pub(super) fn prepare(ctx: &Ctx, doc: Doc) -> Result<(&'static KindInfo, Object, String)> {
    prepare_named(ctx, doc, false)
}

/// As [`prepare`]; with `generated`, a document with `generateName` and no name is
/// accepted, for the server to name (`create` only, as Kubernetes).
fn prepare_named(
    ctx: &Ctx,
    doc: Doc,
    generated: bool,
) -> Result<(&'static KindInfo, Object, String)> {
    let mut object = doc.object;
    let info = object
        .info()
        .ok_or_else(|| anyhow!("error validating \"{}\": empty object", doc.source))?;
    let ns = ctx.ns.for_manifest(info, &object.meta().namespace)?;
    object.meta_mut().namespace = ns;
    let meta = object.meta();
    let server_names_it = generated && !meta.generate_name.is_empty();
    if meta.name.is_empty() && !server_names_it {
        bail!(
            "error validating \"{}\": {} has no metadata.name (generateName is not supported here)",
            doc.source,
            info.kind
        );
    }
    Ok((info, object, doc.source))
}

/// What one document came to: the object as the server answered (under a client dry run,
/// as it would have been sent) and what happened to it.
pub(super) struct Applied {
    pub object: Object,
    pub outcome: Outcome,
}

async fn for_each_doc<F, Fut>(ctx: &Ctx, args: &FileArgs, f: F) -> Result<()>
where
    F: Fn(Doc) -> Fut,
    Fut: std::future::Future<Output = Result<Applied>>,
{
    let mut failures = 0;
    let out = Outcomes::new(ctx);
    let docs = load_all(&args.files, args.recursive);
    if docs.is_empty() {
        bail!("no objects passed to apply");
    }
    for doc in docs {
        let res = match async { f(doc?).await }.await {
            Ok(a) => out.object(&a.object, a.outcome.word()),
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            // kubectl's advice to install CRDs is a line of its own.
            match e.downcast_ref::<NoKindMatch>() {
                Some(unknown) => {
                    failures += 1;
                    eprintln!("error: {unknown}");
                }
                None => report(&mut failures, &e),
            }
        }
    }
    finish(failures)
}

pub async fn apply(ctx: &Ctx, args: &FileArgs) -> Result<()> {
    for_each_doc(ctx, args, |doc| apply_doc(ctx, doc)).await
}

pub async fn create(ctx: &Ctx, args: &FileArgs) -> Result<()> {
    for_each_doc(ctx, args, |doc| async move {
        let (_, object, source) = prepare_named(ctx, doc, true)?;
        // A client dry run of a create needs no server at all: the kinds are known here.
        let object = if ctx.dry_run() == DryRun::Client {
            object
        } else {
            let created = ctx.api().await?.create(object).await;
            created.map_err(|e| with_source(e, "creating", &source))?
        };
        Ok(Applied {
            object,
            outcome: Outcome::Created,
        })
    })
    .await
}

pub async fn replace(ctx: &Ctx, args: &FileArgs) -> Result<()> {
    for_each_doc(ctx, args, |doc| async move {
        let (info, mut object, source) = prepare(ctx, doc)?;
        let name = object.meta().name.clone();
        let api = ctx.api().await?;
        if object.meta().resource_version.is_empty() {
            let live = api
                .get(info.plural, &object.meta().namespace, &name)
                .await?;
            object.meta_mut().resource_version = live.meta().resource_version.clone();
        }
        let object = api
            .update(object)
            .await
            .map_err(|e| with_source(e, "replacing", &source))?;
        Ok(Applied {
            object,
            outcome: Outcome::Replaced,
        })
    })
    .await
}

/// kubectl's `error when creating "x.yaml": ...` in a server's refusal (not in a
/// validation failure, which kubectl words as a sentence about the object).
fn with_source(e: anyhow::Error, verb: &str, source: &str) -> anyhow::Error {
    match e.downcast::<ApiError>() {
        Ok(mut api) if api.reason != Reason::Invalid => {
            api.message = format!("error when {verb} {source:?}: {}", api.message);
            api.into()
        }
        Ok(api) => api.into(),
        Err(e) => e,
    }
}

/// The object `apply` creates when there is none: the manifest whole, as kubectl sends it
/// (the server decides what of its status to keep: a Node registers with its capacity; most
/// kinds start without status), with the last-applied annotation.
pub(super) fn object_to_create(
    info: &'static KindInfo,
    document: &Value,
    modified: &Value,
    source: &str,
) -> Result<Object> {
    let mut to_create = modified.clone();
    if let (Some(status), Some(obj)) = (document.get("status"), to_create.as_object_mut()) {
        obj.insert("status".to_string(), status.clone());
    }
    Object::from_json_as(info, proto::manifest::normalize(to_create))
        .map_err(|e| anyhow!("error validating \"{source}\": {e}"))
}

/// The merge patch that takes `live` to what the manifest (as `modified_configuration`)
/// asks for, three ways against the last-applied annotation; guarded by the live
/// resourceVersion, so the server refuses it (Conflict) if the object changed since. None
/// when nothing would change.
pub(super) fn apply_patch(
    info: &KindInfo,
    live: &Object,
    modified: &Value,
) -> Option<PatchRequest> {
    let current = proto::manifest::to_document(live);
    let original = last_applied(&current);
    let patch = three_way_patch(original.as_ref(), modified, &current);
    if is_empty_patch(&patch) {
        return None;
    }
    let patch = with_resource_version(patch, &live.meta().resource_version);
    Some(PatchRequest {
        resource: info.plural.to_string(),
        namespace: live.meta().namespace.clone(),
        name: live.meta().name.clone(),
        patch_type: "merge".to_string(),
        patch: patch.to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
pub(super) async fn apply_one(ctx: &Ctx, doc: Doc) -> Result<(&'static KindInfo, String, Outcome)> {
    let a = apply_doc(ctx, doc).await?;
    let name = a.object.meta().name.clone();
    let info = a.object.info().expect("an applied object has a kind");
    Ok((info, name, a.outcome))
}

pub(super) async fn apply_doc(ctx: &Ctx, doc: Doc) -> Result<Applied> {
    let meta = doc.object.meta();
    if meta.name.is_empty() && !meta.generate_name.is_empty() {
        // kubectl's words: it names the prefix, not the file.
        bail!(
            "from {}: cannot use generate name with apply",
            meta.generate_name
        );
    }
    let (info, object, source) = prepare(ctx, doc)?;
    let name = object.meta().name.clone();
    let ns = object.meta().namespace.clone();
    let document = proto::manifest::to_document(&object);
    let modified = modified_configuration(&document);
    let api = ctx.api().await?;
    let done = |object, outcome| Ok(Applied { object, outcome });
    for attempt in 1..=MAX_TRIES {
        let live = match api.get(info.plural, &ns, &name).await {
            Ok(live) => live,
            Err(e) if reason_of(&e) == Some(Reason::NotFound) => {
                let new = object_to_create(info, &document, &modified, &source)?;
                match api.create(new).await {
                    Ok(created) => return done(created, Outcome::Created),
                    // Created by someone else meanwhile: merge into theirs.
                    Err(e)
                        if reason_of(&e) == Some(Reason::AlreadyExists) && attempt < MAX_TRIES =>
                    {
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let Some(req) = apply_patch(info, &live, &modified) else {
            // kubectl computes no patch under a client dry run and says `configured`.
            if ctx.dry_run() == DryRun::Client {
                return done(live, Outcome::Configured);
            }
            return done(live, Outcome::Unchanged);
        };
        if attempt == 1 && last_applied(&proto::manifest::to_document(&live)).is_none() {
            eprintln!(
                "Warning: resource {}/{name} is missing the {LAST_APPLIED} annotation which is required by ctl apply. ctl apply should only be used on resources created declaratively by ctl apply. The missing annotation will be patched automatically.",
                info.plural
            );
        }
        match api.patch(req).await {
            Ok(patched) => return done(patched, Outcome::Configured),
            Err(e) if reason_of(&e) == Some(Reason::Conflict) && attempt < MAX_TRIES => continue,
            Err(e) => return Err(e),
        }
    }
    bail!(
        "{} kept changing while being applied; gave up after {MAX_TRIES} attempts",
        object_name(info, &name)
    )
}
