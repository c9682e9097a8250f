//! The stateful part of the nftables backend: remembers what is live, applies the plan to
//! the desired state as one `nft -f` transaction, and rebuilds the table after a failure.

use super::plan::plan_sync;
use super::render::{NftRuleset, TABLE};
use super::runner::Nft;
use super::stale::stale_udp_flows;
use crate::error::Error;
use crate::model::SyncOutcome;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct NftProxier {
    nft: Arc<dyn Nft>,
    /// What the kernel holds since the last successful sync; None: unknown.
    applied: Option<Arc<NftRuleset>>,
}

impl NftProxier {
    pub fn new(nft: Arc<dyn Nft>) -> Self {
        NftProxier { nft, applied: None }
    }

    pub fn applied(&self) -> Option<Arc<NftRuleset>> {
        self.applied.clone()
    }

    /// Moves the table to `desired`: incrementally from the last good sync, or by
    /// rebuilding it (one transaction) when `force_full` or the live state is unknown.
    pub fn sync(
        &mut self,
        desired: Arc<NftRuleset>,
        force_full: bool,
    ) -> Result<SyncOutcome, Error> {
        let previous = self.applied.take();
        let mut applied = if force_full { None } else { previous.clone() };
        if applied.is_some() {
            // As Kubernetes' proxiers guard against outside edits: what we applied is only
            // known to be live if nobody else committed since (the generation is per
            // namespace, so any writer counts).
            let others = self.nft.changed_by_others().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the nftables generation failed; rebuilding the table");
                true
            });
            if others {
                tracing::info!(
                    "the nftables ruleset changed since our last sync (another writer); rebuilding the table"
                );
                applied = None;
            }
        }
        let plan = plan_sync(applied.as_deref(), &desired);
        let mut out = SyncOutcome {
            full: plan.full,
            restored: !plan.is_empty(),
            transactions: usize::from(!plan.is_empty()),
            chains_written: plan.chains_written,
            rules_written: plan.rules_written,
            chains_deleted: plan.chains_deleted,
            restore_lines: plan.lines(),
            restore_time: Duration::ZERO,
        };
        if !plan.is_empty() {
            let start = Instant::now();
            self.nft.apply(&plan.text)?;
            out.restore_time = start.elapsed();
        }
        // UDP flows to endpoints that went away would stay DNATed to them.
        let stale = stale_udp_flows(previous.as_deref(), &desired);
        if !stale.is_empty() {
            match self.nft.delete_conntrack(&stale) {
                Ok(n) => tracing::debug!(
                    filters = stale.len(),
                    deleted = n,
                    "stale UDP conntrack entries deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "deleting stale UDP conntrack entries failed"),
            }
        }
        self.applied = Some(desired);
        Ok(out)
    }
}

/// `--cleanup` for this backend: deletes `table ip kube-proxy` (and with it every chain,
/// map and set this backend made). True if there was one.
pub fn cleanup(nft: &dyn Nft) -> Result<bool, Error> {
    if !nft.table_exists()? {
        return Ok(false);
    }
    nft.apply(&format!("delete table ip {TABLE}\n"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ServicePort};
    use crate::nftables::plan::plan_sync;
    use crate::nftables::render::{NodeConfig, render};
    use crate::nftables::runner::FakeNft;

    fn sp(i: usize, endpoints: usize, affinity: bool) -> ServicePort {
        ServicePort {
            namespace: "ns".into(),
            name: format!("s{i}"),
            port_name: if i % 4 == 1 {
                "http".into()
            } else {
                String::new()
            },
            protocol: Protocol::Tcp,
            cluster_ip: [10, 96, (i / 256) as u8, (i % 256) as u8].into(),
            port: 80,
            node_port: i.is_multiple_of(3).then_some(30000 + i as u16),
            external_ips: if i % 5 == 2 {
                vec![[192, 0, 2, i as u8].into()]
            } else {
                vec![]
            },
            affinity_timeout: affinity.then_some(600),
            endpoints: (0..endpoints)
                .map(|e| Endpoint {
                    ip: [10, 244, (i % 250) as u8, e as u8 + 1].into(),
                    port: 8080,
                })
                .collect(),
        }
    }

    fn rules(ports: &[ServicePort]) -> Arc<NftRuleset> {
        Arc::new(render(
            ports,
            &NodeConfig {
                cluster_cidr: Some("10.244.0.0/16".into()),
            },
        ))
    }

    /// What a fresh full load of `want` leaves in a fake.
    fn fresh(want: &NftRuleset) -> crate::nftables::runner::FakeTable {
        let f = FakeNft::new();
        f.apply(&plan_sync(None, want).text).unwrap();
        f.table().unwrap()
    }

    #[test]
    fn incremental_syncs_reach_the_same_table_as_a_full_load() {
        let fake = Arc::new(FakeNft::new());
        let mut p = NftProxier::new(fake.clone());
        let mut ports: Vec<ServicePort> = (0..40).map(|i| sp(i, 3, i % 7 == 0)).collect();
        let out = p.sync(rules(&ports), false).unwrap();
        assert!(out.full && out.restored);
        // Remove services, add some, empty one, grow one, shrink an affinity one, make an
        // empty one ready.
        ports.retain(|s| s.name != "s3" && s.name != "s14");
        ports.push(sp(70, 2, true));
        ports.push(sp(71, 0, false));
        ports[0].endpoints.pop();
        ports[1].endpoints.clear();
        ports[2].endpoints.push(Endpoint {
            ip: [10, 250, 1, 1].into(),
            port: 8080,
        });
        let want = rules(&ports);
        let out = p.sync(want.clone(), false).unwrap();
        assert!(!out.full && out.restored && out.chains_deleted > 0);
        assert_eq!(fake.table().unwrap(), fresh(&want));
        ports[1].endpoints.push(Endpoint {
            ip: [10, 250, 1, 2].into(),
            port: 8080,
        });
        let want = rules(&ports);
        p.sync(want.clone(), false).unwrap();
        assert_eq!(fake.table().unwrap(), fresh(&want));
        // Nothing changed: nothing applied.
        fake.clear_inputs();
        let out = p.sync(rules(&ports), false).unwrap();
        assert!(!out.restored);
        assert!(fake.inputs().is_empty());
        // Everything away: the skeleton stays.
        let empty = rules(&[]);
        p.sync(empty.clone(), false).unwrap();
        assert_eq!(fake.table().unwrap(), fresh(&empty));
    }

    #[test]
    fn a_failed_sync_makes_the_next_one_full_and_it_repairs() {
        let fake = Arc::new(FakeNft::new());
        let mut p = NftProxier::new(fake.clone());
        let mut ports: Vec<ServicePort> = (0..5).map(|i| sp(i, 2, false)).collect();
        p.sync(rules(&ports), false).unwrap();
        ports[1].endpoints.clear();
        fake.fail_next_applies(1);
        assert!(p.sync(rules(&ports), false).is_err());
        assert!(p.applied().is_none());
        // Someone added a chain to our table meanwhile: the rebuild drops it.
        fake.apply("add chain ip kube-proxy stray\n").unwrap();
        let want = rules(&ports);
        let out = p.sync(want.clone(), false).unwrap();
        assert!(out.full);
        assert_eq!(fake.table().unwrap(), fresh(&want));
    }

    #[test]
    fn another_writer_makes_the_next_sync_full() {
        let fake = Arc::new(FakeNft::new());
        let mut p = NftProxier::new(fake.clone());
        let mut ports: Vec<ServicePort> = (0..5).map(|i| sp(i, 2, false)).collect();
        p.sync(rules(&ports), false).unwrap();
        ports[1].endpoints.pop();
        assert!(!p.sync(rules(&ports), false).unwrap().full);
        fake.touch_by_other();
        ports[2].endpoints.pop();
        let want = rules(&ports);
        let out = p.sync(want.clone(), false).unwrap();
        assert!(out.full, "a foreign commit must rebuild the table");
        assert_eq!(fake.table().unwrap(), fresh(&want));
        ports[3].endpoints.pop();
        assert!(!p.sync(rules(&ports), false).unwrap().full);
    }

    #[test]
    fn a_removed_udp_endpoint_asks_for_its_conntrack_entries_to_go() {
        let fake = Arc::new(FakeNft::new());
        let mut p = NftProxier::new(fake.clone());
        let mut udp = sp(1, 2, false);
        udp.protocol = Protocol::Udp;
        p.sync(rules(&[udp.clone(), sp(2, 2, false)]), false)
            .unwrap();
        assert!(fake.conntrack_deletes().is_empty());
        let gone = udp.endpoints.remove(0);
        p.sync(rules(&[udp.clone(), sp(2, 1, false)]), false)
            .unwrap();
        let f = fake.conntrack_deletes();
        assert!(
            !f.is_empty() && f.iter().all(|f| f.reply_src == gone.ip),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.orig_dst == Some(udp.cluster_ip) && f.orig_dport == 80)
        );
    }

    #[test]
    fn cleanup_deletes_the_table_once() {
        let fake = Arc::new(FakeNft::new());
        let mut p = NftProxier::new(fake.clone());
        p.sync(rules(&[sp(0, 2, false)]), false).unwrap();
        assert!(cleanup(fake.as_ref()).unwrap());
        assert!(fake.table().is_none());
        assert!(!cleanup(fake.as_ref()).unwrap());
    }
}
