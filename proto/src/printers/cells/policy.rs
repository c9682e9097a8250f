//! Rows of the policy group's kinds.

use super::super::Cell;
use super::super::jv::{i64_at, scalar_text};
use serde_json::Value;

/// MIN AVAILABLE, MAX UNAVAILABLE (`N/A` when unset, as kubectl), ALLOWED DISRUPTIONS, AGE.
pub(super) fn pod_disruption_budget(o: &Value, created: Cell) -> Vec<Cell> {
    // The bounds are int-or-string: a number in a document, a string in the stored form.
    let bound = |ptr: &str| match o.pointer(ptr).map(scalar_text) {
        Some(text) if !text.is_empty() => text,
        _ => "N/A".to_string(),
    };
    vec![
        bound("/spec/minAvailable").into(),
        bound("/spec/maxUnavailable").into(),
        Cell::Int(i64_at(o, "/status/disruptionsAllowed").unwrap_or(0)),
        created,
    ]
}
