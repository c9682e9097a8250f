//! `ctl cp [NS/]POD:SRC DEST` and `ctl cp SRC [NS/]POD:DEST`, as kubectl does them: `tar cf
//! - SRC` (resp. `tar xmf - -C DIR`) runs in the container through an exec session and the
//! archive is read (resp. written) here as it streams. A copy into the pod goes into DEST
//! when DEST is a directory there (`test -d`). The container needs a `tar`, as with kubectl.

mod archive;
mod spec;

use super::Ctx;
use super::container::RemoteExit;
use super::container::pods::{check_running, choose_container, get_pod};
use super::container::session::{self, Output, Session};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::kubelet_api::ExecStreamOpen;
use proto::Resource;
use spec::{Direction, archive_prefix, base, clean, dir};
use std::io::Write;
use tokio::sync::{mpsc, oneshot};

#[derive(Args, Debug, Clone)]
pub struct CpArgs {
    /// <file-spec-src> <file-spec-dest>, each a local path or [NAMESPACE/]POD:PATH
    pub args: Vec<String>,
    /// The container (default: the kubectl.kubernetes.io/default-container annotation's,
    /// else the first)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The copied file/directory's ownership and permissions will not be preserved in the
    /// container
    #[arg(long)]
    pub no_preserve: bool,
    /// Retries of a copy from the container that broke, resuming where it stopped
    /// (negative: without end; 0: none)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub retries: i32,
}

/// The pod and container a copy talks to.
struct Remote {
    namespace: String,
    pod: String,
    container: String,
}

pub async fn cp(ctx: &Ctx, a: &CpArgs) -> Result<()> {
    match spec::direction(&a.args)? {
        Direction::FromPod {
            namespace,
            pod,
            src,
            dest,
        } => {
            let r = remote(ctx, namespace, &pod, a).await?;
            from_pod(ctx, &r, &src, &dest, a.retries).await
        }
        Direction::ToPod {
            src,
            namespace,
            pod,
            dest,
        } => {
            if std::fs::symlink_metadata(&src).is_err() {
                bail!("{src} doesn't exist in local filesystem");
            }
            let r = remote(ctx, namespace, &pod, a).await?;
            to_pod(ctx, &r, &src, &dest, a.no_preserve).await
        }
    }
}

async fn remote(ctx: &Ctx, namespace: Option<String>, pod: &str, a: &CpArgs) -> Result<Remote> {
    // `NS/POD:` names the namespace, whatever -n says.
    let ns = namespace.unwrap_or_else(|| ctx.ns.effective().to_string());
    let pod = get_pod(ctx, &ns, pod).await?;
    check_running(&pod)?;
    let (container, notice) = choose_container(&pod, a.container.as_deref())?;
    if let Some(n) = notice {
        eprintln!("{n}");
    }
    Ok(Remote {
        namespace: pod.meta().namespace.clone(),
        pod: pod.meta().name.clone(),
        container,
    })
}

fn open(r: &Remote, command: Vec<String>, stdin: bool) -> ExecStreamOpen {
    ExecStreamOpen {
        namespace: r.namespace.clone(),
        pod: r.pod.clone(),
        container: r.container.clone(),
        command,
        stdin,
        stdout: true,
        stderr: true,
        tty: false,
        attach: false,
    }
}

/// How much of the output is kept to explain a failure.
const HEAD: usize = 4096;

/// The clear error for a container without `tar` (the runtime's "executable file not
/// found", exit code 126/127), else kubectl's for a failed command.
fn remote_failure(r: &Remote, code: i32, output: &str) -> anyhow::Error {
    if tar_missing(code, output) {
        return anyhow!(
            "cannot copy: there is no `tar` in container {:?} of pod {:?} (ctl cp, like kubectl cp, runs tar in the container)",
            r.container,
            r.pod
        );
    }
    eprintln!("{}", RemoteExit(code));
    RemoteExit(code).into()
}

/// Whether a failed command's output says the container has no `tar`.
fn tar_missing(code: i32, output: &str) -> bool {
    output.contains("\"tar\": executable file not found")
        || output.contains("tar: not found")
        || output.contains("tar: command not found")
        || ((code == 126 || code == 127) && output.contains("tar"))
}

/// A line of remote stderr worth showing: GNU tar's note about the leading `/` is not.
fn shown(line: &str) -> bool {
    !line.contains("Removing leading `/' from member names")
        && !line.contains("removing leading '/' from member names")
}

/// The command that writes the archive of `src`: plain `tar cf - SRC`, or with retries
/// (kubectl's form) through `tail -c+N` so that a retry resumes at byte `from`.
pub fn tar_command(src: &str, retries: bool, from: u64) -> Vec<String> {
    if !retries {
        return vec!["tar".into(), "cf".into(), "-".into(), src.into()];
    }
    let quoted = src.replace('\'', "'\\''");
    vec![
        "sh".into(),
        "-c".into(),
        format!("tar cf - '{quoted}' | tail -c+{from}"),
    ]
}

/// What one `tar cf` session produced besides the archive bytes.
#[derive(Default)]
struct Said {
    stderr: String,
    /// The start of stdout: the runtime's complaint about a missing tar comes there.
    head: String,
    /// Archive bytes handed to the reader, over all attempts.
    delivered: u64,
}

/// Runs `tar cf - SRC` in the container and unpacks its output into `dest` as it comes;
/// a session that breaks is started again `retries` times (negative: always), resuming
/// where it broke.
async fn from_pod(ctx: &Ctx, r: &Remote, src: &str, dest: &str, retries: i32) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    let (done_tx, done_rx) = oneshot::channel();
    let (dest_s, prefix) = (dest.to_string(), archive_prefix(src));
    let hint = format!(
        "ctl exec -n {:?} {:?} -- tar cf - {:?} | tar xf -",
        r.namespace, r.pod, src
    );
    // The tar reader is blocking: a thread of its own, fed through the channel.
    std::thread::spawn(move || {
        let reader = ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        };
        let result = archive::extract(reader, &dest_s, &prefix, &hint, &mut |w| eprintln!("{w}"));
        let _ = done_tx.send(result);
    });
    let mut tx = Some(tx);
    let mut said = Said::default();
    let mut tries = 0;
    let code = loop {
        let command = tar_command(src, retries != 0, said.delivered + u64::from(tries > 0));
        match tar_session(ctx, r, command, &mut tx, &mut said).await {
            Ok(code) => break code,
            Err(e) if retries < 0 || tries < retries => {
                tries += 1;
                println!(
                    "Resuming copy at {} bytes, retry {tries}/{retries}",
                    said.delivered
                );
                tracing::debug!("copy from the pod broke: {e:#}");
            }
            Err(e) => {
                if retries != 0 {
                    println!("Dropping out copy after {tries} retries");
                }
                return Err(e);
            }
        }
    };
    drop(tx);
    let extracted = done_rx
        .await
        .map_err(|_| anyhow!("the archive reader stopped"))?;
    if code != 0 {
        let output = format!("{}\n{}", said.stderr, said.head);
        return Err(remote_failure(r, code, &output));
    }
    extracted.map(|_| ())
}

/// One `tar cf` session: its stdout to the reader, its stderr shown; its exit code.
async fn tar_session(
    ctx: &Ctx,
    r: &Remote,
    command: Vec<String>,
    tx: &mut Option<mpsc::Sender<Vec<u8>>>,
    said: &mut Said,
) -> Result<i32> {
    let mut s = Session::open(ctx, open(r, command, false)).await?;
    loop {
        match s.next().await? {
            Output::Stdout(d) => {
                if said.head.len() < HEAD {
                    said.head
                        .push_str(&String::from_utf8_lossy(&d[..d.len().min(HEAD)]));
                }
                said.delivered += d.len() as u64;
                // A reader that stopped (a bad archive) tells its error afterwards.
                if let Some(t) = tx.as_ref()
                    && t.send(d).await.is_err()
                {
                    *tx = None;
                }
            }
            Output::Stderr(d) => {
                let text = String::from_utf8_lossy(&d);
                for line in text.lines().filter(|l| shown(l)) {
                    eprintln!("{line}");
                }
                said.stderr.push_str(&text);
            }
            Output::Exit(code) => return Ok(code.unwrap_or(0)),
        }
    }
}

/// Streams an archive of `src` to `tar xmf -` in the container.
async fn to_pod(ctx: &Ctx, r: &Remote, src: &str, dest: &str, no_preserve: bool) -> Result<()> {
    let src_clean = clean(src);
    let mut dest_file = clean(dest);
    if is_remote_dir(ctx, r, &dest_file).await? {
        dest_file = clean(&format!("{dest_file}/{}", base(&src_clean)));
    }
    let mut command: Vec<String> = vec!["tar".into()];
    if no_preserve {
        command.extend(["--no-same-permissions".into(), "--no-same-owner".into()]);
    }
    command.extend(["-xmf".into(), "-".into(), "-C".into(), dir(&dest_file)]);
    let mut s = Session::open(ctx, open(r, command, true)).await?;
    let input = s.input();
    let name = base(&dest_file);
    let (done_tx, done_rx) = oneshot::channel();
    std::thread::spawn(move || {
        // tar writes 512-byte headers and small pieces: buffered, one stdin message
        // carries many of them (`build` flushes at the end).
        let w = std::io::BufWriter::with_capacity(32 * 1024, ChannelWriter { tx: input.clone() });
        let result = archive::build(std::path::Path::new(&src_clean), &name, w);
        let _ = input.blocking_send(session::stdin_close());
        let _ = done_tx.send(result);
    });
    let mut stderr = String::new();
    // `tar x` says nothing on stdout; the runtime's complaint about a missing tar comes
    // there, and is replaced by a clearer one.
    let mut stdout = Vec::new();
    let mut err = std::io::stderr();
    let code = loop {
        match s.next().await? {
            Output::Stdout(d) => {
                if stdout.len() < HEAD {
                    stdout.extend_from_slice(&d);
                }
            }
            Output::Stderr(d) => {
                err.write_all(&d)?;
                stderr.push_str(&String::from_utf8_lossy(&d));
            }
            Output::Exit(code) => break code.unwrap_or(0),
        }
    };
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let output = format!("{stderr}\n{stdout}");
    if !tar_missing(code, &output) {
        print!("{stdout}");
    }
    if code != 0 {
        return Err(remote_failure(r, code, &output));
    }
    done_rx
        .await
        .map_err(|_| anyhow!("the archive writer stopped"))?
        .map_err(|e| anyhow!("cannot read {src}: {e}"))
}

/// `test -d PATH` in the container.
async fn is_remote_dir(ctx: &Ctx, r: &Remote, path: &str) -> Result<bool> {
    let mut s = Session::open(
        ctx,
        open(r, vec!["test".into(), "-d".into(), path.into()], false),
    )
    .await?;
    loop {
        if let Output::Exit(code) = s.next().await? {
            return Ok(code == Some(0));
        }
    }
}

/// The archive's bytes as they arrive from the session, for the blocking tar reader.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.blocking_recv() {
                Some(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The archive's bytes, written by the blocking tar writer, as stdin of the session.
struct ChannelWriter {
    tx: mpsc::Sender<client::kubelet_api::ExecStreamRequest>,
}

impl Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(session::stdin(b.to_vec()))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the exec session ended")
            })?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Remote {
        Remote {
            namespace: "default".into(),
            pod: "web".into(),
            container: "app".into(),
        }
    }

    #[test]
    fn a_missing_tar_is_named() {
        let e = remote_failure(
            &r(),
            126,
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH: unknown",
        );
        assert!(
            e.to_string()
                .starts_with("cannot copy: there is no `tar` in container \"app\" of pod \"web\""),
            "{e}"
        );
        let e = remote_failure(&r(), 2, "tar: /nope: No such file or directory");
        assert_eq!(e.downcast_ref::<RemoteExit>().map(|x| x.0), Some(2));
    }

    #[test]
    fn tar_commands_resume_with_tail() {
        assert_eq!(tar_command("/a b", false, 0), ["tar", "cf", "-", "/a b"]);
        assert_eq!(
            tar_command("/it's", true, 0),
            ["sh", "-c", "tar cf - '/it'\\''s' | tail -c+0"]
        );
        assert_eq!(
            tar_command("/x", true, 1025)[2],
            "tar cf - '/x' | tail -c+1025"
        );
    }

    #[test]
    fn gnu_tars_leading_slash_note_is_hidden() {
        assert!(!shown("tar: Removing leading `/' from member names"));
        assert!(shown("tar: /nope: No such file or directory"));
    }

    #[test]
    fn the_channel_reader_reassembles_chunks() {
        use std::io::Read;
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(b"ab".to_vec()).unwrap();
        tx.try_send(b"".to_vec()).unwrap();
        tx.try_send(b"cde".to_vec()).unwrap();
        drop(tx);
        let mut all = String::new();
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        }
        .read_to_string(&mut all)
        .unwrap();
        assert_eq!(all, "abcde");
    }
}
