//! The iptables [`Backend`]: the memoising renderer and the proxier together.

use super::proxier::{Proxier, cleanup};
use super::render::Renderer;
use super::runner::Iptables;
use crate::backend::{Backend, Desired, mismatch};
use crate::error::Error;
use crate::model::{NodeConfig, ServicePort, SyncOutcome};
use std::sync::Arc;

pub struct IptablesBackend {
    ipt: Arc<dyn Iptables>,
    proxier: Proxier,
    renderer: Renderer,
    max_lines: usize,
}

impl IptablesBackend {
    /// `max_lines`: `--max-restore-lines`, the size of one `iptables-restore` transaction.
    pub fn new(ipt: Arc<dyn Iptables>, max_lines: usize) -> Self {
        IptablesBackend {
            proxier: Proxier::new(ipt.clone(), max_lines),
            ipt,
            renderer: Renderer::default(),
            max_lines,
        }
    }
}

impl Backend for IptablesBackend {
    fn name(&self) -> &'static str {
        "iptables"
    }

    fn render_all(&mut self, ports: &[ServicePort], node: &NodeConfig) -> Desired {
        Desired::Iptables(Arc::new(self.renderer.render(ports, node)))
    }

    fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        self.renderer.update_service(service, ports);
    }

    fn desired(&self) -> Desired {
        Desired::Iptables(Arc::new(self.renderer.ruleset()))
    }

    fn counts(&self) -> (usize, usize) {
        self.renderer.counts()
    }

    fn sync(&mut self, desired: &Desired, full: bool) -> Result<SyncOutcome, Error> {
        match desired {
            Desired::Iptables(d) => self.proxier.sync(d.clone(), full),
            _ => Err(mismatch(self.name())),
        }
    }

    fn cleanup(&mut self) -> Result<usize, Error> {
        self.proxier.invalidate();
        cleanup(self.ipt.as_ref(), self.max_lines)
    }
}
