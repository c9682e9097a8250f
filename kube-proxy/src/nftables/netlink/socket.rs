//! A netfilter netlink socket (NETLINK_NETFILTER), opened in the current network namespace
//! or in a named one (`/var/run/netns/NAME`, as `ip netns` makes them: a socket keeps the
//! namespace it was made in, so only the opening thread enters it).

use super::wire::{self, Msg, NLM_F_REQUEST, Writer};
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send,
    setsockopt, socket, sockopt,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// Receive buffer: large enough for a batch's error replies and a dump's datagrams.
const RCVBUF: usize = 4 << 20;

pub struct NfSocket {
    fd: OwnedFd,
    seq: u32,
    sndbuf: usize,
    buf: Vec<u8>,
}

/// A request's outcome: the replies in order (errors included as `NLMSG_ERROR`).
pub type Replies = Vec<(u16, u16, u32, Vec<u8>)>;

impl NfSocket {
    pub fn open(netns: Option<&str>) -> Result<Self, String> {
        let fd = match netns {
            None => open_here()?,
            Some(ns) => {
                let path = format!("/var/run/netns/{ns}");
                std::thread::scope(|s| {
                    s.spawn(|| {
                        let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
                        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
                            .map_err(|e| format!("entering {path}: {e}"))?;
                        open_here()
                    })
                    .join()
                    .unwrap_or_else(|_| Err("netns thread panicked".into()))
                })?
            }
        };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(1);
        Ok(NfSocket {
            fd,
            seq: seed,
            sndbuf: 0,
            buf: vec![0; 1 << 20],
        })
    }

    /// Reserves `n` sequence numbers and returns the first.
    pub fn next_seq(&mut self, n: u32) -> u32 {
        let s = self.seq.wrapping_add(1);
        self.seq = self.seq.wrapping_add(n + 1);
        s
    }

    /// Sends `bytes` as one datagram (a batch must arrive whole: the kernel processes one
    /// datagram as one transaction).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        if bytes.len() + 4096 > self.sndbuf {
            let want = (bytes.len() + 65536).max(1 << 20);
            setsockopt(&self.fd, sockopt::SndBufForce, &want)
                .map_err(|e| format!("SO_SNDBUFFORCE {want}: {e}"))?;
            self.sndbuf = want;
        }
        let n = send(self.fd.as_raw_fd(), bytes, MsgFlags::empty())
            .map_err(|e| format!("sending {} bytes: {e}", bytes.len()))?;
        if n != bytes.len() {
            return Err(format!("sent {n} of {} bytes", bytes.len()));
        }
        Ok(())
    }

    /// Receives datagrams until `done` says the answer is complete; returns every message.
    pub fn recv_until(
        &mut self,
        mut done: impl FnMut(&Msg<'_>) -> bool,
    ) -> Result<Replies, String> {
        let mut out = Vec::new();
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())
                .map_err(|e| format!("receiving: {e}"))?;
            let mut finished = false;
            for m in wire::messages(&self.buf[..n]) {
                finished |= done(&m);
                out.push((m.ty, m.flags, m.seq, m.payload.to_vec()));
            }
            if finished {
                return Ok(out);
            }
        }
    }

    /// NFT_MSG_GETGEN: the ruleset's generation (bumped by every commit, whoever makes it).
    pub fn generation(&mut self) -> Result<u32, String> {
        let seq = self.next_seq(1);
        let mut w = Writer::with_capacity(32);
        w.begin(
            (wire::NFNL_SUBSYS_NFTABLES << 8) | wire::NFT_MSG_GETGEN,
            NLM_F_REQUEST,
            seq,
            wire::AF_UNSPEC,
            0,
        );
        w.end();
        self.send(&w.buf)?;
        let replies = self.recv_until(|m| m.seq == seq)?;
        generation_of(&replies, seq)
    }
}

/// The generation in the NEWGEN answer to request `seq`, or that request's error.
pub fn generation_of(replies: &Replies, seq: u32) -> Result<u32, String> {
    for (ty, flags, s, payload) in replies {
        if *s != seq {
            continue;
        }
        let m = Msg {
            ty: *ty,
            flags: *flags,
            seq: *s,
            payload,
        };
        if let Some((errno, _)) = wire::error_of(&m) {
            return Err(format!(
                "getting the ruleset generation: {}",
                std::io::Error::from_raw_os_error(errno)
            ));
        }
        if *ty == (wire::NFNL_SUBSYS_NFTABLES << 8) | wire::NFT_MSG_NEWGEN {
            return payload
                .get(4..)
                .and_then(|a| wire::attr(a, wire::NFTA_GEN_ID))
                .and_then(wire::be_u32)
                .ok_or_else(|| "generation reply without an id".into());
        }
    }
    Err("no generation reply".into())
}

fn open_here() -> Result<OwnedFd, String> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkNetFilter,
    )
    .map_err(|e| format!("netlink socket: {e}"))?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(|e| format!("netlink bind: {e}"))?;
    setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF).map_err(|e| format!("SO_RCVBUFFORCE: {e}"))?;
    Ok(fd)
}
