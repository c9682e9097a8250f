//! The DNS wire format through `hickory-proto`, the field's standard parser and emitter;
//! this module only converts between its messages and the few values the server decides
//! on (the header, questions, and A/SRV/PTR/CNAME/SOA records), so that
//! [`crate::server::answer`] and the records table stay pure and small. Names are written
//! uncompressed (allowed by RFC 1035; the bytes stay what they were before hickory), names
//! in queries may be compressed and are read either way. EDNS (the OPT record) is ignored.

use hickory_proto::op::{self, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, PTR, SOA, SRV};
use hickory_proto::rr::{self, DNSClass, Name, RecordType};
use hickory_proto::serialize::binary::{
    self as bin, BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};
use std::net::Ipv4Addr;

pub const TYPE_A: u16 = 1;
pub const TYPE_NS: u16 = 2;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;
pub const TYPE_ANY: u16 = 255;
pub const CLASS_IN: u16 = 1;

pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_FORMERR: u8 = 1;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
pub const RCODE_NOTIMP: u8 = 4;
pub const RCODE_REFUSED: u8 = 5;

/// The classic UDP payload limit; a bigger answer is sent truncated (TC) so the client
/// retries over TCP.
pub const UDP_LIMIT: usize = 512;

/// Why a packet does not parse: hickory's reason, sorted into what a server acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message ends inside {0}")]
    Truncated(&'static str),
    #[error("label longer than 63 bytes or name longer than 255")]
    NameTooLong,
    #[error("compression pointer loop or forward pointer")]
    BadPointer,
    #[error("reserved label type")]
    BadLabel,
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl From<bin::DecodeError> for DecodeError {
    fn from(e: bin::DecodeError) -> Self {
        match e {
            bin::DecodeError::InsufficientBytes => DecodeError::Truncated("the message"),
            bin::DecodeError::LabelBytesTooLong(_) | bin::DecodeError::DomainNameTooLong(_) => {
                DecodeError::NameTooLong
            }
            bin::DecodeError::PointerNotPriorToLabel { .. } => DecodeError::BadPointer,
            bin::DecodeError::UnrecognizedLabelCode(_) => DecodeError::BadLabel,
            other => DecodeError::Malformed(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    /// A response (set by the server).
    pub qr: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub rcode: u8,
}

impl Header {
    fn from_metadata(m: &Metadata) -> Header {
        Header {
            id: m.id,
            qr: m.message_type == MessageType::Response,
            opcode: u8::from(m.op_code),
            aa: m.authoritative,
            tc: m.truncation,
            rd: m.recursion_desired,
            ra: m.recursion_available,
            rcode: m.response_code.low(),
        }
    }

    fn to_metadata(self) -> Metadata {
        let kind = if self.qr {
            MessageType::Response
        } else {
            MessageType::Query
        };
        let mut m = Metadata::new(self.id, kind, OpCode::from_u8(self.opcode & 0xf));
        m.authoritative = self.aa;
        m.truncation = self.tc;
        m.recursion_desired = self.rd;
        m.recursion_available = self.ra;
        m.response_code = ResponseCode::from_low(self.rcode & 0xf);
        m
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Dotted, without the trailing dot, as the client spelled it ("" is the root).
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Ptr(String),
    Cname(String),
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
}

impl RData {
    pub fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => TYPE_A,
            RData::Srv { .. } => TYPE_SRV,
            RData::Ptr(_) => TYPE_PTR,
            RData::Cname(_) => TYPE_CNAME,
            RData::Soa { .. } => TYPE_SOA,
        }
    }

    fn to_wire(&self) -> Result<rr::RData, hickory_proto::ProtoError> {
        Ok(match self {
            RData::A(ip) => rr::RData::A(A(*ip)),
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => rr::RData::SRV(SRV::new(*priority, *weight, *port, to_name(target)?)),
            RData::Ptr(target) => rr::RData::PTR(PTR(to_name(target)?)),
            RData::Cname(target) => rr::RData::CNAME(CNAME(to_name(target)?)),
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => rr::RData::SOA(SOA::new(
                to_name(mname)?,
                to_name(rname)?,
                *serial,
                // hickory types the three intervals as i32 (RFC 1035 says 32-bit, and RFC
                // 2308 keeps them positive); the bits on the wire are the same.
                i32::from_be_bytes(refresh.to_be_bytes()),
                i32::from_be_bytes(retry.to_be_bytes()),
                i32::from_be_bytes(expire.to_be_bytes()),
                *minimum,
            )),
        })
    }

    /// The record types this server speaks; others (and EDNS) are skipped.
    fn from_wire(data: &rr::RData) -> Option<RData> {
        Some(match data {
            rr::RData::A(a) => RData::A(a.0),
            rr::RData::SRV(srv) => RData::Srv {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                target: dotted(&srv.target),
            },
            rr::RData::PTR(ptr) => RData::Ptr(dotted(&ptr.0)),
            rr::RData::CNAME(cname) => RData::Cname(dotted(&cname.0)),
            rr::RData::SOA(soa) => RData::Soa {
                mname: dotted(&soa.mname),
                rname: dotted(&soa.rname),
                serial: soa.serial,
                refresh: u32::from_be_bytes(soa.refresh.to_be_bytes()),
                retry: u32::from_be_bytes(soa.retry.to_be_bytes()),
                expire: u32::from_be_bytes(soa.expire.to_be_bytes()),
                minimum: soa.minimum,
            },
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: RData,
}

impl Record {
    fn to_wire(&self) -> Result<rr::Record, hickory_proto::ProtoError> {
        Ok(rr::Record::from_rdata(
            to_name(&self.name)?,
            self.ttl,
            self.data.to_wire()?,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub header: Header,
    pub questions: Vec<Question>,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// A name as the table spells it: labels joined by dots, no trailing dot, bytes that are
/// not UTF-8 replaced (such a name matches nothing in the cluster).
fn dotted(name: &Name) -> String {
    name.iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(".")
}

/// A dotted name as labels. Labels over 63 bytes are cut (our own names never have them; a
/// client's question name came from the wire, so it already fits).
fn to_name(dotted: &str) -> Result<Name, hickory_proto::ProtoError> {
    let mut name = Name::from_labels(
        dotted
            .split('.')
            .filter(|l| !l.is_empty())
            .map(|l| &l.as_bytes()[..l.len().min(63)]),
    )?;
    name.set_fqdn(true);
    Ok(name)
}

/// The header and questions of a message (what a server needs from a query); answer,
/// authority and additional sections (EDNS OPT) are not read.
pub fn decode_query(buf: &[u8]) -> Result<Message, DecodeError> {
    let mut d = BinDecoder::new(buf);
    let header = op::Header::read(&mut d)?;
    let mut questions = Vec::with_capacity(usize::from(header.counts.queries.min(4)));
    for _ in 0..header.counts.queries {
        let q = op::Query::read(&mut d)?;
        questions.push(Question {
            name: dotted(&q.name),
            qtype: u16::from(q.query_type),
            qclass: u16::from(q.query_class),
        });
    }
    Ok(Message {
        header: Header::from_metadata(&header.metadata),
        questions,
        ..Default::default()
    })
}

/// Only the id, for answering a message that does not parse (FORMERR echoes it).
pub fn peek_id(buf: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]))
}

impl Message {
    fn to_wire(&self) -> Result<Vec<u8>, hickory_proto::ProtoError> {
        let mut m = op::Message::new(self.header.id, MessageType::Query, OpCode::Query);
        m.metadata = self.header.to_metadata();
        for q in &self.questions {
            let mut query = op::Query::query(to_name(&q.name)?, RecordType::from(q.qtype));
            query.set_query_class(DNSClass::from(q.qclass));
            m.add_query(query);
        }
        for (section, records) in [
            (&mut m.answers, &self.answers),
            (&mut m.authorities, &self.authority),
            (&mut m.additionals, &self.additional),
        ] {
            for r in records {
                section.push(r.to_wire()?);
            }
        }
        let mut out = Vec::with_capacity(128);
        let mut encoder = BinEncoder::new(&mut out);
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        m.emit(&mut encoder)?;
        Ok(out)
    }

    /// The wire bytes. A message whose names do not fit the wire (only a question name
    /// that came in as bytes that are not UTF-8 can grow so) is answered SERVFAIL with its
    /// id and nothing else, rather than not at all.
    pub fn encode(&self) -> Vec<u8> {
        self.to_wire().unwrap_or_else(|e| {
            tracing::debug!(id = self.header.id, error = %e, "reply does not encode");
            let bare = Message {
                header: Header {
                    qr: true,
                    rcode: RCODE_SERVFAIL,
                    ..self.header
                },
                ..Default::default()
            };
            // No names left, so nothing that can fail to encode.
            bare.to_wire().unwrap_or_default()
        })
    }

    /// The encoding for UDP: when it exceeds `limit`, the records are dropped and TC set,
    /// as RFC 1035 asks, so the client retries over TCP.
    pub fn encode_udp(&self, limit: usize) -> Vec<u8> {
        let full = self.encode();
        if full.len() <= limit {
            return full;
        }
        let mut cut = Message {
            header: self.header,
            questions: self.questions.clone(),
            ..Default::default()
        };
        cut.header.tc = true;
        cut.encode()
    }
}

/// A query for `name`/`qtype` (tests, and anyone probing the server).
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    Message {
        header: Header {
            id,
            rd: true,
            ..Default::default()
        },
        questions: vec![Question {
            name: name.to_string(),
            qtype,
            qclass: CLASS_IN,
        }],
        ..Default::default()
    }
    .encode()
}

/// Reads a whole response (tests and probes): header, questions and every record of the
/// types this module knows; other types are skipped.
pub fn decode_response(buf: &[u8]) -> Result<Message, DecodeError> {
    let m = op::Message::from_vec(buf)?;
    let records = |rs: &[rr::Record]| {
        rs.iter()
            .filter_map(|r| {
                Some(Record {
                    name: dotted(&r.name),
                    ttl: r.ttl,
                    data: RData::from_wire(&r.data)?,
                })
            })
            .collect()
    };
    Ok(Message {
        header: Header::from_metadata(&m.metadata),
        questions: m
            .queries
            .iter()
            .map(|q| Question {
                name: dotted(&q.name),
                qtype: u16::from(q.query_type),
                qclass: u16::from(q.query_class),
            })
            .collect(),
        answers: records(&m.answers),
        authority: records(&m.authorities),
        additional: records(&m.additionals),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One record as hickory writes it into a message (the byte-exact tests below predate
    /// hickory and hold unchanged).
    fn put_record(out: &mut Vec<u8>, r: &Record) {
        let mut encoder = BinEncoder::new(out);
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        r.to_wire().unwrap().emit(&mut encoder).unwrap();
    }

    /// `dig web.default.svc.cluster.local A` as sent by dig 9 without EDNS: id 0x1234, RD.
    const QUERY_A: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x03web\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01";

    #[test]
    fn decodes_a_query_byte_for_byte() {
        let m = decode_query(QUERY_A).unwrap();
        assert_eq!(m.header.id, 0x1234);
        assert!(m.header.rd && !m.header.qr);
        assert_eq!(
            m.questions,
            vec![Question {
                name: "web.default.svc.cluster.local".into(),
                qtype: TYPE_A,
                qclass: CLASS_IN
            }]
        );
        assert_eq!(
            query(0x1234, "web.default.svc.cluster.local", TYPE_A),
            QUERY_A
        );
    }

    #[test]
    fn encodes_an_a_answer_byte_for_byte() {
        let m = Message {
            header: Header {
                id: 0x1234,
                qr: true,
                aa: true,
                rd: true,
                ra: true,
                ..Default::default()
            },
            questions: decode_query(QUERY_A).unwrap().questions,
            answers: vec![Record {
                name: "web.default.svc.cluster.local".into(),
                ttl: 5,
                data: RData::A(Ipv4Addr::new(10, 96, 0, 7)),
            }],
            ..Default::default()
        };
        let mut want = b"\x12\x34\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00".to_vec();
        let name = b"\x03web\x07default\x03svc\x07cluster\x05local\x00";
        want.extend_from_slice(name);
        want.extend_from_slice(b"\x00\x01\x00\x01");
        want.extend_from_slice(name);
        want.extend_from_slice(b"\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04\x0a\x60\x00\x07");
        assert_eq!(m.encode(), want);
        assert_eq!(decode_response(&want).unwrap(), m);
    }

    #[test]
    fn encodes_srv_ptr_and_soa_byte_for_byte() {
        let srv = Record {
            name: "_http._tcp.web.ns.svc.c".into(),
            ttl: 5,
            data: RData::Srv {
                priority: 0,
                weight: 100,
                port: 80,
                target: "web.ns.svc.c".into(),
            },
        };
        let mut out = Vec::new();
        put_record(&mut out, &srv);
        let mut want =
            b"\x05_http\x04_tcp\x03web\x02ns\x03svc\x01c\x00\x00\x21\x00\x01\x00\x00\x00\x05"
                .to_vec();
        want.extend_from_slice(b"\x00\x14\x00\x00\x00\x64\x00\x50\x03web\x02ns\x03svc\x01c\x00");
        assert_eq!(out, want);

        let ptr = Record {
            name: "7.0.96.10.in-addr.arpa".into(),
            ttl: 5,
            data: RData::Ptr("a.b".into()),
        };
        let mut out = Vec::new();
        put_record(&mut out, &ptr);
        let mut want = b"\x017\x010\x0296\x0210\x07in-addr\x04arpa\x00".to_vec();
        want.extend_from_slice(b"\x00\x0c\x00\x01\x00\x00\x00\x05\x00\x05\x01a\x01b\x00");
        assert_eq!(out, want);

        let soa = Record {
            name: "c".into(),
            ttl: 5,
            data: RData::Soa {
                mname: "ns.dns.c".into(),
                rname: "h.c".into(),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 5,
            },
        };
        let mut out = Vec::new();
        put_record(&mut out, &soa);
        let mut want = b"\x01c\x00\x00\x06\x00\x01\x00\x00\x00\x05\x00\x23".to_vec();
        want.extend_from_slice(b"\x02ns\x03dns\x01c\x00\x01h\x01c\x00");
        want.extend_from_slice(
            b"\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05",
        );
        assert_eq!(out, want);
        let cname = Record {
            name: "x.c".into(),
            ttl: 5,
            data: RData::Cname("a.b".into()),
        };
        let mut out = Vec::new();
        put_record(&mut out, &cname);
        assert_eq!(
            out,
            b"\x01x\x01c\x00\x00\x05\x00\x01\x00\x00\x00\x05\x00\x05\x01a\x01b\x00"
        );
        // Each round-trips through the response decoder.
        let m = Message {
            answers: vec![srv, ptr, cname],
            authority: vec![soa],
            ..Default::default()
        };
        assert_eq!(decode_response(&m.encode()).unwrap(), m);
    }

    #[test]
    fn follows_compression_pointers_and_rejects_loops() {
        // Question name "a.b", then a second question "x" + pointer to offset 12 ("a.b").
        let mut p = b"\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00".to_vec();
        p.extend_from_slice(b"\x01a\x01b\x00\x00\x01\x00\x01");
        p.extend_from_slice(b"\x01x\xc0\x0c\x00\x10\x00\x01");
        let m = decode_query(&p).unwrap();
        assert_eq!(m.questions[0].name, "a.b");
        assert_eq!(m.questions[1].name, "x.a.b");
        assert_eq!(m.questions[1].qtype, 16);
        // A pointer to itself.
        let mut bad = b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
        bad.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01");
        assert_eq!(decode_query(&bad), Err(DecodeError::BadPointer));
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        for len in 0..QUERY_A.len() {
            assert!(decode_query(&QUERY_A[..len]).is_err(), "prefix of {len}");
        }
        assert_eq!(
            decode_query(b"\0\0\0\0\0\x01\0\0\0\0\0\0\x80"),
            Err(DecodeError::BadLabel)
        );
        // Pseudo-random bytes: whatever they decode to, nothing panics.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let buf: Vec<u8> = (0..40)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = decode_query(&buf);
            let _ = decode_response(&buf);
        }
    }

    #[test]
    fn mutated_queries_decode_and_encode_without_panic() {
        // Flip bytes of a real query: whatever decodes must encode again.
        let mut x: u32 = 777;
        for _ in 0..2000 {
            let mut buf = QUERY_A.to_vec();
            for _ in 0..3 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let at = (x >> 16) as usize % buf.len();
                buf[at] = (x >> 8) as u8;
            }
            if let Ok(m) = decode_query(&buf) {
                let _ = m.encode_udp(UDP_LIMIT);
            }
        }
    }

    #[test]
    fn a_question_that_no_longer_fits_is_answered_servfail() {
        // 100 one-byte labels that are not UTF-8 decode to 3-byte replacement characters:
        // the echoed name would pass 255 bytes, so the reply is SERVFAIL with the id only.
        let mut p = b"\x00\x09\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
        for _ in 0..100 {
            p.extend_from_slice(b"\x01\xff");
        }
        p.extend_from_slice(b"\x00\x00\x01\x00\x01");
        let q = decode_query(&p).unwrap();
        let reply = Message {
            header: Header {
                qr: true,
                ..q.header
            },
            questions: q.questions,
            ..Default::default()
        };
        let m = decode_response(&reply.encode()).unwrap();
        assert_eq!((m.header.id, m.header.rcode), (9, RCODE_SERVFAIL));
        assert!(m.header.qr && m.questions.is_empty());
    }

    #[test]
    fn oversized_udp_answers_are_truncated() {
        let q = decode_query(QUERY_A).unwrap();
        let m = Message {
            header: Header {
                id: 1,
                qr: true,
                ..Default::default()
            },
            questions: q.questions,
            answers: (0..40)
                .map(|i| Record {
                    name: "web.default.svc.cluster.local".into(),
                    ttl: 5,
                    data: RData::A(Ipv4Addr::new(10, 0, 0, i)),
                })
                .collect(),
            ..Default::default()
        };
        assert!(m.encode().len() > UDP_LIMIT);
        let cut = decode_response(&m.encode_udp(UDP_LIMIT)).unwrap();
        assert!(cut.header.tc);
        assert!(cut.answers.is_empty());
        assert_eq!(cut.questions.len(), 1);
    }
}
