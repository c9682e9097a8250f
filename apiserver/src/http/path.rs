//! Resource paths: `/api/v1/...` and `/apis/{group}/{version}/...`, then
//! `[watch/][namespaces/{ns}/]{resource}[/{name}[/{subresource}[/{rest}]]]`, with
//! `namespaces/{name}[/status|/finalize]` naming a Namespace (cluster-scoped, named in the
//! namespaces position).

use proto::KindInfo;

use super::HttpResponse;

/// What a resource path names.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub info: &'static KindInfo,
    pub namespace: String,
    pub name: String,
    pub subresource: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub target: Target,
    /// The deprecated `/watch/` form of a watch.
    pub watch: bool,
    /// What follows the subresource (`nodes/{name}/proxy/{rest}`), without its leading `/`.
    pub rest: String,
}

/// Whether `path` names a resource (anything below a group-version); the group-version
/// documents themselves (`/api/v1`, `/apis/apps/v1`) are discovery, authorized by path.
pub(crate) fn is_resource_path(path: &str) -> bool {
    let segments = segments(path);
    match segments.first().copied() {
        Some("api") => segments.len() > 2,
        Some("apis") => segments.len() > 3,
        _ => false,
    }
}

/// Subresources that take the body (or the upgraded connection) as it comes.
pub(crate) fn is_streaming(path: &str) -> bool {
    parse(path).is_ok_and(|p| {
        matches!(
            p.target.subresource.as_str(),
            "exec" | "attach" | "portforward" | "proxy"
        )
    })
}

fn segments(path: &str) -> Vec<&str> {
    let mut s: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // A trailing slash names the same thing.
    while s.last() == Some(&"") {
        s.pop();
    }
    s
}

/// Kubernetes' answer for a path no handler serves.
pub(crate) fn not_found() -> HttpResponse {
    super::status::not_found_path()
}

// The error is the answer itself, built once per failed request: boxing saves nothing.
#[allow(clippy::result_large_err)]
pub(crate) fn parse(path: &str) -> Result<Parsed, HttpResponse> {
    let segments = segments(path);
    let (group, version, mut rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(not_found()),
    };
    let watch = rest.first() == Some(&"watch");
    if watch {
        rest = &rest[1..];
    }
    if rest.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    let (namespace, resource, name, subresource, remainder): (&str, &str, &str, &str, &[&str]) =
        match rest {
            [] => return Err(not_found()),
            ["namespaces"] => ("", "namespaces", "", "", &[]),
            ["namespaces", name] => ("", "namespaces", name, "", &[]),
            ["namespaces", name, sub @ ("status" | "finalize")] => {
                ("", "namespaces", name, sub, &[])
            }
            ["namespaces", ns, resource, tail @ ..] => match tail {
                [] => (*ns, *resource, "", "", &[]),
                [name] => (*ns, *resource, name, "", &[]),
                [name, sub, more @ ..] => (*ns, *resource, name, sub, more),
            },
            [resource, tail @ ..] => match tail {
                [] => ("", *resource, "", "", &[]),
                [name] => ("", *resource, name, "", &[]),
                [name, sub, more @ ..] => ("", *resource, name, sub, more),
            },
        };
    // `POST namespaces/{ns}/bindings` is the pods/binding subresource with the pod named in
    // the body.
    let (resource, subresource, name) = if resource == "bindings" && group.is_empty() {
        if !name.is_empty() {
            return Err(not_found());
        }
        ("pods", "binding", "")
    } else {
        (resource, subresource, name)
    };
    let info = proto::resource::kind_by_plural(resource)
        .filter(|k| k.group == group && k.version == version)
        .ok_or_else(not_found)?;
    if !info.namespaced && !namespace.is_empty() {
        return Err(not_found());
    }
    Ok(Parsed {
        target: Target {
            info,
            namespace: decode(namespace),
            name: decode(name),
            subresource: subresource.to_string(),
        },
        watch,
        rest: remainder.join("/"),
    })
}

/// Names travel percent-encoded in the path (`system:node:n1`).
fn decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_string();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> Option<(String, String, String, String, bool, String)> {
        parse(path).ok().map(|p| {
            (
                p.target.info.plural.to_string(),
                p.target.namespace,
                p.target.name,
                p.target.subresource,
                p.watch,
                p.rest,
            )
        })
    }

    fn t(
        plural: &str,
        ns: &str,
        name: &str,
        sub: &str,
    ) -> Option<(String, String, String, String, bool, String)> {
        Some((
            plural.into(),
            ns.into(),
            name.into(),
            sub.into(),
            false,
            String::new(),
        ))
    }

    #[test]
    fn core_and_group_paths() {
        assert_eq!(p("/api/v1/pods"), t("pods", "", "", ""));
        assert_eq!(p("/api/v1/namespaces/team/pods"), t("pods", "team", "", ""));
        assert_eq!(
            p("/api/v1/namespaces/team/pods/web/"),
            t("pods", "team", "web", "")
        );
        assert_eq!(
            p("/api/v1/namespaces/team/pods/web/status"),
            t("pods", "team", "web", "status")
        );
        assert_eq!(p("/api/v1/nodes/n1"), t("nodes", "", "n1", ""));
        assert_eq!(
            p("/apis/apps/v1/namespaces/a/deployments/d/scale"),
            t("deployments", "a", "d", "scale")
        );
        assert_eq!(p("/api/v1/namespaces"), t("namespaces", "", "", ""));
        assert_eq!(
            p("/api/v1/namespaces/team"),
            t("namespaces", "", "team", "")
        );
        assert_eq!(
            p("/api/v1/namespaces/team/finalize"),
            t("namespaces", "", "team", "finalize")
        );
        assert_eq!(
            p("/api/v1/namespaces/team/bindings"),
            t("pods", "team", "", "binding")
        );
        let w = p("/api/v1/watch/namespaces/team/pods").unwrap();
        assert!(w.4);
        let proxy = p("/api/v1/nodes/n1/proxy/stats/summary").unwrap();
        assert_eq!(
            (proxy.3.as_str(), proxy.5.as_str()),
            ("proxy", "stats/summary")
        );
        assert_eq!(
            p("/api/v1/nodes/system%3Anode%3An1"),
            t("nodes", "", "system:node:n1", "")
        );
    }

    #[test]
    fn unknown_or_mismatched_paths_are_not_found() {
        assert!(p("/apis/apps/v1/pods").is_none(), "pods are not in apps");
        assert!(p("/api/v2/pods").is_none());
        assert!(p("/apis/batch/v1beta1/jobs").is_none());
        assert!(p("/api/v1/widgets").is_none());
        assert!(
            p("/api/v1/namespaces/a/nodes").is_none(),
            "nodes are cluster-scoped"
        );
        assert!(p("/healthz").is_none());
        assert!(is_resource_path("/api/v1/pods"));
        assert!(!is_resource_path("/api/v1"));
        assert!(!is_resource_path("/apis/apps/v1"));
        assert!(!is_resource_path("/version"));
        assert!(is_streaming("/api/v1/namespaces/a/pods/p/exec"));
        assert!(!is_streaming("/api/v1/namespaces/a/pods/p/log"));
    }
}
