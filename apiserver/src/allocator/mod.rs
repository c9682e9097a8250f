//! Service ClusterIP and NodePort allocation, as Kubernetes does it.
//!
//! Every allocated value is one store key, created only if absent, whose value names the
//! Service holding it by store key and uid (`/registry/services/default/web#<uid>`: the uid
//! tells a Service from an earlier one of the same name): `/registry/allocations/clusterips/<ip>`
//! and `/registry/allocations/nodeports/<port>`. Create-if-absent makes two concurrent
//! Services unable to get the same value, and the keys survive restarts with the rest of
//! the store. Values are reserved before the Service is written and released when that
//! write fails, when the Service is deleted, or when an update stops needing them; `repair`
//! at start mends what a crash between those steps left behind.

pub mod cidr;
pub mod plan;
pub mod ports;
mod repair;

use std::collections::HashSet;
use std::fmt::Display;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::str::FromStr;

use bytes::Bytes;
use proto::ApiError;
use proto::k8s::{Object, ServiceSpec, object::Kind as K};
use proto::validation::FieldError;
use tracing::{debug, warn};

use crate::store::{self, Store};
pub use cidr::Ipv4Cidr;
pub use plan::Action;
pub use ports::PortRange;
pub use repair::Repaired;

pub const IP_PREFIX: &str = "/registry/allocations/clusterips/";
pub const PORT_PREFIX: &str = "/registry/allocations/nodeports/";

/// How often a free value another writer took first is chosen again before giving up.
const ATTEMPTS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid CIDR {value:?}: {reason}")]
    Cidr { value: String, reason: String },
    #[error("invalid port range {value:?}: {reason}")]
    PortRange { value: String, reason: String },
}

/// The configured ranges; every operation takes the store it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAllocator {
    cidr: Ipv4Cidr,
    ports: PortRange,
}

impl Default for ServiceAllocator {
    /// Kubernetes' defaults: 10.96.0.0/12 and 30000-32767.
    fn default() -> Self {
        ServiceAllocator {
            cidr: Ipv4Cidr::DEFAULT,
            ports: PortRange::DEFAULT,
        }
    }
}

/// What one write reserved, and what it will give up once it is stored.
#[derive(Debug, Default)]
#[must_use = "settle the allocation once the write is done"]
pub struct Allocation {
    owner: String,
    reserved: Vec<String>,
    release: Vec<String>,
}

/// The reservation value naming the Service `object` stored under `key`.
pub fn owner_tag(key: &str, object: &Object) -> String {
    format!("{key}#{}", object.meta().uid)
}

fn ip_key(ip: Ipv4Addr) -> String {
    format!("{IP_PREFIX}{ip}")
}

fn port_key(port: u16) -> String {
    format!("{PORT_PREFIX}{port}")
}

fn service_spec_mut(object: &mut Object) -> Option<&mut ServiceSpec> {
    match &mut object.kind {
        Some(K::Service(s)) => Some(s.spec.get_or_insert_with(Default::default)),
        _ => None,
    }
}

pub(crate) fn service_spec(object: &Object) -> Option<&ServiceSpec> {
    match &object.kind {
        Some(K::Service(s)) => s.spec.as_ref(),
        _ => None,
    }
}

fn store_error(what: &str, e: store::Error) -> ApiError {
    match e {
        store::Error::Closed => {
            ApiError::new(proto::Reason::Unavailable, "apiserver is shutting down")
        }
        e => ApiError::internal(format!(
            "Internal error occurred: failed to allocate a {what}: {e}"
        )),
    }
}

fn invalid(object: &Object, errors: &[FieldError]) -> ApiError {
    ApiError::invalid(format!(
        "Service {:?} is invalid: {}",
        object.meta().name,
        proto::validation::join(errors)
    ))
}

/// Clients that replace a Service without its allocated values keep them (see
/// `plan::keep_allocated_values`); a no-op for other kinds.
pub fn keep_allocated_values(new: &mut Object, old: &Object) {
    if let (Some(old), Some(new)) = (service_spec(old).cloned(), service_spec_mut(new)) {
        plan::keep_allocated_values(new, &old);
    }
}

impl ServiceAllocator {
    pub fn new(cidr: Ipv4Cidr, ports: PortRange) -> Self {
        ServiceAllocator { cidr, ports }
    }

    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    pub fn ports(&self) -> PortRange {
        self.ports
    }

    /// Before `new` is written under the store key `owner` (a create when `old` is `None`): reserves
    /// what it asks for or needs, fills `spec.clusterIP(s)`, the IP family fields and
    /// `nodePort`s. A dry run checks and fills but reserves nothing. A no-op for other kinds.
    pub async fn allocate<S: Store>(
        &self,
        store: &S,
        owner: &str,
        old: Option<&Object>,
        new: &mut Object,
        dry_run: bool,
    ) -> Result<Allocation, ApiError> {
        let old_spec = old.and_then(service_spec).cloned();
        let Some(spec) = service_spec_mut(new) else {
            return Ok(Allocation::default());
        };
        let mut spec = spec.clone();
        let plan = plan::plan(&self.cidr, &self.ports, old_spec.as_ref(), &spec)
            .map_err(|errors| invalid(new, &errors))?;
        let mut allocation = Allocation {
            owner: owner_tag(owner, new),
            reserved: Vec::new(),
            release: plan
                .release_ip
                .map(ip_key)
                .into_iter()
                .chain(plan.release_ports.iter().map(|p| port_key(*p)))
                .collect(),
        };
        match self
            .reserve_plan(store, &plan, &mut spec, &mut allocation, dry_run)
            .await
        {
            Ok(()) => {
                if let Some(s) = service_spec_mut(new) {
                    *s = spec;
                }
                // A dry run holds nothing, so has nothing to settle.
                Ok(if dry_run {
                    Allocation::default()
                } else {
                    allocation
                })
            }
            Err(refusal) => {
                if !dry_run {
                    self.settle(store, allocation, false).await;
                }
                Err(match refusal {
                    Refusal::Invalid(errors) => invalid(new, &errors),
                    Refusal::Other(e) => e,
                })
            }
        }
    }

    async fn reserve_plan<S: Store>(
        &self,
        store: &S,
        plan: &plan::Plan,
        spec: &mut ServiceSpec,
        allocation: &mut Allocation,
        dry_run: bool,
    ) -> Result<(), Refusal> {
        let owner = allocation.owner.clone();
        let ip = match plan.ip {
            Action::None => None,
            Action::Keep(ip) => Some(ip),
            Action::Reserve(ip) => {
                let key = ip_key(ip);
                match self.reserve(store, &key, &owner, dry_run).await? {
                    Reserved::Taken => return Err(Refusal::Invalid(vec![plan::ip_taken(ip)])),
                    Reserved::New => allocation.reserved.push(key),
                    Reserved::Already => {}
                }
                Some(ip)
            }
            Action::Allocate => {
                let cidr = self.cidr;
                let ip = choose_and_reserve(
                    store,
                    IP_PREFIX,
                    &owner,
                    dry_run,
                    "serviceIP",
                    |used, start| cidr.choose_free(used, start),
                )
                .await?;
                allocation.reserved.push(ip_key(ip));
                Some(ip)
            }
        };
        plan::fill_ip(spec, ip);
        for (i, action) in plan.ports.iter().enumerate() {
            let port = match *action {
                Action::None | Action::Keep(_) => continue,
                Action::Reserve(port) => {
                    let key = port_key(port);
                    match self.reserve(store, &key, &owner, dry_run).await? {
                        Reserved::Taken => {
                            return Err(Refusal::Invalid(vec![plan::port_taken(i, port)]));
                        }
                        Reserved::New => allocation.reserved.push(key),
                        Reserved::Already => {}
                    }
                    port
                }
                Action::Allocate => {
                    let range = self.ports;
                    let port = choose_and_reserve(
                        store,
                        PORT_PREFIX,
                        &owner,
                        dry_run,
                        "nodePort",
                        |used, start| range.choose_free(used, start),
                    )
                    .await?;
                    allocation.reserved.push(port_key(port));
                    port
                }
            };
            if let Some(p) = spec.ports.get_mut(i) {
                p.node_port = i32::from(port);
            }
        }
        Ok(())
    }

    /// Reserves `key` for `owner`.
    async fn reserve<S: Store>(
        &self,
        store: &S,
        key: &str,
        owner: &str,
        dry_run: bool,
    ) -> Result<Reserved, Refusal> {
        let holder = async || {
            let held = store
                .get(key)
                .await
                .map_err(|e| Refusal::Other(store_error("reservation", e)))?;
            Ok(match held {
                None => Reserved::New,
                Some(kv) if kv.value == owner.as_bytes() => Reserved::Already,
                Some(_) => Reserved::Taken,
            })
        };
        if dry_run {
            return holder().await;
        }
        match store.create(key, Bytes::from(owner.to_string())).await {
            Ok(_) => {
                debug!(key, owner, "reserved");
                Ok(Reserved::New)
            }
            // Released in between: taken by whoever wins the next try, so call it taken.
            Err(store::Error::AlreadyExists(_)) => match holder().await? {
                Reserved::New => Ok(Reserved::Taken),
                other => Ok(other),
            },
            Err(e) => Err(Refusal::Other(store_error("reservation", e))),
        }
    }

    /// After the write `allocation` was made for: when it was stored, gives up what the
    /// Service no longer holds; when it failed, gives back what was reserved for it.
    /// Failures are logged, not returned: the write's outcome stands, and `repair` at the
    /// next start releases anything left over.
    pub async fn settle<S: Store>(&self, store: &S, allocation: Allocation, written: bool) {
        let keys = if written {
            allocation.release
        } else {
            allocation.reserved
        };
        for key in keys {
            release(store, &key, &allocation.owner).await;
        }
    }

    /// After the Service `object` stored under the key `owner` was deleted: releases its
    /// values.
    pub async fn release_all<S: Store>(&self, store: &S, owner: &str, object: &Object) {
        let Some(spec) = service_spec(object) else {
            return;
        };
        let owner = &owner_tag(owner, object);
        let keys = plan::held_ip(spec)
            .map(ip_key)
            .into_iter()
            .chain(plan::held_ports(spec).into_iter().map(port_key));
        for key in keys {
            release(store, &key, owner).await;
        }
    }

    /// Mends reservations at start; see `repair`.
    pub async fn repair<S: Store>(&self, store: &S) -> Result<Repaired, ApiError> {
        repair::repair(self, store).await
    }
}

/// Who holds a value after asking for it.
enum Reserved {
    /// This write reserved it: to be given back if the write fails.
    New,
    /// This Service held it already (a concurrent write of the same Service, or a
    /// reservation repair made): not this write's to give back.
    Already,
    Taken,
}

/// Why a reservation step stopped.
enum Refusal {
    Invalid(Vec<FieldError>),
    Other(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Other(e)
    }
}

/// The values reserved under `prefix`.
async fn used_values<S: Store, T: FromStr + Eq + Hash>(
    store: &S,
    prefix: &str,
) -> Result<HashSet<T>, store::Error> {
    let page = store.list(prefix, None, 0).await?;
    Ok(page
        .items
        .iter()
        .filter_map(|kv| kv.key.strip_prefix(prefix)?.parse().ok())
        .collect())
}

/// Chooses a free value from a random start (so concurrent writers rarely contend) and
/// reserves it; a value another writer took meanwhile is marked used and another chosen.
async fn choose_and_reserve<S, T, F>(
    store: &S,
    prefix: &str,
    owner: &str,
    dry_run: bool,
    what: &str,
    choose: F,
) -> Result<T, Refusal>
where
    S: Store,
    T: FromStr + Eq + Hash + Display + Copy,
    F: Fn(&HashSet<T>, u32) -> Option<T>,
{
    // A value from a random start is almost always free (ranges hold thousands to millions
    // of values), so the reserved set is read only once a value turns out taken. Reading
    // it for every allocation made creating n Services cost O(n^2): 10000 took 30 s. A dry
    // run reserves nothing, so it must know what is taken up front.
    let list = || async {
        used_values(store, prefix)
            .await
            .map_err(|e| store_error(what, e))
    };
    let mut listed = dry_run;
    let mut used: HashSet<T> = if dry_run {
        list().await?
    } else {
        HashSet::new()
    };
    for _ in 0..ATTEMPTS {
        let value = choose(&used, rand::random()).ok_or_else(|| {
            ApiError::internal(format!(
                "Internal error occurred: failed to allocate a {what}: range is full"
            ))
        })?;
        if dry_run {
            return Ok(value);
        }
        let key = format!("{prefix}{value}");
        match store.create(&key, Bytes::from(owner.to_string())).await {
            Ok(_) => {
                debug!(key, owner, "allocated");
                return Ok(value);
            }
            Err(store::Error::AlreadyExists(_)) => {
                if !listed {
                    used = list().await?;
                    listed = true;
                }
                used.insert(value);
            }
            Err(e) => return Err(store_error(what, e).into()),
        }
    }
    Err(ApiError::internal(format!(
        "Internal error occurred: failed to allocate a {what}: too many concurrent allocations, try again"
    ))
    .into())
}

/// Deletes the reservation `key` if `owner` holds it.
async fn release<S: Store>(store: &S, key: &str, owner: &str) {
    let held = match store.get(key).await {
        Ok(Some(kv)) => kv,
        Ok(None) => return,
        Err(e) => {
            warn!(key, error = %e, "cannot read a reservation to release it");
            return;
        }
    };
    if held.value != owner.as_bytes() {
        return;
    }
    match store.delete(key, Some(held.mod_revision)).await {
        Ok(_) => debug!(key, owner, "released"),
        // Changed hands meanwhile: no longer ours to release.
        Err(store::Error::NotFound(_) | store::Error::Conflict { .. }) => {}
        Err(e) => warn!(key, error = %e, "cannot release a reservation"),
    }
}
