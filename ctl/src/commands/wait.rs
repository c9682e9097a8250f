//! `ctl wait`: kubectl's `wait`. Until objects are deleted, created, have a condition, or
//! a JSONPath has a value, within `--timeout` (30s; 0 checks once, negative waits a week).
//! Each object is watched (a list, then a watch from its resourceVersion), never polled.

pub mod condition;
pub mod stream;

use super::{Ctx, finish, report};
use crate::api::{Api, reason_of};
use crate::kinds::{Selection, object_name, parse_selection};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use condition::{For, parse_for};
use proto::k8s::{ListRequest, Object};
use proto::{KindInfo, Reason};
use std::time::Duration;
use stream::{Change, ListWatch};
use tokio::time::Instant;

#[derive(Args, Debug, Clone, Default)]
pub struct WaitArgs {
    /// `TYPE/NAME...`, or `TYPE [NAME...]` (with -l or --all when no name is given)
    pub args: Vec<String>,
    /// create | delete | condition=NAME[=VALUE] | jsonpath='{EXPR}'[=VALUE]
    #[arg(long = "for", value_name = "CONDITION", default_value = "")]
    pub for_: String,
    /// How long to wait (`30s`, `5m`); 0 checks once, negative waits a week
    #[arg(long, default_value = "30s", allow_hyphen_values = true)]
    pub timeout: String,
    /// Every object of the type
    #[arg(long)]
    pub all: bool,
    /// The objects of these manifests (files, directories, `-` for stdin)
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    /// Directories given to -f are read recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

/// The values a JSONPath selects (kubectl's wait allows missing keys), through the
/// printers' JSONPath (client-go's dialect).
pub fn jsonpath_values(expr: &str, obj: &serde_json::Value) -> Result<Vec<serde_json::Value>> {
    let path = crate::printers::jsonpath::JsonPath::parse(expr)
        .map_err(|e| anyhow!("{e}"))?
        .allow_missing_keys(true);
    let mut results = path.find_results(obj).map_err(|e| anyhow!("{e}"))?;
    match results.len() {
        0 => Ok(Vec::new()),
        1 => Ok(results.remove(0)),
        _ if results[0].is_empty() => Ok(Vec::new()),
        _ => bail!("given jsonpath expression matches more than one list"),
    }
}

/// `--timeout`: Go durations (`30s`, `1m30s`), 0, and negative for a week.
pub fn parse_timeout(s: &str) -> Result<Duration> {
    let s = s.trim();
    if let Some(neg) = s.strip_prefix('-') {
        crate::args::parse_duration(neg).map_err(|e| anyhow!("invalid --timeout {s:?}: {e}"))?;
        return Ok(Duration::from_secs(168 * 3600));
    }
    crate::args::parse_duration(s).map_err(|e| anyhow!("invalid --timeout {s:?}: {e}"))
}

/// One object to wait for.
struct Target {
    kind: &'static KindInfo,
    namespace: String,
    name: String,
}

impl Target {
    /// kubectl's `pods/web` in the timeout message (the resource, not the kind).
    fn resource_name(&self) -> String {
        format!("{}/{}", self.kind.plural, self.name)
    }

    fn by_name(&self) -> ListRequest {
        ListRequest {
            resource: self.kind.plural.to_string(),
            namespace: self.namespace.clone(),
            field_selector: format!("metadata.name={}", self.name),
            ..Default::default()
        }
    }
}

fn timed_out(t: &Target) -> anyhow::Error {
    anyhow!(
        "timed out waiting for the condition on {}",
        t.resource_name()
    )
}

/// What the command line names: objects, or every object of kinds that a selector (or
/// `--all`) filters.
enum What {
    Named(Vec<Target>),
    Kinds(Vec<&'static KindInfo>),
}

fn what(ctx: &Ctx, args: &WaitArgs) -> Result<What> {
    if !args.files.is_empty() {
        if !args.args.is_empty() {
            bail!("when -f is given, no resource type or name may be");
        }
        let mut out = Vec::new();
        for doc in crate::manifests::load_all(&args.files, args.recursive) {
            let doc = doc?;
            let Some(kind) = doc.object.info() else {
                bail!("{}: the object has no kind this server knows", doc.source);
            };
            let meta = doc.object.meta();
            out.push(Target {
                kind,
                namespace: ctx.ns.for_manifest(kind, &meta.namespace)?,
                name: meta.name.clone(),
            });
        }
        return Ok(What::Named(out));
    }
    match parse_selection(&args.args)? {
        Selection::Named(pairs) => Ok(What::Named(
            pairs
                .into_iter()
                .map(|(kind, name)| Target {
                    kind,
                    namespace: ctx.ns.for_object(kind),
                    name,
                })
                .collect(),
        )),
        Selection::All(kinds) => {
            let by_selector =
                args.all || !ctx.label_selector().is_empty() || !ctx.field_selector().is_empty();
            if !by_selector {
                bail!("resource(s) were provided, but no name was specified");
            }
            Ok(What::Kinds(kinds))
        }
    }
}

pub async fn wait(ctx: &Ctx, args: &WaitArgs) -> Result<()> {
    let cond = parse_for(&args.for_)?;
    let timeout = parse_timeout(&args.timeout)?;
    let deadline = Instant::now() + timeout;
    let what = what(ctx, args)?;
    let api = ctx.api().await?;

    if cond == For::Create {
        wait_created(ctx, api, &what, deadline).await?;
    }
    let targets = targets(ctx, api, what, &cond).await?;
    if targets.is_empty() {
        if cond == For::Delete {
            return Ok(());
        }
        bail!("no matching resources found");
    }
    let mut failures = 0;
    for t in &targets {
        let outcome = match &cond {
            For::Create => Ok(()),
            For::Delete => wait_deleted(api, t, timeout, deadline).await,
            c => wait_condition(api, t, c, timeout, deadline).await,
        };
        match outcome {
            Ok(()) => println!("{} condition met", object_name(t.kind, &t.name)),
            Err(e) => report(&mut failures, &e),
        }
    }
    finish(failures)
}

/// The objects to wait for; a named object that does not exist is an error, except when
/// waiting for its deletion (kubectl ignores it then).
async fn targets(ctx: &Ctx, api: &Api, what: What, cond: &For) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    match what {
        What::Named(named) => {
            for t in named {
                match api.get(t.kind.plural, &t.namespace, &t.name).await {
                    Ok(_) => out.push(t),
                    Err(e) if *cond == For::Delete && reason_of(&e) == Some(Reason::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        What::Kinds(kinds) => {
            for kind in kinds {
                let resp = api.list(ctx.list_request(kind)).await?;
                out.extend(resp.items.iter().map(|o| Target {
                    kind,
                    namespace: o.meta().namespace.clone(),
                    name: o.meta().name.clone(),
                }));
            }
        }
    }
    Ok(out)
}

/// The time left, or None when the deadline passed.
fn left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// `--for=create`: until every named object exists (with a selector: until one matches).
async fn wait_created(ctx: &Ctx, api: &Api, what: &What, deadline: Instant) -> Result<()> {
    let lists: Vec<ListRequest> = match what {
        What::Named(named) => named.iter().map(Target::by_name).collect(),
        What::Kinds(kinds) => kinds.iter().map(|k| ctx.list_request(k)).collect(),
    };
    for list in lists {
        let (mut watch, resp) = ListWatch::start(api, list).await?;
        if !resp.items.is_empty() {
            continue;
        }
        loop {
            let Some(left) = left(deadline) else {
                bail!("timed out waiting for the condition");
            };
            match tokio::time::timeout(left, watch.next()).await {
                Err(_) => bail!("timed out waiting for the condition"),
                Ok(change) => match change? {
                    Change::Event(t, _) if t == "ADDED" || t == "MODIFIED" => break,
                    Change::Relisted(items) if !items.is_empty() => break,
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

/// `--for=delete`: until the object is gone (or replaced by another of the same name).
async fn wait_deleted(api: &Api, t: &Target, timeout: Duration, deadline: Instant) -> Result<()> {
    let (mut watch, resp) = ListWatch::start(api, t.by_name()).await?;
    let Some(uid) = resp.items.first().map(|o| o.meta().uid.clone()) else {
        return Ok(());
    };
    if timeout.is_zero() {
        bail!("condition not met for {}", t.resource_name());
    }
    loop {
        let Some(left) = left(deadline) else {
            return Err(timed_out(t));
        };
        let change = match tokio::time::timeout(left, watch.next()).await {
            Err(_) => return Err(timed_out(t)),
            Ok(c) => c?,
        };
        match change {
            Change::Event(kind, o) if kind == "DELETED" && o.meta().uid == uid => return Ok(()),
            Change::Event(_, o) if o.meta().uid != uid => return Ok(()),
            Change::Relisted(items) if !items.iter().any(|o| o.meta().uid == uid) => {
                return Ok(());
            }
            _ => {}
        }
    }
}

/// A condition or JSONPath: checked on the object as listed, then on every change.
async fn wait_condition(
    api: &Api,
    t: &Target,
    cond: &For,
    timeout: Duration,
    deadline: Instant,
) -> Result<()> {
    let check = |o: &Object| cond.met_by(&o.to_json());
    if timeout.is_zero() {
        let o = api.get(t.kind.plural, &t.namespace, &t.name).await?;
        return if check(&o)? {
            Ok(())
        } else {
            Err(anyhow!("condition not met for {}", t.resource_name()))
        };
    }
    let (mut watch, resp) = ListWatch::start(api, t.by_name()).await?;
    match resp.items.first() {
        // Gone between the get and the list: the server's NotFound, as kubectl's.
        None => {
            api.get(t.kind.plural, &t.namespace, &t.name).await?;
        }
        Some(o) if check(o)? => return Ok(()),
        Some(_) => {}
    }
    loop {
        let Some(left) = left(deadline) else {
            return Err(timed_out(t));
        };
        let change = match tokio::time::timeout(left, watch.next()).await {
            Err(_) => return Err(timed_out(t)),
            Ok(c) => c?,
        };
        let met = match change {
            Change::Event(kind, _) if kind == "DELETED" => false,
            Change::Event(_, o) => check(&o)?,
            Change::Relisted(items) => match items.first() {
                Some(o) => check(o)?,
                None => false,
            },
        };
        if met {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_timeout("0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_timeout("-1s").unwrap(),
            Duration::from_secs(168 * 3600)
        );
        assert!(parse_timeout("soon").is_err());
    }
}

#[cfg(test)]
mod server_tests;
