//! Container configuration from a pod's container spec: command and args, env (values,
//! fieldRef, configMapKeyRef, secretKeyRef, envFrom), resource limits, ports, mounts, labels.
//! Pure: the ConfigMaps and Secrets it reads are fetched by the caller.

use crate::error::{Error, Result};
use crate::runtime::{ContainerConfig, ContainerKind, Mount, NetworkMode, labels};
use proto::k8s::{ConfigMap, Container, Pod, Secret};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What env and mounts may refer to besides the pod itself.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config_maps: HashMap<String, ConfigMap>,
    pub secrets: HashMap<String, Secret>,
    pub pod_ip: String,
    pub host_ip: String,
    /// Host directory of each pod volume, by volume name.
    pub volumes: HashMap<String, String>,
    /// The Services whose `_SERVICE_HOST`/`_PORT` variables the containers get: those of
    /// the pod's namespace, and `default/kubernetes` (as Kubernetes' service links).
    pub services: Vec<proto::k8s::Service>,
}

/// Kubernetes' service links (`enableServiceLinks`, on by default): for every Service with
/// a cluster IP, `{NAME}_SERVICE_HOST`, `{NAME}_SERVICE_PORT[_{PORTNAME}]` and the Docker
/// link style `{NAME}_PORT[_{port}_{PROTO}[_PROTO|_PORT|_ADDR]]`. Names upper-cased with
/// `-` as `_`. Sorted by variable name; pure.
pub fn service_env(services: &[proto::k8s::Service]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for svc in services {
        let Some(spec) = &svc.spec else { continue };
        let ip = spec.cluster_ip.as_str();
        if ip.is_empty() || ip == "None" || spec.ports.is_empty() {
            continue;
        }
        let name = svc
            .metadata
            .as_ref()
            .map(|m| m.name.to_uppercase().replace('-', "_"))
            .unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        env.insert(format!("{name}_SERVICE_HOST"), ip.to_string());
        env.insert(
            format!("{name}_SERVICE_PORT"),
            spec.ports[0].port.to_string(),
        );
        for (i, p) in spec.ports.iter().enumerate() {
            if !p.name.is_empty() {
                let pn = p.name.to_uppercase().replace('-', "_");
                env.insert(format!("{name}_SERVICE_PORT_{pn}"), p.port.to_string());
            }
            let proto = if p.protocol.is_empty() {
                "tcp".to_string()
            } else {
                p.protocol.to_lowercase()
            };
            let url = format!("{proto}://{ip}:{}", p.port);
            if i == 0 {
                env.insert(format!("{name}_PORT"), url.clone());
            }
            let base = format!("{name}_PORT_{}_{}", p.port, proto.to_uppercase());
            env.insert(format!("{base}_PROTO"), proto.clone());
            env.insert(format!("{base}_PORT"), p.port.to_string());
            env.insert(format!("{base}_ADDR"), ip.to_string());
            env.insert(base, url);
        }
    }
    env
}

/// Kubernetes' "master services": their variables reach every pod, in every namespace,
/// even with `enableServiceLinks: false`.
pub const MASTER_SERVICES: &[&str] = &["kubernetes"];

/// The Services whose variables a pod in `namespace` gets (Kubernetes'
/// `getServiceEnvVarMap`): with service links, every Service of its namespace; always
/// `default/kubernetes` (so `KUBERNETES_SERVICE_HOST`/`_PORT` are there for in-cluster
/// clients) unless a Service of the same name in the pod's namespace takes its place.
pub fn visible_services<'a>(
    namespace: &str,
    service_links: bool,
    services: &'a [proto::k8s::Service],
) -> Vec<&'a proto::k8s::Service> {
    let mut by_name: BTreeMap<&str, &proto::k8s::Service> = BTreeMap::new();
    let meta = |s: &'a proto::k8s::Service| -> (&'a str, &'a str) {
        s.metadata
            .as_ref()
            .map(|m| (m.namespace.as_str(), m.name.as_str()))
            .unwrap_or(("", ""))
    };
    if service_links {
        for s in services {
            let (ns, name) = meta(s);
            if ns == namespace {
                by_name.insert(name, s);
            }
        }
    }
    for s in services {
        let (ns, name) = meta(s);
        if ns == "default" && MASTER_SERVICES.contains(&name) {
            by_name.entry(name).or_insert(s);
        }
    }
    by_name.into_values().collect()
}

/// ConfigMaps and Secrets a container's env and envFrom name.
pub fn referenced_objects(c: &Container) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut cms = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    for e in &c.env {
        if let Some(vf) = &e.value_from {
            if let Some(r) = &vf.config_map_key_ref {
                cms.insert(r.name.clone());
            }
            if let Some(r) = &vf.secret_key_ref {
                secrets.insert(r.name.clone());
            }
        }
    }
    for ef in &c.env_from {
        if let Some(r) = &ef.config_map_ref {
            cms.insert(r.name.clone());
        }
        if let Some(r) = &ef.secret_ref {
            secrets.insert(r.name.clone());
        }
    }
    (cms, secrets)
}

/// The pod metadata a fieldRef may name in env and in downwardAPI volumes alike:
/// `metadata.name|namespace|uid` and one `metadata.labels['k']` / `annotations['k']`.
/// `None` for any other path; each caller adds what is its own.
pub(crate) fn metadata_field(pod: &Pod, path: &str) -> Option<String> {
    let empty = proto::k8s::ObjectMeta::default();
    let meta = pod.metadata.as_ref().unwrap_or(&empty);
    let keyed = |prefix: &str| path.strip_prefix(prefix)?.strip_suffix("']");
    if let Some(k) = keyed("metadata.labels['") {
        return Some(meta.labels.get(k).cloned().unwrap_or_default());
    }
    if let Some(k) = keyed("metadata.annotations['") {
        return Some(meta.annotations.get(k).cloned().unwrap_or_default());
    }
    match path {
        "metadata.name" => Some(meta.name.clone()),
        "metadata.namespace" => Some(meta.namespace.clone()),
        "metadata.uid" => Some(meta.uid.clone()),
        _ => None,
    }
}

fn field_value(pod: &Pod, path: &str, src: &Sources) -> Result<String> {
    if let Some(v) = metadata_field(pod, path) {
        return Ok(v);
    }
    let spec = pod.spec.as_ref();
    Ok(match path {
        "spec.nodeName" => spec.map(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .map(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.podIP" | "status.podIPs" => src.pod_ip.clone(),
        "status.hostIP" | "status.hostIPs" => src.host_ip.clone(),
        other => {
            return Err(Error::Config(format!(
                "fieldRef {other:?} is not supported"
            )));
        }
    })
}

/// Expands `$(VAR)` references to earlier variables, as Kubernetes does; `$$` escapes.
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The container's environment in order (envFrom first, then env, later entries winning).
pub fn resolve_env(pod: &Pod, c: &Container, src: &Sources) -> Result<Vec<(String, String)>> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut set = |k: String, v: String, vars: &mut BTreeMap<String, String>| {
        if !vars.contains_key(&k) {
            order.push(k.clone());
        }
        vars.insert(k, v);
    };
    for ef in &c.env_from {
        if let Some(r) = &ef.config_map_ref {
            match src.config_maps.get(&r.name) {
                Some(cm) => {
                    for (k, v) in &cm.data {
                        set(format!("{}{k}", ef.prefix), v.clone(), &mut vars);
                    }
                }
                None if r.optional == Some(true) => {}
                None => {
                    return Err(Error::Config(format!("configmap {:?} not found", r.name)));
                }
            }
        }
        if let Some(r) = &ef.secret_ref {
            match src.secrets.get(&r.name) {
                Some(s) => {
                    for (k, v) in &s.data {
                        set(
                            format!("{}{k}", ef.prefix),
                            String::from_utf8_lossy(v).into_owned(),
                            &mut vars,
                        );
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(Error::Config(format!("secret {:?} not found", r.name))),
            }
        }
    }
    let links = pod
        .spec
        .as_ref()
        .is_none_or(|s| s.enable_service_links != Some(false));
    let namespace = pod
        .metadata
        .as_ref()
        .map(|m| m.namespace.as_str())
        .unwrap_or("");
    let visible: Vec<proto::k8s::Service> = visible_services(namespace, links, &src.services)
        .into_iter()
        .cloned()
        .collect();
    let service_vars = service_env(&visible);
    for e in &c.env {
        let value = match &e.value_from {
            // `$(VAR)` sees the container's variables so far and the service links.
            None if e.value.contains("$(") && !service_vars.is_empty() => {
                let mut seen = service_vars.clone();
                seen.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                expand(&e.value, &seen)
            }
            None => expand(&e.value, &vars),
            Some(vf) => {
                if let Some(f) = &vf.field_ref {
                    field_value(pod, &f.field_path, src)?
                } else if let Some(r) = &vf.config_map_key_ref {
                    match src
                        .config_maps
                        .get(&r.name)
                        .and_then(|cm| cm.data.get(&r.key))
                    {
                        Some(v) => v.clone(),
                        None if r.optional == Some(true) => continue,
                        None => {
                            return Err(Error::Config(format!(
                                "couldn't find key {} in ConfigMap {}/{}",
                                r.key,
                                pod.metadata
                                    .as_ref()
                                    .map(|m| m.namespace.as_str())
                                    .unwrap_or(""),
                                r.name
                            )));
                        }
                    }
                } else if let Some(r) = &vf.secret_key_ref {
                    match src.secrets.get(&r.name).and_then(|s| s.data.get(&r.key)) {
                        Some(v) => String::from_utf8_lossy(v).into_owned(),
                        None if r.optional == Some(true) => continue,
                        None => {
                            return Err(Error::Config(format!(
                                "couldn't find key {} in Secret {}/{}",
                                r.key,
                                pod.metadata
                                    .as_ref()
                                    .map(|m| m.namespace.as_str())
                                    .unwrap_or(""),
                                r.name
                            )));
                        }
                    }
                } else if let Some(r) = &vf.resource_field_ref {
                    resource_value(c, &r.resource)
                } else {
                    String::new()
                }
            }
        };
        set(e.name.clone(), value, &mut vars);
    }
    // Service links come last and never override what the container declares.
    for (k, v) in service_vars {
        if !vars.contains_key(&k) {
            set(k, v, &mut vars);
        }
    }
    Ok(order
        .into_iter()
        .map(|k| {
            let v = vars.get(&k).cloned().unwrap_or_default();
            (k, v)
        })
        .collect())
}

fn resource_value(c: &Container, resource: &str) -> String {
    let r = c.resources.clone().unwrap_or_default();
    let get = |m: &BTreeMap<String, String>, k: &str| m.get(k).cloned();
    match resource {
        "limits.cpu" => get(&r.limits, "cpu")
            .and_then(|q| proto::quantity::parse_cpu_millis(&q).ok())
            .map(|m| ((m + 999) / 1000).to_string())
            .unwrap_or_default(),
        "limits.memory" => get(&r.limits, "memory")
            .and_then(|q| proto::quantity::parse_bytes(&q).ok())
            .map(|b| b.to_string())
            .unwrap_or_default(),
        "requests.cpu" => get(&r.requests, "cpu")
            .and_then(|q| proto::quantity::parse_cpu_millis(&q).ok())
            .map(|m| ((m + 999) / 1000).to_string())
            .unwrap_or_default(),
        "requests.memory" => get(&r.requests, "memory")
            .and_then(|q| proto::quantity::parse_bytes(&q).ok())
            .map(|b| b.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Labels of one container of a pod.
pub fn container_labels(
    pod: &Pod,
    node: &str,
    kind: ContainerKind,
    name: &str,
    restart_count: i32,
    sandbox_attempt: i32,
) -> BTreeMap<String, String> {
    let meta = pod.metadata.clone().unwrap_or_default();
    let grace = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    BTreeMap::from([
        (labels::NODE.to_string(), node.to_string()),
        (labels::POD_UID.to_string(), meta.uid),
        (labels::POD_NAME.to_string(), meta.name),
        (labels::POD_NAMESPACE.to_string(), meta.namespace),
        (labels::CONTAINER_NAME.to_string(), name.to_string()),
        (
            labels::CONTAINER_TYPE.to_string(),
            kind.as_label().to_string(),
        ),
        (labels::RESTART_COUNT.to_string(), restart_count.to_string()),
        (
            labels::SANDBOX_ATTEMPT.to_string(),
            sandbox_attempt.to_string(),
        ),
        (labels::GRACE_PERIOD.to_string(), grace.to_string()),
    ])
}

/// `<prefix>_<container>_<pod>_<namespace>_<uid>_<restart>`, as Kubernetes names them.
pub fn container_name(prefix: &str, pod: &Pod, name: &str, attempt: i32) -> String {
    let meta = pod.metadata.clone().unwrap_or_default();
    format!(
        "{prefix}_{name}_{}_{}_{}_{attempt}",
        meta.name, meta.namespace, meta.uid
    )
}

#[allow(clippy::too_many_arguments)]
pub fn container_config(
    prefix: &str,
    node: &str,
    pod: &Pod,
    c: &Container,
    kind: ContainerKind,
    restart_count: i32,
    sandbox: &crate::runtime::ContainerInfo,
    src: &Sources,
) -> Result<ContainerConfig> {
    let env = resolve_env(pod, c, src)?;
    let vars: BTreeMap<String, String> = env.iter().cloned().collect();
    let expand_all = |v: &[String]| -> Vec<String> { v.iter().map(|s| expand(s, &vars)).collect() };
    let mut labels = container_labels(
        pod,
        node,
        kind,
        &c.name,
        restart_count,
        sandbox.sandbox_attempt(),
    );
    labels.insert(labels::SANDBOX_ID.to_string(), sandbox.id.clone());
    let res = c.resources.clone().unwrap_or_default();
    let nano_cpus = res
        .limits
        .get("cpu")
        .and_then(|q| proto::quantity::parse_cpu_millis(q).ok())
        .filter(|m| *m > 0)
        .map(|m| m * 1_000_000);
    let memory = res
        .limits
        .get("memory")
        .and_then(|q| proto::quantity::parse_bytes(q).ok())
        .filter(|b| *b > 0);
    let mut mounts = Vec::new();
    for vm in &c.volume_mounts {
        let Some(host) = src.volumes.get(&vm.name) else {
            let defined = pod
                .spec
                .as_ref()
                .is_some_and(|s| s.volumes.iter().any(|v| v.name == vm.name));
            return Err(Error::Volume {
                volume: vm.name.clone(),
                message: if defined {
                    format!(
                        "container {} mounts a volume that could not be set up (see the pod's FailedMount events)",
                        c.name
                    )
                } else {
                    format!(
                        "container {} mounts a volume the pod does not define",
                        c.name
                    )
                },
            });
        };
        // subPathExpr expands the container's variables (Kubernetes); either way the
        // subPath is checked here and bound later, never joined onto the volume's path.
        let sub_path = if vm.sub_path_expr.is_empty() {
            vm.sub_path.clone()
        } else {
            expand(&vm.sub_path_expr, &vars)
        };
        let sub_path = if sub_path.is_empty() {
            None
        } else {
            crate::volumes::subpath::validate(&sub_path).map_err(|message| Error::Volume {
                volume: vm.name.clone(),
                message,
            })?;
            Some(crate::volumes::subpath::Request {
                volume: vm.name.clone(),
                sub_path,
                index: mounts.len(),
            })
        };
        // configMap, secret, downwardAPI and projected: read-only whatever the mount says.
        let written = pod
            .spec
            .as_ref()
            .and_then(|s| s.volumes.iter().find(|v| v.name == vm.name))
            .is_some_and(|v| crate::volumes::is_kubelet_written(v.volume_source.as_ref()));
        mounts.push(Mount {
            host_path: host.clone(),
            container_path: vm.mount_path.clone(),
            read_only: vm.read_only || written,
            sub_path,
        });
    }
    Ok(ContainerConfig {
        name: container_name(prefix, pod, &c.name, restart_count),
        image: c.image.clone(),
        entrypoint: (!c.command.is_empty()).then(|| expand_all(&c.command)),
        cmd: if !c.args.is_empty() {
            Some(expand_all(&c.args))
        } else if !c.command.is_empty() {
            // Kubernetes: a command without args drops the image's cmd.
            Some(vec![])
        } else {
            None
        },
        working_dir: (!c.working_dir.is_empty()).then(|| c.working_dir.clone()),
        env,
        labels,
        network: Some(NetworkMode::Container(sandbox.id.clone())),
        ipc_container: Some(sandbox.id.clone()),
        ipc_shareable: false,
        hostname: None,
        mounts,
        nano_cpus,
        memory,
        privileged: c
            .security_context
            .as_ref()
            .and_then(|s| s.privileged)
            .unwrap_or(false),
        // Docker refuses exposed ports on a container joining another's network; the
        // ports belong to the sandbox's namespace anyway.
        exposed_ports: vec![],
        tty: c.tty,
        stdin: c.stdin,
        stdin_once: c.stdin_once,
        // The securityContext's fields: `security::Settings::apply`.
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    fn svc(name: &str, ip: &str, ports: &[(&str, i32, &str)]) -> proto::k8s::Service {
        svc_in("default", name, ip, ports)
    }

    fn svc_in(ns: &str, name: &str, ip: &str, ports: &[(&str, i32, &str)]) -> proto::k8s::Service {
        proto::k8s::Service {
            metadata: Some(proto::k8s::ObjectMeta {
                name: name.into(),
                namespace: ns.into(),
                ..Default::default()
            }),
            spec: Some(proto::k8s::ServiceSpec {
                cluster_ip: ip.into(),
                ports: ports
                    .iter()
                    .map(|(n, p, proto)| proto::k8s::ServicePort {
                        name: n.to_string(),
                        port: *p,
                        protocol: proto.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn service_links_as_kubernetes_names_them() {
        let env = service_env(&[
            svc(
                "my-web",
                "10.96.0.5",
                &[("http", 80, "TCP"), ("", 9090, "UDP")],
            ),
            svc("headless", "None", &[("", 80, "TCP")]),
        ]);
        let want: BTreeMap<String, String> = [
            ("MY_WEB_SERVICE_HOST", "10.96.0.5"),
            ("MY_WEB_SERVICE_PORT", "80"),
            ("MY_WEB_SERVICE_PORT_HTTP", "80"),
            ("MY_WEB_PORT", "tcp://10.96.0.5:80"),
            ("MY_WEB_PORT_80_TCP", "tcp://10.96.0.5:80"),
            ("MY_WEB_PORT_80_TCP_PROTO", "tcp"),
            ("MY_WEB_PORT_80_TCP_PORT", "80"),
            ("MY_WEB_PORT_80_TCP_ADDR", "10.96.0.5"),
            ("MY_WEB_PORT_9090_UDP", "udp://10.96.0.5:9090"),
            ("MY_WEB_PORT_9090_UDP_PROTO", "udp"),
            ("MY_WEB_PORT_9090_UDP_PORT", "9090"),
            ("MY_WEB_PORT_9090_UDP_ADDR", "10.96.0.5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(env, want);
    }

    #[test]
    fn service_links_never_override_and_can_be_turned_off() {
        let mut src = sources();
        src.services = vec![svc_in("shop", "web", "10.96.0.5", &[("", 80, "TCP")])];
        let mut c = Container::default();
        c.env.push(EnvVar {
            name: "WEB_SERVICE_HOST".into(),
            value: "mine".into(),
            ..Default::default()
        });
        c.env.push(EnvVar {
            name: "URL".into(),
            value: "http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/".into(),
            ..Default::default()
        });
        let got: BTreeMap<String, String> =
            resolve_env(&pod(), &c, &src).unwrap().into_iter().collect();
        assert_eq!(got["WEB_SERVICE_HOST"], "mine");
        assert_eq!(got["WEB_SERVICE_PORT"], "80");
        assert_eq!(got["URL"], "http://mine:80/");
        let mut p = pod();
        p.spec
            .get_or_insert_with(Default::default)
            .enable_service_links = Some(false);
        let got: BTreeMap<String, String> =
            resolve_env(&p, &c, &src).unwrap().into_iter().collect();
        assert!(!got.contains_key("WEB_SERVICE_PORT"));
    }

    #[test]
    fn kubernetes_service_reaches_every_namespace_even_without_links() {
        let https = [("https", 443, "TCP")];
        let services = vec![
            svc("kubernetes", "10.96.0.1", &https),
            svc("other", "10.96.0.9", &https),
            svc_in("shop", "web", "10.96.0.5", &[("", 80, "TCP")]),
            svc_in("elsewhere", "db", "10.96.0.6", &[("", 5432, "TCP")]),
        ];
        let mut src = sources();
        src.services = services.clone();
        let c = Container::default();
        let got: BTreeMap<String, String> =
            resolve_env(&pod(), &c, &src).unwrap().into_iter().collect();
        assert_eq!(got["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
        assert_eq!(got["KUBERNETES_SERVICE_PORT"], "443");
        assert_eq!(got["KUBERNETES_SERVICE_PORT_HTTPS"], "443");
        assert_eq!(got["KUBERNETES_PORT_443_TCP_ADDR"], "10.96.0.1");
        assert_eq!(got["WEB_SERVICE_HOST"], "10.96.0.5");
        assert!(
            !got.contains_key("OTHER_SERVICE_HOST"),
            "default/other is not the pod's"
        );
        assert!(!got.contains_key("DB_SERVICE_HOST"));

        let mut p = pod();
        p.spec
            .get_or_insert_with(Default::default)
            .enable_service_links = Some(false);
        let got: BTreeMap<String, String> =
            resolve_env(&p, &c, &src).unwrap().into_iter().collect();
        assert_eq!(got["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
        assert!(!got.contains_key("WEB_SERVICE_HOST"));

        // A Service named kubernetes in the pod's own namespace wins (with links on).
        let mut with_own = services;
        with_own.push(svc_in("shop", "kubernetes", "10.96.0.77", &https));
        let names: Vec<String> = visible_services("shop", true, &with_own)
            .iter()
            .map(|s| {
                let m = s.metadata.as_ref().unwrap();
                format!("{}/{}", m.namespace, m.name)
            })
            .collect();
        assert_eq!(names, vec!["shop/kubernetes", "shop/web"]);
        assert_eq!(
            visible_services("shop", false, &with_own)
                .iter()
                .map(|s| s.metadata.as_ref().unwrap().namespace.clone())
                .collect::<Vec<_>>(),
            vec!["default"]
        );
    }

    use super::*;
    use proto::k8s::{
        ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
        ObjectFieldSelector, ObjectMeta, PodSpec, ResourceRequirements, SecretKeySelector,
    };

    fn pod() -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "shop".into(),
                uid: "u-1".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                node_name: "n1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn env(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.into(),
            value_from: None,
        }
    }

    fn env_from(name: &str, src: EnvVarSource) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: String::new(),
            value_from: Some(src),
        }
    }

    fn sources() -> Sources {
        let mut s = Sources {
            pod_ip: "10.244.1.7".into(),
            host_ip: "192.0.2.1".into(),
            ..Default::default()
        };
        let mut cm = ConfigMap::default();
        cm.data.insert("mode".into(), "fast".into());
        cm.data.insert("level".into(), "3".into());
        s.config_maps.insert("cfg".into(), cm);
        let mut sec = Secret::default();
        sec.data.insert("password".into(), b"hunter2".to_vec());
        s.secrets.insert("creds".into(), sec);
        s
    }

    #[test]
    fn env_sources_resolve() {
        let c = Container {
            name: "a".into(),
            env_from: vec![EnvFromSource {
                prefix: "CFG_".into(),
                config_map_ref: Some(ConfigMapEnvSource {
                    name: "cfg".into(),
                    optional: None,
                }),
                secret_ref: None,
            }],
            env: vec![
                env("GREETING", "hi"),
                env("MSG", "$(GREETING) from $(POD_NAME) $$(x) $(NOPE)"),
                env_from(
                    "POD_NAME",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: "v1".into(),
                            field_path: "metadata.name".into(),
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "POD_NS",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: "v1".into(),
                            field_path: "metadata.namespace".into(),
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "POD_IP",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: "v1".into(),
                            field_path: "status.podIP".into(),
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "NODE",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: "v1".into(),
                            field_path: "spec.nodeName".into(),
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "MODE",
                    EnvVarSource {
                        config_map_key_ref: Some(ConfigMapKeySelector {
                            name: "cfg".into(),
                            key: "mode".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "PW",
                    EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: "creds".into(),
                            key: "password".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    },
                ),
                env_from(
                    "OPT",
                    EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: "creds".into(),
                            key: "nope".into(),
                            optional: Some(true),
                        }),
                        ..Default::default()
                    },
                ),
            ],
            ..Default::default()
        };
        let got: BTreeMap<String, String> = resolve_env(&pod(), &c, &sources())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(got["CFG_mode"], "fast");
        assert_eq!(got["CFG_level"], "3");
        assert_eq!(
            got["MSG"], "hi from $(POD_NAME) $(x) $(NOPE)",
            "only earlier vars expand"
        );
        assert_eq!(got["POD_NAME"], "web");
        assert_eq!(got["POD_NS"], "shop");
        assert_eq!(got["POD_IP"], "10.244.1.7");
        assert_eq!(got["NODE"], "n1");
        assert_eq!(got["MODE"], "fast");
        assert_eq!(got["PW"], "hunter2");
        assert!(!got.contains_key("OPT"));
    }

    #[test]
    fn missing_key_is_an_error_naming_it() {
        let c = Container {
            env: vec![env_from(
                "X",
                EnvVarSource {
                    config_map_key_ref: Some(ConfigMapKeySelector {
                        name: "cfg".into(),
                        key: "absent".into(),
                        optional: None,
                    }),
                    ..Default::default()
                },
            )],
            ..Default::default()
        };
        let e = resolve_env(&pod(), &c, &sources()).unwrap_err().to_string();
        assert!(
            e.contains("couldn't find key absent in ConfigMap shop/cfg"),
            "{e}"
        );
    }

    #[test]
    fn config_maps_limits_command_and_network() {
        let mut c = Container {
            name: "app".into(),
            image: "local/busybox:1".into(),
            command: vec!["sh".into(), "-c".into()],
            args: vec!["echo $(A)".into()],
            env: vec![env("A", "1")],
            resources: Some(ResourceRequirements {
                limits: [
                    ("cpu".to_string(), "500m".to_string()),
                    ("memory".to_string(), "64Mi".to_string()),
                ]
                .into(),
                requests: Default::default(),
            }),
            ..Default::default()
        };
        let mut sb_labels = BTreeMap::new();
        sb_labels.insert(labels::SANDBOX_ATTEMPT.to_string(), "2".to_string());
        let sandbox = crate::runtime::ContainerInfo {
            id: "sb1".into(),
            name: String::new(),
            image: String::new(),
            image_id: String::new(),
            labels: sb_labels,
            state: crate::runtime::ContainerState::Running,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            created_at: None,
            started_at: None,
            finished_at: None,
            pid: None,
            ip: None,
        };
        let cfg = container_config(
            "k8s",
            "n1",
            &pod(),
            &c,
            ContainerKind::App,
            3,
            &sandbox,
            &sources(),
        )
        .unwrap();
        assert_eq!(cfg.name, "k8s_app_web_shop_u-1_3");
        assert_eq!(
            cfg.entrypoint,
            Some(vec!["sh".to_string(), "-c".to_string()])
        );
        assert_eq!(cfg.cmd, Some(vec!["echo 1".to_string()]));
        assert_eq!(cfg.nano_cpus, Some(500_000_000));
        assert_eq!(cfg.memory, Some(64 * 1024 * 1024));
        assert_eq!(cfg.network, Some(NetworkMode::Container("sb1".into())));
        assert_eq!(cfg.labels[labels::RESTART_COUNT], "3");
        assert_eq!(cfg.labels[labels::SANDBOX_ATTEMPT], "2");
        assert_eq!(cfg.labels[labels::NODE], "n1");
        c.args.clear();
        let cfg = container_config(
            "k8s",
            "n1",
            &pod(),
            &c,
            ContainerKind::App,
            0,
            &sandbox,
            &sources(),
        )
        .unwrap();
        assert_eq!(
            cfg.cmd,
            Some(vec![]),
            "command without args drops the image cmd"
        );
    }
}
