//! Sync metrics, logged after every sync and served in the Prometheus text format on
//! `--metrics-bind-address` (`GET /metrics`; `/healthz` answers `ok`). The HTTP side is a
//! few lines over a tokio `TcpListener`: one request per connection, no keep-alive.

use crate::error::Error;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Upper bounds (seconds) of the sync-duration histogram buckets (Kubernetes' exponential
/// buckets from 1 ms).
const BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048,
];

#[derive(Debug, Default)]
pub struct Metrics {
    pub syncs: AtomicU64,
    pub full_syncs: AtomicU64,
    pub sync_failures: AtomicU64,
    pub restores_skipped: AtomicU64,
    /// Microseconds.
    sync_sum_us: AtomicU64,
    buckets: [AtomicU64; 12],
    pub last_sync_us: AtomicU64,
    pub last_restore_us: AtomicU64,
    pub last_restore_lines: AtomicU64,
    pub nat_rules: AtomicU64,
    pub filter_rules: AtomicU64,
    pub chains: AtomicU64,
    pub service_ports: AtomicU64,
    pub endpoints: AtomicU64,
    /// nftables mode: rules and map elements in the table.
    pub nft_rules: AtomicU64,
    pub nft_elements: AtomicU64,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Metrics::default())
    }

    pub fn observe_sync(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.sync_sum_us.fetch_add(us, Ordering::Relaxed);
        self.last_sync_us.store(us, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "kubeproxy_syncs_total",
            "counter",
            "Syncs attempted.",
            g(&self.syncs).to_string(),
        );
        metric(
            "kubeproxy_full_syncs_total",
            "counter",
            "Syncs that rewrote every chain.",
            g(&self.full_syncs).to_string(),
        );
        metric(
            "kubeproxy_sync_failures_total",
            "counter",
            "Syncs that failed (the next one is full).",
            g(&self.sync_failures).to_string(),
        );
        metric(
            "kubeproxy_sync_restores_skipped_total",
            "counter",
            "Syncs that found nothing to change.",
            g(&self.restores_skipped).to_string(),
        );
        metric(
            "kubeproxy_last_sync_duration_seconds",
            "gauge",
            "Duration of the last sync.",
            secs(g(&self.last_sync_us)),
        );
        metric(
            "kubeproxy_last_restore_duration_seconds",
            "gauge",
            "Duration of the last iptables-restore or nft -f.",
            secs(g(&self.last_restore_us)),
        );
        metric(
            "kubeproxy_last_restore_lines",
            "gauge",
            "Lines fed to the last iptables-restore or nft -f.",
            g(&self.last_restore_lines).to_string(),
        );
        metric(
            "kubeproxy_iptables_chains",
            "gauge",
            "Chains in the live ruleset.",
            g(&self.chains).to_string(),
        );
        metric(
            "kubeproxy_service_ports",
            "gauge",
            "Programmed service ports.",
            g(&self.service_ports).to_string(),
        );
        metric(
            "kubeproxy_ready_endpoints",
            "gauge",
            "Ready endpoints over all service ports.",
            g(&self.endpoints).to_string(),
        );
        metric(
            "kubeproxy_nftables_rules",
            "gauge",
            "Rules in the nftables table (nftables mode).",
            g(&self.nft_rules).to_string(),
        );
        metric(
            "kubeproxy_nftables_elements",
            "gauge",
            "Map elements in the nftables table (nftables mode).",
            g(&self.nft_elements).to_string(),
        );
        let name = "kubeproxy_iptables_total";
        let _ = writeln!(
            out,
            "# HELP {name} Rules in the live ruleset.\n# TYPE {name} gauge"
        );
        let _ = writeln!(out, "{name}{{table=\"nat\"}} {}", g(&self.nat_rules));
        let _ = writeln!(out, "{name}{{table=\"filter\"}} {}", g(&self.filter_rules));
        let name = "kubeproxy_sync_proxy_rules_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Sync duration.\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {}", g(&self.buckets[i]));
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", g(&self.syncs));
        let _ = writeln!(out, "{name}_sum {}", secs(g(&self.sync_sum_us)));
        let _ = writeln!(out, "{name}_count {}", g(&self.syncs));
        out
    }
}

fn secs(us: u64) -> String {
    format!("{:.6}", us as f64 / 1e6)
}

/// Binds now (so a bad address fails at start), serves until `cancel`.
pub async fn serve(
    addr: &str,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Metrics {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(address = %local, "serving metrics");
    Ok(tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = cancel.cancelled() => return,
                a = listener.accept() => a,
            };
            let Ok((mut conn, _)) = accepted else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                let n =
                    match tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await {
                        Ok(Ok(n)) => n,
                        _ => return,
                    };
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("/");
                let (status, body) = match path {
                    "/metrics" => ("200 OK", metrics.render()),
                    "/healthz" => ("200 OK", "ok\n".to_string()),
                    _ => ("404 Not Found", "not found\n".to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_prometheus_text() {
        let m = Metrics::new();
        m.observe_sync(Duration::from_millis(3));
        m.nat_rules.store(42, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let task = serve(&addr, m, cancel.clone()).await.unwrap();
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut body = String::new();
        c.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
        assert!(
            body.contains("\nkubeproxy_iptables_total{table=\"nat\"} 42\n"),
            "{body}"
        );
        assert!(
            body.contains("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.004\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.002\"} 0"),
            "{body}"
        );
        assert!(body.contains("kubeproxy_syncs_total 1"), "{body}");
        cancel.cancel();
        task.await.unwrap();
    }
}
