//! Kubernetes' bootstrap tokens (`kubeadm token create`): `<id>.<secret>`, 6 and 16
//! characters of `[a-z0-9]`, stored as a Secret `kube-system/bootstrap-token-<id>` of type
//! `bootstrap.kubernetes.io/token`. Pure: the caller supplies the clock and the Secret.

use crate::k8s::{ObjectMeta, Secret};
use std::time::{Duration, SystemTime};

pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
pub const NAMESPACE: &str = "kube-system";
pub const SECRET_PREFIX: &str = "bootstrap-token-";
pub const KEY_TOKEN_ID: &str = "token-id";
pub const KEY_TOKEN_SECRET: &str = "token-secret";
/// RFC 3339; absent: the token never expires.
pub const KEY_EXPIRATION: &str = "expiration";
pub const KEY_USAGE_AUTHENTICATION: &str = "usage-bootstrap-authentication";
pub const KEY_USAGE_SIGNING: &str = "usage-bootstrap-signing";
/// Comma-separated groups, each under `system:bootstrappers:`.
pub const KEY_AUTH_EXTRA_GROUPS: &str = "auth-extra-groups";
pub const KEY_DESCRIPTION: &str = "description";
/// Every bootstrap token user is in this group.
pub const GROUP: &str = "system:bootstrappers";
/// kubeadm's extra group for node join tokens.
pub const DEFAULT_NODE_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
/// The user a token authenticates as is this prefix and the token id.
pub const USER_PREFIX: &str = "system:bootstrap:";

const ID_LEN: usize = 6;
const SECRET_LEN: usize = 16;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapToken {
    pub id: String,
    pub secret: String,
}

// The secret half must not reach logs through `{:?}`.
impl std::fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapToken")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl std::fmt::Display for BootstrapToken {
    /// The full token, `id.secret`, as `kubelet --bootstrap-token` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.id, self.secret)
    }
}

impl BootstrapToken {
    /// `system:bootstrap:<id>`.
    pub fn user_name(&self) -> String {
        format!("{USER_PREFIX}{}", self.id)
    }
}

fn valid_part(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Parses `[a-z0-9]{6}.[a-z0-9]{16}`; the error never quotes the secret.
pub fn parse(token: &str) -> Result<BootstrapToken, String> {
    let bad =
        || "the bootstrap token does not match the format [a-z0-9]{6}.[a-z0-9]{16}".to_string();
    let (id, secret) = token.split_once('.').ok_or_else(bad)?;
    if !valid_part(id, ID_LEN) || !valid_part(secret, SECRET_LEN) {
        return Err(bad());
    }
    Ok(BootstrapToken {
        id: id.to_string(),
        secret: secret.to_string(),
    })
}

/// Whether `s` has the shape of a bootstrap token (an authenticator's cheap first test).
pub fn looks_like(s: &str) -> bool {
    parse(s).is_ok()
}

fn random_string(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A fresh random token.
pub fn generate() -> BootstrapToken {
    BootstrapToken {
        id: random_string(ID_LEN),
        secret: random_string(SECRET_LEN),
    }
}

/// `bootstrap-token-<id>`.
pub fn secret_name(id: &str) -> String {
    format!("{SECRET_PREFIX}{id}")
}

/// The Secret `kubeadm token create` writes: authentication and signing usages, the
/// default node group as extra group, `expiration = now + ttl` when a ttl is given.
pub fn secret_for(
    token: &BootstrapToken,
    ttl: Option<Duration>,
    now: SystemTime,
    description: &str,
) -> Secret {
    let mut data = std::collections::BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        data.insert(k.to_string(), v.as_bytes().to_vec());
    };
    put(KEY_TOKEN_ID, &token.id);
    put(KEY_TOKEN_SECRET, &token.secret);
    put(KEY_USAGE_AUTHENTICATION, "true");
    put(KEY_USAGE_SIGNING, "true");
    put(KEY_AUTH_EXTRA_GROUPS, DEFAULT_NODE_GROUP);
    if let Some(ttl) = ttl {
        put(KEY_EXPIRATION, &crate::time::format_rfc3339(now + ttl));
    }
    if !description.is_empty() {
        put(KEY_DESCRIPTION, description);
    }
    Secret {
        metadata: Some(ObjectMeta {
            name: secret_name(&token.id),
            namespace: NAMESPACE.to_string(),
            ..Default::default()
        }),
        data,
        r#type: SECRET_TYPE.to_string(),
        ..Default::default()
    }
}

fn data_str<'a>(secret: &'a Secret, key: &str) -> Option<&'a str> {
    secret
        .data
        .get(key)
        .and_then(|v| std::str::from_utf8(v).ok())
        .or_else(|| secret.string_data.get(key).map(String::as_str))
}

/// The expiration a token Secret carries: `Ok(None)` without one, `Err` when unparsable.
pub fn expiration(secret: &Secret) -> Result<Option<SystemTime>, String> {
    match data_str(secret, KEY_EXPIRATION) {
        None => Ok(None),
        Some(s) => crate::time::parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| format!("bootstrap token has an invalid expiration {s:?}")),
    }
}

/// Whether a token Secret's expiration has passed (an unparsable one counts as expired,
/// as Kubernetes' tokencleaner treats it).
pub fn is_expired(secret: &Secret, now: SystemTime) -> bool {
    match expiration(secret) {
        Ok(Some(t)) => t <= now,
        Ok(None) => false,
        Err(_) => true,
    }
}

// Compares without an early exit, so the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Authenticates `token` against its Secret (Kubernetes' bootstrap authenticator): the
/// type, id, secret (constant time), expiration and the authentication usage. Returns the
/// groups: `system:bootstrappers` and the Secret's extra groups. The reason of a refusal
/// is fit for `Unauthorized: invalid bearer token: <reason>`.
pub fn check(
    secret: &Secret,
    token: &BootstrapToken,
    now: SystemTime,
) -> Result<Vec<String>, String> {
    if secret.r#type != SECRET_TYPE {
        return Err(format!(
            "bootstrap token secret is not of type {SECRET_TYPE}"
        ));
    }
    if is_deleting(secret) {
        return Err("bootstrap token secret is being deleted".to_string());
    }
    if data_str(secret, KEY_TOKEN_ID) != Some(token.id.as_str()) {
        return Err("bootstrap token id does not match its secret".to_string());
    }
    let stored = data_str(secret, KEY_TOKEN_SECRET).unwrap_or_default();
    if !constant_time_eq(stored.as_bytes(), token.secret.as_bytes()) {
        return Err("bootstrap token secret does not match".to_string());
    }
    if is_expired(secret, now) {
        return Err("bootstrap token has expired".to_string());
    }
    if data_str(secret, KEY_USAGE_AUTHENTICATION) != Some("true") {
        return Err("bootstrap token is not usable for authentication".to_string());
    }
    let mut groups = vec![GROUP.to_string()];
    for g in data_str(secret, KEY_AUTH_EXTRA_GROUPS)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        // Kubernetes refuses extra groups outside system:bootstrappers:.
        if !g.starts_with("system:bootstrappers:") {
            return Err(format!(
                "bootstrap token extra group {g:?} is not under system:bootstrappers:"
            ));
        }
        if !groups.iter().any(|x| x == g) {
            groups.push(g.to_string());
        }
    }
    Ok(groups)
}

fn is_deleting(secret: &Secret) -> bool {
    secret
        .metadata
        .as_ref()
        .is_some_and(|m| !m.deletion_timestamp.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> BootstrapToken {
        parse("abcdef.0123456789abcdef").unwrap()
    }

    #[test]
    fn parse_accepts_only_the_kubeadm_format() {
        let t = token();
        assert_eq!(t.id, "abcdef");
        assert_eq!(t.to_string(), "abcdef.0123456789abcdef");
        assert_eq!(t.user_name(), "system:bootstrap:abcdef");
        for bad in [
            "",
            "abcdef",
            "abcdef.0123456789abcde",
            "abcdeF.0123456789abcdef",
            "abcdefg.0123456789abcdef",
            "abcdef:0123456789abcdef",
            "abc-ef.0123456789abcdef",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(!err.contains("0123456789"), "{err}");
        }
        assert!(!format!("{t:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(parse(&a.to_string()).unwrap(), a);
        assert_ne!(a, b);
    }

    #[test]
    fn secret_for_then_check() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let t = token();
        let s = secret_for(&t, Some(Duration::from_secs(3600)), now, "join");
        assert_eq!(s.metadata.as_ref().unwrap().name, "bootstrap-token-abcdef");
        assert_eq!(s.metadata.as_ref().unwrap().namespace, "kube-system");
        assert_eq!(s.r#type, SECRET_TYPE);
        assert_eq!(s.data[KEY_DESCRIPTION], b"join");
        assert_eq!(
            check(&s, &t, now).unwrap(),
            vec![GROUP.to_string(), DEFAULT_NODE_GROUP.to_string()]
        );
        assert_eq!(
            check(&s, &t, now + Duration::from_secs(3600)).unwrap_err(),
            "bootstrap token has expired"
        );
        assert!(is_expired(&s, now + Duration::from_secs(3601)));
        assert!(!is_expired(&s, now));

        let wrong = parse("abcdef.0123456789abcdee").unwrap();
        assert_eq!(
            check(&s, &wrong, now).unwrap_err(),
            "bootstrap token secret does not match"
        );

        let mut no_auth = s.clone();
        no_auth.data.remove(KEY_USAGE_AUTHENTICATION);
        assert!(check(&no_auth, &t, now).is_err());

        let mut other_type = s.clone();
        other_type.r#type = "Opaque".into();
        assert!(check(&other_type, &t, now).is_err());

        let forever = secret_for(&t, None, now, "");
        assert!(!forever.data.contains_key(KEY_EXPIRATION));
        assert!(check(&forever, &t, now + Duration::from_secs(1 << 30)).is_ok());

        let mut bad_group = s.clone();
        bad_group
            .data
            .insert(KEY_AUTH_EXTRA_GROUPS.into(), b"system:masters".to_vec());
        assert!(check(&bad_group, &t, now).is_err());
    }
}
