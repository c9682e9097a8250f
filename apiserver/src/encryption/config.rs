//! Reads Kubernetes' EncryptionConfiguration (`apiserver.config.k8s.io/v1`) and checks it as
//! Kubernetes' validation does, with its messages (`resources[0].providers[1].aescbc.keys[0]
//! .secret: Invalid value: "REDACTED": secrets must be base64 encoded`). Pure: bytes in,
//! checked configuration out; reading the file is the caller's.

use base64::Engine;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Error;
use super::providers::{AES_KEY_SIZES, Cipher, SECRETBOX_KEY_SIZES, Secret};

pub const API_VERSION: &str = "apiserver.config.k8s.io/v1";
pub const KIND: &str = "EncryptionConfiguration";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileV1 {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    resources: Vec<ResourceConfigurationV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceConfigurationV1 {
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    providers: Vec<ProviderConfigurationV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderConfigurationV1 {
    aescbc: Option<KeysV1>,
    aesgcm: Option<KeysV1>,
    secretbox: Option<KeysV1>,
    identity: Option<IgnoredAny>,
    kms: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysV1 {
    #[serde(default)]
    keys: Vec<KeyV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyV1 {
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: String,
}

/// A group and resource as the configuration names them: `secrets` (core group),
/// `deployments.apps`, `*.` (every core resource), `*.apps`, `*.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    /// Kubernetes' ParseGroupResource: the resource is up to the first '.'.
    pub fn parse(s: &str) -> GroupResource {
        match s.split_once('.') {
            Some((resource, group)) => GroupResource {
                group: group.to_string(),
                resource: resource.to_string(),
            },
            None => GroupResource {
                group: String::new(),
                resource: s.to_string(),
            },
        }
    }

    pub fn matches(&self, group: &str, plural: &str) -> bool {
        (self.group == "*" || self.group == group)
            && (self.resource == "*" || self.resource == plural)
    }

    fn is_any(&self) -> bool {
        self.group == "*" && self.resource == "*"
    }
}

/// One provider key, or `identity`, in the order the configuration lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKey {
    Identity,
    Key { name: String, cipher: Cipher },
}

/// One `resources` entry: what it covers and its providers, flattened to keys in order
/// (the first one encrypts writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRule {
    pub resources: Vec<GroupResource>,
    pub keys: Vec<ProviderKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionConfig {
    /// In file order: the first rule naming a resource is the one that applies.
    pub rules: Vec<ResourceRule>,
}

/// Parses and validates; the error names the first problem found (one line).
pub fn parse(text: &str) -> Result<EncryptionConfig, Error> {
    let file: FileV1 =
        serde_saphyr::from_str(text).map_err(|e| Error::Config(one_line(&e.to_string())))?;
    if file.api_version != API_VERSION || file.kind != KIND {
        return Err(Error::Config(format!(
            "apiVersion {:?} and kind {:?}: expected apiVersion {API_VERSION} and kind {KIND}",
            file.api_version, file.kind
        )));
    }
    if file.resources.is_empty() {
        return Err(required("resources", "at least one resources is required"));
    }
    let mut rules = Vec::with_capacity(file.resources.len());
    for (i, entry) in file.resources.iter().enumerate() {
        let r = format!("resources[{i}].resources");
        let p = format!("resources[{i}].providers");
        if entry.resources.is_empty() {
            return Err(required(&r, &format!("at least one {r} is required")));
        }
        let resources = validate_resources(&entry.resources, &r)?;
        if entry.providers.is_empty() {
            return Err(required(&p, &format!("at least one {p} is required")));
        }
        let mut keys = Vec::new();
        for (j, provider) in entry.providers.iter().enumerate() {
            keys.extend(provider_keys(provider, &format!("{p}[{j}]"))?);
        }
        rules.push(ResourceRule { resources, keys });
    }
    Ok(EncryptionConfig { rules })
}

/// serde's messages can span lines (a snippet of the file); the apiserver's refusal is one.
fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn required(field: &str, detail: &str) -> Error {
    Error::Config(format!("{field}: Required value: {detail}"))
}

fn invalid(field: &str, value: &str, detail: &str) -> Error {
    Error::Config(format!("{field}: Invalid value: {value:?}: {detail}"))
}

fn validate_resources(names: &[String], field: &str) -> Result<Vec<GroupResource>, Error> {
    let mut out: Vec<GroupResource> = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        let at = format!("{field}[{j}]");
        if name.to_lowercase() != *name {
            return Err(invalid(
                &at,
                name,
                "resource name should not contain capital letters",
            ));
        }
        if name == "*" {
            return Err(invalid(
                &at,
                name,
                "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources",
            ));
        }
        let gr = GroupResource::parse(name);
        if gr.group == "*" && gr.resource != "*" {
            return Err(invalid(
                &at,
                name,
                "encrypting the same resource across groups is not supported",
            ));
        }
        out.push(gr);
    }
    // Kubernetes refuses duplicates and entries one of which masks another.
    for (i, a) in out.iter().enumerate() {
        for (j, b) in out.iter().enumerate() {
            if i == j {
                continue;
            }
            let detail = if a == b {
                "the same resource cannot be specified multiple times"
            } else if a.is_any() || (a.group == b.group && (a.resource == "*" || b.resource == "*"))
            {
                "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"
            } else {
                continue;
            };
            return Err(invalid(field, &names.join(","), detail));
        }
    }
    Ok(out)
}

fn provider_keys(p: &ProviderConfigurationV1, field: &str) -> Result<Vec<ProviderKey>, Error> {
    let found = [
        p.aescbc.is_some(),
        p.aesgcm.is_some(),
        p.secretbox.is_some(),
        p.identity.is_some(),
        p.kms.is_some(),
    ]
    .iter()
    .filter(|f| **f)
    .count();
    if found == 0 {
        return Err(Error::Config(format!(
            "{field}: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"
        )));
    }
    if found > 1 {
        return Err(Error::Config(format!(
            "{field}: Invalid value: more than one provider specified in a single element, should split into different list elements"
        )));
    }
    if p.kms.is_some() {
        return Err(Error::Config(format!(
            "{field}.kms: Unsupported value: KMS providers are not supported by this apiserver; use aescbc, aesgcm, secretbox or identity"
        )));
    }
    if p.identity.is_some() {
        return Ok(vec![ProviderKey::Identity]);
    }
    type Kind<'a> = (
        &'static str,
        &'a KeysV1,
        &'static [usize],
        fn(Secret) -> Cipher,
    );
    let (name, keys, sizes, make): Kind<'_> = if let Some(k) = &p.aescbc {
        ("aescbc", k, AES_KEY_SIZES, Cipher::AesCbc)
    } else if let Some(k) = &p.aesgcm {
        ("aesgcm", k, AES_KEY_SIZES, Cipher::AesGcm)
    } else if let Some(k) = &p.secretbox {
        ("secretbox", k, SECRETBOX_KEY_SIZES, Cipher::Secretbox)
    } else {
        return Err(Error::Config(format!(
            "{field}: Invalid value: no provider"
        )));
    };
    let field = format!("{field}.{name}.keys");
    if keys.keys.is_empty() {
        return Err(required(&field, "at least one keys is required"));
    }
    let mut out = Vec::with_capacity(keys.keys.len());
    for (k, key) in keys.keys.iter().enumerate() {
        let at = format!("{field}[{k}]");
        if key.name.is_empty() {
            return Err(required(
                &format!("{at}.name"),
                "name is a mandatory field for a key",
            ));
        }
        // The name is part of the stored prefix, which ends at the next ':'.
        if key.name.contains(':') {
            return Err(invalid(
                &format!("{at}.name"),
                &key.name,
                "key name must not contain ':'",
            ));
        }
        if keys.keys[..k].iter().any(|o| o.name == key.name) {
            return Err(invalid(
                &format!("{at}.name"),
                &key.name,
                "key names must be unique within a provider",
            ));
        }
        if key.secret.is_empty() {
            return Err(required(
                &format!("{at}.secret"),
                "secret is a mandatory field for a key",
            ));
        }
        let secret = base64::engine::general_purpose::STANDARD
            .decode(key.secret.trim())
            .map_err(|_| {
                invalid(
                    &format!("{at}.secret"),
                    "REDACTED",
                    "secrets must be base64 encoded",
                )
            })?;
        if !sizes.contains(&secret.len()) {
            return Err(invalid(
                &format!("{at}.secret"),
                "REDACTED",
                &format!(
                    "secret is not of the expected length, got {}, expected one of {sizes:?}",
                    secret.len()
                ),
            ));
        }
        out.push(ProviderKey::Key {
            name: key.name.clone(),
            cipher: make(Secret::new(secret)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 bytes, base64.
    const K32: &str = "c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Pz8/Pz8=";

    fn file(resources: &str, providers: &str) -> String {
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: {resources}\n    providers:\n{providers}"
        )
    }

    fn err(text: &str) -> String {
        let e = parse(text).unwrap_err().to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        e
    }

    #[test]
    fn reads_kubernetes_example() {
        let text = format!(
            r#"
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
      - configmaps
      - deployments.apps
    providers:
      - aesgcm:
          keys:
            - name: key2
              secret: {K32}
            - name: key1
              secret: "MTIzNDU2Nzg5MDEyMzQ1Ng=="
      - aescbc:
          keys:
            - name: old
              secret: {K32}
      - secretbox:
          keys:
            - name: box
              secret: {K32}
      - identity: {{}}
  - resources: ["*.*"]
    providers:
      - identity: {{}}
"#
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.rules.len(), 2);
        let r = &c.rules[0];
        assert_eq!(r.resources[2], GroupResource::parse("deployments.apps"));
        assert_eq!(r.resources[2].group, "apps");
        let names: Vec<String> = r
            .keys
            .iter()
            .map(|k| match k {
                ProviderKey::Identity => "identity".to_string(),
                ProviderKey::Key { name, cipher } => format!("{}:{name}", cipher.provider()),
            })
            .collect();
        assert_eq!(
            names,
            [
                "aesgcm:key2",
                "aesgcm:key1",
                "aescbc:old",
                "secretbox:box",
                "identity"
            ]
        );
        assert!(c.rules[1].resources[0].matches("apps", "deployments"));
        assert!(c.rules[1].resources[0].matches("", "secrets"));
    }

    #[test]
    fn group_resource_patterns() {
        let core_all = GroupResource::parse("*.");
        assert!(core_all.matches("", "secrets") && !core_all.matches("apps", "deployments"));
        let apps = GroupResource::parse("*.apps");
        assert!(apps.matches("apps", "deployments") && !apps.matches("", "secrets"));
        let secrets = GroupResource::parse("secrets");
        assert!(secrets.matches("", "secrets") && !secrets.matches("", "configmaps"));
    }

    #[test]
    fn each_bad_configuration_is_refused_with_its_reason() {
        let aescbc = |secret: &str| {
            format!(
                "      - aescbc:\n          keys:\n            - name: k\n              secret: \"{secret}\"\n"
            )
        };
        let cases: Vec<(String, &str)> = vec![
            (
                file("[secrets]", "      - aesfoo:\n          keys: []\n"),
                "unknown field `aesfoo`",
            ),
            (
                file("[secrets]", &aescbc("c2hvcnQ=")),
                "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 5, expected one of [16, 24, 32]",
            ),
            (
                file(
                    "[secrets]",
                    "      - secretbox:\n          keys:\n            - name: k\n              secret: \"MTIzNDU2Nzg5MDEyMzQ1Ng==\"\n",
                ),
                "secret is not of the expected length, got 16, expected one of [32]",
            ),
            (
                file("[secrets]", &aescbc("not base64!")),
                "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secrets must be base64 encoded",
            ),
            (
                file(
                    "[secrets]",
                    "      - aesgcm:\n          keys:\n            - secret: \"MTIzNDU2Nzg5MDEyMzQ1Ng==\"\n",
                ),
                "resources[0].providers[0].aesgcm.keys[0].name: Required value: name is a mandatory field for a key",
            ),
            (
                file("[secrets]", "      - aesgcm:\n          keys: []\n"),
                "resources[0].providers[0].aesgcm.keys: Required value: at least one keys is required",
            ),
            (
                file("[secrets]", "      - {}\n"),
                "provider does not contain any of the expected providers",
            ),
            (
                file(
                    "[secrets]",
                    "      - identity: {}\n        aesgcm:\n          keys: []\n",
                ),
                "more than one provider specified in a single element",
            ),
            (
                file("[secrets]", "      - kms:\n          name: x\n"),
                "KMS providers are not supported",
            ),
            (
                file("[secrets]", "").replace("providers:\n", "providers: []\n"),
                "resources[0].providers: Required value",
            ),
            (
                file("[]", "      - identity: {}\n"),
                "resources[0].resources: Required value",
            ),
            (
                file("['*']", "      - identity: {}\n"),
                "use '*.' to encrypt all the resources",
            ),
            (
                file("[Secrets]", "      - identity: {}\n"),
                "should not contain capital letters",
            ),
            (
                file("['secrets.*']", "      - identity: {}\n"),
                "across groups is not supported",
            ),
            (
                file("[secrets, secrets]", "      - identity: {}\n"),
                "cannot be specified multiple times",
            ),
            (
                file("[secrets, '*.']", "      - identity: {}\n"),
                "overlapping resources",
            ),
            (
                file("[secrets, '*.*']", "      - identity: {}\n"),
                "overlapping resources",
            ),
            (
                "apiVersion: v1\nkind: EncryptionConfiguration\nresources: []\n".to_string(),
                "expected apiVersion apiserver.config.k8s.io/v1 and kind EncryptionConfiguration",
            ),
            (
                "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                    .to_string(),
                "resources: Required value",
            ),
            ("resources: [ unclosed".to_string(), ""),
        ];
        for (text, want) in cases {
            let got = err(&text);
            assert!(got.contains(want), "want {want:?} in {got:?} for\n{text}");
        }
    }

    #[test]
    fn duplicate_key_names_in_one_provider_are_refused() {
        let text = file(
            "[secrets]",
            &format!(
                "      - aesgcm:\n          keys:\n            - name: k\n              secret: {K32}\n            - name: k\n              secret: {K32}\n"
            ),
        );
        assert!(
            err(&text).contains("keys[1].name: Invalid value: \"k\": key names must be unique")
        );
    }
}
