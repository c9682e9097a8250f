//! CoreDNS' metrics (`plugin/metrics/vars`): the same names, help texts, labels and
//! buckets, so the dashboards and alerts written for a Kubernetes cluster's CoreDNS read
//! this server too. Recorded by the serving loops ([`crate::server`]) for every response
//! sent, as CoreDNS' `vars.Report`.
//!
//! Label values as a kubeadm cluster's CoreDNS (one server block `.:53` with the
//! kubernetes, forward and prometheus plugins) shows them: `server` is `dns://:53` (with
//! the bound address when one is given: `dns://10.0.0.5:53`), `zone` is `.` for every
//! query that reaches the lookup and `dropped` for those refused before it (no question,
//! another class), `view` is empty, `plugin` says who wrote the answer (`kubernetes`,
//! `forward`, `acl`, or empty when the server itself did: FORMERR, NOTIMP, SERVFAIL).
//!
//! CoreDNS' README lists a `type` label on `coredns_dns_request_duration_seconds`; its
//! code (vars/report.go) records `{server, zone, view}` only, and so does this.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use telemetry::metrics::{self, Counter, Family, Gauge, Histogram, exponential_buckets};

/// `server` first, then the others: the server's value is shared (a reference count per
/// report, no copy), the others are constants.
type Labels<const N: usize> = (
    [(&'static str, Arc<String>); 1],
    [(&'static str, &'static str); N],
);
type HistogramFamily<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// CoreDNS' `plugin.TimeBuckets`: 0.25 ms doubling to 8 s.
fn time_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

/// CoreDNS' size buckets (bytes).
const SIZE_BUCKETS: [f64; 14] = [
    0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16e3, 32e3, 48e3, 64e3,
];

fn size_histogram() -> Histogram {
    Histogram::new(SIZE_BUCKETS)
}

pub struct DnsMetrics {
    requests: Family<Labels<5>, Counter>,
    responses: Family<Labels<4>, Counter>,
    duration: HistogramFamily<2>,
    request_size: HistogramFamily<3>,
    response_size: HistogramFamily<3>,
}

impl DnsMetrics {
    fn register() -> Self {
        let build: Family<[(&'static str, &'static str); 3], Gauge> = metrics::register(
            "coredns_build_info",
            "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
            Family::default(),
        );
        // A Rust build has no Go version and no revision recorded: empty, not made up.
        build
            .get_or_create(&[
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", ""),
                ("goversion", ""),
            ])
            .set(1);
        DnsMetrics {
            requests: metrics::register(
                "coredns_dns_requests",
                "Counter of DNS requests made per zone, protocol and family.",
                Family::default(),
            ),
            responses: metrics::register(
                "coredns_dns_responses",
                "Counter of response status codes.",
                Family::default(),
            ),
            duration: metrics::register(
                "coredns_dns_request_duration_seconds",
                "Histogram of the time (in seconds) each request took per zone.",
                Family::new_with_constructor(time_histogram),
            ),
            request_size: metrics::register(
                "coredns_dns_request_size_bytes",
                "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
                Family::new_with_constructor(size_histogram),
            ),
            response_size: metrics::register(
                "coredns_dns_response_size_bytes",
                "Size of the returned response in bytes.",
                Family::new_with_constructor(size_histogram),
            ),
        }
    }

    /// Records one response sent (CoreDNS' `vars.Report`).
    pub fn report(&self, r: &Report<'_>) {
        let server = || [("server", r.server.clone())];
        let (zone, view, proto) = (("zone", r.zone), ("view", ""), ("proto", r.proto));
        self.requests
            .get_or_create(&(
                server(),
                [zone, view, proto, ("family", r.family), ("type", r.qtype)],
            ))
            .inc();
        self.duration
            .get_or_create(&(server(), [zone, view]))
            .observe(r.duration.as_secs_f64());
        self.response_size
            .get_or_create(&(server(), [zone, view, proto]))
            .observe(r.response_size as f64);
        self.request_size
            .get_or_create(&(server(), [zone, view, proto]))
            .observe(r.request_size as f64);
        self.responses
            .get_or_create(&(
                server(),
                [zone, view, ("rcode", r.rcode), ("plugin", r.plugin)],
            ))
            .inc();
    }
}

/// The process's DNS metrics (registered on first use).
pub fn dns() -> &'static DnsMetrics {
    static M: LazyLock<DnsMetrics> = LazyLock::new(DnsMetrics::register);
    &M
}

/// One response, with its labels worked out ([`Report::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Report<'a> {
    /// CoreDNS' `server` label ([`server_label`]).
    pub server: &'a Arc<String>,
    pub zone: &'static str,
    /// `udp` or `tcp`.
    pub proto: &'static str,
    /// `1` (IPv4) or `2` (IPv6), the client's.
    pub family: &'static str,
    pub qtype: &'static str,
    pub rcode: &'static str,
    pub plugin: &'static str,
    pub request_size: usize,
    pub response_size: usize,
    pub duration: Duration,
}

impl<'a> Report<'a> {
    /// The labels of `response` to `query` (both whole DNS messages) from `peer`.
    pub fn new(
        server: &'a Arc<String>,
        udp: bool,
        peer: IpAddr,
        query: &[u8],
        response: &[u8],
        plugin: &'static str,
        duration: Duration,
    ) -> Self {
        let question = peek_question(query);
        Report {
            server,
            zone: match question {
                Some((_, class)) if class == crate::codec::CLASS_IN || class == 255 => ".",
                _ => "dropped",
            },
            proto: if udp { "udp" } else { "tcp" },
            family: family(peer),
            qtype: question.map_or("other", |(t, _)| qtype_name(t)),
            rcode: response.get(3).map_or("SERVFAIL", |b| rcode_name(b & 0x0f)),
            plugin,
            request_size: query.len(),
            response_size: response.len(),
            duration,
        }
    }
}

/// CoreDNS' `server` label: `dns://:53` for a wildcard address, `dns://<ip>:53` for a
/// bound one.
pub fn server_label(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("dns://:{}", addr.port())
    } else {
        format!("dns://{addr}")
    }
}

/// `1` for IPv4 (IPv4-mapped IPv6 included, as Go's `To4`), `2` for IPv6.
pub fn family(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "1",
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => "1",
        IpAddr::V6(_) => "2",
    }
}

/// CoreDNS' monitored query types by name; any other is `other`.
pub fn qtype_name(qtype: u16) -> &'static str {
    match qtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        64 => "SVCB",
        65 => "HTTPS",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        _ => "other",
    }
}

/// CoreDNS' `rcode.ToString` of a header's 4-bit code.
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "RCODE11",
        12 => "RCODE12",
        13 => "RCODE13",
        14 => "RCODE14",
        _ => "RCODE15",
    }
}

/// The first question's (type, class), read without decoding the message (the lookup
/// decodes it once; metrics need two numbers). None when there is no whole question.
pub fn peek_question(msg: &[u8]) -> Option<(u16, u16)> {
    let qdcount = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    if qdcount == 0 {
        return None;
    }
    let mut i = 12;
    loop {
        let len = *msg.get(i)?;
        match len {
            0 => {
                i += 1;
                break;
            }
            // A compression pointer ends the name.
            l if l & 0xc0 == 0xc0 => {
                i += 2;
                break;
            }
            l if l & 0xc0 != 0 => return None,
            l => i += 1 + usize::from(l),
        }
    }
    let field = |at: usize| Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]));
    Some((field(i)?, field(i + 2)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{TYPE_A, TYPE_SRV, query};

    #[test]
    fn labels_as_coredns() {
        assert_eq!(server_label("0.0.0.0:53".parse().unwrap()), "dns://:53");
        assert_eq!(server_label("[::]:53".parse().unwrap()), "dns://:53");
        assert_eq!(
            server_label("10.0.0.5:53".parse().unwrap()),
            "dns://10.0.0.5:53"
        );
        assert_eq!(family("10.244.0.3".parse().unwrap()), "1");
        assert_eq!(family("::ffff:10.244.0.3".parse().unwrap()), "1");
        assert_eq!(family("fd00::3".parse().unwrap()), "2");
        assert_eq!(qtype_name(TYPE_SRV), "SRV");
        assert_eq!(qtype_name(99), "other");
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(12), "RCODE12");
    }

    #[test]
    fn question_peeked_from_the_wire() {
        let q = query(1, "web.default.svc.cluster.local", TYPE_SRV);
        assert_eq!(peek_question(&q), Some((TYPE_SRV, 1)));
        // Cut inside the name, or no question at all.
        assert_eq!(peek_question(&q[..20]), None);
        let mut none = q.clone();
        none[5] = 0;
        assert_eq!(peek_question(&none), None);
        assert_eq!(peek_question(b"\x00"), None);
        // A reserved label type.
        let mut bad = q.clone();
        bad[12] = 0x80;
        assert_eq!(peek_question(&bad), None);
    }

    #[test]
    fn a_report_is_encoded_with_coredns_names() {
        let q = query(7, "web.default.svc.cluster.local", TYPE_A);
        let mut resp = q.clone();
        resp[2] |= 0x80;
        resp[3] = 0x83; // RA, NXDOMAIN
        let server = Arc::new("dns://:5399".to_string());
        let r = Report::new(
            &server,
            true,
            "10.244.1.9".parse().unwrap(),
            &q,
            &resp,
            "kubernetes",
            Duration::from_micros(300),
        );
        assert_eq!(
            (r.zone, r.proto, r.family, r.qtype, r.rcode),
            (".", "udp", "1", "A", "NXDOMAIN")
        );
        dns().report(&r);
        let text = telemetry::metrics::encode();
        for line in [
            r#"coredns_dns_requests_total{server="dns://:5399",zone=".",view="",proto="udp",family="1",type="A"} 1"#,
            r#"coredns_dns_responses_total{server="dns://:5399",zone=".",view="",rcode="NXDOMAIN",plugin="kubernetes"} 1"#,
            r#"coredns_dns_request_duration_seconds_bucket{le="0.0005",server="dns://:5399",zone=".",view=""} 1"#,
            r#"coredns_dns_request_duration_seconds_bucket{le="0.00025",server="dns://:5399",zone=".",view=""} 0"#,
            r#"coredns_dns_request_size_bytes_count{server="dns://:5399",zone=".",view="",proto="udp"} 1"#,
            r#"coredns_dns_response_size_bytes_sum{server="dns://:5399",zone=".",view="",proto="udp"} "#,
            r#"coredns_build_info{version=""#,
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
