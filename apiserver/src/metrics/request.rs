//! What a request is, in the labels of Kubernetes' request metrics: its verb as Kubernetes
//! reports it (GET/LIST/WATCH, APPLY for server-side apply, CONNECT for exec, attach,
//! port-forward, proxy and logs), its group, version, resource, subresource and scope.
//! HTTP requests are read from the URL as Kubernetes' RequestInfoFactory reads them; gRPC
//! requests from the authorization attributes the service computes. Pure functions only.

use std::borrow::Cow;

use crate::auth::Attributes;

pub const COMPONENT: &str = "apiserver";

pub const GET: &str = "GET";
pub const LIST: &str = "LIST";
pub const WATCH: &str = "WATCH";
pub const CREATE: &str = "CREATE";
pub const UPDATE: &str = "UPDATE";
pub const PATCH: &str = "PATCH";
pub const APPLY: &str = "APPLY";
pub const DELETE: &str = "DELETE";
pub const DELETECOLLECTION: &str = "DELETECOLLECTION";
pub const CONNECT: &str = "CONNECT";
/// Kubernetes' label for a verb it does not know.
pub const OTHER: &str = "other";

/// The subresources Kubernetes reports as CONNECT (its `validConnectRequests`).
const CONNECT_SUBRESOURCES: &[&str] = &["log", "exec", "portforward", "attach", "proxy"];

/// The subresources this apiserver serves; any other is not a route (no label of its own).
const SUBRESOURCES: &[&str] = &[
    "status",
    "scale",
    "binding",
    "eviction",
    "finalize",
    "approval",
    "token",
    "ephemeralcontainers",
    "resize",
    "stats",
    "log",
    "exec",
    "portforward",
    "attach",
    "proxy",
];

/// The aggregated resource metrics API (metrics-server's), served without a kind of its own.
const METRICS_GROUP: &str = "metrics.k8s.io";
const METRICS_VERSION: &str = "v1beta1";

/// One request's labels, apart from the code (known once it is answered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub verb: &'static str,
    /// Kubernetes' `dry_run` label: "" (not a dry run), "All", or "invalid".
    pub dry_run: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub resource: &'static str,
    /// The subresource; for a non-resource request, its path (see [`Info::for_code`]).
    pub subresource: Cow<'static, str>,
    /// "resource" (one object, or a create), "namespace", "cluster", or "" (non-resource).
    pub scope: &'static str,
}

impl Info {
    fn non_resource(verb: &'static str, path: Cow<'static, str>) -> Info {
        Info {
            verb,
            dry_run: "",
            group: "",
            version: "",
            resource: "",
            subresource: path,
            scope: "",
        }
    }

    /// Kubernetes reports WATCH and CONNECT requests as long-running.
    pub fn long_running(&self) -> bool {
        self.verb == WATCH || self.verb == CONNECT
    }

    /// The labels for an answer with `code`: a non-resource path is kept only when it was
    /// served (under 400), since the paths served are few and a refused one can be anything
    /// a client makes up.
    pub fn for_code(mut self, code: u16) -> Info {
        if self.resource.is_empty() && code >= 400 {
            self.subresource = Cow::Borrowed("");
        }
        self
    }
}

/// Kubernetes' `CleanScope`: a named object or a create is "resource", else the namespace's
/// or the cluster's.
fn scope(namespaced: bool, named: bool, create: bool) -> &'static str {
    if named || create {
        "resource"
    } else if namespaced {
        "namespace"
    } else {
        "cluster"
    }
}

fn known_subresource(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("");
    }
    SUBRESOURCES.iter().find(|k| **k == s).copied()
}

/// The group, version and resource of `resource` under `group/version` when this
/// apiserver serves it, as statics (labels are built without allocating).
fn served(
    group: &str,
    version: &str,
    resource: &str,
) -> Option<(&'static str, &'static str, &'static str)> {
    if let Some(k) = proto::resource::kind_by_plural(resource)
        .filter(|k| k.group == group && k.version == version)
    {
        return Some((k.group, k.version, k.plural));
    }
    if group == METRICS_GROUP && version == METRICS_VERSION {
        return match resource {
            "nodes" => Some((METRICS_GROUP, METRICS_VERSION, "nodes")),
            "pods" => Some((METRICS_GROUP, METRICS_VERSION, "pods")),
            _ => None,
        };
    }
    None
}

/// The resource route an HTTP path names, as `http::path` reads it, without allocating.
struct Route {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    subresource: &'static str,
    namespaced: bool,
    named: bool,
    /// The deprecated `/watch/` form.
    watch: bool,
}

fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let (group, version, mut rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let watch = rest.first() == Some(&"watch");
    if watch {
        rest = &rest[1..];
    }
    // (namespaced, resource, named, subresource)
    let (namespaced, resource, named, sub) = match rest {
        [] => return None,
        ["namespaces"] => (false, "namespaces", false, ""),
        ["namespaces", _] => (false, "namespaces", true, ""),
        ["namespaces", _, sub @ ("status" | "finalize")] => (false, "namespaces", true, *sub),
        ["namespaces", _, resource, tail @ ..] => match tail {
            [] => (true, *resource, false, ""),
            [_] => (true, *resource, true, ""),
            [_, sub, ..] => (true, *resource, true, *sub),
        },
        [resource, tail @ ..] => match tail {
            [] => (false, *resource, false, ""),
            [_] => (false, *resource, true, ""),
            [_, sub, ..] => (false, *resource, true, *sub),
        },
    };
    // `namespaces/{ns}/bindings` is pods/binding.
    let (resource, sub) = if resource == "bindings" && group.is_empty() {
        ("pods", "binding")
    } else {
        (resource, sub)
    };
    let (group, version, resource) = served(group, version, resource)?;
    Some(Route {
        group,
        version,
        resource,
        subresource: known_subresource(sub)?,
        namespaced,
        named,
        watch,
    })
}

/// The first value of `name` in a query string (undecoded: the values looked at are plain).
fn query_values<'q>(query: &'q str, name: &'q str) -> impl Iterator<Item = &'q str> + 'q {
    query.split('&').filter_map(move |pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

/// `?watch=` as Kubernetes reads it: present and neither "0" nor "false".
fn watch_query(query: &str) -> bool {
    query_values(query, "watch")
        .next()
        .is_some_and(|v| !v.eq_ignore_ascii_case("0") && !v.eq_ignore_ascii_case("false"))
}

/// Kubernetes' `cleanDryRun`: "" without `dryRun`, "All" when every value is All,
/// "invalid" otherwise.
fn dry_run_query(query: &str) -> &'static str {
    if !query.contains("dryRun") {
        return "";
    }
    let mut any = false;
    for v in query_values(query, "dryRun") {
        if v != "All" {
            return "invalid";
        }
        any = true;
    }
    if any { "All" } else { "" }
}

/// The labels of an HTTP request, from its method, path, query and whether its body is a
/// server-side apply patch (`application/apply-patch+yaml`).
pub fn from_http(method: &http::Method, path: &str, query: &str, apply: bool) -> Info {
    use http::Method;
    let Some(r) = route(path) else {
        let verb = match *method {
            Method::GET | Method::HEAD => GET,
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => PATCH,
            Method::DELETE => DELETE,
            _ => OTHER,
        };
        return Info::non_resource(verb, Cow::Owned(path.to_string()));
    };
    let verb = match *method {
        Method::GET | Method::HEAD if r.watch || watch_query(query) => WATCH,
        Method::GET | Method::HEAD if r.named => GET,
        Method::GET | Method::HEAD => LIST,
        Method::POST => CREATE,
        Method::PUT => UPDATE,
        Method::PATCH if apply => APPLY,
        Method::PATCH => PATCH,
        Method::DELETE if r.named => DELETE,
        Method::DELETE => DELETECOLLECTION,
        _ => OTHER,
    };
    let verb = if CONNECT_SUBRESOURCES.contains(&r.subresource) {
        CONNECT
    } else {
        verb
    };
    Info {
        verb,
        dry_run: dry_run_query(query),
        group: r.group,
        version: r.version,
        resource: r.resource,
        subresource: Cow::Borrowed(r.subresource),
        scope: scope(r.namespaced, r.named, verb == CREATE),
    }
}

/// The labels of a gRPC call, from the attributes it is authorized with.
pub fn from_attributes(attrs: &Attributes, dry_run: bool, apply: bool) -> Info {
    let verb = match attrs.verb.as_str() {
        "get" => GET,
        "list" => LIST,
        "watch" => WATCH,
        "create" => CREATE,
        "update" => UPDATE,
        "patch" if apply => APPLY,
        "patch" => PATCH,
        "delete" => DELETE,
        "deletecollection" => DELETECOLLECTION,
        _ => OTHER,
    };
    let kind =
        proto::resource::kind_by_plural(&attrs.resource).filter(|k| k.group == attrs.api_group);
    let (Some(kind), Some(subresource)) = (kind, known_subresource(&attrs.subresource)) else {
        return Info::non_resource(verb, Cow::Borrowed(""));
    };
    let verb = if CONNECT_SUBRESOURCES.contains(&subresource) {
        CONNECT
    } else {
        verb
    };
    Info {
        verb,
        dry_run: if dry_run { "All" } else { "" },
        group: kind.group,
        version: kind.version,
        resource: kind.plural,
        subresource: Cow::Borrowed(subresource),
        // A list or watch narrowed to one name by a field selector is still the
        // collection's, as its URL says over HTTP.
        scope: scope(
            !attrs.namespace.is_empty(),
            !attrs.name.is_empty() && verb != LIST && verb != WATCH,
            verb == CREATE,
        ),
    }
}

/// The labels of a gRPC call that no authorization step described: the review and
/// metrics services by their method, health checks by their path, anything else `other`.
pub fn from_grpc_path(path: &str) -> Info {
    let resource = |verb, group, version, resource, scope| Info {
        verb,
        dry_run: "",
        group,
        version,
        resource,
        subresource: Cow::Borrowed(""),
        scope,
    };
    match path {
        "/k8s.Authentication/CreateTokenReview" => resource(
            CREATE,
            "authentication.k8s.io",
            "v1",
            "tokenreviews",
            "resource",
        ),
        "/k8s.Authentication/CreateSelfSubjectReview" => resource(
            CREATE,
            "authentication.k8s.io",
            "v1",
            "selfsubjectreviews",
            "resource",
        ),
        "/k8s.Authentication/CreateToken" => Info {
            subresource: Cow::Borrowed("token"),
            ..resource(CREATE, "", "v1", "serviceaccounts", "resource")
        },
        "/k8s.Authorization/CreateSubjectAccessReview" => resource(
            CREATE,
            "authorization.k8s.io",
            "v1",
            "subjectaccessreviews",
            "resource",
        ),
        "/k8s.Authorization/CreateSelfSubjectAccessReview" => resource(
            CREATE,
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "resource",
        ),
        "/k8s.ResourceMetrics/ListNodeMetrics" => {
            resource(LIST, METRICS_GROUP, METRICS_VERSION, "nodes", "cluster")
        }
        "/k8s.ResourceMetrics/ListPodMetrics" => {
            resource(LIST, METRICS_GROUP, METRICS_VERSION, "pods", "cluster")
        }
        "/grpc.health.v1.Health/Check" => {
            Info::non_resource(GET, Cow::Borrowed("/grpc.health.v1.Health/Check"))
        }
        "/grpc.health.v1.Health/Watch" => {
            Info::non_resource(WATCH, Cow::Borrowed("/grpc.health.v1.Health/Watch"))
        }
        // An Api call refused before its message was read (unauthenticated): its verb.
        _ => {
            let verb = match path.strip_prefix("/k8s.Api/") {
                Some("Get" | "GetScale") => GET,
                Some("List") => LIST,
                Some("Watch") => WATCH,
                Some("Create" | "Bind") => CREATE,
                Some("Update" | "UpdateScale") => UPDATE,
                Some("Patch") => PATCH,
                Some("Delete") => DELETE,
                _ => OTHER,
            };
            Info::non_resource(verb, Cow::Borrowed(""))
        }
    }
}

/// Whether a request counts as read-only in `apiserver_current_inflight_requests`
/// (Kubernetes: the get, list and watch verbs), decided before it is served.
pub fn read_only(method: &http::Method, path: &str, grpc: bool) -> bool {
    if grpc {
        // The method, after the last '/': a byte scan (a `str` pattern search costs more
        // than the few bytes it looks at).
        let rpc = match path.as_bytes().iter().rposition(|&b| b == b'/') {
            Some(i) => &path[i + 1..],
            None => path,
        };
        matches!(
            rpc,
            "Get"
                | "List"
                | "Watch"
                | "GetScale"
                | "Check"
                | "Logs"
                | "Stats"
                | "ListNodeMetrics"
                | "ListPodMetrics"
        )
    } else {
        matches!(*method, http::Method::GET | http::Method::HEAD)
    }
}

/// The code label: the common ones without allocating.
pub fn code_label(code: u16) -> Cow<'static, str> {
    Cow::Borrowed(match code {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        101 => "101",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        406 => "406",
        409 => "409",
        410 => "410",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        501 => "501",
        503 => "503",
        504 => "504",
        _ => return Cow::Owned(code.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn info(method: Method, path: &str, query: &str) -> Info {
        from_http(&method, path, query, false)
    }

    #[test]
    fn http_verbs_read_as_kubernetes_reports_them() {
        let i = info(Method::GET, "/api/v1/namespaces/default/pods/web", "");
        assert_eq!(
            (i.verb, i.group, i.version, i.resource, i.scope),
            (GET, "", "v1", "pods", "resource")
        );
        let i = info(Method::GET, "/api/v1/namespaces/default/pods", "limit=5");
        assert_eq!((i.verb, i.scope), (LIST, "namespace"));
        let i = info(Method::GET, "/api/v1/pods", "watch=true&resourceVersion=4");
        assert_eq!((i.verb, i.scope), (WATCH, "cluster"));
        assert_eq!(info(Method::GET, "/api/v1/pods", "watch=false").verb, LIST);
        assert_eq!(info(Method::GET, "/api/v1/pods", "watch=0").verb, LIST);
        assert_eq!(
            info(Method::GET, "/api/v1/watch/namespaces/a/pods", "").verb,
            WATCH
        );
        let i = info(Method::POST, "/apis/apps/v1/namespaces/a/deployments", "");
        assert_eq!(
            (i.verb, i.group, i.resource, i.scope),
            (CREATE, "apps", "deployments", "resource")
        );
        assert_eq!(info(Method::PUT, "/api/v1/nodes/n1", "").scope, "resource");
        assert_eq!(info(Method::PATCH, "/api/v1/nodes/n1", "").verb, PATCH);
        assert_eq!(
            from_http(&Method::PATCH, "/api/v1/nodes/n1", "", true).verb,
            APPLY
        );
        assert_eq!(
            info(Method::DELETE, "/api/v1/namespaces/a/pods/p", "").verb,
            DELETE
        );
        assert_eq!(
            info(Method::DELETE, "/api/v1/namespaces/a/pods", "").verb,
            DELETECOLLECTION
        );
        let i = info(
            Method::PUT,
            "/apis/apps/v1/namespaces/a/deployments/d/scale",
            "",
        );
        assert_eq!((i.verb, i.subresource.as_ref()), (UPDATE, "scale"));
        let i = info(
            Method::POST,
            "/api/v1/namespaces/a/pods/p/exec",
            "command=ls",
        );
        assert_eq!((i.verb, i.subresource.as_ref()), (CONNECT, "exec"));
        assert!(i.long_running());
        assert_eq!(
            info(Method::GET, "/api/v1/namespaces/a/pods/p/log", "").verb,
            CONNECT
        );
        let i = info(Method::POST, "/api/v1/namespaces/a/bindings", "");
        assert_eq!((i.resource, i.subresource.as_ref()), ("pods", "binding"));
        let i = info(Method::PUT, "/api/v1/namespaces/a/finalize", "");
        assert_eq!(
            (i.resource, i.subresource.as_ref(), i.scope),
            ("namespaces", "finalize", "resource")
        );
        let i = info(
            Method::GET,
            "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods",
            "",
        );
        assert_eq!(
            (i.group, i.resource, i.verb),
            ("metrics.k8s.io", "pods", LIST)
        );
    }

    #[test]
    fn dry_run_is_labelled_as_kubernetes_cleans_it() {
        let p = "/api/v1/namespaces/a/configmaps";
        assert_eq!(info(Method::POST, p, "").dry_run, "");
        assert_eq!(info(Method::POST, p, "dryRun=All").dry_run, "All");
        assert_eq!(
            info(Method::POST, p, "dryRun=All&dryRun=All").dry_run,
            "All"
        );
        assert_eq!(info(Method::POST, p, "dryRun=Some").dry_run, "invalid");
        assert_eq!(info(Method::POST, p, "fieldManager=x").dry_run, "");
    }

    #[test]
    fn paths_no_resource_route_serves_are_non_resource() {
        for path in [
            "/api/v1/namespaces/a/widgets",
            "/apis/apps/v2/deployments",
            "/apis/apps/v1/namespaces/a/deployments/d/bogus",
        ] {
            let i = info(Method::GET, path, "");
            assert_eq!((i.resource, i.scope), ("", ""), "{path}");
        }
        let i = info(Method::GET, "/healthz", "");
        assert_eq!((i.verb, i.subresource.as_ref()), (GET, "/healthz"));
        assert_eq!(i.clone().for_code(200).subresource, "/healthz");
        // A refused or unknown path is not kept as a label value.
        assert_eq!(i.for_code(403).subresource, "");
        // A resource's subresource stays whatever the code.
        let i = info(Method::GET, "/api/v1/namespaces/a/pods/p/status", "");
        assert_eq!(i.for_code(404).subresource, "status");
    }

    #[test]
    fn grpc_calls_read_from_their_attributes() {
        let a = crate::service::attributes("create", "configmaps", "", "a", "");
        let i = from_attributes(&a, true, false);
        assert_eq!(
            (i.verb, i.dry_run, i.group, i.version, i.resource, i.scope),
            (CREATE, "All", "", "v1", "configmaps", "resource")
        );
        let a = crate::service::attributes("list", "deployments", "", "", "");
        let i = from_attributes(&a, false, false);
        assert_eq!((i.verb, i.group, i.scope), (LIST, "apps", "cluster"));
        let a = crate::service::attributes("patch", "deployments", "scale", "a", "d");
        let i = from_attributes(&a, false, true);
        assert_eq!((i.verb, i.subresource.as_ref()), (APPLY, "scale"));
        let a = crate::service::attributes("create", "pods", "exec", "a", "p");
        assert_eq!(from_attributes(&a, false, false).verb, CONNECT);
        let a = crate::service::attributes("get", "widgets", "", "a", "p");
        assert_eq!(from_attributes(&a, false, false).resource, "");
        let i = from_grpc_path("/k8s.Authorization/CreateSubjectAccessReview");
        assert_eq!((i.verb, i.resource), (CREATE, "subjectaccessreviews"));
        assert_eq!(from_grpc_path("/nope.Nope/Nope").verb, OTHER);
        assert_eq!(from_grpc_path("/k8s.Api/List").verb, LIST);
        let a = crate::service::attributes("watch", "pods", "", "a", "web");
        assert_eq!(from_attributes(&a, false, false).scope, "namespace");
    }

    #[test]
    fn read_only_requests_are_the_reads() {
        assert!(read_only(&Method::POST, "/k8s.Api/List", true));
        assert!(!read_only(&Method::POST, "/k8s.Api/Create", true));
        assert!(read_only(&Method::GET, "/api/v1/pods", false));
        assert!(!read_only(
            &Method::POST,
            "/api/v1/namespaces/a/pods",
            false
        ));
        assert_eq!(code_label(201), "201");
        assert_eq!(code_label(418), "418");
    }
}
