//! `create configmap` and `create secret generic|tls|docker-registry`: keys from literal
//! values, files, directories and env files, checked and named as kubectl 1.33 does.

use super::doc::{metadata, to_object};
use anyhow::{Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use proto::k8s::Object;
use proto::kind_validation::{is_config_map_key, is_env_var_name};
use proto::resource::info;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// The sources configmaps and generic secrets share.
#[derive(Args, Debug, Clone, Default)]
pub struct Sources {
    /// `[key=]path`: a file (key: its base name) or a directory (each regular file in it)
    #[arg(long = "from-file", value_delimiter = ',')]
    pub from_file: Vec<String>,
    /// `key=value` (repeatable)
    #[arg(long = "from-literal")]
    pub from_literal: Vec<String>,
    /// A file of `KEY=value` lines (`#` comments; `KEY` alone takes $KEY)
    #[arg(long = "from-env-file", value_delimiter = ',')]
    pub from_env_file: Vec<String>,
    /// Append a hash of the content to the name (a changed content makes a new object)
    #[arg(long)]
    pub append_hash: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigMapArgs {
    pub name: String,
    #[command(flatten)]
    pub sources: Sources,
}

#[derive(Subcommand, Debug, Clone)]
pub enum SecretCommand {
    /// Create a secret from files, directories, env files or literal values
    Generic(GenericSecretArgs),
    /// Create a TLS secret from a PEM certificate and its key
    Tls(TlsSecretArgs),
    /// Create a secret for use with a Docker registry
    #[command(name = "docker-registry")]
    DockerRegistry(DockerRegistryArgs),
}

#[derive(Args, Debug, Clone)]
pub struct GenericSecretArgs {
    pub name: String,
    #[command(flatten)]
    pub sources: Sources,
    /// The type of secret to create
    #[arg(long = "type")]
    pub type_: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TlsSecretArgs {
    pub name: String,
    /// Path to PEM encoded public key certificate
    #[arg(long)]
    pub cert: String,
    /// Path to private key associated with given certificate
    #[arg(long)]
    pub key: String,
    /// Append a hash of the secret to its name
    #[arg(long)]
    pub append_hash: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DockerRegistryArgs {
    pub name: String,
    /// Username for Docker registry authentication
    #[arg(long)]
    pub docker_username: Option<String>,
    /// Password for Docker registry authentication
    #[arg(long)]
    pub docker_password: Option<String>,
    /// Email for Docker registry
    #[arg(long)]
    pub docker_email: Option<String>,
    /// Server location for Docker registry
    #[arg(long, default_value = "https://index.docker.io/v1/")]
    pub docker_server: String,
    /// `[key=]path` of a Docker config file (the key should be .dockerconfigjson)
    #[arg(long = "from-file", value_delimiter = ',')]
    pub from_file: Vec<String>,
    /// Append a hash of the secret to its name
    #[arg(long)]
    pub append_hash: bool,
}

/// Where kubectl's messages differ between the two kinds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    ConfigMap,
    Secret,
}

/// Keys and values collected in order, checked as they arrive.
#[derive(Debug)]
pub struct Entries {
    target: Target,
    name: String,
    /// UTF-8 values (a configmap's `data`; a secret keeps every value here).
    pub text: BTreeMap<String, Vec<u8>>,
    /// A configmap's `binaryData`: file contents that are not UTF-8.
    pub binary: BTreeMap<String, Vec<u8>>,
}

impl Entries {
    pub fn new(target: Target, name: &str) -> Self {
        Entries {
            target,
            name: name.to_string(),
            text: BTreeMap::new(),
            binary: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, key: &str, value: Vec<u8>) -> Result<()> {
        let errs = is_config_map_key(key);
        match self.target {
            Target::ConfigMap => {
                if !errs.is_empty() {
                    bail!(
                        "{key:?} is not a valid key name for a ConfigMap: {}",
                        errs.join(",")
                    );
                }
                if self.text.contains_key(key) {
                    bail!(
                        "cannot add key {key:?}, another key by that name already exists in Data for ConfigMap {:?}",
                        self.name
                    );
                }
                if self.binary.contains_key(key) {
                    bail!(
                        "cannot add key {key:?}, another key by that name already exists in BinaryData for ConfigMap {:?}",
                        self.name
                    );
                }
                if std::str::from_utf8(&value).is_ok() {
                    self.text.insert(key.to_string(), value);
                } else {
                    self.binary.insert(key.to_string(), value);
                }
            }
            Target::Secret => {
                if !errs.is_empty() {
                    bail!(
                        "{key:?} is not valid key name for a Secret {}",
                        errs.join(";")
                    );
                }
                if self.text.contains_key(key) {
                    bail!("cannot add key {key}, another key by that name already exists");
                }
                self.text.insert(key.to_string(), value);
            }
        }
        Ok(())
    }
}

/// `key=value`; the value may hold `=`.
pub fn parse_literal(source: &str) -> Result<(&str, &str)> {
    match source.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => bail!("invalid literal source {source}, expected key=value"),
    }
}

/// `[key=]path`: the key defaults to the path's base name.
pub fn parse_file_source(source: &str) -> Result<(String, &str)> {
    match source.matches('=').count() {
        0 => {
            let base = source
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(source);
            Ok((base.to_string(), source))
        }
        1 if source.starts_with('=') => bail!("key name for file path {} missing", &source[1..]),
        1 if source.ends_with('=') => bail!(
            "file path for key name {} missing",
            &source[..source.len() - 1]
        ),
        1 => {
            let (k, p) = source.split_once('=').unwrap_or_default();
            Ok((k.to_string(), p))
        }
        _ => bail!("key names or file paths cannot contain '='"),
    }
}

/// The `KEY=value` pairs of an env file's text, as kubectl reads them: a BOM on the first
/// line dropped, leading blanks trimmed, blank and `#` lines skipped, a bare `KEY` taking
/// its value from `env`.
pub fn parse_env_file(
    text: &[u8],
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|_| {
            anyhow!(
                "env file {path} contains invalid utf8 bytes at line {}: {raw:?}",
                i + 1
            )
        })?;
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (line, None),
        };
        let errs = is_env_var_name(key);
        if !errs.is_empty() {
            bail!("{key:?} is not a valid key name: {}", errs.join(";"));
        }
        let value = value.unwrap_or_else(|| env(key).unwrap_or_default());
        out.push((key.to_string(), value));
    }
    Ok(out)
}

fn stat(path: &str) -> Result<std::fs::Metadata> {
    std::fs::metadata(path).map_err(|e| anyhow!("error reading {path}: {}", io_reason(&e)))
}

/// Go's wording of the common errors (`no such file or directory`).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => crate::api::tidy_cause(&e.to_string()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("open {}: {}", path.display(), io_reason(&e)))
}

/// `--from-file` sources: files, and directories' regular files in name order.
pub fn add_file_sources(entries: &mut Entries, sources: &[String]) -> Result<()> {
    for source in sources {
        let (key, path) = parse_file_source(source)?;
        if stat(path)?.is_dir() {
            if source.contains('=') {
                bail!("cannot give a key name for a directory path");
            }
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| anyhow!("error listing files in {path}: {}", io_reason(&e)))?
                .filter_map(|e| e.ok())
                // Symbolic links and subdirectories are skipped, as kubectl skips them.
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .collect();
            files.sort_by_key(|e| e.file_name());
            for f in files {
                entries.add(&f.file_name().to_string_lossy(), read(&f.path())?)?;
            }
        } else {
            entries.add(&key, read(Path::new(path))?)?;
        }
    }
    Ok(())
}

pub fn add_env_file_sources(entries: &mut Entries, sources: &[String]) -> Result<()> {
    for path in sources {
        if stat(path)?.is_dir() {
            bail!(match entries.target {
                Target::ConfigMap => "env config file cannot be a directory",
                Target::Secret => "env secret file cannot be a directory",
            });
        }
        let text = read(Path::new(path))?;
        for (k, v) in parse_env_file(&text, path, &|k| std::env::var(k).ok())? {
            entries.add(&k, v.into_bytes())?;
        }
    }
    Ok(())
}

fn add_literals(entries: &mut Entries, sources: &[String]) -> Result<()> {
    for s in sources {
        let (k, v) = parse_literal(s)?;
        entries.add(k, v.as_bytes().to_vec())?;
    }
    Ok(())
}

fn check_sources(s: &Sources) -> Result<()> {
    if !s.from_env_file.is_empty() && (!s.from_file.is_empty() || !s.from_literal.is_empty()) {
        bail!("from-env-file cannot be combined with from-file or from-literal");
    }
    Ok(())
}

pub fn config_map(a: &ConfigMapArgs, namespace: Option<&str>) -> Result<Object> {
    check_sources(&a.sources)?;
    let mut e = Entries::new(Target::ConfigMap, &a.name);
    // kubectl's order: files, literals, env files (it decides which duplicate is reported).
    add_file_sources(&mut e, &a.sources.from_file)?;
    add_literals(&mut e, &a.sources.from_literal)?;
    add_env_file_sources(&mut e, &a.sources.from_env_file)?;
    let name = if a.sources.append_hash {
        format!(
            "{}-{}",
            a.name,
            content_hash(&config_map_hash_input(&a.name, &e))
        )
    } else {
        a.name.clone()
    };
    config_map_object(&name, namespace, &e)
}

/// kubectl's `--append-hash` suffix: the first ten hex digits of the SHA-256 of `encoded`,
/// with 0, 1, 3, a and e replaced (g, h, k, m, t) so the suffix never reads as a word or
/// a number.
pub fn content_hash(encoded: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's encoding/json writes it: map keys sorted (serde_json's too), and `<`, `>`,
/// `&`, U+2028 and U+2029 escaped (they only occur inside strings).
fn go_json(v: &serde_json::Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// What kubectl hashes for a configmap: kind, name, data (and binaryData when there is any).
fn config_map_hash_input(name: &str, e: &Entries) -> String {
    let data: BTreeMap<&str, String> = e
        .text
        .iter()
        .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    let mut m = json!({"kind": "ConfigMap", "name": name, "data": data});
    if !e.binary.is_empty() {
        let bin: BTreeMap<&str, String> = e
            .binary
            .iter()
            .map(|(k, v)| (k.as_str(), B64.encode(v)))
            .collect();
        m["binaryData"] = json!(bin);
    }
    go_json(&m)
}

/// What kubectl hashes for a secret: kind, type, name, data (base64).
fn secret_hash_input(name: &str, type_: &str, e: &Entries) -> String {
    let data: BTreeMap<&str, String> = e
        .text
        .iter()
        .map(|(k, v)| (k.as_str(), B64.encode(v)))
        .collect();
    go_json(&json!({"kind": "Secret", "type": type_, "name": name, "data": data}))
}

fn hashed_name(append: bool, name: &str, type_: &str, e: &Entries) -> String {
    if append {
        format!(
            "{name}-{}",
            content_hash(&secret_hash_input(name, type_, e))
        )
    } else {
        name.to_string()
    }
}

pub fn config_map_object(name: &str, namespace: Option<&str>, e: &Entries) -> Result<Object> {
    let none = BTreeMap::new();
    let mut doc = json!({"metadata": metadata(name, namespace, &none, &none)});
    if !e.text.is_empty() {
        let data: BTreeMap<&str, String> = e
            .text
            .iter()
            .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        doc["data"] = json!(data);
    }
    if !e.binary.is_empty() {
        let bin: BTreeMap<&str, String> = e
            .binary
            .iter()
            .map(|(k, v)| (k.as_str(), B64.encode(v)))
            .collect();
        doc["binaryData"] = json!(bin);
    }
    to_object(&info::ConfigMap, doc)
}

pub fn secret(s: &SecretCommand, namespace: Option<&str>) -> Result<Object> {
    match s {
        SecretCommand::Generic(a) => {
            check_sources(&a.sources)?;
            let mut e = Entries::new(Target::Secret, &a.name);
            // kubectl's order for secrets: literals, files, env files.
            add_literals(&mut e, &a.sources.from_literal)?;
            add_file_sources(&mut e, &a.sources.from_file)?;
            add_env_file_sources(&mut e, &a.sources.from_env_file)?;
            let type_ = a.type_.as_deref().unwrap_or("");
            let name = hashed_name(a.sources.append_hash, &a.name, type_, &e);
            secret_object(&name, namespace, type_, &e)
        }
        SecretCommand::Tls(a) => {
            let read_pem = |p: &str| {
                std::fs::read(p)
                    .map_err(|e| anyhow!("Cannot read file {p}, open {p}: {}", io_reason(&e)))
            };
            let (cert, key) = (read_pem(&a.cert)?, read_pem(&a.key)?);
            tls_secret(&a.name, namespace, cert, key, a.append_hash)
        }
        SecretCommand::DockerRegistry(a) => {
            let mut e = Entries::new(Target::Secret, &a.name);
            if a.from_file.is_empty() {
                let (Some(user), Some(password)) = (&a.docker_username, &a.docker_password) else {
                    bail!(
                        "either --from-file or the combination of --docker-username, --docker-password and --docker-server is required"
                    );
                };
                let config = docker_config_json(
                    user,
                    password,
                    a.docker_email.as_deref().unwrap_or(""),
                    &a.docker_server,
                );
                e.add(".dockerconfigjson", config.into_bytes())?;
            } else {
                add_file_sources(&mut e, &a.from_file)?;
            }
            let type_ = "kubernetes.io/dockerconfigjson";
            let name = hashed_name(a.append_hash, &a.name, type_, &e);
            secret_object(&name, namespace, type_, &e)
        }
    }
}

/// A TLS secret, once the certificate and key are known to be a PEM pair that belongs
/// together (kubectl's `tls.X509KeyPair` check).
pub fn tls_secret(
    name: &str,
    namespace: Option<&str>,
    cert: Vec<u8>,
    key: Vec<u8>,
    append_hash: bool,
) -> Result<Object> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    pki::tls::ServingCert::from_pem(&text(&cert), &text(&key)).map_err(|e| anyhow!("tls: {e}"))?;
    let mut e = Entries::new(Target::Secret, name);
    e.add("tls.crt", cert)?;
    e.add("tls.key", key)?;
    let type_ = "kubernetes.io/tls";
    secret_object(
        &hashed_name(append_hash, name, type_, &e),
        namespace,
        type_,
        &e,
    )
}

/// `~/.docker/config.json`'s form, fields in the order Docker's Go struct writes them
/// (the bytes are stored, so the order shows).
pub fn docker_config_json(user: &str, password: &str, email: &str, server: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let auth = B64.encode(format!("{user}:{password}"));
    let mut entry = Vec::new();
    for (k, v) in [("username", user), ("password", password), ("email", email)] {
        if !v.is_empty() {
            entry.push(format!("\"{k}\":{}", q(v)));
        }
    }
    entry.push(format!("\"auth\":{}", q(&auth)));
    format!("{{\"auths\":{{{}:{{{}}}}}}}", q(server), entry.join(","))
}

pub fn secret_object(
    name: &str,
    namespace: Option<&str>,
    type_: &str,
    e: &Entries,
) -> Result<Object> {
    let none = BTreeMap::new();
    let mut doc = json!({"metadata": metadata(name, namespace, &none, &none)});
    if !type_.is_empty() {
        doc["type"] = type_.into();
    }
    if !e.text.is_empty() {
        let data: BTreeMap<&str, String> = e
            .text
            .iter()
            .map(|(k, v)| (k.as_str(), B64.encode(v)))
            .collect();
        doc["data"] = json!(data);
    }
    to_object(&info::Secret, doc)
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::AsDoc;
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// A directory named after the test, removed at the end (also on failure).
    fn test_dir(test: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(test).tempdir().unwrap()
    }

    #[test]
    fn config_map_from_files_a_directory_and_literals_is_kubectls() {
        let dir = test_dir("config_map_from_files_a_directory_and_literals_is_kubectls");
        let d = dir.path().join("cdir");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("a.txt"), "hello").unwrap();
        std::fs::write(d.join("b"), "x=1").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        let a = ConfigMapArgs {
            name: "c1".into(),
            sources: Sources {
                from_file: vec![
                    d.display().to_string(),
                    format!("x={}", d.join("a.txt").display()),
                ],
                from_literal: s(&["k=v"]),
                from_env_file: vec![],
                append_hash: false,
            },
        };
        // kubectl create cm c1 --from-literal=k=v --from-file=cdir --from-file=x=cdir/a.txt --dry-run=client -o yaml
        assert_same_as_kubectl(
            &config_map(&a, None).unwrap(),
            "apiVersion: v1\ndata:\n  a.txt: hello\n  b: x=1\n  k: v\n  x: hello\nkind: ConfigMap\nmetadata:\n  creationTimestamp: null\n  name: c1\n",
        );
    }

    #[test]
    fn config_map_keeps_binary_files_apart_and_refuses_duplicates() {
        let dir = test_dir("config_map_keeps_binary_files_apart_and_refuses_duplicates");
        let bin = dir.path().join("blob");
        std::fs::write(&bin, [0xff, 0x00, 0xfe]).unwrap();
        let mut e = Entries::new(Target::ConfigMap, "c");
        add_file_sources(&mut e, &[bin.display().to_string()]).unwrap();
        let cm = config_map_object("c", None, &e).unwrap().doc();
        assert_eq!(cm["binaryData"]["blob"], "/wD+");
        assert_eq!(
            e.add("blob", b"x".to_vec()).unwrap_err().to_string(),
            "cannot add key \"blob\", another key by that name already exists in BinaryData for ConfigMap \"c\""
        );
        // The rule's own text is proto's (kubectl's has two spaces before each "or").
        let bad = e.add("a b", b"x".to_vec()).unwrap_err().to_string();
        assert!(
            bad.starts_with("\"a b\" is not a valid key name for a ConfigMap: a valid config key"),
            "{bad}"
        );
        let missing = dir.path().join("nope");
        assert_eq!(
            add_file_sources(&mut e, &[missing.display().to_string()])
                .unwrap_err()
                .to_string(),
            format!(
                "error reading {}: no such file or directory",
                missing.display()
            )
        );
    }

    #[test]
    fn env_files_read_as_kubectl_reads_them() {
        let text = b"\xef\xbb\xbfA=1\n# c\n  B=two=2\r\n\nC\n";
        let pairs = parse_env_file(text, "f.env", &|k| (k == "C").then(|| "from-env".into()));
        assert_eq!(
            pairs.unwrap(),
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".into(), "two=2".into()),
                ("C".into(), "from-env".into())
            ]
        );
        let e = parse_env_file(b"1A=x\n", "f.env", &|_| None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("\"1A\" is not a valid key name: "),
            "{e}"
        );
    }

    #[test]
    fn sources_are_parsed_as_kubectl() {
        assert_eq!(parse_literal("k=v=w").unwrap(), ("k", "v=w"));
        assert_eq!(
            parse_literal("=v").unwrap_err().to_string(),
            "invalid literal source =v, expected key=value"
        );
        assert_eq!(
            parse_file_source("dir/f.txt").unwrap(),
            ("f.txt".to_string(), "dir/f.txt")
        );
        assert_eq!(
            parse_file_source("k=dir/f").unwrap(),
            ("k".to_string(), "dir/f")
        );
        assert_eq!(
            parse_file_source("=dir/f").unwrap_err().to_string(),
            "key name for file path dir/f missing"
        );
        assert_eq!(
            parse_file_source("a=b=c").unwrap_err().to_string(),
            "key names or file paths cannot contain '='"
        );
        let both = Sources {
            from_literal: s(&["a=b"]),
            from_env_file: s(&["f"]),
            ..Default::default()
        };
        assert_eq!(
            check_sources(&both).unwrap_err().to_string(),
            "from-env-file cannot be combined with from-file or from-literal"
        );
    }

    #[test]
    fn generic_and_docker_registry_secrets_are_kubectls() {
        let a = GenericSecretArgs {
            name: "s1".into(),
            sources: Sources {
                from_literal: s(&["k=v"]),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
        };
        // kubectl create secret generic s1 --from-literal=k=v --type=Opaque --dry-run=client -o yaml
        assert_same_as_kubectl(
            &secret(&SecretCommand::Generic(a), None).unwrap(),
            "apiVersion: v1\ndata:\n  k: dg==\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: s1\ntype: Opaque\n",
        );
        // kubectl create secret docker-registry dr --docker-server=reg.io --docker-username=u
        //   --docker-password=p --docker-email=e@x --dry-run=client -o yaml
        let d = DockerRegistryArgs {
            name: "dr".into(),
            docker_username: Some("u".into()),
            docker_password: Some("p".into()),
            docker_email: Some("e@x".into()),
            docker_server: "reg.io".into(),
            from_file: vec![],
            append_hash: false,
        };
        assert_same_as_kubectl(
            &secret(&SecretCommand::DockerRegistry(d.clone()), None).unwrap(),
            "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJyZWcuaW8iOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiZW1haWwiOiJlQHgiLCJhdXRoIjoiZFRwdyJ9fX0=\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: dr\ntype: kubernetes.io/dockerconfigjson\n",
        );
        let no_password = DockerRegistryArgs {
            docker_password: None,
            ..d
        };
        assert!(
            secret(&SecretCommand::DockerRegistry(no_password), None)
                .unwrap_err()
                .to_string()
                .starts_with("either --from-file or the combination")
        );
    }

    #[test]
    fn append_hash_names_match_kubectls() {
        let dir = test_dir("append_hash_names_match_kubectls");
        let bin = dir.path().join("bin.dat");
        std::fs::write(&bin, [0xff, 0x00]).unwrap();
        let cm = |sources: Sources| {
            let a = ConfigMapArgs {
                name: "c".into(),
                sources: Sources {
                    append_hash: true,
                    ..sources
                },
            };
            config_map(&a, None).unwrap().meta().name.clone()
        };
        // kubectl create cm c --from-literal=a=b --from-literal='x=<&>' --append-hash -o name
        let literals = Sources {
            from_literal: s(&["a=b", "x=<&>"]),
            ..Default::default()
        };
        assert_eq!(cm(literals), "c-6g775h82t7");
        // kubectl create cm c --from-file=bin.dat --append-hash -o name
        let binary = Sources {
            from_file: vec![bin.display().to_string()],
            ..Default::default()
        };
        assert_eq!(cm(binary), "c-596mc66954");
        let secret = |type_: Option<&str>| {
            let a = GenericSecretArgs {
                name: "s".into(),
                sources: Sources {
                    from_literal: s(&["a=b"]),
                    append_hash: true,
                    ..Default::default()
                },
                type_: type_.map(String::from),
            };
            secret(&SecretCommand::Generic(a), None)
                .unwrap()
                .meta()
                .name
                .clone()
        };
        assert_eq!(secret(None), "s-7fd2tm89d8");
        assert_eq!(secret(Some("Opaque")), "s-hft88d9fbb");
        let d = DockerRegistryArgs {
            name: "d".into(),
            docker_username: Some("u".into()),
            docker_password: Some("p".into()),
            docker_email: None,
            docker_server: "https://index.docker.io/v1/".into(),
            from_file: vec![],
            append_hash: true,
        };
        let name = secret_of(&SecretCommand::DockerRegistry(d));
        assert_eq!(name, "d-k85gk65kdh");
    }

    fn secret_of(s: &SecretCommand) -> String {
        secret(s, None).unwrap().meta().name.clone()
    }

    #[test]
    fn tls_secret_needs_a_matching_pair() {
        let ca = pki::ca::Ca::generate("test-ca", std::time::Duration::from_secs(3600)).unwrap();
        let other = pki::ca::Ca::generate("other", std::time::Duration::from_secs(3600)).unwrap();
        let cert = ca.cert_pem().as_bytes().to_vec();
        let s = tls_secret(
            "t",
            None,
            cert.clone(),
            ca.key_pem().as_bytes().to_vec(),
            false,
        )
        .unwrap()
        .doc();
        assert_eq!(s["type"], "kubernetes.io/tls");
        assert_eq!(s["data"]["tls.crt"], B64.encode(&cert));
        assert!(s["data"]["tls.key"].is_string());
        let e =
            tls_secret("t", None, cert, other.key_pem().as_bytes().to_vec(), false).unwrap_err();
        assert!(e.to_string().starts_with("tls: "), "{e}");
    }
}
