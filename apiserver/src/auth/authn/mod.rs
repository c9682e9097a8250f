//! Authentication, as kube-apiserver's chain: once per request, before any handler, the
//! credentials the request carries become one [`User`]:
//!
//! 1. a client certificate presented in the TLS handshake, verified against the client
//!    CA: user = CN, groups = O;
//! 2. else an `authorization: Bearer <token>` header: the static token file, a bootstrap
//!    token, or a ServiceAccount JWT (legacy or bound);
//! 3. else `system:anonymous` in `system:unauthenticated` when anonymous requests are
//!    allowed.
//!
//! Credentials that are presented but invalid never fall back to anonymous: the request
//! is refused with `Unauthenticated` and `Unauthorized: <cause>`. Every authenticated user
//! is also in `system:authenticated`. The [`layer`] runs this in front of every gRPC
//! service; [`service`] serves TokenRequest, TokenReview and SelfSubjectReview.
//!
//! Refusals (gRPC `Unauthenticated`; a store failure while checking is `Unavailable`):
//!
//! | cause | message |
//! |---|---|
//! | certificate not signed by the client CA | `Unauthorized: x509: certificate signed by unknown authority` |
//! | certificate outside its validity | `Unauthorized: x509: certificate has expired or is not yet valid` |
//! | certificate without client-auth usage | `Unauthorized: x509: certificate specifies an incompatible key usage` |
//! | certificate with an empty CN | `Unauthorized: x509: common name of the client certificate is empty` |
//! | token matching no authenticator | `Unauthorized: invalid bearer token: token is not known` |
//! | JWT signed by another key | `Unauthorized: invalid bearer token: token signature does not verify` |
//! | bound token past `exp` (60 s leeway) | `Unauthorized: invalid bearer token: token has expired` |
//! | bound token before `nbf` | `Unauthorized: invalid bearer token: token is not valid yet` |
//! | bound token of another issuer | `Unauthorized: invalid bearer token: token issuer is not accepted` |
//! | bound token for other audiences | `Unauthorized: invalid bearer token: token audience is not accepted` |
//! | ServiceAccount gone (or recreated: uid) | `... service account <ns>/<name> has been deleted` / `... service account UID (<a>) does not match claim (<b>)` |
//! | bound pod or Secret gone (or recreated) | `... pod <ns>/<name> has been deleted` / `... pod UID (<a>) does not match claim (<b>)` (same for `secret`) |
//! | legacy token whose Secret is gone or changed | `... secret <ns>/<name> has been deleted` / `... token does not match server's copy` |
//! | bootstrap token without its Secret | `Unauthorized: invalid bearer token: bootstrap token is not known` |
//! | bootstrap token refused by its Secret | `... bootstrap token has expired`, `... bootstrap token secret does not match`, `... bootstrap token is not usable for authentication` (`proto::bootstrap_token::check`) |
//! | nothing presented, `--anonymous-auth=false` | `Unauthorized: no client certificate or bearer token presented, and anonymous requests are disabled` |

pub mod bootstrap;
pub mod layer;
pub mod objects;
pub mod service;
pub mod serviceaccount;
pub mod token_file;
pub mod tokens;

use std::sync::Arc;
use std::time::SystemTime;

use rustls_pki_types::CertificateDer;

use crate::auth::User;
use crate::auth::user::names;

pub use layer::AuthnLayer;
pub use objects::Objects;
pub use serviceaccount::ServiceAccountTokens;
pub use token_file::TokenFile;
pub use tokens::TokenIssuer;

/// Why a request's credentials are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnError {
    /// The client certificate (Go's x509 messages).
    #[error("{0}")]
    X509(#[from] pki::verify::VerifyError),
    #[error("x509: common name of the client certificate is empty")]
    EmptyCommonName,
    #[error("invalid bearer token: {0}")]
    Token(String),
    #[error("no client certificate or bearer token presented, and anonymous requests are disabled")]
    NoCredentials,
    /// The objects a token depends on could not be read (the store): not the caller's
    /// fault, so answered as Unavailable.
    #[error("cannot check the credentials: {0}")]
    Lookup(String),
}

impl AuthnError {
    /// The gRPC answer (Kubernetes' 401 `Unauthorized`).
    pub fn to_status(&self) -> tonic::Status {
        match self {
            AuthnError::Lookup(_) => tonic::Status::unavailable(self.to_string()),
            _ => proto::ApiError::new(proto::Reason::Unauthorized, format!("Unauthorized: {self}"))
                .into(),
        }
    }
}

/// What a request presents.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    /// The TLS client's chain (leaf first), unverified; `None` or empty when none.
    pub client_certificates: Option<&'a [CertificateDer<'static>]>,
    pub bearer: Option<&'a str>,
}

/// The authenticators `--client-ca-file`, `--token-auth-file`,
/// `--service-account-key-file` and `--anonymous-auth` configure.
pub struct Authenticator {
    pub x509: Option<pki::verify::ClientVerifier>,
    pub static_tokens: TokenFile,
    pub bootstrap_tokens: bool,
    pub service_accounts: Option<ServiceAccountTokens>,
    pub anonymous: bool,
    pub objects: Arc<dyn Objects>,
}

impl Authenticator {
    /// No authenticator but anonymous (or none): every request is `system:anonymous`.
    pub fn anonymous_only(objects: Arc<dyn Objects>, anonymous: bool) -> Authenticator {
        Authenticator {
            x509: None,
            static_tokens: TokenFile::default(),
            bootstrap_tokens: false,
            service_accounts: None,
            anonymous,
            objects,
        }
    }

    /// The user a request stands for at `now`.
    pub async fn authenticate(
        &self,
        credentials: Credentials<'_>,
        now: SystemTime,
    ) -> Result<User, AuthnError> {
        let chain = credentials.client_certificates.filter(|c| !c.is_empty());
        if let (Some(chain), Some(verifier)) = (chain, &self.x509) {
            let subject = verifier.verify(chain, now)?;
            if subject.common_name.is_empty() {
                return Err(AuthnError::EmptyCommonName);
            }
            return Ok(authenticated(User {
                name: subject.common_name,
                groups: subject.organizations,
                ..User::default()
            }));
        }
        if let Some(token) = credentials.bearer {
            let audiences = self
                .service_accounts
                .as_ref()
                .map(|s| s.audiences.clone())
                .unwrap_or_default();
            return self
                .authenticate_token(token, &audiences, now)
                .await
                .map(authenticated);
        }
        if self.anonymous {
            return Ok(User::anonymous());
        }
        Err(AuthnError::NoCredentials)
    }

    /// A bearer token alone (also TokenReview's question), with `audiences` accepted for
    /// ServiceAccount tokens. The user is returned without `system:authenticated`.
    pub async fn authenticate_token(
        &self,
        token: &str,
        audiences: &[String],
        now: SystemTime,
    ) -> Result<User, AuthnError> {
        let token = token.trim();
        if let Some(user) = self.static_tokens.user(token) {
            return Ok(user.clone());
        }
        if self.bootstrap_tokens
            && let Some(result) = bootstrap::authenticate(token, &*self.objects, now).await
        {
            return result;
        }
        if let Some(sa) = &self.service_accounts
            && serviceaccount::looks_like_jwt(token)
        {
            return sa.authenticate(token, audiences, &*self.objects, now).await;
        }
        Err(AuthnError::Token("token is not known".into()))
    }
}

/// Kubernetes adds `system:authenticated` to every user who is not anonymous.
pub fn authenticated(mut user: User) -> User {
    if !user.in_group(names::SYSTEM_AUTHENTICATED) {
        user.groups.push(names::SYSTEM_AUTHENTICATED.to_string());
    }
    user
}

/// The token of an `authorization: Bearer <token>` header value; other schemes and an
/// empty token count as no token (Kubernetes' bearer token authenticator).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
