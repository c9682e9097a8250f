//! The daemon's view of a backend: render the model (all of it, or one Service), sync the
//! result fully or incrementally, clean up. The sync loop in `daemon` is written once
//! against [`Backend`]; iptables, nftables and IPVS each implement it in their own module.

use crate::error::Error;
use crate::iptables::Ruleset;
use crate::ipvs::IpvsState;
use crate::model::{NodeConfig, ServicePort, SyncOutcome};
use crate::nftables::NftRuleset;
use std::sync::Arc;

/// One way of programming the kernel from the model. Rendering is pure and memoised per
/// Service; `sync` is the only call that touches the kernel. Calls come from one thread at
/// a time (the daemon moves the backend into a blocking task for each sync).
pub trait Backend: Send {
    /// `--mode` spelling, for logs.
    fn name(&self) -> &'static str;
    /// Renders every service port (reusing unchanged ones) and returns the desired state.
    fn render_all(&mut self, ports: &[ServicePort], node: &NodeConfig) -> Desired;
    /// Re-renders one Service (`namespace/name`; empty `ports`: removed). `render_all`
    /// comes first: it sets the node.
    fn update_service(&mut self, service: &str, ports: &[ServicePort]);
    /// The desired state of everything rendered so far.
    fn desired(&self) -> Desired;
    /// (service ports, ready endpoints) rendered.
    fn counts(&self) -> (usize, usize);
    /// Moves the kernel to `desired`: only what changed since the last good sync, or all
    /// of it when `full` (or when the live state is unknown, as after a failure).
    fn sync(&mut self, desired: &Desired, full: bool) -> Result<SyncOutcome, Error>;
    /// Removes everything this backend ever programmed; returns how many objects went.
    fn cleanup(&mut self) -> Result<usize, Error>;
}

/// A rendered desired state, of whichever backend rendered it (for status and metrics).
#[derive(Debug, Clone)]
pub enum Desired {
    Iptables(Arc<Ruleset>),
    Nftables(Arc<NftRuleset>),
    Ipvs(Arc<IpvsState>),
}

impl Desired {
    /// (rules, chains, map elements) for logs and metrics; IPVS counts virtual servers as
    /// rules and real servers as elements.
    pub fn counts(&self) -> (usize, usize, usize) {
        match self {
            Desired::Iptables(r) => (r.rule_count(), r.chain_count(), 0),
            Desired::Nftables(r) => (r.rule_count(), r.chain_count(), r.element_count()),
            Desired::Ipvs(s) => (
                s.virtual_servers.len(),
                0,
                s.virtual_servers
                    .values()
                    .map(|v| v.real_servers.len())
                    .sum(),
            ),
        }
    }

    /// Publishes the rule counts of a state now live in the kernel (Kubernetes has them for
    /// iptables only; the log line of each sync has every backend's).
    pub fn record(&self) {
        if let Desired::Iptables(r) = self {
            crate::metrics::iptables().set_rules(r.nat_rule_count(), r.filter.rule_count());
        }
    }
}

/// The error of a backend handed another backend's desired state (a bug in the caller).
pub(crate) fn mismatch(backend: &str) -> Error {
    Error::Task(format!("{backend}: desired state of another backend"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iptables::{FakeIptables, IptablesBackend};
    use crate::ipvs::IpvsBackend;
    use crate::model::tests::{eps, svc};
    use crate::nftables::{FakeNft, NftBackend};
    use std::collections::HashMap;

    fn ports() -> Vec<ServicePort> {
        let s = Arc::new(svc("ns", "web", "ClusterIP", "10.96.0.5", &[("", 80, 0)]));
        let e = Arc::new(eps("ns", "web", &[(&["10.244.1.2"], &[], &[("", 8080)])]));
        crate::model::collect(&[s], &HashMap::from([("ns/web".to_string(), e)]))
    }

    /// The same loop drives every backend: render, sync fully, then a partial sync of an
    /// unchanged model restores nothing; a removed Service is rendered away.
    fn drive(mut b: Box<dyn Backend>) {
        let node = NodeConfig::default();
        let d = b.render_all(&ports(), &node);
        assert_eq!(b.counts(), (1, 1), "{}", b.name());
        let out = b.sync(&d, true).unwrap();
        assert!(out.full && out.restored, "{}: {out:?}", b.name());
        let again = b.sync(&b.desired(), false).unwrap();
        assert!(!again.restored, "{}: {again:?}", b.name());
        b.update_service("ns/web", &[]);
        assert_eq!(b.counts(), (0, 0), "{}", b.name());
    }

    #[test]
    fn iptables_and_nftables_run_through_the_trait() {
        drive(Box::new(IptablesBackend::new(
            Arc::new(FakeIptables::new()),
            1500,
        )));
        drive(Box::new(NftBackend::new(Arc::new(FakeNft::new()))));
    }

    #[test]
    fn ipvs_renders_through_the_trait_but_cannot_sync() {
        let mut b = IpvsBackend::new(vec![]);
        let d = b.render_all(&ports(), &NodeConfig::default());
        assert_eq!(d.counts(), (1, 0, 1));
        assert!(matches!(
            b.sync(&d, true),
            Err(Error::IpvsUnavailable { .. })
        ));
        let other = IptablesBackend::new(Arc::new(FakeIptables::new()), 1500).desired();
        assert!(matches!(b.sync(&other, false), Err(Error::Task(_))));
    }
}
