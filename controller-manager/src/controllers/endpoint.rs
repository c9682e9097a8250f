//! Endpoints (Kubernetes' endpoints controller): for each Service with a selector, an
//! Endpoints object of the same name listing the selected pods' IPs, ready ones in
//! `addresses` and the others in `notReadyAddresses`, with the service's ports resolved per
//! pod (a named `targetPort` is looked up in the pod's containers). Written only when it
//! changed; deleted when the Service goes; Services without a selector are left alone.

use crate::context::Context;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::{make_key, split_key};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, ObjectReference, Pod,
    Service, ServicePort,
};
use proto::selector::LabelSelector;
use proto::{Reason, Resource};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "endpoint";

/// Set on Endpoints of headless Services, as Kubernetes does.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";

/// When the Pod or Service change behind an Endpoints write happened (RFC 3339), set as
/// Kubernetes does: kube-proxy measures network programming latency from it.
pub const ANNOTATION_LAST_CHANGE_TRIGGER_TIME: &str =
    "endpoints.kubernetes.io/last-change-trigger-time";

/// What Kubernetes' `TriggerTimeTracker` keeps of one Service between syncs: the trigger
/// times last seen, per pod (its Ready condition's last transition) and of the Service
/// (its creation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerState {
    pods: BTreeMap<String, SystemTime>,
    service: Option<SystemTime>,
}

fn time_of(s: &str) -> Option<SystemTime> {
    proto::time::parse_rfc3339(s)
}

/// Kubernetes' `ComputeEndpointLastChangeTriggerTime`: the time to publish with this
/// sync's write, and the state to keep for the next. A Service seen for the first time
/// publishes its creation; afterwards the earliest trigger time that moved since the last
/// sync (the conservative choice); None when none moved (the annotation is left out).
pub fn last_change_trigger_time(
    prev: Option<&TriggerState>,
    service: &Service,
    pods: &[&Pod],
) -> (Option<SystemTime>, TriggerState) {
    let empty = TriggerState::default();
    let last = prev.unwrap_or(&empty);
    let mut state = TriggerState::default();
    let mut earliest: Option<SystemTime> = None;
    let mut changed = |t: SystemTime| earliest = Some(earliest.map_or(t, |e| e.min(t)));
    for pod in pods {
        let ready = pod.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.r#type == "Ready")
                .and_then(|c| time_of(&c.last_transition_time))
        });
        if let Some(t) = ready {
            let name = pod.meta().name.clone();
            if last.pods.get(&name).is_none_or(|seen| t > *seen) {
                changed(t);
            }
            state.pods.insert(name, t);
        }
    }
    state.service = time_of(&service.meta().creation_timestamp);
    if let Some(t) = state.service
        && last.service.is_none_or(|seen| t > seen)
    {
        changed(t);
    }
    match prev {
        None => (state.service, state),
        Some(_) => (earliest, state),
    }
}

/// Sets (or, None, removes) the trigger-time annotation: RFC 3339, with microseconds when
/// the time has a fraction (Kubernetes writes RFC3339Nano; both parse alike).
fn set_trigger_time(meta: &mut ObjectMeta, t: Option<SystemTime>) {
    match t {
        Some(t) => {
            let whole = t
                .duration_since(UNIX_EPOCH)
                .is_ok_and(|d| d.subsec_nanos() == 0);
            let text = if whole {
                proto::time::format_rfc3339(t)
            } else {
                proto::time::format_rfc3339_micros(t)
            };
            meta.annotations
                .insert(ANNOTATION_LAST_CHANGE_TRIGGER_TIME.into(), text);
        }
        None => {
            meta.annotations.remove(ANNOTATION_LAST_CHANGE_TRIGGER_TIME);
        }
    }
}

/// Kubernetes' `podutil.IsPodReady`: the Ready condition is True.
pub fn pod_is_ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    })
}

/// Kubernetes' `ShouldPodBeInEndpoints`: a pod with an IP, not finished, and not terminating
/// (unless the service publishes not-ready addresses).
pub fn pod_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    if status.pod_ip.is_empty() {
        return false;
    }
    if status.phase == "Succeeded" || status.phase == "Failed" {
        return false;
    }
    include_terminating || pod.meta().deletion_timestamp.is_empty()
}

/// Kubernetes' `podutil.FindPort`: a numeric targetPort is the port; a name is looked up
/// among the pod's container ports of the same protocol. None: the pod lacks that name.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let target = port.target_port.trim();
    if target.is_empty() {
        return Some(port.port);
    }
    if let Ok(n) = target.parse::<i32>() {
        return Some(n);
    }
    let protocol = if port.protocol.is_empty() {
        "TCP"
    } else {
        port.protocol.as_str()
    };
    pod.spec.as_ref().and_then(|spec| {
        spec.containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .find(|p| {
                p.name == target
                    && (p.protocol.as_str() == protocol
                        || (p.protocol.is_empty() && protocol == "TCP"))
            })
            .map(|p| p.container_port)
    })
}

/// An address and whether it is ready; ordered for deterministic output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct AddrKey {
    ip: String,
    pod: String,
    uid: String,
    node: String,
    hostname: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

/// The subsets Kubernetes would write for `service` over the `pods` its selector matched
/// (same namespace). Addresses with the same set of resolved ports share a subset
/// (`RepackSubsets`); subsets, addresses and ports come out sorted.
pub fn plan_endpoints(service: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let spec = service.spec.clone().unwrap_or_default();
    let publish_not_ready = spec.publish_not_ready_addresses;
    let svc_name = &service.meta().name;
    // address -> (ready, ports)
    let mut addrs: BTreeMap<AddrKey, (bool, BTreeSet<PortKey>)> = BTreeMap::new();
    for pod in pods {
        if !pod_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let meta = pod.meta();
        let pspec = pod.spec.as_ref();
        let hostname = match pspec {
            Some(s) if !s.hostname.is_empty() && s.subdomain == *svc_name => s.hostname.clone(),
            _ => String::new(),
        };
        let key = AddrKey {
            ip: pod
                .status
                .as_ref()
                .map(|s| s.pod_ip.clone())
                .unwrap_or_default(),
            pod: meta.name.clone(),
            uid: meta.uid.clone(),
            node: pspec.map(|s| s.node_name.clone()).unwrap_or_default(),
            hostname,
        };
        let ready = publish_not_ready || pod_is_ready(pod);
        let mut ports = BTreeSet::new();
        for sp in &spec.ports {
            if let Some(port) = find_port(pod, sp) {
                ports.insert(PortKey {
                    name: sp.name.clone(),
                    port,
                    protocol: if sp.protocol.is_empty() {
                        "TCP".into()
                    } else {
                        sp.protocol.clone()
                    },
                    app_protocol: sp.app_protocol.clone(),
                });
            }
        }
        // A pod that resolves none of the service's ports has no endpoint (unless the
        // service has no ports at all: headless, addresses only).
        if !spec.ports.is_empty() && ports.is_empty() {
            continue;
        }
        addrs.insert(key, (ready, ports));
    }
    let namespace = &service.meta().namespace;
    let mut groups: BTreeMap<Vec<PortKey>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for (a, (ready, ports)) in addrs {
        let addr = EndpointAddress {
            ip: a.ip,
            hostname: a.hostname,
            node_name: (!a.node.is_empty()).then_some(a.node),
            target_ref: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: namespace.clone(),
                name: a.pod,
                uid: a.uid,
                ..Default::default()
            }),
        };
        let g = groups.entry(ports.into_iter().collect()).or_default();
        if ready {
            g.0.push(addr);
        } else {
            g.1.push(addr);
        }
    }
    groups
        .into_iter()
        .map(|(ports, (addresses, not_ready_addresses))| EndpointSubset {
            addresses,
            not_ready_addresses,
            ports: ports
                .into_iter()
                .map(|p| EndpointPort {
                    name: p.name,
                    port: p.port,
                    protocol: p.protocol,
                    app_protocol: p.app_protocol,
                })
                .collect(),
        })
        .collect()
}

/// The labels the Endpoints carries: the Service's, plus the headless marker.
pub fn endpoints_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.meta().labels.clone();
    let headless = service
        .spec
        .as_ref()
        .is_some_and(|s| s.cluster_ip == "None");
    if headless {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    } else {
        labels.remove(LABEL_HEADLESS);
    }
    labels
}

fn service_selector(service: &Service) -> Option<LabelSelector> {
    let spec = service.spec.as_ref()?;
    if spec.selector.is_empty() {
        return None;
    }
    LabelSelector::from_labels(&spec.selector).ok()
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let services = ctx.informer::<Service>();
    let svc_store = services.store();
    let controller = Controller::new(NAME, services)
        .watches_with(ctx.informer::<Endpoints>(), |ev, q| {
            // Only a user's change to an Endpoints we manage needs a look.
            if matches!(
                ev,
                InformerEvent::Modified { .. } | InformerEvent::Deleted(_)
            ) {
                q.add(ev.key());
            }
        })
        .watches_with(ctx.informer::<Pod>(), move |ev: &InformerEvent<Pod>, q| {
            let mut label_sets = vec![ev.object().meta().labels.clone()];
            if let InformerEvent::Modified { old, .. } = ev {
                label_sets.push(old.meta().labels.clone());
            }
            let ns = &ev.object().meta().namespace;
            for svc in svc_store.by_namespace(ns) {
                if let Some(sel) = service_selector(&svc)
                    && label_sets.iter().any(|l| sel.matches(l))
                {
                    q.add(make_key(ns, &svc.meta().name));
                }
            }
        })
        .workers(ctx.config.concurrent_workers);
    let ep = Arc::new(EndpointController {
        pods: ctx.informer::<Pod>().store(),
        endpoints: ctx.informer::<Endpoints>().store(),
        triggers: Mutex::default(),
        ctx,
    });
    controller.run(reconcile, backoff, ep, cancel).await;
    Ok(())
}

struct EndpointController {
    ctx: Arc<Context>,
    pods: client::Store<Pod>,
    endpoints: client::Store<Endpoints>,
    /// Per Service key (Kubernetes keeps it in the controller the same way).
    triggers: Mutex<HashMap<String, TriggerState>>,
}

impl EndpointController {
    fn triggers(&self) -> std::sync::MutexGuard<'_, HashMap<String, TriggerState>> {
        // One map updated by single inserts and removes: whole after a panic elsewhere.
        self.triggers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn reconcile(req: Request<Service>, c: Arc<EndpointController>) -> Result<Action, Error> {
    let (ctx, pods, endpoints, key) = (&c.ctx, &c.pods, &c.endpoints, req.key.as_str());
    let (ns, name) = split_key(key);
    let api = ctx.api_in::<Endpoints>(ns);
    let Some(service) = req.object else {
        c.triggers().remove(key);
        // The Service is gone: so is its Endpoints.
        if endpoints.get(key).is_some() {
            match api.delete(name, &Default::default()).await {
                Ok(_) => tracing::info!("service gone: endpoints deleted"),
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(Action::Done);
    };
    let Some(selector) = service_selector(&service) else {
        return Ok(Action::Done);
    };
    let selected: Vec<Arc<Pod>> = pods
        .by_namespace(ns)
        .into_iter()
        .filter(|p| selector.matches(&p.meta().labels))
        .collect();
    let refs: Vec<&Pod> = selected.iter().map(|p| p.as_ref()).collect();
    let subsets = plan_endpoints(&service, &refs);
    let labels = endpoints_labels(&service);
    // Computed on every sync, written only with a change, as Kubernetes.
    let (trigger, state) = last_change_trigger_time(c.triggers().get(key), &service, &refs);
    c.triggers().insert(key.to_string(), state);
    match endpoints.get(key) {
        Some(cur) if cur.subsets == subsets && cur.meta().labels == labels => Ok(Action::Done),
        Some(cur) => {
            let mut next = (*cur).clone();
            next.subsets = subsets;
            next.meta_mut().labels = labels;
            set_trigger_time(next.meta_mut(), trigger);
            api.update(&next).await?;
            tracing::debug!("endpoints updated");
            Ok(Action::Done)
        }
        None => {
            let mut meta = ObjectMeta {
                name: name.to_string(),
                namespace: ns.to_string(),
                labels,
                ..Default::default()
            };
            set_trigger_time(&mut meta, trigger);
            let ep = Endpoints {
                metadata: Some(meta),
                subsets,
                ..Default::default()
            };
            match api.create(&ep).await {
                Ok(_) => {
                    tracing::debug!("endpoints created");
                    Ok(Action::Done)
                }
                // Made meanwhile (or the cache lags): look again with the current one.
                Err(e) if e.is(Reason::AlreadyExists) => {
                    let cur = api.get(name).await?;
                    if cur.subsets != ep.subsets || cur.meta().labels != ep.meta().labels {
                        let labels = ep.meta().labels.clone();
                        let mut next = cur;
                        next.subsets = ep.subsets;
                        next.meta_mut().labels = labels;
                        set_trigger_time(next.meta_mut(), trigger);
                        api.update(&next).await?;
                    }
                    Ok(Action::Done)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, ContainerPort, PodCondition, PodSpec, PodStatus, ServiceSpec};

    fn pod(name: &str, ip: &str, ready: bool, ports: &[(&str, i32)]) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "ns".into(),
                uid: format!("uid-{name}"),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                node_name: "n1".into(),
                containers: vec![Container {
                    name: "c".into(),
                    ports: ports
                        .iter()
                        .map(|(n, p)| ContainerPort {
                            name: n.to_string(),
                            container_port: *p,
                            protocol: "TCP".into(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: "Running".into(),
                pod_ip: ip.into(),
                conditions: vec![PodCondition {
                    r#type: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn service(ports: &[(&str, i32, &str)], publish_not_ready: bool) -> Service {
        Service {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "ns".into(),
                ..Default::default()
            }),
            spec: Some(ServiceSpec {
                selector: [("app".to_string(), "web".to_string())].into(),
                publish_not_ready_addresses: publish_not_ready,
                ports: ports
                    .iter()
                    .map(|(n, p, t)| ServicePort {
                        name: n.to_string(),
                        port: *p,
                        target_port: t.to_string(),
                        protocol: "TCP".into(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// (ready ips, not-ready ips, ports as name:port) per subset.
    type Shape = Vec<(Vec<String>, Vec<String>, Vec<String>)>;

    fn shape(subsets: &[EndpointSubset]) -> Shape {
        subsets
            .iter()
            .map(|s| {
                (
                    s.addresses.iter().map(|a| a.ip.clone()).collect(),
                    s.not_ready_addresses.iter().map(|a| a.ip.clone()).collect(),
                    s.ports
                        .iter()
                        .map(|p| format!("{}:{}", p.name, p.port))
                        .collect(),
                )
            })
            .collect()
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn table() {
        let mut terminating = pod("t", "10.0.0.9", true, &[("http", 8080)]);
        terminating.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        let mut no_ip = pod("x", "", true, &[("http", 8080)]);
        no_ip.status.as_mut().unwrap().pod_ip.clear();
        let mut failed = pod("f", "10.0.0.8", false, &[("http", 8080)]);
        failed.status.as_mut().unwrap().phase = "Failed".into();
        let a = pod("a", "10.0.0.2", true, &[("http", 8080)]);
        let b = pod("b", "10.0.0.1", true, &[("http", 9090)]);
        let c = pod("c", "10.0.0.3", false, &[("http", 8080)]);
        let d = pod("d", "10.0.0.4", true, &[("other", 1)]);

        let cases: Vec<(&str, Service, Vec<&Pod>, Shape)> = vec![
            (
                "numeric target, ready and not ready, sorted by ip",
                service(&[("", 80, "8080")], false),
                vec![&c, &a, &b],
                vec![(
                    v(&["10.0.0.1", "10.0.0.2"]),
                    v(&["10.0.0.3"]),
                    v(&[":8080"]),
                )],
            ),
            (
                "named target resolved per pod: different ports, different subsets",
                service(&[("web", 80, "http")], false),
                vec![&a, &b, &c, &d],
                vec![
                    (v(&["10.0.0.2"]), v(&["10.0.0.3"]), v(&["web:8080"])),
                    (v(&["10.0.0.1"]), v(&[]), v(&["web:9090"])),
                ],
            ),
            (
                "pods lacking the named port of one service port keep the other",
                service(&[("web", 80, "http"), ("metrics", 9100, "9100")], false),
                vec![&a, &d],
                vec![
                    (v(&["10.0.0.4"]), v(&[]), v(&["metrics:9100"])),
                    (v(&["10.0.0.2"]), v(&[]), v(&["metrics:9100", "web:8080"])),
                ],
            ),
            (
                "no ip, terminating and finished pods are left out",
                service(&[("", 80, "8080")], false),
                vec![&no_ip, &terminating, &failed, &a],
                vec![(v(&["10.0.0.2"]), v(&[]), v(&[":8080"]))],
            ),
            (
                "publishNotReadyAddresses: everything ready, terminating included",
                service(&[("", 80, "8080")], true),
                vec![&terminating, &c],
                vec![(v(&["10.0.0.3", "10.0.0.9"]), v(&[]), v(&[":8080"]))],
            ),
            (
                "empty target port means the service port",
                service(&[("", 80, "")], false),
                vec![&a],
                vec![(v(&["10.0.0.2"]), v(&[]), v(&[":80"]))],
            ),
            (
                "no pods, no subsets",
                service(&[("", 80, "8080")], false),
                vec![],
                vec![],
            ),
            (
                "headless without ports: addresses only",
                service(&[], false),
                vec![&a, &c],
                vec![(v(&["10.0.0.2"]), v(&["10.0.0.3"]), v(&[]))],
            ),
        ];
        for (name, svc, pods, want) in cases {
            assert_eq!(shape(&plan_endpoints(&svc, &pods)), want, "{name}");
        }
    }

    #[test]
    fn addresses_carry_target_ref_and_node_and_the_plan_is_deterministic() {
        let a = pod("a", "10.0.0.2", true, &[("http", 8080)]);
        let b = pod("b", "10.0.0.1", true, &[("http", 8080)]);
        let svc = service(&[("web", 80, "http")], false);
        let one = plan_endpoints(&svc, &[&a, &b]);
        let two = plan_endpoints(&svc, &[&b, &a]);
        assert_eq!(one, two);
        let addr = &one[0].addresses[1];
        assert_eq!(addr.node_name.as_deref(), Some("n1"));
        let r = addr.target_ref.as_ref().unwrap();
        assert_eq!(
            (r.kind.as_str(), r.name.as_str(), r.uid.as_str()),
            ("Pod", "a", "uid-a")
        );
        assert_eq!(r.namespace, "ns");
        assert_eq!(one[0].ports[0].protocol, "TCP");
    }

    #[test]
    fn hostname_only_when_subdomain_names_the_service() {
        let mut a = pod("a", "10.0.0.2", true, &[]);
        let spec = a.spec.as_mut().unwrap();
        spec.hostname = "a-0".into();
        spec.subdomain = "web".into();
        let mut b = pod("b", "10.0.0.3", true, &[]);
        b.spec.as_mut().unwrap().hostname = "b-0".into();
        let subsets = plan_endpoints(&service(&[], false), &[&a, &b]);
        let hosts: Vec<&str> = subsets[0]
            .addresses
            .iter()
            .map(|x| x.hostname.as_str())
            .collect();
        assert_eq!(hosts, ["a-0", ""]);
    }

    #[test]
    fn trigger_time_is_the_earliest_change_since_the_last_sync() {
        let at = |s: &str| proto::time::parse_rfc3339(s).unwrap();
        let ready_at = |p: &mut Pod, t: &str| {
            p.status.as_mut().unwrap().conditions[0].last_transition_time = t.into();
        };
        let mut svc = service(&[("", 80, "8080")], false);
        svc.meta_mut().creation_timestamp = "2026-01-01T00:00:00Z".into();
        let mut a = pod("a", "10.0.0.2", true, &[]);
        ready_at(&mut a, "2026-01-01T00:00:10Z");
        let mut b = pod("b", "10.0.0.3", false, &[]);
        ready_at(&mut b, "2026-01-01T00:00:20Z");

        // First sync of the Service: its creation.
        let (t, state) = last_change_trigger_time(None, &svc, &[&a, &b]);
        assert_eq!(t, Some(at("2026-01-01T00:00:00Z")));
        // Nothing moved: no trigger (the annotation goes).
        let (t, state) = last_change_trigger_time(Some(&state), &svc, &[&a, &b]);
        assert_eq!(t, None);
        // b became ready, then a new pod c: the earliest of the two.
        ready_at(&mut b, "2026-01-01T00:01:00Z");
        let mut c = pod("c", "10.0.0.4", true, &[]);
        ready_at(&mut c, "2026-01-01T00:01:30Z");
        let (t, state) = last_change_trigger_time(Some(&state), &svc, &[&a, &b, &c]);
        assert_eq!(t, Some(at("2026-01-01T00:01:00Z")));
        // A pod going away moves no time of those left.
        let (t, _) = last_change_trigger_time(Some(&state), &svc, &[&a, &c]);
        assert_eq!(t, None);

        let mut meta = ObjectMeta::default();
        set_trigger_time(&mut meta, Some(at("2026-01-01T00:01:00Z")));
        assert_eq!(
            meta.annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME],
            "2026-01-01T00:01:00Z"
        );
        set_trigger_time(&mut meta, Some(at("2026-01-01T00:01:00.25Z")));
        assert_eq!(
            meta.annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME],
            "2026-01-01T00:01:00.250000Z"
        );
        set_trigger_time(&mut meta, None);
        assert!(meta.annotations.is_empty());
    }

    #[test]
    fn headless_label() {
        let mut svc = service(&[], false);
        svc.meta_mut().labels.insert("team".into(), "x".into());
        assert!(!endpoints_labels(&svc).contains_key(LABEL_HEADLESS));
        svc.spec.as_mut().unwrap().cluster_ip = "None".into();
        let l = endpoints_labels(&svc);
        assert_eq!(l.get(LABEL_HEADLESS).map(String::as_str), Some(""));
        assert_eq!(l.get("team").map(String::as_str), Some("x"));
    }
}
