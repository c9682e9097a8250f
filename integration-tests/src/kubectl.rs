//! Real `kubectl` binaries (the Google Cloud SDK's `kubectl.1.27` ... `kubectl.1.33`, and
//! `kubectl`, which is 1.32) as the acceptance client of the HTTP API.
//!
//! Every command runs with `-v=8`: kubectl's own klog lines (every request and response) are
//! split off stderr, so a check compares what a user sees, and a failing check shows the
//! exchange that went wrong. Checks are soft ([`Checks`]): a run reports every failing
//! command at once (the to-do list of the server), then fails.

use crate::text;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where the Google Cloud SDK puts its kubectl builds.
pub const SDK_BIN: &str = "/usr/lib/google-cloud-sdk/bin";

/// The file of a kubectl version: `"1.27"` -> `kubectl.1.27`; `""` -> `kubectl` (1.32).
pub fn binary(version: &str) -> PathBuf {
    if version.is_empty() {
        Path::new(SDK_BIN).join("kubectl")
    } else {
        Path::new(SDK_BIN).join(format!("kubectl.{version}"))
    }
}

/// The kubectl builds among `versions` (`""` is the default `kubectl`) this machine has.
/// When one is missing: `SKIPPED` outside CI (returns None), a panic under `CI=true`.
pub fn require(test: &str, versions: &[&str]) -> Option<Vec<PathBuf>> {
    let missing: Vec<String> = versions
        .iter()
        .map(|v| binary(v))
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        Some(versions.iter().map(|v| binary(v)).collect())
    } else {
        // Outside CI: SKIPPED and None; under CI=true it panics.
        testkit::unmet(test, &format!("needs {}", missing.join(", ")));
        None
    }
}

/// One kubectl binary with a kubeconfig, a private HOME (its discovery cache) and maybe a
/// default namespace.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub path: PathBuf,
    /// `major.minor` of the client, from `kubectl version --client -o json`.
    pub minor: u32,
    pub label: String,
    pub kubeconfig: PathBuf,
    pub home: PathBuf,
    pub namespace: Option<String>,
    pub env: Vec<(String, String)>,
}

impl Kubectl {
    /// `home` is created; the client's version is read from the binary.
    pub fn new(path: &Path, kubeconfig: &Path, home: &Path) -> Kubectl {
        std::fs::create_dir_all(home).expect("kubectl home");
        let out = Command::new(path)
            .args(["version", "--client", "-o", "json"])
            .env("HOME", home)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{} version --client -o json: {e}: {}",
                path.display(),
                text(&out.stdout)
            )
        });
        let minor = v["clientVersion"]["minor"]
            .as_str()
            .and_then(|m| m.trim_end_matches('+').parse().ok())
            .unwrap_or_else(|| panic!("no clientVersion.minor in {v}"));
        Kubectl {
            path: path.to_path_buf(),
            minor,
            label: format!("kubectl 1.{minor}"),
            kubeconfig: kubeconfig.to_path_buf(),
            home: home.to_path_buf(),
            namespace: None,
            env: vec![],
        }
    }

    /// The same binary for another user (kubeconfig) or namespace.
    pub fn with_kubeconfig(&self, kubeconfig: &Path) -> Kubectl {
        Kubectl {
            kubeconfig: kubeconfig.to_path_buf(),
            ..self.clone()
        }
    }

    /// Another binary with the same settings.
    pub fn with_path(&self, path: &Path) -> Kubectl {
        Kubectl {
            path: path.to_path_buf(),
            label: format!("{} (as {})", self.label, path.display()),
            ..self.clone()
        }
    }

    pub fn in_namespace(&self, ns: &str) -> Kubectl {
        Kubectl {
            namespace: Some(ns.to_string()),
            ..self.clone()
        }
    }

    pub fn with_env(&self, key: &str, value: &str) -> Kubectl {
        let mut k = self.clone();
        k.env.push((key.to_string(), value.to_string()));
        k
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            // No colour, no pager, no interactive prompts, no version nags.
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.arg("-v=8");
        if let Some(ns) = &self.namespace {
            cmd.arg("--namespace").arg(ns);
        }
        cmd.args(args);
        cmd
    }

    /// Runs a command to its end (killed after 120 s), feeding `stdin` when given.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let started = Instant::now();
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.path.display()));
        if let Some(input) = stdin
            && let Some(mut si) = child.stdin.take()
        {
            let input = input.to_string();
            // A writer thread: kubectl may not read stdin before it wrote a lot of output.
            std::thread::spawn(move || {
                let _ = si.write_all(input.as_bytes());
            });
        }
        let pid = child.id();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if done_rx.recv_timeout(Duration::from_secs(120)).is_err() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        });
        let out = child.wait_with_output().expect("kubectl output");
        let _ = done_tx.send(());
        let _ = watchdog.join();
        let (stderr, log) = split_klog(&text(&out.stderr));
        if started.elapsed() > Duration::from_secs(8) {
            eprintln!("slow: {:?} for {}", started.elapsed(), self.describe(args));
        }
        Run {
            command: self.describe(args),
            code: out.status.code(),
            stdout: text(&out.stdout),
            stderr,
            log,
            elapsed: started.elapsed(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }

    /// A long-running command (`get -w`, `logs -f`) whose stdout lines arrive on a channel.
    pub fn spawn(&self, args: &[&str]) -> Stream {
        let mut cmd = self.command(args);
        let log = tempfile::NamedTempFile::new().expect("stream log");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.reopen().expect("stream log handle")));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Stream {
            command: self.describe(args),
            child,
            lines: rx,
            seen: vec![],
            stderr: log,
        }
    }

    fn describe(&self, args: &[&str]) -> String {
        let mut s = format!("{} ", self.label);
        if let Some(ns) = &self.namespace {
            s.push_str(&format!("-n {ns} "));
        }
        s.push_str(&shell_words(args));
        s
    }
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_=./:,@".contains(&b))
            {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A klog line: `I1206 10:00:00.123456   12345 file.go:12] ...`.
fn is_klog(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 22
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b' '
        && b[8] == b':'
}

/// (what the user sees on stderr, kubectl's -v=8 log). A klog entry may go on over several
/// lines: 1.33's structured headers (lines starting with a tab or ` >`), a body's hex dump
/// (1.27: `00000000  0a 03 ...`), an indented JSON object closed by `}` or `}]`. kubectl's own
/// messages start in column 0 and are not hex dumps.
pub fn split_klog(stderr: &str) -> (String, String) {
    let (mut user, mut log) = (String::new(), String::new());
    let mut in_log = false;
    for line in stderr.lines() {
        let continues = line.starts_with('\t')
            || line.starts_with(' ')
            || is_hexdump(line)
            || matches!(line.trim_end(), "}" | "}]" | "]" | "{" | "[{");
        in_log = is_klog(line) || (in_log && continues);
        let to = if in_log { &mut log } else { &mut user };
        to.push_str(line);
        to.push('\n');
    }
    (user, log)
}

/// `00000010  74 65 73 12 07 76 31 2e  33 33 2e 30 42 c7 ee 13  |tes..v1.33.0B...|`
fn is_hexdump(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 12 && b[..8].iter().all(u8::is_ascii_hexdigit) && b[8] == b' ' && b[9] == b' '
}

/// A finished kubectl command.
#[derive(Debug, Clone)]
pub struct Run {
    pub command: String,
    /// None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    /// stderr without kubectl's klog lines.
    pub stderr: String,
    /// kubectl's -v=8 log.
    pub log: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout lines, trimmed at the end.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().map(str::trim_end).collect()
    }

    /// The last requests and responses of the -v=8 log: method and URL, status, the
    /// Content-Type and the body (kubectl truncates bodies), and klog errors.
    pub fn exchange(&self) -> String {
        exchange(&self.log, 24)
    }

    /// Everything a report needs: the command, exit code, output, and the exchange.
    pub fn report(&self) -> String {
        format!(
            "$ {}\nexit: {}\nstdout:\n{}stderr:\n{}-v=8 (last requests/responses):\n{}",
            self.command,
            self.code.map_or("signal".to_string(), |c| c.to_string()),
            indent(&clip(&self.stdout, 1500)),
            indent(&clip(&self.stderr, 1500)),
            indent(&self.exchange()),
        )
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)\n", &s[..cut], s.len())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

/// The interesting lines of a -v=8 log, the last `max` of them, the klog prefix removed:
/// requests (1.27-1.32 `GET https://...`, 1.33 `"Request" verb="GET" url=...`), statuses,
/// bodies, Accept and Content-Type headers, errors and warnings.
pub fn exchange(log: &str, max: usize) -> String {
    let keep: Vec<String> = log
        .lines()
        .filter_map(|l| {
            let msg = if is_klog(l) {
                l.split_once("] ").map_or(l, |(_, m)| m)
            } else {
                l
            };
            let t = msg.trim_start();
            let request = ["GET", "POST", "PUT", "PATCH", "DELETE"].iter().any(|v| {
                t.starts_with(&format!("{v} https://")) || t.starts_with(&format!("{v} http://"))
            });
            let interesting = request
                || t.starts_with("\"Request\" verb=")
                || t.starts_with("\"Response\" status=")
                || t.starts_with("Response Status:")
                || (t.starts_with("Response Body") || t.starts_with("\"Response Body\""))
                || ((t.starts_with("Request Body") || t.starts_with("\"Request Body\""))
                    && !t.ends_with("body=\"\""))
                || t.starts_with("Content-Type:")
                || t.starts_with("Accept:")
                || (is_klog(l) && (l.starts_with('E') || l.starts_with('W')));
            interesting.then(|| clip(t, 700).trim_end().to_string())
        })
        .collect();
    keep[keep.len().saturating_sub(max)..].join("\n")
}

/// A running kubectl whose stdout arrives line by line; killed on drop.
pub struct Stream {
    pub command: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line received so far.
    pub seen: Vec<String>,
    stderr: tempfile::NamedTempFile,
}

impl Stream {
    /// Waits for a line matching `pred`; returns it, or None after `timeout`.
    pub fn wait_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        if let Some(l) = self.seen.iter().find(|l| pred(l)) {
            return Some(l.clone());
        }
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Lines that arrived within `wait` (without blocking longer).
    pub fn drain(&mut self, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let mut got = vec![];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    got.push(line);
                }
                Err(_) => break,
            }
        }
        got
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The command, what it printed so far, and the tail of its -v=8 exchange.
    pub fn report(&mut self) -> String {
        let raw = std::fs::read_to_string(self.stderr.path()).unwrap_or_default();
        let (stderr, log) = split_klog(&raw);
        let status = match self.child.try_wait() {
            Ok(Some(s)) => format!("exited: {s}"),
            _ => "still running".to_string(),
        };
        format!(
            "$ {}\n{status}\nstdout so far:\n{}stderr:\n{}-v=8 (last requests/responses):\n{}",
            self.command,
            indent(&clip(&self.seen.join("\n"), 1500)),
            indent(&clip(&stderr, 1500)),
            indent(&exchange(&log, 24)),
        )
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Soft assertions: each failure is kept with the command's report; [`Checks::finish`]
/// panics with all of them.
#[derive(Default)]
pub struct Checks {
    pub failures: Vec<String>,
    pub passed: usize,
}

impl Checks {
    /// Records `what` as passed when `cond`, else as a failure with the run's report.
    pub fn check(&mut self, cond: bool, what: &str, run: &Run) -> bool {
        if cond {
            self.passed += 1;
        } else {
            self.failures
                .push(format!("FAILED: {what}\n{}", run.report()));
        }
        cond
    }

    /// A failure not tied to one run (a stream, a state read).
    pub fn check_msg(&mut self, cond: bool, what: &str, details: impl FnOnce() -> String) -> bool {
        if cond {
            self.passed += 1;
        } else {
            self.failures.push(format!("FAILED: {what}\n{}", details()));
        }
        cond
    }

    /// Exit 0 and stdout equal to `expected` (both trimmed at the end of each line).
    pub fn stdout_is(&mut self, run: &Run, expected: &str) -> bool {
        let got: Vec<&str> = run.lines();
        let want: Vec<&str> = expected.lines().map(str::trim_end).collect();
        let what = format!("exit 0 and stdout {expected:?}");
        self.check(run.ok() && got == want, &what, run)
    }

    /// Exit 0 and a stdout line equal to `line`.
    pub fn stdout_has_line(&mut self, run: &Run, line: &str) -> bool {
        let what = format!("exit 0 and a stdout line {line:?}");
        self.check(run.ok() && run.lines().contains(&line), &what, run)
    }

    /// Exit `code` and a stderr line equal to `line` (exactly: Kubernetes' wording).
    pub fn fails_with(&mut self, run: &Run, code: i32, line: &str) -> bool {
        let what = format!("exit {code} and a stderr line {line:?}");
        let has = run.stderr.lines().any(|l| l.trim_end() == line);
        self.check(run.code == Some(code) && has, &what, run)
    }

    pub fn ok(&mut self, run: &Run) -> bool {
        self.check(run.ok(), "exit 0", run)
    }

    /// Panics listing every failure; prints a summary either way.
    pub fn finish(self, label: &str) {
        eprintln!(
            "{label}: {} checks passed, {} failed",
            self.passed,
            self.failures.len()
        );
        if !self.failures.is_empty() {
            panic!(
                "{label}: {} of {} checks failed:\n\n{}",
                self.failures.len(),
                self.failures.len() + self.passed,
                self.failures.join("\n\n")
            );
        }
    }
}

/// A table as kubectl prints it (tab-aligned columns): one map per row, keyed by header.
/// Columns start where the header has a word after two or more spaces (headers such as
/// `NOMINATED NODE` hold single spaces).
pub fn parse_table(out: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return vec![];
    };
    let starts = column_starts(header);
    let cell = |line: &str, i: usize| -> String {
        let from = starts[i].min(line.len());
        let to = starts
            .get(i + 1)
            .copied()
            .unwrap_or(line.len())
            .min(line.len());
        line.get(from..to).unwrap_or("").trim().to_string()
    };
    let names: Vec<String> = (0..starts.len()).map(|i| cell(header, i)).collect();
    lines
        .map(|l| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), cell(l, i)))
                .collect()
        })
        .collect()
}

/// The header's column names, in order.
pub fn table_columns(out: &str) -> Vec<String> {
    let Some(header) = out.lines().find(|l| !l.trim().is_empty()) else {
        return vec![];
    };
    let starts = column_starts(header);
    (0..starts.len())
        .map(|i| {
            let to = starts.get(i + 1).copied().unwrap_or(header.len());
            header[starts[i]..to].trim().to_string()
        })
        .collect()
}

fn column_starts(header: &str) -> Vec<usize> {
    let b = header.as_bytes();
    let mut starts = vec![];
    for i in 0..b.len() {
        if b[i] != b' ' && (i == 0 || (i >= 2 && b[i - 1] == b' ' && b[i - 2] == b' ')) {
            starts.push(i);
        }
    }
    starts
}

/// Writes a kubeconfig at `path` for `user` in `groups` (a client certificate from the
/// cluster CA under `apiserver_dir/pki`) against `server`.
pub fn user_kubeconfig(
    apiserver_dir: &Path,
    server: &str,
    user: &str,
    groups: &[&str],
    path: &Path,
) {
    let read = |name: &str| {
        std::fs::read_to_string(apiserver_dir.join("pki").join(name))
            .unwrap_or_else(|e| panic!("pki/{name}: {e}"))
    };
    let ca_pem = read("ca.crt");
    let ca = pki::ca::Ca::from_pem(&ca_pem, &read("ca.key")).expect("the cluster CA");
    let issued = ca
        .issue(&pki::ca::CertSpec {
            common_name: user.to_string(),
            organizations: groups.iter().map(|g| g.to_string()).collect(),
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![pki::ca::Usage::ClientAuth],
            validity: Duration::from_secs(24 * 3600),
        })
        .expect("a user client certificate");
    let credentials = client::Credentials::ClientCert {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    };
    client::Kubeconfig::for_user("kubernetes", server, &ca_pem, user, &credentials)
        .write(path)
        .expect("write the user kubeconfig");
}

/// `kind/name` objects a kubectl or ctl `apply` printed as applied (`<kind>/<name> <word>`).
pub fn applied_objects(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            let (obj, word) = l.trim().split_once(' ')?;
            let ok = [
                "created",
                "configured",
                "unchanged",
                "serverside-applied",
                "created (server dry run)",
                "configured (server dry run)",
                "unchanged (server dry run)",
            ]
            .contains(&word);
            (ok && obj.contains('/')).then(|| obj.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_lines_are_split_from_what_the_user_sees() {
        let stderr = "I1206 10:00:00.123456   12345 round_trippers.go:463] GET https://x/api\n\
                      Error from server (NotFound): configmaps \"a\" not found\n\
                      E1206 10:00:00.2   12345 helpers.go:1] boom\n";
        let (user, log) = split_klog(stderr);
        assert_eq!(
            user,
            "Error from server (NotFound): configmaps \"a\" not found\n"
        );
        assert_eq!(log.lines().count(), 2);
        assert_eq!(exchange(&log, 10), "GET https://x/api\nboom");
    }

    #[test]
    fn tables_split_on_header_columns() {
        let out = "NAME    READY   STATUS    RESTARTS   AGE   IP          NODE    NOMINATED NODE   READINESS GATES\n\
                   web-1   1/1     Running   0          5s    10.0.0.2    n0      <none>           <none>\n";
        let rows = parse_table(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["STATUS"], "Running");
        assert_eq!(rows[0]["NOMINATED NODE"], "<none>");
        assert_eq!(
            table_columns(out),
            [
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "IP",
                "NODE",
                "NOMINATED NODE",
                "READINESS GATES"
            ]
        );
        let empty_cell = "NAME      SHORTNAMES   APIVERSION   NAMESPACED   KIND\n\
                          secrets                v1           true         Secret\n";
        let rows = parse_table(empty_cell);
        assert_eq!(rows[0]["SHORTNAMES"], "");
        assert_eq!(rows[0]["KIND"], "Secret");
    }

    #[test]
    fn applied_objects_are_read_from_apply_output() {
        let out = "namespace/a created\ndeployment.apps/web configured\nservice/x unchanged\n\
                   configmap/c serverside-applied\nsomething else\n";
        assert_eq!(
            applied_objects(out),
            [
                "namespace/a",
                "deployment.apps/web",
                "service/x",
                "configmap/c"
            ]
        );
    }

    #[test]
    fn commands_are_quoted_for_a_shell() {
        assert_eq!(
            shell_words(&["patch", "cm", "-p", r#"{"a":"it's"}"#]),
            r#"patch cm -p '{"a":"it'\''s"}'"#
        );
    }
}
