//! What the CSR approver and signer share (Kubernetes' `pkg/apis/certificates` helpers):
//! a CSR's conditions, and whether a request's subject and usages fit a signer. Pure.

use pki::csr::CsrInfo;
use proto::k8s::{CertificateSigningRequest, CertificateSigningRequestCondition};
use proto::kind_validation::certificates::{
    CONDITION_APPROVED, CONDITION_DENIED, CONDITION_FAILED, SIGNER_KUBE_APISERVER_CLIENT,
    SIGNER_KUBE_APISERVER_CLIENT_KUBELET, SIGNER_KUBELET_SERVING,
};

pub const NODE_USER_PREFIX: &str = "system:node:";
pub const NODES_GROUP: &str = "system:nodes";

pub const USAGE_DIGITAL_SIGNATURE: &str = "digital signature";
pub const USAGE_KEY_ENCIPHERMENT: &str = "key encipherment";
pub const USAGE_CLIENT_AUTH: &str = "client auth";
pub const USAGE_SERVER_AUTH: &str = "server auth";

fn has_condition(csr: &CertificateSigningRequest, kind: &str) -> bool {
    csr.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == kind && c.status != "False")
    })
}

pub fn is_approved(csr: &CertificateSigningRequest) -> bool {
    has_condition(csr, CONDITION_APPROVED)
}

pub fn is_denied(csr: &CertificateSigningRequest) -> bool {
    has_condition(csr, CONDITION_DENIED)
}

pub fn is_failed(csr: &CertificateSigningRequest) -> bool {
    has_condition(csr, CONDITION_FAILED)
}

pub fn has_certificate(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .is_some_and(|s| !s.certificate.is_empty())
}

/// A condition with status True, stamped `now` (RFC 3339).
pub fn condition(
    kind: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> CertificateSigningRequestCondition {
    CertificateSigningRequestCondition {
        r#type: kind.into(),
        status: "True".into(),
        reason: reason.into(),
        message: message.into(),
        last_update_time: now.into(),
        last_transition_time: now.into(),
    }
}

/// The node a kubelet certificate is for: `x` of CN `system:node:x`.
pub fn node_name(info: &CsrInfo) -> Option<&str> {
    info.common_name
        .strip_prefix(NODE_USER_PREFIX)
        .filter(|n| !n.is_empty())
}

/// Every usage is in `allowed` and `required` is among them.
fn usages_fit(usages: &[String], allowed: &[&str], required: &str) -> Result<(), String> {
    let ok = usages.iter().all(|u| allowed.contains(&u.as_str()))
        && usages.iter().any(|u| u == required);
    if ok {
        Ok(())
    } else {
        let mut list: Vec<&str> = allowed.to_vec();
        list.sort_unstable();
        Err(format!("usages did not match [{}]", list.join(" ")))
    }
}

fn organization_is_nodes(info: &CsrInfo) -> Result<(), String> {
    if info.organizations != [NODES_GROUP] {
        return Err("subject organization is not system:nodes".into());
    }
    Ok(())
}

fn common_name_is_node(info: &CsrInfo) -> Result<(), String> {
    if node_name(info).is_none() {
        return Err("subject common name does not begin with 'system:node:'".into());
    }
    Ok(())
}

/// Kubernetes' `ValidateKubeletClientCSR`: CN `system:node:<x>`, O exactly
/// `[system:nodes]`, no SANs, usages among digital signature, key encipherment and
/// client auth, client auth included.
pub fn kubelet_client(info: &CsrInfo, usages: &[String]) -> Result<(), String> {
    organization_is_nodes(info)?;
    if !info.dns_names.is_empty() {
        return Err("DNS subjectAltNames are not allowed".into());
    }
    if !info.email_addresses.is_empty() {
        return Err("Email subjectAltNames are not allowed".into());
    }
    if !info.ip_addresses.is_empty() {
        return Err("IP subjectAltNames are not allowed".into());
    }
    if !info.uris.is_empty() {
        return Err("URI subjectAltNames are not allowed".into());
    }
    common_name_is_node(info)?;
    usages_fit(
        usages,
        &[
            USAGE_DIGITAL_SIGNATURE,
            USAGE_KEY_ENCIPHERMENT,
            USAGE_CLIENT_AUTH,
        ],
        USAGE_CLIENT_AUTH,
    )
}

/// Kubernetes' `ValidateKubeletServingCSR`: CN `system:node:<x>`, O exactly
/// `[system:nodes]`, at least one DNS or IP SAN and no others, usages among digital
/// signature, key encipherment and server auth, server auth included.
pub fn kubelet_serving(info: &CsrInfo, usages: &[String]) -> Result<(), String> {
    organization_is_nodes(info)?;
    if info.dns_names.is_empty() && info.ip_addresses.is_empty() {
        return Err("DNS or IP subjectAltName is required".into());
    }
    if !info.email_addresses.is_empty() {
        return Err("Email subjectAltNames are not allowed".into());
    }
    if !info.uris.is_empty() {
        return Err("URI subjectAltNames are not allowed".into());
    }
    usages_fit(
        usages,
        &[
            USAGE_DIGITAL_SIGNATURE,
            USAGE_KEY_ENCIPHERMENT,
            USAGE_SERVER_AUTH,
        ],
        USAGE_SERVER_AUTH,
    )?;
    common_name_is_node(info)
}

/// Kubernetes' `validAPIServerClientUsages`.
pub fn apiserver_client(usages: &[String]) -> Result<(), String> {
    for u in usages {
        if ![
            USAGE_DIGITAL_SIGNATURE,
            USAGE_KEY_ENCIPHERMENT,
            USAGE_CLIENT_AUTH,
        ]
        .contains(&u.as_str())
        {
            return Err(format!("invalid usage for client certificate: {u}"));
        }
    }
    if !usages.iter().any(|u| u == USAGE_CLIENT_AUTH) {
        return Err(format!(
            "missing required usage for client certificate: {USAGE_CLIENT_AUTH}"
        ));
    }
    Ok(())
}

/// The signers this controller-manager signs for.
pub const SIGNERS: &[&str] = &[
    SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
    SIGNER_KUBELET_SERVING,
    SIGNER_KUBE_APISERVER_CLIENT,
];

/// Whether the request fits `signer` (one of [`SIGNERS`]); the reason when not.
pub fn fits_signer(signer: &str, info: &CsrInfo, usages: &[String]) -> Result<(), String> {
    match signer {
        SIGNER_KUBE_APISERVER_CLIENT_KUBELET => kubelet_client(info, usages),
        SIGNER_KUBELET_SERVING => kubelet_serving(info, usages),
        SIGNER_KUBE_APISERVER_CLIENT => apiserver_client(usages),
        other => Err(format!("signer {other:?} is not served here")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(cn: &str, orgs: &[&str]) -> CsrInfo {
        CsrInfo {
            common_name: cn.into(),
            organizations: orgs.iter().map(|s| s.to_string()).collect(),
            dns_names: vec![],
            ip_addresses: vec![],
            email_addresses: vec![],
            uris: vec![],
        }
    }

    fn u(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kubelet_client_shape() {
        let ok = info("system:node:n1", &["system:nodes"]);
        let usages = u(&["digital signature", "key encipherment", "client auth"]);
        assert_eq!(kubelet_client(&ok, &usages), Ok(()));
        assert_eq!(
            kubelet_client(&ok, &u(&["digital signature", "client auth"])),
            Ok(())
        );
        assert_eq!(
            kubelet_client(
                &ok,
                &u(&["digital signature", "server auth", "client auth"])
            ),
            Err("usages did not match [client auth digital signature key encipherment]".into())
        );
        assert!(kubelet_client(&ok, &u(&["digital signature"])).is_err());
        assert_eq!(
            kubelet_client(
                &info("system:node:n1", &["system:nodes", "system:masters"]),
                &usages
            ),
            Err("subject organization is not system:nodes".into())
        );
        assert_eq!(
            kubelet_client(&info("alice", &["system:nodes"]), &usages),
            Err("subject common name does not begin with 'system:node:'".into())
        );
        assert!(kubelet_client(&info("system:node:", &["system:nodes"]), &usages).is_err());
        let mut with_san = ok.clone();
        with_san.dns_names.push("n1".into());
        assert_eq!(
            kubelet_client(&with_san, &usages),
            Err("DNS subjectAltNames are not allowed".into())
        );
        let mut with_ip = ok.clone();
        with_ip.ip_addresses.push("10.0.0.1".parse().unwrap());
        assert!(kubelet_client(&with_ip, &usages).is_err());
    }

    #[test]
    fn kubelet_serving_shape() {
        let mut ok = info("system:node:n1", &["system:nodes"]);
        let usages = u(&["digital signature", "key encipherment", "server auth"]);
        assert_eq!(
            kubelet_serving(&ok, &usages),
            Err("DNS or IP subjectAltName is required".into())
        );
        ok.ip_addresses.push("10.0.0.1".parse().unwrap());
        assert_eq!(kubelet_serving(&ok, &usages), Ok(()));
        assert!(kubelet_serving(&ok, &u(&["client auth", "server auth"])).is_err());
        ok.email_addresses.push("a@b".into());
        assert!(kubelet_serving(&ok, &usages).is_err());
    }

    #[test]
    fn apiserver_client_usages() {
        assert_eq!(apiserver_client(&u(&["client auth"])), Ok(()));
        assert_eq!(
            apiserver_client(&u(&["digital signature"])),
            Err("missing required usage for client certificate: client auth".into())
        );
        assert_eq!(
            apiserver_client(&u(&["client auth", "server auth"])),
            Err("invalid usage for client certificate: server auth".into())
        );
    }

    #[test]
    fn conditions() {
        let mut csr = CertificateSigningRequest::default();
        assert!(!is_approved(&csr) && !is_denied(&csr) && !is_failed(&csr));
        csr.status
            .get_or_insert_with(Default::default)
            .conditions
            .push(condition(
                "Approved",
                "AutoApproved",
                "m",
                "2026-01-01T00:00:00Z",
            ));
        assert!(is_approved(&csr) && !is_denied(&csr));
        assert!(!has_certificate(&csr));
    }
}
