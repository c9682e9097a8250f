//! LoadBalancer Services against an in-process apiserver: the Service gets its Ready nodes'
//! addresses in `status.loadBalancer.ingress` and follows the nodes; a Service of another
//! load-balancer class is left alone; one that stops being a LoadBalancer is cleared.

mod common;

use client::Api;
use common::{Cluster, wait_for};
use controller_manager::controllers::servicelb::{EXCLUDE_LABEL, NAME};
use proto::Resource;
use proto::k8s::{Node, Service, ServicePort, ServiceSpec};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn lb_service(name: &str, class: Option<&str>) -> Service {
    let mut s = Service {
        spec: Some(ServiceSpec {
            r#type: "LoadBalancer".into(),
            selector: [("app".to_string(), name.to_string())].into(),
            ports: vec![ServicePort {
                port: 80,
                protocol: "TCP".into(),
                ..Default::default()
            }],
            load_balancer_class: class.map(str::to_string),
            ..Default::default()
        }),
        ..Default::default()
    };
    s.meta_mut().name = name.into();
    s.meta_mut().namespace = "lb".into();
    s
}

fn ingress(s: &Service) -> Vec<String> {
    s.status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .map(|lb| lb.ingress.iter().map(|i| i.ip.clone()).collect())
        .unwrap_or_default()
}

async fn wait_ingress(api: &Api<Service>, name: &str, want: &[&str]) {
    let what = format!("{name}'s ingress becomes {want:?}");
    wait_for(&what, T, || async {
        let s = api.get(name).await.ok()?;
        (ingress(&s) == want).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancers_get_the_ready_nodes_addresses_and_follow_them() {
    let c = Cluster::builder()
        .nodes(3)
        .no_kubelet()
        .controllers(&[NAME])
        .start()
        .await;
    c.namespace("lb").await;
    let services: Api<Service> = c.api("lb");
    let nodes: Api<Node> = Api::all(c.client.clone());

    services.create(&lb_service("web", None)).await.unwrap();
    // The harness' nodes are at 192.0.2.1-3.
    wait_ingress(&services, "web", &["192.0.2.1", "192.0.2.2", "192.0.2.3"]).await;
    let web = services.get("web").await.unwrap();
    let modes: Vec<_> = web.status.unwrap().load_balancer.unwrap().ingress;
    assert!(modes.iter().all(|i| i.ip_mode.as_deref() == Some("VIP")));

    // A node that goes NotReady leaves; one excluded by label leaves too.
    let mut n1 = nodes.get(&c.nodes[1]).await.unwrap();
    for cond in &mut n1.status.as_mut().unwrap().conditions {
        if cond.r#type == "Ready" {
            cond.status = "False".into();
        }
    }
    nodes.update_status(&n1).await.unwrap();
    wait_ingress(&services, "web", &["192.0.2.1", "192.0.2.3"]).await;
    let mut n2 = nodes.get(&c.nodes[2]).await.unwrap();
    n2.meta_mut()
        .labels
        .insert(EXCLUDE_LABEL.into(), String::new());
    nodes.update(&n2).await.unwrap();
    wait_ingress(&services, "web", &["192.0.2.1"]).await;

    // Another implementation's class: not touched.
    let before = c.reconciles(NAME, "lb/other");
    services
        .create(&lb_service("other", Some("example.com/lb")))
        .await
        .unwrap();
    c.settled::<Service>(NAME, "lb/other", before, |s| s.get("lb/other").is_some())
        .await;
    assert!(ingress(&services.get("other").await.unwrap()).is_empty());

    // No longer a LoadBalancer: cleared.
    let mut web = services.get("web").await.unwrap();
    let spec = web.spec.as_mut().unwrap();
    spec.r#type = "ClusterIP".into();
    for p in &mut spec.ports {
        p.node_port = 0;
    }
    services.update(&web).await.unwrap();
    wait_ingress(&services, "web", &[]).await;

    let events: Api<proto::k8s::Event> = c.api("lb");
    wait_for("the controller's events", T, || async {
        let list = events.list(&Default::default()).await.ok()?;
        let reasons: Vec<String> = list.items.iter().map(|e| e.reason.clone()).collect();
        (reasons.iter().any(|r| r == "EnsuredLoadBalancer")
            && reasons.iter().any(|r| r == "DeletedLoadBalancer"))
        .then_some(())
    })
    .await;
    c.stop().await;
}
