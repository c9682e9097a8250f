//! Delegated authentication and authorization of a daemon's endpoints, as Kubernetes'
//! components do it (`k8s.io/apiserver/pkg/server/options/authentication.go` and
//! `authorization.go` with their defaults):
//!
//! - who: a client certificate signed by the cluster CA (CN = user, O = groups), else a
//!   bearer token checked with a TokenReview (answers cached 10 s), else
//!   `system:anonymous`. Credentials that are presented but fail are a 401, never anonymous.
//! - may they: `/healthz`, `/livez` and `/readyz` (exactly these paths) and the group
//!   `system:masters` always; anyone else by a SubjectAccessReview for the non-resource
//!   path and the lower-cased method (`get /metrics`), verdicts cached 10 s.

use axum::body::Body;
use http::{HeaderMap, Response, StatusCode, header};
use proto::k8s::{
    NonResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec, TokenReview,
    TokenReviewSpec,
};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Kubernetes' `--authorization-always-allow-paths` default.
pub const ALWAYS_ALLOW_PATHS: [&str; 3] = ["/healthz", "/readyz", "/livez"];
/// Kubernetes' delegated authorization always allows this group (`AlwaysAllowGroups`).
pub const ALWAYS_ALLOW_GROUP: &str = "system:masters";
/// `--authentication-token-webhook-cache-ttl` of a delegating component.
pub const TOKEN_TTL: Duration = Duration::from_secs(10);
/// `--authorization-webhook-cache-authorized-ttl` and `-unauthorized-ttl`.
pub const ALLOWED_TTL: Duration = Duration::from_secs(10);
pub const DENIED_TTL: Duration = Duration::from_secs(10);
/// Entries a cache keeps at most; past it expired entries go, then everything.
const CACHE_CAPACITY: usize = 1024;

pub const ANONYMOUS_USER: &str = "system:anonymous";
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl User {
    fn anonymous() -> User {
        User {
            name: ANONYMOUS_USER.into(),
            uid: String::new(),
            groups: vec![UNAUTHENTICATED_GROUP.into()],
        }
    }
}

/// Whether a path needs a review at all.
pub fn always_allowed(path: &str, user: &User) -> bool {
    ALWAYS_ALLOW_PATHS.contains(&path) || user.groups.iter().any(|g| g == ALWAYS_ALLOW_GROUP)
}

/// The verb of a non-resource request: its method, lower-cased (Kubernetes' RequestInfo).
pub fn verb_of(method: &http::Method) -> String {
    method.as_str().to_ascii_lowercase()
}

/// A review's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub reason: String,
}

/// The apiserver's reviews, behind a trait so tests need no apiserver.
#[tonic::async_trait]
pub trait Reviewer: Send + Sync + 'static {
    /// The token's user, None when the apiserver does not know the token.
    async fn token_review(&self, token: &str) -> Result<Option<User>, String>;
    async fn access_review(&self, user: &User, path: &str, verb: &str) -> Result<Verdict, String>;
}

/// The reviews sent through the daemon's own connection (its identity needs `create` on
/// `tokenreviews` and `subjectaccessreviews`, which Kubernetes' `system:kube-scheduler`,
/// `system:kube-controller-manager` and `system:auth-delegator` roles grant).
pub struct ApiReviewer {
    pub client: crate::Client,
}

/// The SubjectAccessReview for `user` doing `verb` on the non-resource `path`.
pub fn access_review_for(user: &User, path: &str, verb: &str) -> SubjectAccessReview {
    SubjectAccessReview {
        api_version: "authorization.k8s.io/v1".into(),
        kind: "SubjectAccessReview".into(),
        spec: Some(SubjectAccessReviewSpec {
            non_resource_attributes: Some(NonResourceAttributes {
                path: path.into(),
                verb: verb.into(),
            }),
            user: user.name.clone(),
            uid: user.uid.clone(),
            groups: user.groups.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl Reviewer for ApiReviewer {
    async fn token_review(&self, token: &str) -> Result<Option<User>, String> {
        let review = TokenReview {
            api_version: "authentication.k8s.io/v1".into(),
            kind: "TokenReview".into(),
            spec: Some(TokenReviewSpec {
                token: token.into(),
                audiences: vec![],
            }),
            ..Default::default()
        };
        let answer = self
            .client
            .create_token_review(review)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status.unwrap_or_default();
        if !status.authenticated {
            if !status.error.is_empty() {
                tracing::debug!(error = %status.error, "token review: not authenticated");
            }
            return Ok(None);
        }
        let user = status.user.unwrap_or_default();
        Ok(Some(User {
            name: user.username,
            uid: user.uid,
            groups: user.groups,
        }))
    }

    async fn access_review(&self, user: &User, path: &str, verb: &str) -> Result<Verdict, String> {
        let answer = self
            .client
            .create_subject_access_review(access_review_for(user, path, verb))
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status.unwrap_or_default();
        Ok(Verdict {
            allowed: status.allowed && !status.denied,
            reason: status.reason,
        })
    }
}

/// Answers by key until their time is up; time is passed in so tests move it by hand.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((v, until)) if now < *until => Some(v.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: K, value: V, ttl: Duration, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (value, now + ttl));
    }
}

/// What the request presents.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    Nothing,
    Bearer(&'a str),
}

/// The bearer token of an `Authorization` header (scheme case-insensitive, as Go's).
pub fn bearer_token(headers: &HeaderMap) -> Presented<'_> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Presented::Nothing;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Presented::Bearer(token.trim())
        }
        _ => Presented::Nothing,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AccessKey {
    name: String,
    uid: String,
    groups: Vec<String>,
    path: String,
    verb: String,
}

/// The authenticator and authorizer of one daemon's endpoints.
pub struct Delegated {
    /// None when the daemon's connection trusts no CA it could check certificates with.
    pub verifier: Option<pki::verify::ClientVerifier>,
    pub reviewer: Arc<dyn Reviewer>,
    tokens: TtlCache<String, Option<User>>,
    verdicts: TtlCache<AccessKey, Verdict>,
}

/// Why a request is not answered by the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized,
    Forbidden {
        user: String,
        verb: String,
        path: String,
        reason: String,
    },
    Error {
        uri: String,
        error: String,
    },
}

impl Delegated {
    pub fn new(verifier: Option<pki::verify::ClientVerifier>, reviewer: Arc<dyn Reviewer>) -> Self {
        Delegated {
            verifier,
            reviewer,
            tokens: TtlCache::default(),
            verdicts: TtlCache::default(),
        }
    }

    /// Who is calling. Err(()) answers 401.
    pub async fn authenticate(
        &self,
        chain: Option<&[rustls::pki_types::CertificateDer<'static>]>,
        headers: &HeaderMap,
    ) -> Result<User, ()> {
        let mut failed = false;
        if let Some(chain) = chain.filter(|c| !c.is_empty()) {
            match &self.verifier {
                Some(verifier) => match verifier.verify(chain, SystemTime::now()) {
                    Ok(subject) => {
                        let mut groups = subject.organizations;
                        if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
                            groups.push(AUTHENTICATED_GROUP.into());
                        }
                        return Ok(User {
                            name: subject.common_name,
                            uid: String::new(),
                            groups,
                        });
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "endpoint client certificate refused");
                        failed = true;
                    }
                },
                None => failed = true,
            }
        }
        if let Presented::Bearer(token) = bearer_token(headers) {
            match self.token_user(token).await {
                Some(user) => return Ok(user),
                None => failed = true,
            }
        }
        if failed {
            Err(())
        } else {
            Ok(User::anonymous())
        }
    }

    async fn token_user(&self, token: &str) -> Option<User> {
        if let Some(known) = self.tokens.get(&token.to_string(), Instant::now()) {
            return known;
        }
        match self.reviewer.token_review(token).await {
            Ok(user) => {
                self.tokens
                    .put(token.to_string(), user.clone(), TOKEN_TTL, Instant::now());
                user
            }
            Err(error) => {
                // Not cached: the next request asks again.
                tracing::warn!(%error, "token review for the endpoints failed");
                None
            }
        }
    }

    /// Whether `user` may `verb` `path`.
    pub async fn authorize(
        &self,
        user: &User,
        verb: &str,
        path: &str,
        uri: &str,
    ) -> Result<(), Refusal> {
        if always_allowed(path, user) {
            return Ok(());
        }
        let mut groups = user.groups.clone();
        groups.sort();
        groups.dedup();
        let key = AccessKey {
            name: user.name.clone(),
            uid: user.uid.clone(),
            groups,
            path: path.to_string(),
            verb: verb.to_string(),
        };
        let verdict = match self.verdicts.get(&key, Instant::now()) {
            Some(v) => v,
            None => match self.reviewer.access_review(user, path, verb).await {
                Ok(v) => {
                    let ttl = if v.allowed { ALLOWED_TTL } else { DENIED_TTL };
                    self.verdicts.put(key, v.clone(), ttl, Instant::now());
                    v
                }
                Err(error) => {
                    tracing::warn!(user = %user.name, path, %error, "subject access review for the endpoints failed");
                    return Err(Refusal::Error {
                        uri: uri.to_string(),
                        error,
                    });
                }
            },
        };
        if verdict.allowed {
            Ok(())
        } else {
            Err(Refusal::Forbidden {
                user: user.name.clone(),
                verb: verb.to_string(),
                path: path.to_string(),
                reason: verdict.reason,
            })
        }
    }
}

/// Kubernetes' answers: a `Status` object for 401 and 403, Go's plain-text 500.
pub fn refusal_response(refusal: &Refusal) -> Response<Body> {
    let (code, ctype, body) = match refusal {
        Refusal::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "application/json",
            status_json(401, "Unauthorized", "Unauthorized"),
        ),
        Refusal::Forbidden {
            user,
            verb,
            path,
            reason,
        } => {
            let mut message = format!("forbidden: User {user:?} cannot {verb} path {path:?}");
            if !reason.is_empty() {
                message.push_str(": ");
                message.push_str(reason);
            }
            (
                StatusCode::FORBIDDEN,
                "application/json",
                status_json(403, "Forbidden", &message),
            )
        }
        Refusal::Error { uri, error } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("Internal Server Error: {uri:?}: {error}\n"),
        ),
    };
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn status_json(code: u16, reason: &str, message: &str) -> String {
    // Kubernetes' field order (metav1.Status as Go encodes it).
    let message = serde_json::Value::from(message);
    let details = if code == 403 { r#","details":{}"# } else { "" };
    format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":{message},"reason":"{reason}"{details},"code":{code}}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn user(name: &str, groups: &[&str]) -> User {
        User {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn health_paths_and_masters_are_always_allowed_exactly() {
        let anon = User::anonymous();
        for p in ["/healthz", "/livez", "/readyz"] {
            assert!(always_allowed(p, &anon), "{p}");
        }
        // Kubernetes' always-allow paths are exact: a single check is reviewed.
        for p in ["/metrics", "/healthz/ping", "/readyz/", "/livezz", "/"] {
            assert!(!always_allowed(p, &anon), "{p}");
        }
        assert!(always_allowed(
            "/metrics",
            &user("admin", &["system:masters"])
        ));
        assert_eq!(verb_of(&http::Method::GET), "get");
        assert_eq!(verb_of(&http::Method::HEAD), "head");
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), Presented::Nothing);
        h.insert(header::AUTHORIZATION, "Bearer abc.def".parse().unwrap());
        assert_eq!(bearer_token(&h), Presented::Bearer("abc.def"));
        h.insert(header::AUTHORIZATION, "bearer  xyz ".parse().unwrap());
        assert_eq!(bearer_token(&h), Presented::Bearer("xyz"));
        h.insert(header::AUTHORIZATION, "Basic dXNlcg==".parse().unwrap());
        assert_eq!(bearer_token(&h), Presented::Nothing);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&h), Presented::Nothing);
    }

    #[test]
    fn the_review_names_the_path_and_verb() {
        let r = access_review_for(
            &user("prometheus", &["system:monitoring"]),
            "/metrics",
            "get",
        );
        let spec = r.spec.unwrap();
        assert_eq!(spec.user, "prometheus");
        assert_eq!(spec.groups, vec!["system:monitoring"]);
        assert!(spec.resource_attributes.is_none());
        let n = spec.non_resource_attributes.unwrap();
        assert_eq!((n.path.as_str(), n.verb.as_str()), ("/metrics", "get"));
    }

    #[test]
    fn cache_entries_expire() {
        let c: TtlCache<&str, u8> = TtlCache::default();
        let t0 = Instant::now();
        c.put("a", 1, Duration::from_secs(10), t0);
        assert_eq!(c.get(&"a", t0 + Duration::from_secs(9)), Some(1));
        assert_eq!(c.get(&"a", t0 + Duration::from_secs(10)), None);
        for i in 0..CACHE_CAPACITY + 5 {
            let key: &'static str = Box::leak(format!("k{i}").into_boxed_str());
            c.put(key, 0, Duration::from_secs(10), t0);
        }
        assert!(c.entries.lock().unwrap().len() <= CACHE_CAPACITY);
    }

    #[test]
    fn refusals_are_answered_as_kubernetes_components_do() {
        let r = refusal_response(&Refusal::Unauthorized);
        assert_eq!(r.status(), 401);
        assert_eq!(
            status_json(401, "Unauthorized", "Unauthorized"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
        );
        let r = refusal_response(&Refusal::Forbidden {
            user: "system:anonymous".into(),
            verb: "get".into(),
            path: "/metrics".into(),
            reason: String::new(),
        });
        assert_eq!(r.status(), 403);
        assert_eq!(
            status_json(
                403,
                "Forbidden",
                "forbidden: User \"system:anonymous\" cannot get path \"/metrics\""
            ),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/metrics\"","reason":"Forbidden","details":{},"code":403}"#
        );
    }

    struct Fake {
        tokens: AtomicUsize,
        reviews: AtomicUsize,
        fail: bool,
    }

    #[tonic::async_trait]
    impl Reviewer for Fake {
        async fn token_review(&self, token: &str) -> Result<Option<User>, String> {
            self.tokens.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err("unreachable".into());
            }
            Ok((token == "good")
                .then(|| user("prometheus", &["system:monitoring", AUTHENTICATED_GROUP])))
        }
        async fn access_review(
            &self,
            user: &User,
            path: &str,
            verb: &str,
        ) -> Result<Verdict, String> {
            self.reviews.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err("unreachable".into());
            }
            Ok(Verdict {
                allowed: user.groups.iter().any(|g| g == "system:monitoring")
                    && path == "/metrics"
                    && verb == "get",
                reason: String::new(),
            })
        }
    }

    fn fake(fail: bool) -> Arc<Fake> {
        Arc::new(Fake {
            tokens: AtomicUsize::new(0),
            reviews: AtomicUsize::new(0),
            fail,
        })
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    #[tokio::test]
    async fn tokens_and_verdicts_are_reviewed_once_per_ttl() {
        let f = fake(false);
        let d = Delegated::new(None, f.clone());
        for _ in 0..3 {
            let u = d.authenticate(None, &bearer("good")).await.unwrap();
            assert_eq!(u.name, "prometheus");
            d.authorize(&u, "get", "/metrics", "/metrics")
                .await
                .unwrap();
        }
        assert_eq!(f.tokens.load(Ordering::SeqCst), 1);
        assert_eq!(f.reviews.load(Ordering::SeqCst), 1);
        // An unknown token is a 401 (and remembered as unknown), never anonymous.
        for _ in 0..2 {
            assert_eq!(d.authenticate(None, &bearer("bad")).await, Err(()));
        }
        assert_eq!(f.tokens.load(Ordering::SeqCst), 2);
        // Nothing presented: anonymous, allowed the health paths, refused /metrics.
        let anon = d.authenticate(None, &HeaderMap::new()).await.unwrap();
        assert_eq!(anon, User::anonymous());
        assert!(
            d.authorize(&anon, "get", "/readyz", "/readyz?verbose")
                .await
                .is_ok()
        );
        assert_eq!(
            d.authorize(&anon, "get", "/metrics", "/metrics").await,
            Err(Refusal::Forbidden {
                user: "system:anonymous".into(),
                verb: "get".into(),
                path: "/metrics".into(),
                reason: String::new()
            })
        );
        // A certificate with no CA to check it against is refused.
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let chain = pki::inspect::certs_from_pem(ca.cert_pem()).unwrap();
        assert_eq!(
            d.authenticate(Some(&chain), &HeaderMap::new()).await,
            Err(())
        );
    }

    #[tokio::test]
    async fn certificates_of_the_cluster_ca_name_the_user() {
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let other = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let issue = |ca: &pki::ca::Ca| {
            let issued = ca
                .issue(&pki::ca::CertSpec {
                    common_name: "admin".into(),
                    organizations: vec!["system:masters".into()],
                    dns_names: vec![],
                    ip_addresses: vec![],
                    usages: vec![pki::ca::Usage::ClientAuth],
                    validity: Duration::from_secs(3600),
                })
                .unwrap();
            pki::inspect::certs_from_pem(&issued.cert_pem).unwrap()
        };
        let f = fake(false);
        let d = Delegated::new(
            Some(pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap()),
            f.clone(),
        );
        let admin = d
            .authenticate(Some(&issue(&ca)), &HeaderMap::new())
            .await
            .unwrap();
        assert_eq!(admin.name, "admin");
        assert_eq!(admin.groups, vec!["system:masters", AUTHENTICATED_GROUP]);
        // system:masters needs no review.
        d.authorize(&admin, "get", "/metrics", "/metrics")
            .await
            .unwrap();
        assert_eq!(f.reviews.load(Ordering::SeqCst), 0);
        // Another CA's certificate is a 401, unless a good token comes with it.
        assert_eq!(
            d.authenticate(Some(&issue(&other)), &HeaderMap::new())
                .await,
            Err(())
        );
        let u = d
            .authenticate(Some(&issue(&other)), &bearer("good"))
            .await
            .unwrap();
        assert_eq!(u.name, "prometheus");
    }

    #[tokio::test]
    async fn review_failures_are_not_cached() {
        let f = fake(true);
        let d = Delegated::new(None, f.clone());
        assert_eq!(d.authenticate(None, &bearer("good")).await, Err(()));
        assert_eq!(d.authenticate(None, &bearer("good")).await, Err(()));
        assert_eq!(f.tokens.load(Ordering::SeqCst), 2);
        let u = user("x", &[]);
        for _ in 0..2 {
            let e = d
                .authorize(&u, "get", "/metrics", "/metrics?x")
                .await
                .unwrap_err();
            assert_eq!(
                e,
                Refusal::Error {
                    uri: "/metrics?x".into(),
                    error: "unreachable".into()
                }
            );
        }
        assert_eq!(f.reviews.load(Ordering::SeqCst), 2);
        let r = refusal_response(&Refusal::Error {
            uri: "/metrics".into(),
            error: "unreachable".into(),
        });
        assert_eq!(r.status(), 500);
    }
}
