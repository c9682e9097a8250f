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
