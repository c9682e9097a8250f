//! Per-kind validation with Kubernetes' rules and wording (`pkg/apis/*/validation`), for
//! the fields users get wrong most. Metadata (names, labels, annotations) is checked by
//! [`crate::validation`]; this module checks everything under it. Fields that defaulting
//! fills (imagePullPolicy, dnsPolicy, ...) are checked only when set, so a manifest can be
//! validated before or after defaults.
//!
//! One file per API group, as Kubernetes lays out `pkg/apis/<group>/validation`: this file
//! only dispatches on the kind; [`rules`] holds the value rules the groups share.

mod apps;
mod autoscaling;
mod batch;
pub mod certificates;
mod coordination;
mod core;
mod networking;
mod pod;
mod policy;
mod rbac;
mod rules;
mod storage;
mod volumes;

use crate::k8s::{self, object::Kind};
pub use crate::validation::FieldError;
pub use batch::check_cron_schedule;
pub use rbac::RBAC_GROUP;
pub use rules::{is_config_map_key, is_env_var_name, is_iana_svc_name};
pub use volumes::volume_type;

type Errors = Vec<FieldError>;

/// Every broken rule of the object's spec (and kind-level fields), with its path.
pub fn validate(object: &k8s::Object) -> Vec<FieldError> {
    let mut e = Errors::new();
    let Some(kind) = &object.kind else {
        e.push(FieldError::required("kind", ""));
        return e;
    };
    match kind {
        Kind::Pod(pod) => match &pod.spec {
            Some(spec) => pod::pod_spec(spec, "spec", pod::RestartRule::Any, &mut e),
            None => e.push(FieldError::required("spec", "")),
        },
        Kind::Service(svc) => match &svc.spec {
            Some(spec) => core::service_spec(spec, &mut e),
            None => e.push(FieldError::required("spec", "")),
        },
        Kind::ReplicaSet(rs) => apps::replica_set(rs, &mut e),
        Kind::Deployment(d) => apps::deployment(&d.spec.clone().unwrap_or_default(), &mut e),
        Kind::DaemonSet(ds) => apps::daemon_set(ds, &mut e),
        Kind::StatefulSet(sts) => apps::stateful_set(&sts.spec.clone().unwrap_or_default(), &mut e),
        Kind::Job(job) => batch::job_spec(&job.spec.clone().unwrap_or_default(), "spec", &mut e),
        Kind::CronJob(cj) => batch::cron_job(&cj.spec.clone().unwrap_or_default(), &mut e),
        Kind::HorizontalPodAutoscaler(hpa) => {
            autoscaling::hpa_spec(&hpa.spec.clone().unwrap_or_default(), &mut e)
        }
        Kind::ConfigMap(cm) => core::config_map(cm, &mut e),
        Kind::Secret(s) => core::secret(s, &mut e),
        Kind::PersistentVolume(pv) => core::pv_spec(&pv.spec.clone().unwrap_or_default(), &mut e),
        Kind::PersistentVolumeClaim(pvc) => {
            core::pvc_spec(&pvc.spec.clone().unwrap_or_default(), "spec", &mut e)
        }
        Kind::Node(node) => core::node(node, &mut e),
        Kind::Endpoints(ep) => core::endpoints(ep, &mut e),
        Kind::ResourceQuota(q) => core::resource_quota(q, &mut e),
        Kind::LimitRange(lr) => core::limit_range(lr, &mut e),
        Kind::Ingress(ing) => {
            networking::ingress_spec(&ing.spec.clone().unwrap_or_default(), &mut e)
        }
        Kind::Lease(lease) => coordination::lease(lease, &mut e),
        Kind::Role(role) => rbac::role(role, &mut e),
        Kind::ClusterRole(role) => rbac::cluster_role(role, &mut e),
        Kind::RoleBinding(rb) => rbac::role_binding(rb, &mut e),
        Kind::ClusterRoleBinding(crb) => rbac::cluster_role_binding(crb, &mut e),
        Kind::CertificateSigningRequest(csr) => certificates::csr(csr, &mut e),
        Kind::ControllerRevision(cr) => apps::controller_revision(cr, &mut e),
        Kind::StorageClass(sc) => storage::storage_class(sc, &mut e),
        Kind::PodDisruptionBudget(pdb) => policy::pod_disruption_budget(pdb, &mut e),
        Kind::Namespace(_) | Kind::ServiceAccount(_) | Kind::Event(_) => {}
    }
    e
}

/// The rules an update adds to [`validate`] of the new object (Kubernetes'
/// `Validate*Update`): a binding's roleRef is immutable; a CSR's spec is immutable, its
/// Approved/Denied/Failed conditions are never removed and its certificate is set once.
/// Other kinds' update rules live with the apiserver's admission.
pub fn validate_update(new: &k8s::Object, cur: &k8s::Object) -> Vec<FieldError> {
    let mut e = Errors::new();
    match (&new.kind, &cur.kind) {
        (Some(Kind::RoleBinding(n)), Some(Kind::RoleBinding(c))) => {
            rbac::role_ref_update(n.role_ref.as_ref(), c.role_ref.as_ref(), &mut e)
        }
        (Some(Kind::ClusterRoleBinding(n)), Some(Kind::ClusterRoleBinding(c))) => {
            rbac::role_ref_update(n.role_ref.as_ref(), c.role_ref.as_ref(), &mut e)
        }
        (Some(Kind::CertificateSigningRequest(n)), Some(Kind::CertificateSigningRequest(c))) => {
            certificates::csr_update(n, c, &mut e)
        }
        (Some(Kind::ControllerRevision(n)), Some(Kind::ControllerRevision(c))) => {
            apps::controller_revision_update(n, c, &mut e)
        }
        (Some(Kind::StorageClass(n)), Some(Kind::StorageClass(c))) => {
            storage::storage_class_update(n, c, &mut e)
        }
        _ => {}
    }
    e
}
