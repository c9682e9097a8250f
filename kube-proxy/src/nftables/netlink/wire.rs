//! Netlink message building and reading: headers, attributes (nested ones too), the
//! nfnetlink sub-header, and the nf_tables / ctnetlink numbers this backend uses (from the
//! kernel's uapi headers `linux/netfilter/nf_tables.h`, `nfnetlink.h`,
//! `nfnetlink_conntrack.h`). Pure.

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
pub const NLA_F_NESTED: u16 = 0x8000;

pub const NFNL_SUBSYS_CTNETLINK: u16 = 1;
pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
pub const NFNL_MSG_BATCH_END: u16 = 0x11;
/// Batch begin attribute: the generation the batch was planned against; the kernel refuses
/// the batch with ERESTART when the ruleset moved on meanwhile.
pub const NFNL_BATCH_GENID: u16 = 1;

pub const AF_UNSPEC: u8 = 0;
pub const NFPROTO_IPV4: u8 = 2;

// nf_tables message types.
pub const NFT_MSG_NEWTABLE: u16 = 0;
pub const NFT_MSG_GETTABLE: u16 = 1;
pub const NFT_MSG_DELTABLE: u16 = 2;
pub const NFT_MSG_NEWCHAIN: u16 = 3;
pub const NFT_MSG_DELCHAIN: u16 = 5;
pub const NFT_MSG_NEWRULE: u16 = 6;
pub const NFT_MSG_DELRULE: u16 = 8;
pub const NFT_MSG_NEWSET: u16 = 9;
pub const NFT_MSG_DELSET: u16 = 11;
pub const NFT_MSG_NEWSETELEM: u16 = 12;
pub const NFT_MSG_DELSETELEM: u16 = 14;
pub const NFT_MSG_NEWGEN: u16 = 15;
pub const NFT_MSG_GETGEN: u16 = 16;

pub const NFTA_GEN_ID: u16 = 1;
pub const NFTA_TABLE_NAME: u16 = 1;
pub const NFTA_TABLE_FLAGS: u16 = 2;
pub const NFTA_TABLE_USERDATA: u16 = 6;
pub const NFTA_CHAIN_TABLE: u16 = 1;
pub const NFTA_CHAIN_NAME: u16 = 3;
pub const NFTA_CHAIN_HOOK: u16 = 4;
pub const NFTA_CHAIN_POLICY: u16 = 5;
pub const NFTA_CHAIN_TYPE: u16 = 7;
pub const NFTA_HOOK_HOOKNUM: u16 = 1;
pub const NFTA_HOOK_PRIORITY: u16 = 2;
pub const NFTA_RULE_TABLE: u16 = 1;
pub const NFTA_RULE_CHAIN: u16 = 2;
pub const NFTA_RULE_EXPRESSIONS: u16 = 4;
pub const NFTA_LIST_ELEM: u16 = 1;
pub const NFTA_EXPR_NAME: u16 = 1;
pub const NFTA_EXPR_DATA: u16 = 2;
pub const NFTA_SET_TABLE: u16 = 1;
pub const NFTA_SET_NAME: u16 = 2;
pub const NFTA_SET_FLAGS: u16 = 3;
pub const NFTA_SET_KEY_TYPE: u16 = 4;
pub const NFTA_SET_KEY_LEN: u16 = 5;
pub const NFTA_SET_DATA_TYPE: u16 = 6;
pub const NFTA_SET_DATA_LEN: u16 = 7;
pub const NFTA_SET_DESC: u16 = 9;
pub const NFTA_SET_DESC_SIZE: u16 = 1;
pub const NFTA_SET_ID: u16 = 10;
pub const NFTA_SET_TIMEOUT: u16 = 11;
pub const NFTA_SET_USERDATA: u16 = 13;
pub const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
pub const NFTA_SET_ELEM_LIST_SET: u16 = 2;
pub const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
pub const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
pub const NFTA_SET_ELEM_KEY: u16 = 1;
pub const NFTA_SET_ELEM_DATA: u16 = 2;
pub const NFTA_DATA_VALUE: u16 = 1;
pub const NFTA_DATA_VERDICT: u16 = 2;
pub const NFTA_VERDICT_CODE: u16 = 1;
pub const NFTA_VERDICT_CHAIN: u16 = 2;

pub const NFT_SET_ANONYMOUS: u32 = 0x1;
pub const NFT_SET_CONSTANT: u32 = 0x2;
pub const NFT_SET_MAP: u32 = 0x8;
pub const NFT_SET_TIMEOUT: u32 = 0x10;
pub const NFT_SET_EVAL: u32 = 0x20;
/// `NFT_DATA_VERDICT`: a map's data type when its values are verdicts.
pub const NFT_DATA_VERDICT: u32 = 0xffff_ff00;

pub const NFT_RETURN: i32 = -5;
pub const NFT_GOTO: i32 = -4;
pub const NFT_JUMP: i32 = -3;

/// One netlink message under construction inside a larger buffer (a batch).
pub struct Writer {
    pub buf: Vec<u8>,
    /// Offsets of the open message and nests (their length fields are patched on close).
    open: Vec<usize>,
    /// An attribute or nest outgrew its 16-bit length.
    pub overflow: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Self::with_capacity(4096)
    }
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
            open: Vec::new(),
            overflow: false,
        }
    }

    /// Starts a message: nlmsghdr + nfgenmsg (family, version 0, res_id big-endian).
    pub fn begin(&mut self, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(0);
        self.buf.extend_from_slice(&res_id.to_be_bytes());
    }

    /// Bytes written since the innermost open message or nest began.
    pub fn open_len(&self) -> usize {
        self.buf.len() - self.open.last().copied().unwrap_or(0)
    }

    /// Ends the message begun last (all nests must be closed).
    pub fn end(&mut self) {
        let start = self.open.pop().unwrap_or(0);
        let len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    pub fn attr(&mut self, ty: u16, value: &[u8]) {
        let len = 4 + value.len();
        self.overflow |= len > usize::from(u16::MAX);
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// A NUL-terminated string attribute.
    pub fn str(&mut self, ty: u16, s: &str) {
        let len = 4 + s.len() + 1;
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    /// nf_tables integers are big-endian on the wire.
    pub fn u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_be_bytes());
    }

    pub fn u64(&mut self, ty: u16, v: u64) {
        self.attr(ty, &v.to_be_bytes());
    }

    pub fn nest(&mut self, ty: u16) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
    }

    pub fn end_nest(&mut self) {
        let start = self.open.pop().unwrap_or(0);
        let len = self.buf.len() - start;
        self.overflow |= len > usize::from(u16::MAX);
        self.buf[start..start + 2].copy_from_slice(&(len as u16).to_ne_bytes());
    }

    /// `NFTA_DATA_VALUE` nested in `ty`.
    pub fn data(&mut self, ty: u16, value: &[u8]) {
        self.nest(ty);
        self.attr(NFTA_DATA_VALUE, value);
        self.end_nest();
    }

    /// `NFTA_DATA_VERDICT { code, chain }` nested in `ty`.
    pub fn verdict(&mut self, ty: u16, code: i32, chain: Option<&str>) {
        self.nest(ty);
        self.nest(NFTA_DATA_VERDICT);
        self.attr(NFTA_VERDICT_CODE, &code.to_be_bytes());
        if let Some(c) = chain {
            self.str(NFTA_VERDICT_CHAIN, c);
        }
        self.end_nest();
        self.end_nest();
    }
}

/// A received netlink message.
#[derive(Debug, Clone, Copy)]
pub struct Msg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// After the nlmsghdr.
    pub payload: &'a [u8],
}

/// Splits a receive buffer into messages (a truncated tail is dropped).
pub fn messages(mut buf: &[u8]) -> Vec<Msg<'_>> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        out.push(Msg {
            ty: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[16..len],
        });
        let next = (len + 3) & !3;
        buf = &buf[next.min(buf.len())..];
    }
    out
}

/// The errno of an NLMSG_ERROR (0: an acknowledgement) and the sequence number of the
/// request it answers.
pub fn error_of(m: &Msg<'_>) -> Option<(i32, u32)> {
    if m.ty != NLMSG_ERROR || m.payload.len() < 4 + 16 {
        return None;
    }
    let p = m.payload;
    let err = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
    let seq = u32::from_ne_bytes([p[12], p[13], p[14], p[15]]);
    Some((-err, seq))
}

/// The attributes of a buffer: (type without flags, value).
pub fn attrs(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            break;
        }
        out.push((ty, &buf[4..len]));
        let next = (len + 3) & !3;
        buf = &buf[next.min(buf.len())..];
    }
    out
}

pub fn attr(buf: &[u8], ty: u16) -> Option<&[u8]> {
    attrs(buf)
        .into_iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, v)| v)
}

pub fn be_u32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_are_padded_and_measured() {
        let mut w = Writer::default();
        w.begin(0x0a00, NLM_F_REQUEST, 7, NFPROTO_IPV4, 0);
        w.str(NFTA_TABLE_NAME, "kube-proxy");
        w.nest(NFTA_CHAIN_HOOK);
        w.u32(NFTA_HOOK_HOOKNUM, 0);
        w.end_nest();
        w.end();
        // nft's own bytes for the same attributes (nft --debug=mnl).
        let want = "0f0001006b7562652d70726f787900000c00048008000100 00000000".replace(' ', "");
        assert_eq!(hex(&w.buf[20..]), want);
        let m = messages(&w.buf);
        assert_eq!((m.len(), m[0].seq, m[0].ty), (1, 7, 0x0a00));
        let a = attrs(&m[0].payload[4..]);
        assert_eq!(a[0], (NFTA_TABLE_NAME, &b"kube-proxy\0"[..]));
        assert_eq!(be_u32(attr(a[1].1, NFTA_HOOK_HOOKNUM).unwrap()), Some(0));
    }

    pub fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
