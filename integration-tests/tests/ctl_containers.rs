//! `ctl exec`, `ctl cp` and `ctl logs` against a real one-node cluster, as a kubectl user
//! types them: stdin streamed to the command and its exit code returned, a directory tree
//! copied into the pod and back unchanged, and the logs of every container of the pods a
//! selector finds, each line prefixed with its source.

use integration_tests::cluster::{Cluster, Options, prerequisites};
use integration_tests::text;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: ctl-containers
  labels: {app: ctl-containers}
spec:
  containers:
  - name: main
    image: local/busybox:1
    command: ["sh", "-c", "echo main-hello; echo main-bye; sleep 3600"]
  - name: side
    image: local/busybox:1
    command: ["sh", "-c", "echo side-hello; sleep 3600"]
"#;

const TICKER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ctl-ticker
spec:
  replicas: 2
  selector:
    matchLabels: {app: ctl-ticker}
  template:
    metadata:
      labels: {app: ctl-ticker}
    spec:
      containers:
      - name: tick
        image: local/busybox:1
        command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]
"#;

/// A running `ctl` whose stdout lines are collected; killed on drop (also on failure).
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(c: &Cluster, args: &[&str]) -> Running {
        use std::io::BufRead;
        let mut child = std::process::Command::new(integration_tests::binary("ctl"))
            .arg("--kubeconfig")
            .arg(c.kubeconfig("admin"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn ctl");
        let out = child.stdout.take().expect("ctl stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects lines until `done` holds for all seen so far, or `timeout`.
    fn until(&mut self, timeout: Duration, done: impl Fn(&[String]) -> bool) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => return false,
            }
        }
        true
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tick numbers of `pod`'s lines (`[pod/POD/tick] tick N`).
fn ticks(lines: &[String], pod: &str) -> Vec<u32> {
    let prefix = format!("[pod/{pod}/tick] tick ");
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        .collect()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Every file under `root` (relative path, contents), sorted.
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.push((rel, std::fs::read_to_string(&p).expect("read file")));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_exec_cp_and_logs_in_a_real_pod() {
    let test = "ctl_exec_cp_and_logs_in_a_real_pod";
    if !prerequisites(test) {
        return;
    }
    let c = Cluster::start(
        "ctlcont",
        Options {
            nodes: 1,
            nftables_nodes: vec![],
            ..Options::default()
        },
    )
    .await;
    c.apply(POD);
    c.apply(TICKER);
    c.wait_ready_pods("default", "app=ctl-containers", 1, Duration::from_secs(120))
        .await;

    // exec -i: stdin reaches the command, its output comes back, its exit code is ctl's.
    let out = c.ctl(
        &[
            "exec",
            "-i",
            "ctl-containers",
            "-c",
            "main",
            "--",
            "sh",
            "-c",
            "cat; exit 3",
        ],
        Some("hello\nfrom stdin\n"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert_eq!(text(&out.stdout), "hello\nfrom stdin\n", "{}", show(&out));
    // Said once, as kubectl says it.
    assert_eq!(
        text(&out.stderr),
        "command terminated with exit code 3\n",
        "{}",
        show(&out)
    );

    // No -c: the first container, said on stderr; stdout and stderr kept apart.
    let out = c.ctl(
        &[
            "exec",
            "pod/ctl-containers",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ],
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "out\n", "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("Defaulted container \"main\" out of: main, side") && err.contains("err\n"),
        "{}",
        show(&out)
    );
    // -t without a terminal on stdin: kubectl's notice, and the command still runs.
    let out = c.ctl(
        &[
            "exec",
            "-i",
            "-t",
            "ctl-containers",
            "-c",
            "main",
            "--",
            "cat",
        ],
        Some("x"),
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "x", "{}", show(&out));
    assert!(
        text(&out.stderr)
            .contains("Unable to use a TTY - input is not a terminal or the right kind of file"),
        "{}",
        show(&out)
    );

    // -i -t on a terminal (a pseudo-terminal from script(1)): the remote command sees a
    // terminal of the local one's size, its exit code comes back, and the local terminal's
    // settings are restored afterwards.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok()
    {
        let line = format!(
            "stty cols 91 rows 27; a=$(stty -g); {} --kubeconfig {} exec -i -t ctl-containers -c main -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); [ \"$s\" = \"27 91\" ] && break; sleep 0.2; done; echo size $s; tty; exit 4'; rc=$?; [ \"$a\" = \"$(stty -g)\" ] && echo RESTORED; exit $rc",
            integration_tests::binary("ctl").display(),
            c.kubeconfig("admin").display()
        );
        let out = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run script");
        let got = text(&out.stdout);
        assert_eq!(out.status.code(), Some(4), "{}", show(&out));
        assert!(got.contains("size 27 91\r\n"), "{}", show(&out));
        assert!(got.contains("/dev/pts/"), "{}", show(&out));
        assert!(
            got.contains("command terminated with exit code 4"),
            "{}",
            show(&out)
        );
        assert!(got.contains("RESTORED"), "{}", show(&out));
    }

    // local/busybox:1 has no tar: the clear error, in both directions; then one is linked.
    let out = c.ctl(&["cp", "ctl-containers:/etc", "unused", "-c", "main"], None);
    assert!(!out.status.success(), "{}", show(&out));
    let missing =
        "error: cannot copy: there is no `tar` in container \"main\" of pod \"ctl-containers\"";
    assert!(text(&out.stderr).starts_with(missing), "{}", show(&out));
    assert_eq!(text(&out.stdout), "", "{}", show(&out));
    let out = c.ctl(
        &["cp", "/etc/hostname", "ctl-containers:/tmp/h", "-c", "main"],
        None,
    );
    assert!(text(&out.stderr).starts_with(missing), "{}", show(&out));
    assert_eq!(text(&out.stdout), "", "{}", show(&out));
    c.ctl_ok(&[
        "exec",
        "ctl-containers",
        "-c",
        "main",
        "--",
        "ln",
        "-s",
        "busybox",
        "/bin/tar",
    ]);

    // cp of a small tree into the pod (a new path there), and back.
    let work = c.dir().join("ctl-containers-cp");
    let up = work.join("up");
    std::fs::create_dir_all(up.join("sub/deeper")).unwrap();
    std::fs::write(up.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(up.join("sub/b.txt"), "beta\n").unwrap();
    std::fs::write(up.join("sub/deeper/c.txt"), "gamma\n").unwrap();
    let up_s = up.to_string_lossy().to_string();
    let out = c.ctl(
        &[
            "cp",
            &up_s,
            "default/ctl-containers:/tmp/copied",
            "-c",
            "main",
        ],
        None,
    );
    assert!(out.status.success(), "cp to the pod: {}", show(&out));
    let listing = c.ctl_ok(&[
        "exec",
        "ctl-containers",
        "-c",
        "main",
        "--",
        "cat",
        "/tmp/copied/sub/deeper/c.txt",
    ]);
    assert_eq!(listing, "gamma\n");
    let back = work.join("back");
    let back_s = back.to_string_lossy().to_string();
    let out = c.ctl(
        &["cp", "ctl-containers:/tmp/copied", &back_s, "-c", "main"],
        None,
    );
    assert!(out.status.success(), "cp from the pod: {}", show(&out));
    assert_eq!(tree(&back), tree(&up));
    // --retries: the archive comes through kubectl's resumable `tar | tail -c+N`.
    let back2 = work.join("back2");
    let out = c.ctl(
        &[
            "cp",
            "ctl-containers:/tmp/copied",
            &back2.to_string_lossy(),
            "-c",
            "main",
            "--retries=2",
        ],
        None,
    );
    assert!(out.status.success(), "cp --retries: {}", show(&out));
    assert_eq!(tree(&back2), tree(&up));

    // A file into an existing directory of the pod lands inside it.
    let one = work.join("one.txt");
    std::fs::write(&one, "single\n").unwrap();
    let out = c.ctl(
        &[
            "cp",
            &one.to_string_lossy(),
            "ctl-containers:/tmp",
            "-c",
            "main",
        ],
        None,
    );
    assert!(out.status.success(), "cp a file: {}", show(&out));
    assert_eq!(
        c.ctl_ok(&[
            "exec",
            "ctl-containers",
            "-c",
            "main",
            "--",
            "cat",
            "/tmp/one.txt"
        ]),
        "single\n"
    );
    // A path that is not there: tar's complaint and its exit code.
    let out = c.ctl(&["cp", "ctl-containers:/nope", &back_s, "-c", "main"], None);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(text(&out.stderr).contains("/nope"), "{}", show(&out));

    // logs -l: every container of every pod found, each line with its source.
    let out = c.ctl(
        &[
            "logs",
            "-l",
            "app=ctl-containers",
            "--prefix",
            "--all-containers",
        ],
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "[pod/ctl-containers/main] main-hello\n[pod/ctl-containers/main] main-bye\n\
         [pod/ctl-containers/side] side-hello\n",
        "{}",
        show(&out)
    );
    let out = c.ctl(&["logs", "ctl-containers", "--tail=1", "-c", "main"], None);
    assert_eq!(text(&out.stdout), "main-bye\n", "{}", show(&out));
    let out = c.ctl(
        &[
            "logs",
            "-f",
            "-l",
            "app=ctl-containers",
            "--all-containers",
            "--max-log-requests=1",
        ],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr).trim(),
        "error: you are attempting to follow 2 log streams, but maximum allowed concurrency is 1, use --max-log-requests to increase the limit"
    );

    // A workload's logs: its first pod (said on stderr), or all of them with --all-pods.
    let pods = c
        .wait_ready_pods("default", "app=ctl-ticker", 2, Duration::from_secs(120))
        .await;
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| p.metadata.as_ref().unwrap().name.clone())
        .collect();
    names.sort();
    let out = c.ctl(&["logs", "deployment/ctl-ticker", "--tail=1"], None);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stderr).starts_with("Found 2 pods, using pod/"),
        "{}",
        show(&out)
    );
    assert!(text(&out.stdout).starts_with("tick "), "{}", show(&out));
    assert_eq!(text(&out.stdout).lines().count(), 1, "{}", show(&out));
    let out = c.ctl(
        &["logs", "deploy/ctl-ticker", "--all-pods", "--tail=1"],
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let mut before = Vec::new();
    for n in &names {
        let t = ticks(&lines, n);
        assert_eq!(t.len(), 1, "{n}: {}", show(&out));
        before.push(t[0]);
    }

    // -f of several pods at once: both keep coming, each line whole and prefixed.
    let mut follow = Running::start(&c, &["logs", "-f", "-l", "app=ctl-ticker", "--prefix"]);
    // Lines written after the start: later than the last line seen before it, by more
    // than the line or two written while ctl connected.
    let grew = follow.until(Duration::from_secs(20), |seen| {
        names
            .iter()
            .zip(&before)
            .all(|(n, b)| ticks(seen, n).iter().any(|t| *t > b + 2))
    });
    assert!(
        grew && follow.running(),
        "logs -f of both pods: {:?}",
        follow.seen
    );
    assert!(
        follow
            .seen
            .iter()
            .all(|l| l.starts_with("[pod/ctl-ticker-")),
        "{:?}",
        follow.seen
    );
    drop(follow);

    // exec output streams: the first line arrives while the command still runs.
    let mut exec = Running::start(
        &c,
        &[
            "exec",
            "deploy/ctl-ticker",
            "--",
            "sh",
            "-c",
            "echo first; sleep 30; echo second",
        ],
    );
    let first = exec.until(Duration::from_secs(10), |seen| !seen.is_empty());
    assert!(
        first && exec.running(),
        "exec output as it comes: {:?}",
        exec.seen
    );
    assert_eq!(exec.seen, ["first"]);
}
