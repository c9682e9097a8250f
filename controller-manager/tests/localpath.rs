//! Local-path provisioner with the binder against an in-process apiserver: the default
//! class made at start (and only when there is none), WaitForFirstConsumer claims waiting
//! for the scheduler's selected-node annotation, Immediate claims placed on a Ready node,
//! the volumes' shape, and reclaim (Retain keeps a Released volume; Delete leaves the
//! Released volume to the kubelet of its node, the binder does not delete it).

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, wait_for};
use controller_manager::config::Config;
use controller_manager::context::Context;
use controller_manager::controllers::localpath::{
    self, ANN_BETA_STORAGE_PROVISIONER, ANN_PROVISIONED_BY, ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER, DEFAULT_CLASS, PROVISIONER, volume_node,
};
use proto::Resource;
use proto::k8s::{PersistentVolume, PersistentVolumeClaim, StorageClass};
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);
const CONTROLLERS: &[&str] = &["persistentvolume-binder", "local-path-provisioner"];

fn root(test: &str) -> String {
    format!("/srv/local-path-test-{test}")
}

fn claim_yaml(name: &str, class: Option<&str>) -> String {
    let class = class.map_or(String::new(), |c| format!("\n  storageClassName: {c}"));
    format!(
        r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: default}}
spec:
  accessModes: [ReadWriteOnce]{class}
  resources: {{requests: {{storage: 2Gi}}}}
"#
    )
}

fn class_yaml(name: &str, mode: &str, policy: &str) -> String {
    format!(
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {name}}}
provisioner: rancher.io/local-path
volumeBindingMode: {mode}
reclaimPolicy: {policy}
"#
    )
}

fn phase_of_claim(c: &PersistentVolumeClaim) -> &str {
    c.status.as_ref().map_or("", |s| s.phase.as_str())
}

fn phase_of_volume(v: &PersistentVolume) -> &str {
    v.status.as_ref().map_or("", |s| s.phase.as_str())
}

async fn start(test: &'static str) -> Cluster {
    Cluster::builder()
        .no_kubelet()
        .controllers(CONTROLLERS)
        .configure(move |c| c.local_path_root = root(test).into())
        .start()
        .await
}

async fn bound(pvcs: &Api<PersistentVolumeClaim>, name: &str) -> PersistentVolumeClaim {
    wait_for(&format!("claim {name} Bound"), T, || async {
        let c = pvcs.get(name).await.ok()?;
        (phase_of_claim(&c) == "Bound").then_some(c)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_first_consumer_provisions_on_the_selected_node() {
    let c = start("wffc").await;
    let classes: Api<StorageClass> = Api::all(c.client.clone());
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = c.api("default");
    // The default class, made at start because there was none.
    let default = wait_for("default class", T, || async {
        classes.get_opt(DEFAULT_CLASS).await.ok()?
    })
    .await;
    assert_eq!(default.provisioner, PROVISIONER);
    assert_eq!(
        default.volume_binding_mode.as_deref(),
        Some("WaitForFirstConsumer")
    );
    assert_eq!(default.reclaim_policy.as_deref(), Some("Delete"));
    assert_eq!(
        default.meta().annotations[localpath::ANN_IS_DEFAULT_CLASS],
        "true"
    );

    // No class named: DefaultStorageClass admission gives it local-path.
    let claim: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("data", None)).await;
    assert_eq!(
        claim.spec.as_ref().unwrap().storage_class_name.as_deref(),
        Some(DEFAULT_CLASS)
    );
    // Until a node is chosen, nothing is provisioned.
    c.settled(
        localpath::NAME,
        "default/data",
        0,
        |st: &client::Store<PersistentVolumeClaim>| st.get("default/data").is_some(),
    )
    .await;
    assert!(
        pvs.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(phase_of_claim(&pvcs.get("data").await.unwrap()), "Pending");

    // The scheduler's choice.
    let mut chosen = pvcs.get("data").await.unwrap();
    chosen
        .meta_mut()
        .annotations
        .insert(ANN_SELECTED_NODE.into(), c.nodes[1].clone());
    pvcs.update(&chosen).await.unwrap();
    let claim = bound(&pvcs, "data").await;
    let uid = claim.meta().uid.clone();
    let pv_name = format!("pvc-{uid}");
    assert_eq!(claim.spec.as_ref().unwrap().volume_name, pv_name);
    let ann = &claim.meta().annotations;
    assert_eq!(ann[ANN_STORAGE_PROVISIONER], PROVISIONER);
    assert_eq!(ann[ANN_BETA_STORAGE_PROVISIONER], PROVISIONER);
    let pv = wait_for("volume Bound", T, || async {
        let v = pvs.get(&pv_name).await.ok()?;
        (phase_of_volume(&v) == "Bound").then_some(v)
    })
    .await;
    assert_eq!(pv.meta().annotations[ANN_PROVISIONED_BY], PROVISIONER);
    assert_eq!(volume_node(&pv), Some(c.nodes[1].as_str()));
    let spec = pv.spec.as_ref().unwrap();
    assert_eq!(
        spec.host_path.as_ref().unwrap().path,
        format!("{}/pvc-{uid}_default_data", root("wffc"))
    );
    assert_eq!(spec.capacity["storage"], "2Gi");
    assert_eq!(spec.persistent_volume_reclaim_policy, "Delete");
    assert_eq!(spec.storage_class_name, DEFAULT_CLASS);

    // Delete: the binder marks it Released and leaves it to the node's kubelet.
    pvcs.delete("data", &DeleteParams::default()).await.unwrap();
    wait_for("Released", T, || async {
        (phase_of_volume(&pvs.get(&pv_name).await.ok()?) == "Released").then_some(())
    })
    .await;
    c.settled(
        controller_manager::controllers::pvbinder::NAME,
        &format!("pv:{pv_name}"),
        0,
        |st: &client::Store<PersistentVolume>| {
            st.get(&pv_name)
                .is_some_and(|v| phase_of_volume(&v) == "Released")
        },
    )
    .await;
    assert!(
        pvs.get_opt(&pv_name).await.unwrap().is_some(),
        "the binder does not delete a provisioned volume"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_provisions_at_once_and_retain_keeps_the_volume() {
    let c = start("immediate").await;
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = c.api("default");
    let _: StorageClass = c
        .apply_yaml(&class_yaml("keep", "Immediate", "Retain"))
        .await;
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("a", Some("keep"))).await;
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("b", Some("keep"))).await;
    let a = bound(&pvcs, "a").await;
    let b = bound(&pvcs, "b").await;
    let node_of = |claim: &PersistentVolumeClaim| {
        let name = claim.spec.as_ref().unwrap().volume_name.clone();
        let pvs = pvs.clone();
        async move {
            volume_node(&pvs.get(&name).await.unwrap())
                .unwrap()
                .to_string()
        }
    };
    let (na, nb) = (node_of(&a).await, node_of(&b).await);
    assert!(c.nodes.contains(&na) && c.nodes.contains(&nb), "{na} {nb}");
    let volume = a.spec.as_ref().unwrap().volume_name.clone();
    pvcs.delete("a", &DeleteParams::default()).await.unwrap();
    wait_for("Retain -> Released", T, || async {
        (phase_of_volume(&pvs.get(&volume).await.ok()?) == "Released").then_some(())
    })
    .await;
    // A new claim of the class gets a new volume, not the Released one.
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("a2", Some("keep"))).await;
    let a2 = bound(&pvcs, "a2").await;
    assert_ne!(a2.spec.unwrap().volume_name, volume);
    assert_eq!(
        phase_of_volume(&pvs.get(&volume).await.unwrap()),
        "Released"
    );
    // Claims of other provisioners, and with no class, are not ours.
    let mut other = class_yaml("nfs", "Immediate", "Delete");
    other = other.replace("rancher.io/local-path", "example.com/nfs");
    let _: StorageClass = c.apply_yaml(&other).await;
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("on-nfs", Some("nfs"))).await;
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("none", Some("\"\""))).await;
    for key in ["default/on-nfs", "default/none"] {
        c.settled(
            localpath::NAME,
            key,
            0,
            |st: &client::Store<PersistentVolumeClaim>| st.get(key).is_some(),
        )
        .await;
    }
    assert_eq!(pvs.list(&Default::default()).await.unwrap().items.len(), 3);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_default_class_is_made_when_one_exists_or_when_turned_off() {
    // Controllers not started by the harness: a class exists before they start.
    let c = Cluster::builder().no_kubelet().start().await;
    let classes: Api<StorageClass> = Api::all(c.client.clone());
    let _: StorageClass = c
        .apply_yaml(&class_yaml("mine", "Immediate", "Delete"))
        .await;
    let run = |default_storage_class: bool| {
        let config = Config {
            server: c.server.url.clone(),
            leader_election: client::daemon::LeaderElectionFlags::disabled(),
            controllers: vec!["local-path-provisioner".into()],
            default_storage_class,
            ..Default::default()
        };
        let ctx = Arc::new(Context::new(c.client.clone(), Arc::new(config)));
        controller_manager::start_controllers(ctx).expect("controllers start")
    };
    let running = run(true);
    // The provisioner works (so it has looked at the classes) before we look.
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("first", Some("mine"))).await;
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    wait_for("provisioned", T, || async {
        (!pvs.list(&Default::default()).await.ok()?.items.is_empty()).then_some(())
    })
    .await;
    assert!(classes.get_opt(DEFAULT_CLASS).await.unwrap().is_none());
    running.stop(Duration::from_secs(5)).await;
    classes
        .delete("mine", &DeleteParams::default())
        .await
        .unwrap();
    let running = run(false);
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("second", Some("gone"))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        classes
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "--default-storage-class=false"
    );
    running.stop(Duration::from_secs(5)).await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_expansion_grows_the_volume_and_the_claim_capacity() {
    let c = start("expand").await;
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = c.api("default");
    let class = class_yaml("grow", "Immediate", "Delete") + "allowVolumeExpansion: true\n";
    let _: StorageClass = c.apply_yaml(&class).await;
    let _: PersistentVolumeClaim = c.apply_yaml(&claim_yaml("data", Some("grow"))).await;
    let mut claim = bound(&pvcs, "data").await;
    let volume = claim.spec.as_ref().unwrap().volume_name.clone();
    claim
        .spec
        .as_mut()
        .unwrap()
        .resources
        .as_mut()
        .unwrap()
        .requests
        .insert("storage".into(), "5Gi".into());
    pvcs.update(&claim).await.unwrap();
    wait_for("volume and claim at 5Gi", T, || async {
        let v = pvs.get(&volume).await.ok()?;
        let c = pvcs.get("data").await.ok()?;
        let cap = c.status.as_ref()?.capacity.get("storage")?.clone();
        (v.spec.as_ref()?.capacity.get("storage")? == "5Gi" && cap == "5Gi").then_some(())
    })
    .await;
    c.stop().await;
}
