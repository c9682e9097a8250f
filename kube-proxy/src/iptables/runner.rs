//! The `Iptables` trait: the only way this crate touches iptables. `RealIptables` runs the
//! tools (optionally inside a named network namespace, through `ip netns exec`, which is how
//! the tests and benchmark keep off the host's own rules); `FakeIptables` keeps an
//! in-memory model of the tables, records every call and can be told to fail.

use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};

/// Blocking calls: the daemon runs them on the blocking pool.
pub trait Iptables: Send + Sync {
    /// `iptables-restore --noflush` of `input` (possibly several transactions).
    fn restore(&self, input: &str) -> Result<(), Error>;
    /// Appends the rule to a built-in chain unless it is already there; true if added.
    fn ensure_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error>;
    /// Deletes every copy of the rule; false if there was none.
    fn delete_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error>;
    /// The names of the table's chains (built-in ones included).
    fn chains(&self, table: &str) -> Result<BTreeSet<String>, Error>;
}

/// Waits up to this long for the xtables lock (`-w`).
const LOCK_WAIT_SECONDS: &str = "5";

#[derive(Debug, Clone, Default)]
pub struct RealIptables {
    /// Run inside this network namespace (`ip netns exec NS ...`); None: the current one.
    pub netns: Option<String>,
}

impl RealIptables {
    pub fn new() -> Self {
        RealIptables { netns: None }
    }

    pub fn in_netns(name: &str) -> Self {
        RealIptables {
            netns: Some(name.to_string()),
        }
    }

    fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    fn run(&self, mut cmd: Command, stdin: Option<&str>) -> Result<(bool, String, String), Error> {
        let desc = format!("{cmd:?}");
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            command: desc.clone(),
            source,
        })?;
        if let (Some(input), Some(mut si)) = (stdin, child.stdin.take()) {
            // A write error shows up as the tool's own failure below.
            let _ = si.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().map_err(|source| Error::Spawn {
            command: desc,
            source,
        })?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }

    fn check(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, Error> {
        let mut cmd = self.command(program);
        cmd.args(args);
        let desc = format!("{program} {}", args.join(" "));
        let (ok, stdout, stderr) = self.run(cmd, stdin)?;
        if ok {
            Ok(stdout)
        } else {
            Err(Error::Command {
                command: desc,
                status: "non-zero exit".into(),
                stderr: first_lines(&stderr, 5),
            })
        }
    }

    fn rule_exists(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error> {
        let mut cmd = self.command("iptables");
        cmd.args(["-w", LOCK_WAIT_SECONDS, "-t", table, "-C", chain])
            .args(args);
        Ok(self.run(cmd, None)?.0)
    }
}

fn first_lines(s: &str, n: usize) -> String {
    s.lines().take(n).collect::<Vec<_>>().join("; ")
}

impl Iptables for RealIptables {
    fn restore(&self, input: &str) -> Result<(), Error> {
        self.check(
            "iptables-restore",
            &["-w", LOCK_WAIT_SECONDS, "--noflush"],
            Some(input),
        )
        .map(|_| ())
    }

    fn ensure_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error> {
        if self.rule_exists(table, chain, args)? {
            return Ok(false);
        }
        let mut full: Vec<&str> = vec!["-w", LOCK_WAIT_SECONDS, "-t", table, "-I", chain];
        full.extend(args.iter().map(String::as_str));
        self.check("iptables", &full, None)?;
        Ok(true)
    }

    fn delete_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error> {
        let mut deleted = false;
        // Bounded: a rule that keeps "existing" after deletion would otherwise spin.
        for _ in 0..16 {
            if !self.rule_exists(table, chain, args)? {
                break;
            }
            let mut full: Vec<&str> = vec!["-w", LOCK_WAIT_SECONDS, "-t", table, "-D", chain];
            full.extend(args.iter().map(String::as_str));
            self.check("iptables", &full, None)?;
            deleted = true;
        }
        Ok(deleted)
    }

    fn chains(&self, table: &str) -> Result<BTreeSet<String>, Error> {
        let out = self.check("iptables-save", &["-t", table], None)?;
        Ok(parse_chain_names(&out))
    }
}

/// The `:NAME POLICY [p:b]` declarations of `iptables-save` output.
pub fn parse_chain_names(save: &str) -> BTreeSet<String> {
    save.lines()
        .filter_map(|l| l.strip_prefix(':'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Restore(String),
    EnsureRule {
        table: String,
        chain: String,
        rule: String,
    },
    DeleteRule {
        table: String,
        chain: String,
        rule: String,
    },
    Chains(String),
}

#[derive(Debug, Default)]
struct FakeState {
    /// table -> chain -> rules (built-in chains included).
    tables: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    calls: Vec<Call>,
    /// The next this-many restores fail (after applying nothing).
    fail_restores: usize,
}

/// An in-memory iptables: `restore` applies `:CHAIN`, `-A`, `-X` lines per COMMIT block as
/// `iptables-restore --noflush` does (a failing block leaves earlier blocks applied, like
/// the real tool), and rejects a jump to a chain that does not exist or the deletion of a
/// chain still referenced, so ordering mistakes in a plan fail tests.
#[derive(Debug, Clone, Default)]
pub struct FakeIptables {
    state: Arc<Mutex<FakeState>>,
}

const BUILTIN_TARGETS: [&str; 8] = [
    "ACCEPT",
    "DROP",
    "RETURN",
    "REJECT",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "MARK",
];

impl FakeIptables {
    pub fn new() -> Self {
        let f = FakeIptables::default();
        {
            let mut s = f.lock();
            for (t, chains) in [
                ("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"][..]),
                ("filter", &["INPUT", "FORWARD", "OUTPUT"][..]),
            ] {
                let table = s.tables.entry(t.into()).or_default();
                for c in chains {
                    table.insert(c.to_string(), Vec::new());
                }
            }
        }
        f
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn restore_count(&self) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| matches!(c, Call::Restore(_)))
            .count()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    pub fn fail_next_restores(&self, n: usize) {
        self.lock().fail_restores = n;
    }

    /// The rules of one chain, None if it does not exist.
    pub fn chain(&self, table: &str, chain: &str) -> Option<Vec<String>> {
        self.lock()
            .tables
            .get(table)
            .and_then(|t| t.get(chain))
            .cloned()
    }

    /// Every chain of a table with its rules.
    pub fn table(&self, table: &str) -> BTreeMap<String, Vec<String>> {
        self.lock().tables.get(table).cloned().unwrap_or_default()
    }

    /// Adds a chain made by someone else (Docker), to check it is left alone.
    pub fn add_foreign_chain(&self, table: &str, chain: &str, rules: &[&str]) {
        self.lock()
            .tables
            .entry(table.into())
            .or_default()
            .insert(chain.into(), rules.iter().map(|r| r.to_string()).collect());
    }
}

fn jump_target(rule: &str) -> Option<&str> {
    let mut it = rule.split_whitespace();
    while let Some(w) = it.next() {
        if w == "-j" {
            return it.next();
        }
    }
    None
}

fn apply_block(
    tables: &mut BTreeMap<String, BTreeMap<String, Vec<String>>>,
    table: &str,
    lines: &[&str],
) -> Result<(), String> {
    let mut t = tables.get(table).cloned().unwrap_or_default();
    for line in lines {
        if let Some(decl) = line.strip_prefix(':') {
            let name = decl.split_whitespace().next().unwrap_or_default();
            t.insert(name.to_string(), Vec::new());
        } else if let Some(rest) = line.strip_prefix("-A ") {
            let (chain, rule) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(target) = jump_target(rule)
                && !BUILTIN_TARGETS.contains(&target)
                && !t.contains_key(target)
            {
                return Err(format!("jump to missing chain {target} in: {line}"));
            }
            t.get_mut(chain)
                .ok_or_else(|| format!("no chain {chain}: {line}"))?
                .push(rule.to_string());
        } else if let Some(chain) = line.strip_prefix("-X ") {
            let referenced = t.iter().any(|(c, rules)| {
                c != chain && rules.iter().any(|r| jump_target(r) == Some(chain))
            });
            if referenced {
                return Err(format!("chain {chain} is still referenced"));
            }
            if t.remove(chain).is_none() {
                return Err(format!("no chain {chain} to delete"));
            }
        } else if !line.trim().is_empty() {
            return Err(format!("unsupported line: {line}"));
        }
    }
    tables.insert(table.to_string(), t);
    Ok(())
}

impl Iptables for FakeIptables {
    fn restore(&self, input: &str) -> Result<(), Error> {
        let mut s = self.lock();
        s.calls.push(Call::Restore(input.to_string()));
        let fail = |stderr: String| Error::Command {
            command: "iptables-restore --noflush (fake)".into(),
            status: "exit status: 1".into(),
            stderr,
        };
        if s.fail_restores > 0 {
            s.fail_restores -= 1;
            return Err(fail("injected failure".into()));
        }
        let mut table: Option<&str> = None;
        let mut lines: Vec<&str> = Vec::new();
        for line in input.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = Some(t);
                lines.clear();
            } else if line == "COMMIT" {
                let t = table
                    .take()
                    .ok_or_else(|| fail("COMMIT outside a table".into()))?;
                apply_block(&mut s.tables, t, &lines).map_err(fail)?;
            } else {
                lines.push(line);
            }
        }
        if table.is_some() {
            return Err(fail("input ends without COMMIT".into()));
        }
        Ok(())
    }

    fn ensure_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error> {
        let rule = args.join(" ");
        let mut s = self.lock();
        s.calls.push(Call::EnsureRule {
            table: table.into(),
            chain: chain.into(),
            rule: rule.clone(),
        });
        let rules = s
            .tables
            .entry(table.into())
            .or_default()
            .entry(chain.into())
            .or_default();
        if rules.contains(&rule) {
            return Ok(false);
        }
        rules.insert(0, rule);
        Ok(true)
    }

    fn delete_rule(&self, table: &str, chain: &str, args: &[String]) -> Result<bool, Error> {
        let rule = args.join(" ");
        let mut s = self.lock();
        s.calls.push(Call::DeleteRule {
            table: table.into(),
            chain: chain.into(),
            rule: rule.clone(),
        });
        let Some(rules) = s.tables.get_mut(table).and_then(|t| t.get_mut(chain)) else {
            return Ok(false);
        };
        let before = rules.len();
        rules.retain(|r| *r != rule);
        Ok(rules.len() != before)
    }

    fn chains(&self, table: &str) -> Result<BTreeSet<String>, Error> {
        let mut s = self.lock();
        s.calls.push(Call::Chains(table.into()));
        Ok(s.tables
            .get(table)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default())
    }
}
