//! Resource quota accounting (Kubernetes' `pkg/quota/v1`), shared by the apiserver's
//! ResourceQuota admission and the controller-manager's ResourceQuota controller, which
//! must count alike: what one admits, the other recomputes.
//!
//! - `usage`: which quota resource names a kind is charged for, and how much one object
//!   uses of each (`requests.cpu`, `pods`, `count/deployments.apps`, ...).
//! - `scope`: whether an object falls in a quota's scopes (Terminating, BestEffort,
//!   PriorityClass, ...).
//!
//! Pure: time is passed in, nothing is read or written here.

pub mod scope;
pub mod usage;

use crate::k8s::{Object, ResourceQuotaSpec};
use crate::quantity::Quantity;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Amounts by quota resource name (Kubernetes' `ResourceList`), sorted by name.
pub type ResourceList = BTreeMap<String, Quantity>;

/// Parses a quota's string map (`spec.hard`, `status.used`); an amount that does not parse
/// (validation refuses those, so only old data has them) is left out.
pub fn parse_list(map: &BTreeMap<String, String>) -> ResourceList {
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), v.parse::<Quantity>().ok()?)))
        .collect()
}

/// The string map of a quota's status, each amount in Kubernetes' canonical form.
pub fn format_list(list: &ResourceList) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// `a + b`, resource by resource (Kubernetes' `quota.Add`).
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        let sum = out.get(k).map_or(*v, |have| *have + *v);
        out.insert(k.clone(), sum);
    }
    out
}

/// Only the entries of `list` named in `names` (Kubernetes' `quota.Mask`).
pub fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    names
        .into_iter()
        .filter_map(|n| Some((n.clone(), *list.get(n)?)))
        .collect()
}

/// What a quota's `status.used` should be, given every object of the namespace whose kind
/// it tracks (Kubernetes' `CalculateUsage`): for each resource of `spec.hard` some kind is
/// charged for, the sum over the objects in the quota's scopes (zero when none); resources
/// no kind is charged for keep what `previous` said.
pub fn calculate_used(
    spec: &ResourceQuotaSpec,
    previous: &BTreeMap<String, String>,
    objects: &[Object],
    now: SystemTime,
) -> ResourceList {
    let hard: Vec<String> = spec.hard.keys().cloned().collect();
    let mut used = parse_list(previous);
    let mut tracked = std::collections::BTreeSet::new();
    for kind in usage::tracked_kinds(&hard) {
        tracked.extend(usage::matching_resources(kind, &hard));
    }
    for name in &tracked {
        used.insert(name.clone(), Quantity::default());
    }
    let selectors = scope::selectors(spec);
    for object in objects {
        let Some(kind) = object.info() else { continue };
        if usage::matching_resources(kind, &hard).is_empty()
            || !selectors.iter().all(|s| scope::matches(s, object))
        {
            continue;
        }
        let charged = mask(&usage::usage(object, now), &tracked);
        used = add(&used, &charged);
    }
    mask(&used, &hard)
}

#[cfg(test)]
mod tests;
