//! Interactive exec and attach: a process's stdin, stdout and stderr as streams, for
//! `kubectl exec -i` / `kubectl attach`. The runtime starts the session; the caller feeds
//! [`StreamInput`]s through a channel and reads [`StreamOutput`]s until `Exit`.

use crate::error::{Error, Result};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, ResizeContainerTTYOptionsBuilder, ResizeExecOptionsBuilder,
};
use futures::StreamExt;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// What to run and which streams to connect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamSpec {
    /// Ignored with `attach`.
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// A terminal: stderr comes merged into stdout, resizes apply.
    pub tty: bool,
    /// The container's main process instead of a new one.
    pub attach: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamInput {
    Stdin(bytes::Bytes),
    /// The process reads end-of-file. Closing the channel means the same.
    StdinClose,
    Resize {
        width: u16,
        height: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamOutput {
    Stdout(bytes::Bytes),
    Stderr(bytes::Bytes),
    /// Last item: the process ended (`None`: exit code unknown, as for attach).
    Exit(Option<i64>),
}

pub type StreamOutputs = futures::stream::BoxStream<'static, Result<StreamOutput>>;

/// Which Docker object a resize or the exit code concerns.
#[derive(Clone)]
enum Session {
    Exec(String),
    Attach(String),
}

fn rt(e: bollard::errors::Error) -> Error {
    Error::Runtime(e.to_string())
}

/// Starts the session on Docker: an exec (create with the streams attached, start
/// attached) or an attach to the container; then pumps `input` into it in a task of its own.
pub(super) async fn docker_start(
    docker: &Docker,
    id: &str,
    spec: &StreamSpec,
    input: mpsc::Receiver<StreamInput>,
) -> Result<StreamOutputs> {
    let (output, writer, session) = if spec.attach {
        let opts = AttachContainerOptionsBuilder::default()
            .stdin(spec.stdin)
            .stdout(spec.stdout)
            .stderr(spec.stderr)
            .stream(true)
            .logs(false)
            .build();
        let r = docker
            .attach_container(id, Some(opts))
            .await
            .map_err(|e| not_found_or(id, e))?;
        (r.output, r.input, Session::Attach(id.to_string()))
    } else {
        let created = docker
            .create_exec(
                id,
                ExecConfig {
                    attach_stdin: Some(spec.stdin),
                    attach_stdout: Some(spec.stdout),
                    attach_stderr: Some(spec.stderr),
                    tty: Some(spec.tty),
                    cmd: Some(spec.command.clone()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| not_found_or(id, e))?;
        let opts = StartExecOptions {
            detach: false,
            tty: spec.tty,
            output_capacity: None,
        };
        match docker
            .start_exec(&created.id, Some(opts))
            .await
            .map_err(rt)?
        {
            StartExecResults::Attached { output, input } => {
                (output, input, Session::Exec(created.id))
            }
            StartExecResults::Detached => {
                return Err(Error::Runtime(format!(
                    "exec in {id}: Docker started the command detached"
                )));
            }
        }
    };
    tokio::spawn(pump_input(docker.clone(), session.clone(), writer, input));
    let exit_docker = docker.clone();
    let exit = futures::stream::once(async move {
        Ok(StreamOutput::Exit(exit_code(&exit_docker, &session).await?))
    });
    let outputs = output
        .filter_map(|item| async move {
            match item {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    Some(Ok(StreamOutput::Stdout(message)))
                }
                Ok(LogOutput::StdErr { message }) => Some(Ok(StreamOutput::Stderr(message))),
                Ok(LogOutput::StdIn { .. }) => None,
                Err(e) => Some(Err(rt(e))),
            }
        })
        .chain(exit);
    Ok(outputs.boxed())
}

fn not_found_or(id: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        } => Error::NotFound(id.to_string()),
        e => rt(e),
    }
}

/// Feeds stdin to the process; stdin's close (or the channel's) half-closes the connection,
/// which Docker turns into EOF on the process's stdin. Resizes keep working after that.
async fn pump_input(
    docker: Docker,
    session: Session,
    mut writer: Pin<Box<dyn AsyncWrite + Send>>,
    mut input: mpsc::Receiver<StreamInput>,
) {
    let mut open = true;
    while let Some(item) = input.recv().await {
        match item {
            StreamInput::Stdin(data) if open => {
                let wrote = async {
                    writer.write_all(&data).await?;
                    writer.flush().await
                };
                if let Err(e) = wrote.await {
                    tracing::debug!(error = %e, "exec stdin: the process no longer reads");
                    open = false;
                }
            }
            StreamInput::Stdin(_) => {}
            StreamInput::StdinClose => {
                if open {
                    let _ = writer.shutdown().await;
                    open = false;
                }
            }
            StreamInput::Resize { width, height } => {
                let (w, h) = (i32::from(width), i32::from(height));
                let r = match &session {
                    Session::Exec(exec) => {
                        let o = ResizeExecOptionsBuilder::default().w(w).h(h).build();
                        docker.resize_exec(exec, o).await
                    }
                    Session::Attach(id) => {
                        let o = ResizeContainerTTYOptionsBuilder::default()
                            .w(w)
                            .h(h)
                            .build();
                        docker.resize_container_tty(id, o).await
                    }
                };
                if let Err(e) = r {
                    tracing::debug!(error = %e, "exec: terminal resize refused");
                }
            }
        }
    }
    if open {
        let _ = writer.shutdown().await;
    }
}

/// The exec's exit code once its output ended. Docker may report the exec as still running
/// for a moment after closing its streams: ask again briefly.
async fn exit_code(docker: &Docker, session: &Session) -> Result<Option<i64>> {
    let Session::Exec(exec) = session else {
        return Ok(None);
    };
    for _ in 0..50 {
        let inspect = docker.inspect_exec(exec).await.map_err(rt)?;
        if inspect.running != Some(true) {
            return Ok(inspect.exit_code);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(None)
}

/// The fake runtime's session: each stdin chunk comes back on stdout (and, with `stderr`,
/// prefixed `err: ` on stderr); stdin's close ends it with `code`.
pub fn echo(input: mpsc::Receiver<StreamInput>, stderr: bool, code: i64) -> StreamOutputs {
    futures::stream::unfold(Some(input), move |state| async move {
        let mut input = state?;
        loop {
            match input.recv().await {
                Some(StreamInput::Stdin(data)) => {
                    let mut out = vec![Ok(StreamOutput::Stdout(data.clone()))];
                    if stderr {
                        let mut e = b"err: ".to_vec();
                        e.extend_from_slice(&data);
                        out.push(Ok(StreamOutput::Stderr(e.into())));
                    }
                    return Some((futures::stream::iter(out), Some(input)));
                }
                Some(StreamInput::Resize { .. }) => {}
                Some(StreamInput::StdinClose) | None => {
                    let last = vec![Ok(StreamOutput::Exit(Some(code)))];
                    return Some((futures::stream::iter(last), None));
                }
            }
        }
    })
    .flatten()
    .boxed()
}
