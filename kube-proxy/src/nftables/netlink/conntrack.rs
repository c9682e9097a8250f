//! Conntrack cleanup over ctnetlink: a UDP flow keeps its DNAT to the endpoint it first
//! reached for as long as packets keep coming, so when that endpoint goes away its entries
//! are deleted (as Kubernetes' conntrack cleanup does: original destination = the service
//! address and port, reply source = the endpoint), and the client's next packet is
//! balanced anew. Entries are dumped (IPv4 only) and deleted one by one by their original
//! tuple; an entry gone meanwhile is not an error.

use super::socket::NfSocket;
use super::wire::{self, Writer};
use std::net::Ipv4Addr;

const IPCTNL_MSG_CT_GET: u16 = 1;
const IPCTNL_MSG_CT_DELETE: u16 = 2;
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_TUPLE_REPLY: u16 = 2;
const CTA_ZONE: u16 = 18;
const CTA_TUPLE_IP: u16 = 1;
const CTA_TUPLE_PROTO: u16 = 2;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V4_DST: u16 = 2;
const CTA_PROTO_NUM: u16 = 1;
const CTA_PROTO_DST_PORT: u16 = 3;
const ENOENT: i32 = 2;
pub const IPPROTO_UDP: u8 = 17;

/// Entries to delete: protocol, original destination port, original destination address
/// (None: any, for node ports) and the endpoint that answers (reply source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Filter {
    pub protocol: u8,
    pub orig_dst: Option<Ipv4Addr>,
    pub orig_dport: u16,
    pub reply_src: Ipv4Addr,
}

/// The parts of a conntrack entry the filters look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub protocol: u8,
    pub orig_dst: Ipv4Addr,
    pub orig_dport: u16,
    pub reply_src: Ipv4Addr,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        e.protocol == self.protocol
            && e.orig_dport == self.orig_dport
            && e.reply_src == self.reply_src
            && self.orig_dst.is_none_or(|d| d == e.orig_dst)
    }
}

/// (ip, proto) of a CTA_TUPLE_* value: (src, dst, protocol, dst port).
fn tuple(v: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u8, u16)> {
    let ip = wire::attr(v, CTA_TUPLE_IP)?;
    let src: [u8; 4] = wire::attr(ip, CTA_IP_V4_SRC)?.get(..4)?.try_into().ok()?;
    let dst: [u8; 4] = wire::attr(ip, CTA_IP_V4_DST)?.get(..4)?.try_into().ok()?;
    let proto = wire::attr(v, CTA_TUPLE_PROTO)?;
    let num = *wire::attr(proto, CTA_PROTO_NUM)?.first()?;
    let dport = wire::attr(proto, CTA_PROTO_DST_PORT)
        .and_then(|p| Some(u16::from_be_bytes(p.get(..2)?.try_into().ok()?)))
        .unwrap_or(0);
    Some((src.into(), dst.into(), num, dport))
}

/// An entry of a dump message's attributes.
pub fn entry_of(attrs: &[u8]) -> Option<Entry> {
    let (_, odst, proto, odport) = tuple(wire::attr(attrs, CTA_TUPLE_ORIG)?)?;
    let (rsrc, _, _, _) = tuple(wire::attr(attrs, CTA_TUPLE_REPLY)?)?;
    Some(Entry {
        protocol: proto,
        orig_dst: odst,
        orig_dport: odport,
        reply_src: rsrc,
    })
}

/// Dumps the IPv4 conntrack table and deletes the entries some filter matches.
pub fn delete_matching(sock: &mut NfSocket, filters: &[Filter]) -> Result<usize, String> {
    let seq = sock.next_seq(1);
    let mut w = Writer::with_capacity(32);
    w.begin(
        (wire::NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
        wire::NLM_F_REQUEST | wire::NLM_F_DUMP,
        seq,
        wire::NFPROTO_IPV4,
        0,
    );
    w.end();
    sock.send(&w.buf)?;
    let replies = sock.recv_until(|m| m.ty == wire::NLMSG_DONE || m.ty == wire::NLMSG_ERROR)?;
    // The original tuple (and zone) of every entry to delete, as the kernel sent them.
    let mut doomed: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for (ty, flags, s, payload) in &replies {
        let m = wire::Msg {
            ty: *ty,
            flags: *flags,
            seq: *s,
            payload,
        };
        if let Some((errno, _)) = wire::error_of(&m) {
            if errno != 0 {
                return Err(format!(
                    "conntrack dump: {}",
                    std::io::Error::from_raw_os_error(errno)
                ));
            }
            continue;
        }
        if *ty >> 8 != wire::NFNL_SUBSYS_CTNETLINK || payload.len() < 4 {
            continue;
        }
        let attrs = &payload[4..];
        let Some(e) = entry_of(attrs) else { continue };
        if filters.iter().any(|f| f.matches(&e))
            && let Some(orig) = wire::attr(attrs, CTA_TUPLE_ORIG)
        {
            doomed.push((
                orig.to_vec(),
                wire::attr(attrs, CTA_ZONE).map(<[u8]>::to_vec),
            ));
        }
    }
    let mut deleted = 0;
    for (orig, zone) in doomed {
        let seq = sock.next_seq(1);
        let mut w = Writer::with_capacity(128);
        w.begin(
            (wire::NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
            wire::NLM_F_REQUEST | wire::NLM_F_ACK,
            seq,
            wire::NFPROTO_IPV4,
            0,
        );
        w.attr(CTA_TUPLE_ORIG | wire::NLA_F_NESTED, &orig);
        if let Some(z) = zone {
            w.attr(CTA_ZONE, &z);
        }
        w.end();
        sock.send(&w.buf)?;
        let replies = sock.recv_until(|m| m.seq == seq && m.ty == wire::NLMSG_ERROR)?;
        for (ty, flags, s, payload) in &replies {
            let m = wire::Msg {
                ty: *ty,
                flags: *flags,
                seq: *s,
                payload,
            };
            match wire::error_of(&m) {
                Some((0, _)) => deleted += 1,
                Some((ENOENT, _)) => {}
                Some((errno, _)) => {
                    return Err(format!(
                        "conntrack delete: {}",
                        std::io::Error::from_raw_os_error(errno)
                    ));
                }
                None => {}
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_without_address_matches_any_destination_of_its_port() {
        let ep: Ipv4Addr = [10, 244, 1, 5].into();
        let e = Entry {
            protocol: IPPROTO_UDP,
            orig_dst: [10, 96, 0, 10].into(),
            orig_dport: 53,
            reply_src: ep,
        };
        let f = Filter {
            protocol: IPPROTO_UDP,
            orig_dst: Some([10, 96, 0, 10].into()),
            orig_dport: 53,
            reply_src: ep,
        };
        assert!(f.matches(&e));
        assert!(
            !Filter {
                orig_dport: 54,
                ..f
            }
            .matches(&e)
        );
        assert!(
            !Filter {
                reply_src: [10, 244, 1, 6].into(),
                ..f
            }
            .matches(&e)
        );
        assert!(!Filter { protocol: 6, ..f }.matches(&e));
        assert!(
            !Filter {
                orig_dst: Some([10, 96, 0, 11].into()),
                ..f
            }
            .matches(&e)
        );
        assert!(
            Filter {
                orig_dst: None,
                ..f
            }
            .matches(&e)
        );
    }
}
