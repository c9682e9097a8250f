//! The DNS wire format (RFC 1035), only as much as a cluster DNS server needs: the header,
//! questions, and A/SRV/PTR/SOA records. Pure: bytes in, values out, and back. Names in
//! answers are written uncompressed (allowed by the RFC; it only costs bytes), names in
//! queries may be compressed and are read either way. EDNS (the OPT record) is ignored.

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
    fn flags(&self) -> u16 {
        (u16::from(self.qr) << 15)
            | (u16::from(self.opcode & 0xf) << 11)
            | (u16::from(self.aa) << 10)
            | (u16::from(self.tc) << 9)
            | (u16::from(self.rd) << 8)
            | (u16::from(self.ra) << 7)
            | u16::from(self.rcode & 0xf)
    }

    fn from_flags(id: u16, f: u16) -> Header {
        Header {
            id,
            qr: f & 0x8000 != 0,
            opcode: ((f >> 11) & 0xf) as u8,
            aa: f & 0x0400 != 0,
            tc: f & 0x0200 != 0,
            rd: f & 0x0100 != 0,
            ra: f & 0x0080 != 0,
            rcode: (f & 0xf) as u8,
        }
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: RData,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub header: Header,
    pub questions: Vec<Question>,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes([self.u8(what)?, self.u8(what)?]))
    }

    /// A name at the current position; follows compression pointers (only backwards, so
    /// a hostile packet cannot loop).
    fn name(&mut self) -> Result<String, DecodeError> {
        let mut labels: Vec<String> = Vec::new();
        let mut pos = self.pos;
        let mut end: Option<usize> = None;
        let mut total = 0usize;
        loop {
            let len = *self.buf.get(pos).ok_or(DecodeError::Truncated("a name"))? as usize;
            match len & 0xc0 {
                0x00 => {
                    if len == 0 {
                        pos += 1;
                        break;
                    }
                    let label = self
                        .buf
                        .get(pos + 1..pos + 1 + len)
                        .ok_or(DecodeError::Truncated("a label"))?;
                    total += len + 1;
                    if total > 255 {
                        return Err(DecodeError::NameTooLong);
                    }
                    labels.push(String::from_utf8_lossy(label).into_owned());
                    pos += 1 + len;
                }
                0xc0 => {
                    let lo = *self
                        .buf
                        .get(pos + 1)
                        .ok_or(DecodeError::Truncated("a pointer"))?;
                    let target = ((len & 0x3f) << 8) | lo as usize;
                    if target >= pos {
                        return Err(DecodeError::BadPointer);
                    }
                    end.get_or_insert(pos + 2);
                    pos = target;
                }
                _ => return Err(DecodeError::BadLabel),
            }
        }
        self.pos = end.unwrap_or(pos);
        Ok(labels.join("."))
    }
}

/// The header and questions of a message (what a server needs from a query); answer,
/// authority and additional sections (EDNS OPT) are not read.
pub fn decode_query(buf: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16("the header")?;
    let flags = r.u16("the header")?;
    let qd = r.u16("the header")?;
    for _ in 0..3 {
        r.u16("the header")?;
    }
    let mut questions = Vec::with_capacity(usize::from(qd.min(4)));
    for _ in 0..qd {
        let name = r.name()?;
        let qtype = r.u16("a question")?;
        let qclass = r.u16("a question")?;
        questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    Ok(Message {
        header: Header::from_flags(id, flags),
        questions,
        ..Default::default()
    })
}

/// Only the id, for answering a message that does not parse (FORMERR echoes it).
pub fn peek_id(buf: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]))
}

/// Writes `name` as labels. Labels over 63 bytes are cut (our own names never have them;
/// a client's question name came from the wire, so it already fits).
fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let b = label.as_bytes();
        let b = &b[..b.len().min(63)];
        out.push(b.len() as u8);
        out.extend_from_slice(b);
    }
    out.push(0);
}

fn put_record(out: &mut Vec<u8>, r: &Record) {
    put_name(out, &r.name);
    out.extend_from_slice(&r.data.rtype().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out.extend_from_slice(&r.ttl.to_be_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    match &r.data {
        RData::A(ip) => out.extend_from_slice(&ip.octets()),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            out.extend_from_slice(&priority.to_be_bytes());
            out.extend_from_slice(&weight.to_be_bytes());
            out.extend_from_slice(&port.to_be_bytes());
            put_name(out, target);
        }
        RData::Ptr(target) | RData::Cname(target) => put_name(out, target),
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => {
            put_name(out, mname);
            put_name(out, rname);
            for v in [serial, refresh, retry, expire, minimum] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    let rdlen = (out.len() - len_at - 2) as u16;
    out[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&self.header.id.to_be_bytes());
        out.extend_from_slice(&self.header.flags().to_be_bytes());
        for n in [
            self.questions.len(),
            self.answers.len(),
            self.authority.len(),
            self.additional.len(),
        ] {
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        for q in &self.questions {
            put_name(&mut out, &q.name);
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for r in self
            .answers
            .iter()
            .chain(&self.authority)
            .chain(&self.additional)
        {
            put_record(&mut out, r);
        }
        out
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
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16("the header")?;
    let flags = r.u16("the header")?;
    let counts = [
        r.u16("the header")?,
        r.u16("the header")?,
        r.u16("the header")?,
        r.u16("the header")?,
    ];
    let mut m = Message {
        header: Header::from_flags(id, flags),
        ..Default::default()
    };
    for _ in 0..counts[0] {
        let name = r.name()?;
        let qtype = r.u16("a question")?;
        let qclass = r.u16("a question")?;
        m.questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    for (section, n) in counts[1..].iter().enumerate() {
        for _ in 0..*n {
            let name = r.name()?;
            let rtype = r.u16("a record")?;
            let _class = r.u16("a record")?;
            let ttl = (u32::from(r.u16("a record")?) << 16) | u32::from(r.u16("a record")?);
            let len = usize::from(r.u16("a record")?);
            let end = r.pos + len;
            if end > buf.len() {
                return Err(DecodeError::Truncated("record data"));
            }
            let data = match rtype {
                TYPE_A if len == 4 => Some(RData::A(Ipv4Addr::new(
                    buf[r.pos],
                    buf[r.pos + 1],
                    buf[r.pos + 2],
                    buf[r.pos + 3],
                ))),
                TYPE_SRV => Some(RData::Srv {
                    priority: r.u16("srv")?,
                    weight: r.u16("srv")?,
                    port: r.u16("srv")?,
                    target: r.name()?,
                }),
                TYPE_PTR => Some(RData::Ptr(r.name()?)),
                TYPE_CNAME => Some(RData::Cname(r.name()?)),
                TYPE_SOA => {
                    let mname = r.name()?;
                    let rname = r.name()?;
                    let mut v = [0u32; 5];
                    for x in &mut v {
                        *x = (u32::from(r.u16("soa")?) << 16) | u32::from(r.u16("soa")?);
                    }
                    Some(RData::Soa {
                        mname,
                        rname,
                        serial: v[0],
                        refresh: v[1],
                        retry: v[2],
                        expire: v[3],
                        minimum: v[4],
                    })
                }
                _ => None,
            };
            r.pos = end;
            if let Some(data) = data {
                let rec = Record { name, ttl, data };
                match section {
                    0 => m.answers.push(rec),
                    1 => m.authority.push(rec),
                    _ => m.additional.push(rec),
                }
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

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
