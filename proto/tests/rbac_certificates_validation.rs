//! RBAC and CertificateSigningRequest validation: Kubernetes' rules and wording, on
//! create (`validate`) and on update (`validate_update`).

use proto::defaults::apply_defaults;
use proto::k8s::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestSpec,
    CertificateSigningRequestStatus, Object,
};
use proto::kind_validation::{validate, validate_update};
use proto::manifest::load_documents;
use proto::resource::Resource;

fn load(yaml: &str) -> Object {
    let mut objects = load_documents(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(objects.len(), 1);
    let mut o = objects.remove(0);
    apply_defaults(&mut o);
    o
}

fn errors(o: &Object) -> Vec<String> {
    validate(o).iter().map(ToString::to_string).collect()
}

#[test]
fn roles_and_cluster_roles() {
    let ok = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: 'pod:reader', namespace: default}\nrules:\n- {apiGroups: [''], resources: [pods, pods/log], verbs: [get, list]}\n",
    );
    assert_eq!(errors(&ok), Vec::<String>::new());
    let bad = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: default}\nrules:\n- {resources: [pods]}\n- {verbs: [get], nonResourceURLs: [/healthz]}\n",
    );
    assert_eq!(
        errors(&bad),
        vec![
            "rules[0].verbs: Required value: verbs must contain at least one value",
            "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            "rules[1].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs",
        ]
    );
    let cluster = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:x'}\nrules:\n- {verbs: [get], nonResourceURLs: ['/healthz', '/version/*']}\n- {verbs: [get], nonResourceURLs: [/x], resources: [pods]}\naggregationRule:\n  clusterRoleSelectors: []\n",
    );
    assert_eq!(
        errors(&cluster),
        vec![
            "rules[1].nonResourceURLs: Invalid value: [\"/x\"]: rules cannot apply to both regular resources and non-resource URLs",
            "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil",
        ]
    );
}

#[test]
fn bindings_subjects_and_role_refs() {
    let ok = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: default}\nsubjects:\n- {kind: User, name: alice}\n- {kind: ServiceAccount, name: default}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: 'pod:reader'}\n",
    );
    assert_eq!(errors(&ok), Vec::<String>::new());
    // Defaulting put the User subject in the RBAC group.
    let rb = proto::k8s::RoleBinding::try_from_object(ok.clone()).unwrap();
    assert_eq!(rb.subjects[0].api_group, "rbac.authorization.k8s.io");
    assert_eq!(rb.subjects[1].api_group, "");

    let bad = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nsubjects:\n- {kind: ServiceAccount, name: default}\n- {kind: Robot, name: r2}\n- {kind: Group, apiGroup: example.com, name: g}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\n",
    );
    assert_eq!(
        errors(&bad),
        vec![
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
            "subjects[0].namespace: Required value",
            "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            "subjects[2].apiGroup: Unsupported value: \"example.com\": supported values: \"rbac.authorization.k8s.io\"",
        ]
    );
    let no_ref = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: default}\n",
    );
    assert_eq!(
        errors(&no_ref),
        vec![
            "roleRef.apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
            "roleRef.kind: Unsupported value: \"\": supported values: \"Role\", \"ClusterRole\"",
            "roleRef.name: Required value",
        ]
    );

    let mut changed = ok.clone();
    if let Some(proto::k8s::object::Kind::RoleBinding(rb)) = &mut changed.kind {
        rb.role_ref.as_mut().unwrap().name = "admin".into();
        rb.role_ref.as_mut().unwrap().kind = "ClusterRole".into();
    }
    let errs: Vec<String> = validate_update(&changed, &ok)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errs,
        vec![
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"admin\"}: cannot change roleRef"
        ]
    );
    // Subjects may change.
    let mut more = ok.clone();
    if let Some(proto::k8s::object::Kind::RoleBinding(rb)) = &mut more.kind {
        rb.subjects.pop();
    }
    assert!(validate_update(&more, &ok).is_empty());
}

const CSR_PEM: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIHKMHICAQAwEDEOMAwGA1UEAwwFaGVsbG8wWTATBgcqhkjOPQIBBggqhkjOPQMB\nBwNCAAQ=\n-----END CERTIFICATE REQUEST-----\n";

fn csr(request: &str, usages: &[&str], signer: &str) -> CertificateSigningRequest {
    let mut c = CertificateSigningRequest {
        spec: Some(CertificateSigningRequestSpec {
            request: request.as_bytes().to_vec(),
            signer_name: signer.into(),
            usages: usages.iter().map(|u| u.to_string()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    c.meta_mut().name = "csr-1".into();
    c
}

#[test]
fn certificate_signing_requests() {
    let ok = csr(
        CSR_PEM,
        &["digital signature", "client auth"],
        "kubernetes.io/kube-apiserver-client-kubelet",
    );
    assert_eq!(errors(&ok.clone().into_object()), Vec::<String>::new());

    let mut bad = csr(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        &["client auth", "flying", "client auth"],
        "example",
    );
    bad.spec.as_mut().unwrap().expiration_seconds = Some(599);
    assert_eq!(
        errors(&bad.into_object()),
        vec![
            "spec.request: Invalid value: PEM block type must be CERTIFICATE REQUEST",
            "spec.signerName: Invalid value: \"example\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
            &format!(
                "spec.usages[1]: Unsupported value: \"flying\": supported values: {}",
                proto::kind_validation::certificates::KEY_USAGES
                    .iter()
                    .map(|u| format!("{u:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "spec.usages[2]: Duplicate value: \"client auth\"",
            "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)",
        ]
    );
    let none = csr("", &[], "");
    assert_eq!(
        errors(&none.into_object()),
        vec![
            "spec.request: Invalid value: PEM block type must be CERTIFICATE REQUEST",
            "spec.signerName: Required value",
            "spec.usages: Required value: usages must be provided",
        ]
    );

    let cond = |t: &str| CertificateSigningRequestCondition {
        r#type: t.into(),
        status: "True".into(),
        ..Default::default()
    };
    let mut both = ok.clone();
    both.status = Some(CertificateSigningRequestStatus {
        conditions: vec![cond("Approved"), cond("Denied")],
        certificate: b"not pem".to_vec(),
    });
    assert_eq!(
        errors(&both.into_object()),
        vec![
            "status.conditions: Invalid value: \"Approved\": Approved and Denied conditions are mutually exclusive",
            "status.certificate: Invalid value: \"<certificate data>\": must contain at least one CERTIFICATE PEM block and nothing else",
        ]
    );

    // Updates: spec frozen, Approved never removed, certificate set once.
    let mut approved = ok.clone();
    approved.status = Some(CertificateSigningRequestStatus {
        conditions: vec![cond("Approved")],
        certificate: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
    });
    let mut next = approved.clone();
    next.spec
        .as_mut()
        .unwrap()
        .usages
        .push("server auth".into());
    next.status.as_mut().unwrap().conditions.clear();
    next.status.as_mut().unwrap().certificate =
        b"-----BEGIN CERTIFICATE-----\nAAAB\n-----END CERTIFICATE-----\n".to_vec();
    let errs: Vec<String> = validate_update(&next.into_object(), &approved.clone().into_object())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errs,
        vec![
            "spec: Invalid value: field is immutable",
            "status.conditions: Forbidden: updates may not remove a condition of type \"Approved\"",
            "status.certificate: Invalid value: \"<certificate data>\": updates may not modify existing certificate content",
        ]
    );
    assert!(validate_update(&approved.clone().into_object(), &ok.into_object()).is_empty());
}

#[test]
fn new_kinds_are_registered() {
    let csr = proto::resource::find_kind("csr").unwrap();
    assert_eq!(csr.kind, "CertificateSigningRequest");
    assert!(!csr.namespaced && csr.has_status);
    assert_eq!(csr.api_version, "certificates.k8s.io/v1");
    let rb = proto::resource::kind_by_plural("rolebindings").unwrap();
    assert!(rb.namespaced && !rb.has_status);
    assert_eq!(
        proto::resource::kind_by_type("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
            .map(|k| k.plural),
        Some("clusterrolebindings")
    );
    // JSON names as Kubernetes writes them, bytes base64.
    let role = load(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- {verbs: [get], nonResourceURLs: [/healthz]}\n",
    );
    let json = role.to_json();
    assert_eq!(json["rules"][0]["nonResourceURLs"][0], "/healthz");
    let json = csr_json();
    assert_eq!(json["spec"]["signerName"], "kubernetes.io/kubelet-serving");
    assert_eq!(json["spec"]["request"], "aGk=");
    assert_eq!(json["spec"]["extra"]["k"], serde_json::json!(["v"]));
}

fn csr_json() -> serde_json::Value {
    let mut c = csr("hi", &["server auth"], "kubernetes.io/kubelet-serving");
    c.spec
        .as_mut()
        .unwrap()
        .extra
        .insert("k".into(), vec!["v".to_string()].into());
    c.into_object().to_json()
}
