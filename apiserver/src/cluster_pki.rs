//! The cluster's PKI in the apiserver's data directory, in kubeadm's layout and names:
//!
//! ```text
//! D/pki/ca.crt ca.key                         cluster CA (CN kubernetes, 10 years)
//! D/pki/apiserver.crt apiserver.key           serving certificate (1 year)
//! D/pki/apiserver-kubelet-client.crt .key     the apiserver's client certificate towards kubelets
//! D/pki/sa.key sa.pub                         ServiceAccount token signing key (Ed25519)
//! D/admin.kubeconfig                          kubernetes-admin in system:masters
//! D/controller-manager.kubeconfig, scheduler.kubeconfig, kube-proxy.kubeconfig,
//! D/cluster-dns.kubeconfig                    one identity per daemon
//! ```
//!
//! [`ensure`] makes what is missing and keeps what exists (never overwrites a file), so
//! every start may call it. Keys are 0600 in 0700 directories.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pki::ca::{Ca, CertSpec, Usage};
use tracing::{info, warn};

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const APISERVER_CERT: &str = "apiserver.crt";
pub const APISERVER_KEY: &str = "apiserver.key";
pub const KUBELET_CLIENT_CERT: &str = "apiserver-kubelet-client.crt";
pub const KUBELET_CLIENT_KEY: &str = "apiserver-kubelet-client.key";
pub const SA_KEY: &str = "sa.key";
pub const SA_PUB: &str = "sa.pub";
pub const ADMIN_KUBECONFIG: &str = "admin.kubeconfig";

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
const CLUSTER_NAME: &str = "kubernetes";

/// The kubeconfigs written next to the PKI: file, user (CN), groups (O).
pub const KUBECONFIGS: &[(&str, &str, &[&str])] = &[
    (ADMIN_KUBECONFIG, "kubernetes-admin", &["system:masters"]),
    (
        "controller-manager.kubeconfig",
        "system:kube-controller-manager",
        &[],
    ),
    ("scheduler.kubeconfig", "system:kube-scheduler", &[]),
    ("kube-proxy.kubeconfig", "system:kube-proxy", &[]),
    ("cluster-dns.kubeconfig", "system:cluster-dns", &[]),
];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Pki {
        path: PathBuf,
        #[source]
        source: pki::Error,
    },
    #[error("{present} exists but {missing} does not: restore it or remove both to make new ones")]
    HalfPair { present: PathBuf, missing: PathBuf },
    #[error("{path}: {message}")]
    Key { path: PathBuf, message: String },
}

/// What the certificates and kubeconfigs name.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// The address members of the cluster reach the apiserver on.
    pub advertise_address: IpAddr,
    pub port: u16,
    /// The address the apiserver listens on (a SAN too when it is specific).
    pub listen_address: IpAddr,
    /// The first IP of the service CIDR (the `default/kubernetes` Service).
    pub service_ip: IpAddr,
    pub hostname: String,
    /// `--tls-san`: IP addresses or DNS names.
    pub extra_sans: Vec<String>,
}

impl PkiOptions {
    /// The server of the kubeconfigs: the advertise address, except when the apiserver
    /// listens only on loopback (the default `--listen`), where the advertise address would
    /// not answer: then the loopback address (always a SAN).
    pub fn server_url(&self) -> String {
        let host = if self.listen_address.is_loopback() {
            self.listen_address
        } else {
            self.advertise_address
        };
        match host {
            IpAddr::V6(ip) => format!("https://[{ip}]:{}", self.port),
            IpAddr::V4(ip) => format!("https://{ip}:{}", self.port),
        }
    }

    /// The serving certificate's SANs (kubeadm's list plus `--tls-san`).
    pub fn serving_sans(&self) -> (Vec<String>, Vec<IpAddr>) {
        let mut dns: Vec<String> = Vec::new();
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut add_ip = |ip: IpAddr| {
            if !ip.is_unspecified() && !ips.contains(&ip) {
                ips.push(ip);
            }
        };
        add_ip(self.advertise_address);
        add_ip(self.listen_address);
        add_ip(IpAddr::from([127, 0, 0, 1]));
        add_ip(self.service_ip);
        let mut names: Vec<String> = vec![
            self.hostname.clone(),
            "localhost".into(),
            "kubernetes".into(),
            "kubernetes.default".into(),
            "kubernetes.default.svc".into(),
            "kubernetes.default.svc.cluster.local".into(),
        ];
        for san in &self.extra_sans {
            match san.parse::<IpAddr>() {
                Ok(ip) => add_ip(ip),
                Err(_) => names.push(san.clone()),
            }
        }
        for n in names {
            if !n.is_empty() && !dns.contains(&n) {
                dns.push(n);
            }
        }
        (dns, ips)
    }
}

/// The PKI as [`ensure`] left it.
#[derive(Debug, Clone)]
pub struct ClusterPki {
    /// `D/pki`
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    pub ca_cert_pem: String,
    pub server_url: String,
}

impl ClusterPki {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.data_dir.join(ADMIN_KUBECONFIG)
    }
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    pki::files::write_private(path, text.as_bytes()).map_err(|source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn write_public(path: &Path, text: &str) -> Result<(), PkiError> {
    pki::files::write_public(path, text.as_bytes()).map_err(|source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether both files of a pair exist; one without the other is an error (never
/// overwritten: it may be the half someone still needs).
fn pair_exists(a: &Path, b: &Path) -> Result<bool, PkiError> {
    match (a.exists(), b.exists()) {
        (true, true) => Ok(true),
        (false, false) => Ok(false),
        (true, false) => Err(PkiError::HalfPair {
            present: a.to_path_buf(),
            missing: b.to_path_buf(),
        }),
        (false, true) => Err(PkiError::HalfPair {
            present: b.to_path_buf(),
            missing: a.to_path_buf(),
        }),
    }
}

fn pki_error(path: &Path) -> impl FnOnce(pki::Error) -> PkiError + '_ {
    move |source| PkiError::Pki {
        path: path.to_path_buf(),
        source,
    }
}

/// The CA of `dir`, made if missing.
fn ensure_ca(dir: &Path) -> Result<Ca, PkiError> {
    let (cert, key) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if pair_exists(&cert, &key)? {
        return Ca::from_pem(&read(&cert)?, &read(&key)?).map_err(pki_error(&cert));
    }
    let ca = Ca::generate(CLUSTER_NAME, CA_VALIDITY).map_err(pki_error(&cert))?;
    write_private(&key, ca.key_pem())?;
    write_public(&cert, ca.cert_pem())?;
    info!(path = %cert.display(), "created the cluster CA");
    Ok(ca)
}

/// A certificate and key issued by `ca` as `spec`, unless both files exist.
fn ensure_issued(ca: &Ca, cert: &Path, key: &Path, spec: &CertSpec) -> Result<(), PkiError> {
    if pair_exists(cert, key)? {
        return Ok(());
    }
    let issued = ca.issue(spec).map_err(pki_error(cert))?;
    write_private(key, &issued.key_pem)?;
    write_public(cert, &issued.cert_pem)?;
    info!(path = %cert.display(), cn = %spec.common_name, "issued a certificate");
    Ok(())
}

/// The ServiceAccount signing key pair (`proto::satoken` key files), made if missing.
pub fn ensure_sa_key(dir: &Path) -> Result<proto::satoken::PrivateKey, PkiError> {
    let (key_path, pub_path) = (dir.join(SA_KEY), dir.join(SA_PUB));
    if key_path.exists() {
        let key =
            proto::satoken::decode_private_key(&read(&key_path)?).map_err(|e| PkiError::Key {
                path: key_path.clone(),
                message: e.to_string(),
            })?;
        if !pub_path.exists() {
            write_public(
                &pub_path,
                &proto::satoken::encode_key(key.verifying_key().as_bytes()),
            )?;
        }
        return Ok(key);
    }
    if pub_path.exists() {
        return Err(PkiError::HalfPair {
            present: pub_path,
            missing: key_path,
        });
    }
    let key = proto::satoken::private_key_from_seed(rand::random::<[u8; 32]>());
    write_private(&key_path, &proto::satoken::encode_key(&key.to_bytes()))?;
    write_public(
        &pub_path,
        &proto::satoken::encode_key(key.verifying_key().as_bytes()),
    )?;
    info!(path = %key_path.display(), "created the service-account signing key");
    Ok(key)
}

fn client_spec(common_name: &str, organizations: &[&str]) -> CertSpec {
    CertSpec {
        common_name: common_name.to_string(),
        organizations: organizations.iter().map(|o| o.to_string()).collect(),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        usages: vec![Usage::ClientAuth],
        validity: YEAR,
    }
}

/// Makes every missing piece of the layout above; keeps what exists.
pub fn ensure(data_dir: &Path, options: &PkiOptions) -> Result<ClusterPki, PkiError> {
    let dir = data_dir.join("pki");
    crate::private_dir::ensure(&dir).map_err(|source| PkiError::Write {
        path: dir.clone(),
        source,
    })?;
    let ca = ensure_ca(&dir)?;
    let (dns_names, ip_addresses) = options.serving_sans();
    ensure_issued(
        &ca,
        &dir.join(APISERVER_CERT),
        &dir.join(APISERVER_KEY),
        &CertSpec {
            common_name: "kube-apiserver".to_string(),
            organizations: Vec::new(),
            dns_names,
            ip_addresses,
            usages: vec![Usage::ServerAuth],
            validity: YEAR,
        },
    )?;
    warn_if_not_covered(&dir.join(APISERVER_CERT), options.advertise_address);
    ensure_issued(
        &ca,
        &dir.join(KUBELET_CLIENT_CERT),
        &dir.join(KUBELET_CLIENT_KEY),
        &client_spec(
            crate::auth::user::names::APISERVER_KUBELET_CLIENT,
            &["system:masters"],
        ),
    )?;
    ensure_sa_key(&dir)?;
    let server_url = options.server_url();
    for (file, user, groups) in KUBECONFIGS {
        let path = data_dir.join(file);
        if path.exists() {
            continue;
        }
        let issued = ca
            .issue(&client_spec(user, groups))
            .map_err(pki_error(&path))?;
        let kubeconfig = client::kubeconfig::Kubeconfig::for_user(
            CLUSTER_NAME,
            &server_url,
            ca.cert_pem(),
            user,
            &client::connection::Credentials::ClientCert {
                cert_pem: issued.cert_pem,
                key_pem: issued.key_pem,
            },
        );
        kubeconfig.write(&path).map_err(|source| PkiError::Write {
            path: path.clone(),
            source,
        })?;
        info!(path = %path.display(), %user, "wrote a kubeconfig");
    }
    Ok(ClusterPki {
        dir,
        data_dir: data_dir.to_path_buf(),
        ca_cert_pem: ca.cert_pem().to_string(),
        server_url,
    })
}

/// A serving certificate kept from an earlier start may not name a new advertise address.
fn warn_if_not_covered(cert: &Path, advertise: IpAddr) {
    let Ok(pem) = std::fs::read_to_string(cert) else {
        return;
    };
    if let Ok(infos) = pki::inspect::parse_pem(&pem)
        && let Some(leaf) = infos.first()
        && !leaf.ip_addresses.contains(&advertise)
    {
        warn!(path = %cert.display(), %advertise, "the serving certificate does not name the advertise address; clients dialing it will refuse the server (remove apiserver.crt and apiserver.key to make a new one)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> PkiOptions {
        PkiOptions {
            advertise_address: "10.1.2.3".parse().unwrap(),
            port: 6443,
            listen_address: "0.0.0.0".parse().unwrap(),
            service_ip: "10.96.0.1".parse().unwrap(),
            hostname: "cp1".into(),
            extra_sans: vec!["api.example".into(), "192.0.2.7".into()],
        }
    }

    #[test]
    fn serving_sans_are_kubeadms_plus_extras() {
        let (dns, ips) = options().serving_sans();
        let ips: Vec<String> = ips.iter().map(|i| i.to_string()).collect();
        assert_eq!(ips, ["10.1.2.3", "127.0.0.1", "10.96.0.1", "192.0.2.7"]);
        assert_eq!(
            dns,
            [
                "cp1",
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "api.example"
            ]
        );
        assert_eq!(options().server_url(), "https://10.1.2.3:6443");
        let local = PkiOptions {
            listen_address: "127.0.0.1".parse().unwrap(),
            ..options()
        };
        assert_eq!(local.server_url(), "https://127.0.0.1:6443");
    }

    #[test]
    fn ensure_makes_the_layout_once_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("data");
        let first = ensure(&d, &options()).unwrap();
        let files = [
            "pki/ca.crt",
            "pki/ca.key",
            "pki/apiserver.crt",
            "pki/apiserver.key",
            "pki/apiserver-kubelet-client.crt",
            "pki/apiserver-kubelet-client.key",
            "pki/sa.key",
            "pki/sa.pub",
            "admin.kubeconfig",
            "controller-manager.kubeconfig",
            "scheduler.kubeconfig",
            "kube-proxy.kubeconfig",
            "cluster-dns.kubeconfig",
        ];
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let before: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(d.join(f)).unwrap())
            .collect();
        for f in files {
            let m = mode(&d.join(f));
            if f.ends_with(".key") || f.ends_with(".kubeconfig") {
                assert_eq!(m, 0o600, "{f}");
            }
        }
        assert_eq!(mode(&d.join("pki")), 0o700);
        // The serving certificate names what clients dial.
        let serving = pki::inspect::parse_pem(&before[2]).unwrap();
        assert!(
            serving[0]
                .ip_addresses
                .contains(&"10.1.2.3".parse().unwrap())
        );
        assert!(
            serving[0]
                .dns_names
                .contains(&"kubernetes.default.svc.cluster.local".to_string())
        );
        // The admin kubeconfig connects as kubernetes-admin in system:masters.
        let admin = client::kubeconfig::Kubeconfig::load(&first.admin_kubeconfig()).unwrap();
        let conn = admin.connection(None).unwrap();
        assert_eq!(conn.server, "https://10.1.2.3:6443");
        let client::connection::Credentials::ClientCert { cert_pem, .. } = conn.credentials else {
            panic!("a client certificate")
        };
        let info = pki::inspect::parse_pem(&cert_pem).unwrap();
        assert_eq!(info[0].common_name, "kubernetes-admin");
        assert_eq!(info[0].organizations, ["system:masters"]);
        // A second run keeps every file as it is.
        let again = ensure(&d, &options()).unwrap();
        assert_eq!(again.ca_cert_pem, first.ca_cert_pem);
        for (f, b) in files.iter().zip(&before) {
            assert_eq!(&std::fs::read_to_string(d.join(f)).unwrap(), b, "{f}");
        }
        // Half a pair is refused, never replaced.
        std::fs::remove_file(d.join("pki/apiserver.key")).unwrap();
        let e = ensure(&d, &options()).unwrap_err();
        assert!(matches!(e, PkiError::HalfPair { .. }), "{e}");
        assert!(d.join("pki/apiserver.crt").exists());
    }
}
