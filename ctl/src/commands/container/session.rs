//! One exec session through the apiserver's kubelet proxy (the kubelet API's `ExecStream`):
//! input (stdin chunks, stdin's close, terminal sizes) goes in through a channel, output
//! (stdout and stderr chunks, then the exit) comes back as it is produced.

use super::{kubelet_api, status_error};
use crate::commands::Ctx;
use anyhow::{Result, anyhow, bail};
use client::kubelet_api::exec_stream_request::Kind as In;
use client::kubelet_api::exec_stream_response::Kind as Out;
use client::kubelet_api::{ExecExit, ExecSession, ExecStreamOpen, ExecStreamRequest, TerminalSize};
use tokio::sync::mpsc;

pub struct Session {
    input: mpsc::Sender<ExecStreamRequest>,
    output: ExecSession,
}

/// What a session said, in order; `Exit` is the last.
#[derive(Debug)]
pub enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The command's exit code (`None` when the runtime could not tell).
    Exit(Option<i32>),
}

impl Session {
    /// Starts the command; errors before it runs (no such pod or container, refused) are
    /// this call's.
    pub async fn open(ctx: &Ctx, open: ExecStreamOpen) -> Result<Session> {
        Self::open_with(ctx, open, Vec::new()).await
    }

    /// Starts the command with `first` queued right behind `open` (the terminal's size,
    /// so that it applies as early as the runtime allows).
    pub async fn open_with(
        ctx: &Ctx,
        open: ExecStreamOpen,
        first: Vec<ExecStreamRequest>,
    ) -> Result<Session> {
        let api = kubelet_api(ctx).await?;
        // Bounded: a fast producer (a large `cp` upload) waits for the connection.
        let (tx, rx) = mpsc::channel::<ExecStreamRequest>(16 + first.len());
        for m in first {
            // Cannot fail: the channel has room and its receiver is here.
            let _ = tx.try_send(m);
        }
        let input =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        let output = api.exec_stream(open, input).await.map_err(status_error)?;
        Ok(Session { input: tx, output })
    }

    /// Where input goes; the session's input stays open while any sender lives.
    pub fn input(&self) -> mpsc::Sender<ExecStreamRequest> {
        self.input.clone()
    }

    /// The next output; the stream ending without an exit, or with an error, is an error.
    pub async fn next(&mut self) -> Result<Output> {
        match self.output.next().await.map_err(status_error)? {
            Some(Out::Stdout(d)) => Ok(Output::Stdout(d)),
            Some(Out::Stderr(d)) => Ok(Output::Stderr(d)),
            Some(Out::Exit(exit)) => exit_of(exit).map(Output::Exit),
            None => bail!("the exec session ended without the command's exit status"),
        }
    }
}

fn exit_of(exit: ExecExit) -> Result<Option<i32>> {
    if !exit.error.is_empty() {
        return Err(anyhow!("{}", exit.error));
    }
    Ok(exit.exit_code)
}

pub fn stdin(data: Vec<u8>) -> ExecStreamRequest {
    ExecStreamRequest {
        kind: Some(In::Stdin(data)),
    }
}

pub fn stdin_close() -> ExecStreamRequest {
    ExecStreamRequest {
        kind: Some(In::StdinClose(true)),
    }
}

pub fn resize(width: u16, height: u16) -> ExecStreamRequest {
    ExecStreamRequest {
        kind: Some(In::Resize(TerminalSize {
            width: width.into(),
            height: height.into(),
        })),
    }
}

/// Feeds `reader` (the local stdin) to the session from a thread of its own, then closes
/// the remote stdin at its end. A plain thread, not the runtime's blocking pool: a read of a
/// terminal cannot be cancelled, and the runtime waits for its pool when it shuts down.
pub fn feed_stdin(
    mut reader: impl std::io::Read + Send + 'static,
    input: mpsc::Sender<ExecStreamRequest>,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match reader.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if input.blocking_send(stdin(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = input.blocking_send(stdin_close());
    });
}
