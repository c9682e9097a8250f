//! The kubelet's credentials on disk, under its root dir R (Kubernetes' names):
//! `R/pki/kubelet-client-current.pem` and `R/pki/kubelet-server-current.pem` (certificate
//! then key, 0600), `R/pki/ca.crt`, and `R/kubelet.kubeconfig` naming those files, so a
//! restart reuses the identity instead of joining again.

use crate::certificate::pem;
use crate::error::{Error, Result};
use client::kubeconfig::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedCluster, NamedContext, NamedUser,
};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
}

impl Paths {
    pub fn new(root: &Path) -> Self {
        Paths {
            root: root.to_path_buf(),
        }
    }
    pub fn pki_dir(&self) -> PathBuf {
        self.root.join("pki")
    }
    pub fn client_cert(&self) -> PathBuf {
        self.pki_dir().join("kubelet-client-current.pem")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.pki_dir().join("kubelet-server-current.pem")
    }
    pub fn ca(&self) -> PathBuf {
        self.pki_dir().join("ca.crt")
    }
    pub fn kubeconfig(&self) -> PathBuf {
        self.root.join("kubelet.kubeconfig")
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("writing {}", path.display()), e)
}

/// Writes a certificate and its key as one 0600 file (replaced atomically).
pub fn write_pair(path: &Path, cert_pem: &str, key_pem: &str) -> Result<()> {
    pki::files::write_private(path, pem::combine(cert_pem, key_pem).as_bytes())
        .map_err(|e| io(path, e))
}

/// Reads a file written by [`write_pair`].
pub fn read_pair(path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    pem::split(&text).map_err(|m| Error::Certificate(format!("{}: {m}", path.display())))
}

pub fn write_ca(paths: &Paths, ca_pem: &str) -> Result<()> {
    let p = paths.ca();
    pki::files::write_public(&p, ca_pem.as_bytes()).map_err(|e| io(&p, e))
}

/// The kubeconfig pointing at the client certificate file and the CA file (as Kubernetes'
/// kubelet writes it after bootstrap), so rotation only rewrites the PEM file.
pub fn kubeconfig_for(paths: &Paths, server: &str) -> Kubeconfig {
    let client = paths.client_cert().display().to_string();
    Kubeconfig {
        api_version: "v1".into(),
        kind: "Config".into(),
        clusters: vec![NamedCluster {
            name: "default-cluster".into(),
            cluster: Cluster {
                server: server.to_string(),
                certificate_authority: Some(paths.ca().display().to_string()),
                ..Default::default()
            },
        }],
        contexts: vec![NamedContext {
            name: "default-context".into(),
            context: Context {
                cluster: "default-cluster".into(),
                user: "default-auth".into(),
                ..Default::default()
            },
        }],
        current_context: "default-context".into(),
        users: vec![NamedUser {
            name: "default-auth".into(),
            user: AuthInfo {
                client_certificate: Some(client.clone()),
                client_key: Some(client),
                ..Default::default()
            },
        }],
        ..Kubeconfig::empty()
    }
}

pub fn write_kubeconfig(paths: &Paths, server: &str) -> Result<()> {
    let p = paths.kubeconfig();
    kubeconfig_for(paths, server)
        .write(&p)
        .map_err(|e| io(&p, e))
}

/// The validity window of the first certificate in `cert_pem`.
pub fn validity(cert_pem: &str) -> Result<(SystemTime, SystemTime)> {
    let infos = pki::inspect::parse_pem(cert_pem)
        .map_err(|e| Error::Certificate(format!("reading a certificate: {e}")))?;
    let first = infos
        .first()
        .ok_or_else(|| Error::Certificate("no certificate in the PEM text".into()))?;
    Ok((first.not_before, first.not_after))
}

/// A certificate+key file whose certificate is valid at `now`, read; else None (missing,
/// unreadable, expired: the caller asks for a new one).
pub fn valid_pair(path: &Path, now: SystemTime) -> Option<(String, String)> {
    let (cert, key) = read_pair(path).ok()?;
    let (nb, na) = validity(&cert).ok()?;
    (nb <= now && now < na).then_some((cert, key))
}

/// `R/kubelet.kubeconfig` when it and the client certificate it names are usable.
pub fn existing_kubeconfig(paths: &Paths, now: SystemTime) -> Option<PathBuf> {
    let p = paths.kubeconfig();
    if !p.exists() {
        return None;
    }
    match valid_pair(&paths.client_cert(), now) {
        Some(_) => Some(p),
        None => {
            tracing::warn!(path = %paths.client_cert().display(), "the client certificate of an earlier bootstrap is missing or expired; bootstrapping again");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn kubeconfig_names_the_files_and_loads_back_as_a_client_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let issued = ca
            .issue(&pki::ca::CertSpec {
                common_name: "system:node:n1".into(),
                organizations: vec!["system:nodes".into()],
                dns_names: vec![],
                ip_addresses: vec![],
                usages: vec![pki::ca::Usage::ClientAuth],
                validity: Duration::from_secs(3600),
            })
            .unwrap();
        assert!(existing_kubeconfig(&paths, SystemTime::now()).is_none());
        write_pair(&paths.client_cert(), &issued.cert_pem, &issued.key_pem).unwrap();
        write_ca(&paths, ca.cert_pem()).unwrap();
        write_kubeconfig(&paths, "https://10.0.0.1:6443").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(paths.client_cert())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        assert_eq!(
            existing_kubeconfig(&paths, SystemTime::now()),
            Some(paths.kubeconfig())
        );
        assert!(
            existing_kubeconfig(&paths, SystemTime::now() + Duration::from_secs(7200)).is_none(),
            "expired"
        );
        let conn = Kubeconfig::load(&paths.kubeconfig())
            .unwrap()
            .connection(None)
            .unwrap();
        assert_eq!(conn.server, "https://10.0.0.1:6443");
        assert!(matches!(conn.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == ca.cert_pem()));
        match conn.credentials {
            client::Credentials::ClientCert { cert_pem, key_pem } => {
                // Both read from the combined file: the certificate and key in it.
                let (c, k) = pem::split(&cert_pem).unwrap();
                assert_eq!(c.trim(), issued.cert_pem.trim());
                assert_eq!(k.trim(), issued.key_pem.trim());
                assert!(pki::tls::ClientIdentity::from_pem(&c, &key_pem).is_ok());
            }
            other => panic!("{other:?}"),
        }
    }
}
