//! The `Nft` trait: the only way the nftables backend touches the kernel. `RealNft` runs
//! `nft -f -` (optionally inside a named network namespace through `ip netns exec`, as the
//! tests and the benchmark do); `FakeNft` keeps an in-memory model of the one table,
//! applies a file all-or-nothing as nft does, and rejects what the kernel would reject
//! (a jump to a missing chain, deleting a chain something still jumps to, deleting a
//! missing element), so ordering mistakes in a plan fail unit tests.

use super::render::TABLE;
use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};

/// Blocking calls: the daemon runs them on the blocking pool.
pub trait Nft: Send + Sync {
    /// `nft -f -` of `input`: one atomic transaction.
    fn apply(&self, input: &str) -> Result<(), Error>;
    /// Whether `table ip kube-proxy` exists.
    fn table_exists(&self) -> Result<bool, Error>;
}

#[derive(Debug, Clone, Default)]
pub struct RealNft {
    /// Run inside this network namespace (`ip netns exec NS nft ...`); None: the current one.
    pub netns: Option<String>,
}

impl RealNft {
    pub fn new() -> Self {
        RealNft { netns: None }
    }

    pub fn in_netns(name: &str) -> Self {
        RealNft {
            netns: Some(name.to_string()),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String, Error> {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "nft"]);
                c
            }
            None => Command::new("nft"),
        };
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let desc = format!("nft {}", args.join(" "));
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            command: desc.clone(),
            source,
        })?;
        if let (Some(input), Some(mut si)) = (stdin, child.stdin.take()) {
            // A write error shows up as nft's own failure below.
            let _ = si.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().map_err(|source| Error::Spawn {
            command: desc.clone(),
            source,
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(Error::Command {
                command: desc,
                status: out.status.to_string(),
                stderr: stderr.lines().take(6).collect::<Vec<_>>().join("; "),
            })
        }
    }

    /// `nft list table ip kube-proxy` (tests and tools).
    pub fn list_table(&self) -> Result<String, Error> {
        self.run(&["list", "table", "ip", TABLE], None)
    }
}

impl Nft for RealNft {
    fn apply(&self, input: &str) -> Result<(), Error> {
        self.run(&["-f", "-"], Some(input)).map(|_| ())
    }

    fn table_exists(&self) -> Result<bool, Error> {
        let out = self.run(&["list", "tables", "ip"], None)?;
        Ok(out.lines().any(|l| l.trim() == format!("table ip {TABLE}")))
    }
}

/// What the fake holds: the one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeTable {
    pub chains: BTreeMap<String, Vec<String>>,
    /// Sets and maps: name -> key -> value ("" for sets).
    pub sets: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Default)]
struct FakeState {
    table: Option<FakeTable>,
    applied: Vec<String>,
    fail_next: usize,
}

#[derive(Debug, Clone, Default)]
pub struct FakeNft {
    state: Arc<Mutex<FakeState>>,
}

impl FakeNft {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn table(&self) -> Option<FakeTable> {
        self.lock().table.clone()
    }

    /// Every input applied successfully (or attempted, for injected failures).
    pub fn inputs(&self) -> Vec<String> {
        self.lock().applied.clone()
    }

    pub fn clear_inputs(&self) {
        self.lock().applied.clear();
    }

    pub fn fail_next_applies(&self, n: usize) {
        self.lock().fail_next = n;
    }
}

fn fake_err(line: &str, why: &str) -> Error {
    Error::Command {
        command: "nft -f - (fake)".into(),
        status: "1".into(),
        stderr: format!("{why}: {line}"),
    }
}

/// The chains and sets a rule or element refers to (`jump X`, `goto X`, `@S`).
fn references(text: &str) -> (Vec<String>, Vec<String>) {
    let mut chains = Vec::new();
    let mut sets = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(w) = words.next() {
        if (w == "jump" || w == "goto")
            && let Some(t) = words.peek()
        {
            chains.push(t.trim_end_matches([',', '}']).to_string());
        }
        if let Some(s) = w.strip_prefix('@') {
            sets.push(s.to_string());
        }
    }
    (chains, sets)
}

/// `{ a, b }` -> ["a", "b"].
fn braced_items(rest: &str) -> Vec<String> {
    let inner = rest
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    inner
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn apply_line(t: &mut Option<FakeTable>, line: &str) -> Result<(), Error> {
    let prefix_table = format!("table ip {TABLE}");
    let words: Vec<&str> = line.splitn(5, ' ').collect();
    let (verb, what) = (words.first().copied(), words.get(1).copied());
    if what == Some("table") {
        if !line.contains(&prefix_table) {
            return Err(fake_err(line, "other table"));
        }
        return match verb {
            Some("add") => {
                t.get_or_insert_with(FakeTable::default);
                Ok(())
            }
            Some("delete") => t
                .take()
                .map(|_| ())
                .ok_or_else(|| fake_err(line, "no such table")),
            _ => Err(fake_err(line, "unknown command")),
        };
    }
    if words.get(2) != Some(&"ip") || words.get(3) != Some(&TABLE) {
        return Err(fake_err(line, "not our table"));
    }
    let table = t.as_mut().ok_or_else(|| fake_err(line, "no such table"))?;
    let rest = words.get(4).copied().unwrap_or_default();
    let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let referenced = |table: &FakeTable, chain: Option<&str>, set: Option<&str>| {
        let in_rules = table.chains.iter().any(|(c, rules)| {
            Some(c.as_str()) != chain
                && rules.iter().any(|r| {
                    let (cs, ss) = references(r);
                    chain.is_some_and(|x| cs.iter().any(|c| c == x))
                        || set.is_some_and(|x| ss.iter().any(|s| s == x))
                })
        });
        let in_elements = chain.is_some_and(|x| {
            table
                .sets
                .values()
                .flat_map(|m| m.values())
                .any(|v| references(v).0.iter().any(|c| c == x))
        });
        in_rules || in_elements
    };
    match (verb, what) {
        (Some("add"), Some("chain")) => {
            table.chains.entry(name.to_string()).or_default();
        }
        (Some("flush"), Some("chain")) => table
            .chains
            .get_mut(name)
            .ok_or_else(|| fake_err(line, "no such chain"))?
            .clear(),
        (Some("delete"), Some("chain")) => {
            let rules = table
                .chains
                .get(name)
                .ok_or_else(|| fake_err(line, "no such chain"))?;
            if !rules.is_empty() || referenced(table, Some(name), None) {
                return Err(fake_err(line, "chain busy"));
            }
            table.chains.remove(name);
        }
        (Some("add"), Some("rule")) => {
            let (cs, ss) = references(tail);
            for c in &cs {
                if !table.chains.contains_key(c) {
                    return Err(fake_err(line, "jump to a missing chain"));
                }
            }
            for s in &ss {
                if !table.sets.contains_key(s) {
                    return Err(fake_err(line, "missing set"));
                }
            }
            table
                .chains
                .get_mut(name)
                .ok_or_else(|| fake_err(line, "no such chain"))?
                .push(tail.to_string());
        }
        (Some("add"), Some("set" | "map")) => {
            table.sets.entry(name.to_string()).or_default();
        }
        (Some("delete"), Some("set" | "map")) => {
            if !table.sets.contains_key(name) || referenced(table, None, Some(name)) {
                return Err(fake_err(line, "set missing or busy"));
            }
            table.sets.remove(name);
        }
        (Some("add"), Some("element")) => {
            for item in braced_items(tail) {
                let (k, v) = item
                    .split_once(" : ")
                    .map_or((item.as_str(), ""), |(k, v)| (k, v));
                for c in references(v).0 {
                    if !table.chains.contains_key(&c) {
                        return Err(fake_err(line, "element jumps to a missing chain"));
                    }
                }
                let set = table
                    .sets
                    .get_mut(name)
                    .ok_or_else(|| fake_err(line, "no such map"))?;
                if set.get(k).is_some_and(|old| old != v) {
                    return Err(fake_err(line, "element exists with another value"));
                }
                set.insert(k.to_string(), v.to_string());
            }
        }
        (Some("delete"), Some("element")) => {
            let set = table
                .sets
                .get_mut(name)
                .ok_or_else(|| fake_err(line, "no such map"))?;
            for k in braced_items(tail) {
                set.remove(&k)
                    .ok_or_else(|| fake_err(line, "no such element"))?;
            }
        }
        _ => return Err(fake_err(line, "unknown command")),
    }
    Ok(())
}

impl Nft for FakeNft {
    fn apply(&self, input: &str) -> Result<(), Error> {
        let mut st = self.lock();
        st.applied.push(input.to_string());
        if st.fail_next > 0 {
            st.fail_next -= 1;
            return Err(fake_err("", "injected failure"));
        }
        // All or nothing, as one nft transaction.
        let mut t = st.table.clone();
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            apply_line(&mut t, line)?;
        }
        st.table = t;
        Ok(())
    }

    fn table_exists(&self) -> Result<bool, Error> {
        Ok(self.lock().table.is_some())
    }
}

/// Names of the table's chains in the fake (tests).
pub fn fake_chain_names(t: &FakeTable) -> BTreeSet<String> {
    t.chains.keys().cloned().collect()
}
