//! Kubernetes' bootstrap policy (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`) for the
//! components this cluster runs, reconciled at every start: missing roles and bindings are
//! created; existing ones annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`
//! get the rules, labels, aggregation selectors and subjects they lack (nothing is removed,
//! and an administrator who sets the annotation to "false" is left alone).

use proto::Resource;
use proto::k8s::{
    AggregationRule, ClusterRole, ClusterRoleBinding, LabelSelector, Object, PolicyRule, RoleRef,
    Subject, object::Kind as K,
};
use proto::{ApiError, Reason};
use tracing::info;

use super::covers::uncovered;
use super::rules::{GROUP, rule, url_rule};
use crate::auth::user::names;
use crate::registry::Registry;
use crate::store::Store;

pub const AUTOUPDATE: &str = "rbac.authorization.kubernetes.io/autoupdate";
const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

/// Kubernetes' `system:monitoring`: the ClusterRole for scraping `/metrics` and reading the
/// health checks, and the group it is bound to (`user.MonitoringGroup`).
pub const MONITORING: &str = "system:monitoring";

/// The ClusterRole (and its binding to `system:nodes`) with which kubelets reclaim the
/// local-path volumes of their node.
pub const LOCAL_PATH_DELETER: &str = "system:local-path-deleter";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const ALL_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "delete",
    "deletecollection",
    "patch",
    "update",
];

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    let mut r = ClusterRole {
        rules,
        ..ClusterRole::default()
    };
    let m = r.meta_mut();
    m.name = name.to_string();
    m.labels
        .insert(BOOTSTRAPPING_LABEL.to_string(), "rbac-defaults".to_string());
    m.annotations
        .insert(AUTOUPDATE.to_string(), "true".to_string());
    r
}

fn aggregate_to(mut role: ClusterRole, target: &str) -> ClusterRole {
    role.meta_mut()
        .labels
        .insert(format!("{AGGREGATE_TO}{target}"), "true".to_string());
    role
}

fn aggregating(mut role: ClusterRole, from: &str) -> ClusterRole {
    role.aggregation_rule = Some(AggregationRule {
        cluster_role_selectors: vec![LabelSelector {
            match_labels: [(format!("{AGGREGATE_TO}{from}"), "true".to_string())].into(),
            ..LabelSelector::default()
        }],
    });
    role
}

fn named(r: PolicyRule, names: &[&str]) -> PolicyRule {
    super::rules::with_names(r, names)
}

/// What a kubelet may do beyond the graph-checked reads (Kubernetes' `NodeRules`); the Node
/// authorizer allows the same, and the `system:node` ClusterRole carries them for RBAC.
pub fn node_rules() -> Vec<PolicyRule> {
    vec![
        rule(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["subjectaccessreviews", "localsubjectaccessreviews"],
        ),
        rule(READ, &[""], &["services", "endpoints"]),
        rule(&["create", "get", "list", "watch"], &[""], &["nodes"]),
        rule(&["update", "patch"], &[""], &["nodes/status", "nodes"]),
        rule(&["create", "update", "patch"], &[""], &["events"]),
        rule(READ, &[""], &["pods"]),
        rule(&["create", "delete"], &[""], &["pods"]),
        rule(&["update", "patch"], &[""], &["pods/status"]),
        rule(&["create"], &[""], &["pods/eviction"]),
        rule(
            &["create", "get", "list", "watch"],
            &["certificates.k8s.io"],
            &["certificatesigningrequests"],
        ),
        rule(
            &["create"],
            &["certificates.k8s.io"],
            &["certificatesigningrequests/selfnodeclient"],
        ),
        rule(
            &["get", "create", "update", "patch", "delete"],
            &["coordination.k8s.io"],
            &["leases"],
        ),
        rule(
            &["update", "patch"],
            &[""],
            &["persistentvolumeclaims/status"],
        ),
    ]
}

fn view_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[""],
            &[
                "pods",
                "pods/log",
                "pods/status",
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "replicationcontrollers",
                "services",
                "services/status",
                "serviceaccounts",
                "bindings",
                "events",
                "limitranges",
                "resourcequotas",
                "resourcequotas/status",
                "namespaces",
                "namespaces/status",
            ],
        ),
        rule(
            READ,
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
        ),
        rule(
            READ,
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            &["batch"],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        ),
        rule(
            READ,
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
        ),
        rule(
            READ,
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(READ, &["coordination.k8s.io"], &["leases"]),
    ]
}

fn edit_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &["create"],
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "pods/eviction",
            ],
        ),
        rule(
            READ,
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], &[""], &["serviceaccounts"]),
        rule(&["create"], &[""], &["serviceaccounts/token"]),
        rule(
            WRITE,
            &[""],
            &[
                "pods",
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
        ),
        rule(
            WRITE,
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
        ),
        rule(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
        rule(WRITE, &["batch"], &["cronjobs", "jobs"]),
        rule(
            WRITE,
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
        ),
        rule(WRITE, &["policy"], &["poddisruptionbudgets"]),
        rule(WRITE, &["coordination.k8s.io"], &["leases"]),
    ]
}

fn admin_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"],
        ),
        rule(ALL_VERBS, &[GROUP], &["rolebindings", "roles"]),
    ]
}

/// Groups the controller-manager's controllers write in (it runs them all under one
/// identity, where Kubernetes gives each controller its own ServiceAccount).
const CONTROLLER_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "coordination.k8s.io",
    "networking.k8s.io",
    "policy",
    "discovery.k8s.io",
    "events.k8s.io",
    "certificates.k8s.io",
];

fn controller_manager_rules() -> Vec<PolicyRule> {
    vec![
        rule(ALL_VERBS, CONTROLLER_GROUPS, &["*"]),
        // The namespace controller empties namespaces and the garbage collector follows
        // owner references into every kind; neither grants anything.
        rule(
            &[
                "get",
                "list",
                "watch",
                "delete",
                "deletecollection",
                "patch",
                "update",
            ],
            &[GROUP],
            &["*"],
        ),
        named(
            rule(&["approve", "sign"], &["certificates.k8s.io"], &["signers"]),
            &[
                "kubernetes.io/kube-apiserver-client-kubelet",
                "kubernetes.io/kubelet-serving",
                "kubernetes.io/kube-apiserver-client",
                "kubernetes.io/legacy-unknown",
            ],
        ),
        rule(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["subjectaccessreviews"],
        ),
        // The horizontal-pod-autoscaler controller's role in Kubernetes
        // (`system:controller:horizontal-pod-autoscaler`): pods' usage from the resource
        // metrics API.
        rule(&["get", "list"], &["metrics.k8s.io"], &["pods"]),
        // The persistent-volume-binder's read of classes, and the local-path provisioner's
        // default class made at start (k3s ships it as a manifest instead).
        rule(
            &["get", "list", "watch", "create"],
            &["storage.k8s.io"],
            &["storageclasses"],
        ),
    ]
}

fn scheduler_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &["create", "patch", "update"],
            &["", "events.k8s.io"],
            &["events"],
        ),
        rule(&["create"], &["coordination.k8s.io"], &["leases"]),
        rule(
            &["get", "list", "watch", "update", "patch"],
            &["coordination.k8s.io"],
            &["leases"],
        ),
        rule(&["create"], &[""], &["endpoints"]),
        rule(&["get", "update"], &[""], &["endpoints"]),
        rule(READ, &[""], &["nodes"]),
        rule(&["get", "list", "watch", "delete"], &[""], &["pods"]),
        rule(&["create"], &[""], &["bindings", "pods/binding"]),
        rule(&["patch", "update"], &[""], &["pods/status"]),
        rule(
            READ,
            &[""],
            &[
                "replicationcontrollers",
                "services",
                "namespaces",
                "persistentvolumeclaims",
                "persistentvolumes",
                "configmaps",
            ],
        ),
        rule(READ, &["apps"], &["replicasets", "statefulsets"]),
        rule(READ, &["policy"], &["poddisruptionbudgets"]),
        rule(READ, &["storage.k8s.io"], &["storageclasses"]),
        // Kubernetes' `system:volume-scheduler`, bound to the scheduler: the selected-node
        // annotation on a WaitForFirstConsumer claim.
        rule(
            &["patch", "update"],
            &[""],
            &["persistentvolumeclaims", "persistentvolumes"],
        ),
        rule(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["subjectaccessreviews"],
        ),
    ]
}

/// The paths of `system:discovery` and `system:public-info-viewer` (also what
/// SelfSubjectRulesReview asks the authorizer about).
pub(crate) const DISCOVERY_PATHS: &[&str] = &[
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
];

/// The default ClusterRoles.
pub fn cluster_roles() -> Vec<ClusterRole> {
    vec![
        cluster_role(
            "cluster-admin",
            vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
        ),
        cluster_role(
            "system:discovery",
            vec![url_rule(&["get"], DISCOVERY_PATHS)],
        ),
        cluster_role(
            "system:public-info-viewer",
            vec![url_rule(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
        // Read access to the monitoring endpoints only; the health checks' own paths may
        // tell more about the cluster than `ok`, hence not for everyone.
        cluster_role(
            MONITORING,
            vec![url_rule(
                &["get"],
                &[
                    "/metrics",
                    "/metrics/slis",
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/livez/*",
                    "/readyz/*",
                    "/healthz/*",
                ],
            )],
        ),
        cluster_role(
            "system:basic-user",
            vec![
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        aggregating(cluster_role("admin", vec![]), "admin"),
        aggregate_to(aggregating(cluster_role("edit", vec![]), "edit"), "admin"),
        aggregate_to(aggregating(cluster_role("view", vec![]), "view"), "edit"),
        aggregate_to(
            cluster_role("system:aggregate-to-admin", admin_rules()),
            "admin",
        ),
        aggregate_to(
            cluster_role("system:aggregate-to-edit", edit_rules()),
            "edit",
        ),
        aggregate_to(
            cluster_role("system:aggregate-to-view", view_rules()),
            "view",
        ),
        // metrics-server's role for the resource metrics API (served by this apiserver),
        // aggregated to view, edit and admin as metrics-server's manifest labels it.
        ["view", "edit", "admin"].into_iter().fold(
            cluster_role(
                "system:aggregated-metrics-reader",
                vec![rule(READ, &["metrics.k8s.io"], &["pods", "nodes"])],
            ),
            aggregate_to,
        ),
        cluster_role(
            "system:auth-delegator",
            vec![
                rule(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
            ],
        ),
        cluster_role(names::KUBE_SCHEDULER, scheduler_rules()),
        cluster_role(names::KUBE_CONTROLLER_MANAGER, controller_manager_rules()),
        cluster_role(
            "system:node-proxier",
            vec![
                rule(&["list", "watch"], &[""], &["services", "endpoints"]),
                rule(READ, &[""], &["nodes"]),
                rule(
                    &["list", "watch"],
                    &["discovery.k8s.io"],
                    &["endpointslices"],
                ),
                rule(
                    &["create", "patch", "update"],
                    &["", "events.k8s.io"],
                    &["events"],
                ),
            ],
        ),
        cluster_role("system:node", node_rules()),
        // Not Kubernetes' (its provisioners delete volumes themselves): the kubelet removes
        // a released local-path volume's directory on its node, then the PersistentVolume
        // (the Node authorizer only lets a node get the volumes its pods use).
        cluster_role(
            LOCAL_PATH_DELETER,
            vec![rule(
                &["get", "list", "watch", "delete"],
                &[""],
                &["persistentvolumes"],
            )],
        ),
        cluster_role(
            "system:node-bootstrapper",
            vec![rule(
                &["create", "get", "list", "watch"],
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
            )],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![rule(
                &["create"],
                &["certificates.k8s.io"],
                &["certificatesigningrequests/nodeclient"],
            )],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![rule(
                &["create"],
                &["certificates.k8s.io"],
                &["certificatesigningrequests/selfnodeclient"],
            )],
        ),
        cluster_role(
            "system:kubelet-api-admin",
            vec![
                rule(&["get", "list", "watch", "proxy"], &[""], &["nodes"]),
                rule(
                    &["*"],
                    &[""],
                    &["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"],
                ),
            ],
        ),
        cluster_role(
            "system:cluster-dns",
            vec![
                rule(
                    READ,
                    &[""],
                    &["services", "endpoints", "pods", "namespaces", "nodes"],
                ),
                rule(READ, &["discovery.k8s.io"], &["endpointslices"]),
                // It registers itself as the kube-system/kube-dns Service and Endpoints
                // (where Kubernetes' addon manager would); a create cannot be narrowed to
                // one name, so this holds in every namespace.
                rule(
                    &["create", "update", "patch"],
                    &[""],
                    &["services", "endpoints"],
                ),
            ],
        ),
    ]
}

fn subject(kind: &str, name: &str) -> Subject {
    Subject {
        kind: kind.to_string(),
        api_group: GROUP.to_string(),
        name: name.to_string(),
        namespace: String::new(),
    }
}

fn binding(name: &str, role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    let mut b = ClusterRoleBinding {
        subjects,
        role_ref: Some(RoleRef {
            api_group: GROUP.to_string(),
            kind: "ClusterRole".to_string(),
            name: role.to_string(),
        }),
        ..ClusterRoleBinding::default()
    };
    let m = b.meta_mut();
    m.name = name.to_string();
    m.labels
        .insert(BOOTSTRAPPING_LABEL.to_string(), "rbac-defaults".to_string());
    m.annotations
        .insert(AUTOUPDATE.to_string(), "true".to_string());
    b
}

/// The default ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    let user = |n: &str| subject("User", n);
    let group = |n: &str| subject("Group", n);
    vec![
        binding(
            "cluster-admin",
            "cluster-admin",
            vec![group(names::SYSTEM_MASTERS)],
        ),
        binding(
            "system:discovery",
            "system:discovery",
            vec![group(names::SYSTEM_AUTHENTICATED)],
        ),
        binding(MONITORING, MONITORING, vec![group(MONITORING)]),
        binding(
            "system:basic-user",
            "system:basic-user",
            vec![group(names::SYSTEM_AUTHENTICATED)],
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            vec![
                group(names::SYSTEM_AUTHENTICATED),
                group(names::SYSTEM_UNAUTHENTICATED),
            ],
        ),
        binding(
            names::KUBE_SCHEDULER,
            names::KUBE_SCHEDULER,
            vec![user(names::KUBE_SCHEDULER)],
        ),
        binding(
            names::KUBE_CONTROLLER_MANAGER,
            names::KUBE_CONTROLLER_MANAGER,
            vec![user(names::KUBE_CONTROLLER_MANAGER)],
        ),
        binding(
            "system:node-proxier",
            "system:node-proxier",
            vec![user(names::KUBE_PROXY)],
        ),
        binding(
            LOCAL_PATH_DELETER,
            LOCAL_PATH_DELETER,
            vec![group(names::SYSTEM_NODES)],
        ),
        binding(
            "system:cluster-dns",
            "system:cluster-dns",
            vec![user("system:cluster-dns")],
        ),
        // kubeadm's names for what lets a joining kubelet get (and later renew) its
        // client certificate.
        binding(
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            vec![group(names::SYSTEM_BOOTSTRAPPERS)],
        ),
        binding(
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![group(names::SYSTEM_BOOTSTRAPPERS)],
        ),
        binding(
            "kubeadm:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![group(names::SYSTEM_NODES)],
        ),
        binding(
            "system:kube-apiserver-kubelet-client",
            "system:kubelet-api-admin",
            vec![user(names::APISERVER_KUBELET_CLIENT)],
        ),
    ]
}

fn autoupdate(object: &Object) -> bool {
    object
        .meta()
        .annotations
        .get(AUTOUPDATE)
        .is_none_or(|v| v != "false")
}

/// What the stored ClusterRole needs to carry the default's rules, labels and selectors;
/// `None` when it already does. Pure.
pub fn reconcile_role(existing: &ClusterRole, default: &ClusterRole) -> Option<ClusterRole> {
    let mut out = existing.clone();
    let mut changed = false;
    for (k, v) in &default.meta().labels {
        if !out.meta().labels.contains_key(k) {
            out.meta_mut().labels.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    for r in &default.rules {
        if !uncovered(&out.rules, std::slice::from_ref(r)).is_empty() {
            out.rules.push(r.clone());
            changed = true;
        }
    }
    if let Some(want) = &default.aggregation_rule {
        let have = out.aggregation_rule.get_or_insert_with(Default::default);
        for s in &want.cluster_role_selectors {
            if !have.cluster_role_selectors.contains(s) {
                have.cluster_role_selectors.push(s.clone());
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

/// The stored binding with the default's missing subjects; `None` when complete. Pure.
pub fn reconcile_binding(
    existing: &ClusterRoleBinding,
    default: &ClusterRoleBinding,
) -> Option<ClusterRoleBinding> {
    let mut out = existing.clone();
    let mut changed = false;
    for s in &default.subjects {
        if !out.subjects.contains(s) {
            out.subjects.push(s.clone());
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Creates or completes every default role and binding.
pub async fn reconcile<S: Store>(registry: &Registry<S>) -> Result<(), ApiError> {
    let mut wanted: Vec<Object> = cluster_roles()
        .into_iter()
        .map(Resource::into_object)
        .collect();
    wanted.extend(
        cluster_role_bindings()
            .into_iter()
            .map(Resource::into_object),
    );
    let (mut created, mut updated) = (0, 0);
    for default in wanted {
        let Some(info) = default.info() else { continue };
        let name = default.meta().name.clone();
        match registry.get(info.plural, "", &name).await {
            Err(e) if e.reason == Reason::NotFound => {
                match registry.create(default, false).await {
                    Ok(_) => created += 1,
                    // Another start got there first.
                    Err(e) if e.reason == Reason::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
            Ok(existing) => {
                if !autoupdate(&existing) {
                    continue;
                }
                let change = match (&existing.kind, &default.kind) {
                    (Some(K::ClusterRole(have)), Some(K::ClusterRole(want))) => {
                        reconcile_role(have, want).map(Resource::into_object)
                    }
                    (Some(K::ClusterRoleBinding(have)), Some(K::ClusterRoleBinding(want))) => {
                        reconcile_binding(have, want).map(Resource::into_object)
                    }
                    _ => None,
                };
                if let Some(change) = change {
                    registry.update(change, "", false).await?;
                    updated += 1;
                }
            }
        }
    }
    info!(created, updated, "bootstrap RBAC policy reconciled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::policy::Policy;
    use super::*;
    use crate::auth::{Attributes, User};

    fn defaults() -> Policy {
        let mut p = Policy::default();
        for r in cluster_roles() {
            p.apply(r.into_object());
        }
        for b in cluster_role_bindings() {
            p.apply(b.into_object());
        }
        p
    }

    #[test]
    fn the_default_policy_grants_each_component_what_it_needs_and_no_more() {
        let p = defaults();
        let attrs = |verb: &str, group: &str, resource: &str, ns: &str| {
            Attributes::resource(verb, group, resource, ns, "")
        };
        let admin = User::new("kubernetes-admin", &[names::SYSTEM_MASTERS]);
        assert!(p.allows(&admin, &attrs("delete", "", "nodes", "")));
        let scheduler = User::new(names::KUBE_SCHEDULER, &[names::SYSTEM_AUTHENTICATED]);
        assert!(p.allows(
            &scheduler,
            &attrs("create", "", "pods", "ns").with_subresource("binding")
        ));
        assert!(!p.allows(&scheduler, &attrs("get", "", "secrets", "ns")));
        let cm = User::new(
            names::KUBE_CONTROLLER_MANAGER,
            &[names::SYSTEM_AUTHENTICATED],
        );
        assert!(p.allows(&cm, &attrs("create", "", "secrets", "ns")));
        assert!(
            p.allows(
                &cm,
                &attrs(
                    "update",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    ""
                )
                .with_subresource("approval")
            )
        );
        assert!(!p.allows(&cm, &attrs("create", GROUP, "clusterrolebindings", "")));
        assert!(p.allows(&cm, &attrs("list", "metrics.k8s.io", "pods", "")));
        assert!(!p.allows(&cm, &attrs("list", "metrics.k8s.io", "nodes", "")));
        assert!(p.allows(
            &cm,
            &attrs("create", "storage.k8s.io", "storageclasses", "")
        ));
        assert!(!p.allows(
            &cm,
            &attrs("delete", "storage.k8s.io", "storageclasses", "")
        ));
        assert!(p.allows(
            &scheduler,
            &attrs("watch", "storage.k8s.io", "storageclasses", "")
        ));
        assert!(p.allows(
            &scheduler,
            &attrs("update", "", "persistentvolumeclaims", "ns")
        ));
        let node = User::new("system:node:n1", &[names::SYSTEM_NODES]);
        assert!(p.allows(&node, &attrs("delete", "", "persistentvolumes", "")));
        assert!(!p.allows(&node, &attrs("create", "", "persistentvolumes", "")));
        let proxy = User::new(names::KUBE_PROXY, &[]);
        assert!(p.allows(&proxy, &attrs("watch", "", "endpoints", "")));
        assert!(!p.allows(&proxy, &attrs("create", "", "pods", "ns")));
        let bootstrapper = User::new("system:bootstrap:abcdef", &[names::SYSTEM_BOOTSTRAPPERS]);
        assert!(p.allows(
            &bootstrapper,
            &attrs(
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests",
                ""
            )
        ));
        assert!(
            p.allows(
                &bootstrapper,
                &attrs(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    ""
                )
                .with_subresource("nodeclient")
            )
        );
        assert!(!p.allows(&bootstrapper, &attrs("list", "", "pods", "")));
        let nobody = User::new("alice", &[names::SYSTEM_AUTHENTICATED]);
        assert!(p.allows(
            &nobody,
            &attrs(
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                ""
            )
        ));
        assert!(!p.allows(&nobody, &attrs("list", "", "pods", "default")));
        let get = |path: &str| Attributes {
            verb: "get".into(),
            path: path.into(),
            ..Attributes::default()
        };
        assert!(!p.allows(&nobody, &get("/metrics")));
        assert!(p.allows(&nobody, &get("/healthz")), "public-info-viewer");
        let prometheus = User::new("prometheus", &[MONITORING, names::SYSTEM_AUTHENTICATED]);
        assert!(p.allows(&prometheus, &get("/metrics")));
        assert!(p.allows(&prometheus, &get("/readyz/etcd")));
        assert!(!p.allows(&nobody, &get("/readyz/etcd")));
        assert!(!p.allows(&prometheus, &attrs("list", "", "pods", "")));
    }

    #[test]
    fn admin_edit_and_view_aggregate_in_kubernetes_order() {
        let p = defaults();
        let admin = p.cluster_role_rules("admin").unwrap();
        let edit = p.cluster_role_rules("edit").unwrap();
        let view = p.cluster_role_rules("view").unwrap();
        let allows = |rules: &[PolicyRule], verb: &str, group: &str, res: &str| {
            super::super::rules::rules_allow(
                rules,
                &Attributes::resource(verb, group, res, "ns", "x"),
            )
        };
        assert!(allows(&view, "list", "", "pods") && !allows(&view, "get", "", "secrets"));
        for rules in [&view, &edit, &admin] {
            assert!(allows(rules, "list", "metrics.k8s.io", "pods"));
            assert!(allows(rules, "get", "metrics.k8s.io", "nodes"));
        }
        assert!(allows(&edit, "get", "", "secrets") && allows(&edit, "list", "", "pods"));
        assert!(!allows(&edit, "create", GROUP, "rolebindings"));
        assert!(
            allows(&view, "list", "policy", "poddisruptionbudgets")
                && allows(&edit, "create", "policy", "poddisruptionbudgets")
                && !allows(&view, "delete", "policy", "poddisruptionbudgets")
        );
        assert!(
            allows(&admin, "create", GROUP, "rolebindings")
                && allows(&admin, "create", "apps", "deployments")
        );
    }

    #[test]
    fn reconciling_adds_what_is_missing_and_keeps_what_an_admin_added() {
        let default = cluster_roles()
            .into_iter()
            .find(|r| r.meta().name == "system:node-proxier")
            .unwrap();
        assert_eq!(reconcile_role(&default, &default), None);
        let mut edited = default.clone();
        edited.rules.remove(0);
        edited.rules.push(rule(&["get"], &[""], &["configmaps"]));
        let fixed = reconcile_role(&edited, &default).unwrap();
        assert!(uncovered(&fixed.rules, &default.rules).is_empty());
        assert!(
            fixed
                .rules
                .contains(&rule(&["get"], &[""], &["configmaps"]))
        );
        let b = cluster_role_bindings().remove(0);
        let mut emptied = b.clone();
        emptied.subjects.clear();
        emptied.subjects.push(subject("User", "extra"));
        let fixed = reconcile_binding(&emptied, &b).unwrap();
        assert_eq!(fixed.subjects.len(), 2);
        assert_eq!(reconcile_binding(&b, &b), None);
    }
}
