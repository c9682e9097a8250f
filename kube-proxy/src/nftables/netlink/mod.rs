//! The nftables backend's kernel side without the `nft` tool: the planner's transaction
//! compiled into nf_tables netlink messages ([`compile`]) and sent as one batch over a
//! netfilter socket ([`socket`]); the ruleset generation read around every commit to notice
//! other writers; UDP conntrack entries of removed endpoints deleted ([`conntrack`]).
//!
//! No cache dump: `nft` lists the table's chains and sets before every transaction (most
//! of a small update's time at 10000 services); the planner already knows what is live.

pub mod compile;
pub mod conntrack;
pub mod socket;
pub mod wire;

use crate::error::Error;
use socket::NfSocket;
use std::sync::{Mutex, MutexGuard};

/// errno the kernel answers a batch with when its NFNL_BATCH_GENID is out of date.
const ERESTART: i32 = 85;

/// What is known of the ruleset generation since this process's last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gen {
    /// Nothing committed yet.
    Unknown,
    /// The generation right after our last commit.
    Ours(u32),
    /// Someone else committed around our last commit.
    Foreign,
}

struct Inner {
    sock: Option<NfSocket>,
    generation: Gen,
}

/// nf_tables over netlink, in the current network namespace or a named one.
pub struct NetlinkNft {
    netns: Option<String>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for NetlinkNft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetlinkNft")
            .field("netns", &self.netns)
            .finish()
    }
}

/// What one `apply` did (the benchmark and the log).
#[derive(Debug, Clone, Copy, Default)]
pub struct Applied {
    pub messages: usize,
    pub bytes: usize,
    pub generation: u32,
}

impl NetlinkNft {
    pub fn new(netns: Option<&str>) -> Self {
        NetlinkNft {
            netns: netns.map(str::to_string),
            inner: Mutex::new(Inner {
                sock: None,
                generation: Gen::Unknown,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn socket<'a>(&self, inner: &'a mut Inner) -> Result<&'a mut NfSocket, Error> {
        if inner.sock.is_none() {
            inner.sock = Some(NfSocket::open(self.netns.as_deref()).map_err(Error::Netlink)?);
        }
        inner
            .sock
            .as_mut()
            .ok_or_else(|| Error::Netlink("socket".into()))
    }

    /// One transaction: `text` (the planner's `nft -f` input) as one batch, refused by the
    /// kernel if another writer committed between our generation read and the batch.
    pub fn apply(&self, text: &str) -> Result<Applied, Error> {
        let mut inner = self.lock();
        let result = self.apply_locked(&mut inner, text);
        if result.is_err() {
            // A broken socket is reopened next time; the generation is unknown.
            if matches!(result, Err(Error::Netlink(_))) {
                inner.sock = None;
            }
            inner.generation = Gen::Unknown;
        }
        result
    }

    fn apply_locked(&self, inner: &mut Inner, text: &str) -> Result<Applied, Error> {
        let sock = self.socket(inner)?;
        let before = sock.generation().map_err(Error::Netlink)?;
        let first = sock.next_seq(0);
        let batch = compile::compile(text, first, Some(before)).map_err(Error::Netlink)?;
        // BATCH_BEGIN took `first`; the messages and BATCH_END follow.
        sock.next_seq(batch.messages() as u32 + 1);
        sock.send(&batch.bytes).map_err(Error::Netlink)?;
        // The kernel handles the batch inside send(): its error replies are queued before
        // the answer to this generation request.
        let gseq = sock.next_seq(1);
        let mut w = wire::Writer::with_capacity(32);
        w.begin(
            (wire::NFNL_SUBSYS_NFTABLES << 8) | wire::NFT_MSG_GETGEN,
            wire::NLM_F_REQUEST,
            gseq,
            wire::AF_UNSPEC,
            0,
        );
        w.end();
        sock.send(&w.buf).map_err(Error::Netlink)?;
        let replies = sock.recv_until(|m| m.seq == gseq).map_err(Error::Netlink)?;
        for (ty, flags, seq, payload) in &replies {
            let m = wire::Msg {
                ty: *ty,
                flags: *flags,
                seq: *seq,
                payload,
            };
            let Some((errno, req)) = wire::error_of(&m) else {
                continue;
            };
            if errno == 0 || req == gseq {
                continue;
            }
            if errno == ERESTART && req == first {
                return Err(Error::NetlinkConflict);
            }
            let line = batch.line_of(req);
            let text_line = text
                .lines()
                .nth((line as usize).saturating_sub(1))
                .unwrap_or("");
            let shown: String = text_line.chars().take(200).collect();
            return Err(Error::Netlink(format!(
                "{} at line {line}: {shown}",
                std::io::Error::from_raw_os_error(errno)
            )));
        }
        let after = socket::generation_of(&replies, gseq).map_err(Error::Netlink)?;
        inner.generation = if after == before.wrapping_add(1) {
            Gen::Ours(after)
        } else {
            Gen::Foreign
        };
        Ok(Applied {
            messages: batch.messages(),
            bytes: batch.bytes.len(),
            generation: after,
        })
    }

    /// The ruleset's generation now.
    pub fn generation(&self) -> Result<u32, Error> {
        let mut inner = self.lock();
        let sock = self.socket(&mut inner)?;
        sock.generation().map_err(Error::Netlink)
    }

    /// Whether someone else committed to the ruleset since our last commit (any table:
    /// the generation is per network namespace). False before our first commit.
    pub fn changed_by_others(&self) -> Result<bool, Error> {
        let mut inner = self.lock();
        let known = inner.generation;
        let now = self
            .socket(&mut inner)?
            .generation()
            .map_err(Error::Netlink)?;
        Ok(match known {
            Gen::Unknown => false,
            Gen::Ours(g) => g != now,
            Gen::Foreign => true,
        })
    }

    /// After a commit made another way (the `nft` fallback): the current generation is ours.
    pub fn adopt_generation(&self) {
        let mut inner = self.lock();
        let g = self
            .socket(&mut inner)
            .and_then(|s| s.generation().map_err(Error::Netlink));
        inner.generation = g.map(Gen::Ours).unwrap_or(Gen::Unknown);
    }

    /// Deletes the conntrack entries matching `filters` (see [`conntrack`]); how many.
    pub fn delete_conntrack(&self, filters: &[conntrack::Filter]) -> Result<usize, Error> {
        if filters.is_empty() {
            return Ok(0);
        }
        // Its own socket: conntrack answers must not mix with a batch's.
        let mut sock = NfSocket::open(self.netns.as_deref()).map_err(Error::Netlink)?;
        conntrack::delete_matching(&mut sock, filters).map_err(Error::Netlink)
    }
}
