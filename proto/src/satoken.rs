//! ServiceAccount tokens: JWTs (`header.payload.signature`, base64url without padding)
//! signed with Ed25519 (JWS `alg: EdDSA`), carrying Kubernetes' legacy token claims.
//! The controller-manager signs with the private key; the apiserver verifies with the
//! public key only, as Kubernetes' `--service-account-private-key-file` /
//! `--service-account-key-file` pair. No I/O here: callers read the key files.
//!
//! Two kinds, as Kubernetes: legacy tokens ([`Claims`], stored in a Secret, no expiry) and
//! bound tokens ([`BoundClaims`], from the TokenRequest API: issuer, audiences, expiry, and
//! the pod or Secret they are bound to under the `kubernetes.io` claim). [`verify_any`]
//! tells them apart by that claim.
//!
//! Key files hold the 32-byte Ed25519 seed (private) or public key, base64 (standard
//! alphabet) on one line; see [`encode_key`] / [`decode_key`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

pub use ed25519_dalek::{SigningKey as PrivateKey, VerifyingKey as PublicKey};

/// Kubernetes' issuer for legacy (Secret-based) tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
/// The Secret type holding a token.
pub const SECRET_TYPE: &str = "kubernetes.io/service-account-token";
/// Annotations on that Secret naming the account it belongs to.
pub const ANNOTATION_SA_NAME: &str = "kubernetes.io/service-account.name";
pub const ANNOTATION_SA_UID: &str = "kubernetes.io/service-account.uid";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// `system:serviceaccount:NAMESPACE:NAME`
    pub sub: String,
    #[serde(rename = "kubernetes.io/serviceaccount/namespace")]
    pub namespace: String,
    #[serde(rename = "kubernetes.io/serviceaccount/secret.name", default)]
    pub secret_name: String,
    #[serde(rename = "kubernetes.io/serviceaccount/service-account.name")]
    pub service_account_name: String,
    #[serde(rename = "kubernetes.io/serviceaccount/service-account.uid")]
    pub service_account_uid: String,
}

impl Claims {
    /// The claims of a legacy token for the account `namespace/name` with `uid`, stored in
    /// the Secret `secret_name`.
    pub fn legacy(namespace: &str, name: &str, uid: &str, secret_name: &str) -> Claims {
        Claims {
            iss: LEGACY_ISSUER.to_string(),
            sub: format!("system:serviceaccount:{namespace}:{name}"),
            namespace: namespace.to_string(),
            secret_name: secret_name.to_string(),
            service_account_name: name.to_string(),
            service_account_uid: uid.to_string(),
        }
    }
}

/// The claim that holds what a bound token is bound to (and marks it as bound).
pub const BOUND_CLAIM: &str = "kubernetes.io";

/// How far a bound token's `exp` and `nbf` may be off (go-jose's default leeway, which
/// Kubernetes' validator uses): clocks of the signer and verifier differ a little.
pub const LEEWAY_SECONDS: i64 = 60;

/// A name and uid: the ServiceAccount, pod or Secret a bound token names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub name: String,
    pub uid: String,
}

/// The private `kubernetes.io` claim of a bound token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundObjects {
    pub namespace: String,
    pub serviceaccount: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectRef>,
}

/// Claims of a bound token (Kubernetes' TokenRequest): times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundClaims {
    pub iss: String,
    /// `system:serviceaccount:NAMESPACE:NAME`
    pub sub: String,
    /// JWT allows one string or an array; written as an array, read as either.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: BoundObjects,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl BoundClaims {
    /// The claims of a token for the account `namespace/name` (`uid`), valid from `now`
    /// (Unix seconds) for `lifetime_seconds`.
    pub fn new(
        issuer: &str,
        audiences: &[String],
        namespace: &str,
        name: &str,
        uid: &str,
        now: i64,
        lifetime_seconds: i64,
    ) -> BoundClaims {
        BoundClaims {
            iss: issuer.to_string(),
            sub: format!("system:serviceaccount:{namespace}:{name}"),
            aud: audiences.to_vec(),
            exp: now.saturating_add(lifetime_seconds),
            iat: now,
            nbf: now,
            kubernetes: BoundObjects {
                namespace: namespace.to_string(),
                serviceaccount: ObjectRef {
                    name: name.to_string(),
                    uid: uid.to_string(),
                },
                pod: None,
                secret: None,
            },
        }
    }

    pub fn bound_to_pod(mut self, name: &str, uid: &str) -> BoundClaims {
        self.kubernetes.pod = Some(ObjectRef {
            name: name.to_string(),
            uid: uid.to_string(),
        });
        self
    }

    pub fn bound_to_secret(mut self, name: &str, uid: &str) -> BoundClaims {
        self.kubernetes.secret = Some(ObjectRef {
            name: name.to_string(),
            uid: uid.to_string(),
        });
        self
    }

    fn check_subject(&self) -> Result<(), TokenError> {
        let k = &self.kubernetes;
        let expected = format!(
            "system:serviceaccount:{}:{}",
            k.namespace, k.serviceaccount.name
        );
        if k.namespace.is_empty() || k.serviceaccount.name.is_empty() || self.sub != expected {
            return Err(TokenError::Claims(format!(
                "sub {:?} does not name the account {expected:?}",
                self.sub
            )));
        }
        Ok(())
    }

    /// Kubernetes' checks of a verified bound token at `now` (Unix seconds): the issuer is
    /// one of `issuers`, one audience is among `audiences`, and `now` lies within
    /// `nbf..exp` (with [`LEEWAY_SECONDS`]). Expiry is checked first, as Kubernetes.
    pub fn validate(
        &self,
        now: i64,
        issuers: &[String],
        audiences: &[String],
    ) -> Result<(), TokenError> {
        if now > self.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenError::Expired);
        }
        if now < self.nbf.saturating_sub(LEEWAY_SECONDS) {
            return Err(TokenError::NotYetValid);
        }
        if !issuers.contains(&self.iss) {
            return Err(TokenError::Issuer);
        }
        if !self.aud.iter().any(|a| audiences.contains(a)) {
            return Err(TokenError::Audience);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is not of the form header.payload.signature")]
    Malformed,
    #[error("token {0} is not base64url")]
    Encoding(&'static str),
    #[error("token header is not an EdDSA JWT")]
    Algorithm,
    #[error("token signature does not verify")]
    Signature,
    #[error("token claims are invalid: {0}")]
    Claims(String),
    #[error("key is not a base64 32-byte Ed25519 key")]
    Key,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token issuer is not accepted")]
    Issuer,
    #[error("token audience is not accepted")]
    Audience,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    typ: String,
}

/// A key id for the JWT header: the first 16 bytes of the public key, base64url.
pub fn key_id(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(&key.as_bytes()[..16])
}

/// Signs `claims` into a compact JWS.
pub fn sign(claims: &Claims, key: &SigningKey) -> String {
    // Serializing plain strings cannot fail.
    sign_payload(&serde_json::to_vec(claims).unwrap_or_default(), key)
}

/// Signs bound-token `claims` into a compact JWS.
pub fn sign_bound(claims: &BoundClaims, key: &SigningKey) -> String {
    // Serializing strings and integers cannot fail.
    sign_payload(&serde_json::to_vec(claims).unwrap_or_default(), key)
}

fn sign_payload(c: &[u8], key: &SigningKey) -> String {
    let header = Header {
        alg: "EdDSA".into(),
        kid: key_id(&key.verifying_key()),
        typ: "JWT".into(),
    };
    let h = serde_json::to_vec(&header).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h),
        URL_SAFE_NO_PAD.encode(c)
    );
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// Checks the signature against any of `keys` (several allow key rotation) and returns
/// the claims of a legacy token. Refuses any algorithm but EdDSA (no `none`).
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Claims, TokenError> {
    let claim_bytes = verify_signature(token, keys)?;
    legacy_claims(&claim_bytes)
}

/// A verified token of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Legacy(Claims),
    Bound(BoundClaims),
}

/// Checks the signature against any of `keys` and returns the claims of whichever kind the
/// token is (bound tokens carry the `kubernetes.io` claim). Time, issuer and audience of a
/// bound token are checked by [`BoundClaims::validate`], with the caller's clock.
pub fn verify_any(token: &str, keys: &[VerifyingKey]) -> Result<Token, TokenError> {
    let claim_bytes = verify_signature(token, keys)?;
    let value: serde_json::Value =
        serde_json::from_slice(&claim_bytes).map_err(|e| TokenError::Claims(e.to_string()))?;
    if value.get(BOUND_CLAIM).is_some() {
        let claims: BoundClaims =
            serde_json::from_value(value).map_err(|e| TokenError::Claims(e.to_string()))?;
        claims.check_subject()?;
        Ok(Token::Bound(claims))
    } else {
        legacy_claims(&claim_bytes).map(Token::Legacy)
    }
}

/// The payload of `token` once its signature verifies with one of `keys`.
fn verify_signature(token: &str, keys: &[VerifyingKey]) -> Result<Vec<u8>, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header_bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| TokenError::Encoding("header"))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| TokenError::Algorithm)?;
    if header.alg != "EdDSA" {
        return Err(TokenError::Algorithm);
    }
    let sig_bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Encoding("signature"))?;
    let sig = Signature::from_slice(&sig_bytes).map_err(|_| TokenError::Signature)?;
    let signing_input = &token.trim()[..h.len() + 1 + c.len()];
    if !keys
        .iter()
        .any(|k| k.verify(signing_input.as_bytes(), &sig).is_ok())
    {
        return Err(TokenError::Signature);
    }
    URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| TokenError::Encoding("payload"))
}

fn legacy_claims(claim_bytes: &[u8]) -> Result<Claims, TokenError> {
    let claims: Claims =
        serde_json::from_slice(claim_bytes).map_err(|e| TokenError::Claims(e.to_string()))?;
    let expected_sub = format!(
        "system:serviceaccount:{}:{}",
        claims.namespace, claims.service_account_name
    );
    if claims.sub != expected_sub {
        return Err(TokenError::Claims(format!(
            "sub {:?} does not name the account {expected_sub:?}",
            claims.sub
        )));
    }
    Ok(claims)
}

/// A private key from its 32-byte seed (from a CSPRNG: the caller draws it).
pub fn private_key_from_seed(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

/// The key file form: base64 of the 32 bytes and a newline.
pub fn encode_key(bytes: &[u8; 32]) -> String {
    format!("{}\n", STANDARD.encode(bytes))
}

/// Reads a key file's content (see [`encode_key`]).
pub fn decode_key(text: &str) -> Result<[u8; 32], TokenError> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| TokenError::Key)?;
    bytes.try_into().map_err(|_| TokenError::Key)
}

pub fn decode_private_key(text: &str) -> Result<SigningKey, TokenError> {
    Ok(SigningKey::from_bytes(&decode_key(text)?))
}

pub fn decode_public_key(text: &str) -> Result<VerifyingKey, TokenError> {
    VerifyingKey::from_bytes(&decode_key(text)?).map_err(|_| TokenError::Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        private_key_from_seed([n; 32])
    }

    #[test]
    fn signed_token_verifies_and_round_trips_claims() {
        let k = key(7);
        let claims = Claims::legacy("team-a", "default", "uid-1", "default-token-abcde");
        let token = sign(&claims, &k);
        assert_eq!(token.split('.').count(), 3);
        assert!(!token.contains('='), "base64url without padding");
        let got = verify(&token, &[k.verifying_key()]).unwrap();
        assert_eq!(got, claims);
        assert_eq!(got.sub, "system:serviceaccount:team-a:default");
        // The payload uses Kubernetes' claim names.
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(v["kubernetes.io/serviceaccount/namespace"], "team-a");
        assert_eq!(
            v["kubernetes.io/serviceaccount/service-account.uid"],
            "uid-1"
        );
        assert_eq!(v["iss"], LEGACY_ISSUER);
    }

    #[test]
    fn wrong_key_tampering_and_bad_forms_are_refused() {
        let k = key(1);
        let token = sign(&Claims::legacy("a", "b", "u", "s"), &k);
        assert_eq!(
            verify(&token, &[key(2).verifying_key()]),
            Err(TokenError::Signature)
        );
        // Rotation: any listed key verifies.
        assert!(verify(&token, &[key(2).verifying_key(), k.verifying_key()]).is_ok());
        // A changed payload breaks the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = Claims::legacy("kube-system", "admin", "u", "s");
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            verify(&tampered, &[k.verifying_key()]),
            Err(TokenError::Signature)
        );
        // alg none is refused whatever the signature.
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let none = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            verify(&none, &[k.verifying_key()]),
            Err(TokenError::Algorithm)
        );
        assert_eq!(
            verify("a.b", &[k.verifying_key()]),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify("a.b.c.d", &[k.verifying_key()]),
            Err(TokenError::Malformed)
        );
        assert_eq!(verify(&token, &[]), Err(TokenError::Signature));
    }

    fn bound(now: i64) -> BoundClaims {
        BoundClaims::new(
            "https://kubernetes.default.svc.cluster.local",
            &["api".to_string()],
            "team-a",
            "builder",
            "sa-uid",
            now,
            3600,
        )
        .bound_to_pod("web-0", "pod-uid")
    }

    #[test]
    fn bound_tokens_round_trip_with_kubernetes_claim_names() {
        let k = key(11);
        let claims = bound(1_000_000);
        let token = sign_bound(&claims, &k);
        assert_eq!(
            verify_any(&token, &[k.verifying_key()]),
            Ok(Token::Bound(claims.clone()))
        );
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(v["aud"], serde_json::json!(["api"]));
        assert_eq!(v["exp"], 1_003_600);
        assert_eq!(v["kubernetes.io"]["namespace"], "team-a");
        assert_eq!(v["kubernetes.io"]["serviceaccount"]["uid"], "sa-uid");
        assert_eq!(v["kubernetes.io"]["pod"]["name"], "web-0");
        assert!(v["kubernetes.io"].get("secret").is_none());
        // A legacy token still comes back as legacy; a bound one is not a legacy one.
        let legacy = sign(&Claims::legacy("a", "b", "u", "s"), &k);
        assert!(matches!(
            verify_any(&legacy, &[k.verifying_key()]),
            Ok(Token::Legacy(_))
        ));
        assert!(verify(&token, &[k.verifying_key()]).is_err());
        assert_eq!(
            verify_any(&token, &[key(12).verifying_key()]),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn bound_token_single_string_audience_is_read() {
        let mut v = serde_json::to_value(bound(5)).unwrap();
        v["aud"] = serde_json::json!("api");
        let c: BoundClaims = serde_json::from_value(v).unwrap();
        assert_eq!(c.aud, vec!["api".to_string()]);
    }

    #[test]
    fn bound_token_subject_must_name_the_account() {
        let k = key(13);
        let mut c = bound(5);
        c.sub = "system:serviceaccount:kube-system:admin".into();
        assert!(matches!(
            verify_any(&sign_bound(&c, &k), &[k.verifying_key()]),
            Err(TokenError::Claims(_))
        ));
    }

    #[test]
    fn bound_token_time_issuer_and_audience() {
        let c = bound(1000);
        let iss = vec!["https://kubernetes.default.svc.cluster.local".to_string()];
        let aud = vec!["other".to_string(), "api".to_string()];
        assert_eq!(c.validate(1000, &iss, &aud), Ok(()));
        assert_eq!(c.validate(4600 + LEEWAY_SECONDS, &iss, &aud), Ok(()));
        assert_eq!(
            c.validate(4601 + LEEWAY_SECONDS, &iss, &aud),
            Err(TokenError::Expired)
        );
        assert_eq!(
            c.validate(999 - LEEWAY_SECONDS, &iss, &aud),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            c.validate(1000, &["https://elsewhere".to_string()], &aud),
            Err(TokenError::Issuer)
        );
        assert_eq!(
            c.validate(1000, &iss, &["other".to_string()]),
            Err(TokenError::Audience)
        );
        assert_eq!(TokenError::Expired.to_string(), "token has expired");
        assert_eq!(
            TokenError::Audience.to_string(),
            "token audience is not accepted"
        );
    }

    #[test]
    fn key_files_round_trip() {
        let k = key(9);
        let text = encode_key(&k.to_bytes());
        assert_eq!(decode_private_key(&text).unwrap().to_bytes(), k.to_bytes());
        let pub_text = encode_key(k.verifying_key().as_bytes());
        assert_eq!(decode_public_key(&pub_text).unwrap(), k.verifying_key());
        assert_eq!(decode_key("not base64!").unwrap_err(), TokenError::Key);
        assert_eq!(decode_key("AAAA").unwrap_err(), TokenError::Key);
    }
}
