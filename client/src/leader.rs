//! Leader election on a `Lease` (coordination.k8s.io), as client-go's leaderelection: the
//! holder renews `renewTime` every retry period; others take over once
//! `renewTime + leaseDurationSeconds` has passed or the holder released it. Every write is
//! an update guarded by the resourceVersion just read, so of two replicas racing for the
//! lease exactly one wins and the other sees a Conflict: nothing is overwritten blindly.

use crate::api::Api;
// Re-exported so `client::leader::Clock` keeps naming the one clock (lease stamps use it).
pub use crate::clock::{Clock, SystemClock};
use crate::dynamic::Client;
use proto::k8s::{Lease, LeaseSpec};
use proto::time::{format_rfc3339_micros, parse_rfc3339};
use proto::{ApiError, Reason, Resource};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("invalid leader election config: {0}")]
    InvalidConfig(String),
}

#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    pub lease_namespace: String,
    pub lease_name: String,
    /// Unique per replica (host name plus a random suffix, as client-go recommends).
    pub identity: String,
    /// How long a lease stays valid after its last renewal (default 15s).
    pub lease_duration: Duration,
    /// A leader that has not renewed for this long steps down (default 10s).
    pub renew_deadline: Duration,
    /// Between attempts to acquire or renew (default 2s).
    pub retry_period: Duration,
}

impl LeaderElectionConfig {
    pub fn new(lease_namespace: &str, lease_name: &str, identity: &str) -> Self {
        LeaderElectionConfig {
            lease_namespace: lease_namespace.to_string(),
            lease_name: lease_name.to_string(),
            identity: identity.to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// The same rules as client-go: a leader must give up before others may take over.
    pub fn validate(&self) -> Result<(), LeaderError> {
        let bad = |m: String| Err(LeaderError::InvalidConfig(m));
        if self.identity.is_empty() {
            return bad("identity must not be empty".into());
        }
        if self.lease_name.is_empty() || self.lease_namespace.is_empty() {
            return bad("lease name and namespace must not be empty".into());
        }
        if self.lease_duration <= self.renew_deadline {
            return bad(format!(
                "leaseDuration ({:?}) must be greater than renewDeadline ({:?})",
                self.lease_duration, self.renew_deadline
            ));
        }
        if self.renew_deadline <= self.retry_period {
            return bad(format!(
                "renewDeadline ({:?}) must be greater than retryPeriod ({:?})",
                self.renew_deadline, self.retry_period
            ));
        }
        if self.lease_duration.as_secs() < 1 {
            return bad(
                "leaseDuration must be at least 1s (the lease stores whole seconds)".into(),
            );
        }
        Ok(())
    }
}

/// What to do with the lease as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseDecision {
    /// No lease yet: create it.
    Create,
    /// Free (released or expired): take it.
    Acquire,
    /// Ours: renew it.
    Renew,
    /// Someone else holds a valid lease.
    Wait { holder: String },
}

/// Pure: the decision for `identity` given the lease's spec (None if absent) at `now`,
/// reading expiry from the lease's own renewTime (right when all clocks agree; the elector
/// itself uses `decide_observed`). A lease with a holder but no readable renewTime counts
/// as expired.
pub fn decide(
    lease: Option<&LeaseSpec>,
    identity: &str,
    now: SystemTime,
    default_duration: Duration,
) -> LeaseDecision {
    let renewed = lease.and_then(|l| parse_rfc3339(&l.renew_time));
    decide_observed(lease, identity, renewed, now, default_duration)
}

/// Pure: as `decide`, with the holder's last renewal dated `renewed` on OUR clock: the local
/// time we first saw the current record, as client-go does, so that clock skew between
/// replicas can never make two of them lead at once.
pub fn decide_observed(
    lease: Option<&LeaseSpec>,
    identity: &str,
    renewed: Option<SystemTime>,
    now: SystemTime,
    default_duration: Duration,
) -> LeaseDecision {
    let Some(spec) = lease else {
        return LeaseDecision::Create;
    };
    if spec.holder_identity == identity {
        return LeaseDecision::Renew;
    }
    if spec.holder_identity.is_empty() {
        return LeaseDecision::Acquire;
    }
    let duration = spec
        .lease_duration_seconds
        .filter(|s| *s > 0)
        .map_or(default_duration, |s| {
            Duration::from_secs(s.unsigned_abs().into())
        });
    match renewed {
        Some(renewed) if renewed + duration >= now => LeaseDecision::Wait {
            holder: spec.holder_identity.clone(),
        },
        _ => LeaseDecision::Acquire,
    }
}

/// What the elector last saw of another holder's lease, and when (local clock).
#[derive(Debug, Clone, PartialEq)]
struct Observation {
    holder: String,
    renew_time: String,
    at: SystemTime,
}

/// Pure: the lease after `identity` takes it (transitions count changes of holder).
pub fn acquired(mut lease: Lease, cfg: &LeaderElectionConfig, now: &str) -> Lease {
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if spec.holder_identity != cfg.identity {
        let had_holder = !spec.holder_identity.is_empty() || spec.lease_transitions.is_some();
        let n = spec.lease_transitions.unwrap_or(0);
        spec.lease_transitions = Some(if had_holder { n.saturating_add(1) } else { n });
        spec.acquire_time = now.to_string();
    }
    spec.holder_identity = cfg.identity.clone();
    spec.lease_duration_seconds =
        Some(i32::try_from(cfg.lease_duration.as_secs()).unwrap_or(i32::MAX));
    spec.renew_time = now.to_string();
    lease
}

/// Pure: the lease after its holder gives it up, so another replica takes over at once.
pub fn released(mut lease: Lease, now: &str) -> Lease {
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    spec.holder_identity.clear();
    spec.lease_duration_seconds = Some(1);
    spec.renew_time = now.to_string();
    spec.acquire_time = now.to_string();
    lease
}

/// Pure: whether a replica that believes it leads has gone too long without renewing
/// (Kubernetes' `LeaderElector.Check`): its last successful renewal, on our clock, is
/// older than the lease duration plus `tolerance`.
pub fn renewal_overdue(
    leading: bool,
    renewed: Option<SystemTime>,
    now: SystemTime,
    lease_duration: Duration,
    tolerance: Duration,
) -> bool {
    leading
        && renewed
            .is_none_or(|t| now.duration_since(t).unwrap_or_default() > lease_duration + tolerance)
}

/// How long past the lease's expiry a leader may go without renewing before its
/// `leaderElection` health check fails (kube-scheduler's and kube-controller-manager's
/// `NewLeaderHealthzAdaptor(20 * time.Second)`).
pub const HEALTHZ_TOLERANCE: Duration = Duration::from_secs(20);

/// Kubernetes' `leaderelection.HealthzAdaptor`: the daemon's `leaderElection` health check
/// made before the elector exists; passes until one is set, then asks it.
#[derive(Clone, Default)]
pub struct HealthzAdaptor {
    elector: Arc<std::sync::Mutex<Option<Arc<LeaderElector>>>>,
}

impl HealthzAdaptor {
    pub fn set(&self, elector: Arc<LeaderElector>) {
        *self.elector.lock().unwrap_or_else(|p| p.into_inner()) = Some(elector);
    }

    pub fn check(&self) -> Result<(), String> {
        match &*self.elector.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => e.check(HEALTHZ_TOLERANCE),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for HealthzAdaptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthzAdaptor").finish_non_exhaustive()
    }
}

pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderElectionConfig,
    clock: Arc<dyn Clock>,
    leading: watch::Sender<bool>,
    observed: std::sync::Mutex<Option<Observation>>,
    /// Our clock's time of the last successful acquire or renewal.
    renewed: std::sync::Mutex<Option<SystemTime>>,
    /// `leader_election_master_status{name=<lease name>}`.
    status: telemetry::metrics::Gauge,
}

impl LeaderElector {
    pub fn new(client: Client, config: LeaderElectionConfig) -> Result<Self, LeaderError> {
        config.validate()?;
        let (leading, _) = watch::channel(false);
        let status = crate::metrics::leader_status(&config.lease_name);
        status.set(0);
        Ok(LeaderElector {
            api: Api::namespaced(client, &config.lease_namespace),
            config,
            clock: Arc::new(SystemClock),
            leading,
            observed: std::sync::Mutex::new(None),
            renewed: std::sync::Mutex::new(None),
            status,
        })
    }

    fn set_leading(&self, leading: bool) {
        self.leading.send_replace(leading);
        self.status.set(i64::from(leading));
    }

    /// The `leaderElection` health check: fails when this replica believes it leads but
    /// has not renewed the lease for longer than its duration plus `tolerance`.
    pub fn check(&self, tolerance: Duration) -> Result<(), String> {
        let renewed = *self.renewed.lock().unwrap_or_else(|p| p.into_inner());
        if renewal_overdue(
            self.is_leader(),
            renewed,
            self.clock.now(),
            self.config.lease_duration,
            tolerance,
        ) {
            return Err(format!(
                "failed election to renew leadership on lease {}",
                self.config.lease_name
            ));
        }
        Ok(())
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// "Am I leader": flips to true on acquiring, to false on losing or releasing.
    /// Controllers start their work on true and stop it on false.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    fn now(&self) -> (SystemTime, String) {
        let t = self.clock.now();
        (t, format_rfc3339_micros(t))
    }

    /// The local time at which the lease's current record (holder and renewTime) was first
    /// seen; a changed record restarts the count.
    fn observe(&self, spec: &LeaseSpec, now: SystemTime) -> SystemTime {
        let mut observed = self.observed.lock().unwrap_or_else(|p| p.into_inner());
        match &*observed {
            Some(o) if o.holder == spec.holder_identity && o.renew_time == spec.renew_time => o.at,
            _ => {
                *observed = Some(Observation {
                    holder: spec.holder_identity.clone(),
                    renew_time: spec.renew_time.clone(),
                    at: now,
                });
                now
            }
        }
    }

    /// One attempt: true if the lease is ours afterwards. Losing a race (Conflict,
    /// AlreadyExists) is `Ok(false)`, not an error.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, ApiError> {
        let current = self.api.get_opt(&self.config.lease_name).await?;
        let (now, stamp) = self.now();
        let spec = current.as_ref().and_then(|l| l.spec.as_ref());
        let renewed = spec.map(|s| self.observe(s, now));
        let decision = decide_observed(
            spec,
            &self.config.identity,
            renewed,
            now,
            self.config.lease_duration,
        );
        let result = match (decision, current) {
            (LeaseDecision::Wait { holder }, _) => {
                tracing::debug!(%holder, "lease held by another replica");
                return Ok(false);
            }
            (LeaseDecision::Create, _) | (_, None) => {
                let mut lease = Lease::default();
                lease.meta_mut().name = self.config.lease_name.clone();
                lease.meta_mut().namespace = self.config.lease_namespace.clone();
                self.api
                    .create(&acquired(lease, &self.config, &stamp))
                    .await
            }
            (LeaseDecision::Acquire | LeaseDecision::Renew, Some(lease)) => {
                // `lease` keeps the resourceVersion it was read with: the update is a
                // compare-and-swap against that read.
                self.api
                    .update(&acquired(lease, &self.config, &stamp))
                    .await
            }
        };
        match result {
            Ok(_) => {
                *self.renewed.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
                Ok(true)
            }
            Err(e) if e.is(Reason::Conflict) || e.is(Reason::AlreadyExists) => {
                tracing::debug!(error = %e, "lost the race for the lease");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up if we hold it (true when it was released by this call).
    pub async fn release(&self) -> Result<bool, ApiError> {
        self.set_leading(false);
        let Some(lease) = self.api.get_opt(&self.config.lease_name).await? else {
            return Ok(false);
        };
        if lease.spec.as_ref().map(|s| s.holder_identity.as_str())
            != Some(self.config.identity.as_str())
        {
            return Ok(false);
        }
        let (_, stamp) = self.now();
        match self.api.update(&released(lease, &stamp)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is(Reason::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Campaigns, leads, renews, and campaigns again after losing the lease, until
    /// `cancel`; then releases the lease if held. Follow it through `subscribe`.
    pub async fn run(&self, cancel: CancellationToken) {
        let span = tracing::info_span!(
            "leader_election",
            lease = %format!("{}/{}", self.config.lease_namespace, self.config.lease_name),
            identity = %self.config.identity,
        );
        self.campaign(cancel).instrument(span).await
    }

    async fn campaign(&self, cancel: CancellationToken) {
        loop {
            if !self.acquire(&cancel).await {
                return;
            }
            self.set_leading(true);
            tracing::info!(identity = %self.config.identity, "became leader");
            let cancelled = self.renew_until_lost(&cancel).await;
            self.set_leading(false);
            if cancelled {
                match self.release().await {
                    Ok(true) => {
                        tracing::info!(identity = %self.config.identity, "released the lease")
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "could not release the lease"),
                }
                return;
            }
            tracing::warn!(identity = %self.config.identity, "lost leadership");
        }
    }

    /// False when cancelled before acquiring.
    async fn acquire(&self, cancel: &CancellationToken) -> bool {
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            match self.try_acquire_or_renew().await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "failed to acquire the lease; retrying"),
            }
            if !sleep_or_cancel(jittered(self.config.retry_period), cancel).await {
                return false;
            }
        }
    }

    /// Returns true when cancelled (still leading), false when leadership was lost.
    async fn renew_until_lost(&self, cancel: &CancellationToken) -> bool {
        let mut last_renew = tokio::time::Instant::now();
        loop {
            if !sleep_or_cancel(self.config.retry_period, cancel).await {
                return true;
            }
            let deadline = last_renew + self.config.renew_deadline;
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => last_renew = tokio::time::Instant::now(),
                Ok(Ok(false)) => return false,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "failed to renew the lease; retrying");
                    if tokio::time::Instant::now() >= deadline {
                        return false;
                    }
                }
                Err(_) => {
                    tracing::warn!(deadline = ?self.config.renew_deadline, "renew deadline passed");
                    return false;
                }
            }
        }
    }
}

/// Spreads replicas' retries so they do not hit the apiserver in lockstep (client-go's
/// JitterFactor 1.2).
fn jittered(d: Duration) -> Duration {
    d.mul_f64(1.0 + rand::rng().random_range(0.0..0.2))
}

async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.cancelled() => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_leader_is_unhealthy_once_its_renewal_is_overdue() {
        use super::*;
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (lease, tol) = (Duration::from_secs(15), HEALTHZ_TOLERANCE);
        let at = |s| t0 + Duration::from_secs(s);
        assert!(!renewal_overdue(true, Some(t0), at(35), lease, tol));
        assert!(renewal_overdue(true, Some(t0), at(36), lease, tol));
        assert!(
            !renewal_overdue(false, Some(t0), at(100), lease, tol),
            "a backup is healthy"
        );
        assert!(renewal_overdue(true, None, t0, lease, tol));
        // A clock stepping back never makes a fresh renewal look overdue.
        assert!(!renewal_overdue(true, Some(at(10)), t0, lease, tol));
        assert!(HealthzAdaptor::default().check().is_ok(), "no elector yet");
    }

    #[test]
    fn a_skewed_holder_clock_cannot_shorten_its_lease() {
        use super::*;
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        // The holder's clock runs an hour behind: by its own stamp the lease expired long ago.
        let spec = LeaseSpec {
            holder_identity: "other".into(),
            lease_duration_seconds: Some(15),
            renew_time: format_rfc3339_micros(t0 - Duration::from_secs(3600)),
            ..Default::default()
        };
        assert_eq!(
            decide(Some(&spec), "me", t0, Duration::from_secs(15)),
            LeaseDecision::Acquire
        );
        // Dated by when we saw it, it is still valid.
        assert!(matches!(
            decide_observed(
                Some(&spec),
                "me",
                Some(t0),
                t0 + Duration::from_secs(10),
                Duration::from_secs(15)
            ),
            LeaseDecision::Wait { .. }
        ));
        assert_eq!(
            decide_observed(
                Some(&spec),
                "me",
                Some(t0),
                t0 + Duration::from_secs(16),
                Duration::from_secs(15)
            ),
            LeaseDecision::Acquire
        );
    }

    use super::*;
    use std::time::UNIX_EPOCH;

    const D: Duration = Duration::from_secs(15);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn spec(holder: &str, renewed: u64, duration: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.into(),
            lease_duration_seconds: duration,
            renew_time: format_rfc3339_micros(at(renewed)),
            ..Default::default()
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(None, "me", at(0), D), LeaseDecision::Create);
        assert_eq!(
            decide(Some(&spec("me", 0, Some(15))), "me", at(100), D),
            LeaseDecision::Renew
        );
        assert_eq!(
            decide(Some(&spec("", 0, Some(15))), "me", at(1), D),
            LeaseDecision::Acquire
        );
        let other = spec("other", 0, Some(15));
        assert_eq!(
            decide(Some(&other), "me", at(15), D),
            LeaseDecision::Wait {
                holder: "other".into()
            },
            "valid up to and including renewTime + duration"
        );
        assert_eq!(
            decide(Some(&other), "me", at(16), D),
            LeaseDecision::Acquire
        );
        // The lease's own duration wins over ours.
        assert_eq!(
            decide(Some(&spec("other", 0, Some(60))), "me", at(30), D),
            LeaseDecision::Wait {
                holder: "other".into()
            }
        );
        assert_eq!(
            decide(Some(&spec("other", 0, None)), "me", at(16), D),
            LeaseDecision::Acquire
        );
        let garbled = LeaseSpec {
            holder_identity: "other".into(),
            renew_time: "yesterday".into(),
            ..Default::default()
        };
        assert_eq!(
            decide(Some(&garbled), "me", at(0), D),
            LeaseDecision::Acquire
        );
    }

    #[test]
    fn acquiring_counts_transitions_and_keeps_the_resource_version() {
        let cfg = LeaderElectionConfig::new("kube-system", "scheduler", "me");
        let mut lease = Lease {
            spec: Some(spec("other", 0, Some(15))),
            ..Default::default()
        };
        lease.meta_mut().resource_version = "42".into();
        lease.spec.as_mut().unwrap().lease_transitions = Some(3);
        let l = acquired(lease, &cfg, "T1");
        let s = l.spec.as_ref().unwrap();
        assert_eq!(
            (
                s.holder_identity.as_str(),
                s.lease_transitions,
                s.acquire_time.as_str()
            ),
            ("me", Some(4), "T1")
        );
        assert_eq!(
            (s.renew_time.as_str(), s.lease_duration_seconds),
            ("T1", Some(15))
        );
        assert_eq!(l.meta().resource_version, "42");
        // Renewing leaves acquireTime and transitions alone.
        let r = acquired(l, &cfg, "T2");
        let s = r.spec.as_ref().unwrap();
        assert_eq!(
            (
                s.acquire_time.as_str(),
                s.renew_time.as_str(),
                s.lease_transitions
            ),
            ("T1", "T2", Some(4))
        );
        // A brand-new lease starts at zero transitions.
        let fresh = acquired(Lease::default(), &cfg, "T0");
        assert_eq!(fresh.spec.unwrap().lease_transitions, Some(0));
    }

    #[test]
    fn release_frees_the_lease_for_others_at_once() {
        let l = released(
            Lease {
                spec: Some(spec("me", 0, Some(15))),
                ..Default::default()
            },
            &format_rfc3339_micros(at(1)),
        );
        let s = l.spec.as_ref().unwrap();
        assert_eq!(decide(Some(s), "other", at(1), D), LeaseDecision::Acquire);
    }

    #[test]
    fn config_rules() {
        let ok = LeaderElectionConfig::new("ns", "l", "me");
        assert!(ok.validate().is_ok());
        let mut bad = ok.clone();
        bad.renew_deadline = bad.lease_duration;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("renewDeadline")
        );
        let mut bad = ok.clone();
        bad.retry_period = bad.renew_deadline;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("retryPeriod")
        );
        let mut bad = ok;
        bad.identity.clear();
        assert!(bad.validate().unwrap_err().to_string().contains("identity"));
    }
}
