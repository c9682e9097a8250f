//! `rollout history|undo|restart|pause` of a DaemonSet against an in-process apiserver. No
//! controller runs here: the test writes the ControllerRevisions the DaemonSet controller
//! would have (its own tests prove it writes them so).

use super::rollout;
use crate::args::{
    DryRun, RolloutArgs, RolloutCommand, RolloutHistoryArgs, RolloutTarget, RolloutUndoArgs,
};
use crate::commands::Ctx;
use apiserver::testing::TestServer;
use client::Api;
use proto::Resource;
use proto::k8s::{ControllerRevision, DaemonSet, OwnerReference, RawExtension};

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn image(ds: &DaemonSet) -> String {
    let t = ds.spec.as_ref().unwrap().template.as_ref().unwrap();
    t.spec.as_ref().unwrap().containers[0].image.clone()
}

async fn run(ctx: &Ctx, command: RolloutCommand) -> anyhow::Result<()> {
    rollout(ctx, &RolloutArgs { command }).await
}

fn undo(to_revision: i64) -> RolloutCommand {
    RolloutCommand::Undo(RolloutUndoArgs {
        args: args(&["ds/agent"]),
        to_revision,
    })
}

#[tokio::test]
async fn daemonset_history_undo_restart_and_pause_refused() {
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let ds: DaemonSet = DaemonSet::try_from_object(
        proto::manifest::load_documents(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: default}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: c, image: 'img:2'}]}\n",
        )
        .unwrap()
        .remove(0),
    )
    .unwrap();
    let sets = Api::<DaemonSet>::namespaced(client.clone(), "default");
    let ds = sets.create(&ds).await.unwrap();
    let revisions = Api::<ControllerRevision>::namespaced(client.clone(), "default");
    for (n, img) in [(1, "img:1"), (2, "img:2")] {
        let mut template =
            serde_json::to_value(ds.spec.as_ref().unwrap().template.as_ref().unwrap()).unwrap();
        template["spec"]["containers"][0]["image"] = img.into();
        template["$patch"] = "replace".into();
        let mut cr = ControllerRevision {
            data: Some(RawExtension::from_value(
                &serde_json::json!({"spec": {"template": template}}),
            )),
            revision: n,
            ..Default::default()
        };
        let m = cr.meta_mut();
        m.name = format!("agent-h{n}");
        m.labels = [("app".to_string(), "agent".to_string())].into();
        m.owner_references = vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "DaemonSet".into(),
            name: "agent".into(),
            uid: ds.meta().uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }];
        revisions.create(&cr).await.unwrap();
    }
    let ctx = Ctx::for_test(&server.url, None);

    run(
        &ctx,
        RolloutCommand::History(RolloutHistoryArgs {
            args: args(&["daemonset", "agent"]),
            revision: Some(1),
        }),
    )
    .await
    .unwrap();
    let err = run(
        &ctx,
        RolloutCommand::History(RolloutHistoryArgs {
            args: args(&["daemonset", "agent"]),
            revision: Some(5),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "unable to find the specified revision");

    // A server dry run writes nothing.
    let mut dry = Ctx::for_test(&server.url, None);
    dry.global.dry_run = DryRun::Server;
    run(&dry, undo(0)).await.unwrap();
    assert_eq!(image(&sets.get("agent").await.unwrap()), "img:2");

    // Undo: the previous revision's template, replacing the current one.
    run(&ctx, undo(0)).await.unwrap();
    let after = sets.get("agent").await.unwrap();
    assert_eq!(image(&after), "img:1");
    assert_eq!(after.meta().generation, 2);
    // Already there: skipped, nothing written.
    run(&ctx, undo(1)).await.unwrap();
    assert_eq!(
        sets.get("agent").await.unwrap().meta().resource_version,
        after.meta().resource_version
    );
    let err = run(&ctx, undo(9)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unable to find specified revision 9 in history"
    );

    let target = RolloutTarget {
        args: args(&["ds/agent"]),
    };
    run(&ctx, RolloutCommand::Restart(target.clone()))
        .await
        .unwrap();
    let t = sets
        .get("agent")
        .await
        .unwrap()
        .spec
        .unwrap()
        .template
        .unwrap();
    assert!(
        t.metadata
            .unwrap()
            .annotations
            .contains_key("kubectl.kubernetes.io/restartedAt")
    );
    let err = run(&ctx, RolloutCommand::Pause(target.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "daemonsets.apps \"agent\" pausing is not supported"
    );
    let err = run(&ctx, RolloutCommand::Resume(target)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "daemonsets.apps \"agent\" resuming is not supported"
    );
}
