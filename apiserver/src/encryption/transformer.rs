//! Kubernetes' prefix transformer: a stored value says which provider key made it by its
//! prefix `k8s:enc:<provider>:v1:<key name>:`; the first configured key encrypts writes,
//! every configured key (and `identity`, which has no prefix) can read. A read by any but
//! the first is *stale*: the value should be rewritten with the current write key.

use std::collections::HashMap;
use std::sync::Arc;

use proto::KindInfo;

use super::Error;
use super::config::{EncryptionConfig, ProviderKey};
use super::providers::Cipher;

/// What every encrypted value starts with; `identity` refuses to read such a value.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Empty for `identity`.
    prefix: Vec<u8>,
    cipher: Option<Cipher>,
}

/// The providers of one resource, in configured order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformer {
    entries: Vec<Entry>,
}

/// A value read back, and whether it was written by anything but the current write key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain {
    pub value: Vec<u8>,
    pub stale: bool,
}

impl Transformer {
    pub fn new(keys: &[ProviderKey]) -> Transformer {
        let entries = keys
            .iter()
            .map(|k| match k {
                ProviderKey::Identity => Entry {
                    prefix: Vec::new(),
                    cipher: None,
                },
                ProviderKey::Key { name, cipher } => Entry {
                    prefix: format!("k8s:enc:{}:v1:{name}:", cipher.provider()).into_bytes(),
                    cipher: Some(cipher.clone()),
                },
            })
            .collect();
        Transformer { entries }
    }

    /// The prefix writes get (empty when `identity` is first).
    pub fn write_prefix(&self) -> &[u8] {
        self.entries.first().map_or(&[], |e| &e.prefix)
    }

    /// Encrypts `plain` for storage under `key` with the first provider.
    pub fn to_storage(&self, key: &str, plain: &[u8]) -> Result<Vec<u8>, Error> {
        let Some(first) = self.entries.first() else {
            return Ok(plain.to_vec());
        };
        let Some(cipher) = &first.cipher else {
            return Ok(plain.to_vec());
        };
        let sealed = cipher.seal(plain, key.as_bytes())?;
        let mut out = Vec::with_capacity(first.prefix.len() + sealed.len());
        out.extend_from_slice(&first.prefix);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a value stored under `key` with whichever configured key made it.
    pub fn from_storage(&self, key: &str, stored: &[u8]) -> Result<Plain, Error> {
        for (i, entry) in self.entries.iter().enumerate() {
            if !stored.starts_with(&entry.prefix) {
                continue;
            }
            let value = match &entry.cipher {
                // An encrypted value is never read as plain text: another provider may
                // still know its key.
                None if stored.starts_with(ENCRYPTED_PREFIX) => continue,
                None => stored.to_vec(),
                Some(cipher) => cipher.open(&stored[entry.prefix.len()..], key.as_bytes())?,
            };
            return Ok(Plain {
                value,
                stale: i != 0,
            });
        }
        if stored.starts_with(ENCRYPTED_PREFIX) {
            Err(Error::Decrypt(format!(
                "no configured provider can read data stored with prefix {:?}",
                String::from_utf8_lossy(stored_prefix(stored))
            )))
        } else {
            Err(Error::Decrypt(
                "the data is not encrypted and identity is not a configured provider".into(),
            ))
        }
    }

    /// True when the stored value was not written by the current write key, without
    /// decrypting it.
    pub fn is_stale(&self, stored: &[u8]) -> bool {
        let write = self.write_prefix();
        if write.is_empty() {
            stored.starts_with(ENCRYPTED_PREFIX)
        } else {
            !stored.starts_with(write)
        }
    }
}

/// `k8s:enc:<provider>:v1:<name>:` of a stored value, for messages (never key material).
pub fn stored_prefix(stored: &[u8]) -> &[u8] {
    let mut colons = 0;
    for (i, b) in stored.iter().enumerate().take(256) {
        if *b == b':' {
            colons += 1;
            if colons == 5 {
                return &stored[..=i];
            }
        }
    }
    &stored[..stored.len().min(ENCRYPTED_PREFIX.len())]
}

/// Which transformer each stored resource gets, resolved once from the configuration
/// against the kinds this apiserver serves.
#[derive(Debug, Default, Clone)]
pub struct Encryption {
    by_plural: HashMap<&'static str, Arc<Transformer>>,
}

impl Encryption {
    /// No resource encrypted: every value passes as it is.
    pub fn none() -> Encryption {
        Encryption::default()
    }

    /// The first rule that names a kind applies to it (Kubernetes' order of precedence).
    pub fn resolve(config: &EncryptionConfig, kinds: &[&'static KindInfo]) -> Encryption {
        let mut by_plural = HashMap::new();
        for rule in &config.rules {
            let transformer = Arc::new(Transformer::new(&rule.keys));
            for kind in kinds {
                if by_plural.contains_key(kind.plural) {
                    continue;
                }
                if rule
                    .resources
                    .iter()
                    .any(|gr| gr.matches(kind.group, kind.plural))
                {
                    by_plural.insert(kind.plural, transformer.clone());
                }
            }
        }
        Encryption { by_plural }
    }

    /// Configured resource names that match no kind here (a typo, or a kind not served).
    pub fn unmatched(config: &EncryptionConfig, kinds: &[&'static KindInfo]) -> Vec<String> {
        let mut out = Vec::new();
        for rule in &config.rules {
            for gr in &rule.resources {
                if !kinds.iter().any(|k| gr.matches(k.group, k.plural)) {
                    out.push(if gr.group.is_empty() {
                        gr.resource.clone()
                    } else {
                        format!("{}.{}", gr.resource, gr.group)
                    });
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.by_plural.is_empty()
    }

    /// Plurals of the resources that have a transformer, sorted.
    pub fn resources(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.by_plural.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// The transformer for a store key `/registry/<plural>/...`, if its resource has one.
    pub fn for_key(&self, key: &str) -> Option<&Transformer> {
        if self.by_plural.is_empty() {
            return None;
        }
        let plural = key.strip_prefix("/registry/")?.split('/').next()?;
        self.by_plural.get(plural).map(|t| &**t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::providers::Secret;
    use proto::resource::info;

    const KEY: &str = "/registry/secrets/default/s1";

    fn gcm(name: &str, seed: u8) -> ProviderKey {
        ProviderKey::Key {
            name: name.into(),
            cipher: Cipher::AesGcm(Secret::new(vec![seed; 32])),
        }
    }

    #[test]
    fn writes_carry_kubernetes_prefix_and_read_back() {
        let t = Transformer::new(&[gcm("key1", 1)]);
        let stored = t.to_storage(KEY, b"plain").unwrap();
        assert!(stored.starts_with(b"k8s:enc:aesgcm:v1:key1:"));
        assert_eq!(stored_prefix(&stored), b"k8s:enc:aesgcm:v1:key1:");
        let back = t.from_storage(KEY, &stored).unwrap();
        assert_eq!(
            back,
            Plain {
                value: b"plain".to_vec(),
                stale: false
            }
        );
        assert!(!t.is_stale(&stored));
    }

    #[test]
    fn rotation_reads_every_listed_key_and_marks_old_ones_stale() {
        let old = Transformer::new(&[gcm("old", 1)]);
        let stored_old = old.to_storage(KEY, b"v").unwrap();
        // Step 1: the new key second: writes still with the old key, both read.
        let step1 = Transformer::new(&[gcm("old", 1), gcm("new", 2)]);
        assert!(!step1.from_storage(KEY, &stored_old).unwrap().stale);
        // Step 2: the new key first: old values read, but stale.
        let step2 = Transformer::new(&[gcm("new", 2), gcm("old", 1)]);
        let read = step2.from_storage(KEY, &stored_old).unwrap();
        assert_eq!(
            read,
            Plain {
                value: b"v".to_vec(),
                stale: true
            }
        );
        assert!(step2.is_stale(&stored_old));
        let rewritten = step2.to_storage(KEY, &read.value).unwrap();
        assert!(rewritten.starts_with(b"k8s:enc:aesgcm:v1:new:"));
        // Step 4: the old key dropped: rewritten values read, old ones do not.
        let step4 = Transformer::new(&[gcm("new", 2)]);
        assert!(step4.from_storage(KEY, &rewritten).is_ok());
        let err = step4
            .from_storage(KEY, &stored_old)
            .unwrap_err()
            .to_string();
        assert!(err.contains("k8s:enc:aesgcm:v1:old:"), "{err}");
    }

    #[test]
    fn a_key_of_the_same_name_but_other_bytes_fails() {
        let a = Transformer::new(&[gcm("k", 1)]);
        let b = Transformer::new(&[gcm("k", 2)]);
        let stored = a.to_storage(KEY, b"v").unwrap();
        assert!(b.from_storage(KEY, &stored).is_err());
    }

    #[test]
    fn a_value_copied_to_another_key_fails() {
        let t = Transformer::new(&[gcm("k", 1)]);
        let stored = t.to_storage(KEY, b"v").unwrap();
        assert!(
            t.from_storage("/registry/secrets/default/s2", &stored)
                .is_err()
        );
    }

    #[test]
    fn identity_first_writes_plain_and_still_reads_encrypted() {
        let t = Transformer::new(&[ProviderKey::Identity, gcm("k", 1)]);
        assert_eq!(t.to_storage(KEY, b"plain").unwrap(), b"plain");
        assert!(!t.is_stale(b"plain"));
        let enc = Transformer::new(&[gcm("k", 1)])
            .to_storage(KEY, b"v")
            .unwrap();
        assert_eq!(
            t.from_storage(KEY, &enc).unwrap(),
            Plain {
                value: b"v".to_vec(),
                stale: true
            }
        );
        assert!(t.is_stale(&enc));
    }

    #[test]
    fn plain_values_need_identity_listed() {
        let with = Transformer::new(&[gcm("k", 1), ProviderKey::Identity]);
        assert_eq!(
            with.from_storage(KEY, b"old plain").unwrap(),
            Plain {
                value: b"old plain".to_vec(),
                stale: true
            }
        );
        assert!(with.is_stale(b"old plain"));
        let without = Transformer::new(&[gcm("k", 1)]);
        let err = without
            .from_storage(KEY, b"old plain")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("identity is not a configured provider"),
            "{err}"
        );
        // identity alone never returns ciphertext as if it were the value.
        let only_identity = Transformer::new(&[ProviderKey::Identity]);
        let enc = Transformer::new(&[gcm("k", 1)])
            .to_storage(KEY, b"v")
            .unwrap();
        assert!(only_identity.from_storage(KEY, &enc).is_err());
    }

    #[test]
    fn first_rule_naming_a_resource_applies() {
        let config = EncryptionConfig {
            rules: vec![
                crate::encryption::config::ResourceRule {
                    resources: vec![crate::encryption::config::GroupResource::parse("secrets")],
                    keys: vec![gcm("k", 1)],
                },
                crate::encryption::config::ResourceRule {
                    resources: vec![crate::encryption::config::GroupResource::parse("*.apps")],
                    keys: vec![gcm("apps", 2)],
                },
            ],
        };
        let kinds = proto::resource::ALL_KINDS;
        let e = Encryption::resolve(&config, kinds);
        assert!(e.for_key("/registry/secrets/ns/a").is_some());
        assert_eq!(
            e.for_key("/registry/deployments/ns/d")
                .unwrap()
                .write_prefix(),
            b"k8s:enc:aesgcm:v1:apps:"
        );
        assert!(e.for_key("/registry/configmaps/ns/c").is_none());
        assert!(e.for_key("/registry/secretsx/ns/c").is_none());
        assert!(e.for_key("/elsewhere").is_none());
        assert!(e.resources().contains(&info::Deployment.plural));
        assert!(Encryption::unmatched(&config, kinds).is_empty());
    }
}
