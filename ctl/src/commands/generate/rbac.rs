//! `create role|clusterrole|rolebinding|clusterrolebinding`, as kubectl 1.33 builds them:
//! one rule per API group (resources resolved through the kind registry, as kubectl's REST
//! mapper resolves short names), subjects in the order users, groups, service accounts.

use super::doc::{metadata, to_object};
use anyhow::{Result, bail};
use clap::Args;
use proto::k8s::Object;
use proto::resource::{ALL_KINDS, info};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

const RESOURCE_VERBS: &[&str] = &[
    "*",
    "get",
    "delete",
    "list",
    "create",
    "update",
    "patch",
    "watch",
    "proxy",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
];

const NON_RESOURCE_VERBS: &[&str] = &[
    "*", "get", "post", "put", "delete", "patch", "head", "options",
];

/// Verbs that only mean something on some resources (group, resource).
const SPECIAL_VERBS: &[(&str, &[(&str, &str)])] = &[
    (
        "use",
        &[
            ("policy", "podsecuritypolicies"),
            ("extensions", "podsecuritypolicies"),
        ],
    ),
    (
        "bind",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "escalate",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "impersonate",
        &[
            ("", "users"),
            ("", "serviceaccounts"),
            ("", "groups"),
            ("authentication.k8s.io", "userextras"),
            ("authentication.k8s.io", "uids"),
        ],
    ),
];

#[derive(Args, Debug, Clone)]
pub struct RoleArgs {
    pub name: String,
    /// Verb that applies to the resources contained in the rule (repeatable, comma-separated)
    #[arg(long = "verb", value_delimiter = ',')]
    pub verbs: Vec<String>,
    /// Resource that the rule applies to: `pods`, `rs.apps`, `pods/log` (repeatable)
    #[arg(long = "resource", value_delimiter = ',')]
    pub resources: Vec<String>,
    /// A name the rule is limited to (repeatable)
    #[arg(long = "resource-name")]
    pub resource_names: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ClusterRoleArgs {
    #[command(flatten)]
    pub role: RoleArgs,
    /// A partial URL the role grants access to: `/logs/*` (repeatable)
    #[arg(long = "non-resource-url", value_delimiter = ',')]
    pub non_resource_urls: Vec<String>,
    /// An aggregation label selector for combining ClusterRoles: `k=v,...`
    #[arg(long = "aggregation-rule", value_delimiter = ',')]
    pub aggregation_rule: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct BindingSubjects {
    /// Usernames to bind to the role (repeatable)
    #[arg(long = "user")]
    pub users: Vec<String>,
    /// Groups to bind to the role (repeatable)
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Service accounts to bind to the role, `<namespace>:<name>` (repeatable)
    #[arg(long = "serviceaccount")]
    pub service_accounts: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RoleBindingArgs {
    pub name: String,
    /// ClusterRole this RoleBinding should reference
    #[arg(long)]
    pub clusterrole: Option<String>,
    /// Role this RoleBinding should reference
    #[arg(long)]
    pub role: Option<String>,
    #[command(flatten)]
    pub subjects: BindingSubjects,
}

#[derive(Args, Debug, Clone)]
pub struct ClusterRoleBindingArgs {
    pub name: String,
    /// ClusterRole this ClusterRoleBinding should reference
    #[arg(long, required = true)]
    pub clusterrole: String,
    #[command(flatten)]
    pub subjects: BindingSubjects,
}

/// One `--resource`: `resource[.group][/subresource]`.
#[derive(Debug, PartialEq, Eq)]
struct ResourceRef {
    resource: String,
    group: String,
    subresource: String,
}

fn parse_resources(specs: &[String]) -> Vec<ResourceRef> {
    let mut out = Vec::new();
    for spec in specs {
        let (main, sub) = spec.split_once('/').unwrap_or((spec, ""));
        let (resource, group) = main.split_once('.').unwrap_or((main, ""));
        let r = ResourceRef {
            resource: resource.to_string(),
            group: group.to_string(),
            subresource: sub.to_string(),
        };
        // A bare `*` stands for everything: nothing else matters.
        if r.resource == "*" && group.is_empty() && sub.is_empty() {
            return vec![r];
        }
        out.push(r);
    }
    out
}

/// The (group, plural) a name resolves to, as kubectl's REST mapper resolves it: plural,
/// singular or short name, within the group when one is given.
fn resolve(r: &ResourceRef) -> Option<(String, String)> {
    ALL_KINDS
        .iter()
        .find(|k| {
            (r.group.is_empty() || k.group == r.group)
                && (k.plural == r.resource
                    || k.singular == r.resource
                    || k.short_names.contains(&r.resource.as_str()))
        })
        .map(|k| (k.group.to_string(), k.plural.to_string()))
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

/// Verbs without repeats; `*` alone if present.
fn verbs(v: &[String]) -> Vec<String> {
    if v.iter().any(|v| v == "*") {
        return vec!["*".into()];
    }
    dedup(v)
}

/// Checks the resources against the verbs; returns the warnings kubectl prints.
fn check_resources(verbs: &[String], resources: &[ResourceRef]) -> Result<Vec<String>> {
    let warnings = verbs
        .iter()
        .filter(|v| !RESOURCE_VERBS.contains(&v.as_str()))
        .map(|v| format!("Warning: '{v}' is not a standard resource verb"))
        .collect();
    for r in resources {
        if r.resource.is_empty() {
            bail!("resource must be specified if apiGroup/subresource specified");
        }
        if r.resource == "*" {
            break;
        }
        let resolved = resolve(r);
        let (group, resource) = resolved
            .clone()
            .unwrap_or_else(|| (r.group.clone(), r.resource.clone()));
        let mut special = false;
        for v in verbs {
            if let Some((_, allowed)) = SPECIAL_VERBS.iter().find(|(s, _)| s == v) {
                if !allowed
                    .iter()
                    .any(|(g, res)| *g == group && *res == resource)
                {
                    bail!("can not perform '{v}' on '{resource}' in group '{group}'");
                }
                special = true;
            }
        }
        if resolved.is_none() && !special {
            bail!("the server doesn't have a resource type \"{}\"", r.resource);
        }
    }
    Ok(warnings)
}

/// kubectl's rules: one per API group (groups sorted), each with every resource of it.
fn rules(
    verbs: &[String],
    resources: &[ResourceRef],
    names: &[String],
    non_resource_urls: &[String],
) -> Vec<Value> {
    let mut by_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in resources {
        let (group, mut resource) =
            resolve(r).unwrap_or_else(|| (r.group.clone(), r.resource.clone()));
        if !r.subresource.is_empty() {
            resource = format!("{resource}/{}", r.subresource);
        }
        let list = by_group.entry(group).or_default();
        if !list.contains(&resource) {
            list.push(resource);
        }
    }
    let mut out: Vec<Value> = by_group
        .into_iter()
        .map(|(group, resources)| {
            let mut rule = json!({"verbs": verbs, "resources": resources, "apiGroups": [group]});
            if !names.is_empty() {
                rule["resourceNames"] = json!(names);
            }
            rule
        })
        .collect();
    if !non_resource_urls.is_empty() {
        out.push(json!({"verbs": verbs, "nonResourceURLs": non_resource_urls}));
    }
    out
}

/// The role and the warnings to print (unusual verbs).
pub fn role(a: &RoleArgs, namespace: Option<&str>) -> Result<(Object, Vec<String>)> {
    let verbs = verbs(&a.verbs);
    if verbs.is_empty() {
        bail!("at least one verb must be specified");
    }
    let resources = parse_resources(&a.resources);
    if resources.is_empty() {
        bail!("at least one resource must be specified");
    }
    let warnings = check_resources(&verbs, &resources)?;
    let none = BTreeMap::new();
    let rules = rules(&verbs, &resources, &dedup(&a.resource_names), &[]);
    let role = to_object(
        &info::Role,
        json!({"metadata": metadata(&a.name, namespace, &none, &none), "rules": rules}),
    )?;
    Ok((role, warnings))
}

pub fn cluster_role(a: &ClusterRoleArgs) -> Result<(Object, Vec<String>)> {
    let verbs = verbs(&a.role.verbs);
    let resources = parse_resources(&a.role.resources);
    let none = BTreeMap::new();
    let meta = metadata(&a.role.name, None, &none, &none);
    if !a.aggregation_rule.is_empty() {
        if !a.non_resource_urls.is_empty()
            || !verbs.is_empty()
            || !resources.is_empty()
            || !a.role.resource_names.is_empty()
        {
            bail!(
                "aggregation rule must be specified without nonResourceURLs, verbs, resources or resourceNames"
            );
        }
        let mut labels = BTreeMap::new();
        for pair in &a.aggregation_rule {
            let Some((k, v)) = pair.split_once('=') else {
                bail!(
                    "invalid argument \"{pair}\" for \"--aggregation-rule\" flag: {pair} must be formatted as key=value"
                );
            };
            labels.insert(k.to_string(), v.to_string());
        }
        let doc = json!({"metadata": meta, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": labels}]}});
        return Ok((to_object(&info::ClusterRole, doc)?, vec![]));
    }
    if verbs.is_empty() {
        bail!("at least one verb must be specified");
    }
    if resources.is_empty() && a.non_resource_urls.is_empty() {
        bail!("one of resource or nonResourceURL must be specified");
    }
    let mut warnings = Vec::new();
    if !resources.is_empty() {
        warnings = check_resources(&verbs, &resources)?;
    }
    if !a.non_resource_urls.is_empty() {
        if let Some(v) = verbs
            .iter()
            .find(|v| !NON_RESOURCE_VERBS.contains(&v.as_str()))
        {
            bail!("invalid verb: '{v}' for nonResourceURL");
        }
        for url in a.non_resource_urls.iter().filter(|u| *u != "*") {
            if !url.starts_with('/') {
                bail!("nonResourceURL should start with /");
            }
            if url[..url.len() - 1].contains('*') {
                bail!("nonResourceURL only supports wildcard matches when '*' is at the end");
            }
        }
    }
    let rules = rules(
        &verbs,
        &resources,
        &dedup(&a.role.resource_names),
        &a.non_resource_urls,
    );
    let role = to_object(
        &info::ClusterRole,
        json!({"metadata": meta, "rules": rules}),
    )?;
    Ok((role, warnings))
}

fn subjects(s: &BindingSubjects) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for u in &s.users {
        out.push(json!({"kind": "User", "apiGroup": RBAC_GROUP, "name": u}));
    }
    for g in &s.groups {
        out.push(json!({"kind": "Group", "apiGroup": RBAC_GROUP, "name": g}));
    }
    for sa in &s.service_accounts {
        match sa.split(':').collect::<Vec<_>>()[..] {
            [ns, name] if !ns.is_empty() && !name.is_empty() => {
                out.push(json!({"kind": "ServiceAccount", "namespace": ns, "name": name}));
            }
            _ => bail!("serviceaccount must be <namespace>:<name>"),
        }
    }
    Ok(out)
}

pub fn role_binding(a: &RoleBindingArgs, namespace: Option<&str>) -> Result<Object> {
    let role_ref = match (a.role.as_deref(), a.clusterrole.as_deref()) {
        (Some(r), None) if !r.is_empty() => {
            json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": r})
        }
        (None, Some(c)) if !c.is_empty() => {
            json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": c})
        }
        _ => bail!("exactly one of clusterrole or role must be specified"),
    };
    binding(
        &info::RoleBinding,
        &a.name,
        namespace,
        role_ref,
        &a.subjects,
    )
}

pub fn cluster_role_binding(a: &ClusterRoleBindingArgs) -> Result<Object> {
    let role_ref = json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": a.clusterrole});
    binding(
        &info::ClusterRoleBinding,
        &a.name,
        None,
        role_ref,
        &a.subjects,
    )
}

fn binding(
    kind: &'static proto::KindInfo,
    name: &str,
    namespace: Option<&str>,
    role_ref: Value,
    s: &BindingSubjects,
) -> Result<Object> {
    let none = BTreeMap::new();
    let mut doc = json!({"metadata": metadata(name, namespace, &none, &none), "roleRef": role_ref});
    let subjects = subjects(s)?;
    if !subjects.is_empty() {
        doc["subjects"] = subjects.into();
    }
    to_object(kind, doc)
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn role_args(verbs: &[&str], resources: &[&str], names: &[&str]) -> RoleArgs {
        RoleArgs {
            name: "r".into(),
            verbs: s(verbs),
            resources: s(resources),
            resource_names: s(names),
        }
    }

    #[test]
    fn role_is_kubectls() {
        // kubectl create role r --verb=get,list --verb=get --resource=pods,rs,deploy.apps,pods/log
        //   --resource-name=a --dry-run=client -o yaml
        let a = role_args(
            &["get", "list", "get"],
            &["pods", "rs", "deploy.apps", "pods/log"],
            &["a"],
        );
        let (role, warnings) = role(&a, None).unwrap();
        assert!(warnings.is_empty());
        assert_same_as_kubectl(
            &role,
            r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  creationTimestamp: null
  name: r
rules:
- apiGroups:
  - ""
  resourceNames:
  - a
  resources:
  - pods
  - pods/log
  verbs:
  - get
  - list
- apiGroups:
  - apps
  resourceNames:
  - a
  resources:
  - replicasets
  - deployments
  verbs:
  - get
  - list
"#,
        );
    }

    #[test]
    fn role_refusals_and_warnings_are_kubectls() {
        let msg = |a: &RoleArgs| role(a, None).unwrap_err().to_string();
        assert_eq!(
            msg(&role_args(&["get"], &["foo"], &[])),
            "the server doesn't have a resource type \"foo\""
        );
        assert_eq!(
            msg(&role_args(&["bind"], &["pods"], &[])),
            "can not perform 'bind' on 'pods' in group ''"
        );
        assert_eq!(
            msg(&role_args(&[], &["pods"], &[])),
            "at least one verb must be specified"
        );
        let (_, w) = role(&role_args(&["frob"], &["pods"], &[]), None).unwrap();
        assert_eq!(w, ["Warning: 'frob' is not a standard resource verb"]);
    }

    #[test]
    fn cluster_roles_with_urls_or_aggregation() {
        // kubectl create clusterrole cr --verb=get --non-resource-url=/logs/* --dry-run=client -o yaml
        let a = ClusterRoleArgs {
            role: RoleArgs {
                name: "cr".into(),
                verbs: s(&["get"]),
                resources: vec![],
                resource_names: vec![],
            },
            non_resource_urls: s(&["/logs/*"]),
            aggregation_rule: vec![],
        };
        assert_same_as_kubectl(
            &cluster_role(&a).unwrap().0,
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  creationTimestamp: null\n  name: cr\nrules:\n- nonResourceURLs:\n  - /logs/*\n  verbs:\n  - get\n",
        );
        let mut agg = a.clone();
        agg.aggregation_rule = s(&["a=b"]);
        assert_eq!(
            cluster_role(&agg).unwrap_err().to_string(),
            "aggregation rule must be specified without nonResourceURLs, verbs, resources or resourceNames"
        );
        agg.role.verbs.clear();
        agg.non_resource_urls.clear();
        let cr = super::super::doc::testing::AsDoc::doc(&cluster_role(&agg).unwrap().0);
        assert_eq!(
            cr["aggregationRule"],
            json!({"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]})
        );
    }

    #[test]
    fn bindings_are_kubectls() {
        // kubectl create rolebinding rb --role=r --user=u1 --group=g1 --serviceaccount=default:sa1
        //   --dry-run=client -o yaml
        let a = RoleBindingArgs {
            name: "rb".into(),
            clusterrole: None,
            role: Some("r".into()),
            subjects: BindingSubjects {
                users: s(&["u1"]),
                groups: s(&["g1"]),
                service_accounts: s(&["default:sa1"]),
            },
        };
        assert_same_as_kubectl(
            &role_binding(&a, None).unwrap(),
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  creationTimestamp: null\n  name: rb\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: r\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: u1\n- apiGroup: rbac.authorization.k8s.io\n  kind: Group\n  name: g1\n- kind: ServiceAccount\n  name: sa1\n  namespace: default\n",
        );
        let both = RoleBindingArgs {
            clusterrole: Some("c".into()),
            ..a.clone()
        };
        assert_eq!(
            role_binding(&both, None).unwrap_err().to_string(),
            "exactly one of clusterrole or role must be specified"
        );
        let bad_sa = RoleBindingArgs {
            subjects: BindingSubjects {
                users: vec![],
                groups: vec![],
                service_accounts: s(&["sa1"]),
            },
            ..a
        };
        assert_eq!(
            role_binding(&bad_sa, None).unwrap_err().to_string(),
            "serviceaccount must be <namespace>:<name>"
        );
    }
}
