//! The `Nft` trait: the only way the nftables backend touches the kernel. `RealNft` sends
//! a transaction as one nf_tables netlink batch (`netlink::NetlinkNft`, the default) and
//! falls back to `nft -f -` when that fails, or runs only the tool when so configured;
//! either optionally inside a named network namespace (the tests and the benchmark);
//! `FakeNft` keeps an in-memory model of the one table, applies a file all-or-nothing as
//! nft does, and rejects what the kernel would reject (a jump to a missing chain, deleting
//! a chain something still jumps to, deleting a missing element), so ordering mistakes in
//! a plan fail unit tests.

use super::netlink::NetlinkNft;
use super::netlink::conntrack::Filter;
use super::render::TABLE;
use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};

/// Blocking calls: the daemon runs them on the blocking pool.
pub trait Nft: Send + Sync {
    /// `nft -f -` of `input` (or its netlink equivalent): one atomic transaction.
    fn apply(&self, input: &str) -> Result<(), Error>;
    /// Whether `table ip kube-proxy` exists.
    fn table_exists(&self) -> Result<bool, Error>;
    /// Whether another writer committed to the ruleset since our last transaction (then
    /// the proxier rebuilds the table instead of trusting what it applied). False when
    /// the backend cannot tell.
    fn changed_by_others(&self) -> Result<bool, Error> {
        Ok(false)
    }
    /// Deletes the conntrack entries the filters match; how many.
    fn delete_conntrack(&self, _filters: &[Filter]) -> Result<usize, Error> {
        Ok(0)
    }
}

/// How `RealNft` talks to the kernel (`--nftables-backend`, env `KUBE_PROXY_NFT_BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum NftVia {
    /// nf_tables netlink batches, the `nft` tool only when a batch fails.
    #[default]
    Netlink,
    /// The `nft` tool for every transaction (the reference path).
    Nft,
}

impl NftVia {
    pub const ENV: &'static str = "KUBE_PROXY_NFT_BACKEND";

    /// From `KUBE_PROXY_NFT_BACKEND` (`nft` or `netlink`; default netlink).
    pub fn from_env() -> Self {
        match std::env::var(Self::ENV).as_deref() {
            Ok("nft") => NftVia::Nft,
            _ => NftVia::Netlink,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RealNft {
    /// Run inside this network namespace (`ip netns exec NS nft ...`, or a netlink socket
    /// opened there); None: the current one.
    pub netns: Option<String>,
    /// Some: netlink first (the tool on error).
    netlink: Option<Arc<NetlinkNft>>,
    /// Transactions the tool applied after their netlink batch failed.
    fallbacks: Arc<std::sync::atomic::AtomicUsize>,
}

impl RealNft {
    /// The current namespace, the backend from `KUBE_PROXY_NFT_BACKEND`.
    pub fn new() -> Self {
        Self::with(None, NftVia::from_env())
    }

    /// A named namespace, the backend from `KUBE_PROXY_NFT_BACKEND`.
    pub fn in_netns(name: &str) -> Self {
        Self::with(Some(name), NftVia::from_env())
    }

    pub fn with(netns: Option<&str>, via: NftVia) -> Self {
        RealNft {
            netns: netns.map(str::to_string),
            netlink: (via == NftVia::Netlink).then(|| Arc::new(NetlinkNft::new(netns))),
            fallbacks: Arc::default(),
        }
    }

    /// Takes the ruleset's current generation as ours: commits made meanwhile by a known
    /// party (the benchmark's raw `nft -f`) will not count as another writer's.
    pub fn adopt_generation(&self) {
        if let Some(nl) = &self.netlink {
            nl.adopt_generation();
        }
    }

    /// How many transactions fell back from netlink to the tool (the benchmark checks 0).
    pub fn fallbacks(&self) -> usize {
        self.fallbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn via(&self) -> NftVia {
        if self.netlink.is_some() {
            NftVia::Netlink
        } else {
            NftVia::Nft
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

    /// `nft -f -` whatever the backend (the reference path; the benchmark compares).
    pub fn apply_with_tool(&self, input: &str) -> Result<(), Error> {
        self.run(&["-f", "-"], Some(input)).map(|_| ())
    }
}

impl Nft for RealNft {
    fn apply(&self, input: &str) -> Result<(), Error> {
        let Some(nl) = &self.netlink else {
            return self.apply_with_tool(input);
        };
        match nl.apply(input) {
            Ok(_) => Ok(()),
            // Another writer: the plan is out of date, the tool would not fix that.
            Err(e @ Error::NetlinkConflict) => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "nftables netlink batch failed; applying it with nft -f instead");
                self.fallbacks
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.apply_with_tool(input)?;
                nl.adopt_generation();
                Ok(())
            }
        }
    }

    fn table_exists(&self) -> Result<bool, Error> {
        let out = self.run(&["list", "tables", "ip"], None)?;
        Ok(out.lines().any(|l| l.trim() == format!("table ip {TABLE}")))
    }

    fn changed_by_others(&self) -> Result<bool, Error> {
        match &self.netlink {
            Some(nl) => nl.changed_by_others(),
            None => Ok(false),
        }
    }

    fn delete_conntrack(&self, filters: &[Filter]) -> Result<usize, Error> {
        match &self.netlink {
            Some(nl) => nl.delete_conntrack(filters),
            None => NetlinkNft::new(self.netns.as_deref()).delete_conntrack(filters),
        }
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
    /// Someone else wrote since our last apply (`touch_by_other`).
    touched: bool,
    conntrack: Vec<Filter>,
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

    /// As another writer committing to the ruleset: `changed_by_others` is true until the
    /// next apply.
    pub fn touch_by_other(&self) {
        self.lock().touched = true;
    }

    /// Every conntrack filter asked for so far.
    pub fn conntrack_deletes(&self) -> Vec<Filter> {
        self.lock().conntrack.clone()
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
        st.touched = false;
        Ok(())
    }

    fn table_exists(&self) -> Result<bool, Error> {
        Ok(self.lock().table.is_some())
    }

    fn changed_by_others(&self) -> Result<bool, Error> {
        Ok(self.lock().touched)
    }

    fn delete_conntrack(&self, filters: &[Filter]) -> Result<usize, Error> {
        self.lock().conntrack.extend_from_slice(filters);
        Ok(0)
    }
}

/// Names of the table's chains in the fake (tests).
pub fn fake_chain_names(t: &FakeTable) -> BTreeSet<String> {
    t.chains.keys().cloned().collect()
}
