//! Node IPAM against an in-process apiserver: podCIDRs are handed out from the cluster CIDR
//! never twice, a node that has one keeps it (also across a controller restart), and a
//! deleted node's block is given to the next node.

mod common;

use client::{Api, Client, DeleteParams};
use common::{Cluster, wait_for};
use controller_manager::controllers::nodeipam::NAME;
use controller_manager::{Config, Context, RunningControllers};
use proto::Resource;
use proto::k8s::Node;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn start_ipam(c: &Cluster) -> (Arc<Context>, RunningControllers) {
    let (client, url) = (&c.client, &c.server.url);
    let mut config = Config::default().with_controllers(&["nodeipam"]);
    config.server = url.to_string();
    config.leader_election = client::daemon::LeaderElectionFlags::disabled();
    // Four /24 blocks.
    config.cluster_cidr = "10.244.0.0/22".into();
    config.node_cidr_mask_size = 24;
    // Its reconciles are counted with the cluster's, for the "nothing yet" check.
    let ctx = Arc::new(
        Context::new(client.clone(), Arc::new(config))
            .with_reconcile_observer(c.reconciles.clone()),
    );
    let running = controller_manager::start_controllers(ctx.clone()).expect("start nodeipam");
    (ctx, running)
}

async fn create_node(api: &Api<Node>, name: &str, cidr: Option<&str>) {
    let mut n = Node::default();
    n.meta_mut().name = name.into();
    if let Some(c) = cidr {
        let spec = n.spec.get_or_insert_with(Default::default);
        spec.pod_cidr = c.into();
        spec.pod_cidrs = vec![c.into()];
    }
    api.create(&n).await.expect("create node");
}

fn cidr(n: &Node) -> String {
    n.spec
        .as_ref()
        .map(|s| s.pod_cidr.clone())
        .unwrap_or_default()
}

async fn cidrs(api: &Api<Node>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|n| (n.meta().name.clone(), cidr(n)))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cidrs_are_unique_kept_and_reused_after_delete() {
    let c = Cluster::builder().nodes(0).no_kubelet().start().await;
    let api: Api<Node> = Api::all(c.client.clone());
    // A node that already has a block (set before the controller ran) keeps it.
    create_node(&api, "pre", Some("10.244.1.0/24")).await;
    let (ctx, running) = start_ipam(&c);
    for n in ["a", "b", "c"] {
        create_node(&api, n, None).await;
    }
    let all = wait_for("every node has a podCIDR", T, || async {
        let v = cidrs(&api).await;
        v.iter().all(|(_, c)| !c.is_empty()).then_some(v)
    })
    .await;
    let set: HashSet<&str> = all.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(set.len(), 4, "no block twice: {all:?}");
    assert!(all.contains(&("pre".into(), "10.244.1.0/24".into())));
    for (_, c) in &all {
        assert!(
            [
                "10.244.0.0/24",
                "10.244.1.0/24",
                "10.244.2.0/24",
                "10.244.3.0/24"
            ]
            .contains(&c.as_str())
        );
    }
    let b = api.get("b").await.unwrap();
    assert_eq!(b.spec.as_ref().unwrap().pod_cidrs, vec![cidr(&b)]);

    // The range is full: a fifth node waits.
    create_node(&api, "e", None).await;
    // Its first reconcile has finished (failing: no free block) and the queue is idle.
    let looked = c.reconciles.wait_settled(NAME, "e", 0);
    tokio::time::timeout(T, looked)
        .await
        .expect("nodeipam reconciled e");
    assert_eq!(cidr(&api.get("e").await.unwrap()), "", "no block left");
    // Deleting a node frees its block for the waiting one.
    let freed = cidr(&b);
    api.delete("b", &DeleteParams::default()).await.unwrap();
    let e = wait_for("the waiting node gets the freed block", T, || async {
        let c = cidr(&api.get("e").await.ok()?);
        (!c.is_empty()).then_some(c)
    })
    .await;
    assert_eq!(e, freed);

    // A restarted controller rebuilds the used set from the nodes: it hands out nothing
    // already taken.
    running.stop(Duration::from_secs(5)).await;
    ctx.stop_informers();
    drop(ctx);
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let (ctx2, running2) = start_ipam(&c);
    create_node(&api, "f", None).await;
    let f = wait_for("the new node gets the one free block", T, || async {
        let c = cidr(&api.get("f").await.ok()?);
        (!c.is_empty()).then_some(c)
    })
    .await;
    let all = cidrs(&api).await;
    let set: HashSet<&str> = all.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        set.len(),
        all.len(),
        "still unique after a restart: {all:?}"
    );
    assert!(set.contains(f.as_str()));
    running2.stop(Duration::from_secs(5)).await;
    ctx2.stop_informers();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_cache_never_gives_a_block_twice() {
    let c = Cluster::builder().nodes(0).no_kubelet().start().await;
    let api: Api<Node> = Api::all(c.client.clone());
    // The controller sees every change 300 ms late; its own writes land at once.
    let proxy = common::DelayProxy::start(c.server.addr(), Duration::from_millis(300)).await;
    let mut config = Config::default().with_controllers(&["nodeipam"]);
    config.server = c.server.url.clone();
    config.leader_election = client::daemon::LeaderElectionFlags::disabled();
    config.cluster_cidr = "10.244.0.0/20".into(); // 16 blocks for 16 nodes: no slack
    let ctx = Arc::new(
        Context::new(c.client.clone(), Arc::new(config))
            .with_informer_client(Client::lazy(&proxy.url).unwrap()),
    );
    let running = controller_manager::start_controllers(ctx.clone()).unwrap();
    for i in 0..16 {
        create_node(&api, &format!("n{i}"), None).await;
        // Churn: relabelling makes more (late) events for the same nodes.
        if i % 4 == 3 {
            let mut n = api.get(&format!("n{}", i - 1)).await.unwrap();
            n.meta_mut().labels.insert("touched".into(), "yes".into());
            let _ = api.update(&n).await;
        }
    }
    let all = wait_for("16 nodes with a podCIDR", T, || async {
        let v = cidrs(&api).await;
        (v.len() == 16 && v.iter().all(|(_, c)| !c.is_empty())).then_some(v)
    })
    .await;
    let set: HashSet<&str> = all.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(set.len(), 16, "every block once: {all:?}");
    running.stop(Duration::from_secs(5)).await;
    ctx.stop_informers();
    c.stop().await;
}
