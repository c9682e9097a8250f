//! `create ingress NAME --rule=host/path=svc:port[,tls[=secret]]`, as kubectl 1.33 builds
//! it: rules grouped by host, a trailing `*` on a path making it a Prefix path (else Exact),
//! TLS entries grouped by secret.

use super::doc::{metadata, to_object};
use anyhow::{Result, bail};
use clap::Args;
use proto::k8s::Object;
use proto::resource::info;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Args, Debug, Clone)]
pub struct IngressArgs {
    pub name: String,
    /// `host/path=service:port[,tls[=secret]]` (repeatable); a path ending in `*` is a prefix
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// Ingress class to be used
    #[arg(long = "class")]
    pub class: Option<String>,
    /// Default service for the backend, `service:port`
    #[arg(long)]
    pub default_backend: Option<String>,
    /// An annotation to insert in the ingress object, `key=[value]` (repeatable)
    #[arg(long = "annotation")]
    pub annotations: Vec<String>,
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// kubectl's rule check: `^[\w*\-.]*/.*=[\w-]+:[\w-]+` (the TLS part is optional and the
/// pattern is not anchored at its end).
pub fn rule_is_valid(rule: &str) -> bool {
    let host_end = rule
        .find(|c: char| !(word(c) || c == '*' || c == '.'))
        .unwrap_or(rule.len());
    if !rule[host_end..].starts_with('/') {
        return false;
    }
    // `.*` may take any `=`: some `=` after the slash must be followed by `name:port`.
    rule[host_end..].match_indices('=').any(|(i, _)| {
        let rest = &rule[host_end + i + 1..];
        let name_len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        name_len > 0
            && rest[name_len..].starts_with(':')
            && rest[name_len + 1..].chars().next().is_some_and(word)
    })
}

fn backend(service: &str) -> Value {
    let (name, port) = service.split_once(':').unwrap_or((service, ""));
    let port = match port.parse::<i32>() {
        Ok(n) => json!({"number": n}),
        Err(_) => json!({"name": port}),
    };
    json!({"service": {"name": name, "port": port}})
}

fn path(path_and_service: &str) -> Value {
    let mut parts = path_and_service.split('=');
    let mut path = format!("/{}", parts.next().unwrap_or_default());
    let service = parts.next().unwrap_or_default();
    let mut path_type = "Exact";
    if path.ends_with('*') {
        path_type = "Prefix";
        path.pop();
    }
    json!({"path": path, "pathType": path_type, "backend": backend(service)})
}

pub fn ingress(a: &IngressArgs, namespace: Option<&str>) -> Result<Object> {
    if a.default_backend.as_deref().unwrap_or("").is_empty() && a.rules.is_empty() {
        bail!(
            "not enough information provided: every ingress has to either specify a default-backend (which catches all traffic) or a list of rules (which catch specific paths)"
        );
    }
    if let Some(rule) = a.rules.iter().find(|r| !rule_is_valid(r)) {
        bail!(
            "rule {rule} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]"
        );
    }
    let mut annotations = BTreeMap::new();
    for an in &a.annotations {
        let Some((k, v)) = an.split_once('=') else {
            bail!("annotation {an} is invalid and should be in format key=[value]");
        };
        annotations.insert(k.to_string(), v.to_string());
    }
    let default_backend = a.default_backend.as_deref().filter(|d| !d.is_empty());
    if let Some(d) = default_backend
        && d.split(':').count() != 2
    {
        bail!("default-backend should be in format servicename:serviceport");
    }

    // Rules: one per host, in order of first appearance, with each of its paths.
    let mut rules: Vec<(String, Vec<Value>)> = Vec::new();
    for rule in &a.rules {
        let without_tls = rule.split(',').next().unwrap_or_default();
        let (host, rest) = without_tls.split_once('/').unwrap_or((without_tls, ""));
        let p = path(rest);
        match rules.iter_mut().find(|(h, _)| h == host) {
            Some((_, paths)) => paths.push(p),
            None => rules.push((host.to_string(), vec![p])),
        }
    }
    // TLS: each host once, grouped by secret.
    let mut tls: Vec<(Vec<String>, String)> = Vec::new();
    let mut seen_hosts: Vec<&str> = Vec::new();
    for rule in &a.rules {
        let pieces: Vec<&str> = rule.split(',').collect();
        if pieces.len() != 2 {
            continue;
        }
        let host = rule.split_once('/').map(|(h, _)| h).unwrap_or(rule);
        let secret = pieces[1].split('=').nth(1).unwrap_or("").to_string();
        if seen_hosts.contains(&host) {
            continue;
        }
        seen_hosts.push(host);
        if let Some((hosts, _)) = tls.iter_mut().find(|(_, s)| *s == secret) {
            hosts.push(host.to_string());
            continue;
        }
        let hosts: Vec<String> = (!host.is_empty())
            .then(|| host.to_string())
            .into_iter()
            .collect();
        if !secret.is_empty() || !hosts.is_empty() {
            tls.push((hosts, secret));
        }
    }

    let mut spec = json!({});
    if let Some(class) = a.class.as_deref().filter(|c| !c.is_empty()) {
        spec["ingressClassName"] = class.into();
    }
    if let Some(d) = default_backend {
        spec["defaultBackend"] = backend(d);
    }
    if !tls.is_empty() {
        spec["tls"] = tls
            .into_iter()
            .map(|(hosts, secret)| {
                let mut t = json!({});
                if !hosts.is_empty() {
                    t["hosts"] = json!(hosts);
                }
                if !secret.is_empty() {
                    t["secretName"] = secret.into();
                }
                t
            })
            .collect();
    }
    if !rules.is_empty() {
        spec["rules"] = rules
            .into_iter()
            .map(|(host, paths)| {
                let mut r = json!({"http": {"paths": paths}});
                if !host.is_empty() {
                    r["host"] = host.into();
                }
                r
            })
            .collect();
    }
    let none = BTreeMap::new();
    to_object(
        &info::Ingress,
        json!({
            "metadata": metadata(&a.name, namespace, &none, &annotations),
            "spec": spec,
            "status": {"loadBalancer": {}},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    #[test]
    fn ingress_is_kubectls() {
        // kubectl create ingress simple --rule="foo.com/bar=svc1:8080,tls=my-cert"
        //   --rule="foo.com/admin*=svc2:http" --rule="/x=svc3:80" --class=nginx
        //   --default-backend=def:80 --annotation=a=b --dry-run=client -o yaml
        let a = IngressArgs {
            name: "simple".into(),
            rules: vec![
                "foo.com/bar=svc1:8080,tls=my-cert".into(),
                "foo.com/admin*=svc2:http".into(),
                "/x=svc3:80".into(),
            ],
            class: Some("nginx".into()),
            default_backend: Some("def:80".into()),
            annotations: vec!["a=b".into()],
        };
        assert_same_as_kubectl(
            &ingress(&a, None).unwrap(),
            "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations:
    a: b
  creationTimestamp: null
  name: simple
spec:
  defaultBackend:
    service:
      name: def
      port:
        number: 80
  ingressClassName: nginx
  rules:
  - host: foo.com
    http:
      paths:
      - backend:
          service:
            name: svc1
            port:
              number: 8080
        path: /bar
        pathType: Exact
      - backend:
          service:
            name: svc2
            port:
              name: http
        path: /admin
        pathType: Prefix
  - http:
      paths:
      - backend:
          service:
            name: svc3
            port:
              number: 80
        path: /x
        pathType: Exact
  tls:
  - hosts:
    - foo.com
    secretName: my-cert
status:
  loadBalancer: {}
",
        );
    }

    #[test]
    fn rules_are_checked_as_kubectl_checks_them() {
        assert!(rule_is_valid("foo.com/bar=svc:80"));
        assert!(rule_is_valid("*.foo.com/a=b=svc:http,tls"));
        assert!(rule_is_valid("/=svc:port"));
        assert!(!rule_is_valid("foo"));
        assert!(!rule_is_valid("foo.com/bar=svc"));
        assert!(!rule_is_valid("foo:com/bar=svc:80"));
        let a = IngressArgs {
            name: "i".into(),
            rules: vec![],
            class: None,
            default_backend: None,
            annotations: vec![],
        };
        assert!(
            ingress(&a, None)
                .unwrap_err()
                .to_string()
                .starts_with("not enough information provided")
        );
        let bad = IngressArgs {
            rules: vec!["foo".into()],
            ..a
        };
        assert_eq!(
            ingress(&bad, None).unwrap_err().to_string(),
            "rule foo is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]"
        );
    }
}
