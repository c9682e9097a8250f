//! `rollout`, `cordon`, `uncordon` and `drain` against an in-process apiserver. No
//! controller runs here: the tests write the ReplicaSets a Deployment controller would have.

use super::Ctx;
use super::{node, rollout};
use crate::args::{
    DrainArgs, NodeArgs, RolloutArgs, RolloutCommand, RolloutTarget, RolloutUndoArgs,
};
use apiserver::testing::TestServer;
use client::Api;
use proto::Resource;
use proto::k8s::{Deployment, Node, Pod, ReplicaSet};

fn load<K: Resource>(yaml: &str) -> K {
    K::try_from_object(proto::manifest::load_documents(yaml).unwrap().remove(0)).unwrap()
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn setup_deployment(server: &TestServer) -> (client::Client, Deployment) {
    let client = client::Client::connect(&server.url).await.unwrap();
    let d: Deployment = load(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: 'img:2'}]}\n",
    );
    let d = Api::<Deployment>::namespaced(client.clone(), "default")
        .create(&d)
        .await
        .unwrap();
    for (rev, image) in [("1", "img:1"), ("2", "img:2")] {
        let mut rs: ReplicaSet = load(&format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web-h{rev}, namespace: default, labels: {{app: web, pod-template-hash: h{rev}}}, annotations: {{deployment.kubernetes.io/revision: '{rev}'}}}}\nspec:\n  replicas: 0\n  selector: {{matchLabels: {{app: web, pod-template-hash: h{rev}}}}}\n  template:\n    metadata: {{labels: {{app: web, pod-template-hash: h{rev}}}}}\n    spec: {{containers: [{{name: c, image: '{image}'}}]}}\n"
        ));
        rs.meta_mut()
            .owner_references
            .push(proto::k8s::OwnerReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: "web".into(),
                uid: d.meta().uid.clone(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            });
        Api::<ReplicaSet>::namespaced(client.clone(), "default")
            .create(&rs)
            .await
            .unwrap();
    }
    (client, d)
}

fn image(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .image
        .clone()
}

#[tokio::test]
async fn undo_copies_the_previous_template_and_pause_blocks_it() {
    let server = TestServer::start().await;
    let (client, _) = setup_deployment(&server).await;
    let ctx = Ctx::for_test(&server.url, None);
    let api = Api::<Deployment>::namespaced(client, "default");
    let target = RolloutTarget {
        args: args(&["deployment/web"]),
    };

    rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Pause(target.clone()),
        },
    )
    .await
    .unwrap();
    assert!(api.get("web").await.unwrap().spec.unwrap().paused);
    let again = rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Pause(target.clone()),
        },
    )
    .await;
    assert_eq!(
        again.unwrap_err().to_string(),
        "deployments.apps \"web\" is already paused"
    );
    let undo = RolloutUndoArgs {
        args: args(&["deployment", "web"]),
        to_revision: 0,
    };
    let err = rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Undo(undo.clone()),
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot rollback a paused deployment"),
        "{err}"
    );
    rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Resume(target.clone()),
        },
    )
    .await
    .unwrap();

    rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Undo(undo),
        },
    )
    .await
    .unwrap();
    let d = api.get("web").await.unwrap();
    assert_eq!(image(&d), "img:1");
    let labels = &d
        .spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .metadata
        .as_ref()
        .unwrap()
        .labels;
    assert!(!labels.contains_key("pod-template-hash"), "{labels:?}");
    let bad = RolloutUndoArgs {
        args: args(&["deployment/web"]),
        to_revision: 9,
    };
    let err = rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Undo(bad),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unable to find specified revision 9 in history"
    );

    rollout::rollout(
        &ctx,
        &RolloutArgs {
            command: RolloutCommand::Restart(target),
        },
    )
    .await
    .unwrap();
    let d = api.get("web").await.unwrap();
    let ann = &d
        .spec
        .unwrap()
        .template
        .unwrap()
        .metadata
        .unwrap()
        .annotations;
    assert!(ann.contains_key("kubectl.kubernetes.io/restartedAt"));
}

#[tokio::test]
async fn drain_cordons_refuses_unmanaged_pods_and_deletes_with_force() {
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let ctx = Ctx::for_test(&server.url, None);
    for n in ["n1", "n2"] {
        let node: Node = load(&format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n"
        ));
        Api::<Node>::all(client.clone())
            .create(&node)
            .await
            .unwrap();
    }
    let pods = Api::<Pod>::namespaced(client.clone(), "default");
    for (name, node, owned) in [
        ("managed", "n1", true),
        ("bare", "n1", false),
        ("elsewhere", "n2", false),
    ] {
        let mut p: Pod = load(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec: {{nodeName: {node}, containers: [{{name: c, image: busybox}}]}}\n"
        ));
        if owned {
            p.meta_mut()
                .owner_references
                .push(proto::k8s::OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "ReplicaSet".into(),
                    name: "rs".into(),
                    uid: "rs-uid".into(),
                    controller: Some(true),
                    block_owner_deletion: None,
                });
        }
        pods.create(&p).await.unwrap();
    }
    let drain = |force| DrainArgs {
        node: "n1".into(),
        ignore_daemonsets: false,
        force,
        delete_emptydir_data: false,
        grace_period: 0,
        timeout: "20s".into(),
        disable_eviction: false,
    };
    let err = node::drain(&ctx, &drain(false)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("(use --force to override): default/bare"),
        "{err}"
    );
    let nodes = Api::<Node>::all(client.clone());
    assert!(
        nodes.get("n1").await.unwrap().spec.unwrap().unschedulable,
        "cordoned first"
    );
    assert!(
        pods.get_opt("managed").await.unwrap().is_some(),
        "nothing deleted on refusal"
    );

    node::drain(&ctx, &drain(true)).await.unwrap();
    assert!(pods.get_opt("managed").await.unwrap().is_none());
    assert!(pods.get_opt("bare").await.unwrap().is_none());
    assert!(
        pods.get_opt("elsewhere").await.unwrap().is_some(),
        "other nodes untouched"
    );

    node::cordon(
        &ctx,
        &NodeArgs {
            nodes: args(&["n1"]),
        },
        false,
    )
    .await
    .unwrap();
    assert!(!nodes.get("n1").await.unwrap().spec.unwrap().unschedulable);
}
