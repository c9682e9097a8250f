//! PEM in and out: certificates, keys and requests as the rest of the crate needs them.

use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer, PrivateKeyDer};

use crate::Error;

/// One PEM block with the given label, base64 wrapped at 64 columns (RFC 7468).
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Every CERTIFICATE block, in order; at least one.
pub(crate) fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(Error::Pem("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The first private key block (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1).
pub(crate) fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::Key(e.to_string()))
}

/// A CSR given as PEM (CERTIFICATE REQUEST, or NEW CERTIFICATE REQUEST) or as DER.
pub(crate) fn csr_der(input: &[u8]) -> Result<Vec<u8>, Error> {
    if !looks_like_pem(input) {
        return Ok(input.to_vec());
    }
    CertificateSigningRequestDer::from_pem_slice(input)
        .map(|der| der.as_ref().to_vec())
        .map_err(|e| Error::Csr(e.to_string()))
}

fn looks_like_pem(input: &[u8]) -> bool {
    input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .is_some_and(|start| input[start..].starts_with(b"-----BEGIN"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_wraps_at_64_columns_and_round_trips() {
        let der: Vec<u8> = (0..=255u8).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(back.as_ref(), der.as_slice());
    }

    #[test]
    fn certificates_needs_a_block() {
        let err = certificates("nothing here").unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
    }

    #[test]
    fn csr_input_may_be_der_or_pem() {
        assert_eq!(
            csr_der(&[0x30, 0x03, 1, 2, 3]).unwrap(),
            vec![0x30, 0x03, 1, 2, 3]
        );
        let pem = encode("CERTIFICATE REQUEST", &[0x30, 0x00]);
        assert_eq!(
            csr_der(format!("\n\n{pem}").as_bytes()).unwrap(),
            vec![0x30, 0x00]
        );
    }
}
