//! Kubernetes' escalation comparator (`rbac/validation/policy_comparator.go`): whether the
//! rules a user holds cover every rule they try to grant, and the missing ones in the
//! compact form Kubernetes prints.

use proto::k8s::PolicyRule;

use super::rules::{ALL, url_covers};

fn has(values: &[String], v: &str) -> bool {
    values.iter().any(|x| x == v)
}

fn has_all(values: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| has(values, w))
}

/// One rule per (group, resource, verb[, name]) and per (url, verb).
pub fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |v: &String| vec![v.clone()];
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let base = PolicyRule {
                    verbs: one(verb),
                    api_groups: one(group),
                    resources: one(resource),
                    ..PolicyRule::default()
                };
                if rule.resource_names.is_empty() {
                    out.push(base);
                } else {
                    for name in &rule.resource_names {
                        out.push(PolicyRule {
                            resource_names: one(name),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                verbs: one(verb),
                non_resource_urls: one(url),
                ..PolicyRule::default()
            });
        }
    }
    out
}

fn resources_cover(owner: &[String], wanted: &[String]) -> bool {
    if has(owner, ALL) || has_all(owner, wanted) {
        return true;
    }
    wanted.iter().all(|path| {
        has(owner, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owner, &format!("*/{sub}")))
    })
}

fn urls_cover(owner: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|path| owner.iter().any(|o| url_covers(o, path)))
}

fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, ALL) || has_all(&owner.api_groups, &sub.api_groups);
    let resources = resources_cover(&owner.resources, &sub.resources);
    let urls = urls_cover(&owner.non_resource_urls, &sub.non_resource_urls);
    let names = owner.resource_names.is_empty()
        || (!sub.resource_names.is_empty() && has_all(&owner.resource_names, &sub.resource_names));
    verbs && groups && resources && names && urls
}

/// The broken-down rules of `wanted` that no rule of `owner` covers (empty: covered).
pub fn uncovered(owner: &[PolicyRule], wanted: &[PolicyRule]) -> Vec<PolicyRule> {
    wanted
        .iter()
        .flat_map(breakdown)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect()
}

/// Joins simple rules that differ only in their verbs (Kubernetes' `CompactRules`).
pub fn compact(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::new();
    for r in rules {
        let simple = r.api_groups.len() == 1
            && r.resources.len() == 1
            && r.resource_names.len() <= 1
            && r.non_resource_urls.is_empty();
        if simple
            && let Some(same) = out.iter_mut().find(|o| {
                o.api_groups == r.api_groups
                    && o.resources == r.resources
                    && o.resource_names == r.resource_names
                    && o.non_resource_urls.is_empty()
            })
        {
            for v in r.verbs {
                if !has(&same.verbs, &v) {
                    same.verbs.push(v);
                }
            }
            continue;
        }
        out.push(r);
    }
    out
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn go_quoted(values: &[String]) -> String {
    let inner: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", inner.join(" "))
}

/// Kubernetes' `CompactString`: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`.
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts = Vec::new();
    for (label, values) in [
        ("APIGroups", &rule.api_groups),
        ("Resources", &rule.resources),
        ("NonResourceURLs", &rule.non_resource_urls),
        ("ResourceNames", &rule.resource_names),
        ("Verbs", &rule.verbs),
    ] {
        if !values.is_empty() {
            parts.push(format!("{label}:{}", go_quoted(values)));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

/// The missing rules, compacted, one per line, sorted (as Kubernetes lists them).
pub fn describe_missing(missing: Vec<PolicyRule>) -> String {
    let mut lines: Vec<String> = compact(missing).iter().map(compact_string).collect();
    lines.sort();
    lines.dedup();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::super::rules::{rule, url_rule, with_names};
    use super::*;

    #[test]
    fn a_star_rule_covers_everything_and_exact_rules_cover_themselves() {
        let admin = vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])];
        let wanted = vec![
            rule(
                &["get", "list"],
                &["", "apps"],
                &["pods", "deployments/scale"],
            ),
            url_rule(&["get"], &["/healthz"]),
        ];
        assert!(uncovered(&admin, &wanted).is_empty());
        let reader = vec![rule(&["get", "list"], &[""], &["pods"])];
        assert!(uncovered(&reader, &[rule(&["get"], &[""], &["pods"])]).is_empty());
    }

    #[test]
    fn missing_verbs_groups_resources_and_names_are_reported() {
        let owner = vec![
            rule(&["get"], &[""], &["pods"]),
            with_names(rule(&["get"], &[""], &["configmaps"]), &["a"]),
            rule(&["get"], &["apps"], &["*/scale"]),
        ];
        let missing = uncovered(
            &owner,
            &[
                rule(&["get", "delete"], &[""], &["pods"]),
                rule(&["get"], &[""], &["configmaps"]),
                with_names(rule(&["get"], &[""], &["configmaps"]), &["a", "b"]),
                rule(&["get"], &["apps"], &["deployments/scale", "deployments"]),
            ],
        );
        assert_eq!(
            describe_missing(missing),
            [
                r#"{APIGroups:[""], Resources:["configmaps"], ResourceNames:["b"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["configmaps"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#,
                r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}"#,
            ]
            .join("\n")
        );
    }

    #[test]
    fn verbs_of_the_same_resource_are_compacted_into_one_line() {
        let missing = uncovered(&[], &[rule(&["get", "list", "watch"], &[""], &["secrets"])]);
        assert_eq!(
            describe_missing(missing),
            r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list" "watch"]}"#
        );
    }

    #[test]
    fn url_prefixes_cover_longer_paths_only_with_a_star() {
        let owner = vec![url_rule(&["get"], &["/logs/*", "/healthz"])];
        assert!(uncovered(&owner, &[url_rule(&["get"], &["/logs/a/b"])]).is_empty());
        assert_eq!(
            uncovered(&owner, &[url_rule(&["get"], &["/healthz/ready"])]).len(),
            1
        );
    }
}
