//! kubeadm's `--discovery-token-ca-cert-hash`: "sha256:" and the hex SHA-256 of the CA
//! certificate's DER SubjectPublicKeyInfo (so a re-issued CA with the same key keeps its pin).

use sha2::{Digest, Sha256};

use crate::Error;
use crate::inspect::parse_x509;

/// The pin of the first certificate in `cert_pem`: "sha256:<64 lowercase hex>".
pub fn ca_cert_hash(cert_pem: &str) -> Result<String, Error> {
    let certs = crate::pem::certificates(cert_pem)?;
    ca_cert_hash_der(&certs[0])
}

pub fn ca_cert_hash_der(der: &[u8]) -> Result<String, Error> {
    let cert = parse_x509(der)?;
    let digest = Sha256::digest(cert.tbs_certificate.subject_pki.raw);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{Ca, CertSpec, Usage};
    use std::time::Duration;

    #[test]
    fn hash_is_sha256_of_the_public_key_in_lowercase_hex() {
        let ca = Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let hash = ca_cert_hash(ca.cert_pem()).unwrap();
        let hex = hash.strip_prefix("sha256:").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        // A certificate for another key has another pin.
        let leaf = ca
            .issue(&CertSpec {
                common_name: "x".into(),
                organizations: vec![],
                dns_names: vec![],
                ip_addresses: vec![],
                usages: vec![Usage::ServerAuth],
                validity: Duration::from_secs(3600),
            })
            .unwrap();
        assert_ne!(ca_cert_hash(&leaf.cert_pem).unwrap(), hash);
        assert!(ca_cert_hash("garbage").is_err());
    }

    /// kubeadm documents the pin as
    /// `openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | openssl dgst -sha256`;
    /// with `pkey` for EC keys. Compared when openssl is installed.
    #[test]
    fn hash_matches_openssl() {
        if !testkit::require("hash_matches_openssl", &[testkit::Prereq::Tool("openssl")]) {
            return;
        }
        let ca = Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let crt = dir.path().join("ca.crt");
        std::fs::write(&crt, ca.cert_pem()).unwrap();
        let script = format!(
            "openssl x509 -pubkey -noout -in {} | openssl pkey -pubin -outform der | sha256sum",
            crt.display()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let expected = stdout.split_whitespace().next().unwrap();
        assert_eq!(
            ca_cert_hash(ca.cert_pem()).unwrap(),
            format!("sha256:{expected}")
        );
    }
}
