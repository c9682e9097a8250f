//! `csrapproving` (Kubernetes' csrapprover, plus kubelet serving certificates): approves
//! the CertificateSigningRequests kubelets make, leaving every other one to an admin
//! (`ctl certificate approve`).
//!
//! - `kubernetes.io/kube-apiserver-client-kubelet`: a kubelet client certificate
//!   ([`certificates::kubelet_client`]) is approved when a SubjectAccessReview for the
//!   requestor allows `create certificatesigningrequests/selfnodeclient` (a renewal: the
//!   requestor is the node the certificate names) or `.../nodeclient` (a join with a
//!   bootstrap token).
//! - `kubernetes.io/kubelet-serving`: a kubelet serving certificate
//!   ([`certificates::kubelet_serving`]) requested by the node it names is approved when
//!   every IP SAN is one of the Node's addresses and every DNS SAN is the node's name or
//!   one of its Hostname/InternalDNS addresses.
//!
//! Approval is a condition `Approved`/`True`, reason `AutoApproved`, written through the
//! `approval` subresource; the csrsigning controller then signs.

use crate::context::Context;
use crate::controllers::certificates::{self, has_certificate, is_approved, is_denied, node_name};
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use client::{ApiError, Client, InformerEvent};
use futures::FutureExt;
use futures::future::BoxFuture;
use pki::csr::CsrInfo;
use proto::k8s::{
    CertificateSigningRequest, Node, ResourceAttributes, SubjectAccessReview,
    SubjectAccessReviewSpec,
};
use proto::kind_validation::certificates::{
    CONDITION_APPROVED, SIGNER_KUBE_APISERVER_CLIENT_KUBELET, SIGNER_KUBELET_SERVING,
};
use proto::{Reason, Resource};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "csrapproving";
pub const REASON_AUTO_APPROVED: &str = "AutoApproved";
pub const MESSAGE_SELF_CLIENT: &str =
    "Auto approving self kubelet client certificate after SubjectAccessReview.";
pub const MESSAGE_CLIENT: &str =
    "Auto approving kubelet client certificate after SubjectAccessReview.";
pub const MESSAGE_SERVING: &str =
    "Auto approving kubelet serving certificate after checking the node's addresses.";

/// Asks the apiserver whether a user may do something (a SubjectAccessReview): the one
/// outside call of the approver, behind a trait so tests can answer it.
pub trait AccessReviewer: Send + Sync + 'static {
    /// Whether `spec`'s user may do what its attributes say.
    fn allowed(&self, spec: SubjectAccessReviewSpec) -> BoxFuture<'_, Result<bool, ApiError>>;
}

impl AccessReviewer for Client {
    fn allowed(&self, spec: SubjectAccessReviewSpec) -> BoxFuture<'_, Result<bool, ApiError>> {
        async move {
            let review = SubjectAccessReview {
                spec: Some(spec),
                ..Default::default()
            };
            let answer = self.create_subject_access_review(review).await?;
            Ok(answer.status.is_some_and(|s| s.allowed))
        }
        .boxed()
    }
}

/// How a pending CSR is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognized {
    /// Not a CSR this controller approves (another signer, a bad shape, already decided).
    Not,
    /// A kubelet client certificate: approved if the requestor may create one of these
    /// `certificatesigningrequests` subresources, tried in order.
    KubeletClient { subresources: Vec<&'static str> },
    /// A kubelet serving certificate for this node, requested by that node.
    KubeletServing { node: String },
}

/// Sorts a CSR (pure). `info` is what the request asks for, `Err` if it does not parse.
pub fn recognize(csr: &CertificateSigningRequest, info: Result<&CsrInfo, &str>) -> Recognized {
    if is_approved(csr) || is_denied(csr) || has_certificate(csr) {
        return Recognized::Not;
    }
    let Some(spec) = &csr.spec else {
        return Recognized::Not;
    };
    let Ok(info) = info else {
        return Recognized::Not;
    };
    match spec.signer_name.as_str() {
        SIGNER_KUBE_APISERVER_CLIENT_KUBELET => {
            if certificates::kubelet_client(info, &spec.usages).is_err() {
                return Recognized::Not;
            }
            let mut subresources = Vec::new();
            if spec.username == info.common_name {
                subresources.push("selfnodeclient");
            }
            subresources.push("nodeclient");
            Recognized::KubeletClient { subresources }
        }
        SIGNER_KUBELET_SERVING => {
            if certificates::kubelet_serving(info, &spec.usages).is_err()
                || spec.username != info.common_name
            {
                return Recognized::Not;
            }
            match node_name(info) {
                Some(node) => Recognized::KubeletServing {
                    node: node.to_string(),
                },
                None => Recognized::Not,
            }
        }
        _ => Recognized::Not,
    }
}

/// Every IP SAN is one of the node's addresses, and every DNS SAN is the node's name or
/// one of its Hostname / InternalDNS addresses (pure). The reason when not.
pub fn serving_names_belong_to(info: &CsrInfo, node_name: &str, node: &Node) -> Result<(), String> {
    let addresses = node
        .status
        .as_ref()
        .map(|s| s.addresses.as_slice())
        .unwrap_or_default();
    for ip in &info.ip_addresses {
        let known = addresses.iter().any(|a| {
            a.address
                .parse::<std::net::IpAddr>()
                .is_ok_and(|x| x == *ip)
        });
        if !known {
            return Err(format!(
                "IP address {ip} is not an address of node {node_name}"
            ));
        }
    }
    for dns in &info.dns_names {
        let known = dns == node_name
            || addresses.iter().any(|a| {
                (a.r#type == "Hostname" || a.r#type == "InternalDNS") && a.address == *dns
            });
        if !known {
            return Err(format!("DNS name {dns} is not a name of node {node_name}"));
        }
    }
    Ok(())
}

/// The review that asks whether the CSR's requestor may create `subresource`.
pub fn review_for(csr: &CertificateSigningRequest, subresource: &str) -> SubjectAccessReviewSpec {
    let spec = csr.spec.clone().unwrap_or_default();
    SubjectAccessReviewSpec {
        resource_attributes: Some(ResourceAttributes {
            group: "certificates.k8s.io".into(),
            version: "*".into(),
            resource: "certificatesigningrequests".into(),
            subresource: subresource.into(),
            verb: "create".into(),
            ..Default::default()
        }),
        non_resource_attributes: None,
        user: spec.username,
        groups: spec.groups,
        extra: spec.extra,
        uid: spec.uid,
    }
}

/// What becomes of a pending CSR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve with this message.
    Approve(&'static str),
    /// Leave it (for an admin, or until the node's addresses are known); why, for the log.
    Leave(String),
    /// A kubelet request whose review said no: asked again with back-off, as Kubernetes
    /// does (the permission may be granted later, e.g. a binding made after the join).
    Retry(String),
}

/// Decides one CSR: the shape, then the reviews (client) or the node's addresses
/// (serving). `node` looks a Node up by name.
pub async fn decide(
    csr: &CertificateSigningRequest,
    reviewer: &dyn AccessReviewer,
    node: impl Fn(&str) -> Option<Arc<Node>>,
) -> Result<Decision, ApiError> {
    let request = csr
        .spec
        .as_ref()
        .map(|s| s.request.as_slice())
        .unwrap_or_default();
    let parsed = pki::csr::parse(request).map_err(|e| e.to_string());
    match recognize(csr, parsed.as_ref().map_err(String::as_str)) {
        Recognized::Not => Ok(Decision::Leave("not a kubelet certificate request".into())),
        Recognized::KubeletClient { subresources } => {
            for sub in &subresources {
                if reviewer.allowed(review_for(csr, sub)).await? {
                    return Ok(Decision::Approve(if *sub == "selfnodeclient" {
                        MESSAGE_SELF_CLIENT
                    } else {
                        MESSAGE_CLIENT
                    }));
                }
            }
            Ok(Decision::Retry(format!(
                "recognized as {subresources:?} but the subject access review was not approved"
            )))
        }
        Recognized::KubeletServing { node: name } => {
            let Ok(info) = &parsed else {
                return Ok(Decision::Leave("the request does not parse".into()));
            };
            let Some(n) = node(&name) else {
                return Ok(Decision::Leave(format!("node {name} not found")));
            };
            match serving_names_belong_to(info, &name, &n) {
                Ok(()) => Ok(Decision::Approve(MESSAGE_SERVING)),
                Err(why) => Ok(Decision::Leave(why)),
            }
        }
    }
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Approver {
    ctx: Arc<Context>,
    reviewer: Arc<dyn AccessReviewer>,
    nodes: client::Store<Node>,
}

/// A pending serving CSR of `node`'s kubelet: looked at again when the Node changes (its
/// addresses may arrive after the request).
fn pending_serving_for(csr: &CertificateSigningRequest, node: &str) -> bool {
    let Some(spec) = &csr.spec else {
        return false;
    };
    spec.signer_name == SIGNER_KUBELET_SERVING
        && spec.username.strip_prefix(certificates::NODE_USER_PREFIX) == Some(node)
        && !is_approved(csr)
        && !is_denied(csr)
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let nodes = ctx.informer::<Node>();
    let csrs = ctx.informer::<CertificateSigningRequest>();
    let csr_store = csrs.store();
    let controller = Controller::new_with(NAME, csrs, |ev, q| {
        if !matches!(ev, InformerEvent::Deleted(_)) {
            q.add(ev.key());
        }
    })
    .watches(nodes.clone(), move |node: &Node| {
        let name = &node.meta().name;
        csr_store
            .list()
            .iter()
            .filter(|c| pending_serving_for(c, name))
            .map(|c| c.meta().name.clone())
            .collect()
    })
    .workers(ctx.config.concurrent_workers);
    let a = Arc::new(Approver {
        reviewer: Arc::new(ctx.client.clone()),
        nodes: nodes.store(),
        ctx,
    });
    controller.run(reconcile, backoff, a, cancel).await;
    Ok(())
}

async fn reconcile(
    req: Request<CertificateSigningRequest>,
    a: Arc<Approver>,
) -> Result<Action, Error> {
    let Some(csr) = req.object else {
        return Ok(Action::Done);
    };
    if is_approved(&csr) || is_denied(&csr) || has_certificate(&csr) {
        return Ok(Action::Done);
    }
    let decision = decide(&csr, a.reviewer.as_ref(), |name| a.nodes.get(name)).await?;
    let message = match decision {
        Decision::Leave(why) => {
            tracing::debug!(csr = %req.key, %why, "not approving");
            return Ok(Action::Done);
        }
        // An error, so that the key's back-off grows between tries (a success would reset
        // it).
        Decision::Retry(why) => return Err(Error::invalid(&req.key, why)),
        Decision::Approve(message) => message,
    };
    let mut next = (*csr).clone();
    let stamp = proto::time::format_rfc3339(a.ctx.clock.now());
    next.status
        .get_or_insert_with(Default::default)
        .conditions
        .push(certificates::condition(
            CONDITION_APPROVED,
            REASON_AUTO_APPROVED,
            message,
            &stamp,
        ));
    match a.ctx.client.update(next.into_object(), "approval").await {
        Ok(_) => tracing::info!(csr = %req.key, message, "approved"),
        Err(e) if e.is(Reason::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{CertificateSigningRequestSpec, NodeAddress, NodeStatus};
    use std::sync::Mutex;

    /// Answers reviews from a list of allowed (user, subresource) and records every ask.
    #[derive(Default)]
    struct FakeReviewer {
        allow: Vec<(String, String)>,
        asked: Mutex<Vec<SubjectAccessReviewSpec>>,
    }

    impl AccessReviewer for FakeReviewer {
        fn allowed(&self, spec: SubjectAccessReviewSpec) -> BoxFuture<'_, Result<bool, ApiError>> {
            let sub = spec
                .resource_attributes
                .as_ref()
                .map(|r| r.subresource.clone())
                .unwrap_or_default();
            let ok = self.allow.iter().any(|(u, s)| *u == spec.user && *s == sub);
            self.asked.lock().unwrap().push(spec);
            async move { Ok(ok) }.boxed()
        }
    }

    fn nodes_org() -> Vec<String> {
        vec!["system:nodes".to_string()]
    }

    fn csr(
        signer: &str,
        request: String,
        usages: &[&str],
        user: &str,
    ) -> CertificateSigningRequest {
        CertificateSigningRequest {
            spec: Some(CertificateSigningRequestSpec {
                request: request.into_bytes(),
                signer_name: signer.into(),
                usages: usages.iter().map(|s| s.to_string()).collect(),
                username: user.into(),
                groups: vec!["system:bootstrappers".into(), "system:authenticated".into()],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    const CLIENT_USAGES: &[&str] = &["digital signature", "key encipherment", "client auth"];
    const SERVING_USAGES: &[&str] = &["digital signature", "key encipherment", "server auth"];

    fn client_csr(user: &str) -> CertificateSigningRequest {
        let (req, _) = pki::csr::generate("system:node:n1", &nodes_org(), &[], &[]).unwrap();
        csr(
            SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
            req,
            CLIENT_USAGES,
            user,
        )
    }

    fn no_nodes(_: &str) -> Option<Arc<Node>> {
        None
    }

    #[tokio::test]
    async fn bootstrap_join_is_approved_after_a_nodeclient_review() {
        let reviewer = FakeReviewer {
            allow: vec![("system:bootstrap:abcdef".into(), "nodeclient".into())],
            ..Default::default()
        };
        let c = client_csr("system:bootstrap:abcdef");
        assert_eq!(
            decide(&c, &reviewer, no_nodes).await.unwrap(),
            Decision::Approve(MESSAGE_CLIENT)
        );
        let asked = reviewer.asked.lock().unwrap();
        assert_eq!(
            asked.len(),
            1,
            "not the requestor's own node: no selfnodeclient review"
        );
        let attrs = asked[0].resource_attributes.as_ref().unwrap();
        assert_eq!(
            (
                attrs.verb.as_str(),
                attrs.group.as_str(),
                attrs.resource.as_str()
            ),
            (
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests"
            )
        );
        assert_eq!(
            asked[0].groups,
            ["system:bootstrappers", "system:authenticated"]
        );
    }

    #[tokio::test]
    async fn renewal_by_the_node_itself_uses_selfnodeclient() {
        let reviewer = FakeReviewer {
            allow: vec![("system:node:n1".into(), "selfnodeclient".into())],
            ..Default::default()
        };
        let c = client_csr("system:node:n1");
        assert_eq!(
            decide(&c, &reviewer, no_nodes).await.unwrap(),
            Decision::Approve(MESSAGE_SELF_CLIENT)
        );
        // Another node renewing n1's certificate is not "self".
        let other = client_csr("system:node:n2");
        assert!(matches!(
            decide(&other, &reviewer, no_nodes).await.unwrap(),
            Decision::Retry(_)
        ));
    }

    #[tokio::test]
    async fn denied_reviews_bad_shapes_and_decided_csrs_are_left_alone() {
        let nobody = FakeReviewer::default();
        assert!(matches!(
            decide(&client_csr("system:bootstrap:abcdef"), &nobody, no_nodes)
                .await
                .unwrap(),
            Decision::Retry(_)
        ));
        // Asking for system:masters: never even reviewed.
        let (req, _) =
            pki::csr::generate("system:node:n1", &["system:masters".to_string()], &[], &[])
                .unwrap();
        let masters = csr(
            SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
            req,
            CLIENT_USAGES,
            "u",
        );
        let everyone = FakeReviewer {
            allow: vec![("u".into(), "nodeclient".into())],
            ..Default::default()
        };
        assert!(matches!(
            decide(&masters, &everyone, no_nodes).await.unwrap(),
            Decision::Leave(_)
        ));
        assert!(everyone.asked.lock().unwrap().is_empty());
        // Another signer: for an admin.
        let (req, _) = pki::csr::generate("alice", &[], &[], &[]).unwrap();
        let admin = csr(
            "kubernetes.io/kube-apiserver-client",
            req,
            &["client auth"],
            "u",
        );
        assert_eq!(
            recognize(
                &admin,
                pki::csr::parse(&admin.spec.as_ref().unwrap().request)
                    .as_ref()
                    .map_err(|_| "")
            ),
            Recognized::Not
        );
        // Already denied.
        let mut denied = client_csr("u");
        denied
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .push(certificates::condition("Denied", "AdminDenied", "", ""));
        assert_eq!(recognize(&denied, Err("")), Recognized::Not);
    }

    fn node(addresses: &[(&str, &str)]) -> Arc<Node> {
        Arc::new(Node {
            status: Some(NodeStatus {
                addresses: addresses
                    .iter()
                    .map(|(t, a)| NodeAddress {
                        r#type: t.to_string(),
                        address: a.to_string(),
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn serving_certificates_need_the_nodes_own_names() {
        let reviewer = FakeReviewer::default();
        let serving = |dns: &[&str], ips: &[&str], user: &str| {
            let dns: Vec<String> = dns.iter().map(|s| s.to_string()).collect();
            let ips: Vec<std::net::IpAddr> = ips.iter().map(|s| s.parse().unwrap()).collect();
            let (req, _) = pki::csr::generate("system:node:n1", &nodes_org(), &dns, &ips).unwrap();
            csr(SIGNER_KUBELET_SERVING, req, SERVING_USAGES, user)
        };
        let n1 = node(&[("InternalIP", "10.0.0.5"), ("Hostname", "n1.local")]);
        let lookup = |name: &str| (name == "n1").then(|| n1.clone());

        let ok = serving(&["n1", "n1.local"], &["10.0.0.5"], "system:node:n1");
        assert_eq!(
            decide(&ok, &reviewer, lookup).await.unwrap(),
            Decision::Approve(MESSAGE_SERVING)
        );
        let foreign_ip = serving(&["n1"], &["10.0.0.6"], "system:node:n1");
        assert_eq!(
            decide(&foreign_ip, &reviewer, lookup).await.unwrap(),
            Decision::Leave("IP address 10.0.0.6 is not an address of node n1".into())
        );
        let foreign_dns = serving(&["kubernetes.default"], &[], "system:node:n1");
        assert!(matches!(
            decide(&foreign_dns, &reviewer, lookup).await.unwrap(),
            Decision::Leave(_)
        ));
        // Requested by someone else than the node itself.
        let by_other = serving(&["n1"], &["10.0.0.5"], "system:node:n2");
        assert!(matches!(
            decide(&by_other, &reviewer, lookup).await.unwrap(),
            Decision::Leave(_)
        ));
        // The Node is not known (yet).
        assert_eq!(
            decide(&ok, &reviewer, no_nodes).await.unwrap(),
            Decision::Leave("node n1 not found".into())
        );
        assert!(reviewer.asked.lock().unwrap().is_empty());
        assert!(pending_serving_for(&ok, "n1") && !pending_serving_for(&ok, "n2"));
    }
}
