//! `ctl certificate approve|deny NAME...`: adds the Approved or Denied condition to
//! CertificateSigningRequests through their `approval` subresource, as kubectl does.

use super::Ctx;
use crate::args::{CertificateArgs, CertificateCommand};
use anyhow::{Result, anyhow};
use proto::k8s::{CertificateSigningRequest, CertificateSigningRequestCondition};
use proto::{Reason, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    fn condition(self) -> &'static str {
        match self {
            Decision::Approve => "Approved",
            Decision::Deny => "Denied",
        }
    }
    fn opposite(self) -> &'static str {
        match self {
            Decision::Approve => "Denied",
            Decision::Deny => "Approved",
        }
    }
    fn past(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Deny => "denied",
        }
    }
}

/// The CSR with the decision's condition added; `None` when it already has it; an error
/// when it carries the opposite one (a CSR is never both), unless `force`.
pub fn decide(
    csr: &CertificateSigningRequest,
    decision: Decision,
    force: bool,
    now: &str,
) -> Result<Option<CertificateSigningRequest>> {
    let conditions = csr
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    if conditions.iter().any(|c| c.r#type == decision.condition()) {
        return Ok(None);
    }
    if !force && conditions.iter().any(|c| c.r#type == decision.opposite()) {
        return Err(anyhow!(
            "certificate signing request {:?} is already {}",
            csr.meta().name,
            decision.opposite().to_lowercase()
        ));
    }
    let (reason, message) = match decision {
        Decision::Approve => (
            "KubectlApprove",
            "This CSR was approved by kubectl certificate approve.",
        ),
        Decision::Deny => (
            "KubectlDeny",
            "This CSR was denied by kubectl certificate deny.",
        ),
    };
    let mut out = csr.clone();
    out.status
        .get_or_insert_with(Default::default)
        .conditions
        .push(CertificateSigningRequestCondition {
            r#type: decision.condition().into(),
            status: "True".into(),
            reason: reason.into(),
            message: message.into(),
            last_update_time: now.to_string(),
            last_transition_time: now.to_string(),
        });
    Ok(Some(out))
}

pub async fn certificate(ctx: &Ctx, args: &CertificateArgs) -> Result<()> {
    let (decision, names, force) = match &args.command {
        CertificateCommand::Approve { names, force } => (Decision::Approve, names, *force),
        CertificateCommand::Deny { names, force } => (Decision::Deny, names, *force),
    };
    let mut failures = 0;
    for name in names {
        match decide_one(ctx, name, decision, force).await {
            Ok(()) => println!(
                "certificatesigningrequest.certificates.k8s.io/{name} {}",
                decision.past()
            ),
            Err(e) => super::report(&mut failures, &e),
        }
    }
    super::finish(failures)
}

/// Approves or denies one CSR through its approval subresource.
pub async fn decide_one(ctx: &Ctx, name: &str, decision: Decision, force: bool) -> Result<()> {
    let api = ctx.api().await?;
    let resource = CertificateSigningRequest::INFO.plural;
    // A concurrent writer (the approver controller) may win once or twice: read again.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let csr = CertificateSigningRequest::try_from_object(api.get(resource, "", name).await?)
            .map_err(|_| anyhow!("the server returned another kind for {name:?}"))?;
        let now = proto::time::format_rfc3339(std::time::SystemTime::now());
        let Some(updated) = decide(&csr, decision, force, &now)? else {
            return Ok(());
        };
        match api
            .call(api.client().update(updated.into_object(), "approval"))
            .await
        {
            Err(e) if crate::api::reason_of(&e) == Some(Reason::Conflict) && attempt < 3 => {}
            other => return other.map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::CertificateSigningRequestStatus;

    fn csr(conditions: &[&str]) -> CertificateSigningRequest {
        let mut c = CertificateSigningRequest::default();
        c.meta_mut().name = "node-csr-1".into();
        c.status = Some(CertificateSigningRequestStatus {
            conditions: conditions
                .iter()
                .map(|t| CertificateSigningRequestCondition {
                    r#type: t.to_string(),
                    status: "True".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        c
    }

    #[test]
    fn approve_and_deny_as_kubectl() {
        let now = "2026-12-06T08:00:00Z";
        let out = decide(&csr(&[]), Decision::Approve, false, now)
            .unwrap()
            .unwrap();
        let c = &out.status.unwrap().conditions[0];
        assert_eq!(
            (c.r#type.as_str(), c.status.as_str(), c.reason.as_str()),
            ("Approved", "True", "KubectlApprove")
        );
        assert_eq!(c.last_update_time, now);
        assert!(
            decide(&csr(&["Approved"]), Decision::Approve, false, now)
                .unwrap()
                .is_none()
        );
        let e = decide(&csr(&["Denied"]), Decision::Approve, false, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "certificate signing request \"node-csr-1\" is already denied"
        );
        let e = decide(&csr(&["Approved"]), Decision::Deny, false, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "certificate signing request \"node-csr-1\" is already approved"
        );
        let out = decide(&csr(&[]), Decision::Deny, false, now)
            .unwrap()
            .unwrap();
        assert_eq!(out.status.unwrap().conditions[0].reason, "KubectlDeny");
    }
}
