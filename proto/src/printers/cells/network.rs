//! Services, Ingresses and Endpoints.

use super::super::jv::{arr_at, i64_at, map_text, obj_at, or_none, scalar_text, str_at};
use super::{Cell, load_balancer_text};
use serde_json::Value;

/// At most this many hosts or endpoints, then `+ N more...`.
const MAX_LISTED: usize = 3;

pub(super) fn service(o: &Value, created: Cell) -> Vec<Cell> {
    // Kubernetes defaults the type; a stored object without one is a ClusterIP service.
    let ty = match str_at(o, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = arr_at(o, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| str_at(o, "/spec/clusterIP"));
    let external: Vec<String> = arr_at(o, "/spec/externalIPs")
        .iter()
        .map(scalar_text)
        .collect();
    let external_text = match ty {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".to_string(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let lb = load_balancer_text(o);
            let all: Vec<String> = lb
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .chain(external)
                .collect();
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(o, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports: Vec<String> = arr_at(o, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = match str_at(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            let port = i64_at(p, "/port").unwrap_or(0);
            match i64_at(p, "/nodePort") {
                Some(np) if np > 0 => format!("{port}:{np}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    vec![
        ty.into(),
        or_none(cluster_ip).into(),
        external_text.into(),
        if ports.is_empty() {
            "<none>".into()
        } else {
            ports.join(",").into()
        },
        created,
        map_text(obj_at(o, "/spec/selector")).into(),
    ]
}

pub(super) fn ingress(o: &Value, created: Cell) -> Vec<Cell> {
    let rules = arr_at(o, "/spec/rules");
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        // Any rule after the listed hosts, with a host or not, makes "more".
        if hosts.len() == MAX_LISTED {
            more = true;
            break;
        }
        let host = str_at(rule, "/host");
        if !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts_text = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX_LISTED)
    } else {
        hosts.join(",")
    };
    let ports = if arr_at(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        or_none(str_at(o, "/spec/ingressClassName")).into(),
        hosts_text.into(),
        load_balancer_text(o).into(),
        ports.into(),
        created,
    ]
}

/// `10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...` as Kubernetes shows endpoints:
/// `<none>` without subsets, empty when the subsets hold no address.
pub(super) fn endpoints_text(o: &Value) -> String {
    let subsets = arr_at(o, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut all: Vec<String> = Vec::new();
    let host_port = |ip: &str, port: i64| {
        if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        }
    };
    for subset in subsets {
        let addresses = arr_at(subset, "/addresses");
        let ports = arr_at(subset, "/ports");
        if ports.is_empty() {
            // A headless service without ports lists bare addresses.
            all.extend(addresses.iter().map(|a| str_at(a, "/ip").to_string()));
        }
        for p in ports {
            let port = i64_at(p, "/port").unwrap_or(0);
            all.extend(addresses.iter().map(|a| host_port(str_at(a, "/ip"), port)));
        }
    }
    if all.len() > MAX_LISTED {
        format!(
            "{} + {} more...",
            all[..MAX_LISTED].join(","),
            all.len() - MAX_LISTED
        )
    } else {
        all.join(",")
    }
}
