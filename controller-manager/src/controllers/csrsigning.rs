//! `csrsigning` (Kubernetes' csrsigning controller): an approved, unsigned, not failed
//! CertificateSigningRequest of a `kubernetes.io` signer this process serves
//! ([`certificates::SIGNERS`]) is signed with the cluster CA
//! (`--cluster-signing-cert-file`/`--cluster-signing-key-file`) and the certificate
//! written through the `status` subresource. A request whose subject or usages do not fit
//! its signer gets a `Failed` condition saying why. Without the CA files the controller is
//! off and says so once.

use crate::context::Context;
use crate::controllers::certificates::{self, has_certificate, is_approved, is_failed};
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use futures::FutureExt;
use futures::future::BoxFuture;
use pki::ca::{Ca, Usage};
use proto::Reason;
use proto::k8s::CertificateSigningRequest;
use proto::kind_validation::certificates::CONDITION_FAILED;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "csrsigning";
/// The reason of the `Failed` condition for a request that does not fit its signer.
pub const REASON_VALIDATION_FAILED: &str = "SignerValidationFailure";
/// The shortest validity given, whatever a CSR asks (Kubernetes: twice the backdate).
pub const MIN_DURATION: Duration = Duration::from_secs(600);

/// Whether the signer has anything to do with this CSR.
pub fn wants(csr: &CertificateSigningRequest) -> bool {
    let signer = csr
        .spec
        .as_ref()
        .map(|s| s.signer_name.as_str())
        .unwrap_or("");
    certificates::SIGNERS.contains(&signer)
        && is_approved(csr)
        && !is_failed(csr)
        && !has_certificate(csr)
}

/// Kubernetes' signer duration: the CSR's `expirationSeconds` within [10 min, `max`], and
/// never past the CA's own expiry.
pub fn validity(
    expiration_seconds: Option<i32>,
    max: Duration,
    now: SystemTime,
    ca_not_after: SystemTime,
) -> Duration {
    let wanted = match expiration_seconds {
        None => max,
        Some(s) => Duration::from_secs(u64::try_from(s).unwrap_or(0))
            .clamp(MIN_DURATION, max.max(MIN_DURATION)),
    };
    let ca_left = ca_not_after.duration_since(now).unwrap_or_default();
    wanted.min(ca_left)
}

/// The certificate's extended key usages from the CSR's usage strings.
pub fn extended_usages(usages: &[String]) -> Vec<Usage> {
    let mut out = Vec::new();
    if usages.iter().any(|u| u == certificates::USAGE_CLIENT_AUTH) {
        out.push(Usage::ClientAuth);
    }
    if usages.iter().any(|u| u == certificates::USAGE_SERVER_AUTH) {
        out.push(Usage::ServerAuth);
    }
    out
}

/// What signing one CSR comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// PEM certificate for `status.certificate`.
    Signed(String),
    /// A message for the `Failed` condition.
    Failed(String),
}

/// The cluster CA with the signing limits.
pub struct Signer {
    ca: Ca,
    ca_not_after: SystemTime,
    max_duration: Duration,
}

impl Signer {
    pub fn new(ca: Ca, max_duration: Duration) -> Result<Signer, Error> {
        let ca_not_after = pki::inspect::parse_pem(ca.cert_pem())
            .ok()
            .and_then(|certs| certs.first().map(|c| c.not_after))
            .ok_or_else(|| Error::Config("the signing CA certificate does not parse".into()))?;
        Ok(Signer {
            ca,
            ca_not_after,
            max_duration,
        })
    }

    /// From `--cluster-signing-cert-file` and `--cluster-signing-key-file`; `None` when
    /// either is unset.
    pub fn from_config(config: &crate::Config) -> Result<Option<Signer>, Error> {
        let (Some(cert), Some(key)) = (
            &config.cluster_signing_cert_file,
            &config.cluster_signing_key_file,
        ) else {
            return Ok(None);
        };
        let read = |p: &std::path::Path, flag: &str| {
            std::fs::read_to_string(p)
                .map_err(|e| Error::Config(format!("--{flag} {}: {e}", p.display())))
        };
        let ca = Ca::from_pem(
            &read(cert, "cluster-signing-cert-file")?,
            &read(key, "cluster-signing-key-file")?,
        )
        .map_err(|e| {
            Error::Config(format!(
                "--cluster-signing-cert-file {} / --cluster-signing-key-file {}: {e}",
                cert.display(),
                key.display()
            ))
        })?;
        Signer::new(ca, config.cluster_signing_duration).map(Some)
    }

    /// Signs `csr` (which [`wants`] says is ours), or says why it cannot be.
    pub fn sign(&self, csr: &CertificateSigningRequest, now: SystemTime) -> Outcome {
        let default = Default::default();
        let spec = csr.spec.as_ref().unwrap_or(&default);
        let info = match pki::csr::parse(&spec.request) {
            Ok(info) => info,
            Err(e) => return Outcome::Failed(format!("unable to parse csr: {e}")),
        };
        if let Err(why) = certificates::fits_signer(&spec.signer_name, &info, &spec.usages) {
            return Outcome::Failed(why);
        }
        let Ok(pem) = std::str::from_utf8(&spec.request) else {
            return Outcome::Failed("unable to parse csr: the request is not PEM".into());
        };
        let duration = validity(
            spec.expiration_seconds,
            self.max_duration,
            now,
            self.ca_not_after,
        );
        if duration.is_zero() {
            return Outcome::Failed("the signing CA has expired".into());
        }
        match self
            .ca
            .sign_csr(pem, &extended_usages(&spec.usages), duration)
        {
            Ok(cert) => Outcome::Signed(cert),
            Err(e) => Outcome::Failed(format!("unable to sign csr: {e}")),
        }
    }
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Signing {
    ctx: Arc<Context>,
    signer: Signer,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let Some(signer) = Signer::from_config(&ctx.config)? else {
        tracing::info!(
            "no --cluster-signing-cert-file/--cluster-signing-key-file: not signing certificates"
        );
        return Ok(());
    };
    let controller = Controller::new_with(
        NAME,
        ctx.informer::<CertificateSigningRequest>(),
        |ev, q| {
            if !matches!(ev, InformerEvent::Deleted(_)) && wants(ev.object()) {
                q.add(ev.key());
            }
        },
    )
    .workers(ctx.config.concurrent_workers);
    let s = Arc::new(Signing {
        ctx: ctx.clone(),
        signer,
    });
    controller.run(reconcile, backoff, s, cancel).await;
    Ok(())
}

async fn reconcile(
    req: Request<CertificateSigningRequest>,
    s: Arc<Signing>,
) -> Result<Action, Error> {
    let Some(csr) = req.object else {
        return Ok(Action::Done);
    };
    if !wants(&csr) {
        return Ok(Action::Done);
    }
    let now = s.ctx.clock.now();
    let mut next = (*csr).clone();
    let status = next.status.get_or_insert_with(Default::default);
    match s.signer.sign(&csr, now) {
        Outcome::Signed(cert) => {
            status.certificate = cert.into_bytes();
            tracing::info!(csr = %req.key, "signed certificate");
        }
        Outcome::Failed(message) => {
            tracing::info!(csr = %req.key, %message, "not signing");
            let stamp = proto::time::format_rfc3339(now);
            status.conditions.push(certificates::condition(
                CONDITION_FAILED,
                REASON_VALIDATION_FAILED,
                &message,
                &stamp,
            ));
        }
    }
    match s
        .ctx
        .api::<CertificateSigningRequest>()
        .update_status(&next)
        .await
    {
        Ok(_) => Ok(Action::Done),
        // Deleted meanwhile; or changed (the new version comes back through the cache).
        Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => Ok(Action::Done),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{CertificateSigningRequestSpec, CertificateSigningRequestStatus};

    const HOUR: Duration = Duration::from_secs(3600);

    fn csr(signer: &str, request: &str, usages: &[&str]) -> CertificateSigningRequest {
        CertificateSigningRequest {
            spec: Some(CertificateSigningRequestSpec {
                request: request.as_bytes().to_vec(),
                signer_name: signer.into(),
                usages: usages.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }),
            status: Some(CertificateSigningRequestStatus {
                conditions: vec![certificates::condition("Approved", "AutoApproved", "", "")],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn validity_is_bounded() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let far = now + 100 * 24 * HOUR * 365;
        let max = 8760 * HOUR;
        assert_eq!(validity(None, max, now, far), max);
        assert_eq!(validity(Some(7200), max, now, far), 2 * HOUR);
        assert_eq!(validity(Some(10), max, now, far), MIN_DURATION);
        assert_eq!(validity(Some(i32::MAX), max, now, far), max);
        assert_eq!(validity(None, max, now, now + HOUR), HOUR);
        assert_eq!(validity(None, max, now, now - HOUR), Duration::ZERO);
    }

    #[test]
    fn wants_only_approved_unsigned_requests_of_our_signers() {
        let kubelet = "kubernetes.io/kube-apiserver-client-kubelet";
        let c = csr(kubelet, "x", &["client auth"]);
        assert!(wants(&c));
        let mut signed = c.clone();
        signed.status.as_mut().unwrap().certificate = b"PEM".to_vec();
        assert!(!wants(&signed));
        let mut pending = c.clone();
        pending.status = None;
        assert!(!wants(&pending));
        let mut failed = c.clone();
        failed
            .status
            .as_mut()
            .unwrap()
            .conditions
            .push(certificates::condition("Failed", "x", "", ""));
        assert!(!wants(&failed));
        assert!(!wants(&csr("example.com/other", "x", &["client auth"])));
    }

    #[test]
    fn signs_fitting_requests_and_fails_the_others() {
        let ca = Ca::generate("kubernetes", 10 * 8760 * HOUR).unwrap();
        let copy = Ca::from_pem(ca.cert_pem(), ca.key_pem()).unwrap();
        let signer = Signer::new(copy, 8760 * HOUR).unwrap();
        let now = SystemTime::now();
        let orgs = vec!["system:nodes".to_string()];
        let (req, _key) = pki::csr::generate("system:node:n1", &orgs, &[], &[]).unwrap();
        let usages = ["digital signature", "key encipherment", "client auth"];
        let mut c = csr("kubernetes.io/kube-apiserver-client-kubelet", &req, &usages);
        c.spec.as_mut().unwrap().expiration_seconds = Some(3600);
        let Outcome::Signed(cert) = signer.sign(&c, now) else {
            panic!("expected a certificate")
        };
        let info = &pki::inspect::parse_pem(&cert).unwrap()[0];
        assert_eq!(info.common_name, "system:node:n1");
        assert_eq!(info.organizations, orgs);
        let lifetime = info.not_after.duration_since(now).unwrap();
        assert!(
            lifetime <= HOUR && lifetime > HOUR - Duration::from_secs(60),
            "{lifetime:?}"
        );
        // The certificate is a client certificate of this CA.
        let verifier = pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap();
        let chain = pki::inspect::certs_from_pem(&cert).unwrap();
        let subject = verifier.verify(&chain, SystemTime::now()).unwrap();
        assert_eq!(subject.common_name, "system:node:n1");

        // A CSR that claims system:masters for the kubelet signer fails, and says why.
        let (bad, _) =
            pki::csr::generate("system:node:n1", &["system:masters".to_string()], &[], &[])
                .unwrap();
        let c = csr("kubernetes.io/kube-apiserver-client-kubelet", &bad, &usages);
        assert_eq!(
            signer.sign(&c, now),
            Outcome::Failed("subject organization is not system:nodes".into())
        );
        let c = csr(
            "kubernetes.io/kube-apiserver-client",
            "garbage",
            &["client auth"],
        );
        assert!(
            matches!(signer.sign(&c, now), Outcome::Failed(m) if m.starts_with("unable to parse csr"))
        );
    }
}
