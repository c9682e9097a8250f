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

/// The first private key block as PKCS#8, which is all ring (and so rcgen) can sign with:
/// SEC1 "EC PRIVATE KEY" (what Kubernetes writes for EC keys) and PKCS#1 "RSA PRIVATE KEY"
/// (kubeadm's RSA CAs) are wrapped, as rustls does for SEC1.
pub(crate) fn pkcs8_private_key(pem: &str) -> Result<PrivateKeyDer<'static>, Error> {
    let pkcs8 = match private_key(pem)? {
        key @ PrivateKeyDer::Pkcs8(_) => return Ok(key),
        PrivateKeyDer::Sec1(sec1) => {
            let der = sec1.secret_sec1_der();
            let prefix = if contains(der, OID_P256) {
                PKCS8_PREFIX_P256
            } else if contains(der, OID_P384) {
                PKCS8_PREFIX_P384
            } else {
                return Err(Error::Key(
                    "EC private key on a curve other than P-256 or P-384, or without its curve"
                        .into(),
                ));
            };
            der_wrap(0x30, &[prefix, &der_wrap(0x04, &[der])])
        }
        PrivateKeyDer::Pkcs1(pkcs1) => der_wrap(
            0x30,
            &[
                PKCS8_PREFIX_RSA,
                &der_wrap(0x04, &[pkcs1.secret_pkcs1_der()]),
            ],
        ),
        _ => return Err(Error::Key("unsupported private key format".into())),
    };
    Ok(PrivateKeyDer::Pkcs8(pkcs8.into()))
}

// PKCS#8 PrivateKeyInfo up to the key: INTEGER version 0, then the AlgorithmIdentifier.
// id-ecPublicKey with prime256v1 / secp384r1; rsaEncryption with NULL parameters.
const PKCS8_PREFIX_P256: &[u8] = b"\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";
const PKCS8_PREFIX_P384: &[u8] =
    b"\x02\x01\x00\x30\x10\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x05\x2b\x81\x04\x00\x22";
const PKCS8_PREFIX_RSA: &[u8] =
    b"\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00";
// The curve OIDs as they appear (tag, length, value) in a SEC1 key's parameters.
const OID_P256: &[u8] = b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";
const OID_P384: &[u8] = b"\x06\x05\x2b\x81\x04\x00\x22";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// DER tag + definite length + the parts concatenated.
fn der_wrap(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    for part in parts {
        out.extend_from_slice(part);
    }
    out
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
    fn der_lengths_short_and_long() {
        assert_eq!(der_wrap(0x04, &[&[1, 2]]), vec![0x04, 2, 1, 2]);
        let long = der_wrap(0x04, &[&[0u8; 200]]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = der_wrap(0x30, &[&[0u8; 300], &[0u8; 10]]);
        assert_eq!(&longer[..4], &[0x30, 0x82, 0x01, 0x36]);
        assert_eq!(longer.len(), 4 + 310);
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
