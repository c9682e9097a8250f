//! The nftables [`Backend`]: the memoising renderer and the proxier together.

use super::proxier::{NftProxier, cleanup};
use super::render::Renderer;
use super::runner::Nft;
use crate::backend::{Backend, Desired, mismatch};
use crate::error::Error;
use crate::model::{NodeConfig, ServicePort, SyncOutcome};
use std::sync::Arc;

pub struct NftBackend {
    nft: Arc<dyn Nft>,
    proxier: NftProxier,
    renderer: Renderer,
}

impl NftBackend {
    pub fn new(nft: Arc<dyn Nft>) -> Self {
        NftBackend {
            proxier: NftProxier::new(nft.clone()),
            nft,
            renderer: Renderer::default(),
        }
    }
}

impl Backend for NftBackend {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn render_all(&mut self, ports: &[ServicePort], node: &NodeConfig) -> Desired {
        Desired::Nftables(Arc::new(self.renderer.render(ports, node)))
    }

    fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        self.renderer.update_service(service, ports);
    }

    fn desired(&self) -> Desired {
        Desired::Nftables(Arc::new(self.renderer.ruleset()))
    }

    fn counts(&self) -> (usize, usize) {
        self.renderer.counts()
    }

    fn sync(&mut self, desired: &Desired, full: bool) -> Result<SyncOutcome, Error> {
        match desired {
            Desired::Nftables(d) => self.proxier.sync(d.clone(), full),
            _ => Err(mismatch(self.name())),
        }
    }

    /// One object: the table (0 when there was none).
    fn cleanup(&mut self) -> Result<usize, Error> {
        // Whatever was live is gone: the next sync rebuilds.
        self.proxier = NftProxier::new(self.nft.clone());
        Ok(usize::from(cleanup(self.nft.as_ref())?))
    }
}
