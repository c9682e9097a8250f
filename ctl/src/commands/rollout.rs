//! `rollout status|history|undo|restart|pause|resume` for deployments, as kubectl does
//! them: status reads the deployment's status until the rollout is done; history reads the
//! revisions off the deployment's ReplicaSets; undo copies an old ReplicaSet's template into
//! the deployment (the controller then rolls it out as the next revision); restart stamps
//! the template; pause and resume flip `spec.paused`. DaemonSets and StatefulSets (all but
//! pause and resume, as kubectl) are in `sets`.

#[cfg(test)]
mod component_tests;
mod sets;

use super::Ctx;
use crate::args::{
    RolloutArgs, RolloutCommand, RolloutHistoryArgs, RolloutStatusArgs, RolloutUndoArgs,
    parse_duration,
};
use crate::kinds::{Selection, object_name, parse_selection};
use anyhow::{Result, anyhow, bail};
use client::Api as TypedApi;
use proto::k8s::{Deployment, PatchRequest, PodTemplateSpec, ReplicaSet};
use proto::{KindInfo, Resource};
use std::time::{Duration, Instant};

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

pub async fn rollout(ctx: &Ctx, args: &RolloutArgs) -> Result<()> {
    // Boxed: the typed API futures are large, and six of them inline would overflow a
    // small (test thread) stack.
    match &args.command {
        RolloutCommand::Status(a) => Box::pin(status(ctx, a)).await,
        RolloutCommand::History(a) => Box::pin(history(ctx, a)).await,
        RolloutCommand::Undo(a) => Box::pin(undo(ctx, a)).await,
        RolloutCommand::Restart(a) => Box::pin(restart(ctx, &a.args)).await,
        RolloutCommand::Pause(a) => Box::pin(pause(ctx, &a.args, true)).await,
        RolloutCommand::Resume(a) => Box::pin(pause(ctx, &a.args, false)).await,
    }
}

/// The one resource named by `KIND/NAME` or `KIND NAME`.
fn named(args: &[String]) -> Result<(&'static KindInfo, String)> {
    let Selection::Named(mut pairs) = parse_selection(args)? else {
        bail!("required resource not specified");
    };
    if pairs.len() != 1 {
        bail!("rollout acts on one resource at a time");
    }
    Ok(pairs.remove(0))
}

/// The one deployment named by `deployment/NAME` or `deployment NAME`.
fn target(args: &[String]) -> Result<(&'static KindInfo, String)> {
    let (kind, name) = named(args)?;
    if kind.kind != "Deployment" {
        bail!(
            "no rollout support for kind {:?} (only deployments)",
            kind.kind
        );
    }
    Ok((kind, name))
}

/// A DaemonSet or StatefulSet, which `sets` rolls out.
fn set_target(args: &[String]) -> Result<Option<(&'static KindInfo, String)>> {
    let (kind, name) = named(args)?;
    Ok(matches!(kind.kind, "DaemonSet" | "StatefulSet").then_some((kind, name)))
}

async fn deployments(ctx: &Ctx) -> Result<TypedApi<Deployment>> {
    let api = ctx.api().await?;
    Ok(TypedApi::namespaced(
        api.client().clone(),
        ctx.ns.effective(),
    ))
}

/// kubectl's DeploymentStatusViewer: (message, done), or the error that ends the wait.
pub fn status_message(d: &Deployment) -> Result<(String, bool)> {
    let name = &d.meta().name;
    let status = d.status.clone().unwrap_or_default();
    if d.meta().generation > status.observed_generation {
        return Ok((
            "Waiting for deployment spec update to be observed...".into(),
            false,
        ));
    }
    if status
        .conditions
        .iter()
        .any(|c| c.r#type == "Progressing" && c.reason == "ProgressDeadlineExceeded")
    {
        bail!("deployment {name:?} exceeded its progress deadline");
    }
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    if status.updated_replicas < replicas {
        return Ok((
            format!(
                "Waiting for deployment {name:?} rollout to finish: {} out of {replicas} new replicas have been updated...",
                status.updated_replicas
            ),
            false,
        ));
    }
    if status.replicas > status.updated_replicas {
        return Ok((
            format!(
                "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
                status.replicas - status.updated_replicas
            ),
            false,
        ));
    }
    if status.available_replicas < status.updated_replicas {
        return Ok((
            format!(
                "Waiting for deployment {name:?} rollout to finish: {} of {} updated replicas are available...",
                status.available_replicas, status.updated_replicas
            ),
            false,
        ));
    }
    Ok((format!("deployment {name:?} successfully rolled out"), true))
}

async fn status(ctx: &Ctx, args: &RolloutStatusArgs) -> Result<()> {
    let set = set_target(&args.args)?;
    let (kind, name) = match &set {
        Some(s) => s.clone(),
        None => target(&args.args)?,
    };
    let timeout = parse_duration(&args.timeout).map_err(|e| anyhow!("--timeout: {e}"))?;
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    let api = deployments(ctx).await?;
    let conn = ctx.api().await?;
    let mut last = String::new();
    loop {
        let (msg, done) = if set.is_some() {
            sets::status_once(ctx, kind, &name).await?
        } else {
            status_message(&conn.call(api.get(&name)).await?)?
        };
        if msg != last {
            println!("{msg}");
            last = msg;
        }
        if done || !args.watch {
            return Ok(());
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            bail!("timed out waiting for the condition");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.meta()
        .annotations
        .get(REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The deployment's ReplicaSets (those it controls), by revision.
async fn owned_replicasets(ctx: &Ctx, d: &Deployment) -> Result<Vec<ReplicaSet>> {
    let conn = ctx.api().await?;
    let api: TypedApi<ReplicaSet> =
        TypedApi::namespaced(conn.client().clone(), &d.meta().namespace);
    let list = conn.call(api.list(&Default::default())).await?;
    let mut rss: Vec<ReplicaSet> = list
        .items
        .into_iter()
        .filter(|rs| {
            rs.meta()
                .owner_references
                .iter()
                .any(|r| r.controller == Some(true) && r.uid == d.meta().uid)
        })
        .collect();
    rss.sort_by_key(revision);
    Ok(rss)
}

fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(m) = t.metadata.as_mut() {
        m.labels.remove(POD_TEMPLATE_HASH);
    }
    t
}

async fn history(ctx: &Ctx, args: &RolloutHistoryArgs) -> Result<()> {
    if let Some((kind, name)) = set_target(&args.args)? {
        return sets::history(ctx, kind, &name, args.revision).await;
    }
    let (kind, name) = target(&args.args)?;
    let conn = ctx.api().await?;
    let d = conn.call(deployments(ctx).await?.get(&name)).await?;
    let rss = owned_replicasets(ctx, &d).await?;
    if let Some(want) = args.revision {
        let Some(rs) = rss.iter().find(|rs| revision(rs) == want) else {
            bail!("unable to find the specified revision");
        };
        let template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .map(without_hash)
            .unwrap_or_default();
        println!("{} with revision #{want}", object_name(kind, &name));
        println!("Pod Template:");
        let yaml = crate::printers::yaml(&serde_json::to_value(&template)?)?;
        for line in yaml.lines() {
            println!("  {line}");
        }
        return Ok(());
    }
    // kubectl's header line ends in a space (its name printer with no operation).
    println!("{} ", object_name(kind, &name));
    println!("{}", history_table(&rss));
    Ok(())
}

/// `REVISION  CHANGE-CAUSE` rows, oldest first (revisions 0, never rolled out, left out).
pub fn history_table(rss: &[ReplicaSet]) -> String {
    let rows: Vec<(i64, String)> = rss
        .iter()
        .filter(|rs| revision(rs) > 0)
        .map(|rs| {
            let cause = rs
                .meta()
                .annotations
                .get(CHANGE_CAUSE)
                .cloned()
                .unwrap_or_else(|| "<none>".into());
            (revision(rs), cause)
        })
        .collect();
    rows_table(rows)
}

/// kubectl's history table: `REVISION  CHANGE-CAUSE`, by revision.
fn rows_table(mut rows: Vec<(i64, String)>) -> String {
    rows.sort();
    let mut out = String::from("REVISION  CHANGE-CAUSE\n");
    for (rev, cause) in rows {
        out.push_str(&format!("{rev:<10}{cause}\n"));
    }
    out
}

/// kubectl's rollback: the template of revision `to` (0: the one before the current),
/// hash label removed. Err when there is no such revision.
pub fn rollback_template(rss: &[ReplicaSet], to: i64) -> Result<(i64, PodTemplateSpec)> {
    let mut revs: Vec<(i64, &ReplicaSet)> = rss
        .iter()
        .map(|rs| (revision(rs), rs))
        .filter(|(r, _)| *r > 0)
        .collect();
    revs.sort_by_key(|(r, _)| *r);
    let chosen = if to == 0 {
        if revs.len() < 2 {
            bail!("no rollout history found for deployment");
        }
        revs[revs.len() - 2]
    } else {
        *revs
            .iter()
            .find(|(r, _)| *r == to)
            .ok_or_else(|| anyhow!("unable to find specified revision {to} in history"))?
    };
    let template = chosen
        .1
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .map(without_hash)
        .ok_or_else(|| anyhow!("revision {} has no pod template", chosen.0))?;
    Ok((chosen.0, template))
}

async fn undo(ctx: &Ctx, args: &RolloutUndoArgs) -> Result<()> {
    if let Some((kind, name)) = set_target(&args.args)? {
        return sets::undo(ctx, kind, &name, args.to_revision).await;
    }
    let (kind, name) = target(&args.args)?;
    let conn = ctx.api().await?;
    let api = deployments(ctx).await?;
    let mut d = conn.call(api.get(&name)).await?;
    if d.spec.as_ref().is_some_and(|s| s.paused) {
        bail!(
            "you cannot rollback a paused deployment; resume it first with 'ctl rollout resume deployment/{name}' and try again"
        );
    }
    let rss = owned_replicasets(ctx, &d).await?;
    let (rev, template) = rollback_template(&rss, args.to_revision)?;
    let spec = d.spec.get_or_insert_with(Default::default);
    if spec.template.as_ref() == Some(&template) {
        println!(
            "{} skipped rollback (current template already matches revision {rev})",
            object_name(kind, &name)
        );
        return Ok(());
    }
    // kubectl's rollback patch: a JSON patch replacing the template.
    let patch = serde_json::json!([
        {"op": "replace", "path": "/spec/template", "value": serde_json::to_value(&template)?},
    ]);
    conn.patch(patch_request(
        kind,
        &d.meta().namespace,
        &name,
        "json",
        &patch,
    ))
    .await?;
    println!(
        "{} rolled back{}",
        object_name(kind, &name),
        ctx.dry_run_suffix()
    );
    Ok(())
}

fn patch_request(
    kind: &KindInfo,
    namespace: &str,
    name: &str,
    patch_type: &str,
    patch: &serde_json::Value,
) -> PatchRequest {
    PatchRequest {
        resource: kind.plural.into(),
        namespace: namespace.into(),
        name: name.into(),
        patch_type: patch_type.into(),
        patch: patch.to_string(),
        ..Default::default()
    }
}

async fn restart(ctx: &Ctx, args: &[String]) -> Result<()> {
    if let Some((kind, name)) = set_target(args)? {
        return sets::restart(ctx, kind, &name).await;
    }
    let (kind, name) = target(args)?;
    let conn = ctx.api().await?;
    let api = deployments(ctx).await?;
    let d = conn.call(api.get(&name)).await?;
    if d.spec.as_ref().is_some_and(|s| s.paused) {
        bail!("can't restart paused deployment (run rollout resume first)");
    }
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
        RESTARTED_AT: proto::time::now_rfc3339()
    }}}}});
    conn.patch(patch_request(
        kind,
        &d.meta().namespace,
        &name,
        "merge",
        &patch,
    ))
    .await?;
    println!(
        "{} restarted{}",
        object_name(kind, &name),
        ctx.dry_run_suffix()
    );
    Ok(())
}

async fn pause(ctx: &Ctx, args: &[String], paused: bool) -> Result<()> {
    let (kind, name) = named(args)?;
    if kind.kind != "Deployment" {
        // kubectl's words for every kind its pauser does not know.
        let verb = if paused { "pausing" } else { "resuming" };
        bail!(
            "{}.{} {name:?} {verb} is not supported",
            kind.plural,
            kind.group
        );
    }
    let conn = ctx.api().await?;
    let api = deployments(ctx).await?;
    let d = conn.call(api.get(&name)).await?;
    let is_paused = d.spec.as_ref().is_some_and(|s| s.paused);
    if is_paused == paused {
        let what = if paused {
            "already paused"
        } else {
            "not paused"
        };
        bail!("{}s.apps {name:?} is {what}", kind.singular);
    }
    let patch = serde_json::json!({"spec": {"paused": paused}});
    conn.patch(patch_request(
        kind,
        &d.meta().namespace,
        &name,
        "merge",
        &patch,
    ))
    .await?;
    let verb = if paused { "paused" } else { "resumed" };
    println!(
        "{} {verb}{}",
        object_name(kind, &name),
        ctx.dry_run_suffix()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{DeploymentCondition, DeploymentSpec, DeploymentStatus, ReplicaSetSpec};

    fn d(replicas: i32, generation: i32, status: DeploymentStatus) -> Deployment {
        let mut d = Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(status),
            ..Default::default()
        };
        d.meta_mut().name = "web".into();
        d.meta_mut().generation = generation;
        d
    }

    fn st(observed: i32, replicas: i32, updated: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: observed,
            replicas,
            updated_replicas: updated,
            available_replicas: available,
            ..Default::default()
        }
    }

    #[test]
    fn status_messages_are_kubectls() {
        let cases = [
            (
                d(3, 2, st(1, 3, 3, 3)),
                "Waiting for deployment spec update to be observed...",
                false,
            ),
            (
                d(3, 2, st(2, 4, 1, 3)),
                "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...",
                false,
            ),
            (
                d(3, 2, st(2, 4, 3, 3)),
                "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...",
                false,
            ),
            (
                d(3, 2, st(2, 3, 3, 1)),
                "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...",
                false,
            ),
            (
                d(3, 2, st(2, 3, 3, 3)),
                "deployment \"web\" successfully rolled out",
                true,
            ),
        ];
        for (dep, msg, done) in cases {
            let (m, dn) = status_message(&dep).unwrap();
            assert_eq!((m.as_str(), dn), (msg, done));
        }
        let mut stuck = st(2, 3, 1, 2);
        stuck.conditions.push(DeploymentCondition {
            r#type: "Progressing".into(),
            status: "False".into(),
            reason: "ProgressDeadlineExceeded".into(),
            ..Default::default()
        });
        let err = status_message(&d(3, 2, stuck)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "deployment \"web\" exceeded its progress deadline"
        );
    }

    fn rs(rev: &str, image: &str) -> ReplicaSet {
        let mut t = PodTemplateSpec::default();
        let m = t.metadata.get_or_insert_with(Default::default);
        m.labels.insert("app".into(), "web".into());
        m.labels.insert(POD_TEMPLATE_HASH.into(), format!("h{rev}"));
        m.annotations.insert("image".into(), image.into());
        let mut r = ReplicaSet {
            spec: Some(ReplicaSetSpec {
                template: Some(t),
                ..Default::default()
            }),
            ..Default::default()
        };
        r.meta_mut().annotations.insert(REVISION.into(), rev.into());
        r
    }

    #[test]
    fn rollback_picks_the_previous_or_named_revision_without_the_hash() {
        let rss = [rs("1", "a"), rs("3", "c"), rs("2", "b")];
        let (rev, t) = rollback_template(&rss, 0).unwrap();
        assert_eq!(rev, 2);
        let m = t.metadata.unwrap();
        assert_eq!(m.annotations["image"], "b");
        assert!(!m.labels.contains_key(POD_TEMPLATE_HASH));
        assert_eq!(rollback_template(&rss, 1).unwrap().0, 1);
        assert_eq!(
            rollback_template(&rss, 7).unwrap_err().to_string(),
            "unable to find specified revision 7 in history"
        );
        assert!(rollback_template(&rss[..1], 0).is_err());
    }

    #[test]
    fn history_lists_revisions_in_order() {
        let mut with_cause = rs("2", "b");
        with_cause
            .meta_mut()
            .annotations
            .insert(CHANGE_CAUSE.into(), "set image".into());
        let table = history_table(&[with_cause, rs("1", "a"), rs("0", "x")]);
        assert_eq!(
            table,
            "REVISION  CHANGE-CAUSE\n1         <none>\n2         set image\n"
        );
    }
}
