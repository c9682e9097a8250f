//! `ctl auth can-i VERB RESOURCE[/NAME] | VERB /URL` (a SelfSubjectAccessReview, or a
//! SubjectAccessReview for `--as`/`--as-group`; prints yes or no, exit 0 or 1 as kubectl)
//! and `ctl auth whoami` (a SelfSubjectReview).

use super::{Ctx, Reported};
use crate::args::{CanIArgs, OutputFormat};
use crate::printers::table::{Table, render};
use anyhow::{Result, bail};
use proto::k8s::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec, SelfSubjectReview, SubjectAccessReview, SubjectAccessReviewSpec,
    SubjectAccessReviewStatus, UserInfo,
};

/// What a can-i question asks about.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub resource: Option<ResourceAttributes>,
    pub non_resource: Option<NonResourceAttributes>,
    /// Said on stderr, as kubectl warns of a resource type it does not know.
    pub warning: Option<String>,
}

/// kubectl's argument rules: `/path` is a non-resource URL; `TYPE[/NAME]` is resolved
/// through the kind table (short names, `plural.group`); an unknown type is asked about as
/// given, with a warning. `namespace` is None for `-A`; cluster-scoped kinds ask without one.
pub fn question(
    verb: &str,
    target: &str,
    subresource: Option<&str>,
    namespace: Option<&str>,
) -> Result<Question> {
    if verb.is_empty() || target.is_empty() {
        bail!("you must specify two arguments: verb resource or verb resource/resourceName.");
    }
    if target.starts_with('/') {
        if subresource.is_some_and(|s| !s.is_empty()) {
            bail!("--subresource can not be used with NonResourceURL");
        }
        return Ok(Question {
            resource: None,
            non_resource: Some(NonResourceAttributes {
                path: target.to_string(),
                verb: verb.to_string(),
            }),
            warning: None,
        });
    }
    let (type_name, name) = match target.split_once('/') {
        Some((t, n)) => (t, n),
        None => (target, ""),
    };
    let (group, resource, namespaced, warning) = if type_name == "*" {
        ("*".to_string(), "*".to_string(), true, None)
    } else if let Some(kind) = proto::resource::find_kind(type_name) {
        (
            kind.group.to_string(),
            kind.plural.to_string(),
            kind.namespaced,
            None,
        )
    } else {
        let (resource, group) = type_name.split_once('.').unwrap_or((type_name, ""));
        (
            group.to_string(),
            resource.to_string(),
            true,
            Some(format!(
                "Warning: the server doesn't have a resource type '{type_name}'"
            )),
        )
    };
    Ok(Question {
        resource: Some(ResourceAttributes {
            namespace: if namespaced {
                namespace.unwrap_or_default().to_string()
            } else {
                String::new()
            },
            verb: verb.to_string(),
            group,
            resource,
            subresource: subresource.unwrap_or_default().to_string(),
            name: name.to_string(),
            ..Default::default()
        }),
        non_resource: None,
        warning,
    })
}

/// kubectl's answer line: `yes`, or `no` with the reason and evaluation error when given.
pub fn answer_line(status: &SubjectAccessReviewStatus) -> String {
    if status.allowed {
        return "yes".into();
    }
    let mut line = "no".to_string();
    for extra in [&status.reason, &status.evaluation_error] {
        if !extra.is_empty() {
            line.push_str(" - ");
            line.push_str(extra);
        }
    }
    line
}

pub async fn can_i(ctx: &Ctx, args: &CanIArgs) -> Result<()> {
    let status = ask(ctx, args).await?;
    if !args.quiet {
        println!("{}", answer_line(&status));
    }
    if status.allowed {
        Ok(())
    } else {
        Err(Reported.into())
    }
}

/// The server's answer to a can-i question.
pub async fn ask(ctx: &Ctx, args: &CanIArgs) -> Result<SubjectAccessReviewStatus> {
    let namespace = (!ctx.ns.all).then(|| ctx.ns.effective().to_string());
    let q = question(
        &args.verb,
        &args.resource,
        args.subresource.as_deref(),
        namespace.as_deref(),
    )?;
    if let Some(w) = &q.warning
        && !args.quiet
    {
        eprintln!("{w}");
    }
    let api = ctx.api().await?;
    let status = if args.as_user.is_some() || !args.as_groups.is_empty() {
        let review = SubjectAccessReview {
            api_version: "authorization.k8s.io/v1".into(),
            kind: "SubjectAccessReview".into(),
            spec: Some(SubjectAccessReviewSpec {
                resource_attributes: q.resource,
                non_resource_attributes: q.non_resource,
                user: args.as_user.clone().unwrap_or_default(),
                groups: args.as_groups.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        api.call(api.client().create_subject_access_review(review))
            .await?
            .status
    } else {
        let review = SelfSubjectAccessReview {
            api_version: "authorization.k8s.io/v1".into(),
            kind: "SelfSubjectAccessReview".into(),
            spec: Some(SelfSubjectAccessReviewSpec {
                resource_attributes: q.resource,
                non_resource_attributes: q.non_resource,
            }),
            ..Default::default()
        };
        api.call(api.client().create_self_subject_access_review(review))
            .await?
            .status
    };
    Ok(status.unwrap_or_default())
}

/// kubectl's whoami table: ATTRIBUTE, VALUE rows for the user's name, uid, groups, extras.
pub fn whoami_table(user: &UserInfo) -> Table {
    let mut rows = vec![vec!["Username".to_string(), user.username.clone()]];
    if !user.uid.is_empty() {
        rows.push(vec!["UID".into(), user.uid.clone()]);
    }
    if !user.groups.is_empty() {
        rows.push(vec![
            "Groups".into(),
            format!("[{}]", user.groups.join(" ")),
        ]);
    }
    for (k, v) in &user.extra {
        rows.push(vec![
            format!("Extra: {k}"),
            format!("[{}]", v.items.join(" ")),
        ]);
    }
    Table {
        headers: vec!["ATTRIBUTE".into(), "VALUE".into()],
        rows,
    }
}

pub async fn whoami(ctx: &Ctx) -> Result<()> {
    let resp = self_subject_review(ctx).await?;
    match ctx.output() {
        Some(OutputFormat::Yaml) => {
            print!("{}", crate::printers::yaml(&serde_json::to_value(&resp)?)?)
        }
        Some(OutputFormat::Json) => {
            print!("{}", crate::printers::json(&serde_json::to_value(&resp)?)?)
        }
        _ => {
            let user = resp.status.and_then(|s| s.user_info).unwrap_or_default();
            print!("{}", render(&whoami_table(&user), true));
        }
    }
    Ok(())
}

/// Who the server takes this connection's credentials for.
pub async fn self_subject_review(ctx: &Ctx) -> Result<SelfSubjectReview> {
    let api = ctx.api().await?;
    let review = SelfSubjectReview {
        api_version: "authentication.k8s.io/v1".into(),
        kind: "SelfSubjectReview".into(),
        ..Default::default()
    };
    let mut resp = api
        .call(api.client().create_self_subject_review(review))
        .await?;
    if resp.api_version.is_empty() {
        resp.api_version = "authentication.k8s.io/v1".into();
        resp.kind = "SelfSubjectReview".into();
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_follow_kubectl() {
        let q = question("list", "pods", None, Some("dev")).unwrap();
        let r = q.resource.unwrap();
        assert_eq!(
            (
                r.verb.as_str(),
                r.group.as_str(),
                r.resource.as_str(),
                r.namespace.as_str()
            ),
            ("list", "", "pods", "dev")
        );
        assert!(q.warning.is_none());
        let r = question("get", "deploy/web", Some("scale"), Some("dev"))
            .unwrap()
            .resource
            .unwrap();
        assert_eq!(
            (
                r.group.as_str(),
                r.resource.as_str(),
                r.name.as_str(),
                r.subresource.as_str()
            ),
            ("apps", "deployments", "web", "scale")
        );
        // Cluster-scoped: asked without a namespace.
        let r = question("get", "nodes", Some("proxy"), Some("dev"))
            .unwrap()
            .resource
            .unwrap();
        assert_eq!((r.resource.as_str(), r.namespace.as_str()), ("nodes", ""));
        let r = question("create", "pods", None, None)
            .unwrap()
            .resource
            .unwrap();
        assert_eq!(r.namespace, "", "-A asks across namespaces");
        let q = question("create", "widgets.example.com", None, Some("d")).unwrap();
        let r = q.resource.unwrap();
        assert_eq!(
            (r.group.as_str(), r.resource.as_str()),
            ("example.com", "widgets")
        );
        assert_eq!(
            q.warning.as_deref(),
            Some("Warning: the server doesn't have a resource type 'widgets.example.com'")
        );
        let q = question("get", "/healthz", None, Some("d")).unwrap();
        assert!(q.resource.is_none());
        assert_eq!(q.non_resource.unwrap().path, "/healthz");
        assert!(question("get", "/healthz", Some("x"), None).is_err());
        let r = question("*", "*", None, Some("d"))
            .unwrap()
            .resource
            .unwrap();
        assert_eq!((r.verb.as_str(), r.resource.as_str()), ("*", "*"));
    }

    #[test]
    fn answers_and_whoami() {
        let yes = SubjectAccessReviewStatus {
            allowed: true,
            ..Default::default()
        };
        assert_eq!(answer_line(&yes), "yes");
        assert_eq!(answer_line(&SubjectAccessReviewStatus::default()), "no");
        let no = SubjectAccessReviewStatus {
            reason: "denied by policy".into(),
            ..Default::default()
        };
        assert_eq!(answer_line(&no), "no - denied by policy");

        let mut user = UserInfo {
            username: "kubernetes-admin".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
            ..Default::default()
        };
        user.extra.insert(
            "authentication.kubernetes.io/pod-name".into(),
            proto::k8s::ExtraValue {
                items: vec!["p".into()],
            },
        );
        let t = whoami_table(&user);
        assert_eq!(t.headers, ["ATTRIBUTE", "VALUE"]);
        assert_eq!(t.rows[0], ["Username", "kubernetes-admin"]);
        assert_eq!(
            t.rows[1],
            ["Groups", "[system:masters system:authenticated]"]
        );
        assert_eq!(
            t.rows[2],
            ["Extra: authentication.kubernetes.io/pod-name", "[p]"]
        );
    }
}
