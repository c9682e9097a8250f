//! Authorization of kubelet API calls, as Kubernetes' kubelet does it with
//! `--authorization-mode=Webhook`: each call maps to a `nodes` subresource of this node
//! (`exec`, `logs` and `portForward` -> `get nodes/proxy`, `stats` -> `get nodes/stats`),
//! asked of the apiserver with a SubjectAccessReview; answers are cached (allowed 5 min,
//! denied 30 s, Kubernetes' defaults) so a burst of calls costs one review.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Kubernetes' `--authorization-webhook-cache-authorized-ttl` default.
pub const ALLOWED_TTL: Duration = Duration::from_secs(300);
/// Kubernetes' `--authorization-webhook-cache-unauthorized-ttl` default.
pub const DENIED_TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; when full, expired entries go first, then everything.
pub const CACHE_CAPACITY: usize = 4096;

/// The caller, as authenticated by the kubelet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

/// The kubelet API's methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiCall {
    Exec,
    Logs,
    Stats,
    PortForward,
}

/// The resource attributes a call is authorized as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceCheck {
    pub verb: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    pub name: String,
}

/// Kubernetes' kubelet auth mapping (`pkg/kubelet/server/auth.go`): paths under
/// `/exec`, `/containerLogs` etc. are `proxy`, `/stats` is `stats`; reads are `get`.
pub fn check_for(call: ApiCall, node_name: &str) -> ResourceCheck {
    ResourceCheck {
        verb: "get",
        resource: "nodes",
        subresource: match call {
            // Kubernetes' `/portForward` path is `proxy` like `/exec`.
            ApiCall::Exec | ApiCall::Logs | ApiCall::PortForward => "proxy",
            ApiCall::Stats => "stats",
        },
        name: node_name.to_string(),
    }
}

/// The checks of an HTTP request, as Kubernetes' kubelet (`pkg/kubelet/server/auth.go`,
/// with KubeletFineGrainedAuthz, on by default since 1.33): the method gives the verb,
/// the path the subresource (`/metrics` and `/metrics/*` -> `metrics`, `/stats` ->
/// `stats`, `/logs` -> `log`; `/healthz`, `/pods`, `/configz`, `/statusz` first their
/// own subresource then `proxy`; anything else `proxy`). Any one allowed check admits.
pub fn checks_for_http(method: &str, path: &str, node_name: &str) -> Vec<ResourceCheck> {
    let verb = match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    };
    let mut subresources = Vec::with_capacity(2);
    if let Some(fine) = [
        ("/pods", "pods"),
        ("/healthz", "healthz"),
        ("/configz", "configz"),
        ("/statusz", "statusz"),
        ("/runningpods/", "pods"),
    ]
    .into_iter()
    .find_map(|(p, sub)| is_subpath(path, p).then_some(sub))
    {
        subresources.push(fine);
    }
    subresources.push(
        [
            ("/stats", "stats"),
            ("/metrics", "metrics"),
            ("/logs", "log"),
            ("/checkpoint", "checkpoint"),
        ]
        .into_iter()
        .find_map(|(p, sub)| is_subpath(path, p).then_some(sub))
        .unwrap_or("proxy"),
    );
    subresources
        .into_iter()
        .map(|subresource| ResourceCheck {
            verb,
            resource: "nodes",
            subresource,
            name: node_name.to_string(),
        })
        .collect()
}

/// `path` is `prefix` or below it (Kubernetes' `isSubpath`).
fn is_subpath(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Kubernetes' kubelet refusal text of an HTTP request (every subresource it tried).
pub fn forbidden_message_http(user: &str, checks: &[ResourceCheck]) -> String {
    let (verb, resource) = checks
        .first()
        .map(|c| (c.verb, c.resource))
        .unwrap_or(("", ""));
    let subresources: Vec<&str> = checks.iter().map(|c| c.subresource).collect();
    format!(
        "Forbidden (user={user}, verb={verb}, resource={resource}, subresource(s)=[{}])",
        subresources.join(" ")
    )
}

/// Kubernetes' kubelet refusal text.
pub fn forbidden_message(user: &str, check: &ResourceCheck) -> String {
    format!(
        "Forbidden (user={user}, verb={}, resource={}, subresource={})",
        check.verb, check.resource, check.subresource
    )
}

/// Kubernetes' kubelet text when the review itself failed.
pub fn error_message(user: &str, check: &ResourceCheck) -> String {
    format!(
        "Authorization error (user={user}, verb={}, resource={}, subresource={})",
        check.verb, check.resource, check.subresource
    )
}

/// A review's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    name: String,
    uid: String,
    groups: Vec<String>,
    check: ResourceCheck,
}

impl Key {
    fn new(user: &UserInfo, check: &ResourceCheck) -> Key {
        let mut groups = user.groups.clone();
        groups.sort();
        groups.dedup();
        Key {
            name: user.name.clone(),
            uid: user.uid.clone(),
            groups,
            check: check.clone(),
        }
    }
}

/// Review answers by (user, groups, attributes), each until its TTL passes. Time is passed
/// in, so tests move it by hand.
#[derive(Debug)]
pub struct SarCache {
    allowed_ttl: Duration,
    denied_ttl: Duration,
    entries: Mutex<HashMap<Key, (Verdict, Instant)>>,
}

impl Default for SarCache {
    fn default() -> Self {
        SarCache::new(ALLOWED_TTL, DENIED_TTL)
    }
}

impl SarCache {
    pub fn new(allowed_ttl: Duration, denied_ttl: Duration) -> Self {
        SarCache {
            allowed_ttl,
            denied_ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, user: &UserInfo, check: &ResourceCheck, now: Instant) -> Option<Verdict> {
        let key = Key::new(user, check);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&key) {
            Some((v, until)) if now < *until => Some(v.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, user: &UserInfo, check: &ResourceCheck, verdict: Verdict, now: Instant) {
        let ttl = if verdict.allowed {
            self.allowed_ttl
        } else {
            self.denied_ttl
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(Key::new(user, check), (verdict, now + ttl));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Asks the apiserver whether `user` may do `check` (a SubjectAccessReview). Behind a
/// trait so the API server's tests run without an apiserver.
#[tonic::async_trait]
pub trait AccessReviewer: Send + Sync + 'static {
    async fn review(&self, user: &UserInfo, check: &ResourceCheck) -> Result<Verdict, String>;
}

/// How the kubelet API decides (`--authorization-mode`).
#[derive(Clone)]
pub enum Authorizer {
    /// Every authenticated caller may do everything.
    AlwaysAllow,
    /// SubjectAccessReviews through the apiserver, cached.
    Webhook {
        reviewer: Arc<dyn AccessReviewer>,
        cache: Arc<SarCache>,
    },
}

impl Authorizer {
    pub fn webhook(reviewer: Arc<dyn AccessReviewer>) -> Self {
        Authorizer::Webhook {
            reviewer,
            cache: Arc::new(SarCache::default()),
        }
    }

    /// Ok when allowed; else the gRPC status the caller gets (PermissionDenied with the
    /// kubelet's message, or Internal when the review failed: not cached, so the next call
    /// asks again).
    pub async fn authorize(
        &self,
        user: &UserInfo,
        check: &ResourceCheck,
    ) -> Result<(), tonic::Status> {
        let (reviewer, cache) = match self {
            Authorizer::AlwaysAllow => return Ok(()),
            Authorizer::Webhook { reviewer, cache } => (reviewer, cache),
        };
        let verdict = match cache.get(user, check, Instant::now()) {
            Some(v) => v,
            None => match reviewer.review(user, check).await {
                Ok(v) => {
                    cache.put(user, check, v.clone(), Instant::now());
                    v
                }
                Err(e) => {
                    tracing::warn!(user = %user.name, subresource = check.subresource, error = %e, "subject access review failed");
                    return Err(tonic::Status::internal(error_message(&user.name, check)));
                }
            },
        };
        if verdict.allowed {
            Ok(())
        } else {
            tracing::debug!(user = %user.name, subresource = check.subresource, reason = %verdict.reason, "kubelet API call refused");
            Err(tonic::Status::permission_denied(forbidden_message(
                &user.name, check,
            )))
        }
    }
}

impl Authorizer {
    /// Ok when any of `checks` is allowed (an HTTP request: [`checks_for_http`]); else
    /// PermissionDenied naming every subresource tried, or the first review failure.
    pub async fn authorize_any(
        &self,
        user: &UserInfo,
        checks: &[ResourceCheck],
    ) -> Result<(), tonic::Status> {
        for check in checks {
            match self.authorize(user, check).await {
                Ok(()) => return Ok(()),
                Err(e) if e.code() == tonic::Code::PermissionDenied => {}
                Err(e) => return Err(e),
            }
        }
        Err(tonic::Status::permission_denied(forbidden_message_http(
            &user.name, checks,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn calls_map_to_node_subresources() {
        let c = check_for(ApiCall::Exec, "n1");
        assert_eq!(
            (c.verb, c.resource, c.subresource, c.name.as_str()),
            ("get", "nodes", "proxy", "n1")
        );
        assert_eq!(check_for(ApiCall::Logs, "n1").subresource, "proxy");
        assert_eq!(check_for(ApiCall::PortForward, "n1").subresource, "proxy");
        assert_eq!(check_for(ApiCall::Stats, "n1").subresource, "stats");
    }

    #[test]
    fn http_paths_map_as_kubernetes_kubelet_auth() {
        let subs = |method: &str, path: &str| -> Vec<(&'static str, &'static str)> {
            checks_for_http(method, path, "n1")
                .into_iter()
                .map(|c| {
                    assert_eq!((c.resource, c.name.as_str()), ("nodes", "n1"));
                    (c.verb, c.subresource)
                })
                .collect()
        };
        assert_eq!(subs("GET", "/metrics"), [("get", "metrics")]);
        assert_eq!(subs("GET", "/metrics/cadvisor"), [("get", "metrics")]);
        assert_eq!(subs("GET", "/metrics/resource"), [("get", "metrics")]);
        assert_eq!(subs("GET", "/metricsx"), [("get", "proxy")]);
        assert_eq!(
            subs("GET", "/healthz"),
            [("get", "healthz"), ("get", "proxy")]
        );
        assert_eq!(
            subs("GET", "/healthz/syncloop"),
            [("get", "healthz"), ("get", "proxy")]
        );
        assert_eq!(subs("GET", "/stats/summary"), [("get", "stats")]);
        assert_eq!(subs("GET", "/logs/"), [("get", "log")]);
        assert_eq!(subs("POST", "/exec/ns/p/c"), [("create", "proxy")]);
        assert_eq!(subs("GET", "/pods"), [("get", "pods"), ("get", "proxy")]);
        assert_eq!(subs("GET", "/"), [("get", "proxy")]);
        assert_eq!(
            forbidden_message_http("bob", &checks_for_http("GET", "/healthz", "n1")),
            "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[healthz proxy])"
        );
    }

    #[test]
    fn forbidden_message_is_the_kubelets() {
        assert_eq!(
            forbidden_message("alice", &check_for(ApiCall::Exec, "n1")),
            "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)"
        );
    }

    #[test]
    fn cache_keeps_allowed_5_minutes_and_denied_30_seconds() {
        let cache = SarCache::default();
        let t0 = Instant::now();
        let a = user("a", &["g1", "g2"]);
        let b = user("b", &[]);
        let exec = check_for(ApiCall::Exec, "n1");
        let stats = check_for(ApiCall::Stats, "n1");
        let yes = Verdict {
            allowed: true,
            reason: String::new(),
        };
        let no = Verdict {
            allowed: false,
            reason: "no".into(),
        };
        cache.put(&a, &exec, yes.clone(), t0);
        cache.put(&b, &exec, no.clone(), t0);
        // Group order does not matter; the attributes and user do.
        assert_eq!(
            cache.get(
                &user("a", &["g2", "g1"]),
                &exec,
                t0 + Duration::from_secs(299)
            ),
            Some(yes)
        );
        assert_eq!(cache.get(&a, &stats, t0), None);
        assert_eq!(cache.get(&user("a", &["g1"]), &exec, t0), None);
        assert_eq!(cache.get(&b, &exec, t0 + Duration::from_secs(29)), Some(no));
        assert_eq!(cache.get(&b, &exec, t0 + Duration::from_secs(30)), None);
        assert_eq!(cache.get(&a, &exec, t0 + Duration::from_secs(300)), None);
        assert!(cache.is_empty(), "expired entries are dropped when read");
    }

    #[test]
    fn cache_stays_bounded() {
        let cache = SarCache::default();
        let t0 = Instant::now();
        let c = check_for(ApiCall::Stats, "n");
        for i in 0..CACHE_CAPACITY + 10 {
            cache.put(
                &user(&format!("u{i}"), &[]),
                &c,
                Verdict {
                    allowed: true,
                    reason: String::new(),
                },
                t0,
            );
        }
        assert!(cache.len() <= CACHE_CAPACITY);
    }

    struct Counting {
        calls: AtomicUsize,
        allow: bool,
        fail: bool,
    }

    #[tonic::async_trait]
    impl AccessReviewer for Counting {
        async fn review(&self, _: &UserInfo, _: &ResourceCheck) -> Result<Verdict, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err("apiserver unreachable".into());
            }
            Ok(Verdict {
                allowed: self.allow,
                reason: String::new(),
            })
        }
    }

    #[tokio::test]
    async fn webhook_asks_once_per_ttl_and_maps_refusals() {
        let r = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            allow: false,
            fail: false,
        });
        let authz = Authorizer::webhook(r.clone());
        let u = user("bob", &["system:authenticated"]);
        let c = check_for(ApiCall::Logs, "n1");
        for _ in 0..3 {
            let e = authz.authorize(&u, &c).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::PermissionDenied);
            assert_eq!(
                e.message(),
                "Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)"
            );
        }
        assert_eq!(r.calls.load(Ordering::SeqCst), 1);

        let failing = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            allow: true,
            fail: true,
        });
        let authz = Authorizer::webhook(failing.clone());
        for _ in 0..2 {
            let e = authz.authorize(&u, &c).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::Internal);
            assert!(e.message().starts_with("Authorization error (user=bob"));
        }
        assert_eq!(
            failing.calls.load(Ordering::SeqCst),
            2,
            "errors are not cached"
        );
        assert!(Authorizer::AlwaysAllow.authorize(&u, &c).await.is_ok());
    }
}
