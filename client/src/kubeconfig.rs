//! Kubernetes' kubeconfig file (`clusters`, `users`, `contexts`, `current-context`), as
//! kubectl and kubeadm write it: read, written, merged, and turned into the
//! [`ConnectionConfig`] of one context. Relative file paths are resolved against the
//! directory of the file that names them when it is loaded (client-go does the same), so a
//! loaded config can be merged and written elsewhere without changing meaning.

pub use crate::connection::{ConnectionConfig, Credentials};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use proto::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fields this model does not know (`exec`, `extensions`, ...): kept so a file round-trips.
type Extra = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    #[serde(rename = "current-context", default)]
    pub current_context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<serde_json::Value>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
    #[serde(flatten)]
    pub extra: Extra,
    /// The file this was loaded from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: Cluster,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    #[serde(default)]
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
    /// Base64 of the CA's PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    pub name: String,
    pub context: Context,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: AuthInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// Base64 of the certificate's PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// client-go spells this one in camel case.
    #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What `kubectl config view` shows instead of certificates and keys, and of tokens.
pub const DATA_OMITTED: &str = "DATA+OMITTED";
pub const REDACTED: &str = "REDACTED";

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

impl Kubeconfig {
    /// Reads and parses `path`; relative paths inside are made absolute against its directory.
    pub fn load(path: &Path) -> Result<Kubeconfig, ApiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read kubeconfig {}: {e}", path.display())))?;
        let mut config = Self::from_yaml(&text).map_err(|e| {
            bad(format!(
                "cannot read kubeconfig {}: {}",
                path.display(),
                e.message
            ))
        })?;
        if let Some(dir) = path.parent() {
            config.resolve_paths(dir);
        }
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Loads every file of a `$KUBECONFIG`-style list and merges them (first wins).
    pub fn load_all(paths: &[PathBuf]) -> Result<Kubeconfig, ApiError> {
        let mut merged: Option<Kubeconfig> = None;
        for p in paths {
            let next = Self::load(p)?;
            merged = Some(match merged {
                None => next,
                Some(m) => m.merge(next),
            });
        }
        merged.ok_or_else(|| bad("no kubeconfig file given".into()))
    }

    pub fn from_yaml(text: &str) -> Result<Kubeconfig, ApiError> {
        if text.trim().is_empty() {
            return Ok(Kubeconfig::empty());
        }
        serde_saphyr::from_str::<Kubeconfig>(text).map_err(|e| {
            let rendered = e.without_snippet().to_string();
            bad(rendered
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .trim()
                .to_string())
        })
    }

    /// A config with nothing in it but its apiVersion and kind.
    pub fn empty() -> Kubeconfig {
        Kubeconfig {
            api_version: "v1".into(),
            kind: "Config".into(),
            preferences: Some(serde_json::json!({})),
            ..Default::default()
        }
    }

    pub fn to_yaml(&self) -> String {
        // Plain strings, maps and sequences: serialization cannot fail.
        serde_saphyr::to_string(self).unwrap_or_default()
    }

    /// Writes the YAML with mode 0600 (it holds keys), replacing the file atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        pki::files::write_private(path, self.to_yaml().as_bytes())
    }

    /// One cluster, one user and the context `<user>@<cluster>` (kubeadm's naming) as the
    /// current context; the CA and the credentials embedded.
    pub fn for_user(
        cluster_name: &str,
        server: &str,
        ca_pem: &str,
        user_name: &str,
        credentials: &Credentials,
    ) -> Kubeconfig {
        let context_name = format!("{user_name}@{cluster_name}");
        let mut user = AuthInfo::default();
        match credentials {
            Credentials::None => {}
            Credentials::ClientCert { cert_pem, key_pem } => {
                user.client_certificate_data = Some(B64.encode(cert_pem));
                user.client_key_data = Some(B64.encode(key_pem));
            }
            Credentials::Identity(identity) => {
                // The identity does not hand out its key: only the certificate can be
                // embedded; pass ClientCert to write a complete file.
                user.client_certificate_data = identity.cert_pem().map(|c| B64.encode(c));
            }
            Credentials::Token(t) => user.token = Some(t.clone()),
            Credentials::TokenFile(p) => user.token_file = Some(p.display().to_string()),
        }
        Kubeconfig {
            clusters: vec![NamedCluster {
                name: cluster_name.into(),
                cluster: Cluster {
                    server: server.into(),
                    certificate_authority_data: (!ca_pem.is_empty()).then(|| B64.encode(ca_pem)),
                    ..Default::default()
                },
            }],
            contexts: vec![NamedContext {
                name: context_name.clone(),
                context: Context {
                    cluster: cluster_name.into(),
                    user: user_name.into(),
                    ..Default::default()
                },
            }],
            current_context: context_name,
            users: vec![NamedUser {
                name: user_name.into(),
                user,
            }],
            ..Kubeconfig::empty()
        }
    }

    /// Entries of `self` win; `other` adds the names `self` lacks (kubectl's merge of a
    /// `$KUBECONFIG` list).
    pub fn merge(mut self, other: Kubeconfig) -> Kubeconfig {
        fn add<T>(into: &mut Vec<T>, from: Vec<T>, name: impl Fn(&T) -> &str) {
            for item in from {
                if !into.iter().any(|i| name(i) == name(&item)) {
                    into.push(item);
                }
            }
        }
        add(&mut self.clusters, other.clusters, |c| &c.name);
        add(&mut self.contexts, other.contexts, |c| &c.name);
        add(&mut self.users, other.users, |u| &u.name);
        if self.current_context.is_empty() {
            self.current_context = other.current_context;
        }
        if self.source.is_none() {
            self.source = other.source;
        }
        self
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let resolve = |p: &mut Option<String>| {
            if let Some(s) = p
                && !s.is_empty()
                && Path::new(s.as_str()).is_relative()
            {
                *s = dir.join(s.as_str()).display().to_string();
            }
        };
        for c in &mut self.clusters {
            resolve(&mut c.cluster.certificate_authority);
        }
        for u in &mut self.users {
            resolve(&mut u.user.client_certificate);
            resolve(&mut u.user.client_key);
            resolve(&mut u.user.token_file);
        }
    }

    /// For `config view` without `--raw`: keys, certificates and tokens replaced as kubectl
    /// does (`DATA+OMITTED`, `REDACTED`).
    pub fn redacted(&self) -> Kubeconfig {
        let mut c = self.clone();
        let omit = |v: &mut Option<String>, with: &str| {
            if v.is_some() {
                *v = Some(with.to_string());
            }
        };
        for cl in &mut c.clusters {
            omit(&mut cl.cluster.certificate_authority_data, DATA_OMITTED);
        }
        for u in &mut c.users {
            omit(&mut u.user.client_certificate_data, DATA_OMITTED);
            omit(&mut u.user.client_key_data, DATA_OMITTED);
            omit(&mut u.user.token, REDACTED);
            omit(&mut u.user.password, REDACTED);
        }
        c
    }

    fn describe_source(&self) -> String {
        match &self.source {
            Some(p) => format!("kubeconfig {}", p.display()),
            None => "kubeconfig".to_string(),
        }
    }

    /// The name of `context`, or of the current context.
    pub fn context_name<'a>(&'a self, context: Option<&'a str>) -> Result<&'a str, ApiError> {
        match context.filter(|c| !c.is_empty()) {
            Some(c) => Ok(c),
            None if !self.current_context.is_empty() => Ok(&self.current_context),
            None => Err(bad(format!(
                "the {} has no current-context (and no context was named)",
                self.describe_source()
            ))),
        }
    }

    pub fn context(&self, context: Option<&str>) -> Result<&Context, ApiError> {
        let name = self.context_name(context)?;
        self.contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.context)
            .ok_or_else(|| {
                bad(format!(
                    "context {name:?} not found in the {}",
                    self.describe_source()
                ))
            })
    }

    /// The namespace the context names, if any.
    pub fn namespace(&self, context: Option<&str>) -> Option<String> {
        self.context(context)
            .ok()
            .and_then(|c| c.namespace.clone())
            .filter(|n| !n.is_empty())
    }

    /// The server, trust and credentials of `context` (default: the current one). Files
    /// named in the config are read now.
    pub fn connection(&self, context: Option<&str>) -> Result<ConnectionConfig, ApiError> {
        let src = self.describe_source();
        let ctx = self.context(context)?;
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .map(|c| &c.cluster)
            .ok_or_else(|| bad(format!("cluster {:?} not found in the {src}", ctx.cluster)))?;
        if cluster.server.is_empty() {
            return Err(bad(format!(
                "cluster {:?} in the {src} has no server",
                ctx.cluster
            )));
        }
        let user = if ctx.user.is_empty() {
            AuthInfo::default()
        } else {
            self.users
                .iter()
                .find(|u| u.name == ctx.user)
                .map(|u| u.user.clone())
                .ok_or_else(|| bad(format!("user {:?} not found in the {src}", ctx.user)))?
        };
        let trust = if cluster.server.starts_with("https://") {
            Some(server_trust(cluster, &src)?)
        } else {
            None
        };
        Ok(ConnectionConfig {
            server: cluster.server.clone(),
            trust,
            credentials: credentials(&user, &ctx.user, &src)?,
            tls_server_name: cluster.tls_server_name.clone().filter(|s| !s.is_empty()),
        })
    }
}

/// Embedded data wins over a file, as in client-go.
fn data_or_file(
    data: &Option<String>,
    file: &Option<String>,
    what: &str,
    src: &str,
) -> Result<Option<String>, ApiError> {
    if let Some(d) = data.as_deref().filter(|d| !d.is_empty()) {
        let bytes = B64
            .decode(d.trim())
            .map_err(|e| bad(format!("{what}-data in the {src} is not base64: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| bad(format!("{what}-data in the {src} is not PEM text")))?;
        return Ok(Some(text));
    }
    if let Some(f) = file.as_deref().filter(|f| !f.is_empty()) {
        let text = std::fs::read_to_string(f)
            .map_err(|e| bad(format!("cannot read {what} {f} (named in the {src}): {e}")))?;
        return Ok(Some(text));
    }
    Ok(None)
}

fn server_trust(cluster: &Cluster, src: &str) -> Result<pki::tls::ServerTrust, ApiError> {
    if cluster.insecure_skip_tls_verify {
        return Ok(pki::tls::ServerTrust::InsecureSkipVerify);
    }
    match data_or_file(
        &cluster.certificate_authority_data,
        &cluster.certificate_authority,
        "certificate-authority",
        src,
    )? {
        Some(pem) => Ok(pki::tls::ServerTrust::Ca(pem)),
        None => Err(bad(format!(
            "the {src} gives no certificate-authority for {} (nor insecure-skip-tls-verify)",
            cluster.server
        ))),
    }
}

fn credentials(user: &AuthInfo, name: &str, src: &str) -> Result<Credentials, ApiError> {
    let cert = data_or_file(
        &user.client_certificate_data,
        &user.client_certificate,
        "client-certificate",
        src,
    )?;
    let key = data_or_file(&user.client_key_data, &user.client_key, "client-key", src)?;
    match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => {
            return Ok(Credentials::ClientCert { cert_pem, key_pem });
        }
        (Some(_), None) => {
            return Err(bad(format!(
                "user {name:?} in the {src} has a client certificate but no client-key"
            )));
        }
        (None, Some(_)) => {
            return Err(bad(format!(
                "user {name:?} in the {src} has a client-key but no client certificate"
            )));
        }
        (None, None) => {}
    }
    if let Some(t) = user.token.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Credentials::Token(t.trim().to_string()));
    }
    if let Some(f) = user.token_file.as_deref().filter(|f| !f.is_empty()) {
        return Ok(Credentials::TokenFile(PathBuf::from(f)));
    }
    for unsupported in ["exec", "auth-provider"] {
        if user.extra.contains_key(unsupported) {
            return Err(bad(format!(
                "user {name:?} in the {src} uses {unsupported}, which is not supported: \
                 use client certificates or a token"
            )));
        }
    }
    if user.username.is_some() || user.password.is_some() {
        return Err(bad(format!(
            "user {name:?} in the {src} uses basic authentication, which is not supported"
        )));
    }
    Ok(Credentials::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What kubeadm writes for the admin (data shortened).
    const ADMIN: &str = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EgUEVN
    server: https://10.0.0.1:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
"#;

    #[test]
    fn reads_what_kubeadm_writes() {
        let k = Kubeconfig::from_yaml(ADMIN).unwrap();
        assert_eq!(k.current_context, "kubernetes-admin@kubernetes");
        let c = k.connection(None).unwrap();
        assert_eq!(c.server, "https://10.0.0.1:6443");
        assert!(matches!(c.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == "CA PEM"));
        match c.credentials {
            Credentials::ClientCert { cert_pem, key_pem } => {
                assert_eq!((cert_pem.as_str(), key_pem.as_str()), ("CERT", "KEY"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.tls_server_name, None);
    }

    #[test]
    fn round_trips_and_keeps_unknown_fields() {
        let text = format!(
            "{ADMIN}- name: exec-user\n  user:\n    exec:\n      command: get-token\n      apiVersion: client.authentication.k8s.io/v1\n"
        );
        let k = Kubeconfig::from_yaml(&text).unwrap();
        let back = Kubeconfig::from_yaml(&k.to_yaml()).unwrap();
        assert_eq!(back, k);
        assert_eq!(
            back.users[1].user.extra["exec"]["command"],
            serde_json::json!("get-token")
        );
        assert!(
            k.to_yaml().contains("certificate-authority-data: Q0EgUEVN"),
            "{}",
            k.to_yaml()
        );
    }

    #[test]
    fn for_user_writes_a_complete_config_and_reads_back() {
        let creds = Credentials::ClientCert {
            cert_pem: "-----BEGIN CERTIFICATE-----\nx\n".into(),
            key_pem: "k".into(),
        };
        let k = Kubeconfig::for_user(
            "kubernetes",
            "https://h:6443",
            "ca",
            "system:kube-scheduler",
            &creds,
        );
        assert_eq!(k.current_context, "system:kube-scheduler@kubernetes");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/scheduler.kubeconfig");
        k.write(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = Kubeconfig::load(&path).unwrap();
        assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
        let c = loaded.connection(None).unwrap();
        assert_eq!(c.server, "https://h:6443");
        assert!(matches!(c.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == "ca"));
        assert!(
            matches!(c.credentials, Credentials::ClientCert { ref key_pem, .. } if key_pem == "k")
        );

        let t = Kubeconfig::for_user(
            "c",
            "http://h:1",
            "",
            "u",
            &Credentials::Token("abc".into()),
        );
        let c = t.connection(None).unwrap();
        assert!(c.trust.is_none(), "http means plaintext");
        assert!(matches!(c.credentials, Credentials::Token(ref s) if s == "abc"));
    }

    #[test]
    fn relative_paths_are_resolved_against_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA FILE").unwrap();
        std::fs::write(dir.path().join("token"), "tok\n").unwrap();
        let text = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://h:1\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: dev}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    tokenFile: token\n";
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        let k = Kubeconfig::load(&path).unwrap();
        let c = k.connection(None).unwrap();
        assert!(matches!(c.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == "CA FILE"));
        assert!(
            matches!(c.credentials, Credentials::TokenFile(ref p) if *p == dir.path().join("token"))
        );
        assert_eq!(c.tls_server_name.as_deref(), Some("kubernetes"));
        assert_eq!(k.namespace(None).as_deref(), Some("dev"));
    }

    #[test]
    fn errors_name_the_file_and_the_cause() {
        let e = Kubeconfig::load(Path::new("/nonexistent/kc")).unwrap_err();
        assert!(
            e.message
                .starts_with("cannot read kubeconfig /nonexistent/kc: "),
            "{}",
            e.message
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad");
        std::fs::write(&path, "clusters: [unclosed\n").unwrap();
        let e = Kubeconfig::load(&path).unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("cannot read kubeconfig {}: ", path.display())),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'));

        let mut k = Kubeconfig::from_yaml(ADMIN).unwrap();
        k.source = Some(PathBuf::from("/k"));
        assert_eq!(
            k.connection(Some("nope")).unwrap_err().message,
            "context \"nope\" not found in the kubeconfig /k"
        );
        k.clusters[0].cluster.certificate_authority_data = None;
        assert_eq!(
            k.connection(None).unwrap_err().message,
            "the kubeconfig /k gives no certificate-authority for https://10.0.0.1:6443 (nor insecure-skip-tls-verify)"
        );
        k.clusters[0].cluster.insecure_skip_tls_verify = true;
        assert!(matches!(
            k.connection(None).unwrap().trust,
            Some(pki::tls::ServerTrust::InsecureSkipVerify)
        ));
        k.users[0].user.client_key_data = None;
        assert!(
            k.connection(None)
                .unwrap_err()
                .message
                .contains("no client-key")
        );
        k.current_context.clear();
        assert!(
            k.connection(None)
                .unwrap_err()
                .message
                .contains("no current-context")
        );
        let e = Kubeconfig::from_yaml("users:\n- name: u\n  user:\n    exec: {command: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'http://h:1'}\n")
            .unwrap()
            .connection(Some("c"))
            .unwrap_err();
        assert!(
            e.message.contains("uses exec, which is not supported"),
            "{}",
            e.message
        );
    }

    #[test]
    fn redaction_hides_keys_and_tokens_only() {
        let mut k = Kubeconfig::from_yaml(ADMIN).unwrap();
        k.users.push(NamedUser {
            name: "t".into(),
            user: AuthInfo {
                token: Some("secret-token".into()),
                ..Default::default()
            },
        });
        let r = k.redacted();
        let y = r.to_yaml();
        assert!(
            !y.contains("S0VZ") && !y.contains("Q0VSVA") && !y.contains("secret-token"),
            "{y}"
        );
        assert!(y.contains("client-key-data: DATA+OMITTED"), "{y}");
        assert!(y.contains("token: REDACTED"), "{y}");
        assert!(y.contains("server: https://10.0.0.1:6443"), "{y}");
        assert_eq!(r.current_context, k.current_context);
    }

    #[test]
    fn merge_keeps_the_first_of_each_name() {
        let a = Kubeconfig::from_yaml(ADMIN).unwrap();
        let mut b = Kubeconfig::for_user(
            "kubernetes",
            "https://other:1",
            "x",
            "bob",
            &Credentials::Token("t".into()),
        );
        b.current_context = "bob@kubernetes".into();
        let m = a.clone().merge(b);
        assert_eq!(m.current_context, a.current_context);
        assert_eq!(m.clusters.len(), 1);
        assert_eq!(m.clusters[0].cluster.server, "https://10.0.0.1:6443");
        assert_eq!(m.users.len(), 2);
        assert_eq!(m.contexts.len(), 2);
        assert!(Kubeconfig::from_yaml("").unwrap().clusters.is_empty());
    }
}
