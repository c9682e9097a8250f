//! certificates.k8s.io: CertificateSigningRequest (`pkg/apis/certificates/validation`).
//! The request's signature is checked where a crypto library lives (the signer); here only
//! its PEM framing.

use super::Errors;
use crate::k8s;
use crate::validation::{FieldError, is_dns1123_subdomain};
use base64::Engine;

/// Kubernetes' `KeyUsage` values.
pub const KEY_USAGES: &[&str] = &[
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];

pub const SIGNER_KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";
pub const SIGNER_KUBE_APISERVER_CLIENT_KUBELET: &str =
    "kubernetes.io/kube-apiserver-client-kubelet";
pub const SIGNER_KUBELET_SERVING: &str = "kubernetes.io/kubelet-serving";
pub const SIGNER_LEGACY_UNKNOWN: &str = "kubernetes.io/legacy-unknown";

pub const CONDITION_APPROVED: &str = "Approved";
pub const CONDITION_DENIED: &str = "Denied";
pub const CONDITION_FAILED: &str = "Failed";

/// Shortest `expirationSeconds` a request may ask for (10 minutes).
pub const MIN_EXPIRATION_SECONDS: i32 = 600;

/// The DER of each PEM block of type `label` in `pem`, in order; `Err` names what is wrong
/// with the framing.
pub fn pem_blocks(pem: &[u8], label: &str) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "PEM data is not text".to_string())?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let stop = after
            .find(&end)
            .ok_or_else(|| format!("PEM block {label} has no END line"))?;
        let body: String = after[..stop].split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| format!("PEM block {label} is not valid base64"))?;
        out.push(der);
        rest = &after[stop + end.len()..];
    }
    Ok(out)
}

/// Kubernetes' `ParseCSR` framing rule: the first PEM block is a CERTIFICATE REQUEST.
fn request(pem: &[u8], e: &mut Errors) {
    let first_label = std::str::from_utf8(pem)
        .ok()
        .and_then(|t| t.split_once("-----BEGIN "))
        .and_then(|(_, rest)| rest.split_once("-----"))
        .map(|(label, _)| label);
    let ok = first_label == Some("CERTIFICATE REQUEST")
        && pem_blocks(pem, "CERTIFICATE REQUEST")
            .is_ok_and(|b| b.first().is_some_and(|d| !d.is_empty()));
    if !ok {
        e.push(FieldError::new(
            "spec.request",
            "Invalid value: PEM block type must be CERTIFICATE REQUEST",
        ));
    }
}

/// Kubernetes' `ValidateSignerName`: `<fully qualified domain>/<path>`.
pub fn signer_name_errors(name: &str) -> Vec<String> {
    let Some((domain, path)) = name.split_once('/') else {
        return vec![
            "must be a fully qualified domain and path of the form 'example.com/signer-name'"
                .to_string(),
        ];
    };
    let mut errs = Vec::new();
    if domain.split('.').count() < 2 {
        errs.push("should be a domain with at least two segments separated by dots".to_string());
    }
    errs.extend(is_dns1123_subdomain(domain));
    if path.is_empty() {
        errs.push("validating path: path may not be empty".to_string());
    } else if path.len() > 253 {
        errs.push("validating path: must be no more than 253 characters".to_string());
    }
    errs
}

pub(super) fn csr(csr: &k8s::CertificateSigningRequest, e: &mut Errors) {
    let default = k8s::CertificateSigningRequestSpec::default();
    let spec = csr.spec.as_ref().unwrap_or(&default);
    request(&spec.request, e);
    if spec.signer_name.is_empty() {
        e.push(FieldError::required("spec.signerName", ""));
    } else {
        for msg in signer_name_errors(&spec.signer_name) {
            e.push(FieldError::invalid(
                "spec.signerName",
                &spec.signer_name,
                msg,
            ));
        }
    }
    if spec.usages.is_empty() {
        e.push(FieldError::required(
            "spec.usages",
            "usages must be provided",
        ));
    }
    for (i, usage) in spec.usages.iter().enumerate() {
        let path = format!("spec.usages[{i}]");
        if !KEY_USAGES.contains(&usage.as_str()) {
            e.push(FieldError::not_supported(&path, usage, KEY_USAGES));
        } else if spec.usages[..i].contains(usage) {
            e.push(FieldError::duplicate(&path, usage));
        }
    }
    if let Some(secs) = spec.expiration_seconds
        && secs < MIN_EXPIRATION_SECONDS
    {
        e.push(FieldError::invalid(
            "spec.expirationSeconds",
            secs,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    if let Some(status) = &csr.status {
        csr_status(status, e);
    }
}

/// Conditions and certificate (Kubernetes' `validateConditions` and
/// `validateCertificate`): condition types set once, Approved and Denied exclusive, the
/// certificate PEM CERTIFICATE blocks only.
fn csr_status(status: &k8s::CertificateSigningRequestStatus, e: &mut Errors) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in status.conditions.iter().enumerate() {
        let path = format!("status.conditions[{i}]");
        if c.r#type.is_empty() {
            e.push(FieldError::required(format!("{path}.type"), ""));
        }
        match c.status.as_str() {
            "True" | "False" | "Unknown" => {}
            "" => e.push(FieldError::required(format!("{path}.status"), "")),
            other => e.push(FieldError::not_supported(
                format!("{path}.status"),
                other,
                &["False", "True", "Unknown"],
            )),
        }
        if seen.contains(&c.r#type.as_str()) {
            e.push(FieldError::duplicate(format!("{path}.type"), &c.r#type));
        }
        seen.push(&c.r#type);
    }
    if seen.contains(&CONDITION_APPROVED) && seen.contains(&CONDITION_DENIED) {
        e.push(FieldError::invalid(
            "status.conditions",
            CONDITION_APPROVED,
            "Approved and Denied conditions are mutually exclusive",
        ));
    }
    if !status.certificate.is_empty() {
        let only_certs = std::str::from_utf8(&status.certificate)
            .is_ok_and(|t| !t.contains("-----BEGIN ") || only_label(t, "CERTIFICATE"));
        match pem_blocks(&status.certificate, "CERTIFICATE") {
            Ok(blocks) if !blocks.is_empty() && only_certs => {}
            Ok(_) => e.push(FieldError::new(
                "status.certificate",
                "Invalid value: \"<certificate data>\": must contain at least one CERTIFICATE PEM block and nothing else",
            )),
            Err(err) => e.push(FieldError::new(
                "status.certificate",
                format!("Invalid value: \"<certificate data>\": {err}"),
            )),
        }
    }
}

fn only_label(text: &str, label: &str) -> bool {
    text.split("-----BEGIN ")
        .skip(1)
        .all(|rest| rest.starts_with(&format!("{label}-----")))
}

/// What an update of a CSR may change: never the spec; conditions of type Approved, Denied
/// and Failed are never removed once set; the certificate is set once.
pub(super) fn csr_update(
    new: &k8s::CertificateSigningRequest,
    cur: &k8s::CertificateSigningRequest,
    e: &mut Errors,
) {
    if new.spec != cur.spec {
        e.push(FieldError::new("spec", "Invalid value: field is immutable"));
    }
    let types = |c: &k8s::CertificateSigningRequest| -> Vec<String> {
        c.status
            .iter()
            .flat_map(|s| s.conditions.iter().map(|c| c.r#type.clone()))
            .collect()
    };
    let (new_types, cur_types) = (types(new), types(cur));
    for t in [CONDITION_APPROVED, CONDITION_DENIED, CONDITION_FAILED] {
        if cur_types.iter().any(|x| x == t) && !new_types.iter().any(|x| x == t) {
            e.push(FieldError::forbidden(
                "status.conditions",
                format!("updates may not remove a condition of type {t:?}"),
            ));
        }
    }
    let cert = |c: &k8s::CertificateSigningRequest| {
        c.status
            .as_ref()
            .map(|s| s.certificate.clone())
            .unwrap_or_default()
    };
    let (new_cert, cur_cert) = (cert(new), cert(cur));
    if !cur_cert.is_empty() && new_cert != cur_cert {
        e.push(FieldError::new(
            "status.certificate",
            "Invalid value: \"<certificate data>\": updates may not modify existing certificate content",
        ));
    }
}
