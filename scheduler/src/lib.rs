//! The `scheduler` daemon: binds pending pods (`spec.nodeName` empty, `spec.schedulerName`
//! ours) to the best feasible node. See `docs/scheduler.md`.
//!
//! Layout: `queue` (active/back-off/unschedulable), `cache` (node infos, assume/forget),
//! `framework` + `plugins/` (filter and score plugins, one per file, and the registry),
//! `schedule` (one decision, pure), `config` (the config file), `report` (events and the
//! PodScheduled condition), `scheduler` (the loop, binding, leader election).

pub mod cache;
pub mod config;
pub mod error;
pub mod framework;
pub mod metrics;
pub mod nodeinfo;
pub mod plugins;
pub mod podinfo;
pub mod preemption;
pub mod queue;
pub mod report;
pub mod resources;
pub mod schedule;
pub mod scheduler;

pub use config::DEFAULT_SCHEDULER_NAME;
pub use error::Error;
pub use scheduler::{Options, Probes, run};
