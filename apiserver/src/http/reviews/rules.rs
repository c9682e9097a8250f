//! SelfSubjectRulesReview (`kubectl auth can-i --list`): what the caller may do in a
//! namespace. The authorizer answers yes/no questions only, so the rules are found by
//! asking it about every served resource and verb (and the discovery/health paths); a
//! caller allowed something no rule of ours could name (a made-up resource) holds wildcard
//! rules and gets `*`, as Kubernetes shows an admin. Rules that name single objects
//! (`resourceNames`) do not show: the answer says it is incomplete, as Kubernetes does when
//! an authorizer cannot list rules.

use serde_json::{Value, json};

use super::super::{HttpApi, HttpResponse, discovery, json_response, user_of};
use crate::auth::{Attributes, Decision};
use crate::store::Store;

// The paths every role of the discovery kind names.
use crate::auth::rbac::bootstrap::DISCOVERY_PATHS as NON_RESOURCE_PATHS;

/// A resource (or `resource/subresource`) of a group and the verbs allowed on it.
pub(crate) struct Allowed {
    pub group: &'static str,
    pub resource: String,
    pub verbs: Vec<&'static str>,
}

pub(crate) async fn self_subject_rules_review<S: Store>(
    http: &HttpApi<S>,
    parts: &::http::request::Parts,
    namespace: &str,
) -> HttpResponse {
    let user = user_of(parts);
    let allows = |attrs: Attributes| {
        let user = user.clone();
        async move {
            matches!(
                http.authorizer.authorize(&user, &attrs).await,
                Decision::Allow
            )
        }
    };
    let wildcard = allows(Attributes::resource(
        "rkube-probe-verb",
        "rkube-probe.invalid",
        "rkube-probes",
        namespace,
        "",
    ))
    .await;
    let mut allowed = Vec::new();
    let mut paths = Vec::new();
    if !wildcard {
        for gv in discovery::group_versions() {
            for r in &gv.resources {
                let (resource, subresource) = r.name.split_once('/').unwrap_or((&r.name, ""));
                let ns = if r.namespaced { namespace } else { "" };
                let mut verbs = Vec::new();
                for verb in r.verbs {
                    let attrs = Attributes::resource(verb, gv.group, resource, ns, "")
                        .with_subresource(subresource);
                    if allows(attrs).await {
                        verbs.push(*verb);
                    }
                }
                if !verbs.is_empty() {
                    allowed.push(Allowed {
                        group: gv.group,
                        resource: r.name.clone(),
                        verbs,
                    });
                }
            }
        }
        for path in NON_RESOURCE_PATHS {
            let attrs = Attributes {
                verb: "get".to_string(),
                path: path.to_string(),
                ..Attributes::default()
            };
            if allows(attrs).await {
                paths.push(*path);
            }
        }
    }
    json_response(
        ::http::StatusCode::CREATED,
        &review(namespace, wildcard, &allowed, &paths),
    )
}

/// The review answered: one resource rule per group and verb set, one non-resource rule.
pub(crate) fn review(
    namespace: &str,
    wildcard: bool,
    allowed: &[Allowed],
    paths: &[&str],
) -> Value {
    let (resource_rules, non_resource_rules) = if wildcard {
        (
            vec![json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})],
            vec![json!({"verbs": ["*"], "nonResourceURLs": ["*"]})],
        )
    } else {
        let mut rules: Vec<(&str, Vec<&str>, Vec<String>)> = Vec::new();
        for a in allowed {
            match rules
                .iter_mut()
                .find(|(g, v, _)| *g == a.group && *v == a.verbs)
            {
                Some((_, _, resources)) => resources.push(a.resource.clone()),
                None => rules.push((a.group, a.verbs.clone(), vec![a.resource.clone()])),
            }
        }
        let resource_rules = rules
            .into_iter()
            .map(|(g, verbs, resources)| {
                json!({"verbs": verbs, "apiGroups": [g], "resources": resources})
            })
            .collect();
        let non_resource_rules = if paths.is_empty() {
            Vec::new()
        } else {
            vec![json!({"verbs": ["get"], "nonResourceURLs": paths})]
        };
        (resource_rules, non_resource_rules)
    };
    json!({
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"namespace": namespace},
        "status": {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": !wildcard,
            "evaluationError": if wildcard { "" } else {
                "rules are found by asking the authorizer about each served resource and verb; rules naming single objects (resourceNames) are not listed"
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_group_by_api_group_and_verbs() {
        let allowed = [
            Allowed {
                group: "",
                resource: "pods".into(),
                verbs: vec!["get", "list"],
            },
            Allowed {
                group: "",
                resource: "services".into(),
                verbs: vec!["get", "list"],
            },
            Allowed {
                group: "",
                resource: "pods/log".into(),
                verbs: vec!["get"],
            },
            Allowed {
                group: "apps",
                resource: "deployments".into(),
                verbs: vec!["get", "list"],
            },
        ];
        let v = review("team", false, &allowed, &["/api", "/healthz"]);
        let rules = v["status"]["resourceRules"].as_array().unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(
            rules[0],
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "services"]})
        );
        assert_eq!(
            v["status"]["nonResourceRules"][0]["nonResourceURLs"],
            json!(["/api", "/healthz"])
        );
        assert_eq!(v["status"]["incomplete"], true);
        assert_eq!(v["spec"]["namespace"], "team");
        let admin = review("x", true, &[], &[]);
        assert_eq!(
            admin["status"]["resourceRules"][0]["resources"],
            json!(["*"])
        );
        assert_eq!(admin["status"]["incomplete"], false);
    }
}
