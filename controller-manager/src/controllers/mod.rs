//! The registry: one line per controller, named as in Kubernetes' `--controllers`. Adding a
//! controller is one new file here and one line in `CONTROLLERS`.
//!
//! A controller's start function gets the shared context and a cancellation token; it
//! registers informer handlers that only enqueue keys, waits for the caches
//! (`ctx.wait_for_sync()`), then runs `runner::run_workers` until the token is cancelled.

use crate::context::Context;
use crate::error::Error;
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub type StartFn = fn(Arc<Context>, CancellationToken) -> BoxFuture<'static, Result<(), Error>>;

pub const CONTROLLERS: &[(&str, StartFn)] = &[
    // ("replicaset", replicaset::start),
    // ("deployment", deployment::start),
];

/// Names of all registered controllers.
pub fn names() -> Vec<&'static str> {
    CONTROLLERS.iter().map(|(n, _)| *n).collect()
}
