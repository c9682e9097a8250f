//! `set image`: kubectl's way to start a rollout with a new image. The change itself is a
//! pure function over the object (tested without a server); the command reads, changes and
//! writes, retrying when someone else wrote in between.

use super::Ctx;
use super::outcome::Outcomes;
use crate::api::reason_of;
use crate::args::{SetArgs, SetCommand};
use crate::kinds::{Selection, object_name, parse_selection};
use anyhow::{Result, bail};
use proto::Reason;
use proto::k8s::{Container, Object, PodSpec, object::Kind as K};

const MAX_TRIES: usize = 4;

/// (container name or `*`, image) pairs.
pub type ImageUpdates = Vec<(String, String)>;

pub async fn set(ctx: &Ctx, args: &SetArgs) -> Result<()> {
    match &args.command {
        SetCommand::Image { args } => image(ctx, args).await,
    }
}

/// Splits `TYPE NAME... CONTAINER=IMAGE...` (or `TYPE/NAME...`) into the targets and the
/// container-to-image pairs (`*` for every container), with kubectl's checks: clap takes
/// the arguments without counting them, so that flags may come between them.
pub fn split_image_args(args: &[String]) -> Result<(Vec<String>, ImageUpdates)> {
    let mut targets = vec![];
    let mut images: ImageUpdates = vec![];
    for a in args {
        match a.split_once('=') {
            None => targets.push(a.clone()),
            Some((c, i)) if !c.is_empty() && !i.is_empty() => {
                images.push((c.to_string(), i.to_string()));
            }
            Some(_) => bail!("invalid image update {a:?}: want CONTAINER=IMAGE"),
        }
    }
    // kubectl looks the resources up before checking the rest (its first line).
    if targets.is_empty() {
        bail!("You must provide one or more resources by argument or filename.");
    }
    if images.is_empty() {
        bail!("at least one image update is required");
    }
    if images.len() > 1 && images.iter().any(|(c, _)| c == "*") {
        bail!(
            "all containers are already specified by *, but saw more than one container_name=container_image pairs"
        );
    }
    Ok((targets, images))
}

/// The pod spec an object runs: a pod's own, or a workload's template.
fn pod_spec_mut(o: &mut Object) -> Option<&mut PodSpec> {
    let template = match o.kind.as_mut()? {
        K::Pod(p) => return p.spec.as_mut(),
        K::Deployment(d) => d.spec.as_mut()?.template.as_mut(),
        K::ReplicaSet(r) => r.spec.as_mut()?.template.as_mut(),
        K::StatefulSet(s) => s.spec.as_mut()?.template.as_mut(),
        K::DaemonSet(d) => d.spec.as_mut()?.template.as_mut(),
        K::Job(j) => j.spec.as_mut()?.template.as_mut(),
        _ => None,
    };
    template?.spec.as_mut()
}

/// Sets the images; returns whether anything changed. A named container that does not
/// exist is an error, as in kubectl.
pub fn set_images(o: &mut Object, images: &[(String, String)]) -> Result<bool> {
    let Some(spec) = pod_spec_mut(o) else {
        bail!("the object has no pod template to set images in");
    };
    let mut changed = false;
    for (name, image) in images {
        let mut found = false;
        let all = name == "*";
        let containers: Vec<&mut Container> = spec
            .init_containers
            .iter_mut()
            .chain(spec.containers.iter_mut())
            .collect();
        for c in containers {
            if all || &c.name == name {
                found = true;
                if &c.image != image {
                    c.image = image.clone();
                    changed = true;
                }
            }
        }
        if !found {
            bail!("unable to find container named {name:?}");
        }
    }
    Ok(changed)
}

async fn image(ctx: &Ctx, args: &[String]) -> Result<()> {
    let (targets, images) = split_image_args(args)?;
    let Selection::Named(pairs) = parse_selection(&targets)? else {
        bail!("resource(s) were provided, but no name was specified");
    };
    let api = ctx.api().await?;
    let out = Outcomes::new(ctx);
    for (kind, name) in pairs {
        let ns = ctx.ns.for_object(kind);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut obj = api.get(kind.plural, &ns, &name).await?;
            let changed = set_images(&mut obj, &images)
                .map_err(|e| anyhow::anyhow!("{}: {e}", object_name(kind, &name)))?;
            if !changed {
                // kubectl prints nothing for an object already so (its patch is empty and
                // it goes on to the next), not even with -o.
                break;
            }
            match api.update(obj).await {
                Ok(updated) => {
                    out.object(&updated, "image updated")?;
                    break;
                }
                Err(e) if reason_of(&e) == Some(Reason::Conflict) && attempt < MAX_TRIES => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Deployment, DeploymentSpec, PodTemplateSpec};

    fn deployment(containers: &[(&str, &str)]) -> Object {
        let containers = containers
            .iter()
            .map(|(n, i)| Container {
                name: n.to_string(),
                image: i.to_string(),
                ..Default::default()
            })
            .collect();
        Object {
            kind: Some(K::Deployment(Deployment {
                spec: Some(DeploymentSpec {
                    template: Some(PodTemplateSpec {
                        spec: Some(PodSpec {
                            containers,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })),
        }
    }

    fn images(o: &mut Object) -> Vec<String> {
        pod_spec_mut(o)
            .map(|s| s.containers.iter().map(|c| c.image.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn args_split_into_targets_and_images() {
        let a: Vec<String> = ["deployment/web", "web=img:2", "side=s:1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (t, i) = split_image_args(&a).unwrap();
        assert_eq!(t, ["deployment/web"]);
        assert_eq!(i.len(), 2);
        let err = |a: &[&str]| {
            let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            split_image_args(&a).unwrap_err().to_string()
        };
        assert_eq!(
            err(&["deployment/web"]),
            "at least one image update is required"
        );
        assert_eq!(
            err(&["web=img:2"]),
            "You must provide one or more resources by argument or filename."
        );
        assert_eq!(
            err(&[]),
            "You must provide one or more resources by argument or filename."
        );
        assert_eq!(
            err(&["deploy/web", "*=a:1", "web=b:1"]),
            "all containers are already specified by *, but saw more than one container_name=container_image pairs"
        );
        assert!(split_image_args(&["d/w".into(), "=x".into()]).is_err());
    }

    #[test]
    fn images_change_by_name_or_all_and_unknown_names_fail() {
        let mut d = deployment(&[("web", "img:1"), ("side", "s:1")]);
        assert!(set_images(&mut d, &[("web".into(), "img:2".into())]).unwrap());
        assert_eq!(images(&mut d), ["img:2", "s:1"]);
        // Again: nothing to change.
        assert!(!set_images(&mut d, &[("web".into(), "img:2".into())]).unwrap());
        assert!(set_images(&mut d, &[("*".into(), "x:9".into())]).unwrap());
        assert_eq!(images(&mut d), ["x:9", "x:9"]);
        let err = set_images(&mut d, &[("nope".into(), "x:1".into())]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
