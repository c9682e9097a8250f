//! Rollout history of DaemonSets and StatefulSets (Kubernetes' `pkg/controller/history`):
//! one ControllerRevision per distinct pod template, named `<owner>-<hash>`, controlled by
//! its owner, holding the template as the patch Kubernetes stores
//! (`{"spec":{"template":{...,"$patch":"replace"}}}`) and a revision number.
//!
//! - The update revision is the newest revision when its template equals the owner's;
//!   else an older equal one renumbered to the next number (a rollback reuses its
//!   revision, as Kubernetes does); else a new revision with the next number.
//! - Revisions no pod uses and that are neither current nor the update revision are
//!   history; the oldest beyond `revisionHistoryLimit` (default 10) are deleted.
//!
//! The decisions are pure functions; `sync_revisions` and `truncate` do the writes.

use crate::error::Error;
use crate::pods::new_controller_ref;
use client::Api;
use client::runtime::controller_ref;
use proto::k8s::{ControllerRevision, ObjectMeta, PodTemplateSpec, RawExtension};
use proto::{Reason, Resource};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The label with the revision's hash (on revisions, and on the pods made from them).
pub const REVISION_HASH: &str = "controller-revision-hash";
/// Kubernetes' default `revisionHistoryLimit`.
pub const DEFAULT_HISTORY_LIMIT: i32 = 10;

/// Kubernetes' getPatch: the template as a strategic merge patch replacing the owner's.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut t {
        m.insert("$patch".into(), "replace".into());
    }
    json!({"spec": {"template": t}})
}

/// The template a revision stores (its patch's `spec.template`), if it holds one.
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let data = rev.data.as_ref()?.to_value();
    let mut t = data.pointer("/spec/template")?.clone();
    if let Value::Object(m) = &mut t {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// The revisions `owner_uid` controls, oldest first (by revision number, then name).
pub fn owned_revisions(
    all: Vec<Arc<ControllerRevision>>,
    owner_uid: &str,
) -> Vec<Arc<ControllerRevision>> {
    let mut v: Vec<_> = all
        .into_iter()
        .filter(|r| controller_ref(r.meta()).is_some_and(|c| c.uid == owner_uid))
        .collect();
    v.sort_by(|a, b| (a.revision, &a.meta().name).cmp(&(b.revision, &b.meta().name)));
    v
}

/// What an owner is, for its revisions.
pub struct Owner<'a> {
    pub meta: &'a ObjectMeta,
    pub kind: &'static str,
    pub template: &'a PodTemplateSpec,
    /// The hash a new revision gets (the caller's template hash, with its collision count).
    pub hash: String,
}

/// What the history needs so that its newest revision is the owner's template.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The newest revision already is the template.
    Keep,
    /// An older revision equal to the template becomes the newest (a rollback).
    Renumber { name: String, revision: i32 },
    /// No revision holds the template: a new one.
    Create(Box<ControllerRevision>),
}

/// The update revision: its name, hash label and what to write for it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRevision {
    pub name: String,
    pub hash: String,
    pub step: Step,
}

fn hash_label(rev: &ControllerRevision, fallback: &str) -> String {
    rev.meta()
        .labels
        .get(REVISION_HASH)
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

/// A new revision of `owner` holding its template (Kubernetes' NewControllerRevision): the
/// template's labels plus the hash label, the owner's annotations (so a change-cause
/// carries), controlled by the owner.
pub fn new_revision(owner: &Owner<'_>, revision: i32) -> ControllerRevision {
    let mut labels: BTreeMap<String, String> = owner
        .template
        .metadata
        .as_ref()
        .map(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(REVISION_HASH.into(), owner.hash.clone());
    let mut cr = ControllerRevision {
        data: Some(RawExtension::from_value(&template_patch(owner.template))),
        revision,
        ..Default::default()
    };
    let m = cr.meta_mut();
    m.name = format!("{}-{}", owner.meta.name, owner.hash);
    m.namespace = owner.meta.namespace.clone();
    m.labels = labels;
    m.annotations = owner.meta.annotations.clone();
    m.owner_references = vec![new_controller_ref("apps/v1", owner.kind, owner.meta)];
    cr
}

/// Pure: Kubernetes' getStatefulSetRevisions / constructHistory for the update revision.
/// `revisions` are the owner's, oldest first.
pub fn plan_update_revision(
    owner: &Owner<'_>,
    revisions: &[Arc<ControllerRevision>],
) -> UpdateRevision {
    let next = revisions.last().map_or(1, |r| r.revision.saturating_add(1));
    let equal: Vec<&Arc<ControllerRevision>> = revisions
        .iter()
        .filter(|r| template_of(r).as_ref() == Some(owner.template))
        .collect();
    match (equal.last(), revisions.last()) {
        (Some(eq), Some(newest)) if eq.meta().name == newest.meta().name => UpdateRevision {
            name: eq.meta().name.clone(),
            hash: hash_label(eq, &owner.hash),
            step: Step::Keep,
        },
        (Some(eq), _) => UpdateRevision {
            name: eq.meta().name.clone(),
            hash: hash_label(eq, &owner.hash),
            step: Step::Renumber {
                name: eq.meta().name.clone(),
                revision: next,
            },
        },
        (None, _) => {
            let cr = new_revision(owner, next);
            UpdateRevision {
                name: cr.meta().name.clone(),
                hash: owner.hash.clone(),
                step: Step::Create(Box::new(cr)),
            }
        }
    }
}

/// Pure: Kubernetes' truncateHistory / cleanupHistory: the names of the oldest revisions
/// that are not `live` (current, update, or used by a pod), beyond `limit` of them.
pub fn revisions_to_delete(
    revisions: &[Arc<ControllerRevision>],
    live: &HashSet<String>,
    limit: Option<i32>,
) -> Vec<String> {
    let limit = usize::try_from(limit.unwrap_or(DEFAULT_HISTORY_LIMIT).max(0)).unwrap_or(0);
    let history: Vec<&Arc<ControllerRevision>> = revisions
        .iter()
        .filter(|r| !live.contains(&r.meta().name))
        .collect();
    let excess = history.len().saturating_sub(limit);
    history[..excess]
        .iter()
        .map(|r| r.meta().name.clone())
        .collect()
}

/// Brings the history to the plan: creates or renumbers the update revision. A revision
/// made before and not yet in the cache is found by its name (AlreadyExists); one of that
/// name holding another template (a hash collision) is an error naming it.
pub async fn sync_revisions(
    api: &Api<ControllerRevision>,
    owner: &Owner<'_>,
    plan: &UpdateRevision,
) -> Result<(), Error> {
    match &plan.step {
        Step::Keep => Ok(()),
        Step::Renumber { name, revision } => {
            let mut cr = api.get(name).await?;
            if cr.revision >= *revision {
                return Ok(());
            }
            cr.revision = *revision;
            api.update(&cr).await?;
            Ok(())
        }
        Step::Create(cr) => match api.create(cr).await {
            Ok(_) => Ok(()),
            Err(e) if e.is(Reason::AlreadyExists) => {
                let existing = api.get(&cr.meta().name).await?;
                let ours = controller_ref(existing.meta()).is_some_and(|c| c.uid == owner.meta.uid);
                if ours && template_of(&existing).as_ref() == Some(owner.template) {
                    return Ok(());
                }
                Err(Error::Other(format!(
                    "controllerrevision {} exists and holds another template (hash collision)",
                    cr.meta().name
                )))
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// Deletes the named revisions (gone already counts as done).
pub async fn truncate(api: &Api<ControllerRevision>, names: &[String]) -> Result<(), Error> {
    for name in names {
        match api.delete(name, &Default::default()).await {
            Ok(_) => {}
            Err(e) if e.is(Reason::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, PodSpec};

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: image.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    fn owner_meta() -> ObjectMeta {
        ObjectMeta {
            name: "web".into(),
            namespace: "default".into(),
            uid: "u1".into(),
            annotations: [(
                "kubernetes.io/change-cause".to_string(),
                "set image".to_string(),
            )]
            .into(),
            ..Default::default()
        }
    }

    fn owner<'a>(meta: &'a ObjectMeta, t: &'a PodTemplateSpec, hash: &str) -> Owner<'a> {
        Owner {
            meta,
            kind: "DaemonSet",
            template: t,
            hash: hash.into(),
        }
    }

    fn rev(meta: &ObjectMeta, image: &str, hash: &str, n: i32) -> Arc<ControllerRevision> {
        let t = template(image);
        Arc::new(new_revision(&owner(meta, &t, hash), n))
    }

    #[test]
    fn a_revision_holds_the_template_as_kubernetes_patch() {
        let meta = owner_meta();
        let t = template("nginx:1");
        let cr = new_revision(&owner(&meta, &t, "abc"), 1);
        assert_eq!(cr.meta().name, "web-abc");
        assert_eq!(cr.meta().labels[REVISION_HASH], "abc");
        assert_eq!(cr.meta().labels["app"], "web");
        assert_eq!(
            cr.meta().annotations["kubernetes.io/change-cause"],
            "set image"
        );
        let r = &cr.meta().owner_references[0];
        assert_eq!((r.kind.as_str(), r.controller), ("DaemonSet", Some(true)));
        let data = cr.data.as_ref().unwrap().to_value();
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        assert_eq!(
            data["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1"
        );
        assert_eq!(template_of(&cr), Some(t));
    }

    #[test]
    fn which_revision_is_the_update_revision() {
        let meta = owner_meta();
        let (t1, t2, t3) = (template("v1"), template("v2"), template("v3"));
        let r1 = rev(&meta, "v1", "h1", 1);
        let r2 = rev(&meta, "v2", "h2", 2);
        // No history: revision 1.
        let p = plan_update_revision(&owner(&meta, &t1, "h1"), &[]);
        assert_eq!((p.name.as_str(), p.hash.as_str()), ("web-h1", "h1"));
        assert!(matches!(&p.step, Step::Create(cr) if cr.revision == 1));
        // The newest is the template: nothing to write (a second sync changes nothing).
        let p = plan_update_revision(&owner(&meta, &t2, "h2"), &[r1.clone(), r2.clone()]);
        assert_eq!((p.name.as_str(), p.step), ("web-h2", Step::Keep));
        // A new template: revision 3.
        let p = plan_update_revision(&owner(&meta, &t3, "h3"), &[r1.clone(), r2.clone()]);
        assert!(
            matches!(&p.step, Step::Create(cr) if cr.revision == 3 && cr.meta().name == "web-h3")
        );
        // Back to v1 (a rollback): revision 1 is renumbered 3, its hash kept even when the
        // caller's hash differs (another collision count).
        let p = plan_update_revision(&owner(&meta, &t1, "other"), &[r1, r2]);
        assert_eq!((p.name.as_str(), p.hash.as_str()), ("web-h1", "h1"));
        assert_eq!(
            p.step,
            Step::Renumber {
                name: "web-h1".into(),
                revision: 3
            }
        );
    }

    #[test]
    fn history_beyond_the_limit_goes_oldest_first_live_ones_stay() {
        let meta = owner_meta();
        let revs: Vec<_> = (1..=5)
            .map(|i| rev(&meta, &format!("v{i}"), &format!("h{i}"), i))
            .collect();
        let live: HashSet<String> = ["web-h5".to_string(), "web-h1".to_string()].into();
        // History: h2, h3, h4; keep 1.
        assert_eq!(
            revisions_to_delete(&revs, &live, Some(1)),
            ["web-h2", "web-h3"]
        );
        assert_eq!(
            revisions_to_delete(&revs, &live, Some(0)),
            ["web-h2", "web-h3", "web-h4"]
        );
        assert!(
            revisions_to_delete(&revs, &live, None).is_empty(),
            "default 10"
        );
        // Ownership and order: another owner's revisions are not ours.
        let mut other = (*revs[0]).clone();
        other.meta_mut().owner_references[0].uid = "u2".into();
        let mut all = vec![revs[3].clone(), Arc::new(other), revs[1].clone()];
        all.reverse();
        let names: Vec<_> = owned_revisions(all, "u1")
            .iter()
            .map(|r| r.meta().name.clone())
            .collect();
        assert_eq!(names, ["web-h2", "web-h4"]);
    }
}
