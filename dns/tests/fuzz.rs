//! Property-based fuzzing (proptest) of cluster DNS's wire handling: the query parser and
//! the whole answer path (`server::answer`, what the UDP and TCP loops run on every packet)
//! over random bytes and mutated valid queries. No packet may panic the server, and every
//! reply must be a well-formed DNS message that answers the query it came from. A longer
//! run: `PROPTEST_CASES=100000 cargo test --release -p cluster-dns --test fuzz`.

use std::collections::HashMap;
use std::sync::Arc;

use cluster_dns::codec::{
    self, CLASS_IN, TYPE_A, TYPE_ANY, TYPE_CNAME, TYPE_PTR, TYPE_SOA, TYPE_SRV, UDP_LIMIT,
};
use cluster_dns::server::{Outcome, answer};
use cluster_dns::table::Table;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use proto::Resource;
use proto::k8s::{Endpoints, Service};

fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

const OBJECTS: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.7
  ports: [{name: http, protocol: TCP, port: 80}, {name: dns, protocol: UDP, port: 53}]
---
apiVersion: v1
kind: Service
metadata: {name: pg, namespace: db}
spec:
  clusterIP: None
  ports: [{name: http, protocol: TCP, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: example.org}
---
apiVersion: v1
kind: Endpoints
metadata: {name: pg, namespace: db}
subsets:
- addresses: [{ip: 10.244.1.5, hostname: pg-0}, {ip: 10.244.2.6}]
  notReadyAddresses: [{ip: 10.244.3.7}]
  ports: [{name: http, protocol: TCP, port: 8080}]
"#;

fn table() -> &'static Table {
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut services = Vec::new();
        let mut endpoints = HashMap::new();
        for o in proto::manifest::load_documents(OBJECTS).expect("table objects load") {
            let o = match Service::try_from_object(o) {
                Ok(s) => {
                    services.push(Arc::new(s));
                    continue;
                }
                Err(o) => o,
            };
            if let Ok(e) = Endpoints::try_from_object(o) {
                let key = format!("{}/{}", e.meta().namespace, e.meta().name);
                endpoints.insert(key, Arc::new(e));
            }
        }
        Table::build("cluster.local", &services, &endpoints)
    })
}

/// Names inside and outside the cluster domain, reverse names, odd spellings.
fn qname() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "web.default.svc.cluster.local",
            "WEB.Default.SVC.cluster.local",
            "pg.db.svc.cluster.local",
            "pg-0.pg.db.svc.cluster.local",
            "_http._tcp.pg.db.svc.cluster.local",
            "_dns._udp.web.default.svc.cluster.local",
            "ext.default.svc.cluster.local",
            "7.0.96.10.in-addr.arpa",
            "5.1.244.10.in-addr.arpa",
            "cluster.local",
            "svc.cluster.local",
            "example.org",
            "",
        ])
        .prop_map(str::to_string),
        "([a-z0-9_-]{1,12}\\.){0,6}(svc\\.)?cluster\\.local",
        "([0-9]{1,3}\\.){1,4}in-addr\\.arpa",
        "[a-zA-Z0-9.-]{0,40}",
    ]
}

fn qtype() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            TYPE_A, TYPE_SRV, TYPE_PTR, TYPE_CNAME, TYPE_SOA, TYPE_ANY, 28, 2, 16
        ]),
        any::<u16>(),
    ]
}

/// A valid query with some bytes overwritten, inserted, cut or appended.
fn mutated_query() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        qname(),
        qtype(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 0..6),
    )
        .prop_map(|(id, name, qtype, edits)| {
            let mut q = codec::query(id, &name, qtype);
            for (at, byte, how) in edits {
                let i = at.index(q.len() + 1);
                match how {
                    0 if i < q.len() => q[i] = byte,
                    1 => q.insert(i, byte),
                    2 if i < q.len() => {
                        q.remove(i);
                    }
                    _ => q.truncate(i.max(2)),
                }
            }
            q
        })
}

/// A hand-built header and question section, so counts, flags and compression pointers
/// take any value (what a parser meets from a hostile client).
fn crafted_packet() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        any::<u16>(),
        0u16..4,
        any::<[u16; 3]>(),
        prop::collection::vec(
            prop_oneof![
                "[a-z0-9-]{0,63}".prop_map(|l| {
                    let mut v = vec![l.len() as u8];
                    v.extend_from_slice(l.as_bytes());
                    v
                }),
                // A compression pointer anywhere (loops included).
                any::<u16>().prop_map(|p| ((p & 0x3fff) | 0xc000).to_be_bytes().to_vec()),
                // Reserved label types and overlong labels.
                (64u8..=0xff).prop_map(|b| vec![b]),
            ],
            0..6,
        ),
        any::<[u8; 4]>(),
    )
        .prop_map(|(id, flags, qd, counts, labels, tail)| {
            let mut p = id.to_be_bytes().to_vec();
            p.extend_from_slice(&flags.to_be_bytes());
            p.extend_from_slice(&qd.to_be_bytes());
            for c in counts {
                p.extend_from_slice(&(c % 4).to_be_bytes());
            }
            for l in labels {
                p.extend_from_slice(&l);
            }
            p.push(0);
            p.extend_from_slice(&tail);
            p
        })
}

/// What every reply must be: a message that decodes, is a response, carries the query's id
/// and opcode, and, for a query that parsed, echoes its question.
fn check_reply(packet: &[u8], has_upstream: bool) -> Result<(), TestCaseError> {
    let outcome = answer(Some(table()), packet, has_upstream);
    let _ = answer(None, packet, has_upstream);
    let parsed = codec::decode_query(packet);
    match outcome {
        Outcome::Reply(m) => {
            prop_assert!(m.header.qr, "a reply must be a response");
            prop_assert_eq!(Some(m.header.id), codec::peek_id(packet));
            for bytes in [m.encode(), m.encode_udp(UDP_LIMIT)] {
                let back = codec::decode_response(&bytes).map_err(|e| {
                    TestCaseError::fail(format!("reply does not decode: {e}: {m:?}"))
                })?;
                prop_assert!(back.header.qr);
                prop_assert_eq!(back.header.id, m.header.id);
                prop_assert_eq!(back.header.rcode, m.header.rcode);
            }
            let udp = m.encode_udp(UDP_LIMIT);
            prop_assert!(
                udp.len() <= UDP_LIMIT
                    || m.questions.iter().map(|q| q.name.len()).sum::<usize>() > 400,
                "a UDP reply of {} bytes",
                udp.len()
            );
            if let Ok(q) = parsed {
                prop_assert_eq!(m.header.opcode, q.header.opcode);
                if q.header.opcode == 0 && q.questions.len() == 1 {
                    let back = codec::decode_response(&m.encode())
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    // Names come back dotted; the question is the client's, case and all.
                    prop_assert_eq!(back.questions.len(), 1);
                    prop_assert_eq!(back.questions[0].qtype, q.questions[0].qtype);
                }
            }
        }
        Outcome::Forward => {
            prop_assert!(has_upstream, "forwarded without an upstream");
            let q = parsed.map_err(|e| {
                TestCaseError::fail(format!("forwarded a packet that does not parse: {e}"))
            })?;
            prop_assert_eq!(q.questions.len(), 1);
        }
        Outcome::Drop => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes(packet in prop::collection::vec(any::<u8>(), 0..600), up in any::<bool>()) {
        let _ = codec::decode_query(&packet);
        let _ = codec::decode_response(&packet);
        check_reply(&packet, up)?;
    }

    #[test]
    fn mutated_queries(packet in mutated_query(), up in any::<bool>()) {
        check_reply(&packet, up)?;
    }

    #[test]
    fn crafted_headers_and_names(packet in crafted_packet(), up in any::<bool>()) {
        let _ = codec::decode_response(&packet);
        check_reply(&packet, up)?;
    }

    /// Valid queries of any name and type get an answer that names the same question.
    #[test]
    fn valid_queries_are_answered(id in any::<u16>(), name in qname(), qtype in qtype()) {
        let packet = codec::query(id, &name, qtype);
        let q = codec::decode_query(&packet).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(q.questions.len(), 1);
        prop_assert_eq!(q.questions[0].qclass, CLASS_IN);
        check_reply(&packet, false)?;
        match answer(Some(table()), &packet, false) {
            Outcome::Reply(m) => prop_assert_eq!(&m.questions, &q.questions),
            other => prop_assert!(false, "a valid query without upstream got {other:?}"),
        }
    }
}
