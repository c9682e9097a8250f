//! Discovery: `/api`, `/api/v1`, `/apis`, `/apis/{group}`, `/apis/{group}/{version}` as
//! Kubernetes serves them (APIVersions, APIResourceList, APIGroupList, APIGroup), and the
//! aggregated form (`apidiscovery.k8s.io` v2 and v2beta1 APIGroupDiscoveryList) when the
//! Accept header asks for it, as kubectl 1.30+ does. Everything comes from the kind registry
//! plus the subresources and virtual (not stored) review kinds the HTTP API serves.

use proto::KindInfo;
use proto::resource::ALL_KINDS;
use serde_json::{Value, json};

use super::HttpResponse;

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CREATE: &[&str] = &["create"];
const CREATE_GET: &[&str] = &["create", "get"];
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];
const GET_LIST: &[&str] = &["get", "list"];

/// One entry of an APIResourceList: a resource or a `resource/subresource`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource {
    pub name: String,
    pub singular: &'static str,
    pub namespaced: bool,
    pub kind: &'static str,
    /// Set when the kind is of another group-version (`deployments/scale` is
    /// `autoscaling/v1` Scale); "" = the list's own.
    pub group: &'static str,
    pub version: &'static str,
    pub verbs: &'static [&'static str],
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
}

/// A served group-version and its resources.
#[derive(Debug, Clone)]
pub(crate) struct GroupVersion {
    pub group: &'static str,
    pub version: &'static str,
    pub resources: Vec<Resource>,
}

impl GroupVersion {
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

fn sub(
    parent: &KindInfo,
    subresource: &str,
    kind: &'static str,
    gv: (&'static str, &'static str),
    verbs: &'static [&'static str],
) -> Resource {
    Resource {
        name: format!("{}/{subresource}", parent.plural),
        singular: "",
        namespaced: parent.namespaced,
        kind,
        group: gv.0,
        version: gv.1,
        verbs,
        short_names: &[],
        categories: &[],
    }
}

/// A kind that exists only as a request (reviews, bindings): `create` only.
fn virtual_kind(
    plural: &str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        name: plural.to_string(),
        singular,
        namespaced,
        kind,
        group: "",
        version: "",
        verbs: CREATE,
        short_names: &[],
        categories: &[],
    }
}

/// The resources of one kind: itself, then its subresources, as Kubernetes lists them.
fn kind_resources(k: &'static KindInfo) -> Vec<Resource> {
    let mut out = vec![Resource {
        name: k.plural.to_string(),
        singular: k.singular,
        namespaced: k.namespaced,
        kind: k.kind,
        group: "",
        version: "",
        verbs: ALL_VERBS,
        short_names: k.short_names,
        categories: k.categories,
    }];
    let own = ("", "");
    match k.kind {
        "Pod" => {
            out.push(sub(k, "attach", "PodAttachOptions", own, CREATE_GET));
            out.push(sub(k, "binding", "Binding", own, CREATE));
            out.push(sub(k, "eviction", "Eviction", ("policy", "v1"), CREATE));
            out.push(sub(k, "exec", "PodExecOptions", own, CREATE_GET));
            out.push(sub(k, "log", "Pod", own, &["get"]));
            out.push(sub(
                k,
                "portforward",
                "PodPortForwardOptions",
                own,
                CREATE_GET,
            ));
        }
        "Node" => out.push(sub(k, "proxy", "NodeProxyOptions", own, PROXY_VERBS)),
        "Service" => out.push(sub(k, "proxy", "ServiceProxyOptions", own, PROXY_VERBS)),
        "Namespace" => out.push(sub(k, "finalize", "Namespace", own, &["update"])),
        "ServiceAccount" => out.push(sub(
            k,
            "token",
            "TokenRequest",
            ("authentication.k8s.io", "v1"),
            CREATE,
        )),
        _ => {}
    }
    if k.has_scale {
        out.push(sub(
            k,
            "scale",
            "Scale",
            ("autoscaling", "v1"),
            GET_PATCH_UPDATE,
        ));
    }
    if k.has_status {
        out.push(sub(k, "status", k.kind, own, GET_PATCH_UPDATE));
    }
    out
}

/// Every served group-version, the core group first, then groups in Kubernetes' order of
/// preference (the order `/apis` lists them).
pub(crate) fn group_versions() -> Vec<GroupVersion> {
    let mut out: Vec<GroupVersion> = Vec::new();
    for k in ALL_KINDS {
        let position = out
            .iter()
            .position(|gv| gv.group == k.group && gv.version == k.version);
        let i = position.unwrap_or_else(|| {
            out.push(GroupVersion {
                group: k.group,
                version: k.version,
                resources: Vec::new(),
            });
            out.len() - 1
        });
        out[i].resources.extend(kind_resources(k));
    }
    // Versions served but not stored (autoscaling/v1): after the stored one, which stays
    // the group's preferred version, as in Kubernetes.
    for v in proto::convert::VERSIONS {
        out.push(GroupVersion {
            group: v.info.group,
            version: v.info.version,
            resources: kind_resources(v.info),
        });
    }
    if let Some(core) = out.iter_mut().find(|gv| gv.group.is_empty()) {
        core.resources
            .push(virtual_kind("bindings", "binding", "Binding", true));
    }
    out.push(GroupVersion {
        group: "authentication.k8s.io",
        version: "v1",
        resources: vec![
            virtual_kind(
                "selfsubjectreviews",
                "selfsubjectreview",
                "SelfSubjectReview",
                false,
            ),
            virtual_kind("tokenreviews", "tokenreview", "TokenReview", false),
        ],
    });
    out.push(GroupVersion {
        group: "authorization.k8s.io",
        version: "v1",
        resources: vec![
            virtual_kind(
                "localsubjectaccessreviews",
                "localsubjectaccessreview",
                "LocalSubjectAccessReview",
                true,
            ),
            virtual_kind(
                "selfsubjectaccessreviews",
                "selfsubjectaccessreview",
                "SelfSubjectAccessReview",
                false,
            ),
            virtual_kind(
                "selfsubjectrulesreviews",
                "selfsubjectrulesreview",
                "SelfSubjectRulesReview",
                false,
            ),
            virtual_kind(
                "subjectaccessreviews",
                "subjectaccessreview",
                "SubjectAccessReview",
                false,
            ),
        ],
    });
    // Served by this apiserver itself (crate::metrics_api), listed as metrics-server's
    // APIService shows it: get and list only, no singular name.
    let metrics = |name: &str, kind: &'static str, namespaced: bool| Resource {
        verbs: GET_LIST,
        singular: "",
        ..virtual_kind(name, "", kind, namespaced)
    };
    out.push(GroupVersion {
        group: "metrics.k8s.io",
        version: "v1beta1",
        resources: vec![
            metrics("nodes", "NodeMetrics", false),
            metrics("pods", "PodMetrics", true),
        ],
    });
    for gv in &mut out {
        gv.resources.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out.sort_by_key(|gv| group_order(gv.group));
    out
}

/// Kubernetes' group priority order (the order of `/apis`); unknown groups last.
fn group_order(group: &str) -> usize {
    const ORDER: &[&str] = &[
        "",
        "apps",
        "events.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "networking.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
    ];
    ORDER
        .iter()
        .position(|g| *g == group)
        .unwrap_or(ORDER.len())
}

fn resource_json(r: &Resource) -> Value {
    let mut v = json!({
        "name": r.name,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    if !r.group.is_empty() {
        v["group"] = Value::from(r.group);
        v["version"] = Value::from(r.version);
    }
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    v
}

/// `APIResourceList` of one group-version.
pub(crate) fn resource_list(gv: &GroupVersion) -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv.group_version(),
        "resources": gv.resources.iter().map(resource_json).collect::<Vec<_>>(),
    })
}

/// `APIVersions` (`/api`).
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    })
}

fn group_json(group: &str, versions: &[&GroupVersion]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|gv| json!({"groupVersion": gv.group_version(), "version": gv.version}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// The named groups (not the core group) with their versions, in `/apis` order.
fn named_groups(all: &[GroupVersion]) -> Vec<(&'static str, Vec<&GroupVersion>)> {
    let mut out: Vec<(&'static str, Vec<&GroupVersion>)> = Vec::new();
    for gv in all.iter().filter(|gv| !gv.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == gv.group) {
            Some((_, v)) => v.push(gv),
            None => out.push((gv.group, vec![gv])),
        }
    }
    out
}

/// `APIGroupList` (`/apis`).
pub(crate) fn group_list(all: &[GroupVersion]) -> Value {
    let groups: Vec<Value> = named_groups(all)
        .iter()
        .map(|(g, v)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `APIGroup` (`/apis/{group}`), if served.
pub(crate) fn group(all: &[GroupVersion], name: &str) -> Option<Value> {
    let groups = named_groups(all);
    let (g, v) = groups.iter().find(|(g, _)| *g == name)?;
    let mut doc = group_json(g, v);
    let map = doc.as_object_mut()?;
    map.insert("kind".into(), Value::from("APIGroup"));
    map.insert("apiVersion".into(), Value::from("v1"));
    Some(doc)
}

/// An aggregated discovery document (`APIGroupDiscoveryList`) of the core group (`/api`)
/// or of every named group (`/apis`), in the `apidiscovery.k8s.io` version asked.
pub(crate) fn aggregated(all: &[GroupVersion], core: bool, version: &str) -> Value {
    let items: Vec<Value> = if core {
        all.iter()
            .filter(|gv| gv.group.is_empty())
            .map(|gv| json!({"metadata": {"creationTimestamp": null}, "versions": [aggregated_version(gv)]}))
            .collect()
    } else {
        named_groups(all)
            .iter()
            .map(|(g, v)| {
                json!({
                    "metadata": {"name": g, "creationTimestamp": null},
                    "versions": v.iter().map(|gv| aggregated_version(gv)).collect::<Vec<_>>(),
                })
            })
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

fn aggregated_version(gv: &GroupVersion) -> Value {
    let kind_of = |r: &Resource| {
        let (group, version) = if r.group.is_empty() {
            (gv.group, gv.version)
        } else {
            (r.group, r.version)
        };
        json!({"group": group, "version": version, "kind": r.kind})
    };
    let mut resources = Vec::new();
    for parent in gv.resources.iter().filter(|r| !r.name.contains('/')) {
        let mut v = json!({
            "resource": parent.name,
            "responseKind": kind_of(parent),
            "scope": if parent.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": parent.singular,
            "verbs": parent.verbs,
        });
        if !parent.short_names.is_empty() {
            v["shortNames"] = json!(parent.short_names);
        }
        if !parent.categories.is_empty() {
            v["categories"] = json!(parent.categories);
        }
        let prefix = format!("{}/", parent.name);
        let subs: Vec<Value> = gv
            .resources
            .iter()
            .filter_map(|r| {
                let name = r.name.strip_prefix(&prefix)?;
                Some(json!({"subresource": name, "responseKind": kind_of(r), "verbs": r.verbs}))
            })
            .collect();
        if !subs.is_empty() {
            v["subresources"] = Value::Array(subs);
        }
        resources.push(v);
    }
    json!({"version": gv.version, "resources": resources, "freshness": "Current"})
}

/// The aggregated discovery version the Accept header asks for ("v2" or "v2beta1"), in the
/// client's order of preference; None when it asks only for the legacy documents.
pub(crate) fn wants_aggregated(headers: &::http::HeaderMap) -> Option<&'static str> {
    for value in headers.get_all(::http::header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for media in value.split(',') {
            let mut params = media.split(';').map(str::trim);
            if params.next() != Some("application/json") {
                continue;
            }
            let (mut g, mut v, mut r#as) = ("", "", "");
            for p in params {
                match p.split_once('=') {
                    Some(("g", x)) => g = x,
                    Some(("v", x)) => v = x,
                    Some(("as", x)) => r#as = x,
                    _ => {}
                }
            }
            if g == "apidiscovery.k8s.io" && r#as == "APIGroupDiscoveryList" {
                match v {
                    "v2" => return Some("v2"),
                    "v2beta1" => return Some("v2beta1"),
                    _ => {}
                }
            }
        }
    }
    None
}

pub(crate) fn serve(parts: &::http::request::Parts) -> Option<HttpResponse> {
    if !matches!(parts.method, ::http::Method::GET | ::http::Method::HEAD) {
        return None;
    }
    let path = parts.uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let all = group_versions();
    let ok = |v: &Value| super::json_response(::http::StatusCode::OK, v);
    match segments.as_slice() {
        ["api"] | ["apis"] => {
            let core = segments[0] == "api";
            if let Some(version) = wants_aggregated(&parts.headers) {
                let mut response = ok(&aggregated(&all, core, version));
                let content_type = format!(
                    "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
                );
                if let Ok(v) = ::http::HeaderValue::from_str(&content_type) {
                    response
                        .headers_mut()
                        .insert(::http::header::CONTENT_TYPE, v);
                }
                return Some(response);
            }
            if core {
                Some(ok(&api_versions(&server_address(parts))))
            } else {
                Some(ok(&group_list(&all)))
            }
        }
        ["api", version] => all
            .iter()
            .find(|gv| gv.group.is_empty() && gv.version == *version)
            .map(|gv| ok(&resource_list(gv))),
        ["apis", group_name] => group(&all, group_name).map(|v| ok(&v)),
        ["apis", group_name, version] => all
            .iter()
            .find(|gv| gv.group == *group_name && gv.version == *version)
            .map(|gv| ok(&resource_list(gv))),
        _ => None,
    }
}

/// Where clients reach this server: the address they used (Host), as Kubernetes advertises
/// its own address.
fn server_address(parts: &::http::request::Parts) -> String {
    parts
        .headers
        .get(::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1:6443".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(all: &'a [GroupVersion], gv: &str) -> &'a GroupVersion {
        all.iter().find(|x| x.group_version() == gv).unwrap()
    }

    #[test]
    fn core_list_has_kinds_subresources_and_bindings() {
        let all = group_versions();
        let core = resource_list(find(&all, "v1"));
        assert_eq!(core["groupVersion"], "v1");
        let resources = core["resources"].as_array().unwrap();
        let by_name = |n: &str| resources.iter().find(|r| r["name"] == n).cloned().unwrap();
        let pods = by_name("pods");
        assert_eq!(pods["singularName"], "pod");
        assert_eq!(pods["namespaced"], true);
        assert_eq!(pods["kind"], "Pod");
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["verbs"], json!(ALL_VERBS));
        assert_eq!(by_name("pods/log")["verbs"], json!(["get"]));
        assert_eq!(by_name("pods/exec")["kind"], "PodExecOptions");
        let eviction = by_name("pods/eviction");
        assert_eq!(
            (&eviction["group"], &eviction["version"]),
            (&json!("policy"), &json!("v1"))
        );
        assert_eq!(
            by_name("pods/status")["verbs"],
            json!(["get", "patch", "update"])
        );
        assert_eq!(
            by_name("serviceaccounts/token")["group"],
            "authentication.k8s.io"
        );
        assert_eq!(by_name("namespaces")["namespaced"], false);
        assert_eq!(by_name("bindings")["verbs"], json!(["create"]));
        assert!(resources.iter().all(|r| r["name"] != "configmaps/status"));
    }

    #[test]
    fn groups_list_in_kubernetes_order_with_scale_and_reviews() {
        let all = group_versions();
        let list = group_list(&all);
        let names: Vec<&str> = list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "apps",
                "authentication.k8s.io",
                "authorization.k8s.io",
                "autoscaling",
                "batch",
                "certificates.k8s.io",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "storage.k8s.io",
                "coordination.k8s.io",
                "metrics.k8s.io"
            ]
        );
        let apps = group(&all, "apps").unwrap();
        assert_eq!(apps["kind"], "APIGroup");
        assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
        assert!(group(&all, "extensions").is_none());
        let policy = group(&all, "policy").unwrap();
        assert_eq!(policy["preferredVersion"]["groupVersion"], "policy/v1");
        let apps_v1 = resource_list(find(&all, "apps/v1"));
        let scale = apps_v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["kind"], "Scale");
        assert_eq!(scale["group"], "autoscaling");
        let authz = resource_list(find(&all, "authorization.k8s.io/v1"));
        assert_eq!(authz["resources"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn the_metrics_group_lists_get_and_list() {
        let all = group_versions();
        let metrics = resource_list(find(&all, "metrics.k8s.io/v1beta1"));
        assert_eq!(
            metrics["resources"],
            json!([
                {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
                {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
            ])
        );
        let group = group(&all, "metrics.k8s.io").unwrap();
        assert_eq!(
            group["preferredVersion"]["groupVersion"],
            "metrics.k8s.io/v1beta1"
        );
        let aggregated = aggregated(&all, false, "v2");
        let item = aggregated["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"] == "metrics.k8s.io")
            .unwrap();
        let pods = &item["versions"][0]["resources"][1];
        assert_eq!(pods["resource"], "pods");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "metrics.k8s.io", "version": "v1beta1", "kind": "PodMetrics"})
        );
        assert_eq!(pods["verbs"], json!(["get", "list"]));
    }

    #[test]
    fn aggregated_documents_nest_subresources() {
        let all = group_versions();
        let core = aggregated(&all, true, "v2");
        assert_eq!(core["apiVersion"], "apidiscovery.k8s.io/v2");
        let v1 = &core["items"][0]["versions"][0];
        assert_eq!(v1["version"], "v1");
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        let subs: Vec<&str> = pods["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subresource"].as_str().unwrap())
            .collect();
        assert!(
            subs.contains(&"exec") && subs.contains(&"status"),
            "{subs:?}"
        );
        let groups = aggregated(&all, false, "v2beta1");
        assert_eq!(groups["apiVersion"], "apidiscovery.k8s.io/v2beta1");
        assert_eq!(groups["items"][0]["metadata"]["name"], "apps");
        let deploy = groups["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        let scale = deploy["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == "scale")
            .unwrap();
        assert_eq!(
            scale["responseKind"],
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
        );
    }

    #[test]
    fn accept_header_picks_the_aggregated_version() {
        let mut h = ::http::HeaderMap::new();
        assert_eq!(wants_aggregated(&h), None);
        h.insert(
            ::http::header::ACCEPT,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
                .parse()
                .unwrap(),
        );
        assert_eq!(wants_aggregated(&h), Some("v2"));
        h.insert(
            ::http::header::ACCEPT,
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList, application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
                .parse()
                .unwrap(),
        );
        assert_eq!(wants_aggregated(&h), Some("v2beta1"));
        h.insert(
            ::http::header::ACCEPT,
            "application/json, */*".parse().unwrap(),
        );
        assert_eq!(wants_aggregated(&h), None);
    }

    #[test]
    fn serve_routes_paths_and_content_types() {
        let get = |uri: &str, accept: Option<&str>| {
            let mut b = ::http::Request::get(uri).header("host", "10.0.0.1:6443");
            if let Some(a) = accept {
                b = b.header("accept", a);
            }
            let (parts, _) = b.body(()).unwrap().into_parts();
            serve(&parts)
        };
        assert!(get("/api", None).is_some());
        assert!(get("/api/v1", None).is_some());
        assert!(get("/api/v2", None).is_none());
        assert!(get("/apis/apps", None).is_some());
        assert!(get("/apis/apps/v1/", None).is_some());
        assert!(get("/apis/apps/v2", None).is_none());
        assert!(get("/apis/nothing", None).is_none());
        let r = get(
            "/apis",
            Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
        )
        .unwrap();
        assert_eq!(
            r.headers()["content-type"],
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        let r = get("/api", None).unwrap();
        assert_eq!(r.headers()["content-type"], "application/json");
        let doc = api_versions("10.0.0.1:6443");
        assert_eq!(
            doc["serverAddressByClientCIDRs"][0]["serverAddress"],
            "10.0.0.1:6443"
        );
    }
}
