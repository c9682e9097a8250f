//! A [`PodNetwork`] that touches nothing and records every call, for tests (hollow nodes).
//! Addresses come from the podCIDR given to `setup_node`, in order.

use super::{Cidr, PodNetwork, RoutePlan};
use crate::error::{Error, Result};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};

/// One call made to the fake, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCall {
    SetupNode(Cidr),
    Attach { uid: String, pid: u32 },
    Detach(String),
    ReleaseUnknown(BTreeSet<String>),
    SyncRoutes(BTreeMap<Cidr, Ipv4Addr>),
    TeardownNode,
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<NetCall>,
    cidr: Option<Cidr>,
    next: u32,
    addresses: BTreeMap<String, Ipv4Addr>,
    fail_attach: Option<String>,
}

/// Cheap to clone: clones share the record.
#[derive(Debug, Clone, Default)]
pub struct RecordingNetwork {
    state: Arc<Mutex<State>>,
}

impl RecordingNetwork {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<NetCall> {
        self.lock().calls.clone()
    }

    /// Addresses held now, by pod uid.
    pub fn addresses(&self) -> BTreeMap<String, Ipv4Addr> {
        self.lock().addresses.clone()
    }

    /// The routes of the last `sync_routes`, if any.
    pub fn last_routes(&self) -> Option<BTreeMap<Cidr, Ipv4Addr>> {
        self.lock().calls.iter().rev().find_map(|c| match c {
            NetCall::SyncRoutes(r) => Some(r.clone()),
            _ => None,
        })
    }

    /// Makes every later `attach` fail with `message` (`None`: succeed again).
    pub fn fail_attach(&self, message: Option<&str>) {
        self.lock().fail_attach = message.map(str::to_string);
    }
}

impl PodNetwork for RecordingNetwork {
    fn setup_node(&self, cidr: Cidr) -> BoxFuture<'_, Result<()>> {
        let mut s = self.lock();
        s.calls.push(NetCall::SetupNode(cidr));
        s.cidr = Some(cidr);
        Box::pin(async { Ok(()) })
    }

    fn attach(&self, uid: &str, pid: u32) -> BoxFuture<'_, Result<String>> {
        let mut s = self.lock();
        s.calls.push(NetCall::Attach {
            uid: uid.to_string(),
            pid,
        });
        let r = match (&s.fail_attach, s.cidr) {
            (Some(m), _) => Err(Error::Network(m.clone())),
            (None, None) => Err(Error::Network("the pod network is not set up".into())),
            (None, Some(_)) if s.addresses.contains_key(uid) => Ok(s.addresses[uid].to_string()),
            (None, Some(cidr)) => {
                let (first, last) = cidr.pod_range();
                let ip = first + s.next;
                if ip > last {
                    Err(Error::Network(format!("no free address in {cidr}")))
                } else {
                    s.next += 1;
                    let ip = Ipv4Addr::from(ip);
                    s.addresses.insert(uid.to_string(), ip);
                    Ok(ip.to_string())
                }
            }
        };
        Box::pin(async move { r })
    }

    fn detach(&self, uid: &str) -> BoxFuture<'_, Result<()>> {
        let mut s = self.lock();
        s.calls.push(NetCall::Detach(uid.to_string()));
        s.addresses.remove(uid);
        Box::pin(async { Ok(()) })
    }

    fn address_of(&self, uid: &str) -> Option<String> {
        self.lock().addresses.get(uid).map(|ip| ip.to_string())
    }

    fn release_unknown(&self, live: &BTreeSet<String>) {
        let mut s = self.lock();
        s.calls.push(NetCall::ReleaseUnknown(live.clone()));
        s.addresses.retain(|uid, _| live.contains(uid));
    }

    fn sync_routes(&self, plan: &RoutePlan) -> BoxFuture<'_, Result<()>> {
        self.lock()
            .calls
            .push(NetCall::SyncRoutes(plan.routes.clone()));
        Box::pin(async { Ok(()) })
    }

    fn teardown_node(&self) -> BoxFuture<'_, Result<()>> {
        let mut s = self.lock();
        s.calls.push(NetCall::TeardownNode);
        s.cidr = None;
        s.addresses.clear();
        Box::pin(async { Ok(()) })
    }
}
