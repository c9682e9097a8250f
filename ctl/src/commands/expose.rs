//! `ctl expose deployment|replicaset|pod|service NAME --port=P`: a Service whose selector,
//! ports, protocols and labels come from the exposed object, as kubectl 1.33 derives them.
//!
//! ctl's global `-l/--selector` is the service's selector here (kubectl's `--selector`);
//! kubectl's `-l` (labels) is `--labels`.

use super::Ctx;
use super::generate::doc::{apply_overrides, parse_labels, to_object};
use super::generate::{print_outcome, send};
use crate::manifests::load_all;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use proto::k8s::{Object, PodSpec, object::Kind as K};
use proto::resource::{find_kind, info};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Args, Debug, Clone)]
pub struct ExposeArgs {
    /// TYPE NAME, or TYPE/NAME
    pub resource: Vec<String>,
    /// A manifest naming the resource to expose
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    /// The port that the service should serve on (default: the resource's ports)
    #[arg(long)]
    pub port: Option<String>,
    /// The network protocol for the service to be created (default: TCP)
    #[arg(long)]
    pub protocol: Option<String>,
    /// Name or number of the container port the service sends traffic to
    #[arg(long)]
    pub target_port: Option<String>,
    /// The name for the new service (default: the resource's name)
    #[arg(long)]
    pub name: Option<String>,
    /// ClusterIP, NodePort, LoadBalancer or ExternalName (default: ClusterIP)
    #[arg(long = "type")]
    pub type_: Option<String>,
    /// Labels of the service, `a=b,c=d` (default: the resource's labels)
    #[arg(long)]
    pub labels: Option<String>,
    /// ClusterIP to assign, or `None` for a headless service
    #[arg(long)]
    pub cluster_ip: Option<String>,
    /// An external IP address (not managed by the cluster) the service also accepts
    #[arg(long)]
    pub external_ip: Option<String>,
    /// The IP to give the LoadBalancer
    #[arg(long)]
    pub load_balancer_ip: Option<String>,
    /// None or ClientIP
    #[arg(long)]
    pub session_affinity: Option<String>,
    /// JSON merged into the generated service before it is sent
    #[arg(long)]
    pub overrides: Option<String>,
    /// How --overrides applies: merge (JSON merge patch; the only one ctl has)
    #[arg(long, default_value = "merge")]
    pub override_type: String,
}

/// The flags that shape the service, apart from where they came from.
#[derive(Debug, Default, Clone)]
pub struct ExposeOptions {
    pub port: Option<String>,
    pub protocol: Option<String>,
    pub target_port: Option<String>,
    pub name: Option<String>,
    pub type_: Option<String>,
    pub selector: Option<String>,
    pub labels: Option<String>,
    pub cluster_ip: Option<String>,
    pub external_ip: Option<String>,
    pub load_balancer_ip: Option<String>,
    pub session_affinity: Option<String>,
}

pub async fn expose(ctx: &Ctx, a: &ExposeArgs) -> Result<()> {
    let opts = ExposeOptions {
        port: a.port.clone(),
        protocol: a.protocol.clone(),
        target_port: a.target_port.clone(),
        name: a.name.clone(),
        type_: a.type_.clone(),
        selector: ctx.global.selector.clone().filter(|s| !s.is_empty()),
        labels: a.labels.clone(),
        cluster_ip: a.cluster_ip.clone(),
        external_ip: a.external_ip.clone(),
        load_balancer_ip: a.load_balancer_ip.clone(),
        session_affinity: a.session_affinity.clone(),
    };
    for source in sources(ctx, a).await? {
        let mut service = apply_overrides(
            expose_service(&source, &opts)?,
            a.overrides.as_deref().unwrap_or(""),
            &a.override_type,
        )?;
        if let Some(ns) = &ctx.ns.explicit {
            service.meta_mut().namespace = ns.clone();
        }
        let shown = send(ctx, service).await?;
        print_outcome(ctx, &shown, "exposed")?;
    }
    Ok(())
}

/// The objects to expose: from -f manifests as written, or read from the server by name.
async fn sources(ctx: &Ctx, a: &ExposeArgs) -> Result<Vec<Object>> {
    if !a.files.is_empty() {
        if !a.resource.is_empty() {
            bail!("specify a resource by -f or by TYPE NAME, not both");
        }
        return load_all(&a.files, false)
            .into_iter()
            .map(|d| d.map(|d| d.object))
            .collect();
    }
    let (kind, name) = match a.resource.as_slice() {
        [one] if one.contains('/') => one.split_once('/').unwrap_or_default(),
        [kind, name] => (kind.as_str(), name.as_str()),
        _ => bail!(
            "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'"
        ),
    };
    let info = find_kind(kind)
        .ok_or_else(|| anyhow!("the server doesn't have a resource type \"{kind}\""))?;
    let live = ctx
        .api()
        .await?
        .get(info.plural, &ctx.ns.for_object(info), name)
        .await?;
    Ok(vec![live])
}

/// `Kind.group` as Go prints a GroupKind (`DaemonSet.apps`, `ConfigMap`).
fn group_kind(o: &Object) -> String {
    match o.info() {
        Some(i) if i.group.is_empty() => i.kind.to_string(),
        Some(i) => format!("{}.{}", i.kind, i.group),
        None => "Unknown".into(),
    }
}

/// The pod template of what can be exposed (none for a service).
fn pod_spec(o: &Object) -> Option<PodSpec> {
    let template = match &o.kind {
        Some(K::Pod(p)) => return p.spec.clone(),
        Some(K::Deployment(d)) => d.spec.as_ref().and_then(|s| s.template.clone()),
        Some(K::ReplicaSet(r)) => r.spec.as_ref().and_then(|s| s.template.clone()),
        _ => None,
    };
    template.and_then(|t| t.spec)
}

/// kubectl's selector for the service: a pod's labels, a service's selector, a
/// deployment's or replica set's matchLabels (expressions cannot be a service selector).
pub fn selector_of(o: &Object) -> Result<BTreeMap<String, String>> {
    let workload = |sel: Option<&proto::k8s::LabelSelector>, what: &str| {
        let Some(sel) = sel.filter(|s| !s.match_labels.is_empty()) else {
            bail!("invalid {what}: no selectors, therefore cannot be exposed");
        };
        if !sel.match_expressions.is_empty() {
            bail!(
                "couldn't convert expressions - \"{:?}\" to map-based selector format",
                sel.match_expressions
            );
        }
        Ok(sel.match_labels.clone())
    };
    match &o.kind {
        Some(K::Pod(p)) => {
            let labels = &p
                .metadata
                .as_ref()
                .map(|m| m.labels.clone())
                .unwrap_or_default();
            if labels.is_empty() {
                bail!("the pod has no labels and cannot be exposed");
            }
            Ok(labels.clone())
        }
        Some(K::Service(s)) => match s.spec.as_ref().map(|s| &s.selector) {
            Some(sel) if !sel.is_empty() => Ok(sel.clone()),
            _ => bail!("the service has no pod selector set"),
        },
        Some(K::Deployment(d)) => workload(
            d.spec.as_ref().and_then(|s| s.selector.as_ref()),
            "deployment",
        ),
        Some(K::ReplicaSet(r)) => workload(
            r.spec.as_ref().and_then(|s| s.selector.as_ref()),
            "replicaset",
        ),
        _ => bail!("cannot extract pod selector from {}", group_kind(o)),
    }
}

/// The distinct ports of the object, in order, with each port's protocols (TCP when unset).
pub fn ports_of(o: &Object) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut ports = Vec::new();
    let mut protocols: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |port: i32, protocol: &str| {
        let key = port.to_string();
        if !ports.contains(&key) {
            ports.push(key.clone());
        }
        let protocol = if protocol.is_empty() { "TCP" } else { protocol };
        protocols.entry(key).or_default().push(protocol.to_string());
    };
    if let Some(K::Service(s)) = &o.kind {
        for p in s.spec.iter().flat_map(|s| &s.ports) {
            add(p.port, &p.protocol);
        }
    } else if let Some(spec) = pod_spec(o) {
        for p in spec.containers.iter().flat_map(|c| &c.ports) {
            add(p.container_port, &p.protocol);
        }
    }
    (ports, protocols)
}

/// The service `expose` makes for `source` (kubectl's `createService`).
pub fn expose_service(source: &Object, o: &ExposeOptions) -> Result<Object> {
    let exposable = matches!(
        source.kind,
        Some(K::Pod(_) | K::Service(_) | K::Deployment(_) | K::ReplicaSet(_))
    );
    if !exposable {
        bail!("cannot expose a {}", group_kind(source));
    }
    let selector = match o.selector.as_deref() {
        Some(s) => parse_labels(s)?,
        None => selector_of(source).map_err(|e| {
            anyhow!("couldn't retrieve selectors via --selector flag or introspection: {e}")
        })?,
    };
    let headless = o.cluster_ip.as_deref() == Some("None");
    let (found_ports, protocols) = ports_of(source);
    let ports: Vec<String> = match &o.port {
        Some(p) => vec![p.clone()],
        None if found_ports.is_empty() && !headless => {
            bail!("couldn't find port via --port flag or introspection")
        }
        None => found_ports,
    };
    let labels = match o.labels.as_deref() {
        Some(l) if !l.is_empty() => parse_labels(l)?,
        _ => source.meta().labels.clone(),
    };
    let mut name = o.name.clone().unwrap_or_default();
    if name.is_empty() {
        // A service name is a DNS-1035 label: 63 characters at most.
        name = source.meta().name.chars().take(63).collect();
    }

    let mut service_ports = Vec::new();
    let several = ports.len() > 1;
    for (i, port_text) in ports.iter().enumerate() {
        let port: i32 = port_text
            .parse()
            .map_err(|_| anyhow!("strconv.Atoi: parsing {port_text:?}: invalid syntax"))?;
        let port_name = if several {
            format!("port-{}", i + 1)
        } else {
            String::new()
        };
        let protocol = match (&o.protocol, protocols.get(port_text)) {
            (Some(p), _) if !p.is_empty() => p.clone(),
            (_, Some(found)) if found.len() == 1 => found[0].clone(),
            // One port with several protocols: a service port for each.
            (_, Some(found)) => {
                for p in found {
                    service_ports.push(json!({
                        "name": format!("port-{}-{}", i + 1, p.to_lowercase()),
                        "port": port,
                        "protocol": p,
                    }));
                }
                continue;
            }
            _ => "TCP".to_string(),
        };
        let mut sp = json!({"port": port, "protocol": protocol});
        if !port_name.is_empty() {
            sp["name"] = port_name.into();
        }
        service_ports.push(sp);
    }
    for sp in &mut service_ports {
        sp["targetPort"] = match o.target_port.as_deref().filter(|t| !t.is_empty()) {
            // intstr.Parse: a number if it is one, else a name.
            Some(t) => t
                .parse::<i32>()
                .map(Value::from)
                .unwrap_or_else(|_| t.into()),
            None => sp["port"].clone(),
        };
    }

    let mut spec = json!({"selector": selector});
    if !service_ports.is_empty() {
        spec["ports"] = service_ports.into();
    }
    if let Some(ip) = o.external_ip.as_deref().filter(|s| !s.is_empty()) {
        spec["externalIPs"] = json!([ip]);
    }
    if let Some(t) = o.type_.as_deref().filter(|s| !s.is_empty()) {
        spec["type"] = t.into();
        if t == "LoadBalancer"
            && let Some(ip) = o.load_balancer_ip.as_deref().filter(|s| !s.is_empty())
        {
            spec["loadBalancerIP"] = ip.into();
        }
    }
    if let Some(a) = o.session_affinity.as_deref().filter(|s| !s.is_empty()) {
        if a != "None" && a != "ClientIP" {
            bail!("unknown session affinity: {a}");
        }
        spec["sessionAffinity"] = a.into();
    }
    if let Some(ip) = o.cluster_ip.as_deref().filter(|s| !s.is_empty()) {
        spec["clusterIP"] = ip.into();
    }
    let mut meta = json!({"name": name});
    if !labels.is_empty() {
        meta["labels"] = json!(labels);
    }
    to_object(
        &info::Service,
        json!({"metadata": meta, "spec": spec, "status": {"loadBalancer": {}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::super::generate::doc::testing::AsDoc;
    use super::super::generate::doc::testing::assert_same_as_kubectl;
    use super::*;

    fn object(yaml: &str) -> Object {
        proto::manifest::load_documents(yaml).unwrap().remove(0)
    }

    fn web_deployment(ports: &str) -> Object {
        object(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {{app: web, tier: front}}\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        ports: {ports}\n"
        ))
    }

    #[test]
    fn a_deployment_is_exposed_as_kubectl_does() {
        // kubectl create deploy web --image=nginx --port=80, then
        // kubectl expose deploy web --port=80 --target-port=8080 --dry-run=client -o yaml
        let opts = ExposeOptions {
            port: Some("80".into()),
            target_port: Some("8080".into()),
            ..Default::default()
        };
        assert_same_as_kubectl(
            &expose_service(&web_deployment("[{containerPort: 80}]"), &opts).unwrap(),
            "apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: web
    tier: front
  name: web
spec:
  ports:
  - port: 80
    protocol: TCP
    targetPort: 8080
  selector:
    app: web
status:
  loadBalancer: {}
",
        );
    }

    #[test]
    fn ports_and_protocols_come_from_the_workload() {
        let d = web_deployment("[{containerPort: 80}, {containerPort: 53, protocol: UDP}]");
        let svc = expose_service(&d, &ExposeOptions::default()).unwrap().doc();
        assert_eq!(
            svc["spec"]["ports"],
            json!([
                {"name": "port-1", "port": 80, "protocol": "TCP", "targetPort": 80},
                {"name": "port-2", "port": 53, "protocol": "UDP", "targetPort": 53},
            ])
        );
        // Both protocols on one port: one service port each.
        let d = web_deployment("[{containerPort: 53}, {containerPort: 53, protocol: UDP}]");
        let svc = expose_service(&d, &ExposeOptions::default()).unwrap().doc();
        assert_eq!(
            svc["spec"]["ports"],
            json!([
                {"name": "port-1-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "port-1-udp", "port": 53, "protocol": "UDP", "targetPort": 53},
            ])
        );
    }

    #[test]
    fn a_pod_is_exposed_by_its_labels_with_the_flags_applied() {
        let pod = object(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {run: p}}\nspec:\n  containers: [{name: c, image: i}]\n",
        );
        let opts = ExposeOptions {
            port: Some("444".into()),
            name: Some("frontend".into()),
            type_: Some("NodePort".into()),
            labels: Some("team=x".into()),
            session_affinity: Some("ClientIP".into()),
            ..Default::default()
        };
        let svc = expose_service(&pod, &opts).unwrap().doc();
        assert_eq!(svc["metadata"]["name"], "frontend");
        assert_eq!(svc["metadata"]["labels"], json!({"team": "x"}));
        assert_eq!(svc["spec"]["selector"], json!({"run": "p"}));
        assert_eq!(svc["spec"]["type"], "NodePort");
        assert_eq!(svc["spec"]["sessionAffinity"], "ClientIP");
        // No port anywhere: kubectl's message.
        let e = expose_service(&pod, &ExposeOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "couldn't find port via --port flag or introspection"
        );
    }

    #[test]
    fn what_cannot_be_exposed_is_named() {
        let cm = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        assert_eq!(
            expose_service(&cm, &ExposeOptions::default())
                .unwrap_err()
                .to_string(),
            "cannot expose a ConfigMap"
        );
        let unlabeled = object(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n",
        );
        assert_eq!(
            expose_service(&unlabeled, &ExposeOptions::default())
                .unwrap_err()
                .to_string(),
            "couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be exposed"
        );
    }
}
