//! `delete`: by kind and names, by selector, or from manifests; waits until the objects
//! are gone unless `--wait=false`.

use super::outcome::Outcomes;
use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::{DeleteArgs, DryRun, OutputFormat, parse_duration};
use crate::kinds::{Selection, object_name, parse_selection};
use crate::manifests::load_all;
use anyhow::{Result, anyhow, bail};
use proto::k8s::DeleteRequest;
use proto::{KindInfo, Reason};
use std::time::{Duration, Instant};

/// How often `--wait` looks again.
const POLL: Duration = Duration::from_millis(250);

/// `--cascade` into the API's propagation policy.
pub fn propagation_policy(cascade: &str) -> Result<&'static str> {
    match cascade.to_ascii_lowercase().as_str() {
        "background" | "true" => Ok("Background"),
        "foreground" => Ok("Foreground"),
        "orphan" | "false" => Ok("Orphan"),
        other => bail!(
            "invalid cascade value ({other}): must be one of \"background\", \"foreground\", or \"orphan\""
        ),
    }
}

/// The grace period to send, by kubectl's rules: `--now` is 1; `--grace-period=0` becomes 1
/// unless `--force` (so a pod object never vanishes while its containers still run);
/// `--force` alone is 0; -1 leaves it to the object.
pub fn grace_period(args: &DeleteArgs) -> Result<Option<i64>> {
    if args.now {
        if args.grace_period >= 0 {
            bail!("--now and --grace-period cannot be specified together");
        }
        return Ok(Some(1));
    }
    match args.grace_period {
        -1 if args.force => Ok(Some(0)),
        -1 => Ok(None),
        g if g < 0 => bail!("--grace-period must be -1 or at least 0, got {g}"),
        0 if !args.force => Ok(Some(1)),
        g => Ok(Some(g)),
    }
}

/// kubectl's warning for `--force`.
pub const FORCE_WARNING: &str = "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.";

/// An object asked to go, and which one (by uid) so a successor with the same name does
/// not count as the old one still there.
struct Deleted {
    kind: &'static KindInfo,
    namespace: String,
    name: String,
    uid: String,
}

pub async fn delete(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let policy = propagation_policy(&args.cascade)?;
    let grace = grace_period(args)?;
    if args.force {
        eprintln!("{FORCE_WARNING}");
    }
    let timeout = parse_duration(&args.timeout).map_err(|e| anyhow!("--timeout: {e}"))?;
    let mut failures = 0;
    let targets = targets(ctx, args, &mut failures).await?;
    let api = ctx.api().await?;
    let out = Outcomes::new(ctx);
    let mut waiting: Vec<Deleted> = Vec::new();
    for (kind, namespace, name) in targets {
        let req = DeleteRequest {
            resource: kind.plural.to_string(),
            namespace: namespace.clone(),
            name: name.clone(),
            preconditions: None,
            grace_period_seconds: grace,
            propagation_policy: policy.to_string(),
            dry_run: false,
        };
        match api.delete(req).await {
            Ok(last) => {
                if ctx.output() == Some(OutputFormat::Name) {
                    println!("{}", object_name(kind, &name));
                } else {
                    out.line(
                        &format!("{} \"{name}\"", kind.qualified_singular()),
                        "deleted",
                    );
                }
                waiting.push(Deleted {
                    kind,
                    namespace,
                    name,
                    uid: last.meta().uid.clone(),
                });
            }
            Err(e) if args.ignore_not_found && reason_of(&e) == Some(Reason::NotFound) => {}
            Err(e) if reason_of(&e).is_some() => report(&mut failures, &e),
            Err(e) => return Err(e),
        }
    }
    // Under a dry run nothing goes: there is nothing to wait for.
    if args.wait && ctx.dry_run() == DryRun::None {
        let deadline = Instant::now() + timeout;
        for d in &waiting {
            if let Err(e) = wait_gone(ctx, d, deadline).await {
                report(&mut failures, &e);
            }
        }
    }
    finish(failures)
}

/// (kind, namespace, name) of everything to delete, in order.
async fn targets(
    ctx: &Ctx,
    args: &DeleteArgs,
    failures: &mut usize,
) -> Result<Vec<(&'static KindInfo, String, String)>> {
    if !args.files.is_empty() {
        if !args.args.is_empty() {
            bail!("when using -f, do not name resources on the command line");
        }
        let mut out = Vec::new();
        for doc in load_all(&args.files, args.recursive) {
            let prepared = doc.and_then(|d| {
                let kind = d
                    .object
                    .info()
                    .ok_or_else(|| anyhow!("empty object in {}", d.source))?;
                let ns = ctx.ns.for_manifest(kind, &d.object.meta().namespace)?;
                Ok((kind, ns, d.object.meta().name.clone()))
            });
            match prepared {
                Ok(t) => out.push(t),
                Err(e) => report(failures, &e),
            }
        }
        return Ok(out);
    }
    if args.args.is_empty() {
        bail!("you must provide one or more resources by argument or filename");
    }
    match parse_selection(&args.args)? {
        Selection::Named(pairs) => {
            if args.all || ctx.global.selector.is_some() {
                bail!("names cannot be provided when a selector or --all is specified");
            }
            Ok(pairs
                .into_iter()
                .map(|(k, n)| (k, ctx.ns.for_object(k), n))
                .collect())
        }
        Selection::All(kinds) => {
            if !args.all && ctx.global.selector.is_none() && ctx.global.field_selector.is_none() {
                bail!("resource(s) were provided, but no name was specified");
            }
            let api = ctx.api().await?;
            let mut out = Vec::new();
            for kind in kinds {
                let resp = api.list(ctx.list_request(kind)).await?;
                for o in resp.items {
                    out.push((kind, o.meta().namespace.clone(), o.meta().name.clone()));
                }
            }
            if out.is_empty() {
                eprintln!("No resources found");
            }
            Ok(out)
        }
    }
}

async fn wait_gone(ctx: &Ctx, d: &Deleted, deadline: Instant) -> Result<()> {
    let api = ctx.api().await?;
    loop {
        match api.get(d.kind.plural, &d.namespace, &d.name).await {
            Err(e) if reason_of(&e) == Some(Reason::NotFound) => return Ok(()),
            Err(e) => return Err(e),
            Ok(o) if !d.uid.is_empty() && o.meta().uid != d.uid => return Ok(()),
            Ok(_) => {}
        }
        if Instant::now() >= deadline {
            bail!(
                "timed out waiting for the condition on {}/{}",
                d.kind.plural,
                d.name
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn args(v: &[&str]) -> DeleteArgs {
        let mut all = vec!["ctl", "delete"];
        all.extend_from_slice(v);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Delete(d) => d,
            _ => panic!("not delete"),
        }
    }

    #[test]
    fn cascade_values() {
        assert_eq!(propagation_policy("background").unwrap(), "Background");
        assert_eq!(propagation_policy("Foreground").unwrap(), "Foreground");
        assert_eq!(propagation_policy("false").unwrap(), "Orphan");
        assert!(propagation_policy("sideways").is_err());
    }

    #[test]
    fn grace_periods() {
        assert_eq!(grace_period(&args(&["po", "a"])).unwrap(), None);
        assert_eq!(
            grace_period(&args(&["po", "a", "--grace-period", "5"])).unwrap(),
            Some(5)
        );
        assert_eq!(grace_period(&args(&["po", "a", "--now"])).unwrap(), Some(1));
        assert_eq!(
            grace_period(&args(&["po", "a", "--force", "--grace-period=0"])).unwrap(),
            Some(0)
        );
        assert!(grace_period(&args(&["po", "a", "--now", "--grace-period=3"])).is_err());
        // kubectl's safety net and its bypass.
        assert_eq!(
            grace_period(&args(&["po", "a", "--grace-period=0"])).unwrap(),
            Some(1)
        );
        assert_eq!(
            grace_period(&args(&["po", "a", "--force"])).unwrap(),
            Some(0)
        );
        assert_eq!(
            grace_period(&args(&["po", "a", "--force", "--grace-period=5"])).unwrap(),
            Some(5)
        );
    }
}
