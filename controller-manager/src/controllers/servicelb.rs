//! LoadBalancer Services on bare metal, as k3s' ServiceLB gives them: a Service of type
//! LoadBalancer with no `loadBalancerClass` gets the addresses of the nodes that can take
//! its traffic in `status.loadBalancer.ingress`, and kube-proxy serves those addresses on
//! every node like the cluster IP. Without it such a Service stays `<pending>` for ever, and
//! `helm install --wait` with one never returns.
//!
//! Which nodes: Ready ones, without the label `node.kubernetes.io/exclude-from-external-load-balancers`
//! (Kubernetes' service controller honours it too), each by its ExternalIP if it has one,
//! else its InternalIP (k3s' choice). With `externalTrafficPolicy: Local` only the nodes
//! that hold a ready endpoint of the Service are listed, since the others drop its traffic.
//! A Service that stops being a LoadBalancer has its ingress cleared. A Service with a
//! `loadBalancerClass` belongs to another implementation and is left alone.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::split_key;
use client::{InformerEvent, Store};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::Resource;
use proto::k8s::{Endpoints, LoadBalancerIngress, LoadBalancerStatus, Node, Service};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// kube-controller-manager's name for the controller that fills in load balancers.
pub const NAME: &str = "service-lb-controller";
/// Kubernetes' label that keeps a node out of every load balancer.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";
const SOURCE: &str = "service-controller";

/// True for a Service with a `loadBalancerClass`: another implementation's.
fn has_class(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.load_balancer_class.as_deref())
        .is_some_and(|c| !c.is_empty())
}

/// True for a Service this controller gives addresses to.
pub fn is_ours(svc: &Service) -> bool {
    !has_class(svc)
        && svc
            .spec
            .as_ref()
            .is_some_and(|s| s.r#type == "LoadBalancer")
}

/// The address clients reach a node at: its ExternalIP, else its InternalIP.
pub fn node_address(node: &Node) -> Option<&str> {
    let addresses = &node.status.as_ref()?.addresses;
    let of = |kind: &str| {
        addresses
            .iter()
            .find(|a| a.r#type == kind && !a.address.is_empty())
            .map(|a| a.address.as_str())
    };
    of("ExternalIP").or_else(|| of("InternalIP"))
}

/// A node that may carry load-balancer traffic: Ready and not excluded by label.
pub fn node_eligible(node: &Node) -> bool {
    let ready = node.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    });
    ready && !node.meta().labels.contains_key(EXCLUDE_LABEL)
}

/// Nodes holding a ready endpoint of the Service (for `externalTrafficPolicy: Local`).
fn endpoint_nodes(endpoints: Option<&Endpoints>) -> BTreeSet<&str> {
    endpoints
        .into_iter()
        .flat_map(|e| &e.subsets)
        .flat_map(|s| &s.addresses)
        .filter_map(|a| a.node_name.as_deref())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The ingress the Service should show: for one of ours, the eligible nodes' addresses
/// (sorted, each once); for any other type, none. `None` for a Service that belongs to
/// another implementation (a `loadBalancerClass`): its status is not ours to touch.
pub fn desired_ingress<'a>(
    svc: &Service,
    nodes: impl IntoIterator<Item = &'a Node>,
    endpoints: Option<&Endpoints>,
) -> Option<Vec<LoadBalancerIngress>> {
    if has_class(svc) {
        return None;
    }
    if !is_ours(svc) {
        return Some(Vec::new());
    }
    let local = svc
        .spec
        .as_ref()
        .is_some_and(|s| s.external_traffic_policy == "Local");
    let with_endpoints = endpoint_nodes(endpoints);
    let ips: BTreeSet<std::net::IpAddr> = nodes
        .into_iter()
        .filter(|n| node_eligible(n))
        .filter(|n| !local || with_endpoints.contains(n.meta().name.as_str()))
        .filter_map(node_address)
        .filter_map(|a| a.parse().ok())
        .collect();
    Some(
        ips.into_iter()
            .map(|ip| LoadBalancerIngress {
                ip: ip.to_string(),
                ip_mode: Some("VIP".into()),
                ..Default::default()
            })
            .collect(),
    )
}

/// The event Kubernetes' service controller records once the ingress is written:
/// (warning, reason, message).
fn event_for(ours: bool, ingress: &[LoadBalancerIngress]) -> (bool, &'static str, String) {
    if !ours {
        return (false, "DeletedLoadBalancer", "Deleted load balancer".into());
    }
    if ingress.is_empty() {
        return (
            true,
            "UnAvailableLoadBalancer",
            "There are no available nodes for LoadBalancer".into(),
        );
    }
    let ips: Vec<&str> = ingress.iter().map(|i| i.ip.as_str()).collect();
    (
        false,
        "EnsuredLoadBalancer",
        format!("Ensured load balancer at {}", ips.join(", ")),
    )
}

fn current_ingress(svc: &Service) -> &[LoadBalancerIngress] {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .map_or(&[], |lb| lb.ingress.as_slice())
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let services = ctx.informer::<Service>();
    let nodes = ctx.informer::<Node>();
    let endpoints = ctx.informer::<Endpoints>();
    let service_store = services.store();
    let controller = Controller::new(NAME, services)
        // Any node change can change every LoadBalancer's addresses; nodes change rarely
        // (status heartbeats go to Leases), and a reconcile with nothing to do writes nothing.
        .watches_with(nodes.clone(), move |_ev: &InformerEvent<Node>, q| {
            for svc in service_store.list().iter().filter(|s| is_ours(s)) {
                q.add(client::store::key_of(svc.as_ref()));
            }
        })
        // A Local Service follows its endpoints' nodes; Endpoints share the Service's key.
        .watches_with(endpoints.clone(), |ev: &InformerEvent<Endpoints>, q| {
            q.add(ev.key());
        })
        .workers(ctx.config.concurrent_workers);
    let lb = Arc::new(ServiceLb {
        ctx: ctx.clone(),
        nodes: nodes.store(),
        endpoints: endpoints.store(),
    });
    controller.run(reconcile, backoff, lb, cancel).await;
    Ok(())
}

struct ServiceLb {
    ctx: Arc<Context>,
    nodes: Store<Node>,
    endpoints: Store<Endpoints>,
}

async fn reconcile(req: Request<Service>, lb: Arc<ServiceLb>) -> Result<Action, Error> {
    let Some(svc) = req.object else {
        return Ok(Action::Done);
    };
    let nodes = lb.nodes.list();
    let endpoints = lb.endpoints.get(&req.key);
    let Some(want) = desired_ingress(&svc, nodes.iter().map(|n| n.as_ref()), endpoints.as_deref())
    else {
        return Ok(Action::Done);
    };
    if current_ingress(&svc) == want.as_slice() {
        return Ok(Action::Done);
    }
    let (warning, reason, message) = event_for(is_ours(&svc), &want);
    let mut updated = (*svc).clone();
    updated
        .status
        .get_or_insert_with(Default::default)
        .load_balancer = Some(LoadBalancerStatus { ingress: want });
    let (ns, _) = split_key(&req.key);
    match lb.ctx.api_in::<Service>(ns).update_status(&updated).await {
        Ok(_) => {}
        // A newer version is on its way to the cache; its event requeues the Service.
        Err(e) if e.is(proto::Reason::Conflict) || e.is(proto::Reason::NotFound) => {
            return Ok(Action::Done);
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(reason, "{message}");
    lb.ctx
        .events
        .event(SOURCE, svc.as_ref(), warning, reason, message);
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        EndpointAddress, EndpointSubset, NodeAddress, NodeCondition, NodeStatus, ServiceSpec,
    };

    fn node(name: &str, ready: bool, internal: &str, external: &str) -> Node {
        let mut n = Node::default();
        n.meta_mut().name = name.into();
        let mut addresses = vec![NodeAddress {
            r#type: "InternalIP".into(),
            address: internal.into(),
        }];
        if !external.is_empty() {
            addresses.push(NodeAddress {
                r#type: "ExternalIP".into(),
                address: external.into(),
            });
        }
        n.status = Some(NodeStatus {
            addresses,
            conditions: vec![NodeCondition {
                r#type: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        n
    }

    fn svc(kind: &str, policy: &str, class: Option<&str>) -> Service {
        Service {
            spec: Some(ServiceSpec {
                r#type: kind.into(),
                external_traffic_policy: policy.into(),
                load_balancer_class: class.map(str::to_string),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn ips(v: Option<Vec<LoadBalancerIngress>>) -> Option<Vec<String>> {
        v.map(|v| v.into_iter().map(|i| i.ip).collect())
    }

    #[test]
    fn ready_nodes_give_their_external_else_internal_address_sorted() {
        let mut excluded = node("x", true, "10.0.0.9", "");
        excluded
            .meta_mut()
            .labels
            .insert(EXCLUDE_LABEL.into(), String::new());
        let nodes = [
            node("b", true, "10.0.0.20", ""),
            node("a", true, "10.0.0.3", "192.0.2.7"),
            node("c", false, "10.0.0.4", ""),
            node("d", true, "10.0.0.3", ""),
            excluded,
        ];
        let want = desired_ingress(&svc("LoadBalancer", "Cluster", None), &nodes, None);
        // Numeric order, duplicates once, the unready and the excluded left out.
        assert_eq!(
            ips(want.clone()),
            Some(vec![
                "10.0.0.3".into(),
                "10.0.0.20".into(),
                "192.0.2.7".into()
            ])
        );
        assert!(
            want.unwrap()
                .iter()
                .all(|i| i.ip_mode.as_deref() == Some("VIP"))
        );
    }

    #[test]
    fn local_policy_lists_only_nodes_with_a_ready_endpoint() {
        let nodes = [
            node("a", true, "10.0.0.1", ""),
            node("b", true, "10.0.0.2", ""),
        ];
        let eps = Endpoints {
            subsets: vec![EndpointSubset {
                addresses: vec![EndpointAddress {
                    ip: "10.244.1.5".into(),
                    node_name: Some("b".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let local = svc("LoadBalancer", "Local", None);
        assert_eq!(
            ips(desired_ingress(&local, &nodes, Some(&eps))),
            Some(vec!["10.0.0.2".into()])
        );
        assert_eq!(ips(desired_ingress(&local, &nodes, None)), Some(vec![]));
    }

    #[test]
    fn other_types_are_cleared_and_other_classes_left_alone() {
        let nodes = [node("a", true, "10.0.0.1", "")];
        assert_eq!(
            ips(desired_ingress(&svc("ClusterIP", "", None), &nodes, None)),
            Some(vec![])
        );
        assert_eq!(
            ips(desired_ingress(
                &svc("LoadBalancer", "", Some("example.com/lb")),
                &nodes,
                None
            )),
            None
        );
        assert_eq!(
            ips(desired_ingress(
                &svc("LoadBalancer", "", Some("")),
                &nodes,
                None
            )),
            Some(vec!["10.0.0.1".into()])
        );
    }
}
