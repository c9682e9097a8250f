//! ServiceAccount tokens: JWTs (`header.payload.signature`, base64url without padding)
//! signed with Ed25519 (JWS `alg: EdDSA`), carrying Kubernetes' legacy token claims.
//! The controller-manager signs with the private key; the apiserver verifies with the
//! public key only, as Kubernetes' `--service-account-private-key-file` /
//! `--service-account-key-file` pair. No I/O here: callers read the key files.
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
    let header = Header {
        alg: "EdDSA".into(),
        kid: key_id(&key.verifying_key()),
        typ: "JWT".into(),
    };
    // Serializing plain strings cannot fail.
    let h = serde_json::to_vec(&header).unwrap_or_default();
    let c = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h),
        URL_SAFE_NO_PAD.encode(c)
    );
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// Checks the signature against any of `keys` (several allow key rotation) and returns
/// the claims. Refuses any algorithm but EdDSA (no `none`).
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Claims, TokenError> {
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
    let claim_bytes = URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| TokenError::Encoding("payload"))?;
    let claims: Claims =
        serde_json::from_slice(&claim_bytes).map_err(|e| TokenError::Claims(e.to_string()))?;
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
