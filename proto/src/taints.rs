//! Taints and tolerations: the one matching rule the scheduler (filtering, scoring) and the
//! controller-manager (NoExecute eviction) must agree on.

use crate::k8s::{Taint, Toleration};

/// Kubernetes' `Toleration.ToleratesTaint`: an empty effect matches every effect, an empty
/// key with `Exists` matches every taint; `Equal` (or no operator) compares the value.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if !t.effect.is_empty() && t.effect != taint.effect {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator.as_str() {
        "" | "Equal" => t.value == taint.value,
        "Exists" => true,
        _ => false,
    }
}
