//! CertificateSigningRequest rules the registry applies (Kubernetes' CSR strategies): the
//! requestor's identity is written into the spec on create (a client cannot claim to be
//! someone else), the `approval` subresource changes only the Approved/Denied conditions
//! (never both, never removed), and the `status` subresource may add a certificate once but
//! not touch the approval. Approving and signing also need `approve` / `sign` on the
//! signer (`certificates.k8s.io/signers`), which `signer_attributes` describes. Pure.

use proto::ApiError;
use proto::k8s::{
    CertificateSigningRequest, CertificateSigningRequestCondition, ExtraValue, Object,
    object::Kind as K,
};
use proto::validation::FieldError;

use crate::auth::{Attributes, User};

const APPROVED: &str = "Approved";
const DENIED: &str = "Denied";

/// Sets spec.username, uid, groups and extra from the user creating the request.
pub fn set_requestor(object: &mut Object, user: &User) {
    let Some(K::CertificateSigningRequest(csr)) = &mut object.kind else {
        return;
    };
    let spec = csr.spec.get_or_insert_with(Default::default);
    spec.username = user.name.clone();
    spec.uid = user.uid.clone();
    spec.groups = user.groups.clone();
    spec.extra = user
        .extra
        .iter()
        .map(|(k, v)| (k.clone(), ExtraValue { items: v.clone() }))
        .collect();
}

fn csr(object: &Object) -> Option<&CertificateSigningRequest> {
    match &object.kind {
        Some(K::CertificateSigningRequest(c)) => Some(c),
        _ => None,
    }
}

fn conditions(object: &Object) -> Vec<CertificateSigningRequestCondition> {
    csr(object)
        .and_then(|c| c.status.as_ref())
        .map(|s| s.conditions.clone())
        .unwrap_or_default()
}

fn is_decision(c: &CertificateSigningRequestCondition) -> bool {
    c.r#type == APPROVED || c.r#type == DENIED
}

fn invalid(name: &str, errors: &[FieldError]) -> ApiError {
    ApiError::invalid(format!(
        "CertificateSigningRequest.certificates.k8s.io {name:?} is invalid: {}",
        proto::validation::join(errors)
    ))
}

fn set_conditions(object: &mut Object, conditions: Vec<CertificateSigningRequestCondition>) {
    if let Some(K::CertificateSigningRequest(c)) = &mut object.kind {
        c.status.get_or_insert_with(Default::default).conditions = conditions;
    }
}

/// Approved/Denied conditions: status True, not both, not removed once there.
fn check_decisions(
    name: &str,
    new: &[CertificateSigningRequestCondition],
    old: &[CertificateSigningRequestCondition],
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (i, c) in new.iter().enumerate() {
        if is_decision(c) && c.status != "True" {
            errors.push(FieldError::new(
                format!("status.conditions[{i}].status"),
                format!(
                    "Unsupported value: {:?}: supported values: \"True\"",
                    c.status
                ),
            ));
        }
        if seen.contains(&c.r#type) {
            errors.push(FieldError::new(
                format!("status.conditions[{i}].type"),
                format!("Duplicate value: {:?}", c.r#type),
            ));
        }
        seen.push(c.r#type.clone());
    }
    if seen.iter().any(|t| t == APPROVED) && seen.iter().any(|t| t == DENIED) {
        let i = new.iter().rposition(is_decision).unwrap_or(0);
        errors.push(FieldError::new(
            format!("status.conditions[{i}].type"),
            format!(
                "Invalid value: {:?}: Approved and Denied conditions are mutually exclusive",
                new[i].r#type
            ),
        ));
    }
    for kind in [APPROVED, DENIED] {
        if old.iter().any(|c| c.r#type == kind) && !new.iter().any(|c| c.r#type == kind) {
            errors.push(FieldError::new(
                "status.conditions",
                format!("Forbidden: updates may not remove a condition of type {kind:?}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(name, &errors))
    }
}

/// The stored request with the approval conditions of `incoming` (everything else as
/// stored). New conditions get their timestamps.
pub fn approval_update(cur: &Object, incoming: &Object) -> Result<Object, ApiError> {
    let name = cur.meta().name.clone();
    let old = conditions(cur);
    let mut wanted = conditions(incoming);
    let now = proto::time::now_rfc3339();
    for c in &mut wanted {
        if c.last_update_time.is_empty() {
            c.last_update_time = now.clone();
        }
        if c.last_transition_time.is_empty() {
            c.last_transition_time = old
                .iter()
                .find(|o| o.r#type == c.r#type && o.status == c.status)
                .map(|o| o.last_transition_time.clone())
                .unwrap_or_else(|| now.clone());
        }
    }
    check_decisions(&name, &wanted, &old)?;
    let mut new = cur.clone();
    set_conditions(&mut new, wanted);
    Ok(new)
}

/// A status update (the signer's): the approval conditions stay as stored, and a
/// certificate once issued is not replaced.
pub fn status_update(new: &mut Object, cur: &Object) -> Result<(), ApiError> {
    let old = conditions(cur);
    let mut kept: Vec<CertificateSigningRequestCondition> = conditions(new)
        .into_iter()
        .filter(|c| !is_decision(c))
        .collect();
    kept.extend(old.iter().filter(|c| is_decision(c)).cloned());
    set_conditions(new, kept);
    let cert = |o: &Object| {
        csr(o)
            .and_then(|c| c.status.as_ref())
            .map(|s| s.certificate.clone())
            .unwrap_or_default()
    };
    let (had, has) = (cert(cur), cert(new));
    if !had.is_empty() && had != has {
        return Err(invalid(
            &cur.meta().name,
            &[FieldError::new(
                "status.certificate",
                "Forbidden: updates may not modify existing certificate content",
            )],
        ));
    }
    Ok(())
}

/// Whether a status update hands out a certificate the stored request did not have.
pub fn issues_certificate(new: &Object, cur: &Object) -> bool {
    let cert = |o: &Object| {
        csr(o)
            .and_then(|c| c.status.as_ref())
            .is_some_and(|s| !s.certificate.is_empty())
    };
    cert(new) && !cert(cur)
}

/// Whether an approval update adds an Approved or Denied condition.
pub fn decides(new: &Object, cur: &Object) -> bool {
    conditions(new)
        .iter()
        .filter(|c| is_decision(c))
        .any(|c| !conditions(cur).iter().any(|o| o.r#type == c.r#type))
}

pub fn signer_name(object: &Object) -> String {
    csr(object)
        .and_then(|c| c.spec.as_ref())
        .map(|s| s.signer_name.clone())
        .unwrap_or_default()
}

/// What `verb` (approve, sign) on the request's signer asks the authorizer, in Kubernetes'
/// order: the signer by name, then every signer of its domain (`example.com/*`).
pub fn signer_attributes(verb: &str, signer: &str) -> Vec<Attributes> {
    let mut names = vec![signer.to_string()];
    if let Some((domain, _)) = signer.split_once('/') {
        names.push(format!("{domain}/*"));
    }
    names
        .into_iter()
        .map(|n| Attributes::resource(verb, "certificates.k8s.io", "signers", "", &n))
        .collect()
}

/// Kubernetes' refusal when the user may not approve or sign for this signer.
pub fn not_permitted(name: &str, verb: &str, signer: &str) -> ApiError {
    ApiError::forbidden(format!(
        "certificatesigningrequests.certificates.k8s.io {name:?} is forbidden: user not permitted to {verb} requests with signerName {signer:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::k8s::{CertificateSigningRequestSpec, CertificateSigningRequestStatus};

    fn request(conditions: &[(&str, &str)], cert: &[u8]) -> Object {
        let mut c = CertificateSigningRequest {
            spec: Some(CertificateSigningRequestSpec {
                signer_name: "kubernetes.io/kube-apiserver-client".into(),
                ..Default::default()
            }),
            status: Some(CertificateSigningRequestStatus {
                conditions: conditions
                    .iter()
                    .map(|(t, s)| CertificateSigningRequestCondition {
                        r#type: t.to_string(),
                        status: s.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                certificate: cert.to_vec(),
            }),
            ..Default::default()
        };
        c.meta_mut().name = "req".into();
        c.into_object()
    }

    #[test]
    fn the_requestor_comes_from_the_authenticated_user() {
        let mut o = request(&[], b"");
        if let Some(K::CertificateSigningRequest(c)) = &mut o.kind {
            c.spec.as_mut().unwrap().username = "someone-else".into();
        }
        let mut u = User::new("system:bootstrap:abcdef", &["system:bootstrappers"]);
        u.uid = "u1".into();
        u.extra.insert("k".into(), vec!["v".into()]);
        set_requestor(&mut o, &u);
        let spec = csr(&o).unwrap().spec.clone().unwrap();
        assert_eq!(spec.username, "system:bootstrap:abcdef");
        assert_eq!(spec.uid, "u1");
        assert_eq!(spec.groups, vec!["system:bootstrappers".to_string()]);
        assert_eq!(spec.extra["k"].items, vec!["v".to_string()]);
    }

    #[test]
    fn approval_changes_only_conditions_and_never_both_or_back() {
        let cur = request(&[], b"");
        let mut incoming = request(&[("Approved", "True")], b"forged");
        let approved = approval_update(&cur, &incoming).unwrap();
        assert!(decides(&approved, &cur));
        let status = csr(&approved).unwrap().status.clone().unwrap();
        assert!(
            status.certificate.is_empty(),
            "approval may not set a certificate"
        );
        assert!(!status.conditions[0].last_update_time.is_empty());
        incoming = request(&[("Approved", "True"), ("Denied", "True")], b"");
        let err = approval_update(&approved, &incoming).unwrap_err();
        assert!(err.message.contains("status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"), "{}", err.message);
        let err = approval_update(&approved, &request(&[], b"")).unwrap_err();
        assert!(
            err.message
                .contains("Forbidden: updates may not remove a condition of type \"Approved\"")
        );
        assert!(approval_update(&cur, &request(&[("Approved", "False")], b"")).is_err());
    }

    #[test]
    fn status_updates_keep_the_approval_and_the_first_certificate() {
        let cur = request(&[("Approved", "True")], b"");
        let mut new = request(&[("Failed", "True")], b"cert");
        status_update(&mut new, &cur).unwrap();
        let types: Vec<String> = conditions(&new).into_iter().map(|c| c.r#type).collect();
        assert_eq!(types, vec!["Failed".to_string(), "Approved".to_string()]);
        assert!(issues_certificate(&new, &cur));
        let mut replaced = request(&[("Approved", "True")], b"other");
        assert!(status_update(&mut replaced, &new).is_err());
    }

    #[test]
    fn signers_are_checked_by_name_then_by_domain() {
        let a = signer_attributes("approve", "kubernetes.io/kubelet-serving");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].name, "kubernetes.io/kubelet-serving");
        assert_eq!(a[1].name, "kubernetes.io/*");
        assert_eq!(a[1].resource, "signers");
    }
}
