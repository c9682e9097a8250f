//! One CertificateSigningRequest, from key to signed certificate: a fresh key and CSR
//! (`pki::csr::generate`), the CSR object created through the API, then a watch until the
//! signer writes status.certificate (or the request is Denied or Failed).

use super::shape::CsrShape;
use crate::error::{Error, Result};
use client::{Api, Client, WatchEvent, WatchParams};
use futures::StreamExt;
use proto::k8s::{
    CertificateSigningRequest, CertificateSigningRequestSpec, CertificateSigningRequestStatus,
    ObjectMeta,
};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long one request waits for its certificate before it is given up (and retried by
/// the caller with a fresh key).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Issued(String),
    Denied(String),
    Failed(String),
}

fn condition_text(name: &str, what: &str, reason: &str, message: &str) -> String {
    format!("certificate signing request {name} {what}, reason: {reason}, message: {message}")
}

/// Client-go's `waitForCertificate` decision: Denied and Failed end the wait, a non-empty
/// certificate with an Approved condition is the answer.
pub fn outcome(csr: &CertificateSigningRequest) -> Outcome {
    let name = csr.metadata.as_ref().map(|m| m.name.as_str()).unwrap_or("");
    let status = csr.status.clone().unwrap_or_default();
    let mut approved = false;
    for c in &status.conditions {
        if c.status == "False" {
            continue;
        }
        match c.r#type.as_str() {
            "Denied" => {
                return Outcome::Denied(condition_text(name, "is denied", &c.reason, &c.message));
            }
            "Failed" => {
                return Outcome::Failed(condition_text(name, "failed", &c.reason, &c.message));
            }
            "Approved" => approved = true,
            _ => {}
        }
    }
    if approved && !status.certificate.is_empty() {
        match String::from_utf8(status.certificate) {
            Ok(pem) => Outcome::Issued(pem),
            Err(_) => Outcome::Failed(format!(
                "certificate signing request {name}: the issued certificate is not PEM text"
            )),
        }
    } else {
        Outcome::Pending
    }
}

/// The object for `shape` and the CSR PEM.
pub fn csr_object(name: &str, shape: &CsrShape, csr_pem: &str) -> CertificateSigningRequest {
    CertificateSigningRequest {
        api_version: "certificates.k8s.io/v1".into(),
        kind: "CertificateSigningRequest".into(),
        metadata: Some(ObjectMeta {
            name: name.to_string(),
            ..Default::default()
        }),
        spec: Some(CertificateSigningRequestSpec {
            request: csr_pem.as_bytes().to_vec(),
            signer_name: shape.signer_name.to_string(),
            usages: shape.usages.iter().map(|u| u.to_string()).collect(),
            ..Default::default()
        }),
        status: Some(CertificateSigningRequestStatus::default()),
    }
}

/// A signed certificate and its private key (PEM).
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Makes a key, asks for a certificate of `shape` and waits for it (at most `timeout`).
pub async fn request_certificate(
    client: &Client,
    shape: &CsrShape,
    bootstrap: bool,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Issued> {
    let (csr_pem, key_pem) = pki::csr::generate(
        &shape.common_name,
        &shape.organizations,
        &shape.dns_names,
        &shape.ip_addresses,
    )
    .map_err(|e| Error::Certificate(format!("making a certificate request: {e}")))?;
    let name = super::shape::object_name(bootstrap);
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let created = api.create(&csr_object(&name, shape, &csr_pem)).await?;
    tracing::info!(csr = %name, signer = shape.signer_name, "certificate signing request created; waiting for the certificate");
    let wait = wait_for_certificate(&api, created);
    let cert_pem = tokio::select! {
        _ = cancel.cancelled() => return Err(Error::Certificate(format!("stopped while waiting for certificate signing request {name}"))),
        r = tokio::time::timeout(timeout, wait) => r.map_err(|_| Error::Certificate(format!(
            "certificate signing request {name} was not signed within {timeout:?}"
        )))??,
    };
    tracing::info!(csr = %name, "certificate issued");
    Ok(Issued { cert_pem, key_pem })
}

async fn wait_for_certificate(
    api: &Api<CertificateSigningRequest>,
    mut current: CertificateSigningRequest,
) -> Result<String> {
    let name = current
        .metadata
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let mut backoff = client::Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        match outcome(&current) {
            Outcome::Issued(pem) => return Ok(pem),
            Outcome::Denied(m) | Outcome::Failed(m) => return Err(Error::Certificate(m)),
            Outcome::Pending => {}
        }
        let rv = current
            .metadata
            .as_ref()
            .map(|m| m.resource_version.clone())
            .unwrap_or_default();
        let params = WatchParams {
            resource_version: rv,
            field_selector: format!("metadata.name={name}"),
            ..Default::default()
        };
        match api.watch(&params).await {
            Ok(mut stream) => {
                while let Some(ev) = stream.next().await {
                    let obj = match ev {
                        Ok(WatchEvent::Added(o)) | Ok(WatchEvent::Modified(o)) => o,
                        Ok(WatchEvent::Deleted(_)) => {
                            return Err(Error::Certificate(format!(
                                "certificate signing request {name} was deleted before it was signed"
                            )));
                        }
                        Ok(WatchEvent::Bookmark(_)) => continue,
                        Err(e) => {
                            tracing::debug!(csr = %name, error = %e, "watch of the certificate signing request ended");
                            break;
                        }
                    };
                    if obj.metadata.as_ref().is_some_and(|m| m.name != name) {
                        continue;
                    }
                    match outcome(&obj) {
                        Outcome::Pending => current = obj,
                        _ => {
                            current = obj;
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(csr = %name, error = %e, "watching the certificate signing request failed")
            }
        }
        if !matches!(outcome(&current), Outcome::Pending) {
            continue;
        }
        // The watch ended without an answer: read the object again, after a pause.
        tokio::time::sleep(backoff.next_delay()).await;
        match api.get(&name).await {
            Ok(o) => current = o,
            Err(e) if e.reason == proto::Reason::NotFound => {
                return Err(Error::Certificate(format!(
                    "certificate signing request {name} was deleted before it was signed"
                )));
            }
            Err(e) => {
                tracing::debug!(csr = %name, error = %e, "reading the certificate signing request failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::CertificateSigningRequestCondition;

    fn with(conditions: &[(&str, &str)], cert: &str) -> CertificateSigningRequest {
        let mut c = csr_object("node-csr-x", &super::super::shape::client("n1"), "CSR");
        c.status = Some(CertificateSigningRequestStatus {
            conditions: conditions
                .iter()
                .map(|(t, s)| CertificateSigningRequestCondition {
                    r#type: t.to_string(),
                    status: s.to_string(),
                    reason: "R".into(),
                    message: "M".into(),
                    ..Default::default()
                })
                .collect(),
            certificate: cert.as_bytes().to_vec(),
        });
        c
    }

    #[test]
    fn object_carries_signer_usages_and_request() {
        let c = csr_object("node-csr-x", &super::super::shape::client("n1"), "PEM");
        let spec = c.spec.unwrap();
        assert_eq!(
            spec.signer_name,
            "kubernetes.io/kube-apiserver-client-kubelet"
        );
        assert_eq!(spec.request, b"PEM");
        assert_eq!(
            spec.usages,
            vec!["digital signature", "key encipherment", "client auth"]
        );
        assert_eq!(c.metadata.unwrap().name, "node-csr-x");
    }

    #[test]
    fn outcome_follows_conditions_and_certificate() {
        assert_eq!(outcome(&with(&[], "")), Outcome::Pending);
        assert_eq!(
            outcome(&with(&[("Approved", "True")], "")),
            Outcome::Pending
        );
        assert_eq!(
            outcome(&with(&[], "CERT")),
            Outcome::Pending,
            "not approved"
        );
        assert_eq!(
            outcome(&with(&[("Approved", "True")], "CERT")),
            Outcome::Issued("CERT".into())
        );
        assert_eq!(
            outcome(&with(&[("Denied", "True")], "")),
            Outcome::Denied(
                "certificate signing request node-csr-x is denied, reason: R, message: M".into()
            )
        );
        assert!(matches!(
            outcome(&with(&[("Approved", "True"), ("Failed", "True")], "")),
            Outcome::Failed(m) if m.contains("failed, reason: R")
        ));
        assert_eq!(
            outcome(&with(&[("Approved", "True"), ("Denied", "False")], "C")),
            Outcome::Issued("C".into())
        );
    }
}
