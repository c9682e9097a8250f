//! PersistentVolume binder against an in-process apiserver: a claim binds to the smallest
//! volume that fits (both Bound, claimRef and volumeName set), a claim that nothing fits
//! stays Pending until a volume appears, and the reclaim policy applies when the claim goes
//! (Retain -> Released, Delete on hostPath -> volume deleted).

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, wait_for};
use controller_manager::controllers::pvbinder::NAME;
use proto::Resource;
use proto::k8s::{PersistentVolume, PersistentVolumeClaim};
use std::time::Duration;

// Below the binder's 15 s resync, so a missed event fails the test instead of slowing it.
const T: Duration = Duration::from_secs(10);

fn pv_yaml(name: &str, size: &str, policy: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}}}
spec:
  capacity: {{storage: {size}}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: {policy}
  hostPath: {{path: /tmp/pv-test-{name}}}
"#
    )
}

fn pvc_yaml(name: &str, size: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: default}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources: {{requests: {{storage: {size}}}}}
"#
    )
}

fn pv_phase(v: &PersistentVolume) -> &str {
    v.status.as_ref().map_or("", |s| s.phase.as_str())
}

fn pvc_phase(c: &PersistentVolumeClaim) -> &str {
    c.status.as_ref().map_or("", |s| s.phase.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_smallest_fit_and_reclaims() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["persistentvolume-binder"])
        .start()
        .await;
    for (n, s, p) in [
        ("small", "1Gi", "Retain"),
        ("mid", "5Gi", "Retain"),
        ("big", "10Gi", "Delete"),
    ] {
        let _: PersistentVolume = c.apply_yaml(&pv_yaml(n, s, p)).await;
    }
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = c.api("default");
    wait_for("volumes Available", T, || async {
        let l = pvs.list(&Default::default()).await.ok()?.items;
        l.iter().all(|v| pv_phase(v) == "Available").then_some(())
    })
    .await;

    let _: PersistentVolumeClaim = c.apply_yaml(&pvc_yaml("data", "3Gi")).await;
    let claim = wait_for("claim Bound", T, || async {
        let c = pvcs.get("data").await.ok()?;
        (pvc_phase(&c) == "Bound").then_some(c)
    })
    .await;
    let spec = claim.spec.as_ref().unwrap();
    assert_eq!(spec.volume_name, "mid", "the smallest volume that fits 3Gi");
    let st = claim.status.as_ref().unwrap();
    assert_eq!(st.capacity.get("storage").map(String::as_str), Some("5Gi"));
    assert_eq!(st.access_modes, ["ReadWriteOnce"]);
    let mid = wait_for("volume Bound", T, || async {
        let v = pvs.get("mid").await.ok()?;
        (pv_phase(&v) == "Bound").then_some(v)
    })
    .await;
    let r = mid.spec.as_ref().unwrap().claim_ref.as_ref().unwrap();
    assert_eq!(
        (r.namespace.as_str(), r.name.as_str(), r.uid.as_str()),
        ("default", "data", claim.meta().uid.as_str())
    );
    // The others stay free.
    assert_eq!(pv_phase(&pvs.get("small").await.unwrap()), "Available");

    // Too big for anything: Pending until a volume that fits appears.
    let _: PersistentVolumeClaim = c.apply_yaml(&pvc_yaml("huge", "50Gi")).await;
    wait_for("claim Pending", T, || async {
        (pvc_phase(&pvcs.get("huge").await.ok()?) == "Pending").then_some(())
    })
    .await;
    // The binder has looked at the Pending claim since its cache held it, and is idle.
    c.settled(
        NAME,
        "pvc:default/huge",
        0,
        |st: &client::Store<PersistentVolumeClaim>| {
            st.get("default/huge")
                .is_some_and(|p| pvc_phase(&p) == "Pending")
        },
    )
    .await;
    assert_eq!(
        pvcs.get("huge").await.unwrap().spec.unwrap().volume_name,
        ""
    );
    let _: PersistentVolume = c.apply_yaml(&pv_yaml("giant", "64Gi", "Retain")).await;
    wait_for("the new volume binds the waiting claim", T, || async {
        let c = pvcs.get("huge").await.ok()?;
        (pvc_phase(&c) == "Bound" && c.spec.as_ref()?.volume_name == "giant").then_some(())
    })
    .await;

    // Retain: the claim goes, the volume is Released (its claimRef kept, not reused).
    pvcs.delete("data", &DeleteParams::default()).await.unwrap();
    wait_for("Retain -> Released", T, || async {
        (pv_phase(&pvs.get("mid").await.ok()?) == "Released").then_some(())
    })
    .await;
    // A new claim that Released volume would fit takes the next smallest free one.
    let _: PersistentVolumeClaim = c.apply_yaml(&pvc_yaml("next", "3Gi")).await;
    let next = wait_for("claim Bound", T, || async {
        let c = pvcs.get("next").await.ok()?;
        (pvc_phase(&c) == "Bound").then_some(c)
    })
    .await;
    assert_eq!(next.spec.unwrap().volume_name, "big");

    // Delete (hostPath): the claim goes, the volume object is deleted.
    pvcs.delete("next", &DeleteParams::default()).await.unwrap();
    wait_for("Delete -> volume deleted", T, || async {
        pvs.get_opt("big").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(pvs.get("mid").await.is_ok(), "Retain keeps its volume");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prebound_claims_and_volumes() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["persistentvolume-binder"])
        .start()
        .await;
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pvcs: Api<PersistentVolumeClaim> = c.api("default");
    let _: PersistentVolume = c.apply_yaml(&pv_yaml("small", "1Gi", "Retain")).await;
    let _: PersistentVolume = c.apply_yaml(&pv_yaml("chosen", "8Gi", "Retain")).await;
    // The claim names its volume: it gets that one, not the smallest.
    let mut claim: PersistentVolumeClaim =
        proto::manifest::load_documents(&pvc_yaml("named", "1Gi"))
            .unwrap()
            .into_iter()
            .next()
            .and_then(|o| PersistentVolumeClaim::try_from_object(o).ok())
            .unwrap();
    claim.spec.as_mut().unwrap().volume_name = "chosen".into();
    pvcs.create(&claim).await.unwrap();
    wait_for("named claim bound to its volume", T, || async {
        let c = pvcs.get("named").await.ok()?;
        let v = pvs.get("chosen").await.ok()?;
        (pvc_phase(&c) == "Bound"
            && pv_phase(&v) == "Bound"
            && v.spec.as_ref()?.claim_ref.as_ref()?.uid == c.meta().uid)
            .then_some(())
    })
    .await;
    // A volume pre-bound (claimRef without uid) to a claim is kept for that claim.
    let mut reserved: PersistentVolume =
        proto::manifest::load_documents(&pv_yaml("reserved", "2Gi", "Retain"))
            .unwrap()
            .into_iter()
            .next()
            .and_then(|o| PersistentVolume::try_from_object(o).ok())
            .unwrap();
    reserved.spec.as_mut().unwrap().claim_ref = Some(proto::k8s::ObjectReference {
        namespace: "default".into(),
        name: "mine".into(),
        ..Default::default()
    });
    pvs.create(&reserved).await.unwrap();
    let _: PersistentVolumeClaim = c.apply_yaml(&pvc_yaml("other", "2Gi")).await;
    wait_for(
        "other claim Pending (the 2Gi volume is reserved)",
        T,
        || async { (pvc_phase(&pvcs.get("other").await.ok()?) == "Pending").then_some(()) },
    )
    .await;
    let _: PersistentVolumeClaim = c.apply_yaml(&pvc_yaml("mine", "1Gi")).await;
    wait_for("reserved volume bound to its claim", T, || async {
        let c = pvcs.get("mine").await.ok()?;
        (pvc_phase(&c) == "Bound" && c.spec.as_ref()?.volume_name == "reserved").then_some(())
    })
    .await;
    assert_eq!(
        pvcs.get("other").await.unwrap().spec.unwrap().volume_name,
        ""
    );
    c.stop().await;
}
