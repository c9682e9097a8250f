//! What a node still holds for things that no longer exist: per-service iptables chains and
//! rules, nftables chains and map elements, containers, pod addresses. Each finder takes the
//! text a node gave (`iptables-save -t nat`, `nft list table ip kube-proxy`, `docker ps`, the
//! kubelet's IPAM files) and what the API says exists, and names every leftover.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// `ns/name` of the services named in iptables rule comments (`"ns/name:port cluster IP"`).
pub fn iptables_comment_services(save: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in save.lines() {
        let Some((_, rest)) = line.split_once("--comment ") else {
            continue;
        };
        let text = match rest.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or(""),
            None => rest.split_whitespace().next().unwrap_or(""),
        };
        let first = text.split_whitespace().next().unwrap_or("");
        let svc = first.split(':').next().unwrap_or("");
        if svc.split('/').count() == 2 && !svc.starts_with('/') && !svc.ends_with('/') {
            out.insert(svc.to_string());
        }
    }
    out
}

/// Per-service chains (`KUBE-SVC-`, `KUBE-SEP-`, `KUBE-EXT-`, `KUBE-FW-`, `KUBE-SVL-`)
/// declared in an `iptables-save` but jumped to by no rule: left behind by a deleted service.
pub fn iptables_orphan_chains(save: &str) -> BTreeSet<String> {
    const PER_SERVICE: [&str; 5] = [
        "KUBE-SVC-",
        "KUBE-SEP-",
        "KUBE-EXT-",
        "KUBE-FW-",
        "KUBE-SVL-",
    ];
    let declared: BTreeSet<&str> = save
        .lines()
        .filter_map(|l| l.strip_prefix(':'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| PER_SERVICE.iter().any(|p| c.starts_with(p)))
        .collect();
    let mut referenced = BTreeSet::new();
    for line in save.lines().filter(|l| l.starts_with("-A ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(2) {
            if w[0] == "-j" || w[0] == "-g" {
                referenced.insert(w[1]);
            }
        }
    }
    declared
        .difference(&referenced)
        .map(|c| c.to_string())
        .collect()
}

/// `ns/name` of the services named by nftables objects: kube-proxy's per-service chains,
/// maps and sets are `<prefix>-<HASH8>-<ns>/<name>/<proto>/<port>[__<endpoint>]`.
pub fn nft_services(listing: &str) -> BTreeSet<String> {
    const PREFIXES: [&str; 6] = [
        "service-",
        "endpoints-",
        "endpoint-",
        "external-",
        "affinity-",
        "firewall-",
    ];
    let mut out = BTreeSet::new();
    for raw in listing.split(|c: char| c.is_whitespace() || "{},;\"".contains(c)) {
        let Some(rest) = PREFIXES.iter().find_map(|p| raw.strip_prefix(p)) else {
            continue;
        };
        let Some((hash, named)) = rest.split_once('-') else {
            continue;
        };
        let parts: Vec<&str> = named.split('/').collect();
        if hash.len() == 8 && parts.len() >= 3 && !parts[0].is_empty() && !parts[1].is_empty() {
            out.insert(format!("{}/{}", parts[0], parts[1]));
        }
    }
    out
}

/// Parses `a.b.c.d/len`.
pub fn parse_cidr(cidr: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, len) = cidr.split_once('/')?;
    let len: u8 = len.parse().ok()?;
    (len <= 32).then_some(())?;
    Some((ip.parse().ok()?, len))
}

fn contains(cidr: (Ipv4Addr, u8), ip: Ipv4Addr) -> bool {
    let mask = if cidr.1 == 0 {
        0
    } else {
        u32::MAX << (32 - cidr.1)
    };
    u32::from(ip) & mask == u32::from(cidr.0) & mask
}

/// Single addresses (bare or `/32`) of the service range that a node's rules mention.
pub fn service_range_ips(text: &str, range: (Ipv4Addr, u8)) -> BTreeSet<Ipv4Addr> {
    text.split(|c: char| c.is_whitespace() || "{},;\"".contains(c))
        .filter_map(|t| {
            let t = t.strip_suffix("/32").unwrap_or(t);
            t.parse::<Ipv4Addr>().ok()
        })
        .filter(|ip| contains(range, *ip))
        .collect()
}

/// What a node's proxy rules hold for services that are gone: names in `namespace` that are
/// not live, ClusterIPs in the service range that no live service has, orphan chains.
pub fn stale_rules(
    named: &BTreeSet<String>,
    ips: &BTreeSet<Ipv4Addr>,
    orphans: &BTreeSet<String>,
    live_services: &BTreeSet<String>,
    live_ips: &BTreeSet<Ipv4Addr>,
    namespace: &str,
) -> Vec<String> {
    let mut out: Vec<String> = named
        .iter()
        .filter(|s| s.starts_with(&format!("{namespace}/")) && !live_services.contains(*s))
        .map(|s| format!("rules for deleted service {s}"))
        .collect();
    out.extend(
        ips.difference(live_ips)
            .map(|ip| format!("rules for ClusterIP {ip}, which no service has")),
    );
    out.extend(orphans.iter().map(|c| format!("orphan chain {c}")));
    out
}

/// One container as `docker ps -a --format '{{.ID}} {{.Label "io.kubernetes.pod.uid"}}
/// {{.Label "io.kubernetes.pod.namespace"}}/{{.Label "io.kubernetes.pod.name"}} {{.State}}'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRow {
    pub id: String,
    pub pod_uid: String,
    pub pod: String,
    pub state: String,
}

pub fn parse_container_rows(text: &str) -> Vec<ContainerRow> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 4).then(|| ContainerRow {
                id: w[0].to_string(),
                pod_uid: w[1].to_string(),
                pod: w[2].to_string(),
                state: w[3].to_string(),
            })
        })
        .collect()
}

/// Containers whose pod no longer exists (or lives on another node).
pub fn container_leaks(rows: &[ContainerRow], pod_uids: &BTreeSet<String>) -> Vec<String> {
    rows.iter()
        .filter(|r| !pod_uids.contains(&r.pod_uid))
        .map(|r| {
            format!(
                "container {} ({} {}) of a pod that is gone",
                r.id, r.pod, r.state
            )
        })
        .collect()
}

/// Addresses the kubelet's IPAM holds for pods that no longer exist on its node.
pub fn ipam_leaks(
    allocated: &BTreeMap<String, String>,
    pod_uids: &BTreeSet<String>,
) -> Vec<String> {
    allocated
        .iter()
        .filter(|(_, uid)| !pod_uids.contains(*uid))
        .map(|(ip, uid)| format!("address {ip} held for pod uid {uid}, which is gone"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = r#"*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAA - [0:0]
:KUBE-SEP-BBBB - [0:0]
:KUBE-SVC-GONE - [0:0]
-A KUBE-SERVICES -m comment --comment "soak/s1:http cluster IP" -d 10.96.0.41/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAA
-A KUBE-SERVICES -m comment --comment "soak/s2:http has no endpoints" -d 10.96.0.42/32 -j REJECT
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS
-A KUBE-SVC-AAAA -m comment --comment soak/s1:http -j KUBE-SEP-BBBB
-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination 10.244.1.1:8080
COMMIT
"#;

    #[test]
    fn iptables_names_ips_and_orphans() {
        let named = iptables_comment_services(SAVE);
        assert_eq!(
            named,
            ["soak/s1", "soak/s2"]
                .map(String::from)
                .into_iter()
                .collect()
        );
        let orphans = iptables_orphan_chains(SAVE);
        assert_eq!(orphans, ["KUBE-SVC-GONE".to_string()].into_iter().collect());
        let range = parse_cidr("10.96.0.0/24").unwrap();
        let ips = service_range_ips(SAVE, range);
        assert_eq!(ips.len(), 2);
        let live: BTreeSet<String> = ["soak/s1".to_string()].into_iter().collect();
        let live_ips: BTreeSet<Ipv4Addr> = ["10.96.0.41".parse().unwrap()].into_iter().collect();
        let stale = stale_rules(&named, &ips, &orphans, &live, &live_ips, "soak");
        assert_eq!(stale.len(), 3, "{stale:?}");
        assert!(stale[0].contains("soak/s2"));
        assert!(stale[1].contains("10.96.0.42"));
        assert!(stale[2].contains("KUBE-SVC-GONE"));
        let other_ns = stale_rules(
            &named,
            &BTreeSet::new(),
            &BTreeSet::new(),
            &live,
            &live_ips,
            "x",
        );
        assert!(
            other_ns.is_empty(),
            "other namespaces are not ours to judge by name"
        );
    }

    #[test]
    fn nft_objects_name_their_service() {
        let listing = r#"table ip kube-proxy {
	map service-ips {
		elements = { 10.96.0.41 . tcp . 80 : goto service-ULMVA6XW-soak/s1/tcp/http,
			     10.96.0.50 . tcp . 80 : goto "service-ABCDEFGH-soak/old/tcp/"}
	}
	chain endpoint-KV2O7BCR-soak/s1/tcp/http__10.244.1.8/8080 {
	}
	chain service-endpoints-check {
	}
}"#;
        let named = nft_services(listing);
        assert_eq!(
            named,
            ["soak/old", "soak/s1"]
                .map(String::from)
                .into_iter()
                .collect()
        );
        let ips = service_range_ips(listing, parse_cidr("10.96.0.0/24").unwrap());
        assert_eq!(ips.len(), 2, "the endpoint 10.244.1.8 is not in the range");
    }

    #[test]
    fn containers_and_addresses_of_gone_pods() {
        let rows =
            parse_container_rows("abc u1 soak/d1-x running\ndef u2 soak/d1-y exited\nbad line\n");
        assert_eq!(rows.len(), 2);
        let pods: BTreeSet<String> = ["u1".to_string()].into_iter().collect();
        let leaks = container_leaks(&rows, &pods);
        assert_eq!(leaks.len(), 1);
        assert!(leaks[0].contains("def"), "{leaks:?}");
        let alloc: BTreeMap<String, String> = [("10.244.0.2", "u1"), ("10.244.0.3", "u9")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect();
        let leaks = ipam_leaks(&alloc, &pods);
        assert_eq!(
            leaks,
            vec!["address 10.244.0.3 held for pod uid u9, which is gone"]
        );
    }
}
