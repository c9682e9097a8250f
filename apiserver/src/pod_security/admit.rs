//! Pod Security admission in the registry's create and update path: reads the namespace
//! (and, when a namespace turns stricter, its pods) and acts on `decision`'s answer —
//! refusing, warning the client through `crate::warnings`, and logging audit lines.

use proto::k8s::{ListRequest, Object, ObjectMeta, object::Kind as K};
use proto::{ApiError, Reason};
use tracing::{debug, info};

use super::decision::{self, Decision};
use super::policy::{Policy, policy_from_labels};
use crate::error::{Result, object_ref};
use crate::registry::Registry;
use crate::store::Store;

impl<S: Store> Registry<S> {
    /// Pod Security admission of a create (`old` is None) or of an update of the main
    /// resource. `display_name` is how messages name the object: its name, or its
    /// generateName prefix when the server picks the name, as Kubernetes shows it.
    pub(crate) async fn admit_pod_security(
        &self,
        object: &Object,
        old: Option<&Object>,
        display_name: &str,
    ) -> Result<()> {
        match &object.kind {
            Some(K::Namespace(_)) => self.admit_namespace(object, old).await,
            Some(K::Pod(pod)) => {
                let namespace = &object.meta().namespace;
                if self.pod_security.is_exempt(namespace) {
                    return Ok(());
                }
                if let Some(Some(K::Pod(old))) = old.map(|o| &o.kind)
                    && !decision::pod_update_is_significant(pod, old)
                {
                    return Ok(());
                }
                let policy = self.namespace_policy(namespace).await?;
                let empty = ObjectMeta::default();
                let spec = pod.spec.clone().unwrap_or_default();
                let d = decision::evaluate(
                    &policy,
                    pod.metadata.as_ref().unwrap_or(&empty),
                    &spec,
                    true,
                );
                self.act_on(object, display_name, d)
            }
            _ => {
                let Some((meta, spec)) = decision::template_of(object) else {
                    return Ok(());
                };
                let namespace = &object.meta().namespace;
                if self.pod_security.is_exempt(namespace) {
                    return Ok(());
                }
                // Every create and update of a workload is evaluated, template changed or
                // not, as Kubernetes' ValidatePodController does.
                let policy = self.namespace_policy(namespace).await?;
                let empty = ObjectMeta::default();
                let d = decision::evaluate(&policy, meta.unwrap_or(&empty), spec, false);
                self.act_on(object, display_name, d)
            }
        }
    }

    fn act_on(&self, object: &Object, display_name: &str, d: Decision) -> Result<()> {
        let meta = object.meta();
        let resource = object.info().map(|i| i.plural).unwrap_or_default();
        if let Some(audit) = &d.audit {
            info!(
                resource,
                namespace = %meta.namespace,
                name = %display_name,
                violations = %audit,
                "pod-security.kubernetes.io/audit-violations"
            );
        }
        if let Some(refusal) = d.refusal {
            let what = match object.info() {
                Some(info) => object_ref(info, display_name),
                None => format!("{display_name:?}"),
            };
            return Err(ApiError::new(
                Reason::Forbidden,
                format!("{what} is forbidden: {refusal}"),
            ));
        }
        for w in d.warnings {
            crate::warnings::add(w);
        }
        Ok(())
    }

    /// The policy of `namespace`: its labels over the cluster defaults. Labels that do not
    /// parse read as restricted (they were refused when set, so only old data has them).
    async fn namespace_policy(&self, namespace: &str) -> Result<Policy> {
        let ns = self.get("namespaces", "", namespace).await?;
        let (policy, errors) = policy_from_labels(&ns.meta().labels, self.pod_security.defaults);
        if !errors.is_empty() {
            debug!(namespace, errors = %proto::validation::join(&errors), "invalid PodSecurity labels; evaluating them as restricted");
        }
        Ok(policy)
    }

    /// Namespaces: PodSecurity labels must parse (on create, and on update when they
    /// changed); a stricter enforce level warns about the pods already there.
    async fn admit_namespace(&self, object: &Object, old: Option<&Object>) -> Result<()> {
        let defaults = self.pod_security.defaults;
        let name = &object.meta().name;
        let (new_policy, new_errors) = policy_from_labels(&object.meta().labels, defaults);
        let invalid = || {
            ApiError::invalid(format!(
                "Namespace {name:?} is invalid: {}",
                proto::validation::join(&new_errors)
            ))
        };
        let exempt_warning = || {
            if self.pod_security.is_exempt(name)
                && let Some(w) = decision::exempt_namespace_warning(
                    name,
                    &new_policy,
                    &defaults,
                    &object.meta().labels,
                )
            {
                crate::warnings::add(w);
            }
        };
        let Some(old) = old else {
            if !new_errors.is_empty() {
                return Err(invalid());
            }
            exempt_warning();
            return Ok(());
        };
        let (old_policy, old_errors) = policy_from_labels(&old.meta().labels, defaults);
        if !new_errors.is_empty() && (old_errors.is_empty() || new_errors != old_errors) {
            return Err(invalid());
        }
        if !decision::namespace_update_needs_pod_check(&old_policy, &new_policy) {
            return Ok(());
        }
        if self.pod_security.is_exempt(name) {
            exempt_warning();
            return Ok(());
        }
        let pods = self
            .list(&ListRequest {
                resource: "pods".to_string(),
                namespace: name.clone(),
                ..Default::default()
            })
            .await;
        let pods: Vec<_> = match pods {
            Ok(list) => list
                .items
                .into_iter()
                .filter_map(|o| match o.kind {
                    Some(K::Pod(p)) => Some(p),
                    _ => None,
                })
                .collect(),
            Err(e) => {
                debug!(namespace = %name, error = %e.message, "cannot list pods to check the new enforce level");
                crate::warnings::add(
                    "failed to list pods while checking new PodSecurity enforce level",
                );
                return Ok(());
            }
        };
        for w in decision::namespace_pod_warnings(name, new_policy.enforce, &pods) {
            crate::warnings::add(w);
        }
        Ok(())
    }
}
