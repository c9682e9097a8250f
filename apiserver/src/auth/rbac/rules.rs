//! Kubernetes' RBAC rule matching (`rbac/v1` helpers `VerbMatches`, `APIGroupMatches`,
//! `ResourceMatches`, `ResourceNameMatches`, `NonResourceURLMatches`) and which subjects a
//! binding names. Pure functions over the API types.

use proto::k8s::{PolicyRule, Subject};

use crate::auth::{Attributes, User};

pub const ALL: &str = "*";
pub const GROUP: &str = "rbac.authorization.k8s.io";

fn has(values: &[String], v: &str) -> bool {
    values.iter().any(|x| x == v)
}

pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    has(&rule.verbs, ALL) || has(&rule.verbs, verb)
}

pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    has(&rule.api_groups, ALL) || has(&rule.api_groups, group)
}

/// `combined` is `resource` or `resource/subresource`; a rule's `*/sub` matches that
/// subresource of every resource, and `pods` alone never matches `pods/log`.
pub fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == ALL
            || r == combined
            || (!subresource.is_empty()
                && r.strip_prefix("*/").is_some_and(|sub| sub == subresource))
    })
}

pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || has(&rule.resource_names, name)
}

/// A rule's URL ending in `*` matches every path with that prefix.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| url_covers(u, path))
}

pub(crate) fn url_covers(owner: &str, path: &str) -> bool {
    owner == ALL
        || owner == path
        || owner
            .strip_suffix('*')
            .is_some_and(|prefix| path.starts_with(prefix))
}

/// Whether one rule allows the request.
pub fn rule_allows(rule: &PolicyRule, attrs: &Attributes) -> bool {
    if !attrs.is_resource_request() {
        return verb_matches(rule, &attrs.verb) && non_resource_url_matches(rule, &attrs.path);
    }
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    verb_matches(rule, &attrs.verb)
        && api_group_matches(rule, &attrs.api_group)
        && resource_matches(rule, &combined, &attrs.subresource)
        && resource_name_matches(rule, &attrs.name)
}

pub fn rules_allow(rules: &[PolicyRule], attrs: &Attributes) -> bool {
    rules.iter().any(|r| rule_allows(r, attrs))
}

/// Whether a binding's subject is this user. `binding_namespace` is the namespace a
/// RoleBinding's ServiceAccount subject defaults to ("" for ClusterRoleBindings).
pub fn subject_applies(subject: &Subject, user: &User, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let ns = if subject.namespace.is_empty() {
                binding_namespace
            } else {
                &subject.namespace
            };
            !ns.is_empty() && user.service_account() == Some((ns, subject.name.as_str()))
        }
        _ => false,
    }
}

/// A rule from its parts, as the bootstrap policy and tests write them.
pub fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
    PolicyRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        ..PolicyRule::default()
    }
}

pub fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
    PolicyRule {
        verbs: v(verbs),
        non_resource_urls: v(urls),
        ..PolicyRule::default()
    }
}

pub fn with_names(mut rule: PolicyRule, names: &[&str]) -> PolicyRule {
    rule.resource_names = names.iter().map(|x| x.to_string()).collect();
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes::resource(verb, group, resource, "ns", name).with_subresource(sub)
    }

    #[test]
    fn verbs_groups_and_resources_match_exactly_or_by_star() {
        let r = rule(&["get", "list"], &[""], &["pods"]);
        assert!(rule_allows(&r, &attrs("get", "", "pods", "", "p")));
        assert!(!rule_allows(&r, &attrs("delete", "", "pods", "", "p")));
        assert!(!rule_allows(&r, &attrs("get", "apps", "pods", "", "p")));
        assert!(!rule_allows(&r, &attrs("get", "", "secrets", "", "p")));
        let all = rule(&["*"], &["*"], &["*"]);
        assert!(rule_allows(
            &all,
            &attrs("escalate", "rbac.authorization.k8s.io", "roles", "", "")
        ));
        assert!(rule_allows(&all, &attrs("create", "", "pods", "exec", "p")));
    }

    #[test]
    fn subresources_need_their_own_entry_or_a_star_subresource() {
        let pods = rule(&["get"], &[""], &["pods"]);
        assert!(!rule_allows(&pods, &attrs("get", "", "pods", "log", "p")));
        let log = rule(&["get"], &[""], &["pods/log"]);
        assert!(rule_allows(&log, &attrs("get", "", "pods", "log", "p")));
        assert!(!rule_allows(&log, &attrs("get", "", "pods", "", "p")));
        let scale = rule(&["get", "update"], &["apps"], &["*/scale"]);
        assert!(rule_allows(
            &scale,
            &attrs("update", "apps", "deployments", "scale", "d")
        ));
        assert!(!rule_allows(
            &scale,
            &attrs("update", "apps", "deployments", "", "d")
        ));
        assert!(!rule_allows(
            &scale,
            &attrs("update", "apps", "deployments", "status", "d")
        ));
    }

    #[test]
    fn resource_names_restrict_to_those_objects() {
        let r = with_names(rule(&["get"], &[""], &["configmaps"]), &["a"]);
        assert!(rule_allows(&r, &attrs("get", "", "configmaps", "", "a")));
        assert!(!rule_allows(&r, &attrs("get", "", "configmaps", "", "b")));
        // A list names no object: a rule restricted to names does not allow it.
        assert!(!rule_allows(&r, &attrs("get", "", "configmaps", "", "")));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_prefix_star() {
        let r = url_rule(&["get"], &["/healthz", "/api/*"]);
        let path = |p: &str| Attributes {
            verb: "get".into(),
            path: p.into(),
            ..Attributes::default()
        };
        assert!(rule_allows(&r, &path("/healthz")));
        assert!(!rule_allows(&r, &path("/healthz/ready")));
        assert!(rule_allows(&r, &path("/api/v1")));
        assert!(!rule_allows(&r, &path("/apis")));
        // Resource rules never match paths.
        assert!(!rule_allows(
            &rule(&["*"], &["*"], &["*"]),
            &path("/healthz")
        ));
    }

    #[test]
    fn subjects_name_users_groups_and_service_accounts() {
        let alice = User::new("alice", &["devs"]);
        let subject = |kind: &str, name: &str, ns: &str| Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.into(),
            ..Subject::default()
        };
        assert!(subject_applies(&subject("User", "alice", ""), &alice, ""));
        assert!(!subject_applies(&subject("User", "bob", ""), &alice, ""));
        assert!(subject_applies(&subject("Group", "devs", ""), &alice, ""));
        assert!(!subject_applies(&subject("Group", "alice", ""), &alice, ""));
        let sa = User::new("system:serviceaccount:team:builder", &[]);
        assert!(subject_applies(
            &subject("ServiceAccount", "builder", "team"),
            &sa,
            ""
        ));
        // A RoleBinding's ServiceAccount subject defaults to the binding's namespace.
        assert!(subject_applies(
            &subject("ServiceAccount", "builder", ""),
            &sa,
            "team"
        ));
        assert!(!subject_applies(
            &subject("ServiceAccount", "builder", ""),
            &sa,
            "other"
        ));
        assert!(!subject_applies(
            &subject("ServiceAccount", "builder", ""),
            &sa,
            ""
        ));
    }
}
