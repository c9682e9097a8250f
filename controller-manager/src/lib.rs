//! The `controller-manager` daemon: one process running one module per controller, each
//! an idempotent `reconcile(key)` driven by shared informers and a work queue, behind
//! leader election so that of several replicas only one acts.
//!
//! `run` is the whole daemon (config -> wait for the apiserver -> lead -> start the
//! enabled controllers -> wait for shutdown or lost leadership -> drain); `start_controllers`
//! starts controllers in-process for tests and tools.

pub mod config;
pub mod context;
pub mod controllers;
pub mod error;
pub mod events;
pub mod history;
pub mod pods;
pub mod probes;
pub mod runner;

pub use config::Config;
pub use context::Context;
pub use error::Error;
pub use probes::Probes;
pub use runner::Action;

use client::leader::LeaderElector;
use client::{Backoff, Client};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Controllers started by `start_controllers`; `stop` cancels and drains them.
pub struct RunningControllers {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
    pub names: Vec<&'static str>,
}

impl RunningControllers {
    /// Cancels every controller and waits up to `grace` for reconciles in flight.
    pub async fn stop(mut self, grace: Duration) {
        self.cancel.cancel();
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(
                ?grace,
                "controllers did not stop within the grace period; aborting them"
            );
            self.tasks.abort_all();
        }
    }
}

impl Drop for RunningControllers {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts every controller `ctx.config.controllers` enables, each as its own task.
pub fn start_controllers(ctx: Arc<Context>) -> Result<RunningControllers, Error> {
    let known = controllers::names();
    let unknown = config::unknown_controllers(&ctx.config.controllers, &known);
    if !unknown.is_empty() {
        return Err(Error::Config(format!(
            "unknown controllers {unknown:?} in --controllers (known: {})",
            known.join(", ")
        )));
    }
    let cancel = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut names = Vec::new();
    if let Some(writer) = ctx.events.writer(ctx.client.clone(), cancel.child_token()) {
        tasks.spawn(writer.instrument(tracing::info_span!("events")));
    }
    for (name, start) in controllers::CONTROLLERS {
        if !config::is_enabled(&ctx.config.controllers, name) {
            tracing::info!(controller = name, "controller disabled");
            continue;
        }
        names.push(*name);
        let fut = ctx.observed(start(ctx.clone(), cancel.child_token()));
        let span = tracing::info_span!("controller", controller = name);
        tasks.spawn(
            async move {
                tracing::info!("starting controller");
                match fut.await {
                    Ok(()) => tracing::info!("controller stopped"),
                    Err(e) => tracing::error!(error = %e, "controller failed"),
                }
            }
            .instrument(span),
        );
    }
    Ok(RunningControllers {
        cancel,
        tasks,
        names,
    })
}

/// Waits until the apiserver answers, retrying with back-off; false if `shutdown` came
/// first.
pub async fn wait_for_apiserver(client: &Client, shutdown: &CancellationToken) -> bool {
    let mut backoff =
        Backoff::new(Duration::from_millis(200), Duration::from_secs(10)).with_jitter(0.2);
    loop {
        // The client retries a refused connection itself, for longer than a shutdown may
        // wait: the call gives way to the shutdown too, not only the sleep between calls.
        let answer = tokio::select! {
            answer = client.get("namespaces", "", "default") => answer,
            _ = shutdown.cancelled() => return false,
        };
        match answer {
            Ok(_) => return true,
            Err(e) if e.is(proto::Reason::NotFound) => return true,
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(server = client.server(), error = %e, retry_in = ?delay, "apiserver not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => return false,
                }
            }
        }
    }
}

/// Waits until "am I leader" is `want`; false if the elector is gone. (The guard
/// `wait_for` returns is not Send, so it must not live in `run`'s state.)
async fn wait_leading(rx: &mut tokio::sync::watch::Receiver<bool>, want: bool) -> bool {
    rx.wait_for(|l| *l == want).await.is_ok()
}

/// The daemon: returns Ok after `shutdown` (controllers drained, lease released), or
/// `Error::LeadershipLost` when another replica took the lease (the process should exit,
/// as kube-controller-manager does, and be restarted to campaign afresh).
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    run_with_probes(config, shutdown, Probes::default()).await
}

/// `run`, filling in `probes` for the daemon's health checks as it goes.
pub async fn run_with_probes(
    config: Config,
    shutdown: CancellationToken,
    probes: Probes,
) -> Result<(), Error> {
    let known = controllers::names();
    let unknown = config::unknown_controllers(&config.controllers, &known);
    if !unknown.is_empty() {
        return Err(Error::Config(format!(
            "unknown controllers {unknown:?} in --controllers (known: {})",
            known.join(", ")
        )));
    }
    let client = config.connection_flags().client()?;
    if !wait_for_apiserver(&client, &shutdown).await {
        return Ok(());
    }
    let config = Arc::new(config);
    let grace = config.shutdown_grace_period;
    let Some(lec) = config
        .leader_election
        .to_config(config::LEADER_ELECT_RESOURCE_NAME, "controller-manager")
    else {
        let ctx = Arc::new(Context::new(client, config));
        probes.set_context(&ctx);
        let running = start_controllers(ctx.clone())?;
        shutdown.cancelled().await;
        tracing::info!("shutting down");
        running.stop(grace).await;
        return Ok(());
    };
    let identity = lec.identity.clone();
    let elector = Arc::new(LeaderElector::new(client.clone(), lec)?);
    probes.leader.set(elector.clone());
    let mut leading = elector.subscribe();
    let election_cancel = CancellationToken::new();
    let election = {
        let (el, ec) = (elector.clone(), election_cancel.clone());
        tokio::spawn(async move { el.run(ec).await })
    };
    tracing::info!(%identity, "waiting to acquire the lease");
    let leading_now = tokio::select! {
        _ = shutdown.cancelled() => None,
        ok = wait_leading(&mut leading, true) => Some(ok),
    };
    match leading_now {
        None => {
            election_cancel.cancel();
            let _ = election.await;
            return Ok(());
        }
        Some(false) => return Err(Error::Other("leader elector stopped".into())),
        Some(true) => {}
    }
    tracing::info!(%identity, "leading: starting controllers");
    let ctx = Arc::new(Context::new(client, config.clone()));
    probes.set_context(&ctx);
    let running = start_controllers(ctx.clone())?;
    let lost = tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = wait_leading(&mut leading, false) => true,
    };
    if lost {
        tracing::error!(%identity, "leadership lost: stopping controllers");
    } else {
        tracing::info!("shutting down");
    }
    running.stop(grace).await;
    ctx.stop_informers();
    // Releases the lease if still held, so a standby takes over at once.
    election_cancel.cancel();
    let _ = election.await;
    if lost {
        return Err(Error::LeadershipLost);
    }
    Ok(())
}
