//! The plugin registry: every plugin by name, how to build it from its `pluginConfig`
//! args, and the default profile. Adding a rule is one new file and one line in
//! `registry()`.

use crate::error::Error;
use crate::framework::{FilterPlugin, ScorePlugin};
use std::sync::Arc;

pub mod balanced_allocation;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_ready;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
pub mod volume_binding;

#[cfg(test)]
pub(crate) mod testutil;

/// What a plugin contributes: a filter, a scorer, or both (one instance shared).
#[derive(Clone, Default)]
pub struct Registered {
    pub filter: Option<Arc<dyn FilterPlugin>>,
    pub score: Option<Arc<dyn ScorePlugin>>,
}

fn both<T: FilterPlugin + ScorePlugin + 'static>(p: T) -> Registered {
    let p = Arc::new(p);
    Registered {
        filter: Some(p.clone()),
        score: Some(p),
    }
}

fn filter<T: FilterPlugin + 'static>(p: T) -> Registered {
    Registered {
        filter: Some(Arc::new(p)),
        score: None,
    }
}

fn score<T: ScorePlugin + 'static>(p: T) -> Registered {
    Registered {
        filter: None,
        score: Some(Arc::new(p)),
    }
}

/// Builds a plugin from its args (`None` when the config gives none).
pub type Factory = fn(Option<&serde_json::Value>) -> Result<Registered, Error>;

fn no_args(name: &str, args: Option<&serde_json::Value>) -> Result<(), Error> {
    match args {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(serde_json::Value::Object(m)) if m.is_empty() => Ok(()),
        Some(_) => Err(Error::Config(format!("plugin {name} takes no args"))),
    }
}

/// Every plugin this scheduler knows, by its Kubernetes name.
pub fn registry() -> Vec<(&'static str, Factory)> {
    vec![
        (node_name::NAME, |a| {
            no_args(node_name::NAME, a)?;
            Ok(filter(node_name::NodeName))
        }),
        (node_unschedulable::NAME, |a| {
            no_args(node_unschedulable::NAME, a)?;
            Ok(filter(node_unschedulable::NodeUnschedulable))
        }),
        (node_ready::NAME, |a| {
            no_args(node_ready::NAME, a)?;
            Ok(filter(node_ready::NodeReady))
        }),
        (taint_toleration::NAME, |a| {
            no_args(taint_toleration::NAME, a)?;
            Ok(both(taint_toleration::TaintToleration))
        }),
        (node_affinity::NAME, |a| {
            no_args(node_affinity::NAME, a)?;
            Ok(both(node_affinity::NodeAffinity))
        }),
        (node_ports::NAME, |a| {
            no_args(node_ports::NAME, a)?;
            Ok(filter(node_ports::NodePorts))
        }),
        (node_resources_fit::NAME, |a| {
            let args: node_resources_fit::Args = match a {
                None | Some(serde_json::Value::Null) => Default::default(),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    Error::Config(format!("pluginConfig {}: {e}", node_resources_fit::NAME))
                })?,
            };
            Ok(both(node_resources_fit::NodeResourcesFit {
                strategy: args.scoring_strategy.unwrap_or_default().kind,
            }))
        }),
        (balanced_allocation::NAME, |a| {
            no_args(balanced_allocation::NAME, a)?;
            Ok(score(balanced_allocation::BalancedAllocation))
        }),
        (inter_pod_affinity::NAME, |a| {
            no_args(inter_pod_affinity::NAME, a)?;
            Ok(both(inter_pod_affinity::InterPodAffinity))
        }),
        (pod_topology_spread::NAME, |a| {
            no_args(pod_topology_spread::NAME, a)?;
            Ok(both(pod_topology_spread::PodTopologySpread))
        }),
        (volume_binding::NAME, |a| {
            let args: volume_binding::Args = match a {
                None | Some(serde_json::Value::Null) => Default::default(),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    Error::Config(format!("pluginConfig {}: {e}", volume_binding::NAME))
                })?,
            };
            Ok(filter(volume_binding::VolumeBinding::from_args(args)))
        }),
    ]
}

/// The default profile's filters, in the order they run (cheap and decisive first, as
/// Kubernetes orders them).
pub const DEFAULT_FILTERS: &[&str] = &[
    node_unschedulable::NAME,
    node_ready::NAME,
    node_name::NAME,
    taint_toleration::NAME,
    node_affinity::NAME,
    node_ports::NAME,
    node_resources_fit::NAME,
    volume_binding::NAME,
    pod_topology_spread::NAME,
    inter_pod_affinity::NAME,
];

/// The default profile's scores and weights (Kubernetes' defaults).
pub const DEFAULT_SCORES: &[(&str, i64)] = &[
    (taint_toleration::NAME, 3),
    (node_affinity::NAME, 2),
    (pod_topology_spread::NAME, 2),
    (inter_pod_affinity::NAME, 2),
    (node_resources_fit::NAME, 1),
    (balanced_allocation::NAME, 1),
];
