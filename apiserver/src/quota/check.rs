//! The ResourceQuota admission decision (Kubernetes' `CheckRequest`): given the quotas of
//! the namespace as stored, does this create or update fit in all of them, and what does
//! each quota's `status.used` become if it goes ahead. Pure.

use proto::k8s::{Object, ResourceQuota, object::Kind as K};
use proto::quantity::Quantity;
use proto::quota::{self, ResourceList, scope, usage};
use std::time::SystemTime;

/// A quota whose `status.used` the write raises: its index among the quotas given, and
/// its used amounts after the write.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub index: usize,
    pub used: ResourceList,
}

/// Kubernetes' refusals, word for word (the caller prefixes `pods "web" is forbidden: `).
pub type Refusal = String;

/// Checks `object` (created when `old` is None, else updated from `old`) against `quotas`.
/// Returns what to charge (nothing when no quota is concerned) or the refusal.
pub fn check(
    quotas: &[ResourceQuota],
    object: &Object,
    old: Option<&Object>,
    now: SystemTime,
) -> Result<Vec<Charge>, Refusal> {
    let Some(kind) = object.info() else {
        return Ok(Vec::new());
    };
    if !usage::handles(kind, old.is_some()) {
        return Ok(Vec::new());
    }

    // The quotas that concern this object: they track a resource of its kind and it is in
    // their scopes. Quotas whose status has not been computed yet constrain nothing
    // (status.hard is empty until the controller's first sync), as in Kubernetes.
    let mut concerned = Vec::new();
    for (index, q) in quotas.iter().enumerate() {
        let status = q.status.clone().unwrap_or_default();
        let spec = q.spec.clone().unwrap_or_default();
        let hard_names: Vec<String> = status.hard.keys().cloned().collect();
        let restricted = usage::matching_resources(kind, &hard_names);
        if restricted.is_empty() || !scope::in_scopes(&scope::selectors(&spec), object) {
            continue;
        }
        let name = &q.meta_name();
        if let Some(K::Pod(pod)) = &object.kind {
            usage::pod_constraints(pod, &restricted)
                .map_err(|e| format!("failed quota: {name}: {e}"))?;
        }
        if restricted.iter().any(|r| !status.used.contains_key(r)) {
            let mut listed = restricted.clone();
            listed.sort();
            return Err(format!(
                "status unknown for quota: {name}, resources: {}",
                listed.join(",")
            ));
        }
        concerned.push(index);
    }
    if concerned.is_empty() {
        return Ok(Vec::new());
    }

    let input = usage::usage(object, now);
    let negative: Vec<&str> = input
        .iter()
        .filter(|(_, q)| **q < Quantity::default())
        .map(|(k, _)| k.as_str())
        .collect();
    if !negative.is_empty() {
        return Err(format!(
            "quota usage is negative for resource(s): {}",
            negative.join(",")
        ));
    }
    // An update is charged what it adds to what the object used before, for the quotas
    // that counted it before; never a negative amount (freeing is the controller's job).
    let previous = old.map(|o| (o, usage::usage(o, now)));

    let mut charges = Vec::new();
    for index in concerned {
        let q = &quotas[index];
        let status = q.status.clone().unwrap_or_default();
        let spec = q.spec.clone().unwrap_or_default();
        let delta = match &previous {
            Some((old, before)) if scope::in_scopes(&scope::selectors(&spec), old) => {
                subtract_non_negative(&input, before)
            }
            _ => input.clone(),
        };
        let hard = quota::parse_list(&status.hard);
        let used = quota::parse_list(&status.used);
        let requested: ResourceList = quota::mask(&delta, hard.keys())
            .into_iter()
            .filter(|(_, v)| !v.is_zero())
            .collect();
        if requested.is_empty() {
            continue;
        }
        let new_used = quota::add(&used, &requested);
        let exceeded: Vec<String> = requested
            .keys()
            .filter(|r| matches!((new_used.get(*r), hard.get(*r)), (Some(u), Some(h)) if u > h))
            .cloned()
            .collect();
        if !exceeded.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                q.meta_name(),
                pretty(&quota::mask(&requested, &exceeded)),
                pretty(&quota::mask(&used, &exceeded)),
                pretty(&quota::mask(&hard, &exceeded)),
            ));
        }
        charges.push(Charge {
            index,
            used: new_used,
        });
    }
    Ok(charges)
}

/// `a - b` per resource of `a`, floored at zero (Kubernetes' SubtractWithNonNegativeResult).
fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    a.iter()
        .map(|(k, v)| {
            let d = b.get(k).map_or(*v, |old| *v - *old);
            (k.clone(), d.max(Quantity::default()))
        })
        .collect()
}

/// Kubernetes' prettyPrint: `name=amount` in name order, joined by commas.
fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

trait MetaName {
    fn meta_name(&self) -> String;
}

impl MetaName for ResourceQuota {
    fn meta_name(&self) -> String {
        self.metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::resource::info;

    fn quota(name: &str, hard: &[(&str, &str)], used: &[(&str, &str)]) -> ResourceQuota {
        let map = |l: &[(&str, &str)]| {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let mut q = ResourceQuota {
            spec: Some(proto::k8s::ResourceQuotaSpec {
                hard: map(hard),
                ..Default::default()
            }),
            status: Some(proto::k8s::ResourceQuotaStatus {
                hard: map(hard),
                used: map(used),
            }),
            ..Default::default()
        };
        q.meta_mut().name = name.into();
        q
    }

    fn pod(cpu: &str) -> Object {
        Object::from_json_as(
            &info::Pod,
            serde_json::json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {
                "containers": [{"name": "app", "image": "x",
                    "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}}]}}),
        )
        .expect("valid pod")
    }

    fn pvc(size: &str) -> Object {
        Object::from_json_as(
            &info::PersistentVolumeClaim,
            serde_json::json!({"metadata": {"name": "c", "namespace": "ns"},
                "spec": {"resources": {"requests": {"storage": size}}}}),
        )
        .expect("valid claim")
    }

    #[test]
    fn a_create_within_every_quota_is_charged_to_each() {
        let quotas = [
            quota(
                "compute",
                &[("requests.cpu", "4")],
                &[("requests.cpu", "1")],
            ),
            quota("count", &[("pods", "5")], &[("pods", "0")]),
            quota(
                "storage",
                &[("requests.storage", "1Gi")],
                &[("requests.storage", "0")],
            ),
        ];
        let charges = check(&quotas, &pod("2"), None, SystemTime::now()).expect("fits");
        let shown: Vec<(usize, String)> = charges
            .iter()
            .flat_map(|c| {
                c.used
                    .iter()
                    .map(move |(k, v)| (c.index, format!("{k}={v}")))
            })
            .collect();
        assert_eq!(
            shown,
            [(0, "requests.cpu=3".to_string()), (1, "pods=1".to_string())]
        );
    }

    #[test]
    fn exceeding_a_quota_is_refused_with_kubernetes_message() {
        let quotas = [quota(
            "compute",
            &[("requests.cpu", "4"), ("limits.cpu", "8")],
            &[("requests.cpu", "3"), ("limits.cpu", "3")],
        )];
        assert_eq!(
            check(&quotas, &pod("2"), None, SystemTime::now()),
            Err(
                "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=3, limited: requests.cpu=4"
                    .to_string()
            )
        );
    }

    #[test]
    fn pods_must_state_what_the_quota_limits() {
        let quotas = [quota(
            "compute",
            &[("limits.memory", "1Gi")],
            &[("limits.memory", "0")],
        )];
        assert_eq!(
            check(&quotas, &pod("1"), None, SystemTime::now()),
            Err("failed quota: compute: must specify limits.memory for: app".to_string())
        );
    }

    #[test]
    fn a_quota_without_usage_for_a_tracked_resource_refuses() {
        let quotas = [quota("q", &[("pods", "5"), ("requests.cpu", "1")], &[])];
        assert_eq!(
            check(&quotas, &pod("1"), None, SystemTime::now()),
            Err("status unknown for quota: q, resources: pods,requests.cpu".to_string())
        );
        let uncomputed = ResourceQuota {
            spec: quotas[0].spec.clone(),
            ..Default::default()
        };
        assert_eq!(
            check(&[uncomputed], &pod("1"), None, SystemTime::now()),
            Ok(Vec::new()),
            "a quota the controller has not synced yet constrains nothing"
        );
    }

    #[test]
    fn an_update_is_charged_only_what_it_adds() {
        let quotas = [quota(
            "storage",
            &[
                ("requests.storage", "10Gi"),
                ("persistentvolumeclaims", "1"),
            ],
            &[("requests.storage", "4Gi"), ("persistentvolumeclaims", "1")],
        )];
        let old = pvc("4Gi");
        let charges = check(&quotas, &pvc("6Gi"), Some(&old), SystemTime::now()).expect("fits");
        assert_eq!(charges[0].used["requests.storage"].to_string(), "6Gi");
        assert_eq!(charges[0].used["persistentvolumeclaims"].to_string(), "1");
        assert_eq!(
            check(&quotas, &pvc("11Gi"), Some(&old), SystemTime::now()),
            Err(
                "exceeded quota: storage, requested: requests.storage=7Gi, used: requests.storage=4Gi, limited: requests.storage=10Gi"
                    .to_string()
            )
        );
        assert_eq!(
            check(&quotas, &pvc("2Gi"), Some(&old), SystemTime::now()),
            Ok(Vec::new()),
            "shrinking charges nothing"
        );
    }

    #[test]
    fn scoped_quotas_count_only_their_pods() {
        let mut q = quota("best-effort", &[("pods", "0")], &[("pods", "0")]);
        q.spec.as_mut().unwrap().scopes = vec!["BestEffort".into()];
        assert_eq!(
            check(std::slice::from_ref(&q), &pod("1"), None, SystemTime::now()),
            Ok(Vec::new())
        );
        let best_effort = Object::from_json_as(
            &info::Pod,
            serde_json::json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        )
        .unwrap();
        assert_eq!(
            check(&[q], &best_effort, None, SystemTime::now()),
            Err(
                "exceeded quota: best-effort, requested: pods=1, used: pods=0, limited: pods=0"
                    .to_string()
            )
        );
    }
}
