//! What the daemon's health checks read, filled in as `run` goes: the leader elector
//! (`leaderElection`: this replica leads but has not renewed its lease in time, so it
//! should be restarted) and the shared informers (`informer-sync` on /readyz).

use crate::context::Context;
use client::leader::HealthzAdaptor;
use std::sync::{Arc, Mutex, Weak};
use telemetry::health::Health;

/// Cheap to clone: clones share the state.
#[derive(Clone, Default, Debug)]
pub struct Probes {
    pub leader: HealthzAdaptor,
    context: Arc<Mutex<Option<Weak<Context>>>>,
}

impl Probes {
    pub(crate) fn set_context(&self, ctx: &Arc<Context>) {
        *self.context.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::downgrade(ctx));
    }

    /// Every informer the controllers asked for so far has its first list (a standby
    /// replica has none: it is ready to take over).
    pub fn informers_synced(&self) -> bool {
        let ctx = self
            .context
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(Weak::upgrade);
        ctx.is_none_or(|c| c.has_synced())
    }

    /// kube-controller-manager's checks on /healthz, /livez and /readyz.
    pub fn health(&self) -> Health {
        let probes = self.clone();
        client::endpoints::controller_health(self.leader.clone(), move || probes.informers_synced())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readyz_waits_for_the_informers_and_livez_does_not() {
        let probes = Probes::default();
        let health = probes.health();
        assert_eq!(health.answer("/readyz", None).0, 200, "no controllers yet");
        // A server that never answers: the informer never syncs.
        let client = client::Client::lazy("http://127.0.0.1:1").unwrap();
        let ctx = Arc::new(Context::new(client, Arc::new(crate::Config::default())));
        let _pods = ctx.informer::<proto::k8s::Pod>();
        probes.set_context(&ctx);
        let (code, body) = health.answer("/readyz", Some("verbose"));
        assert_eq!(code, 500, "{body}");
        assert!(body.contains("[-]informer-sync failed"), "{body}");
        assert_eq!(health.answer("/livez", None).0, 200);
        ctx.stop_informers();
    }
}
