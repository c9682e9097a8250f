//! Exec output is read with bounds, so a command in a container cannot make the kubelet
//! hold unbounded memory or a request open forever: at most [`OUTPUT_LIMIT`] bytes are
//! kept (the rest is not read: the stream is dropped, the command's next write fails), and
//! a stream silent for [`IDLE_TIMEOUT`] is given up, as Kubernetes'
//! `--streaming-connection-idle-timeout` (4 h) does. The kubelet API adds a total deadline
//! ([`crate::server::EXEC_TIMEOUT`]).

use futures::{Stream, StreamExt};
use std::time::Duration;

/// Bytes of exec output kept; more makes the result `truncated`.
pub const OUTPUT_LIMIT: usize = 16 * 1024 * 1024;
/// A stream with no output for this long ends the exec.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collected {
    pub output: Vec<u8>,
    /// The command wrote more than the limit.
    pub truncated: bool,
    /// The stream went silent for the idle timeout.
    pub idle: bool,
}

/// Reads `stream` until it ends, `limit` bytes are kept, or nothing comes for `idle`.
pub async fn collect<S, B, E>(mut stream: S, limit: usize, idle: Duration) -> Result<Collected, E>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut out = Collected::default();
    loop {
        let next = match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                out.idle = true;
                return Ok(out);
            }
            Ok(None) => return Ok(out),
            Ok(Some(chunk)) => chunk?,
        };
        let bytes = next.as_ref();
        let room = limit - out.output.len();
        if bytes.len() > room {
            out.output.extend_from_slice(&bytes[..room]);
            out.truncated = true;
            return Ok(out);
        }
        out.output.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Vec<u8>, ()>> + Unpin {
        futures::stream::iter(parts.iter().map(|p| Ok(p.to_vec())).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn keeps_everything_under_the_limit_and_cuts_at_it() {
        let all = collect(chunks(&[b"abc", b"def"]), 6, IDLE_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            (all.output.as_slice(), all.truncated),
            (&b"abcdef"[..], false)
        );
        let cut = collect(chunks(&[b"abc", b"defg", b"h"]), 5, IDLE_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            (cut.output.as_slice(), cut.truncated),
            (&b"abcde"[..], true)
        );
    }

    #[tokio::test]
    async fn a_silent_stream_is_given_up_after_the_idle_timeout() {
        let first = futures::stream::iter(vec![Ok::<_, ()>(b"hi".to_vec())]);
        let s = first.chain(futures::stream::pending());
        let started = std::time::Instant::now();
        let got = collect(Box::pin(s), 100, Duration::from_millis(300))
            .await
            .unwrap();
        assert!(got.idle && !got.truncated);
        assert_eq!(got.output, b"hi");
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_stream_error_is_returned() {
        let s = futures::stream::iter(vec![Ok(b"x".to_vec()), Err("boom")]);
        assert_eq!(collect(s, 10, IDLE_TIMEOUT).await, Err("boom"));
    }
}
