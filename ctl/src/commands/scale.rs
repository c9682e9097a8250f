//! `scale`: reads the scale subresource and writes the new count, retrying when the
//! object changed in between (the count is absolute, so a retry cannot lose an update).

use super::Ctx;
use super::outcome::Outcomes;
use crate::api::reason_of;
use crate::args::{DryRun, ScaleArgs};
use crate::kinds::{Selection, object_name, parse_selection};
use anyhow::{Result, bail};
use proto::Reason;
use proto::k8s::{Object, ScaleSpec};

const MAX_TRIES: usize = 4;

pub async fn scale(ctx: &Ctx, args: &ScaleArgs) -> Result<()> {
    if args.replicas < 0 {
        bail!(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"
        );
    }
    let Selection::Named(pairs) = parse_selection(&args.args)? else {
        bail!("resource(s) were provided, but no name was specified");
    };
    let api = ctx.api().await?;
    let out = Outcomes::new(ctx);
    for (kind, name) in pairs {
        if !kind.has_scale {
            bail!(
                "{} cannot be scaled: the kind has no scale subresource",
                object_name(kind, &name)
            );
        }
        let ns = ctx.ns.for_object(kind);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut scale = api.get_scale(kind.plural, &ns, &name).await?;
            let current = scale.spec.as_ref().map_or(0, |s| s.replicas);
            if let Some(want) = args.current_replicas
                && want != current
            {
                bail!("Expected replicas to be {want}, was {current}");
            }
            scale.spec = Some(ScaleSpec {
                replicas: args.replicas,
            });
            match api.update_scale(kind.plural, scale).await {
                Ok(_) => break,
                Err(e) if reason_of(&e) == Some(Reason::Conflict) && attempt < MAX_TRIES => {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        if out.prints_objects() {
            // kubectl prints the scaled object, not its Scale.
            let object = api.get(kind.plural, &ns, &name).await?;
            out.object(&scaled_view(object, args.replicas, ctx.dry_run()), "scaled")?;
        } else {
            out.named(kind, &name, "scaled");
        }
    }
    Ok(())
}

/// The object as the scale left it: under a dry run nothing was written, so the count is
/// set here.
fn scaled_view(object: Object, replicas: i32, dry_run: DryRun) -> Object {
    if dry_run == DryRun::None {
        return object;
    }
    let Some(info) = object.info() else {
        return object;
    };
    let mut doc = object.to_json();
    if let Some(spec) = doc.get_mut("spec").and_then(|s| s.as_object_mut()) {
        spec.insert("replicas".into(), replicas.into());
    }
    Object::from_json_as(info, doc).unwrap_or(object)
}
