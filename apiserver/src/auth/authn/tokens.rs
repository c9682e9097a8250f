//! Issuing bound ServiceAccount tokens (Kubernetes' TokenRequest): signed with
//! `--service-account-signing-key-file`, for `--service-account-issuer`, audiences
//! defaulting to `--api-audiences`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proto::satoken::{self, BoundClaims, PrivateKey};

/// Kubernetes' default and minimum TokenRequest lifetimes.
pub const DEFAULT_EXPIRATION: Duration = Duration::from_secs(3600);
pub const MIN_EXPIRATION: Duration = Duration::from_secs(600);

pub struct TokenIssuer {
    key: PrivateKey,
    issuer: String,
    api_audiences: Vec<String>,
    max_expiration: Option<Duration>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("api_audiences", &self.api_audiences)
            .field("max_expiration", &self.max_expiration)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(
        key: PrivateKey,
        issuer: &str,
        api_audiences: &[String],
        max_expiration: Option<Duration>,
    ) -> TokenIssuer {
        TokenIssuer {
            key,
            issuer: issuer.to_string(),
            api_audiences: api_audiences.to_vec(),
            max_expiration,
        }
    }

    pub fn api_audiences(&self) -> &[String] {
        &self.api_audiences
    }

    /// The lifetime a TokenRequest asking for `requested_seconds` gets: 1 h when unset, at
    /// least 10 minutes, at most `--service-account-max-token-expiration`.
    pub fn expiration(&self, requested_seconds: Option<i64>) -> Result<Duration, String> {
        let requested = match requested_seconds {
            None => DEFAULT_EXPIRATION,
            Some(s) if s < MIN_EXPIRATION.as_secs() as i64 => {
                return Err(
                    "spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes"
                        .to_string(),
                );
            }
            Some(s) => Duration::from_secs(s as u64),
        };
        Ok(match self.max_expiration {
            Some(max) if requested > max => max,
            _ => requested,
        })
    }

    /// A token for the ServiceAccount `namespace/sa_name` (`sa_uid`), bound to `pod`
    /// (name, uid) if given, for `audiences` (empty: the API's), valid from `now` for
    /// `expiration`. Returns the token and when it expires.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        namespace: &str,
        sa_name: &str,
        sa_uid: &str,
        pod: Option<(&str, &str)>,
        audiences: &[String],
        expiration: Duration,
        now: SystemTime,
    ) -> (String, SystemTime) {
        let audiences = if audiences.is_empty() {
            &self.api_audiences
        } else {
            audiences
        };
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let lifetime = expiration.as_secs() as i64;
        let mut claims = BoundClaims::new(
            &self.issuer,
            audiences,
            namespace,
            sa_name,
            sa_uid,
            now_secs,
            lifetime,
        );
        if let Some((name, uid)) = pod {
            claims = claims.bound_to_pod(name, uid);
        }
        let expires = UNIX_EPOCH + Duration::from_secs(claims.exp.max(0) as u64);
        (satoken::sign_bound(&claims, &self.key), expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::satoken::Token;

    fn issuer(max: Option<Duration>) -> TokenIssuer {
        TokenIssuer::new(
            satoken::private_key_from_seed([21; 32]),
            "https://kubernetes.default.svc.cluster.local",
            &["https://kubernetes.default.svc.cluster.local".to_string()],
            max,
        )
    }

    #[test]
    fn expiration_default_minimum_and_cap() {
        let i = issuer(Some(Duration::from_secs(7200)));
        assert_eq!(i.expiration(None), Ok(Duration::from_secs(3600)));
        assert_eq!(i.expiration(Some(600)), Ok(Duration::from_secs(600)));
        assert!(i.expiration(Some(599)).unwrap_err().contains("10 minutes"));
        assert_eq!(i.expiration(Some(86_400)), Ok(Duration::from_secs(7200)));
        assert_eq!(
            issuer(None).expiration(Some(86_400)),
            Ok(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn issued_token_is_bound_and_verifies() {
        let i = issuer(None);
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (token, exp) = i.issue(
            "ns",
            "default",
            "sa-uid",
            Some(("web", "pod-uid")),
            &[],
            Duration::from_secs(3600),
            now,
        );
        assert_eq!(exp, now + Duration::from_secs(3600));
        let key = satoken::private_key_from_seed([21; 32]).verifying_key();
        let Ok(Token::Bound(c)) = satoken::verify_any(&token, &[key]) else {
            panic!("a bound token")
        };
        assert_eq!(c.aud, i.api_audiences());
        assert_eq!(c.sub, "system:serviceaccount:ns:default");
        assert_eq!(c.kubernetes.pod.unwrap().uid, "pod-uid");
        assert_eq!(c.exp - c.iat, 3600);
        let (token, _) = i.issue(
            "ns",
            "default",
            "sa-uid",
            None,
            &["vault".to_string()],
            Duration::from_secs(600),
            now,
        );
        let Ok(Token::Bound(c)) = satoken::verify_any(&token, &[key]) else {
            panic!("a bound token")
        };
        assert_eq!(c.aud, vec!["vault".to_string()]);
        assert!(c.kubernetes.pod.is_none());
    }
}
