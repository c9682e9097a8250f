//! Kubernetes' audit Policy file (`audit.k8s.io/v1` `Policy`): rules tried in order, the
//! first that matches a request gives its level. Pure.

use serde::Deserialize;

use crate::auth::{Attributes, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Level {
    None,
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResources {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub level: Level,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub user_groups: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default)]
    pub resources: Vec<GroupResources>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Every request at `level` (what a log path without a policy file means: Metadata).
    pub fn everything(level: Level) -> Policy {
        Policy {
            api_version: "audit.k8s.io/v1".to_string(),
            kind: "Policy".to_string(),
            rules: vec![Rule {
                level,
                users: vec![],
                user_groups: vec![],
                verbs: vec![],
                resources: vec![],
                namespaces: vec![],
                non_resource_urls: vec![],
            }],
        }
    }

    pub fn parse(text: &str) -> Result<Policy, String> {
        let policy: Policy = serde_saphyr::from_str(text)
            .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())?;
        if policy.kind != "Policy" {
            return Err(format!("kind is {:?}, want \"Policy\"", policy.kind));
        }
        if !matches!(
            policy.api_version.as_str(),
            "audit.k8s.io/v1" | "audit.k8s.io/v1beta1"
        ) {
            return Err(format!(
                "apiVersion is {:?}, want \"audit.k8s.io/v1\"",
                policy.api_version
            ));
        }
        Ok(policy)
    }

    /// The level of the first matching rule; None when no rule matches.
    pub fn level(&self, user: &User, attrs: &Attributes) -> Level {
        self.rules
            .iter()
            .find(|r| r.matches(user, attrs))
            .map_or(Level::None, |r| r.level)
    }
}

fn listed(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|v| v == value)
}

impl Rule {
    fn matches(&self, user: &User, attrs: &Attributes) -> bool {
        if !listed(&self.users, &user.name) {
            return false;
        }
        if !self.user_groups.is_empty() && !self.user_groups.iter().any(|g| user.in_group(g)) {
            return false;
        }
        if !listed(&self.verbs, &attrs.verb) {
            return false;
        }
        if !self.resources.is_empty() || !self.namespaces.is_empty() {
            if !attrs.is_resource_request() {
                return false;
            }
            if !listed(&self.namespaces, &attrs.namespace) {
                return false;
            }
            if !self.resources.is_empty() && !self.resources.iter().any(|g| group_matches(g, attrs))
            {
                return false;
            }
        }
        if !self.non_resource_urls.is_empty() {
            if attrs.is_resource_request() {
                return false;
            }
            return self
                .non_resource_urls
                .iter()
                .any(|u| crate::auth::rbac::rules::url_covers(u, &attrs.path));
        }
        true
    }
}

fn group_matches(g: &GroupResources, attrs: &Attributes) -> bool {
    if g.group != attrs.api_group {
        return false;
    }
    if !listed(&g.resource_names, &attrs.name) {
        return false;
    }
    if g.resources.is_empty() {
        return true;
    }
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    g.resources.iter().any(|r| {
        *r == combined
            || (!attrs.subresource.is_empty()
                && (*r == format!("*/{}", attrs.subresource)
                    || *r == format!("{}/*", attrs.resource)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["secrets"]
        resourceNames: ["audited"]
  - level: Request
    userGroups: ["system:nodes"]
    resources:
      - group: ""
        resources: ["pods/*"]
  - level: Metadata
    namespaces: ["kube-system"]
  - level: None
    resources:
      - group: "apps"
"#;

    #[test]
    fn the_first_matching_rule_gives_the_level() {
        let p = Policy::parse(POLICY).unwrap();
        let proxy = User::new("system:kube-proxy", &[]);
        let node = User::new("system:node:a", &["system:nodes"]);
        let a = |verb: &str, group: &str, res: &str, sub: &str, ns: &str, name: &str| {
            Attributes::resource(verb, group, res, ns, name).with_subresource(sub)
        };
        assert_eq!(
            p.level(&proxy, &a("watch", "", "endpoints", "", "", "")),
            Level::None
        );
        assert_eq!(
            p.level(&proxy, &a("list", "", "endpoints", "", "kube-system", "")),
            Level::Metadata
        );
        assert_eq!(
            p.level(&node, &a("get", "", "secrets", "", "x", "audited")),
            Level::RequestResponse
        );
        assert_eq!(
            p.level(&node, &a("get", "", "secrets", "", "x", "other")),
            Level::None
        );
        assert_eq!(
            p.level(&node, &a("update", "", "pods", "status", "x", "p")),
            Level::Request
        );
        assert_eq!(
            p.level(&proxy, &a("update", "", "pods", "status", "x", "p")),
            Level::None
        );
        assert_eq!(
            p.level(
                &node,
                &a("get", "apps", "deployments", "", "kube-system", "d")
            ),
            Level::Metadata
        );
        let path = |p: &str| Attributes {
            verb: "get".into(),
            path: p.into(),
            ..Attributes::default()
        };
        assert_eq!(p.level(&proxy, &path("/healthz/ready")), Level::None);
        // Namespaced rules never match non-resource requests.
        assert_eq!(p.level(&proxy, &path("/metrics")), Level::None);
        assert_eq!(
            Policy::everything(Level::Metadata).level(&proxy, &path("/metrics")),
            Level::Metadata
        );
    }

    #[test]
    fn other_kinds_and_versions_are_refused() {
        assert!(Policy::parse("apiVersion: v1\nkind: Policy\n").is_err());
        assert!(Policy::parse("apiVersion: audit.k8s.io/v1\nkind: Pod\n").is_err());
        assert!(
            Policy::parse("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")
                .is_err()
        );
    }
}
