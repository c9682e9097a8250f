//! Endpoints against an in-process apiserver with the fake kubelet: the Endpoints of a
//! Service follow its pods' readiness, resolve named target ports per pod, are written
//! only when they change, and go with the Service; Services without a selector are left
//! alone.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, at_rv, wait_for};
use controller_manager::controllers::endpoint::NAME;
use proto::Resource;
use proto::k8s::{EndpointSubset, Endpoints, Pod, Service};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn pod_yaml(name: &str, port_name: &str, port: i32) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{app: web}}}}
spec:
  containers:
  - name: c
    image: busybox
    ports: [{{name: {port_name}, containerPort: {port}}}]
"#
    )
}

/// (ready pod names, not-ready pod names, ports) per subset.
fn shape(subsets: &[EndpointSubset]) -> Vec<(Vec<String>, Vec<String>, Vec<i32>)> {
    let names = |a: &[proto::k8s::EndpointAddress]| {
        let mut v: Vec<String> = a
            .iter()
            .map(|x| {
                x.target_ref
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_default()
            })
            .collect();
        v.sort();
        v
    };
    let mut out: Vec<_> = subsets
        .iter()
        .map(|s| {
            (
                names(&s.addresses),
                names(&s.not_ready_addresses),
                s.ports.iter().map(|p| p.port).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_readiness_and_resolve_named_ports() {
    let c = Cluster::start(&["endpoint"]).await;
    let _: Service = c
        .apply_yaml(
            r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, labels: {team: a}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"#,
        )
        .await;
    let _: Pod = c.apply_yaml(&pod_yaml("a", "http", 8080)).await;
    let _: Pod = c.apply_yaml(&pod_yaml("b", "http", 8080)).await;
    let _: Pod = c.apply_yaml(&pod_yaml("alt", "http", 9090)).await;
    let _: Pod = c.apply_yaml(&pod_yaml("noport", "admin", 7000)).await;
    let eps: Api<Endpoints> = c.api("default");
    let want = vec![
        (v(&["a", "b"]), v(&[]), vec![8080]),
        (v(&["alt"]), v(&[]), vec![9090]),
    ];
    let ep = wait_for(
        "endpoints of the ready pods, per resolved port",
        T,
        || async {
            let e = eps.get_opt("web").await.ok()??;
            (shape(&e.subsets) == want).then_some(e)
        },
    )
    .await;
    assert_eq!(ep.meta().labels.get("team").map(String::as_str), Some("a"));
    let addr = &ep
        .subsets
        .iter()
        .find(|s| s.ports[0].port == 9090)
        .unwrap()
        .addresses[0];
    assert!(
        addr.node_name
            .as_deref()
            .is_some_and(|n| n.starts_with("node-"))
    );
    assert!(!addr.ip.is_empty());
    assert_eq!(ep.subsets[0].ports[0].name, "http");

    // Readiness: b turns not ready -> notReadyAddresses; back -> addresses.
    c.kubelet().set_not_ready("b", true);
    let want_nr = vec![
        (v(&["a"]), v(&["b"]), vec![8080]),
        (v(&["alt"]), v(&[]), vec![9090]),
    ];
    wait_for("b among the not-ready addresses", T, || async {
        let e = eps.get("web").await.ok()?;
        (shape(&e.subsets) == want_nr).then_some(())
    })
    .await;
    c.kubelet().set_not_ready("b", false);
    let ep = wait_for("b ready again", T, || async {
        let e = eps.get("web").await.ok()?;
        (shape(&e.subsets) == want).then_some(e)
    })
    .await;

    // A change that does not change the endpoints writes nothing.
    let pods: Api<Pod> = c.api("default");
    let mut a = pods.get("a").await.unwrap();
    a.meta_mut().annotations.insert("note".into(), "x".into());
    let before = c.reconciles(NAME, "default/web");
    let a = pods.update(&a).await.unwrap();
    c.settled(
        NAME,
        "default/web",
        before,
        at_rv::<Pod>("default/a", &a.meta().resource_version),
    )
    .await;
    assert_eq!(
        eps.get("web").await.unwrap().meta().resource_version,
        ep.meta().resource_version,
        "no write when nothing changed"
    );

    // A pod that stops matching leaves; a deleted (terminating) one leaves.
    let mut alt = pods.get("alt").await.unwrap();
    alt.meta_mut().labels.insert("app".into(), "other".into());
    pods.update(&alt).await.unwrap();
    pods.delete("a", &DeleteParams::default()).await.unwrap();
    wait_for("only b left", T, || async {
        let e = eps.get("web").await.ok()?;
        (shape(&e.subsets) == vec![(v(&["b"]), v(&[]), vec![8080])]).then_some(())
    })
    .await;

    // The Service goes: so does its Endpoints.
    let svcs: Api<Service> = c.api("default");
    svcs.delete("web", &DeleteParams::default()).await.unwrap();
    wait_for("endpoints deleted with the service", T, || async {
        eps.get_opt("web").await.ok()?.is_none().then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_without_selector_keep_their_own_endpoints() {
    let c = Cluster::start(&["endpoint"]).await;
    let _: Service = c
        .apply_yaml(
            r#"
apiVersion: v1
kind: Service
metadata: {name: external, namespace: default}
spec:
  ports: [{port: 5432}]
"#,
        )
        .await;
    let manual: Endpoints = c
        .apply_yaml(
            r#"
apiVersion: v1
kind: Endpoints
metadata: {name: external, namespace: default}
subsets:
- addresses: [{ip: 192.0.2.10}]
  ports: [{port: 5432}]
"#,
        )
        .await;
    // A selector-based service next to it gets an (empty) Endpoints: the controller runs.
    let _: Service = c
        .apply_yaml(
            r#"
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: default}
spec:
  selector: {app: none}
  ports: [{port: 80}]
"#,
        )
        .await;
    let eps: Api<Endpoints> = c.api("default");
    wait_for("endpoints of the selector service", T, || async {
        eps.get_opt("nobody").await.ok()?.map(|_| ())
    })
    .await;
    // The controller has looked at "external" since its own Endpoints were cached.
    c.settled(
        NAME,
        "default/external",
        0,
        at_rv::<Endpoints>("default/external", &manual.meta().resource_version),
    )
    .await;
    let now = eps.get("external").await.unwrap();
    assert_eq!(now.meta().resource_version, manual.meta().resource_version);
    assert_eq!(now.subsets[0].addresses[0].ip, "192.0.2.10");
    c.stop().await;
}
