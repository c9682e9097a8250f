//! Where the kubelet's apiserver connection comes from, decided from its flags and what its
//! root dir already holds (Kubernetes' kubelet + kubeadm join, in one order): the kubeconfig
//! a previous bootstrap wrote, else `--kubeconfig`, else a join with `--bootstrap-token` and
//! `--ca-cert-hash`, else plaintext (development and in-process tests).

use std::path::{Path, PathBuf};

/// The plaintext development default, as every daemon's.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:6443";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `R/kubelet.kubeconfig` from an earlier join or rotation, still valid.
    Existing(PathBuf),
    /// `--kubeconfig`.
    Kubeconfig(PathBuf),
    /// kubeadm's join: discover the CA from `server`, pin it by `ca_cert_hash`, then ask for
    /// a client certificate with `token`.
    Token {
        server: String,
        token: proto::bootstrap_token::BootstrapToken,
        ca_cert_hash: String,
    },
    /// No TLS, no credentials.
    Plaintext(String),
}

/// The flags [`choose`] reads.
#[derive(Debug, Clone, Default)]
pub struct Flags<'a> {
    pub kubeconfig: Option<&'a Path>,
    pub server: Option<&'a str>,
    pub bootstrap_token: Option<&'a str>,
    pub ca_cert_hash: Option<&'a str>,
}

/// kubeadm's `sha256:<64 hex>`.
pub fn check_hash(hash: &str) -> Result<(), String> {
    let hex = hash.strip_prefix("sha256:").ok_or_else(|| {
        format!("--ca-cert-hash {hash:?} must have the form sha256:<64 hex digits>")
    })?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "--ca-cert-hash {hash:?} must have the form sha256:<64 hex digits>"
        ));
    }
    Ok(())
}

/// `host:port` of an `https://` server URL (port 443 when absent).
pub fn https_authority(server: &str) -> Result<String, String> {
    let rest = server.strip_prefix("https://").ok_or_else(|| {
        format!("--server {server:?} must be an https:// URL to join with a bootstrap token")
    })?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("--server {server:?} has no host"));
    }
    let has_port = match authority.rfind(']') {
        Some(close) => authority[close..].contains(':'),
        None => authority.contains(':'),
    };
    Ok(if has_port {
        authority.to_string()
    } else {
        format!("{authority}:443")
    })
}

/// The decision; `existing` is `R/kubelet.kubeconfig` when it is there and its client
/// certificate still valid.
pub fn choose(flags: &Flags<'_>, existing: Option<&Path>) -> Result<Source, String> {
    let server = flags.server.map(str::trim).filter(|s| !s.is_empty());
    let token = flags
        .bootstrap_token
        .map(str::trim)
        .filter(|s| !s.is_empty());
    // Flags that cannot work are refused even when an earlier join makes them unused, so a
    // typo is not discovered only when the node is reinstalled.
    if let Some(t) = token {
        proto::bootstrap_token::parse(t).map_err(|e| format!("--bootstrap-token: {e}"))?;
        match flags.ca_cert_hash {
            Some(h) => check_hash(h.trim())?,
            None => {
                return Err(
                    "--bootstrap-token needs --ca-cert-hash sha256:<hex> (the hash of \
                            the cluster CA's public key, as kubeadm's \
                            --discovery-token-ca-cert-hash)"
                        .to_string(),
                );
            }
        }
    }
    if let Some(path) = existing {
        return Ok(Source::Existing(path.to_path_buf()));
    }
    if let Some(path) = flags.kubeconfig {
        return Ok(Source::Kubeconfig(path.to_path_buf()));
    }
    if let Some(t) = token {
        let server = server.ok_or_else(|| {
            "--bootstrap-token needs --server https://<apiserver>:<port>".to_string()
        })?;
        https_authority(server)?;
        return Ok(Source::Token {
            server: server.to_string(),
            token: proto::bootstrap_token::parse(t)
                .map_err(|e| format!("--bootstrap-token: {e}"))?,
            ca_cert_hash: flags.ca_cert_hash.unwrap_or("").trim().to_ascii_lowercase(),
        });
    }
    let server = server.unwrap_or(DEFAULT_SERVER);
    if server.starts_with("https://") {
        return Err(format!(
            "--server {server} is https: give --kubeconfig, or --bootstrap-token with \
             --ca-cert-hash, so the kubelet knows the CA to trust and who it is"
        ));
    }
    Ok(Source::Plaintext(server.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "abcdef.0123456789abcdef";

    #[test]
    fn existing_kubeconfig_wins_then_flag_then_token_then_plaintext() {
        let kc = Path::new("/etc/kubelet.conf");
        let existing = Path::new("/var/lib/kubelet/kubelet.kubeconfig");
        let all = Flags {
            kubeconfig: Some(kc),
            server: Some("https://10.0.0.1:6443"),
            bootstrap_token: Some(TOKEN),
            ca_cert_hash: Some(HASH),
        };
        assert_eq!(
            choose(&all, Some(existing)),
            Ok(Source::Existing(existing.into()))
        );
        assert_eq!(choose(&all, None), Ok(Source::Kubeconfig(kc.into())));
        let join = Flags {
            kubeconfig: None,
            ..all.clone()
        };
        match choose(&join, None).unwrap() {
            Source::Token {
                server,
                token,
                ca_cert_hash,
            } => {
                assert_eq!(server, "https://10.0.0.1:6443");
                assert_eq!(token.id, "abcdef");
                assert_eq!(ca_cert_hash, HASH);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            choose(&Flags::default(), None),
            Ok(Source::Plaintext(DEFAULT_SERVER.into()))
        );
        assert_eq!(
            choose(
                &Flags {
                    server: Some("http://127.0.0.1:9"),
                    ..Default::default()
                },
                None
            ),
            Ok(Source::Plaintext("http://127.0.0.1:9".into()))
        );
    }

    #[test]
    fn join_flags_are_checked() {
        let base = Flags {
            server: Some("https://10.0.0.1:6443"),
            bootstrap_token: Some(TOKEN),
            ca_cert_hash: Some(HASH),
            ..Default::default()
        };
        let no_hash = Flags {
            ca_cert_hash: None,
            ..base.clone()
        };
        assert!(
            choose(&no_hash, None)
                .unwrap_err()
                .contains("--ca-cert-hash")
        );
        let bad_hash = Flags {
            ca_cert_hash: Some("sha256:xyz"),
            ..base.clone()
        };
        assert!(choose(&bad_hash, None).unwrap_err().contains("64 hex"));
        let bad_token = Flags {
            bootstrap_token: Some("nope"),
            ..base.clone()
        };
        assert!(
            choose(&bad_token, None)
                .unwrap_err()
                .starts_with("--bootstrap-token")
        );
        let plain = Flags {
            server: Some("http://10.0.0.1:6443"),
            ..base.clone()
        };
        assert!(choose(&plain, None).unwrap_err().contains("https://"));
        let no_server = Flags {
            server: None,
            ..base
        };
        assert!(choose(&no_server, None).unwrap_err().contains("--server"));
        let https_alone = Flags {
            server: Some("https://10.0.0.1:6443"),
            ..Default::default()
        };
        assert!(choose(&https_alone, None).is_err());
    }

    #[test]
    fn authority_of_https_urls() {
        assert_eq!(
            https_authority("https://10.0.0.1:6443"),
            Ok("10.0.0.1:6443".into())
        );
        assert_eq!(
            https_authority("https://api.example/"),
            Ok("api.example:443".into())
        );
        assert_eq!(
            https_authority("https://[fd00::1]:6443"),
            Ok("[fd00::1]:6443".into())
        );
        assert_eq!(
            https_authority("https://[fd00::1]"),
            Ok("[fd00::1]:443".into())
        );
        assert!(https_authority("http://x:1").is_err());
        assert!(https_authority("https://").is_err());
    }
}
