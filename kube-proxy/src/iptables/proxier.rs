//! The stateful part of the iptables backend: remembers the ruleset that is live, applies
//! the plan to the desired one, and falls back to a full rewrite after any failure.

use super::plan::{ExistingChains, plan_sync};
use super::render::{Ruleset, is_owned, jump_rules};
use super::runner::Iptables;
use crate::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub full: bool,
    /// False when nothing changed and no restore ran.
    pub restored: bool,
    pub transactions: usize,
    pub chains_written: usize,
    pub rules_written: usize,
    pub chains_deleted: usize,
    pub restore_lines: usize,
    pub restore_time: Duration,
}

pub struct Proxier {
    ipt: Arc<dyn Iptables>,
    /// What the kernel holds since the last successful sync; None: unknown (start, failure).
    applied: Option<Arc<Ruleset>>,
    max_lines: usize,
}

impl Proxier {
    pub fn new(ipt: Arc<dyn Iptables>, max_lines: usize) -> Self {
        Proxier {
            ipt,
            applied: None,
            max_lines,
        }
    }

    /// The ruleset live since the last successful sync.
    pub fn applied(&self) -> Option<Arc<Ruleset>> {
        self.applied.clone()
    }

    /// Forces the next sync to be a full rewrite.
    pub fn invalidate(&mut self) {
        self.applied = None;
    }

    /// Moves the kernel to `desired`: incrementally from the last good sync, or fully
    /// (every chain written, leftovers deleted, jump rules ensured) when `force_full` or
    /// when the live state is unknown. On error the next sync is a full one.
    pub fn sync(&mut self, desired: Arc<Ruleset>, force_full: bool) -> Result<SyncOutcome, Error> {
        let full = force_full || self.applied.is_none();
        let applied = if full { None } else { self.applied.take() };
        // Unknown until this sync succeeds.
        self.applied = None;
        let existing = if full {
            let mut e = ExistingChains::new();
            for t in ["nat", "filter"] {
                e.insert(t.to_string(), self.ipt.chains(t)?);
            }
            Some(e)
        } else {
            None
        };
        let plan = plan_sync(
            applied.as_deref(),
            existing.as_ref(),
            &desired,
            self.max_lines,
        );
        let mut out = SyncOutcome {
            full,
            restored: !plan.is_empty(),
            transactions: plan.transactions,
            chains_written: plan.chains_written,
            rules_written: plan.rules_written,
            chains_deleted: plan.chains_deleted,
            restore_lines: plan.text.lines().count(),
            restore_time: Duration::ZERO,
        };
        if !plan.is_empty() {
            let start = Instant::now();
            self.ipt.restore(&plan.text)?;
            out.restore_time = start.elapsed();
        }
        if full {
            for (table, chain, args) in jump_rules() {
                if self.ipt.ensure_rule(table, chain, &args)? {
                    tracing::info!(table, chain, rule = %args.join(" "), "added jump rule");
                }
            }
        }
        self.applied = Some(desired);
        Ok(out)
    }
}

/// `--cleanup`: removes the jump rules and every chain this proxy owns, in both tables,
/// leaving everything else (Docker's chains, the host's rules) alone. Returns the number
/// of chains deleted.
pub fn cleanup(ipt: &dyn Iptables, max_lines: usize) -> Result<usize, Error> {
    for (table, chain, args) in jump_rules() {
        if ipt.delete_rule(table, chain, &args)? {
            tracing::info!(table, chain, rule = %args.join(" "), "deleted jump rule");
        }
    }
    let mut existing = ExistingChains::new();
    for t in ["nat", "filter"] {
        let owned = ipt
            .chains(t)?
            .into_iter()
            .filter(|c| is_owned(t, c))
            .collect();
        existing.insert(t.to_string(), owned);
    }
    let count = existing.values().map(|s| s.len()).sum();
    let plan = plan_sync(None, Some(&existing), &Ruleset::default(), max_lines);
    if !plan.is_empty() {
        ipt.restore(&plan.text)?;
    }
    Ok(count)
}
