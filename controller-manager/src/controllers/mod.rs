//! The registry: one line per controller, named as in Kubernetes' `--controllers`. Adding a
//! controller is one new file here and one line in `CONTROLLERS`.
//!
//! A controller's start function gets the shared context and a cancellation token; it
//! builds a `client::runtime::Controller` from the context's shared informers (`new`,
//! `owns`, `watches`, `reads`) and `run`s its reconcile function until the token is
//! cancelled (docs/controller-manager.md, "How to write a controller").

pub mod certificates;
pub mod cronjob;
pub mod csrapproving;
pub mod csrsigning;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoint;
pub mod garbagecollector;
pub mod horizontal;
pub mod job;
pub mod localpath;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod podgc;
pub mod pvbinder;
pub mod replicaset;
pub mod resourcequota;
pub mod rootcacertpublisher;
pub mod serviceaccount;
pub mod servicelb;
pub mod statefulset;
pub mod tokencleaner;

use crate::context::Context;
use crate::error::Error;
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub type StartFn = fn(Arc<Context>, CancellationToken) -> BoxFuture<'static, Result<(), Error>>;

pub const CONTROLLERS: &[(&str, StartFn)] = &[
    (replicaset::NAME, replicaset::start),
    (deployment::NAME, deployment::start),
    (nodelifecycle::NAME, nodelifecycle::start),
    (nodeipam::NAME, nodeipam::start),
    (podgc::NAME, podgc::start),
    (endpoint::NAME, endpoint::start),
    (namespace::NAME, namespace::start),
    (garbagecollector::NAME, garbagecollector::start),
    (pvbinder::NAME, pvbinder::start),
    (localpath::NAME, localpath::start),
    (serviceaccount::NAME, serviceaccount::start),
    (serviceaccount::TOKEN_NAME, serviceaccount::start_tokens),
    (horizontal::NAME, horizontal::start),
    (job::NAME, job::start),
    (cronjob::NAME, cronjob::start),
    (daemonset::NAME, daemonset::start),
    (statefulset::NAME, statefulset::start),
    (csrapproving::NAME, csrapproving::start),
    (csrsigning::NAME, csrsigning::start),
    (rootcacertpublisher::NAME, rootcacertpublisher::start),
    (tokencleaner::NAME, tokencleaner::start),
    (resourcequota::NAME, resourcequota::start),
    (disruption::NAME, disruption::start),
    (servicelb::NAME, servicelb::start),
];

/// Names of all registered controllers.
pub fn names() -> Vec<&'static str> {
    CONTROLLERS.iter().map(|(n, _)| *n).collect()
}
