//! `create namespace NAME` and `create serviceaccount NAME`: a name and nothing else.

use super::doc::{metadata, to_object};
use anyhow::{Result, bail};
use clap::Args;
use proto::k8s::Object;
use proto::resource::info;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Args, Debug, Clone)]
pub struct NameArgs {
    pub name: String,
}

pub fn namespace(name: &str) -> Result<Object> {
    let none = BTreeMap::new();
    // Go prints the empty spec and status structs; kept so the output is kubectl's.
    to_object(
        &info::Namespace,
        json!({"metadata": metadata(name, None, &none, &none), "spec": {}, "status": {}}),
    )
}

pub fn service_account(name: &str, namespace: Option<&str>) -> Result<Object> {
    let none = BTreeMap::new();
    to_object(
        &info::ServiceAccount,
        json!({"metadata": metadata(name, namespace, &none, &none)}),
    )
}

#[derive(Args, Debug, Clone)]
pub struct QuotaArgs {
    pub name: String,
    /// A comma-delimited set of resource=quantity pairs that define a hard limit
    #[arg(long)]
    pub hard: Option<String>,
    /// A comma-delimited set of quota scopes that must all match each object tracked
    #[arg(long)]
    pub scopes: Option<String>,
}

/// `create quota NAME --hard=cpu=1,pods=2 --scopes=BestEffort`; quantities as the API
/// writes them (`1000m` -> `1`).
pub fn quota(a: &QuotaArgs, namespace: Option<&str>) -> Result<Object> {
    let mut hard = BTreeMap::new();
    for statement in a
        .hard
        .as_deref()
        .filter(|h| !h.is_empty())
        .into_iter()
        .flat_map(|h| h.split(','))
    {
        let parts: Vec<&str> = statement.split('=').collect();
        let [resource, quantity] = parts[..] else {
            bail!("Invalid argument syntax {statement}, expected <resource>=<value>");
        };
        let q: proto::quantity::Quantity = quantity.parse()?;
        hard.insert(resource.to_string(), q.to_string());
    }
    let mut scopes = Vec::new();
    for scope in a
        .scopes
        .as_deref()
        .filter(|s| !s.is_empty())
        .into_iter()
        .flat_map(|s| s.split(','))
    {
        if scope.is_empty() {
            bail!("invalid resource quota scope \"\"");
        }
        scopes.push(scope.to_string());
    }
    let none = BTreeMap::new();
    let mut spec = json!({});
    if !hard.is_empty() {
        spec["hard"] = json!(hard);
    }
    if !scopes.is_empty() {
        spec["scopes"] = json!(scopes);
    }
    to_object(
        &info::ResourceQuota,
        json!({"metadata": metadata(&a.name, namespace, &none, &none), "spec": spec, "status": {}}),
    )
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    #[test]
    fn namespace_is_kubectls() {
        // kubectl create ns foo --dry-run=client -o yaml
        assert_same_as_kubectl(
            &namespace("foo").unwrap(),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  creationTimestamp: null\n  name: foo\nspec: {}\nstatus: {}\n",
        );
    }

    #[test]
    fn service_account_takes_an_explicit_namespace() {
        // kubectl create sa bot -n apps --dry-run=client -o yaml
        assert_same_as_kubectl(
            &service_account("bot", Some("apps")).unwrap(),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  creationTimestamp: null\n  name: bot\n  namespace: apps\n",
        );
    }

    #[test]
    fn quota_is_kubectls() {
        // kubectl create quota q --hard=cpu=1,pods=2 --scopes=BestEffort --dry-run=client -o yaml
        let a = QuotaArgs {
            name: "q".into(),
            hard: Some("cpu=1000m,pods=2".into()),
            scopes: Some("BestEffort".into()),
        };
        assert_same_as_kubectl(
            &quota(&a, None).unwrap(),
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  creationTimestamp: null\n  name: q\nspec:\n  hard:\n    cpu: \"1\"\n    pods: \"2\"\n  scopes:\n  - BestEffort\nstatus: {}\n",
        );
        let bad = QuotaArgs {
            hard: Some("cpu".into()),
            ..a
        };
        assert_eq!(
            quota(&bad, None).unwrap_err().to_string(),
            "Invalid argument syntax cpu, expected <resource>=<value>"
        );
    }
}
