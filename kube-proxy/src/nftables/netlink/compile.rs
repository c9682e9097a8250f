//! The planner's `nft -f` text as one nf_tables batch: every line the planner (and the
//! skeleton) writes becomes the netlink message(s) `nft` itself would send, expression for
//! expression (checked against `nft --debug=netlink,mnl` of the golden ruleset, and by the
//! kernel comparison test in tests/netns_netlink.rs). Pure.
//!
//! Only the dialect the planner writes is understood (its commands, the rule shapes of
//! `render.rs`, the element shapes of the four verdict maps, the hairpin set and the
//! two endpoint maps); anything else is an error naming the line, and the caller falls back to
//! the `nft` tool. The set userdata (how `nft list` prints a set's type) is nft 1.0.6's,
//! byte for byte.

use super::wire::*;
use crate::nftables::render::{PROTOCOLS, endpoint_map_types};
use std::net::Ipv4Addr;
use std::sync::LazyLock;

/// Bytes of set elements per message before the next ones start a new message (the
/// elements' nest has a 16-bit length; an element is at most ~300 bytes).
const MAX_ELEMENTS_NEST: usize = 60_000;

/// A batch ready to send: BATCH_BEGIN, the messages, BATCH_END.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    /// Sequence number of BATCH_BEGIN; message k (from 1) has `first_seq + k`.
    pub first_seq: u32,
    /// The input line (from 1) of each message after BATCH_BEGIN, for error messages.
    pub lines: Vec<u32>,
}

impl Batch {
    /// The input line a sequence number came from (0: the batch markers).
    pub fn line_of(&self, seq: u32) -> u32 {
        let k = seq.wrapping_sub(self.first_seq) as usize;
        if k == 0 {
            return 0;
        }
        self.lines.get(k - 1).copied().unwrap_or(0)
    }

    pub fn messages(&self) -> usize {
        self.lines.len()
    }
}

const META_MARK: u32 = 3;
const META_L4PROTO: u32 = 16;
const CT_STATE: u32 = 0;
const CT_STATUS: u32 = 2;
const BASE_NETWORK: u32 = 1;
const BASE_TRANSPORT: u32 = 2;
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
const REG_2: u32 = 2;
const REG32_01: u32 = 9;
const REG32_02: u32 = 10;
const CMP_EQ: u32 = 0;
const CMP_NEQ: u32 = 1;
const CT_STATE_NEW: u32 = 8;
const IPS_DST_NAT: u32 = 0x20;
const RTN_LOCAL: u32 = 2;
const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 2;
const NF_NAT_RANGE_PROTO_RANDOM_FULLY: u32 = 0x10;

// nft's datatypes, concatenated 6 bits each (key types of the sets).
const TYPE_INTEGER: u32 = 4;
const TYPE_IPADDR: u32 = 7;
const TYPE_INET_PROTOCOL: u32 = 12;
const TYPE_INET_SERVICE: u32 = 13;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// nft 1.0.6's set userdata (key/data byte order and `typeof` description), as it sends it.
static UD_VMAP_CONCAT: LazyLock<Vec<u8>> =
    LazyLock::new(|| unhex("000400000000010400000000030800040d0000000100060400000000"));
static UD_HAIRPIN: LazyLock<Vec<u8>> = LazyLock::new(|| {
    unhex(
        "00040000000003080004 0d0000000100"
            .replace(' ', "")
            .as_str(),
    )
});
static UD_AFFINITY: LazyLock<Vec<u8>> = LazyLock::new(|| unhex("000402000000"));
static UD_ANON_VMAP: LazyLock<Vec<u8>> =
    LazyLock::new(|| unhex("00040100000001040000000004080004010000000100060400000000"));

/// nft 1.0.6's userdata for `typeof ip daddr . P dport . numgen random mod 1 : ip daddr . P
/// dport` (by IP) and `typeof P dport . numgen random mod 1 : ip daddr . P dport` (by node
/// port): one byte names the protocol, twice.
fn ud_endpoint_map(proto: &str, by_ip: bool) -> Vec<u8> {
    let p = match proto {
        "udp" => "06",
        "sctp" => "0a",
        _ => "08",
    };
    if by_ip {
        unhex(&format!(
            "000400000000010400000000035000040d00000001480014000407000000010c00040c0000000104\
             0c0000000114000407000000010c0004{p}000000010402000000021a000417000000011200040100\
             0000010401000000020400000000043400040d000000012c0014000407000000010c00040c000000\
             01040c0000000114000407000000010c0004{p}000000010402000000060400000000"
        ))
    } else {
        unhex(&format!(
            "000400000000010400000000033a00040d00000001320014000407000000010c0004{p}0000000104\
             02000000011a0004170000000112000401000000010401000000020400000000043400040d000000\
             012c0014000407000000010c00040c00000001040c0000000114000407000000010c0004{p}000000\
             010402000000060400000000"
        ))
    }
}

/// The endpoint maps' `typeof` lines (as `render::endpoint_map_types`): key type, key
/// length, userdata.
fn endpoint_map_type(spec: &str) -> Option<(u32, u32, Vec<u8>)> {
    let concat = |types: &[u32]| types.iter().fold(0u32, |acc, t| (acc << 6) | t);
    PROTOCOLS.iter().find_map(|p| {
        let (by_ip, by_port) = endpoint_map_types(p);
        if spec == by_ip {
            Some((
                concat(&[TYPE_IPADDR, TYPE_INET_SERVICE, TYPE_INTEGER]),
                12,
                ud_endpoint_map(p, true),
            ))
        } else if spec == by_port {
            Some((
                concat(&[TYPE_INET_SERVICE, TYPE_INTEGER]),
                8,
                ud_endpoint_map(p, false),
            ))
        } else {
            None
        }
    })
}

fn proto_num(p: &str) -> Option<u8> {
    match p {
        "tcp" => Some(6),
        "udp" => Some(17),
        "sctp" => Some(132),
        _ => None,
    }
}

/// Compiles `text` (one `nft -f` transaction) into one batch. `genid`: refuse the batch
/// if the ruleset's generation is no longer this one.
pub fn compile(text: &str, first_seq: u32, genid: Option<u32>) -> Result<Batch, String> {
    let mut c = Compiler {
        w: Writer::with_capacity(text.len() * 3 + 256),
        seq: first_seq,
        lines: Vec::new(),
        line: 0,
        next_set_id: 1,
    };
    c.w.begin(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        first_seq,
        AF_UNSPEC,
        NFNL_SUBSYS_NFTABLES,
    );
    if let Some(g) = genid {
        c.w.u32(NFNL_BATCH_GENID, g);
    }
    c.w.end();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        c.line = i as u32 + 1;
        c.command(line)
            .map_err(|e| format!("line {}: {e}: {line}", i + 1))?;
    }
    c.seq += 1;
    c.w.begin(
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        c.seq,
        AF_UNSPEC,
        NFNL_SUBSYS_NFTABLES,
    );
    c.w.end();
    Ok(Batch {
        bytes: c.w.buf,
        first_seq,
        lines: c.lines,
    })
}

struct Compiler {
    w: Writer,
    seq: u32,
    lines: Vec<u32>,
    line: u32,
    next_set_id: u32,
}

type R = Result<(), String>;

impl Compiler {
    fn begin(&mut self, msg: u16, flags: u16) {
        self.seq += 1;
        self.lines.push(self.line);
        self.w.begin(
            (NFNL_SUBSYS_NFTABLES << 8) | msg,
            NLM_F_REQUEST | flags,
            self.seq,
            NFPROTO_IPV4,
            0,
        );
    }

    fn command(&mut self, line: &str) -> R {
        // `<verb> <object> ip <table> [rest]`
        let mut it = line.splitn(5, ' ');
        let (verb, obj, fam, table) = (it.next(), it.next(), it.next(), it.next());
        let rest = it.next().unwrap_or("").trim();
        let (Some(verb), Some(obj), Some("ip"), Some(table)) = (verb, obj, fam, table) else {
            return Err("not an `ip` family command".into());
        };
        match (verb, obj) {
            ("add", "table") => self.add_table(table, rest),
            ("delete", "table") => {
                self.begin(NFT_MSG_DELTABLE, 0);
                self.w.str(NFTA_TABLE_NAME, table);
                self.w.end();
                Ok(())
            }
            ("add", "chain") => self.add_chain(table, rest),
            ("flush", "chain") => {
                // A rule deletion without a handle flushes the chain.
                self.begin(NFT_MSG_DELRULE, 0);
                self.w.str(NFTA_RULE_TABLE, table);
                self.w.str(NFTA_RULE_CHAIN, rest);
                self.w.end();
                Ok(())
            }
            ("delete", "chain") => {
                self.begin(NFT_MSG_DELCHAIN, 0);
                self.w.str(NFTA_CHAIN_TABLE, table);
                self.w.str(NFTA_CHAIN_NAME, rest);
                self.w.end();
                Ok(())
            }
            ("add", "set") | ("add", "map") => self.add_set(table, rest),
            ("delete", "set") | ("delete", "map") => {
                self.begin(NFT_MSG_DELSET, 0);
                self.w.str(NFTA_SET_TABLE, table);
                self.w.str(NFTA_SET_NAME, rest);
                self.w.end();
                Ok(())
            }
            ("add", "rule") => {
                let (chain, rule) = rest.split_once(' ').ok_or("rule without statements")?;
                self.add_rule(table, chain, rule)
            }
            ("add", "element") | ("delete", "element") => {
                let (set, items) = rest.split_once(' ').ok_or("element without a set")?;
                let items = braced(items).ok_or("elements not in braces")?;
                self.elements(table, set, None, verb == "add", &split_items(items))
            }
            _ => Err(format!("unsupported command `{verb} {obj}`")),
        }
    }

    fn add_table(&mut self, table: &str, rest: &str) -> R {
        self.begin(NFT_MSG_NEWTABLE, NLM_F_CREATE);
        self.w.str(NFTA_TABLE_NAME, table);
        self.w.u32(NFTA_TABLE_FLAGS, 0);
        if !rest.is_empty() {
            let body = braced(rest).ok_or("table options not in braces")?;
            let comment = body
                .trim()
                .strip_prefix("comment \"")
                .and_then(|s| s.split_once('"'))
                .map(|(c, _)| c)
                .ok_or("only a comment is supported on a table")?;
            // NFTNL_UDATA_TABLE_COMMENT, NUL-terminated.
            let mut ud = vec![0u8, (comment.len() + 1) as u8];
            ud.extend_from_slice(comment.as_bytes());
            ud.push(0);
            self.w.attr(NFTA_TABLE_USERDATA, &ud);
        }
        self.w.end();
        Ok(())
    }

    fn add_chain(&mut self, table: &str, rest: &str) -> R {
        let (name, spec) = match rest.split_once(' ') {
            Some((n, s)) => (n, Some(braced(s).ok_or("chain spec not in braces")?)),
            None => (rest, None),
        };
        self.begin(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
        self.w.str(NFTA_CHAIN_TABLE, table);
        self.w.str(NFTA_CHAIN_NAME, name);
        if let Some(spec) = spec {
            // `type T hook H priority P; policy accept;`
            let t: Vec<&str> = spec.split([' ', ';']).filter(|s| !s.is_empty()).collect();
            let (Some(ty), Some(hook), Some(prio)) = (
                value_after(&t, "type"),
                value_after(&t, "hook"),
                value_after(&t, "priority"),
            ) else {
                return Err("base chain without type, hook and priority".into());
            };
            let hooknum: u32 = match hook {
                "prerouting" => 0,
                "input" => 1,
                "forward" => 2,
                "output" => 3,
                "postrouting" => 4,
                _ => return Err(format!("unknown hook {hook}")),
            };
            let prio: i32 = match prio {
                "dstnat" => -100,
                "srcnat" => 100,
                "filter" => 0,
                p => p.parse().map_err(|_| format!("bad priority {p}"))?,
            };
            let policy = match value_after(&t, "policy") {
                None | Some("accept") => 1u32,
                Some("drop") => 0,
                Some(p) => return Err(format!("bad policy {p}")),
            };
            self.w.str(NFTA_CHAIN_TYPE, ty);
            self.w.u32(NFTA_CHAIN_POLICY, policy);
            self.w.nest(NFTA_CHAIN_HOOK);
            self.w.u32(NFTA_HOOK_HOOKNUM, hooknum);
            self.w.attr(NFTA_HOOK_PRIORITY, &prio.to_be_bytes());
            self.w.end_nest();
        }
        self.w.end();
        Ok(())
    }

    fn add_set(&mut self, table: &str, rest: &str) -> R {
        let (name, spec) = rest.split_once(' ').ok_or("set without a body")?;
        let spec = braced(spec).ok_or("set body not in braces")?.trim();
        let id = self.next_set_id;
        self.next_set_id += 1;
        self.begin(NFT_MSG_NEWSET, NLM_F_CREATE);
        self.w.str(NFTA_SET_TABLE, table);
        self.w.str(NFTA_SET_NAME, name);
        let types = |s: &str| -> Result<(u32, u32), String> {
            let mut ty = 0u32;
            let mut len = 0u32;
            for f in s.split(" . ") {
                let (t, l) = match f.trim() {
                    "ipv4_addr" => (TYPE_IPADDR, 4),
                    "inet_proto" => (TYPE_INET_PROTOCOL, 4),
                    "inet_service" => (TYPE_INET_SERVICE, 4),
                    other => return Err(format!("unsupported set type {other}")),
                };
                ty = (ty << 6) | t;
                len += l;
            }
            Ok((ty, len))
        };
        if let Some(t) = spec.strip_prefix("typeof ") {
            // An endpoint map: frontend . index -> ip . port.
            let (kt, kl, ud) = endpoint_map_type(t.trim_end_matches(';').trim())
                .ok_or_else(|| format!("unsupported typeof {t}"))?;
            self.w.u32(NFTA_SET_FLAGS, NFT_SET_MAP);
            self.w.u32(NFTA_SET_KEY_TYPE, kt);
            self.w.u32(NFTA_SET_KEY_LEN, kl);
            self.w
                .u32(NFTA_SET_DATA_TYPE, (TYPE_IPADDR << 6) | TYPE_INET_SERVICE);
            self.w.u32(NFTA_SET_DATA_LEN, 8);
            self.w.u32(NFTA_SET_ID, id);
            self.w.attr(NFTA_SET_USERDATA, &ud);
        } else if let Some(t) = spec.strip_prefix("type ") {
            let parts: Vec<&str> = t
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let first = parts.first().ok_or("empty set type")?;
            if let Some((key, data)) = first.split_once(" : ") {
                if data.trim() != "verdict" {
                    return Err(format!("unsupported map data {data}"));
                }
                let (kt, kl) = types(key)?;
                self.w.u32(NFTA_SET_FLAGS, NFT_SET_MAP);
                self.w.u32(NFTA_SET_KEY_TYPE, kt);
                self.w.u32(NFTA_SET_KEY_LEN, kl);
                self.w.u32(NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
                self.w.u32(NFTA_SET_DATA_LEN, 0);
                self.w.u32(NFTA_SET_ID, id);
                self.w.attr(NFTA_SET_USERDATA, &UD_VMAP_CONCAT);
            } else if parts.len() == 1 {
                let (kt, kl) = types(first)?;
                self.w.u32(NFTA_SET_FLAGS, 0);
                self.w.u32(NFTA_SET_KEY_TYPE, kt);
                self.w.u32(NFTA_SET_KEY_LEN, kl);
                self.w.u32(NFTA_SET_ID, id);
                self.w.attr(NFTA_SET_USERDATA, &UD_HAIRPIN);
            } else {
                // `type ipv4_addr; flags dynamic,timeout; timeout Ns;` (affinity sets).
                let timeout = parts
                    .iter()
                    .find_map(|p| p.strip_prefix("timeout "))
                    .and_then(|t| t.strip_suffix('s'))
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or("set without a timeout in seconds")?;
                if *first != "ipv4_addr" || !parts.contains(&"flags dynamic,timeout") {
                    return Err("unsupported set flags".into());
                }
                self.w.u32(NFTA_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
                self.w.u32(NFTA_SET_KEY_TYPE, TYPE_IPADDR);
                self.w.u32(NFTA_SET_KEY_LEN, 4);
                self.w.u32(NFTA_SET_ID, id);
                self.w.u64(NFTA_SET_TIMEOUT, timeout * 1000);
                self.w.attr(NFTA_SET_USERDATA, &UD_AFFINITY);
            }
        } else {
            return Err("unsupported set definition".into());
        }
        self.w.end();
        Ok(())
    }

    /// Elements of `set` (or of the anonymous set `set_id` made in this batch).
    fn elements(
        &mut self,
        table: &str,
        set: &str,
        set_id: Option<u32>,
        add: bool,
        items: &[&str],
    ) -> R {
        let mut encoded = Vec::with_capacity(items.len());
        for item in items {
            let (key, value) = match item.split_once(" : ") {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item.trim(), None),
            };
            encoded.push((encode_key(set, key)?, value));
        }
        let (msg, flags) = if add {
            (NFT_MSG_NEWSETELEM, NLM_F_CREATE)
        } else {
            (NFT_MSG_DELSETELEM, 0)
        };
        // An attribute's length is 16 bits: a long list goes in several messages.
        let mut open = false;
        for (i, (key, value)) in encoded.iter().enumerate() {
            if open && self.w.open_len() > MAX_ELEMENTS_NEST {
                self.w.end_nest();
                self.w.end();
                open = false;
            }
            if !open {
                self.begin(msg, flags);
                self.w.str(NFTA_SET_ELEM_LIST_TABLE, table);
                self.w.str(NFTA_SET_ELEM_LIST_SET, set);
                if let Some(id) = set_id {
                    self.w.u32(NFTA_SET_ELEM_LIST_SET_ID, id);
                }
                self.w.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
                open = true;
            }
            self.w.nest((i % 0x3fff) as u16 + 1);
            self.w.data(NFTA_SET_ELEM_KEY, key);
            if let Some(v) = value.filter(|_| add) {
                match verdict_of(v) {
                    Some((code, chain)) => self.w.verdict(NFTA_SET_ELEM_DATA, code, chain),
                    None => {
                        let data = encode_concat(v)?;
                        self.w.data(NFTA_SET_ELEM_DATA, &data);
                    }
                }
            }
            self.w.end_nest();
        }
        if open {
            self.w.end_nest();
            self.w.end();
        }
        Ok(())
    }

    fn add_rule(&mut self, table: &str, chain: &str, rule: &str) -> R {
        let mut e = Exprs::default();
        let t: Vec<&str> = rule.split_whitespace().collect();
        let mut anon: Option<(u32, Vec<String>)> = None;
        let mut i = 0;
        let at = |k: usize| t.get(k).copied().unwrap_or("");
        while i < t.len() {
            match (at(i), at(i + 1)) {
                ("ip", "daddr") if at(i + 2) == "." => {
                    // ip daddr . meta l4proto . th dport vmap @S
                    expect(
                        &t[i..],
                        &[
                            "ip", "daddr", ".", "meta", "l4proto", ".", "th", "dport", "vmap",
                        ],
                    )?;
                    let set = set_ref(at(i + 9))?;
                    e.payload(BASE_NETWORK, 16, 4, REG_1);
                    e.meta_load(META_L4PROTO, REG32_01);
                    e.payload(BASE_TRANSPORT, 2, 2, REG32_02);
                    e.lookup(set, REG_1, Some(REG_VERDICT), None);
                    i += 10;
                }
                ("ip", "saddr") if at(i + 2) == "." => {
                    // ip saddr . ip daddr @S
                    expect(&t[i..], &["ip", "saddr", ".", "ip", "daddr"])?;
                    let set = set_ref(at(i + 5))?;
                    e.payload(BASE_NETWORK, 12, 4, REG_1);
                    e.payload(BASE_NETWORK, 16, 4, REG32_01);
                    e.lookup(set, REG_1, None, None);
                    i += 6;
                }
                ("ip", f @ ("saddr" | "daddr")) => {
                    let off = if f == "saddr" { 12 } else { 16 };
                    let v = at(i + 2);
                    if let Some(set) = v.strip_prefix('@') {
                        e.payload(BASE_NETWORK, off, 4, REG_1);
                        e.lookup(set, REG_1, None, None);
                        i += 3;
                    } else if v == "!=" {
                        e.prefix_match(off, at(i + 3), CMP_NEQ)?;
                        i += 4;
                    } else {
                        e.prefix_match(off, v, CMP_EQ)?;
                        i += 3;
                    }
                }
                (p @ ("tcp" | "udp" | "sctp"), "dport") => {
                    let port: u16 = at(i + 2).parse().map_err(|_| "bad port")?;
                    e.l4proto_is(p)?;
                    e.payload(BASE_TRANSPORT, 2, 2, REG_1);
                    e.cmp(REG_1, CMP_EQ, &port.to_be_bytes());
                    i += 3;
                }
                ("meta", "l4proto") if at(i + 2) == "." => {
                    expect(&t[i..], &["meta", "l4proto", ".", "th", "dport", "vmap"])?;
                    let set = set_ref(at(i + 6))?;
                    e.meta_load(META_L4PROTO, REG_1);
                    e.payload(BASE_TRANSPORT, 2, 2, REG32_01);
                    e.lookup(set, REG_1, Some(REG_VERDICT), None);
                    i += 7;
                }
                ("meta", "l4proto") => {
                    e.l4proto_is(at(i + 2))?;
                    i += 3;
                }
                ("meta", "mark") if at(i + 2) == "set" => {
                    // meta mark set meta mark (| or ^) V
                    expect(&t[i..], &["meta", "mark", "set", "meta", "mark"])?;
                    let v = hex_u32(at(i + 6))?;
                    let (mask, xor) = match at(i + 5) {
                        "|" => (!v, v),
                        "^" => (u32::MAX, v),
                        op => return Err(format!("unsupported mark operator {op}")),
                    };
                    e.meta_load(META_MARK, REG_1);
                    e.mark_bitwise(REG_1, mask.to_ne_bytes(), xor.to_ne_bytes());
                    e.meta_set(META_MARK, REG_1);
                    i += 7;
                }
                ("meta", "mark") if at(i + 2) == "&" => {
                    // meta mark & V == N
                    let v = hex_u32(at(i + 3))?;
                    if at(i + 4) != "==" {
                        return Err("expected == after the mask".into());
                    }
                    let n: u32 = at(i + 5).parse().map_err(|_| "bad mark value")?;
                    e.meta_load(META_MARK, REG_1);
                    e.mark_bitwise(REG_1, v.to_ne_bytes(), [0; 4]);
                    e.cmp(REG_1, CMP_EQ, &n.to_ne_bytes());
                    i += 6;
                }
                ("fib", "daddr") => {
                    expect(&t[i..], &["fib", "daddr", "type", "local"])?;
                    e.fib_daddr_type(REG_1);
                    e.cmp(REG_1, CMP_EQ, &RTN_LOCAL.to_ne_bytes());
                    i += 4;
                }
                ("ct", "status") => {
                    expect(&t[i..], &["ct", "status", "dnat"])?;
                    e.ct(CT_STATUS, REG_1);
                    e.bitwise(REG_1, IPS_DST_NAT.to_ne_bytes(), [0; 4]);
                    e.cmp(REG_1, CMP_NEQ, &[0; 4]);
                    i += 3;
                }
                ("ct", "state") => {
                    expect(&t[i..], &["ct", "state", "new"])?;
                    e.ct(CT_STATE, REG_1);
                    e.bitwise(REG_1, CT_STATE_NEW.to_ne_bytes(), [0; 4]);
                    e.cmp(REG_1, CMP_NEQ, &[0; 4]);
                    i += 3;
                }
                ("masquerade", "fully-random") => {
                    e.masq(NF_NAT_RANGE_PROTO_RANDOM_FULLY);
                    i += 2;
                }
                ("masquerade", _) => {
                    e.masq(0);
                    i += 1;
                }
                ("reject", _) => {
                    e.reject();
                    i += 1;
                }
                ("return", _) => {
                    e.verdict(NFT_RETURN, None);
                    i += 1;
                }
                (v @ ("jump" | "goto"), chain) if !chain.is_empty() => {
                    e.verdict(if v == "jump" { NFT_JUMP } else { NFT_GOTO }, Some(chain));
                    i += 2;
                }
                ("update", set) if set.starts_with('@') => {
                    expect(&t[i + 2..], &["{", "ip", "saddr", "}"])?;
                    e.payload(BASE_NETWORK, 12, 4, REG_1);
                    e.dynset_update(&set[1..], REG_1);
                    i += 6;
                }
                ("dnat", "ip") if at(i + 2) == "to" && at(i + 3) == "ip" => {
                    // dnat ip to ip daddr . P dport . numgen random mod N map @M
                    expect(&t[i + 3..], &["ip", "daddr", "."])?;
                    proto_num(at(i + 6)).ok_or("expected a protocol's dport")?;
                    expect(&t[i + 7..], &["dport", ".", "numgen", "random", "mod"])?;
                    let (n, map) = modulus_map(&t[i + 12..])?;
                    e.payload(BASE_NETWORK, 16, 4, REG_1);
                    e.payload(BASE_TRANSPORT, 2, 2, REG32_01);
                    e.numgen(REG32_02, n);
                    e.lookup(map, REG_1, Some(REG_1), None);
                    e.dnat(REG_1, REG32_01, 0);
                    i += 15;
                }
                ("dnat", "ip")
                    if at(i + 2) == "to"
                        && proto_num(at(i + 3)).is_some()
                        && at(i + 4) == "dport" =>
                {
                    // dnat ip to P dport . numgen random mod N map @M
                    expect(&t[i + 5..], &[".", "numgen", "random", "mod"])?;
                    let (n, map) = modulus_map(&t[i + 9..])?;
                    e.payload(BASE_TRANSPORT, 2, 2, REG_1);
                    e.numgen(REG32_01, n);
                    e.lookup(map, REG_1, Some(REG_1), None);
                    e.dnat(REG_1, REG32_01, 0);
                    i += 12;
                }
                ("dnat", "ip") if at(i + 2) == "to" => {
                    let (ip, port) = at(i + 3).split_once(':').ok_or("dnat without a port")?;
                    let ip: Ipv4Addr = ip.parse().map_err(|_| "bad dnat address")?;
                    let port: u16 = port.parse().map_err(|_| "bad dnat port")?;
                    e.immediate(REG_1, &ip.octets());
                    e.immediate(REG_2, &port.to_be_bytes());
                    e.dnat(REG_1, REG_2, NF_NAT_RANGE_PROTO_SPECIFIED);
                    i += 4;
                }
                ("numgen", "random") if at(i + 2) == "mod" && at(i + 4) == "vmap" => {
                    // numgen random mod N vmap { 0 : goto X, ... }: an anonymous map.
                    let n: u32 = at(i + 3).parse().map_err(|_| "bad modulus")?;
                    let rest = t[i + 5..].join(" ");
                    let body = braced(&rest).ok_or("vmap elements not in braces")?;
                    let items: Vec<String> =
                        split_items(body).iter().map(|s| s.to_string()).collect();
                    let id = self.next_set_id;
                    self.next_set_id += 1;
                    e.numgen(REG_1, n);
                    e.lookup("__map%d", REG_1, Some(REG_VERDICT), Some(id));
                    anon = Some((n, items));
                    i = t.len();
                }
                (a, b) => return Err(format!("unsupported statement `{a} {b}`")),
            }
        }
        if let Some((n, items)) = anon {
            let id = self.next_set_id - 1;
            self.begin(NFT_MSG_NEWSET, NLM_F_CREATE);
            self.w.str(NFTA_SET_TABLE, table);
            self.w.str(NFTA_SET_NAME, "__map%d");
            self.w.u32(
                NFTA_SET_FLAGS,
                NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP,
            );
            self.w.u32(NFTA_SET_KEY_TYPE, TYPE_INTEGER);
            self.w.u32(NFTA_SET_KEY_LEN, 4);
            self.w.u32(NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
            self.w.u32(NFTA_SET_DATA_LEN, 0);
            self.w.u32(NFTA_SET_ID, id);
            self.w.nest(NFTA_SET_DESC);
            self.w.u32(NFTA_SET_DESC_SIZE, n);
            self.w.end_nest();
            self.w.attr(NFTA_SET_USERDATA, &UD_ANON_VMAP);
            self.w.end();
            let refs: Vec<&str> = items.iter().map(String::as_str).collect();
            self.elements(table, "__map%d", Some(id), true, &refs)?;
        }
        self.begin(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
        self.w.str(NFTA_RULE_TABLE, table);
        self.w.str(NFTA_RULE_CHAIN, chain);
        self.w.attr(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, &e.w.buf);
        self.w.end();
        Ok(())
    }
}

/// A rule's expression list (the body of NFTA_RULE_EXPRESSIONS).
#[derive(Default)]
struct Exprs {
    w: Writer,
}

impl Exprs {
    fn expr(&mut self, name: &str, f: impl FnOnce(&mut Writer)) {
        self.w.nest(NFTA_LIST_ELEM);
        self.w.str(NFTA_EXPR_NAME, name);
        self.w.nest(NFTA_EXPR_DATA);
        f(&mut self.w);
        self.w.end_nest();
        self.w.end_nest();
    }

    fn payload(&mut self, base: u32, offset: u32, len: u32, dreg: u32) {
        self.expr("payload", |w| {
            w.u32(1, dreg);
            w.u32(2, base);
            w.u32(3, offset);
            w.u32(4, len);
        });
    }

    fn meta_load(&mut self, key: u32, dreg: u32) {
        self.expr("meta", |w| {
            w.u32(2, key);
            w.u32(1, dreg);
        });
    }

    fn meta_set(&mut self, key: u32, sreg: u32) {
        self.expr("meta", |w| {
            w.u32(2, key);
            w.u32(3, sreg);
        });
    }

    fn cmp(&mut self, sreg: u32, op: u32, data: &[u8]) {
        self.expr("cmp", |w| {
            w.u32(1, sreg);
            w.u32(2, op);
            w.data(3, data);
        });
    }

    fn bitwise(&mut self, reg: u32, mask: [u8; 4], xor: [u8; 4]) {
        self.bitwise_n(reg, &mask, &xor, false);
    }

    /// nft names the (default) boolean operation only on meta mark expressions.
    fn mark_bitwise(&mut self, reg: u32, mask: [u8; 4], xor: [u8; 4]) {
        self.bitwise_n(reg, &mask, &xor, true);
    }

    fn bitwise_n(&mut self, reg: u32, mask: &[u8], xor: &[u8], with_op: bool) {
        self.expr("bitwise", |w| {
            w.u32(1, reg);
            w.u32(2, reg);
            if with_op {
                w.u32(6, 0); // NFT_BITWISE_BOOL
            }
            w.u32(3, mask.len() as u32);
            w.data(4, mask);
            w.data(5, xor);
        });
    }

    fn lookup(&mut self, set: &str, sreg: u32, dreg: Option<u32>, set_id: Option<u32>) {
        self.expr("lookup", |w| {
            w.u32(2, sreg);
            if let Some(d) = dreg {
                w.u32(3, d);
            }
            w.str(1, set);
            if let Some(id) = set_id {
                w.u32(4, id);
            }
        });
    }

    fn verdict(&mut self, code: i32, chain: Option<&str>) {
        self.expr("immediate", |w| {
            w.u32(1, REG_VERDICT);
            w.verdict(2, code, chain);
        });
    }

    fn immediate(&mut self, dreg: u32, data: &[u8]) {
        self.expr("immediate", |w| {
            w.u32(1, dreg);
            w.data(2, data);
        });
    }

    fn ct(&mut self, key: u32, dreg: u32) {
        self.expr("ct", |w| {
            w.u32(2, key);
            w.u32(1, dreg);
        });
    }

    fn dnat(&mut self, addr_reg: u32, proto_reg: u32, flags: u32) {
        self.expr("nat", |w| {
            w.u32(1, 1); // NFT_NAT_DNAT
            w.u32(2, u32::from(NFPROTO_IPV4));
            w.u32(3, addr_reg);
            w.u32(5, proto_reg);
            if flags != 0 {
                w.u32(7, flags);
            }
        });
    }

    fn masq(&mut self, flags: u32) {
        self.expr("masq", |w| {
            if flags != 0 {
                w.u32(1, flags);
            }
        });
    }

    fn numgen(&mut self, dreg: u32, modulus: u32) {
        self.expr("numgen", |w| {
            w.u32(1, dreg);
            w.u32(2, modulus);
            w.u32(3, 1); // NFT_NG_RANDOM
            w.u32(4, 0);
        });
    }

    fn fib_daddr_type(&mut self, dreg: u32) {
        self.expr("fib", |w| {
            w.u32(1, dreg);
            w.u32(2, 3); // NFT_FIB_RESULT_ADDRTYPE
            w.u32(3, 2); // NFTA_FIB_F_DADDR
        });
    }

    fn reject(&mut self) {
        // ICMP port unreachable, as `reject` in the ip family.
        self.expr("reject", |w| {
            w.u32(1, 0);
            w.attr(2, &[3]);
        });
    }

    fn dynset_update(&mut self, set: &str, sreg: u32) {
        self.expr("dynset", |w| {
            w.u32(4, sreg);
            w.u32(3, 1); // NFT_DYNSET_OP_UPDATE
            w.str(1, set);
        });
    }

    fn l4proto_is(&mut self, proto: &str) -> R {
        let n = proto_num(proto).ok_or_else(|| format!("unsupported protocol {proto}"))?;
        self.meta_load(META_L4PROTO, REG_1);
        self.cmp(REG_1, CMP_EQ, &[n]);
        Ok(())
    }

    /// `ip saddr|daddr [!=] A[/len]` as nft encodes it: whole bytes of the prefix loaded
    /// and compared, or all four masked when the prefix ends inside a byte.
    fn prefix_match(&mut self, offset: u32, v: &str, op: u32) -> R {
        let (ip, len) = match v.split_once('/') {
            Some((ip, l)) => (ip, l.parse::<u32>().map_err(|_| "bad prefix length")?),
            None => (v, 32),
        };
        let ip: Ipv4Addr = ip.parse().map_err(|_| format!("bad address {v}"))?;
        if len > 32 || len == 0 {
            return Err(format!("unsupported prefix /{len}"));
        }
        let o = ip.octets();
        if len % 8 == 0 {
            let n = (len / 8) as usize;
            self.payload(BASE_NETWORK, offset, n as u32, REG_1);
            self.cmp(REG_1, op, &o[..n]);
        } else {
            let mask = (u32::MAX << (32 - len)).to_be_bytes();
            let net: Vec<u8> = o.iter().zip(mask).map(|(a, m)| a & m).collect();
            self.payload(BASE_NETWORK, offset, 4, REG_1);
            self.bitwise_n(REG_1, &mask, &[0; 4], false);
            self.cmp(REG_1, op, &net);
        }
        Ok(())
    }
}

fn expect(t: &[&str], words: &[&str]) -> R {
    if t.len() >= words.len() && t.iter().zip(words).all(|(a, b)| a == b) {
        Ok(())
    } else {
        Err(format!("expected `{}`", words.join(" ")))
    }
}

/// `N map @M` after `numgen random mod`.
fn modulus_map<'a>(t: &[&'a str]) -> Result<(u32, &'a str), String> {
    let n: u32 = t
        .first()
        .and_then(|n| n.parse().ok())
        .ok_or("bad modulus")?;
    if t.get(1) != Some(&"map") {
        return Err("expected map after the modulus".into());
    }
    Ok((n, set_ref(t.get(2).copied().unwrap_or(""))?))
}

fn set_ref(t: &str) -> Result<&str, String> {
    t.strip_prefix('@')
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("expected @set, got `{t}`"))
}

fn hex_u32(t: &str) -> Result<u32, String> {
    let h = t
        .strip_prefix("0x")
        .ok_or_else(|| format!("expected hex, got `{t}`"))?;
    u32::from_str_radix(h, 16).map_err(|_| format!("bad hex `{t}`"))
}

fn value_after<'a>(t: &[&'a str], key: &str) -> Option<&'a str> {
    t.iter()
        .position(|w| *w == key)
        .and_then(|i| t.get(i + 1))
        .copied()
}

/// The text between the first `{` and the last `}`.
fn braced(s: &str) -> Option<&str> {
    let a = s.find('{')?;
    let b = s.rfind('}')?;
    (a < b).then(|| &s[a + 1..b])
}

fn split_items(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

fn verdict_of(v: &str) -> Option<(i32, Option<&str>)> {
    match v.split_once(' ') {
        Some(("goto", c)) => Some((NFT_GOTO, Some(c.trim()))),
        Some(("jump", c)) => Some((NFT_JUMP, Some(c.trim()))),
        _ if v == "return" => Some((NFT_RETURN, None)),
        _ => None,
    }
}

/// A set key: one integer (the anonymous vmaps' index, host byte order) or a
/// concatenation of addresses, protocols and ports, each field padded to 4 bytes; in the
/// endpoint maps the last field is the endpoint's index (`numgen`'s value, host byte order).
fn encode_key(set: &str, k: &str) -> Result<Vec<u8>, String> {
    if !k.contains(" . ")
        && let Ok(n) = k.parse::<u32>()
    {
        return Ok(n.to_ne_bytes().to_vec());
    }
    if set.starts_with("service-endpoints-") || set.starts_with("nodeport-endpoints-") {
        let (frontend, i) = k
            .rsplit_once(" . ")
            .ok_or_else(|| format!("endpoint key without an index `{k}`"))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("bad index in `{k}`"))?;
        let mut out = encode_concat(frontend)?;
        out.extend_from_slice(&i.to_ne_bytes());
        return Ok(out);
    }
    encode_concat(k)
}

fn encode_concat(k: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(12);
    for f in k.split(" . ") {
        let f = f.trim();
        if let Ok(ip) = f.parse::<Ipv4Addr>() {
            out.extend_from_slice(&ip.octets());
        } else if let Some(p) = proto_num(f) {
            out.extend_from_slice(&[p, 0, 0, 0]);
        } else if let Ok(port) = f.parse::<u16>() {
            out.extend_from_slice(&port.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            return Err(format!("unsupported element field `{f}`"));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
