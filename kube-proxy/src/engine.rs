//! The daemon's view of a backend: render (all, or one Service), sync, count. One enum so
//! the sync loop is the same for iptables and nftables.

use crate::error::Error;
use crate::iptables::{self, Iptables, NodeConfig, Proxier, Ruleset, SyncOutcome};
use crate::metrics::Metrics;
use crate::model::ServicePort;
use crate::nftables::{self, Nft, NftProxier, NftRuleset};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// What the daemon programs through.
#[derive(Clone)]
pub enum Backend {
    Iptables(Arc<dyn Iptables>),
    Nftables(Arc<dyn Nft>),
}

/// A rendered desired state of either backend.
#[derive(Debug, Clone)]
pub enum Desired {
    Iptables(Arc<Ruleset>),
    Nftables(Arc<NftRuleset>),
}

impl Desired {
    /// (rules, chains, map elements) for logs and metrics.
    pub fn counts(&self) -> (usize, usize, usize) {
        match self {
            Desired::Iptables(r) => (r.rule_count(), r.chain_count(), 0),
            Desired::Nftables(r) => (r.rule_count(), r.chain_count(), r.element_count()),
        }
    }

    pub fn record(&self, m: &Metrics) {
        match self {
            Desired::Iptables(r) => {
                m.nat_rules
                    .store(r.nat_rule_count() as u64, Ordering::Relaxed);
                m.filter_rules
                    .store(r.filter.rule_count() as u64, Ordering::Relaxed);
            }
            Desired::Nftables(r) => {
                m.nft_rules.store(r.rule_count() as u64, Ordering::Relaxed);
                m.nft_elements
                    .store(r.element_count() as u64, Ordering::Relaxed);
            }
        }
        m.chains.store(self.counts().1 as u64, Ordering::Relaxed);
    }
}

pub enum Engine {
    Iptables(Proxier, iptables::render::Renderer),
    Nftables(NftProxier, nftables::Renderer),
}

impl Engine {
    pub fn new(backend: Backend, max_restore_lines: usize) -> Self {
        match backend {
            Backend::Iptables(ipt) => Engine::Iptables(
                Proxier::new(ipt, max_restore_lines),
                iptables::render::Renderer::default(),
            ),
            Backend::Nftables(nft) => {
                Engine::Nftables(NftProxier::new(nft), nftables::Renderer::default())
            }
        }
    }

    /// Renders every service port (reusing unchanged ones).
    pub fn render_all(&mut self, ports: &[ServicePort], node: &NodeConfig) -> Desired {
        match self {
            Engine::Iptables(_, r) => Desired::Iptables(Arc::new(r.render(ports, node))),
            Engine::Nftables(_, r) => Desired::Nftables(Arc::new(r.render(ports, node))),
        }
    }

    /// Re-renders one Service (`namespace/name`; empty `ports`: removed).
    pub fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        match self {
            Engine::Iptables(_, r) => r.update_service(service, ports),
            Engine::Nftables(_, r) => r.update_service(service, ports),
        }
    }

    /// The desired state of everything rendered so far.
    pub fn desired(&self) -> Desired {
        match self {
            Engine::Iptables(_, r) => Desired::Iptables(Arc::new(r.ruleset())),
            Engine::Nftables(_, r) => Desired::Nftables(Arc::new(r.ruleset())),
        }
    }

    /// (service ports, ready endpoints) rendered.
    pub fn counts(&self) -> (usize, usize) {
        match self {
            Engine::Iptables(_, r) => r.counts(),
            Engine::Nftables(_, r) => r.counts(),
        }
    }

    pub fn sync(&mut self, desired: &Desired, full: bool) -> Result<SyncOutcome, Error> {
        match (self, desired) {
            (Engine::Iptables(p, _), Desired::Iptables(d)) => p.sync(d.clone(), full),
            (Engine::Nftables(p, _), Desired::Nftables(d)) => p.sync(d.clone(), full),
            _ => Err(Error::Task("desired state of the other backend".into())),
        }
    }
}
