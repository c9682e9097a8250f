//! `create service clusterip|nodeport|loadbalancer|externalname NAME`, as kubectl 1.33
//! builds them: label and selector `app=NAME`, one TCP port per `--tcp=port[:target]`,
//! named after the pair.

use super::doc::{labels, metadata, to_object};
use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use proto::k8s::Object;
use proto::kind_validation::is_iana_svc_name;
use proto::resource::info;
use proto::validation::is_dns1123_subdomain;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Subcommand, Debug, Clone)]
pub enum ServiceCommand {
    /// Create a ClusterIP service (`--clusterip=None`: headless)
    #[command(name = "clusterip")]
    ClusterIp(ClusterIpArgs),
    /// Create a NodePort service
    #[command(name = "nodeport")]
    NodePort(NodePortArgs),
    /// Create a LoadBalancer service
    #[command(name = "loadbalancer")]
    LoadBalancer(TcpArgs),
    /// Create an ExternalName service: a DNS name outside the cluster
    #[command(name = "externalname")]
    ExternalName(ExternalNameArgs),
}

#[derive(Args, Debug, Clone)]
pub struct TcpArgs {
    pub name: String,
    /// Port pairs `<port>:<targetPort>` (repeatable or comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub tcp: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ClusterIpArgs {
    #[command(flatten)]
    pub ports: TcpArgs,
    /// Assign your own ClusterIP or set to 'None' for a 'headless' service
    #[arg(long)]
    pub clusterip: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct NodePortArgs {
    #[command(flatten)]
    pub ports: TcpArgs,
    /// Port used to expose the service on each node in a cluster
    #[arg(long, default_value_t = 0)]
    pub node_port: i32,
}

#[derive(Args, Debug, Clone)]
pub struct ExternalNameArgs {
    #[command(flatten)]
    pub ports: TcpArgs,
    /// External name of service
    #[arg(long, required = true)]
    pub external_name: String,
}

/// What the four subcommands have in common.
#[derive(Debug, Default)]
pub struct ServiceInput<'a> {
    pub name: &'a str,
    pub type_: &'a str,
    pub tcp: &'a [String],
    pub cluster_ip: Option<&'a str>,
    pub node_port: i32,
    pub external_name: &'a str,
}

/// The service and its type (kubectl's failure message names it).
pub fn build(s: &ServiceCommand, namespace: Option<&str>) -> Result<(Object, &'static str)> {
    let input = match s {
        ServiceCommand::ClusterIp(a) => ServiceInput {
            name: &a.ports.name,
            type_: "ClusterIP",
            tcp: &a.ports.tcp,
            cluster_ip: a.clusterip.as_deref(),
            ..Default::default()
        },
        ServiceCommand::NodePort(a) => ServiceInput {
            name: &a.ports.name,
            type_: "NodePort",
            tcp: &a.ports.tcp,
            node_port: a.node_port,
            ..Default::default()
        },
        ServiceCommand::LoadBalancer(a) => ServiceInput {
            name: &a.name,
            type_: "LoadBalancer",
            tcp: &a.tcp,
            ..Default::default()
        },
        ServiceCommand::ExternalName(a) => ServiceInput {
            name: &a.ports.name,
            type_: "ExternalName",
            tcp: &a.ports.tcp,
            external_name: &a.external_name,
            ..Default::default()
        },
    };
    let kind = match s {
        ServiceCommand::ClusterIp(_) => "ClusterIP",
        ServiceCommand::NodePort(_) => "NodePort",
        ServiceCommand::LoadBalancer(_) => "LoadBalancer",
        ServiceCommand::ExternalName(_) => "ExternalName",
    };
    Ok((service(&input, namespace)?, kind))
}

pub fn service(s: &ServiceInput, namespace: Option<&str>) -> Result<Object> {
    let headless = s.cluster_ip == Some("None");
    if headless && s.type_ != "ClusterIP" {
        bail!("ClusterIP=None can only be used with ClusterIP service type");
    }
    if !headless && s.tcp.is_empty() && s.type_ != "ExternalName" {
        bail!("at least one tcp port specifier must be provided");
    }
    if s.type_ == "ExternalName" && !is_dns1123_subdomain(s.external_name).is_empty() {
        bail!("invalid service external name {}", s.external_name);
    }
    let mut ports = Vec::new();
    for tcp in s.tcp {
        let (port, target) = parse_ports(tcp)?;
        let mut p = json!({"name": tcp.replace(':', "-"), "port": port, "targetPort": target, "protocol": "TCP"});
        if s.node_port != 0 {
            p["nodePort"] = s.node_port.into();
        }
        ports.push(p);
    }
    let app = labels(&[("app", s.name)]);
    let mut spec = json!({"type": s.type_, "selector": app});
    if !ports.is_empty() {
        spec["ports"] = ports.into();
    }
    if !s.external_name.is_empty() {
        spec["externalName"] = s.external_name.into();
    }
    if let Some(ip) = s.cluster_ip.filter(|ip| !ip.is_empty()) {
        spec["clusterIP"] = ip.into();
    }
    to_object(
        &info::Service,
        json!({
            "metadata": metadata(s.name, namespace, &app, &BTreeMap::new()),
            "spec": spec,
            // Go prints the empty load balancer status.
            "status": {"loadBalancer": {}},
        }),
    )
}

/// `port[:target]`: the port a number (0-65535, as Go's ParseUint words its errors), the
/// target a port number or an IANA port name; without a target, the port.
pub fn parse_ports(spec: &str) -> Result<(i32, Value)> {
    let mut parts = spec.split(':');
    let first = parts.next().unwrap_or_default();
    let port: u16 = first.parse().map_err(|e: std::num::ParseIntError| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        anyhow!("strconv.ParseUint: parsing {first:?}: {why}")
    })?;
    let Some(target) = parts.next() else {
        return Ok((port.into(), port.into()));
    };
    let target = match target.parse::<i64>() {
        Ok(n) if (1..=65535).contains(&n) => Value::from(n),
        Ok(_) => bail!("must be between 1 and 65535, inclusive"),
        Err(_) => {
            let errs = is_iana_svc_name(target);
            if !errs.is_empty() {
                bail!("{}", errs.join(","));
            }
            Value::from(target)
        }
    };
    Ok((port.into(), target))
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn cluster_ip_is_kubectls() {
        // kubectl create svc clusterip web --tcp=80:8080 --tcp=443 --dry-run=client -o yaml
        let tcp = s(&["80:8080", "443"]);
        let svc = service(
            &ServiceInput {
                name: "web",
                type_: "ClusterIP",
                tcp: &tcp,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_same_as_kubectl(
            &svc,
            r#"apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  ports:
  - name: 80-8080
    port: 80
    protocol: TCP
    targetPort: 8080
  - name: "443"
    port: 443
    protocol: TCP
    targetPort: 443
  selector:
    app: web
  type: ClusterIP
status:
  loadBalancer: {}
"#,
        );
    }

    #[test]
    fn node_port_headless_and_external_name_are_kubectls() {
        // kubectl create svc nodeport web --tcp=80:8080 --node-port=30080 -n apps --dry-run=client -o yaml
        let tcp = s(&["80:8080"]);
        let np = ServiceInput {
            name: "web",
            type_: "NodePort",
            tcp: &tcp,
            node_port: 30080,
            ..Default::default()
        };
        assert_same_as_kubectl(
            &service(&np, Some("apps")).unwrap(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: null\n  labels:\n    app: web\n  name: web\n  namespace: apps\nspec:\n  ports:\n  - name: 80-8080\n    nodePort: 30080\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n  selector:\n    app: web\n  type: NodePort\nstatus:\n  loadBalancer: {}\n",
        );
        // kubectl create svc clusterip hl --clusterip=None --dry-run=client -o yaml
        let hl = ServiceInput {
            name: "hl",
            type_: "ClusterIP",
            cluster_ip: Some("None"),
            ..Default::default()
        };
        assert_same_as_kubectl(
            &service(&hl, None).unwrap(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: null\n  labels:\n    app: hl\n  name: hl\nspec:\n  clusterIP: None\n  selector:\n    app: hl\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n",
        );
        // kubectl create svc externalname ex --external-name=bar.com --dry-run=client -o yaml
        let ex = ServiceInput {
            name: "ex",
            type_: "ExternalName",
            external_name: "bar.com",
            ..Default::default()
        };
        assert_same_as_kubectl(
            &service(&ex, None).unwrap(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: null\n  labels:\n    app: ex\n  name: ex\nspec:\n  externalName: bar.com\n  selector:\n    app: ex\n  type: ExternalName\nstatus:\n  loadBalancer: {}\n",
        );
    }

    #[test]
    fn bad_input_is_refused_in_kubectls_words() {
        let msg = |i: &ServiceInput| service(i, None).unwrap_err().to_string();
        let none = ServiceInput {
            name: "web",
            type_: "NodePort",
            ..Default::default()
        };
        assert_eq!(
            msg(&none),
            "at least one tcp port specifier must be provided"
        );
        let ex = ServiceInput {
            name: "ex",
            type_: "ExternalName",
            external_name: "Not_A_Name",
            ..Default::default()
        };
        assert_eq!(msg(&ex), "invalid service external name Not_A_Name");
        assert_eq!(
            parse_ports("abc").unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            parse_ports("70000").unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "70000": value out of range"#
        );
        assert_eq!(
            parse_ports("80:0").unwrap_err().to_string(),
            "must be between 1 and 65535, inclusive"
        );
        assert_eq!(parse_ports("80:http").unwrap(), (80, json!("http")));
        assert!(parse_ports("80:Bad_Name").is_err());
    }
}
