//! `rollout status|history|undo|restart` for DaemonSets and StatefulSets, as kubectl does
//! them: status reads the set's status (kubectl's DaemonSetStatusViewer and
//! StatefulSetStatusViewer); history and undo read the ControllerRevisions the set controls
//! (found by its selector, kept by controller uid); undo sends the revision's data (a
//! strategic merge patch replacing the template) to the set.

use super::{CHANGE_CAUSE, RESTARTED_AT};
use crate::commands::Ctx;
use crate::kinds::object_name;
use anyhow::{Result, anyhow, bail};
use client::Api as TypedApi;
use client::ListParams;
use proto::k8s::{ControllerRevision, DaemonSet, PatchRequest, PodTemplateSpec, StatefulSet};
use proto::{KindInfo, Resource};

/// kubectl's DaemonSetStatusViewer: (message, done), or the error that ends the wait.
pub fn daemon_set_status(ds: &DaemonSet) -> Result<(String, bool)> {
    let spec = ds.spec.clone().unwrap_or_default();
    let strategy = spec.update_strategy.map(|s| s.r#type).unwrap_or_default();
    if !strategy.is_empty() && strategy != "RollingUpdate" {
        bail!("rollout status is only available for RollingUpdate strategy type");
    }
    let name = &ds.meta().name;
    let s = ds.status.clone().unwrap_or_default();
    if ds.meta().generation > s.observed_generation {
        return Ok((
            "Waiting for daemon set spec update to be observed...".into(),
            false,
        ));
    }
    if s.updated_number_scheduled < s.desired_number_scheduled {
        return Ok((
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {} out of {} new pods have been updated...",
                s.updated_number_scheduled, s.desired_number_scheduled
            ),
            false,
        ));
    }
    if s.number_available < s.desired_number_scheduled {
        return Ok((
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {} of {} updated pods are available...",
                s.number_available, s.desired_number_scheduled
            ),
            false,
        ));
    }
    Ok((format!("daemon set {name:?} successfully rolled out"), true))
}

/// kubectl's StatefulSetStatusViewer: (message, done), or the error that ends the wait.
pub fn stateful_set_status(sts: &StatefulSet) -> Result<(String, bool)> {
    let spec = sts.spec.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if !strategy.r#type.is_empty() && strategy.r#type != "RollingUpdate" {
        bail!("rollout status is only available for RollingUpdate strategy type");
    }
    let s = sts.status.clone().unwrap_or_default();
    if s.observed_generation == 0 || sts.meta().generation > s.observed_generation {
        return Ok((
            "Waiting for statefulset spec update to be observed...".into(),
            false,
        ));
    }
    let replicas = spec.replicas.unwrap_or(1);
    if s.ready_replicas < replicas {
        return Ok((
            format!(
                "Waiting for {} pods to be ready...",
                replicas - s.ready_replicas
            ),
            false,
        ));
    }
    if let Some(ru) = &strategy.rolling_update {
        if let Some(partition) = ru.partition
            && s.updated_replicas < replicas - partition
        {
            return Ok((
                format!(
                    "Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...",
                    s.updated_replicas,
                    replicas - partition
                ),
                false,
            ));
        }
        return Ok((
            format!(
                "partitioned roll out complete: {} new pods have been updated...",
                s.updated_replicas
            ),
            true,
        ));
    }
    if s.update_revision != s.current_revision {
        return Ok((
            format!(
                "waiting for statefulset rolling update to complete {} pods at revision {}...",
                s.updated_replicas, s.update_revision
            ),
            false,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {}...",
            s.current_replicas, s.current_revision
        ),
        true,
    ))
}

/// The status message of the named DaemonSet or StatefulSet, read once.
pub async fn status_once(ctx: &Ctx, kind: &KindInfo, name: &str) -> Result<(String, bool)> {
    let conn = ctx.api().await?;
    let ns = ctx.ns.effective();
    if kind.kind == "DaemonSet" {
        let api: TypedApi<DaemonSet> = TypedApi::namespaced(conn.client().clone(), ns);
        daemon_set_status(&conn.call(api.get(name)).await?)
    } else {
        let api: TypedApi<StatefulSet> = TypedApi::namespaced(conn.client().clone(), ns);
        stateful_set_status(&conn.call(api.get(name)).await?)
    }
}

/// The set as history needs it: uid, selector (as a label selector string), template.
struct SetInfo {
    uid: String,
    selector: String,
    template: PodTemplateSpec,
    namespace: String,
}

async fn set_info(ctx: &Ctx, kind: &KindInfo, name: &str) -> Result<SetInfo> {
    let conn = ctx.api().await?;
    let ns = ctx.ns.effective();
    let (meta, selector, template) = if kind.kind == "DaemonSet" {
        let api: TypedApi<DaemonSet> = TypedApi::namespaced(conn.client().clone(), ns);
        let ds = conn.call(api.get(name)).await?;
        let spec = ds.spec.clone().unwrap_or_default();
        (ds.meta().clone(), spec.selector, spec.template)
    } else {
        let api: TypedApi<StatefulSet> = TypedApi::namespaced(conn.client().clone(), ns);
        let sts = conn.call(api.get(name)).await?;
        let spec = sts.spec.clone().unwrap_or_default();
        (sts.meta().clone(), spec.selector, spec.template)
    };
    let selector = selector
        .as_ref()
        .map(|s| {
            proto::selector::LabelSelector::from_proto(s)
                .map(|s| s.to_string())
                .map_err(|e| anyhow!("{e}"))
        })
        .transpose()?
        .unwrap_or_default();
    Ok(SetInfo {
        uid: meta.uid,
        selector,
        template: template.unwrap_or_default(),
        namespace: meta.namespace,
    })
}

/// kubectl's controlledHistories: the revisions matching the set's selector that it
/// controls.
async fn revisions(ctx: &Ctx, set: &SetInfo) -> Result<Vec<ControllerRevision>> {
    let conn = ctx.api().await?;
    let api: TypedApi<ControllerRevision> =
        TypedApi::namespaced(conn.client().clone(), &set.namespace);
    let list = conn
        .call(api.list(&ListParams::labels(&set.selector)))
        .await?;
    Ok(controlled(list.items, &set.uid))
}

/// Pure: the revisions `uid` controls, by revision number.
pub fn controlled(all: Vec<ControllerRevision>, uid: &str) -> Vec<ControllerRevision> {
    let mut v: Vec<ControllerRevision> = all
        .into_iter()
        .filter(|r| {
            r.meta()
                .owner_references
                .iter()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .collect();
    v.sort_by_key(|r| r.revision);
    v
}

/// `REVISION  CHANGE-CAUSE` rows, oldest first.
pub fn history_table(revs: &[ControllerRevision]) -> String {
    let rows: Vec<(i64, String)> = revs
        .iter()
        .map(|r| {
            let cause = r
                .meta()
                .annotations
                .get(CHANGE_CAUSE)
                .cloned()
                .unwrap_or_else(|| "<none>".into());
            (i64::from(r.revision), cause)
        })
        .collect();
    super::rows_table(rows)
}

/// The template a revision holds (its patch's `spec.template`, directive removed).
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let data = rev.data.as_ref()?.to_value();
    let mut t = data.pointer("/spec/template")?.clone();
    if let serde_json::Value::Object(m) = &mut t {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// kubectl's findHistory: revision `to`, or with 0 the one before the newest. Err in
/// kubectl's words when there is none.
pub fn find_revision(revs: &[ControllerRevision], to: i64) -> Result<&ControllerRevision> {
    let not_found = || anyhow!("unable to find specified revision {to} in history");
    if to < 0 {
        return Err(not_found());
    }
    if to == 0 {
        if revs.len() <= 1 {
            return Err(not_found());
        }
        return Ok(&revs[revs.len() - 2]);
    }
    revs.iter()
        .find(|r| i64::from(r.revision) == to)
        .ok_or_else(not_found)
}

pub async fn history(ctx: &Ctx, kind: &KindInfo, name: &str, revision: Option<i64>) -> Result<()> {
    let set = set_info(ctx, kind, name).await?;
    let revs = revisions(ctx, &set).await?;
    if let Some(want) = revision.filter(|r| *r > 0) {
        let Some(rev) = revs.iter().find(|r| i64::from(r.revision) == want) else {
            bail!("unable to find the specified revision");
        };
        let template = template_of(rev).unwrap_or_default();
        println!("{} with revision #{want}", object_name(kind, name));
        println!("Pod Template:");
        let yaml = crate::printers::yaml(&serde_json::to_value(&template)?)?;
        for line in yaml.lines() {
            println!("  {line}");
        }
        return Ok(());
    }
    // kubectl's header line ends in a space (its name printer with no operation).
    println!("{} ", object_name(kind, name));
    println!("{}", history_table(&revs));
    Ok(())
}

pub async fn undo(ctx: &Ctx, kind: &KindInfo, name: &str, to: i64) -> Result<()> {
    let set = set_info(ctx, kind, name).await?;
    let revs = revisions(ctx, &set).await?;
    let rev = find_revision(&revs, to)?;
    let template = template_of(rev)
        .ok_or_else(|| anyhow!("revision {} holds no pod template", rev.revision))?;
    if template == set.template {
        println!(
            "{} skipped rollback (current template already matches revision {to})",
            object_name(kind, name)
        );
        return Ok(());
    }
    let data = rev.data.as_ref().map(|d| d.to_value()).unwrap_or_default();
    let conn = ctx.api().await?;
    let req = PatchRequest {
        resource: kind.plural.into(),
        namespace: set.namespace.clone(),
        name: name.into(),
        patch_type: "strategic".into(),
        patch: data.to_string(),
        ..Default::default()
    };
    conn.patch(req)
        .await
        .map_err(|e| anyhow!("failed restoring revision {to}: {e}"))?;
    println!(
        "{} rolled back{}",
        object_name(kind, name),
        ctx.dry_run_suffix()
    );
    Ok(())
}

pub async fn restart(ctx: &Ctx, kind: &KindInfo, name: &str) -> Result<()> {
    let conn = ctx.api().await?;
    // Read first: a missing set is NotFound before anything is sent.
    let set = set_info(ctx, kind, name).await?;
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
        RESTARTED_AT: proto::time::now_rfc3339()
    }}}}});
    let req = PatchRequest {
        resource: kind.plural.into(),
        namespace: set.namespace,
        name: name.into(),
        patch_type: "strategic".into(),
        patch: patch.to_string(),
        ..Default::default()
    };
    conn.patch(req).await?;
    println!(
        "{} restarted{}",
        object_name(kind, name),
        ctx.dry_run_suffix()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        DaemonSetSpec, DaemonSetStatus, OwnerReference, RawExtension,
        RollingUpdateStatefulSetStrategy, StatefulSetSpec, StatefulSetStatus,
        StatefulSetUpdateStrategy,
    };

    fn ds(generation: i32, observed: i32, desired: i32, updated: i32, available: i32) -> DaemonSet {
        let mut d = DaemonSet {
            spec: Some(DaemonSetSpec::default()),
            status: Some(DaemonSetStatus {
                observed_generation: observed,
                desired_number_scheduled: desired,
                updated_number_scheduled: updated,
                number_available: available,
                ..Default::default()
            }),
            ..Default::default()
        };
        d.meta_mut().name = "x".into();
        d.meta_mut().generation = generation;
        d
    }

    #[test]
    fn daemon_set_status_messages_are_kubectls() {
        let cases = [
            (
                ds(2, 1, 3, 3, 3),
                "Waiting for daemon set spec update to be observed...",
                false,
            ),
            (
                ds(2, 2, 3, 1, 3),
                "Waiting for daemon set \"x\" rollout to finish: 1 out of 3 new pods have been updated...",
                false,
            ),
            (
                ds(2, 2, 3, 3, 2),
                "Waiting for daemon set \"x\" rollout to finish: 2 of 3 updated pods are available...",
                false,
            ),
            (
                ds(2, 2, 3, 3, 3),
                "daemon set \"x\" successfully rolled out",
                true,
            ),
        ];
        for (d, msg, done) in cases {
            let (m, dn) = daemon_set_status(&d).unwrap();
            assert_eq!((m.as_str(), dn), (msg, done));
        }
        let mut od = ds(1, 1, 1, 1, 1);
        od.spec.as_mut().unwrap().update_strategy = Some(proto::k8s::DaemonSetUpdateStrategy {
            r#type: "OnDelete".into(),
            rolling_update: None,
        });
        assert_eq!(
            daemon_set_status(&od).unwrap_err().to_string(),
            "rollout status is only available for RollingUpdate strategy type"
        );
    }

    fn sts(partition: Option<i32>, status: StatefulSetStatus) -> StatefulSet {
        let mut s = StatefulSet {
            spec: Some(StatefulSetSpec {
                replicas: Some(3),
                update_strategy: Some(StatefulSetUpdateStrategy {
                    r#type: "RollingUpdate".into(),
                    rolling_update: partition.map(|p| RollingUpdateStatefulSetStrategy {
                        partition: Some(p),
                        max_unavailable: String::new(),
                    }),
                }),
                ..Default::default()
            }),
            status: Some(status),
            ..Default::default()
        };
        s.meta_mut().name = "web".into();
        s.meta_mut().generation = 1;
        s
    }

    fn st(ready: i32, updated: i32, current: i32, cur: &str, upd: &str) -> StatefulSetStatus {
        StatefulSetStatus {
            observed_generation: 1,
            ready_replicas: ready,
            updated_replicas: updated,
            current_replicas: current,
            current_revision: cur.into(),
            update_revision: upd.into(),
            ..Default::default()
        }
    }

    #[test]
    fn stateful_set_status_messages_are_kubectls() {
        let cases = [
            (
                sts(None, StatefulSetStatus::default()),
                "Waiting for statefulset spec update to be observed...",
                false,
            ),
            (
                sts(None, st(1, 3, 3, "web-a", "web-a")),
                "Waiting for 2 pods to be ready...",
                false,
            ),
            (
                sts(Some(1), st(3, 1, 2, "web-a", "web-b")),
                "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
                false,
            ),
            (
                sts(Some(1), st(3, 2, 1, "web-a", "web-b")),
                "partitioned roll out complete: 2 new pods have been updated...",
                true,
            ),
            (
                sts(None, st(3, 1, 2, "web-a", "web-b")),
                "waiting for statefulset rolling update to complete 1 pods at revision web-b...",
                false,
            ),
            (
                sts(None, st(3, 3, 3, "web-b", "web-b")),
                "statefulset rolling update complete 3 pods at revision web-b...",
                true,
            ),
        ];
        for (s, msg, done) in cases {
            let (m, dn) = stateful_set_status(&s).unwrap();
            assert_eq!((m.as_str(), dn), (msg, done));
        }
    }

    fn rev(n: i32, owner: &str, cause: Option<&str>, image: &str) -> ControllerRevision {
        let mut r = ControllerRevision {
            revision: n,
            data: Some(RawExtension::from_value(
                &serde_json::json!({"spec": {"template": {
                    "$patch": "replace",
                    "metadata": {"labels": {"app": "x"}},
                    "spec": {"containers": [{"name": "c", "image": image}]}
                }}}),
            )),
            ..Default::default()
        };
        r.meta_mut().name = format!("x-{n}");
        r.meta_mut().owner_references = vec![OwnerReference {
            uid: owner.into(),
            controller: Some(true),
            ..Default::default()
        }];
        if let Some(c) = cause {
            r.meta_mut()
                .annotations
                .insert(CHANGE_CAUSE.into(), c.into());
        }
        r
    }

    #[test]
    fn history_rows_revision_choice_and_templates() {
        let all = vec![
            rev(3, "u", Some("set image"), "c"),
            rev(1, "u", None, "a"),
            rev(2, "other", None, "b"),
            rev(2, "u", None, "b"),
        ];
        let revs = controlled(all, "u");
        assert_eq!(
            history_table(&revs),
            "REVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n3         set image\n"
        );
        assert_eq!(find_revision(&revs, 0).unwrap().revision, 2);
        assert_eq!(find_revision(&revs, 1).unwrap().revision, 1);
        assert_eq!(
            find_revision(&revs, 7).unwrap_err().to_string(),
            "unable to find specified revision 7 in history"
        );
        assert!(find_revision(&revs[..1], 0).is_err());
        let t = template_of(&revs[0]).unwrap();
        assert_eq!(t.spec.unwrap().containers[0].image, "a");
    }
}
