//! kube-proxy's metrics under Kubernetes' names, help texts and buckets
//! (`pkg/proxy/metrics`), registered once in the process's registry ([`telemetry::metrics`])
//! and served with `/healthz` by the daemon kit on `--metrics-bind-address`.
//!
//! Kubernetes labels most of them with `ip_family`; this proxy programs IPv4 only, so the
//! label is always `IPv4`. Mode-specific metrics are registered by the mode that uses them
//! (as Kubernetes' `RegisterMetrics(mode)`): [`iptables`] for iptables (and ipvs, whose
//! failures Kubernetes counts as restore failures), [`nftables`] for nftables.

use proto::k8s::Endpoints;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry::metrics::{
    self, Counter, Family, Gauge, Histogram, exponential_buckets, linear_buckets,
};

/// The `ip_family` label of every per-family metric.
pub type FamilyLabel = [(&'static str, &'static str); 1];
pub const IPV4: FamilyLabel = [("ip_family", "IPv4")];
/// `ip_family` and `table` (`kubeproxy_sync_proxy_rules_iptables_total`).
pub type TableLabel = [(&'static str, &'static str); 2];

/// A Unix time in seconds (Kubernetes' `SetToCurrentTime` gauges).
pub type TimestampGauge = Gauge<f64, AtomicU64>;
type HistogramFamily = Family<FamilyLabel, Histogram, fn() -> Histogram>;

/// Kubernetes' sync-duration buckets: `ExponentialBuckets(0.001, 2, 15)`, 1 ms to 16 s.
fn sync_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Kubernetes' network-programming buckets (`MergeBuckets`, which starts with 0): 0,
/// 0.25 s, 0.5 s, every second to 59 s, every 5 s to 115 s, every 30 s to 5 min.
pub fn network_programming_buckets() -> Vec<f64> {
    std::iter::once(0.0)
        .chain(linear_buckets(0.25, 0.25, 2))
        .chain(linear_buckets(1.0, 1.0, 59))
        .chain(linear_buckets(60.0, 5.0, 12))
        .chain(linear_buckets(120.0, 30.0, 7))
        .collect()
}

fn programming_histogram() -> Histogram {
    Histogram::new(network_programming_buckets())
}

fn histogram_family(name: &str, help: &str, new: fn() -> Histogram) -> HistogramFamily {
    let f = metrics::register(name, help, HistogramFamily::new_with_constructor(new));
    // Present from the start (zero counts), as Kubernetes' unlabelled histograms were.
    let _ = f.get_or_create(&IPV4);
    f
}

fn counter_family(name: &str, help: &str) -> Family<FamilyLabel, Counter> {
    let f = metrics::register(name, help, Family::<FamilyLabel, Counter>::default());
    let _ = f.get_or_create(&IPV4);
    f
}

fn timestamp_family(name: &str, help: &str) -> Family<FamilyLabel, TimestampGauge> {
    metrics::register(name, help, Family::default())
}

/// Seconds since the Unix epoch, for the timestamp gauges.
pub fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Set by the endpoints controller on the Endpoints it writes: when the Pod or Service
/// change that caused the write happened (RFC 3339).
pub const LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// When the change behind an Endpoints update was triggered, to measure network
/// programming from: the annotation, when this update set or changed it and it is later
/// than `since` (the proxy's start; earlier changes were programmed by whoever ran
/// before, and Kubernetes' tracker ignores them too). None: nothing to measure.
pub fn trigger_time(
    new: &Endpoints,
    old: Option<&Endpoints>,
    since: SystemTime,
) -> Option<SystemTime> {
    let value = |e: &Endpoints| {
        e.metadata
            .as_ref()
            .and_then(|m| m.annotations.get(LAST_CHANGE_TRIGGER_TIME).cloned())
    };
    let now = value(new)?;
    if old.and_then(value).as_deref() == Some(now.as_str()) {
        return None;
    }
    proto::time::parse_rfc3339(&now).filter(|t| *t > since)
}

/// What every mode records.
pub struct ProxyMetrics {
    pub sync_duration: HistogramFamily,
    pub sync_full_duration: HistogramFamily,
    pub sync_partial_duration: HistogramFamily,
    pub last_timestamp: Family<FamilyLabel, TimestampGauge>,
    pub last_queued_timestamp: Family<FamilyLabel, TimestampGauge>,
    pub network_programming: HistogramFamily,
    pub endpoint_changes_pending: Gauge,
    pub endpoint_changes: Counter,
    pub service_changes_pending: Gauge,
    pub service_changes: Counter,
}

impl ProxyMetrics {
    fn register() -> Self {
        ProxyMetrics {
            sync_duration: histogram_family(
                "kubeproxy_sync_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds",
                sync_histogram,
            ),
            // Kubernetes has these two in iptables mode only; here nftables syncs are full
            // or partial too, so both modes have them.
            sync_full_duration: histogram_family(
                "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for full resyncs",
                sync_histogram,
            ),
            sync_partial_duration: histogram_family(
                "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for partial resyncs",
                sync_histogram,
            ),
            last_timestamp: timestamp_family(
                "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                "The last time proxy rules were successfully synced",
            ),
            last_queued_timestamp: timestamp_family(
                "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                "The last time a sync of proxy rules was queued",
            ),
            network_programming: histogram_family(
                "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds",
                programming_histogram,
            ),
            endpoint_changes_pending: metrics::register(
                "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
                "Pending proxy rules Endpoint changes",
                Gauge::default(),
            ),
            endpoint_changes: metrics::register(
                "kubeproxy_sync_proxy_rules_endpoint_changes",
                "Cumulative proxy rules Endpoint changes",
                Counter::default(),
            ),
            service_changes_pending: metrics::register(
                "kubeproxy_sync_proxy_rules_service_changes_pending",
                "Pending proxy rules Service changes",
                Gauge::default(),
            ),
            service_changes: metrics::register(
                "kubeproxy_sync_proxy_rules_service_changes",
                "Cumulative proxy rules Service changes",
                Counter::default(),
            ),
        }
    }

    /// One sync's duration, successful or not (Kubernetes observes in a defer).
    pub fn observe_sync(&self, took: Duration, full: bool) {
        let secs = took.as_secs_f64();
        self.sync_duration.get_or_create(&IPV4).observe(secs);
        let by_kind = if full {
            &self.sync_full_duration
        } else {
            &self.sync_partial_duration
        };
        by_kind.get_or_create(&IPV4).observe(secs);
    }

    pub fn synced_at(&self, t: SystemTime) {
        self.last_timestamp
            .get_or_create(&IPV4)
            .set(unix_seconds(t));
    }

    pub fn queued_at(&self, t: SystemTime) {
        self.last_queued_timestamp
            .get_or_create(&IPV4)
            .set(unix_seconds(t));
    }

    /// A changed endpoint set is now programmed: the time since its change was triggered.
    pub fn programmed(&self, latency: Duration) {
        self.network_programming
            .get_or_create(&IPV4)
            .observe(latency.as_secs_f64());
    }
}

/// iptables mode (and ipvs, as Kubernetes registers the restore-failure counter there too).
pub struct IptablesMetrics {
    pub restore_failures: Family<FamilyLabel, Counter>,
    pub partial_restore_failures: Family<FamilyLabel, Counter>,
    pub rules: Family<TableLabel, Gauge>,
}

impl IptablesMetrics {
    fn register() -> Self {
        IptablesMetrics {
            restore_failures: counter_family(
                "kubeproxy_sync_proxy_rules_iptables_restore_failures",
                "Cumulative proxy iptables restore failures",
            ),
            partial_restore_failures: counter_family(
                "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures",
                "Cumulative proxy iptables partial restore failures",
            ),
            rules: metrics::register(
                "kubeproxy_sync_proxy_rules_iptables_total",
                "Total number of iptables rules owned by kube-proxy",
                Family::default(),
            ),
        }
    }

    /// A failed sync; `partial` as Kubernetes counts a failed partial restore twice (it
    /// falls back to a full one).
    pub fn failed(&self, partial: bool) {
        self.restore_failures.get_or_create(&IPV4).inc();
        if partial {
            self.partial_restore_failures.get_or_create(&IPV4).inc();
        }
    }

    /// Rules now in the kernel, per table.
    pub fn set_rules(&self, nat: usize, filter: usize) {
        for (table, n) in [("nat", nat), ("filter", filter)] {
            self.rules
                .get_or_create(&[IPV4[0], ("table", table)])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}

/// nftables mode.
pub struct NftablesMetrics {
    pub sync_failures: Family<FamilyLabel, Counter>,
}

impl NftablesMetrics {
    fn register() -> Self {
        NftablesMetrics {
            sync_failures: counter_family(
                "kubeproxy_sync_proxy_rules_nftables_sync_failures",
                "Cumulative proxy nftables sync failures",
            ),
        }
    }
}

/// The metrics of every mode (registered on first use).
pub fn proxy() -> &'static ProxyMetrics {
    static M: LazyLock<ProxyMetrics> = LazyLock::new(ProxyMetrics::register);
    &M
}

/// iptables (and ipvs) mode's metrics (registered on first use).
pub fn iptables() -> &'static IptablesMetrics {
    static M: LazyLock<IptablesMetrics> = LazyLock::new(IptablesMetrics::register);
    &M
}

/// nftables mode's metrics (registered on first use).
pub fn nftables() -> &'static NftablesMetrics {
    static M: LazyLock<NftablesMetrics> = LazyLock::new(NftablesMetrics::register);
    &M
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_programming_buckets_are_kubernetes_ones() {
        let b = network_programming_buckets();
        assert_eq!(b.len(), 1 + 2 + 59 + 12 + 7);
        assert_eq!(&b[..4], &[0.0, 0.25, 0.5, 1.0]);
        assert_eq!(b[61], 59.0);
        assert_eq!(b[62], 60.0);
        assert_eq!(b[73], 115.0);
        assert_eq!(b[74], 120.0);
        assert_eq!(*b.last().unwrap(), 300.0);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
    }

    fn eps(annotation: Option<&str>) -> Endpoints {
        let mut e = Endpoints::default();
        let mut meta = proto::k8s::ObjectMeta::default();
        if let Some(a) = annotation {
            meta.annotations
                .insert(LAST_CHANGE_TRIGGER_TIME.into(), a.into());
        }
        e.metadata = Some(meta);
        e
    }

    #[test]
    fn trigger_time_only_for_new_changes_after_start() {
        let start = proto::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let at = |s: &str| proto::time::parse_rfc3339(s);
        let later = eps(Some("2026-01-01T00:00:05.5Z"));
        assert_eq!(
            trigger_time(&later, None, start),
            at("2026-01-01T00:00:05.5Z")
        );
        assert_eq!(
            trigger_time(&later, Some(&eps(Some("2026-01-01T00:00:01Z"))), start),
            at("2026-01-01T00:00:05.5Z")
        );
        // Unchanged by this update (another writer touched the object): measured already.
        assert_eq!(trigger_time(&later, Some(&later), start), None);
        // Before the proxy started, absent, or not a time.
        assert_eq!(
            trigger_time(&eps(Some("2025-12-31T23:59:59Z")), None, start),
            None
        );
        assert_eq!(trigger_time(&eps(None), None, start), None);
        assert_eq!(trigger_time(&eps(Some("yesterday")), None, start), None);
    }

    /// The exposition carries Kubernetes' names, labels and buckets. The registry is the
    /// process's, shared with other tests: assertions are on lines only this test makes
    /// or on values that only grow.
    #[test]
    fn encoded_with_kubernetes_names() {
        let m = proxy();
        m.observe_sync(Duration::from_millis(3), true);
        m.observe_sync(Duration::from_micros(1500), false);
        m.synced_at(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        m.programmed(Duration::from_millis(700));
        m.endpoint_changes.inc();
        iptables().set_rules(42, 7);
        iptables().failed(true);
        let _ = nftables().sync_failures.get_or_create(&IPV4);
        let text = telemetry::metrics::encode();
        for line in [
            "# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram",
            r#"kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{le="0.002",ip_family="IPv4"} 0"#,
            r#"kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="0.002",ip_family="IPv4"} "#,
            r#"kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1700000000.0"#,
            r#"kubeproxy_network_programming_duration_seconds_bucket{le="0.5",ip_family="IPv4"} "#,
            r#"kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 42"#,
            r#"kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="filter"} 7"#,
            r#"kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total{ip_family="IPv4"} "#,
            "# TYPE kubeproxy_sync_proxy_rules_endpoint_changes counter",
            "kubeproxy_sync_proxy_rules_endpoint_changes_total ",
            "kubeproxy_sync_proxy_rules_service_changes_pending ",
            r#"kubeproxy_sync_proxy_rules_nftables_sync_failures_total{ip_family="IPv4"} "#,
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
