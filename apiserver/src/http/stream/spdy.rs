//! SPDY/3.1 for exec and attach (kubectl 1.29 and older; newer ones fall back to it): the
//! framing spdystream speaks (control frames SYN_STREAM, SYN_REPLY, PING, GOAWAY; data
//! frames with FIN), header blocks in one zlib stream per direction with SPDY's
//! dictionary. The client opens one stream per channel (`streamtype`: error, stdin,
//! stdout, stderr, resize); we answer each with SYN_REPLY, then carry the session as the
//! channel protocol v4 does (exit status as a `metav1.Status` on the error stream).

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// SPDY/3's header compression dictionary (a protocol constant).
pub const DICTIONARY: &[u8] = include_bytes!("spdy_dictionary.bin");

pub const TYPE_SYN_STREAM: u16 = 1;
pub const TYPE_SYN_REPLY: u16 = 2;
pub const TYPE_PING: u16 = 6;
pub const TYPE_GOAWAY: u16 = 7;
pub const FLAG_FIN: u8 = 1;

/// One frame as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Control {
        kind: u16,
        flags: u8,
        payload: Vec<u8>,
    },
    Data {
        stream: u32,
        flags: u8,
        payload: Vec<u8>,
    },
}

/// The 8-byte header: (control?, type or stream id, flags, payload length).
pub fn parse_header(h: [u8; 8]) -> (bool, u32, u8, usize) {
    let control = h[0] & 0x80 != 0;
    let word = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let len = usize::from(h[5]) << 16 | usize::from(h[6]) << 8 | usize::from(h[7]);
    if control {
        (true, u32::from(u16::from_be_bytes([h[2], h[3]])), h[4], len)
    } else {
        (false, word & 0x7fff_ffff, h[4], len)
    }
}

pub fn control_frame(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = vec![0x80, 3];
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
    out.extend_from_slice(payload);
    out
}

/// Data frames for `data` on `stream` (cut at SPDY's 24-bit length); `fin` on the last.
pub fn data_frames(stream: u32, data: &[u8], fin: bool) -> Vec<u8> {
    const MAX: usize = 0xff_ffff;
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut chunks: Vec<&[u8]> = data.chunks(MAX).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, c) in chunks.into_iter().enumerate() {
        out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        out.push(if fin && i == last { FLAG_FIN } else { 0 });
        let len = c.len();
        out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
        out.extend_from_slice(c);
    }
    out
}

/// The client's header blocks: one raw-deflate stream across frames, primed with the
/// dictionary (kept in a window that never wraps: header traffic is a few hundred bytes).
pub struct Inflater {
    state: Box<DecompressorOxide>,
    window: Vec<u8>,
    pos: usize,
    zlib_header: Vec<u8>,
}

const WINDOW: usize = 256 * 1024;

impl Default for Inflater {
    fn default() -> Self {
        let mut window = vec![0; WINDOW];
        window[..DICTIONARY.len()].copy_from_slice(DICTIONARY);
        Inflater {
            state: Box::default(),
            window,
            pos: DICTIONARY.len(),
            zlib_header: Vec::new(),
        }
    }
}

impl Inflater {
    pub fn inflate(&mut self, mut block: &[u8]) -> Result<Vec<u8>, String> {
        // The zlib header (2 bytes, 4 more with a dictionary id) opens the first block.
        while self.zlib_header.len() < 2
            || (self.zlib_header[1] & 0x20 != 0 && self.zlib_header.len() < 6)
        {
            let Some((&b, rest)) = block.split_first() else {
                return Ok(Vec::new());
            };
            self.zlib_header.push(b);
            block = rest;
        }
        let start = self.pos;
        let flags = inflate_flags::TINFL_FLAG_HAS_MORE_INPUT
            | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let mut input = block;
        loop {
            let (status, read, wrote) =
                decompress(&mut self.state, input, &mut self.window, self.pos, flags);
            self.pos += wrote;
            input = &input[read..];
            match status {
                TINFLStatus::NeedsMoreInput | TINFLStatus::Done => break,
                TINFLStatus::HasMoreOutput
                    if self.pos < self.window.len() && (read > 0 || wrote > 0) =>
                {
                    continue;
                }
                other => return Err(format!("SPDY header block: inflate failed: {other:?}")),
            }
        }
        Ok(self.window[start..self.pos].to_vec())
    }
}

/// Our header blocks: stored (uncompressed) deflate blocks in one zlib stream, which any
/// inflater reads with or without the dictionary.
#[derive(Default)]
pub struct Deflater {
    started: bool,
}

impl Deflater {
    pub fn block(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.started {
            out.extend_from_slice(&[0x78, 0x01]);
            self.started = true;
        }
        for c in data.chunks(0xffff) {
            let len = c.len() as u16;
            out.push(0);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(c);
        }
        // An empty stored block (a zlib sync flush) ends every block: Go's inflater hands
        // out what it has only when it sees the next block, and a read past the frame's
        // end would break the stream for good.
        out.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
        out
    }
}

/// A header block's name/value pairs.
pub fn parse_headers(block: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = block
            .get(at..at + n)
            .ok_or_else(|| "SPDY header block is cut short".to_string())?;
        at += n;
        Ok(s)
    };
    let word = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let n = word(take(4)?);
    let mut out = Vec::new();
    for _ in 0..n.min(1024) {
        let l = word(take(4)?);
        let name = String::from_utf8_lossy(take(l)?).into_owned();
        let l = word(take(4)?);
        let value = String::from_utf8_lossy(take(l)?).into_owned();
        out.push((name, value));
    }
    Ok(out)
}

pub fn encode_headers(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_be_bytes().to_vec();
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// The channel protocol spoken inside SPDY: v4 only (exit codes as a Status).
pub const PROTOCOL: &str = "v4.channel.k8s.io";

/// Whether the client offers v4 in its `X-Stream-Protocol-Version` headers.
pub fn offers_v4(headers: &::http::HeaderMap) -> bool {
    headers
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim() == PROTOCOL)
}

/// Which streams the session needs before output may flow.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub stdout: bool,
    pub stderr: bool,
}

async fn read_frame<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Frame> {
    use tokio::io::AsyncReadExt;
    let mut h = [0u8; 8];
    r.read_exact(&mut h).await?;
    let (control, word, flags, len) = parse_header(h);
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    Ok(if control {
        Frame::Control {
            kind: word as u16,
            flags,
            payload,
        }
    } else {
        Frame::Data {
            stream: word,
            flags,
            payload,
        }
    })
}

fn stream_id(payload: &[u8]) -> Option<u32> {
    let b = payload.get(..4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff)
}

/// Carries one exec/attach session over an upgraded SPDY connection.
pub(crate) async fn run<T>(
    io: T,
    expected: Expected,
    command: Vec<String>,
    to_kubelet: tokio::sync::mpsc::Sender<proto::kubelet_api::ExecStreamRequest>,
    from_kubelet: crate::kubelet_proxy::ExecOutputStream,
    shutdown: impl std::future::Future<Output = ()> + Unpin,
) where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    use super::channel::Outcome;
    use futures::StreamExt;
    use proto::kubelet_api::exec_stream_request::Kind as In;
    use proto::kubelet_api::exec_stream_response::Kind as Out;
    use proto::kubelet_api::{ExecStreamRequest, TerminalSize};
    use tokio::io::AsyncWriteExt;

    let (mut rd, mut wr) = tokio::io::split(io);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if wr.write_all(&bytes).await.is_err() || wr.flush().await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let (est_tx, mut est_rx) = tokio::sync::mpsc::channel::<(String, u32)>(8);
    let replies = out_tx.clone();
    let reader = tokio::spawn(async move {
        let mut inflater = Inflater::default();
        let mut deflater = Deflater::default();
        let mut kinds = std::collections::HashMap::<u32, String>::new();
        while let Ok(frame) = read_frame(&mut rd).await {
            match frame {
                Frame::Control {
                    kind: TYPE_SYN_STREAM,
                    payload,
                    ..
                } => {
                    let Some(id) = stream_id(&payload) else { break };
                    let block = payload.get(10..).unwrap_or_default();
                    let headers = match inflater.inflate(block).and_then(|b| parse_headers(&b)) {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::debug!(error = %e, "spdy: bad SYN_STREAM");
                            break;
                        }
                    };
                    let kind = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("streamtype"))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let mut reply = id.to_be_bytes().to_vec();
                    reply.extend(deflater.block(&encode_headers(&[])));
                    if replies
                        .send(control_frame(TYPE_SYN_REPLY, 0, &reply))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    kinds.insert(id, kind.clone());
                    let _ = est_tx.send((kind, id)).await;
                }
                Frame::Control {
                    kind: TYPE_PING,
                    payload,
                    ..
                } => {
                    let _ = replies.send(control_frame(TYPE_PING, 0, &payload)).await;
                }
                Frame::Control {
                    kind: TYPE_GOAWAY, ..
                } => break,
                Frame::Control { .. } => {}
                Frame::Data {
                    stream,
                    flags,
                    payload,
                } => {
                    let mut inputs = Vec::new();
                    match kinds.get(&stream).map(String::as_str) {
                        Some("stdin") => {
                            if !payload.is_empty() {
                                inputs.push(In::Stdin(payload));
                            }
                            if flags & FLAG_FIN != 0 {
                                inputs.push(In::StdinClose(true));
                            }
                        }
                        Some("resize") => {
                            let sizes = serde_json::Deserializer::from_slice(&payload)
                                .into_iter::<serde_json::Value>();
                            for v in sizes.flatten() {
                                if let Ok((width, height)) =
                                    super::channel::resize(v.to_string().as_bytes())
                                {
                                    inputs.push(In::Resize(TerminalSize {
                                        width: u32::from(width),
                                        height: u32::from(height),
                                    }));
                                }
                            }
                        }
                        _ => {}
                    }
                    for kind in inputs {
                        if to_kubelet
                            .send(ExecStreamRequest { kind: Some(kind) })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        }
    });

    // Output waits for the streams the client reads (Kubernetes waits for all of them).
    let (mut error_id, mut stdout_id, mut stderr_id) = (None, None, None);
    let ready = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while error_id.is_none()
            || (expected.stdout && stdout_id.is_none())
            || (expected.stderr && stderr_id.is_none())
        {
            let Some((kind, id)) = est_rx.recv().await else {
                return false;
            };
            match kind.as_str() {
                "error" => error_id = Some(id),
                "stdout" => stdout_id = Some(id),
                "stderr" => stderr_id = Some(id),
                _ => {}
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    if ready {
        let mut from_kubelet = from_kubelet.take_until(shutdown);
        let mut outcome = None;
        while let Some(item) = from_kubelet.next().await {
            let frames = match item {
                Ok(r) => match r.kind {
                    Some(Out::Stdout(d)) => stdout_id.map(|id| data_frames(id, &d, false)),
                    Some(Out::Stderr(d)) => stderr_id.map(|id| data_frames(id, &d, false)),
                    Some(Out::Exit(e)) => {
                        outcome = Some(if e.error.is_empty() {
                            Outcome::Exited(e.exit_code)
                        } else {
                            Outcome::Failed(e.error)
                        });
                        break;
                    }
                    None => None,
                },
                Err(s) => {
                    outcome = Some(Outcome::Failed(s.message().to_string()));
                    break;
                }
            };
            if let Some(f) = frames
                && out_tx.send(f).await.is_err()
            {
                break;
            }
        }
        let outcome = outcome.unwrap_or_else(|| {
            Outcome::Failed(
                "the session ended without an exit status (kubelet gone or apiserver shutting down)"
                    .into(),
            )
        });
        let status = super::channel::exit_status(&outcome, &command);
        let status = serde_json::to_vec(&status).unwrap_or_default();
        let mut end = Vec::new();
        if let Some(id) = error_id {
            end.extend(data_frames(id, &status, true));
        }
        for id in [stdout_id, stderr_id].into_iter().flatten() {
            end.extend(data_frames(id, &[], true));
        }
        let _ = out_tx.send(end).await;
        // The client closes the connection once it has read everything.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), reader).await;
    } else {
        tracing::debug!("spdy: the client never opened its streams");
        reader.abort();
    }
    drop(out_tx);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_spdy3s() {
        assert_eq!(DICTIONARY.len(), 1423);
        assert!(DICTIONARY.starts_with(b"\x00\x00\x00\x07options"));
    }

    #[test]
    fn frames_round_trip() {
        let f = control_frame(TYPE_SYN_REPLY, 0, &[0, 0, 0, 1]);
        let (control, kind, flags, len) = parse_header(f[..8].try_into().unwrap());
        assert_eq!((control, kind, flags, len), (true, 2, 0, 4));
        let d = data_frames(3, b"hey", true);
        let (control, stream, flags, len) = parse_header(d[..8].try_into().unwrap());
        assert_eq!((control, stream, flags, len), (false, 3, FLAG_FIN, 3));
        assert_eq!(&d[8..], b"hey");
        assert_eq!(data_frames(5, b"", true).len(), 8);
    }

    #[test]
    fn our_header_blocks_inflate_and_parse() {
        let mut d = Deflater::default();
        let mut i = Inflater::default();
        let h = encode_headers(&[("streamtype", "stdout"), ("port", "80")]);
        let got = i.inflate(&d.block(&h)).unwrap();
        assert_eq!(
            parse_headers(&got).unwrap(),
            vec![
                ("streamtype".to_string(), "stdout".to_string()),
                ("port".to_string(), "80".to_string())
            ]
        );
        let h2 = encode_headers(&[("streamtype", "error")]);
        assert_eq!(i.inflate(&d.block(&h2)).unwrap(), h2);
        assert!(parse_headers(&[0, 0, 0, 1, 0, 0, 0, 9]).is_err());
    }

    #[test]
    fn only_clients_offering_v4_are_served() {
        let mut h = ::http::HeaderMap::new();
        assert!(!offers_v4(&h));
        h.append(
            "x-stream-protocol-version",
            "v2.channel.k8s.io".parse().unwrap(),
        );
        assert!(!offers_v4(&h));
        h.append(
            "x-stream-protocol-version",
            "v4.channel.k8s.io".parse().unwrap(),
        );
        assert!(offers_v4(&h));
    }
}
