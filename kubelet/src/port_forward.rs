//! The kubelet API's `PortForward` in the runtime's terms: the first message names the pod
//! and port, the runtime's connection to it ([`crate::runtime::port_forward`]) is then
//! pumped both ways. Each direction closes on its own, as a TCP half-close: the caller's
//! `close` (or the end of its requests) shuts the connection's write side, the pod's EOF is
//! sent as `close`; the answer ends once both are closed, or with an error status when a
//! side fails.

use crate::runtime::port_forward::PortStream;
use futures::{Stream, StreamExt};
use proto::kubelet_api::port_forward_request::Kind as In;
use proto::kubelet_api::port_forward_response::Kind as Out;
use proto::kubelet_api::{PortForwardOpen, PortForwardRequest, PortForwardResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Status;

/// The largest data message sent (what one read of the pod's connection returns at most).
pub const CHUNK: usize = 32 * 1024;

/// The `open` that must come first, and its port.
pub fn first(message: Option<PortForwardRequest>) -> Result<(PortForwardOpen, u16), Status> {
    let open = match message.and_then(|m| m.kind) {
        Some(In::Open(open)) => open,
        _ => {
            return Err(Status::invalid_argument(
                "the first message of a port-forward stream must be `open`",
            ));
        }
    };
    let port = u16::try_from(open.port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            // Kubernetes' kubelet wording for a bad port header.
            Status::invalid_argument(format!(
                "invalid port {}: must be between 1 and 65535",
                open.port
            ))
        })?;
    Ok((open, port))
}

/// Aborts the task when dropped: the caller-to-pod pump ends with the answer.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), Status>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum State {
    /// Reading the pod's side; the caller's side is pumped by the task.
    Reading(tokio::io::ReadHalf<PortStream>, AbortOnDrop),
    /// The pod closed its side; waiting for the caller to close theirs.
    Draining(AbortOnDrop),
    Done,
}

/// Pumps `incoming` (what follows `open`) into `conn` and `conn`'s data out as the answer.
pub fn pump<I>(
    conn: PortStream,
    incoming: I,
) -> impl Stream<Item = Result<PortForwardResponse, Status>> + Send + 'static
where
    I: Stream<Item = Result<PortForwardRequest, Status>> + Send + Unpin + 'static,
{
    let (rd, wr) = tokio::io::split(conn);
    let inbound = AbortOnDrop(tokio::spawn(caller_to_pod(incoming, wr)));
    futures::stream::unfold(State::Reading(rd, inbound), |state| async move {
        match state {
            State::Reading(mut rd, inbound) => {
                let mut buf = vec![0u8; CHUNK];
                match rd.read(&mut buf).await {
                    Ok(0) => Some((Ok(message(Out::Close(true))), State::Draining(inbound))),
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(message(Out::Data(buf))), State::Reading(rd, inbound)))
                    }
                    Err(e) => Some((
                        Err(Status::unavailable(format!(
                            "reading from the pod's port: {e}"
                        ))),
                        State::Done,
                    )),
                }
            }
            State::Draining(mut inbound) => match (&mut inbound.0).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some((Err(e), State::Done)),
                Err(e) => Some((
                    Err(Status::internal(format!(
                        "the port-forward pump failed: {e}"
                    ))),
                    State::Done,
                )),
            },
            State::Done => None,
        }
    })
}

fn message(kind: Out) -> PortForwardResponse {
    PortForwardResponse { kind: Some(kind) }
}

/// Writes the caller's data to the pod until its `close`, the end of its requests or its
/// going away (all of which the pod reads as EOF).
async fn caller_to_pod<I>(
    mut incoming: I,
    mut wr: tokio::io::WriteHalf<PortStream>,
) -> Result<(), Status>
where
    I: Stream<Item = Result<PortForwardRequest, Status>> + Send + Unpin,
{
    while let Some(Ok(m)) = incoming.next().await {
        match m.kind {
            Some(In::Data(data)) => wr
                .write_all(&data)
                .await
                .map_err(|e| Status::unavailable(format!("writing to the pod's port: {e}")))?,
            Some(In::Close(_)) => break,
            // Another `open`, or an empty message: nothing to forward.
            Some(In::Open(_)) | None => {}
        }
    }
    // A pod that already went away cannot be told; that is not the caller's failure.
    let _ = wr.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::SinkExt;

    fn open(port: u32) -> PortForwardRequest {
        PortForwardRequest {
            kind: Some(In::Open(PortForwardOpen {
                namespace: "ns".into(),
                pod: "p".into(),
                port,
            })),
        }
    }

    fn data(b: &[u8]) -> PortForwardRequest {
        PortForwardRequest {
            kind: Some(In::Data(b.to_vec())),
        }
    }

    #[test]
    fn the_first_message_opens_a_valid_port() {
        assert_eq!(first(Some(open(80))).unwrap().1, 80);
        for bad in [0, 65536] {
            let e = first(Some(open(bad))).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            assert!(e.message().contains(&format!("invalid port {bad}")), "{e}");
        }
        assert!(first(None).is_err());
        assert!(first(Some(data(b"x"))).is_err());
    }

    /// The answer's data, and whether a `close` came before its end.
    async fn collect(
        mut s: impl Stream<Item = Result<PortForwardResponse, Status>> + Unpin,
    ) -> (Vec<u8>, bool, Option<Status>) {
        let (mut got, mut closed) = (Vec::new(), false);
        while let Some(item) = s.next().await {
            match item {
                Ok(PortForwardResponse {
                    kind: Some(Out::Data(d)),
                }) => {
                    assert!(!closed, "data after close");
                    got.extend(d);
                }
                Ok(PortForwardResponse {
                    kind: Some(Out::Close(_)),
                }) => closed = true,
                Ok(_) => {}
                Err(e) => return (got, closed, Some(e)),
            }
        }
        (got, closed, None)
    }

    #[tokio::test]
    async fn data_flows_both_ways_and_the_answer_ends_after_both_closes() {
        let (mut tx, rx) = futures::channel::mpsc::channel(4);
        let out = Box::pin(pump(crate::runtime::port_forward::echo(), rx));
        let reader = tokio::spawn(collect(out));
        tx.send(Ok(data(b"hello "))).await.unwrap();
        tx.send(Ok(data(b"world"))).await.unwrap();
        tx.send(Ok(PortForwardRequest {
            kind: Some(In::Close(true)),
        }))
        .await
        .unwrap();
        let (got, closed, err) = tokio::time::timeout(std::time::Duration::from_secs(5), reader)
            .await
            .expect("the answer ends once both sides closed")
            .unwrap();
        assert_eq!(got, b"hello world");
        assert!(closed, "the pod's close is sent");
        assert!(err.is_none(), "{err:?}");
    }

    #[tokio::test]
    async fn the_pods_close_comes_first_and_the_caller_may_still_send() {
        // A pod that answers and closes its side at once, then counts what it still reads.
        let (near, mut far) = tokio::io::duplex(1024);
        let pod = tokio::spawn(async move {
            far.write_all(b"bye").await.unwrap();
            far.shutdown().await.unwrap();
            let mut rest = Vec::new();
            far.read_to_end(&mut rest).await.unwrap();
            rest
        });
        let (mut tx, rx) = futures::channel::mpsc::channel(4);
        let mut out = Box::pin(pump(Box::new(near), rx));
        let mut got = Vec::new();
        loop {
            match out.next().await.unwrap().unwrap().kind {
                Some(Out::Data(d)) => got.extend(d),
                Some(Out::Close(_)) => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, b"bye");
        tx.send(Ok(data(b"late"))).await.unwrap();
        drop(tx);
        assert!(out.next().await.is_none(), "ends after the caller's end");
        assert_eq!(pod.await.unwrap(), b"late");
    }
}
