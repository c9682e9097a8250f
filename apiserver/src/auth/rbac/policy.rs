//! The RBAC objects in force and what they grant a user (Kubernetes' `DefaultRuleResolver`):
//! the ClusterRoles bound by ClusterRoleBindings everywhere, plus the Roles and ClusterRoles
//! bound by RoleBindings in the request's namespace. Aggregated ClusterRoles get the rules of
//! the ClusterRoles their selectors match. Pure: the cache feeds it, tests build it by hand.

use std::collections::{BTreeMap, BTreeSet};

use proto::Resource;
use proto::k8s::{
    ClusterRole, ClusterRoleBinding, Object, PolicyRule, Role, RoleBinding, RoleRef,
    object::Kind as K,
};

use super::rules::{rules_allow, subject_applies};
use crate::auth::{Attributes, User};

#[derive(Debug, Clone, Default)]
pub struct Policy {
    roles: BTreeMap<(String, String), Role>,
    cluster_roles: BTreeMap<String, ClusterRole>,
    /// By namespace, then name.
    role_bindings: BTreeMap<String, BTreeMap<String, RoleBinding>>,
    cluster_role_bindings: BTreeMap<String, ClusterRoleBinding>,
}

fn key_of<R: Resource>(r: &R) -> (String, String) {
    (r.meta().namespace.clone(), r.meta().name.clone())
}

impl Policy {
    /// Adds or replaces an RBAC object; other kinds are ignored.
    pub fn apply(&mut self, object: Object) {
        match object.kind {
            Some(K::Role(r)) => {
                self.roles.insert(key_of(&r), r);
            }
            Some(K::ClusterRole(r)) => {
                self.cluster_roles.insert(r.meta().name.clone(), r);
            }
            Some(K::RoleBinding(b)) => {
                let (ns, name) = key_of(&b);
                self.role_bindings.entry(ns).or_default().insert(name, b);
            }
            Some(K::ClusterRoleBinding(b)) => {
                self.cluster_role_bindings.insert(b.meta().name.clone(), b);
            }
            _ => {}
        }
    }

    pub fn remove(&mut self, object: &Object) {
        let (ns, name) = (object.meta().namespace.clone(), object.meta().name.clone());
        match &object.kind {
            Some(K::Role(_)) => {
                self.roles.remove(&(ns, name));
            }
            Some(K::ClusterRole(_)) => {
                self.cluster_roles.remove(&name);
            }
            Some(K::RoleBinding(_)) => {
                if let Some(m) = self.role_bindings.get_mut(&ns) {
                    m.remove(&name);
                }
            }
            Some(K::ClusterRoleBinding(_)) => {
                self.cluster_role_bindings.remove(&name);
            }
            _ => {}
        }
    }

    /// A ClusterRole's rules, with those its aggregation rule collects.
    pub fn cluster_role_rules(&self, name: &str) -> Option<Vec<PolicyRule>> {
        self.cluster_roles.get(name)?;
        let mut rules = Vec::new();
        let mut visited = BTreeSet::new();
        self.collect_cluster_role(name, &mut rules, &mut visited);
        Some(rules)
    }

    fn collect_cluster_role(
        &self,
        name: &str,
        out: &mut Vec<PolicyRule>,
        visited: &mut BTreeSet<String>,
    ) {
        if !visited.insert(name.to_string()) {
            return;
        }
        let Some(role) = self.cluster_roles.get(name) else {
            return;
        };
        for r in &role.rules {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        let Some(aggregation) = &role.aggregation_rule else {
            return;
        };
        for selector in &aggregation.cluster_role_selectors {
            let Ok(selector) = proto::selector::LabelSelector::from_proto(selector) else {
                continue;
            };
            let matched: Vec<&String> = self
                .cluster_roles
                .iter()
                .filter(|(other, r)| *other != name && selector.matches(&r.meta().labels))
                .map(|(other, _)| other)
                .collect();
            for other in matched {
                self.collect_cluster_role(other, out, visited);
            }
        }
    }

    /// The rules a binding's roleRef grants in `namespace`; Kubernetes' NotFound message
    /// when the role does not exist.
    pub fn role_ref_rules(
        &self,
        role_ref: &RoleRef,
        namespace: &str,
    ) -> Result<Vec<PolicyRule>, String> {
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .get(&(namespace.to_string(), role_ref.name.clone()))
                .map(|r| r.rules.clone())
                .ok_or_else(|| {
                    format!(
                        "roles.rbac.authorization.k8s.io {:?} not found",
                        role_ref.name
                    )
                }),
            "ClusterRole" => self.cluster_role_rules(&role_ref.name).ok_or_else(|| {
                format!(
                    "clusterroles.rbac.authorization.k8s.io {:?} not found",
                    role_ref.name
                )
            }),
            other => Err(format!("unsupported role reference kind: {other:?}")),
        }
    }

    /// Every rule granting something to `user` in `namespace` ("" for cluster-wide only),
    /// with the reasons some binding could not be followed.
    pub fn rules_for(&self, user: &User, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit(user, namespace, |r| {
            match r {
                Ok(rs) => rules.extend(rs),
                Err(e) => errors.push(e),
            }
            false
        });
        (rules, errors)
    }

    /// Whether some binding of `user` grants the request.
    pub fn allows(&self, user: &User, attrs: &Attributes) -> bool {
        let mut allowed = false;
        self.visit(user, &attrs.namespace, |r| {
            if let Ok(rules) = r
                && rules_allow(&rules, attrs)
            {
                allowed = true;
            }
            allowed
        });
        allowed
    }

    /// Calls `f` with the rules of each binding that applies to `user`, until it says stop.
    fn visit(
        &self,
        user: &User,
        namespace: &str,
        mut f: impl FnMut(Result<Vec<PolicyRule>, String>) -> bool,
    ) {
        for b in self.cluster_role_bindings.values() {
            if !b.subjects.iter().any(|s| subject_applies(s, user, "")) {
                continue;
            }
            let role_ref = b.role_ref.clone().unwrap_or_default();
            if role_ref.kind != "ClusterRole" {
                continue;
            }
            if f(self.role_ref_rules(&role_ref, "")) {
                return;
            }
        }
        if namespace.is_empty() {
            return;
        }
        let Some(bindings) = self.role_bindings.get(namespace) else {
            return;
        };
        for b in bindings.values() {
            if !b
                .subjects
                .iter()
                .any(|s| subject_applies(s, user, namespace))
            {
                continue;
            }
            let role_ref = b.role_ref.clone().unwrap_or_default();
            if f(self.role_ref_rules(&role_ref, namespace)) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::rule;
    use super::*;
    use proto::k8s::{AggregationRule, LabelSelector, Subject};

    pub(crate) fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Object {
        let mut r = Role {
            rules,
            ..Role::default()
        };
        r.meta_mut().namespace = ns.into();
        r.meta_mut().name = name.into();
        r.into_object()
    }

    fn cluster_role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
        let mut r = ClusterRole {
            rules,
            ..ClusterRole::default()
        };
        r.meta_mut().name = name.into();
        for (k, v) in labels {
            r.meta_mut().labels.insert(k.to_string(), v.to_string());
        }
        r
    }

    fn subject(kind: &str, name: &str) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            ..Subject::default()
        }
    }

    fn role_ref(kind: &str, name: &str) -> Option<RoleRef> {
        Some(RoleRef {
            api_group: super::super::rules::GROUP.into(),
            kind: kind.into(),
            name: name.into(),
        })
    }

    fn binding(ns: &str, name: &str, subjects: Vec<Subject>, r: Option<RoleRef>) -> Object {
        let mut b = RoleBinding {
            subjects,
            role_ref: r,
            ..RoleBinding::default()
        };
        b.meta_mut().namespace = ns.into();
        b.meta_mut().name = name.into();
        b.into_object()
    }

    fn cluster_binding(name: &str, subjects: Vec<Subject>, r: Option<RoleRef>) -> Object {
        let mut b = ClusterRoleBinding {
            subjects,
            role_ref: r,
            ..ClusterRoleBinding::default()
        };
        b.meta_mut().name = name.into();
        b.into_object()
    }

    #[test]
    fn role_bindings_grant_only_in_their_namespace() {
        let mut p = Policy::default();
        p.apply(role(
            "team",
            "reader",
            vec![rule(&["get", "list"], &[""], &["pods"])],
        ));
        p.apply(binding(
            "team",
            "b",
            vec![subject("User", "alice")],
            role_ref("Role", "reader"),
        ));
        let alice = User::new("alice", &[]);
        let bob = User::new("bob", &[]);
        let get = |ns: &str| Attributes::resource("get", "", "pods", ns, "p");
        assert!(p.allows(&alice, &get("team")));
        assert!(!p.allows(&alice, &get("other")));
        assert!(!p.allows(&alice, &get("")));
        assert!(!p.allows(&bob, &get("team")));
        assert!(!p.allows(
            &alice,
            &Attributes::resource("delete", "", "pods", "team", "p")
        ));
        // Deleting the binding takes the grant away.
        p.remove(&binding("team", "b", vec![], None));
        assert!(!p.allows(&alice, &get("team")));
    }

    #[test]
    fn cluster_roles_grant_everywhere_through_cluster_bindings_and_locally_through_role_bindings() {
        let mut p = Policy::default();
        p.apply(
            cluster_role(
                "secret-reader",
                &[],
                vec![rule(&["get"], &[""], &["secrets"])],
            )
            .into_object(),
        );
        p.apply(cluster_binding(
            "all",
            vec![subject("Group", "auditors")],
            role_ref("ClusterRole", "secret-reader"),
        ));
        p.apply(binding(
            "team",
            "local",
            vec![subject("User", "alice")],
            role_ref("ClusterRole", "secret-reader"),
        ));
        let auditor = User::new("carol", &["auditors"]);
        let alice = User::new("alice", &[]);
        let get = |ns: &str| Attributes::resource("get", "", "secrets", ns, "s");
        assert!(p.allows(&auditor, &get("a")) && p.allows(&auditor, &get("")));
        assert!(p.allows(&alice, &get("team")));
        assert!(!p.allows(&alice, &get("other")));
    }

    #[test]
    fn aggregated_cluster_roles_collect_the_rules_of_the_roles_they_select() {
        let mut p = Policy::default();
        let mut admin = cluster_role("admin", &[], vec![]);
        admin.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: vec![LabelSelector {
                match_labels: [("aggregate-to-admin".to_string(), "true".to_string())].into(),
                ..LabelSelector::default()
            }],
        });
        let mut edit = cluster_role("edit", &[("aggregate-to-admin", "true")], vec![]);
        edit.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: vec![LabelSelector {
                match_labels: [("aggregate-to-edit".to_string(), "true".to_string())].into(),
                ..LabelSelector::default()
            }],
        });
        p.apply(admin.into_object());
        p.apply(edit.into_object());
        p.apply(
            cluster_role(
                "pods-edit",
                &[("aggregate-to-edit", "true")],
                vec![rule(&["create"], &[""], &["pods"])],
            )
            .into_object(),
        );
        p.apply(cluster_role("unrelated", &[], vec![rule(&["*"], &["*"], &["*"])]).into_object());
        assert_eq!(
            p.cluster_role_rules("admin"),
            Some(vec![rule(&["create"], &[""], &["pods"])])
        );
        assert_eq!(p.cluster_role_rules("missing"), None);
    }

    #[test]
    fn rules_for_lists_every_grant_and_the_dangling_references() {
        let mut p = Policy::default();
        p.apply(role(
            "team",
            "reader",
            vec![rule(&["get"], &[""], &["pods"])],
        ));
        p.apply(binding(
            "team",
            "b",
            vec![subject("User", "alice")],
            role_ref("Role", "reader"),
        ));
        p.apply(binding(
            "team",
            "gone",
            vec![subject("User", "alice")],
            role_ref("Role", "nope"),
        ));
        let (rules, errors) = p.rules_for(&User::new("alice", &[]), "team");
        assert_eq!(rules, vec![rule(&["get"], &[""], &["pods"])]);
        assert_eq!(
            errors,
            vec![r#"roles.rbac.authorization.k8s.io "nope" not found"#.to_string()]
        );
    }
}
