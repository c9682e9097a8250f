//! `create namespace NAME` and `create serviceaccount NAME`: a name and nothing else.

use super::doc::{metadata, to_object};
use anyhow::Result;
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
}
