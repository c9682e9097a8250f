//! `ctl exec (POD | TYPE/NAME) [-c C] [-i] [-t] -- COMMAND [args...]`, as kubectl: the
//! command runs in an exec session; its stdout and stderr are written as they come, `-i`
//! streams the local stdin to it, `-t` gives it a terminal (the local one in raw mode, its
//! size sent at the start and on every SIGWINCH), and its exit code becomes ctl's.

use super::RemoteExit;
use super::pods::{choose_container, exec_pod, parse_target};
use super::session::{self, Output, Session};
use super::term::{self, RawMode};
use crate::args::parse_duration;
use crate::commands::Ctx;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::kubelet_api::ExecStreamOpen;
use proto::Resource;
use std::io::{IsTerminal, Write};

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// The pod, or TYPE/NAME (a pod of a deployment, job, service...)
    pub pod: String,
    /// A command without `--` before it (refused, as kubectl does)
    #[arg(hide = true)]
    pub extra: Vec<String>,
    /// The container (default: the kubectl.kubernetes.io/default-container annotation's,
    /// else the first)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Pass stdin to the container
    #[arg(short = 'i', long = "stdin")]
    pub stdin: bool,
    /// Stdin is a TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Only print output from the remote session
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// How long to wait for a pod of TYPE/NAME to exist
    #[arg(long, default_value = "1m0s", value_name = "DURATION")]
    pub pod_running_timeout: String,
    /// The command, after `--`
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// The pod argument and the command, or kubectl's complaint.
fn validate(a: &ExecArgs) -> Result<&str> {
    if !a.extra.is_empty() {
        bail!("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead");
    }
    if a.pod.is_empty() {
        bail!("pod, type/name or --filename must be specified");
    }
    if a.command.is_empty() {
        bail!("you must specify at least one command for the container");
    }
    Ok(&a.pod)
}

/// Whether the session gets a terminal: `-t` with `-i`, and stdin a terminal (kubectl's
/// SetupTTY); the notice kubectl prints when `-t` cannot be honoured.
pub fn use_tty(tty: bool, stdin: bool, stdin_is_terminal: bool) -> (bool, Option<&'static str>) {
    match (tty, stdin, stdin_is_terminal) {
        (true, true, true) => (true, None),
        (true, true, false) => (
            false,
            Some("Unable to use a TTY - input is not a terminal or the right kind of file"),
        ),
        _ => (false, None),
    }
}

pub async fn exec(ctx: &Ctx, a: &ExecArgs) -> Result<()> {
    let target = parse_target(validate(a)?, "attach to")?;
    let timeout = parse_duration(&a.pod_running_timeout)
        .map_err(|e| anyhow!("--pod-running-timeout: {e}"))?;
    let pod = exec_pod(ctx, &target, timeout).await?;
    let (container, notice) = choose_container(&pod, a.container.as_deref())?;
    if let (Some(n), false) = (notice, a.quiet) {
        eprintln!("{n}");
    }
    let (tty, notice) = use_tty(a.tty, a.stdin, std::io::stdin().is_terminal());
    if let (Some(n), false) = (notice, a.quiet) {
        eprintln!("{n}");
    }
    let open = ExecStreamOpen {
        namespace: pod.meta().namespace.clone(),
        pod: pod.meta().name.clone(),
        container,
        command: a.command.clone(),
        stdin: a.stdin,
        stdout: true,
        stderr: !tty,
        tty,
        attach: false,
    };
    let code = run(ctx, open).await?;
    match code {
        None | Some(0) => Ok(()),
        Some(n) => {
            eprintln!("{}", RemoteExit(n));
            Err(RemoteExit(n).into())
        }
    }
}

/// Runs the session to its end; the remote exit code. The terminal is raw only inside.
async fn run(ctx: &Ctx, open: ExecStreamOpen) -> Result<Option<i32>> {
    let (stdin, tty) = (open.stdin, open.tty);
    let size = if tty { term::size() } else { None };
    let first = size
        .map(|(w, h)| session::resize(w, h))
        .into_iter()
        .collect();
    let s = Session::open_with(ctx, open, first).await?;
    let _raw = if tty { Some(RawMode::enable()?) } else { None };
    if tty {
        follow_resizes(s.input());
    }
    if stdin {
        session::feed_stdin(std::io::stdin(), s.input());
    }
    let mut s = s;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        match s.next().await? {
            Output::Stdout(d) => {
                out.write_all(&d)?;
                out.flush()?;
            }
            Output::Stderr(d) => {
                err.write_all(&d)?;
                err.flush()?;
            }
            Output::Exit(code) => return Ok(code),
        }
    }
}

/// Sends the terminal's new size on every SIGWINCH, until the session's input closes.
fn follow_resizes(input: tokio::sync::mpsc::Sender<client::kubelet_api::ExecStreamRequest>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut winch) = signal(SignalKind::window_change()) else {
        return;
    };
    tokio::spawn(async move {
        while winch.recv().await.is_some() {
            if let Some((w, h)) = term::size()
                && input.send(session::resize(w, h)).await.is_err()
            {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: &[&str], command: &[&str]) -> ExecArgs {
        ExecArgs {
            pod: target.first().map(|s| s.to_string()).unwrap_or_default(),
            extra: target.iter().skip(1).map(|s| s.to_string()).collect(),
            container: None,
            stdin: false,
            tty: false,
            quiet: false,
            pod_running_timeout: "1m0s".into(),
            command: command.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn kubectls_complaints() {
        assert_eq!(validate(&args(&["p"], &["ls"])).unwrap(), "p");
        assert_eq!(
            validate(&args(&["p", "ls"], &[])).unwrap_err().to_string(),
            "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead"
        );
        assert_eq!(
            validate(&args(&[], &["ls"])).unwrap_err().to_string(),
            "pod, type/name or --filename must be specified"
        );
        assert_eq!(
            validate(&args(&["p"], &[])).unwrap_err().to_string(),
            "you must specify at least one command for the container"
        );
    }

    #[test]
    fn a_terminal_only_with_stdin_from_one() {
        assert_eq!(use_tty(true, true, true), (true, None));
        assert_eq!(
            use_tty(true, true, false),
            (
                false,
                Some("Unable to use a TTY - input is not a terminal or the right kind of file")
            )
        );
        // -t without -i: no terminal, silently (kubectl's SetupTTY).
        assert_eq!(use_tty(true, false, true), (false, None));
        assert_eq!(use_tty(false, true, true), (false, None));
    }

    #[test]
    fn the_grammar_keeps_the_command_after_dashes() {
        use crate::args::{Cli, Command};
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "ctl",
            "exec",
            "-i",
            "web",
            "-c",
            "app",
            "--",
            "sh",
            "-c",
            "cat; exit 3",
        ])
        .unwrap();
        let Command::Exec(e) = cli.command else {
            panic!("not exec")
        };
        assert!(e.stdin && !e.tty);
        assert_eq!(e.pod, "web");
        assert_eq!(e.container.as_deref(), Some("app"));
        assert_eq!(e.command, ["sh", "-c", "cat; exit 3"]);
        let cli = Cli::try_parse_from(["ctl", "exec", "-it", "deploy/web", "--", "sh"]).unwrap();
        let Command::Exec(e) = cli.command else {
            panic!("not exec")
        };
        assert!(e.stdin && e.tty);
        assert_eq!(e.pod, "deploy/web");
    }
}
