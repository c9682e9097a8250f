//! RBAC escalation prevention (Kubernetes' RBAC storage): a Role or ClusterRole may be
//! written only by someone who already holds every rule in it (or may `escalate` it), and a
//! RoleBinding or ClusterRoleBinding only by someone who holds every rule of the role it
//! references in that scope (or may `bind` it). Without this, `create rolebindings` would
//! be as good as cluster-admin.

use std::sync::Arc;

use proto::k8s::{Object, PolicyRule, RoleRef, object::Kind as K};
use proto::{ApiError, KindInfo};

use crate::auth::rbac::cache::RbacCache;
use crate::auth::rbac::covers::{describe_missing, go_quoted, uncovered};
use crate::auth::rbac::rules::{GROUP, rule, url_rule};
use crate::auth::user::names;
use crate::auth::{Attributes, Authorizer, Decision, User};

/// What admission asks when a write needs an authorization decision of its own (the
/// escalation check here, CSR approval and signing): the request's authorizer and, with
/// RBAC on, the RBAC objects in force. Set by `auth::authz::build`.
pub struct Authorization {
    pub authorizer: Arc<dyn Authorizer>,
    pub rbac: Option<Arc<RbacCache>>,
}

impl Authorization {
    pub async fn allows(&self, user: &User, attrs: &Attributes) -> bool {
        self.authorizer.authorize(user, attrs).await == Decision::Allow
    }
}

fn forbidden(info: &KindInfo, name: &str, why: &str) -> ApiError {
    ApiError::forbidden(format!(
        "{}.{} {name:?} is forbidden: {why}",
        info.plural, info.group
    ))
}

fn not_held(user: &User, missing: Vec<PolicyRule>) -> String {
    format!(
        "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        go_quoted(&user.groups),
        describe_missing(missing)
    )
}

/// Refuses a write of an RBAC object that would grant more than its writer holds. `user`
/// `None` is the apiserver itself (bootstrap policy); `auth` `None` means no authorizer was
/// built (in-process servers allowing everything).
pub async fn check(
    auth: Option<&Authorization>,
    user: Option<&User>,
    object: &Object,
    old: Option<&Object>,
) -> Result<(), ApiError> {
    let (Some(auth), Some(user)) = (auth, user) else {
        return Ok(());
    };
    if user.in_group(names::SYSTEM_MASTERS) {
        return Ok(());
    }
    let Some(info) = object.info() else {
        return Ok(());
    };
    let meta = object.meta();
    let (namespace, name) = (meta.namespace.as_str(), meta.name.as_str());
    match (&object.kind, old.map(|o| &o.kind)) {
        (Some(K::Role(r)), old) => {
            if let Some(Some(K::Role(o))) = old
                && o.rules == r.rules
            {
                return Ok(());
            }
            check_role(auth, user, info, namespace, name, &r.rules).await
        }
        (Some(K::ClusterRole(r)), old) => {
            let unchanged = matches!(old, Some(Some(K::ClusterRole(o))) if o.rules == r.rules && o.aggregation_rule == r.aggregation_rule);
            if unchanged {
                return Ok(());
            }
            let changed_aggregation = !matches!(old, Some(Some(K::ClusterRole(o))) if o.aggregation_rule == r.aggregation_rule);
            if r.aggregation_rule.is_some() && changed_aggregation {
                let full = [rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])];
                if !holds(auth, user, "", &full).await.is_empty() {
                    return Err(forbidden(
                        info,
                        name,
                        "must have cluster-admin privileges to use the aggregationRule",
                    ));
                }
            }
            check_role(auth, user, info, "", name, &r.rules).await
        }
        (Some(K::RoleBinding(b)), old) => {
            if let Some(Some(K::RoleBinding(o))) = old
                && o.subjects == b.subjects
                && o.role_ref == b.role_ref
            {
                return Ok(());
            }
            check_binding(auth, user, info, namespace, name, b.role_ref.as_ref()).await
        }
        (Some(K::ClusterRoleBinding(b)), old) => {
            if let Some(Some(K::ClusterRoleBinding(o))) = old
                && o.subjects == b.subjects
                && o.role_ref == b.role_ref
            {
                return Ok(());
            }
            check_binding(auth, user, info, "", name, b.role_ref.as_ref()).await
        }
        _ => Ok(()),
    }
}

/// The rules of `wanted` `user` does not hold in `namespace` (all of them without RBAC).
async fn holds(
    auth: &Authorization,
    user: &User,
    namespace: &str,
    wanted: &[PolicyRule],
) -> Vec<PolicyRule> {
    let Some(rbac) = &auth.rbac else {
        return uncovered(&[], wanted);
    };
    rbac.sync().await;
    let (owned, _) = rbac.read(|p| p.rules_for(user, namespace));
    uncovered(&owned, wanted)
}

async fn check_role(
    auth: &Authorization,
    user: &User,
    info: &'static KindInfo,
    namespace: &str,
    name: &str,
    rules: &[PolicyRule],
) -> Result<(), ApiError> {
    let escalate = Attributes::resource("escalate", GROUP, info.plural, namespace, name);
    if auth.allows(user, &escalate).await {
        return Ok(());
    }
    let missing = holds(auth, user, namespace, rules).await;
    if missing.is_empty() {
        return Ok(());
    }
    Err(forbidden(info, name, &not_held(user, missing)))
}

async fn check_binding(
    auth: &Authorization,
    user: &User,
    info: &'static KindInfo,
    namespace: &str,
    name: &str,
    role_ref: Option<&RoleRef>,
) -> Result<(), ApiError> {
    let Some(role_ref) = role_ref else {
        // Validation refuses a binding without roleRef with a better message.
        return Ok(());
    };
    let resource = if role_ref.kind == "Role" {
        "roles"
    } else {
        "clusterroles"
    };
    let bind = Attributes::resource("bind", GROUP, resource, namespace, &role_ref.name);
    if auth.allows(user, &bind).await {
        return Ok(());
    }
    let Some(rbac) = &auth.rbac else {
        return Err(forbidden(
            info,
            name,
            &format!(
                "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held",
                user.name,
                go_quoted(&user.groups)
            ),
        ));
    };
    rbac.sync().await;
    let rules = rbac
        .read(|p| p.role_ref_rules(role_ref, namespace))
        .map_err(ApiError::not_found)?;
    let missing = holds(auth, user, namespace, &rules).await;
    if missing.is_empty() {
        return Ok(());
    }
    Err(forbidden(info, name, &not_held(user, missing)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::rbac::RbacAuthorizer;
    use proto::Resource;
    use proto::k8s::{ClusterRole, Role, RoleBinding, Subject};

    fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Object {
        let mut r = Role {
            rules,
            ..Role::default()
        };
        r.meta_mut().namespace = ns.into();
        r.meta_mut().name = name.into();
        r.into_object()
    }

    fn binding(ns: &str, name: &str, user: &str, kind: &str, role: &str) -> Object {
        let mut b = RoleBinding {
            subjects: vec![Subject {
                kind: "User".into(),
                api_group: GROUP.into(),
                name: user.into(),
                namespace: String::new(),
            }],
            role_ref: Some(RoleRef {
                api_group: GROUP.into(),
                kind: kind.into(),
                name: role.into(),
            }),
            ..RoleBinding::default()
        };
        b.meta_mut().namespace = ns.into();
        b.meta_mut().name = name.into();
        b.into_object()
    }

    fn world() -> Authorization {
        // alice may manage roles and bindings in team and read pods there; nothing else.
        let rbac = RbacCache::fixed(vec![
            role(
                "team",
                "manager",
                vec![
                    // Not `*`: that would include escalate and bind.
                    rule(
                        &["get", "list", "create", "update", "delete"],
                        &[GROUP],
                        &["roles", "rolebindings"],
                    ),
                    rule(&["get", "list"], &[""], &["pods"]),
                ],
            ),
            binding("team", "alice-manager", "alice", "Role", "manager"),
            role("team", "secrets", vec![rule(&["get"], &[""], &["secrets"])]),
        ]);
        Authorization {
            authorizer: Arc::new(RbacAuthorizer::new(rbac.clone())),
            rbac: Some(rbac),
        }
    }

    #[tokio::test]
    async fn a_role_may_grant_only_what_its_writer_holds() {
        let auth = world();
        let alice = User::new("alice", &["system:authenticated"]);
        let fine = role("team", "pod-reader", vec![rule(&["get"], &[""], &["pods"])]);
        check(Some(&auth), Some(&alice), &fine, None).await.unwrap();
        let more = role(
            "team",
            "secret-reader",
            vec![rule(&["get", "list"], &[""], &["secrets"])],
        );
        let err = check(Some(&auth), Some(&alice), &more, None)
            .await
            .unwrap_err();
        assert_eq!(err.reason, proto::Reason::Forbidden);
        assert_eq!(
            err.message,
            "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}"
        );
        // The same role in a namespace where alice holds nothing.
        let elsewhere = role(
            "other",
            "pod-reader",
            vec![rule(&["get"], &[""], &["pods"])],
        );
        assert!(
            check(Some(&auth), Some(&alice), &elsewhere, None)
                .await
                .is_err()
        );
        // Masters and the apiserver itself are never refused.
        check(Some(&auth), Some(&User::internal()), &more, None)
            .await
            .unwrap();
        check(Some(&auth), None, &more, None).await.unwrap();
        // An update that leaves the rules alone is not checked again.
        check(Some(&auth), Some(&alice), &more, Some(&more))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_binding_needs_the_role_s_rules_or_bind() {
        let auth = world();
        let alice = User::new("alice", &[]);
        let to_secrets = binding("team", "b", "bob", "Role", "secrets");
        let err = check(Some(&auth), Some(&alice), &to_secrets, None)
            .await
            .unwrap_err();
        assert!(err.message.starts_with("rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"alice\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"), "{}", err.message);
        let to_manager = binding("team", "c", "bob", "Role", "manager");
        check(Some(&auth), Some(&alice), &to_manager, None)
            .await
            .unwrap();
        let missing = binding("team", "d", "bob", "Role", "nope");
        assert_eq!(
            check(Some(&auth), Some(&alice), &missing, None)
                .await
                .unwrap_err()
                .reason,
            proto::Reason::NotFound
        );
    }

    #[tokio::test]
    async fn escalate_and_bind_verbs_lift_the_check() {
        let rbac = RbacCache::fixed(vec![
            role(
                "team",
                "granter",
                vec![rule(&["escalate", "bind", "create"], &[GROUP], &["roles"])],
            ),
            binding("team", "g", "carol", "Role", "granter"),
            role("team", "secrets", vec![rule(&["get"], &[""], &["secrets"])]),
        ]);
        let auth = Authorization {
            authorizer: Arc::new(RbacAuthorizer::new(rbac.clone())),
            rbac: Some(rbac),
        };
        let carol = User::new("carol", &[]);
        let big = role("team", "big", vec![rule(&["*"], &["*"], &["*"])]);
        check(Some(&auth), Some(&carol), &big, None).await.unwrap();
        check(
            Some(&auth),
            Some(&carol),
            &binding("team", "x", "dave", "Role", "secrets"),
            None,
        )
        .await
        .unwrap();
        let mut aggregated = ClusterRole::default();
        aggregated.meta_mut().name = "agg".into();
        aggregated.aggregation_rule = Some(Default::default());
        let err = check(Some(&auth), Some(&carol), &aggregated.into_object(), None)
            .await
            .unwrap_err();
        assert!(
            err.message
                .ends_with("must have cluster-admin privileges to use the aggregationRule")
        );
    }
}
