//! serviceAccountToken projections: tokens from the TokenRequest API, bound to the pod,
//! cached per (pod, account, audience, lifetime) and refreshed as Kubernetes' kubelet token
//! manager does: once 80% of the lifetime has passed or the token is 24 h old (each minus
//! a jitter of up to 10 s). A failed refresh keeps a token that has not yet expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Kubernetes' projected token default lifetime (API defaulting of expirationSeconds).
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// A token is refreshed once this old, whatever its lifetime (Kubernetes' `maxTTL`).
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// Kubernetes' `maxJitter`.
pub const MAX_JITTER: Duration = Duration::from_secs(10);

/// What one token is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    pub pod_uid: String,
    /// Empty: the apiserver's audiences.
    pub audience: String,
    pub expiration_seconds: i64,
}

/// A token as the apiserver issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires: SystemTime,
    /// The lifetime the apiserver granted (it may shorten the one asked for).
    pub expiration_seconds: i64,
}

impl IssuedToken {
    fn issued_at(&self) -> SystemTime {
        let lifetime = Duration::from_secs(u64::try_from(self.expiration_seconds).unwrap_or(0));
        self.expires
            .checked_sub(lifetime)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    pub fn expired(&self, now: SystemTime) -> bool {
        now >= self.expires
    }
}

/// Kubernetes' `requiresRefresh`: older than 24 h minus jitter, or within 20% of its
/// lifetime (plus jitter) of expiring.
pub fn requires_refresh(t: &IssuedToken, now: SystemTime, jitter: Duration) -> bool {
    if now > t.issued_at() + MAX_TTL.saturating_sub(jitter) {
        return true;
    }
    let fifth = Duration::from_secs(u64::try_from(t.expiration_seconds * 20 / 100).unwrap_or(0));
    match t.expires.checked_sub(fifth + jitter) {
        Some(refresh_at) => now > refresh_at,
        None => true,
    }
}

fn random_jitter() -> Duration {
    MAX_JITTER.mul_f64(rand::random::<f64>())
}

/// Asks the apiserver for a token (TokenRequest on the pod's ServiceAccount).
#[tonic::async_trait]
pub trait TokenRequester: Send + Sync + 'static {
    async fn request(&self, key: &TokenKey) -> Result<IssuedToken, String>;
}

/// The node's tokens, shared by every pod worker.
pub struct TokenManager {
    requester: Arc<dyn TokenRequester>,
    cache: Mutex<HashMap<TokenKey, IssuedToken>>,
}

impl TokenManager {
    pub fn new(requester: Arc<dyn TokenRequester>) -> Self {
        TokenManager {
            requester,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The token for `key`: the cached one unless it needs a refresh; a refresh that fails
    /// keeps the cached token while it is still valid.
    pub async fn token(&self, key: &TokenKey) -> Result<String, String> {
        self.token_at(key, SystemTime::now(), random_jitter()).await
    }

    pub async fn token_at(
        &self,
        key: &TokenKey,
        now: SystemTime,
        jitter: Duration,
    ) -> Result<String, String> {
        let cached = self.lock().get(key).cloned();
        if let Some(t) = &cached
            && !requires_refresh(t, now, jitter)
        {
            return Ok(t.token.clone());
        }
        match self.requester.request(key).await {
            Ok(t) => {
                let token = t.token.clone();
                self.lock().insert(key.clone(), t);
                Ok(token)
            }
            Err(e) => match cached {
                None => Err(format!("failed to fetch token: {e}")),
                Some(t) if t.expired(now) => Err(format!(
                    "token for service account {}/{} expired and refresh failed: {e}",
                    key.namespace, key.service_account
                )),
                Some(t) => {
                    tracing::warn!(pod = %format!("{}/{}", key.namespace, key.pod_name), service_account = %key.service_account, error = %e, "couldn't update token; keeping the current one");
                    Ok(t.token)
                }
            },
        }
    }

    /// Drops the tokens of pods not in `live` (by uid).
    pub fn retain_pods(&self, live: &std::collections::HashSet<String>) {
        self.lock().retain(|k, _| live.contains(&k.pod_uid));
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, IssuedToken>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const HOUR: Duration = Duration::from_secs(3600);

    fn issued(now: SystemTime, lifetime: Duration) -> IssuedToken {
        IssuedToken {
            token: "t".into(),
            expires: now + lifetime,
            expiration_seconds: lifetime.as_secs() as i64,
        }
    }

    #[test]
    fn refresh_after_80_percent_of_the_lifetime() {
        let t0 = SystemTime::UNIX_EPOCH + HOUR * 1000;
        let t = issued(t0, HOUR);
        assert!(!requires_refresh(&t, t0, Duration::ZERO));
        assert!(!requires_refresh(
            &t,
            t0 + HOUR.mul_f64(0.79),
            Duration::ZERO
        ));
        assert!(requires_refresh(
            &t,
            t0 + HOUR.mul_f64(0.81),
            Duration::ZERO
        ));
        // The jitter moves the point earlier, by at most 10 s.
        let at = t0 + HOUR.mul_f64(0.8) - Duration::from_secs(5);
        assert!(!requires_refresh(&t, at, Duration::ZERO));
        assert!(requires_refresh(&t, at, MAX_JITTER));
    }

    #[test]
    fn refresh_long_lived_tokens_after_24_hours() {
        let t0 = SystemTime::UNIX_EPOCH + HOUR * 1000;
        let t = issued(t0, HOUR * 24 * 10);
        assert!(!requires_refresh(&t, t0 + HOUR * 23, Duration::ZERO));
        assert!(requires_refresh(
            &t,
            t0 + HOUR * 24 + HOUR / 60,
            Duration::ZERO
        ));
    }

    struct Fake {
        calls: AtomicUsize,
        fail: AtomicBool,
        lifetime: Duration,
        now: Mutex<SystemTime>,
    }

    #[tonic::async_trait]
    impl TokenRequester for Fake {
        async fn request(&self, key: &TokenKey) -> Result<IssuedToken, String> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err("apiserver down".into());
            }
            let now = *self.now.lock().unwrap();
            Ok(IssuedToken {
                token: format!("{}-{n}", key.pod_name),
                expires: now + self.lifetime,
                expiration_seconds: self.lifetime.as_secs() as i64,
            })
        }
    }

    fn key(uid: &str) -> TokenKey {
        TokenKey {
            namespace: "ns".into(),
            service_account: "default".into(),
            pod_name: "p".into(),
            pod_uid: uid.into(),
            audience: String::new(),
            expiration_seconds: 3600,
        }
    }

    #[tokio::test]
    async fn manager_caches_refreshes_and_survives_a_failed_refresh() {
        let t0 = SystemTime::UNIX_EPOCH + HOUR * 1000;
        let fake = Arc::new(Fake {
            calls: AtomicUsize::new(0),
            fail: AtomicBool::new(false),
            lifetime: HOUR,
            now: Mutex::new(t0),
        });
        let m = TokenManager::new(fake.clone());
        let k = key("u1");
        assert_eq!(m.token_at(&k, t0, Duration::ZERO).await.unwrap(), "p-0");
        assert_eq!(
            m.token_at(&k, t0 + HOUR / 2, Duration::ZERO).await.unwrap(),
            "p-0"
        );
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);

        // Past 80%: a new token.
        let later = t0 + HOUR.mul_f64(0.85);
        *fake.now.lock().unwrap() = later;
        assert_eq!(m.token_at(&k, later, Duration::ZERO).await.unwrap(), "p-1");

        // The refresh fails: the still-valid token stays; once expired, an error.
        fake.fail.store(true, Ordering::SeqCst);
        let due = later + HOUR.mul_f64(0.9);
        assert_eq!(m.token_at(&k, due, Duration::ZERO).await.unwrap(), "p-1");
        let e = m
            .token_at(&k, later + HOUR * 2, Duration::ZERO)
            .await
            .unwrap_err();
        assert!(e.contains("expired and refresh failed"), "{e}");
        let e = m
            .token_at(&key("u2"), t0, Duration::ZERO)
            .await
            .unwrap_err();
        assert!(e.starts_with("failed to fetch token"), "{e}");

        m.retain_pods(&Default::default());
        assert!(m.is_empty());
    }
}

/// The TokenRequest for `key`: bound to the pod (kind Pod, name, uid) so the token dies
/// with it; an empty audience asks for the apiserver's own.
pub fn token_request(key: &TokenKey) -> proto::k8s::TokenRequest {
    proto::k8s::TokenRequest {
        api_version: "authentication.k8s.io/v1".into(),
        kind: "TokenRequest".into(),
        metadata: Some(proto::k8s::ObjectMeta {
            name: key.service_account.clone(),
            namespace: key.namespace.clone(),
            ..Default::default()
        }),
        spec: Some(proto::k8s::TokenRequestSpec {
            audiences: if key.audience.is_empty() {
                Vec::new()
            } else {
                vec![key.audience.clone()]
            },
            expiration_seconds: Some(key.expiration_seconds),
            bound_object_ref: Some(proto::k8s::BoundObjectReference {
                kind: "Pod".into(),
                api_version: "v1".into(),
                name: key.pod_name.clone(),
                uid: key.pod_uid.clone(),
            }),
        }),
        status: None,
    }
}

/// The real [`TokenRequester`]: `serviceaccounts/token` through the apiserver.
pub struct ApiTokenRequester {
    pub client: client::Client,
}

#[tonic::async_trait]
impl TokenRequester for ApiTokenRequester {
    async fn request(&self, key: &TokenKey) -> Result<IssuedToken, String> {
        let answer = self
            .client
            .create_token(token_request(key))
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status.unwrap_or_default();
        if status.token.is_empty() {
            return Err("the apiserver returned no token".to_string());
        }
        let expires =
            proto::time::parse_rfc3339(&status.expiration_timestamp).ok_or_else(|| {
                format!(
                    "the token's expirationTimestamp {:?} is not RFC 3339",
                    status.expiration_timestamp
                )
            })?;
        let expiration_seconds = answer
            .spec
            .and_then(|s| s.expiration_seconds)
            .filter(|s| *s > 0)
            .unwrap_or(key.expiration_seconds);
        Ok(IssuedToken {
            token: status.token,
            expires,
            expiration_seconds,
        })
    }
}

#[cfg(test)]
mod request_tests {
    use super::*;

    #[test]
    fn request_is_bound_to_the_pod() {
        let key = TokenKey {
            namespace: "ns".into(),
            service_account: "builder".into(),
            pod_name: "p".into(),
            pod_uid: "uid-1".into(),
            audience: "vault".into(),
            expiration_seconds: 3607,
        };
        let r = token_request(&key);
        let m = r.metadata.unwrap();
        assert_eq!((m.namespace.as_str(), m.name.as_str()), ("ns", "builder"));
        let spec = r.spec.unwrap();
        assert_eq!(spec.audiences, vec!["vault".to_string()]);
        assert_eq!(spec.expiration_seconds, Some(3607));
        let b = spec.bound_object_ref.unwrap();
        assert_eq!(
            (b.kind.as_str(), b.name.as_str(), b.uid.as_str()),
            ("Pod", "p", "uid-1")
        );
        let none = token_request(&TokenKey {
            audience: String::new(),
            ..key
        });
        assert!(none.spec.unwrap().audiences.is_empty());
    }
}
