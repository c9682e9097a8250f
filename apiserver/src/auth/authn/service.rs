//! The `Authentication` gRPC service (Kubernetes' authentication.k8s.io requests that are
//! not stored): TokenRequest (`serviceaccounts/token`), TokenReview, SelfSubjectReview.

use std::sync::Arc;
use std::time::SystemTime;

use proto::k8s::authentication_server::Authentication;
use proto::k8s::{
    ExtraValue, ObjectMeta, Pod, SelfSubjectReview, SelfSubjectReviewStatus, ServiceAccount,
    TokenRequest, TokenRequestStatus, TokenReview, TokenReviewStatus, UserInfo,
};
use proto::{ApiError, Reason};
use tonic::{Request, Response, Status};

use super::objects::{Objects, get_typed};
use super::{Authenticator, TokenIssuer, authenticated};
use crate::auth::context::user_of;
use crate::auth::user::names;
use crate::auth::{Attributes, Authorizer, Decision, User};

pub const API_VERSION: &str = "authentication.k8s.io/v1";
const GROUP: &str = "authentication.k8s.io";

pub struct AuthenticationService {
    authenticator: Arc<Authenticator>,
    /// `None` without a signing key: TokenRequests are refused.
    issuer: Option<Arc<TokenIssuer>>,
    authorizer: Arc<dyn Authorizer>,
}

impl AuthenticationService {
    pub fn new(
        authenticator: Arc<Authenticator>,
        issuer: Option<Arc<TokenIssuer>>,
        authorizer: Arc<dyn Authorizer>,
    ) -> Self {
        AuthenticationService {
            authenticator,
            issuer,
            authorizer,
        }
    }

    fn objects(&self) -> &dyn Objects {
        &*self.authenticator.objects
    }
}

/// Asks the authorizer; a refusal is PermissionDenied with Kubernetes' message.
pub async fn authorize(
    authorizer: &dyn Authorizer,
    user: &User,
    attributes: &Attributes,
) -> Result<(), Status> {
    match authorizer.authorize(user, attributes).await {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) | Decision::NoOpinion(reason) => Err(ApiError::new(
            Reason::Forbidden,
            crate::auth::authz::forbidden_message(user, attributes, &reason),
        )
        .into()),
    }
}

/// Kubernetes' NodeRestriction for TokenRequests: a kubelet may ask only for tokens bound
/// to a pod (named with its uid) scheduled on its own node. `bound_pod` is the pod's node
/// and whether the request left the uid out.
pub fn node_may_request(user: &User, bound_pod: Option<(&str, bool)>) -> Result<(), String> {
    let Some(node) = user.node_name() else {
        return Ok(());
    };
    match bound_pod {
        None => Err("node requested token not bound to a pod".to_string()),
        Some((_, true)) => Err("node requested token with a pod binding without a uid".to_string()),
        Some((pod_node, false)) if pod_node != node => {
            Err("node requested token bound to a pod scheduled on a different node".to_string())
        }
        Some(_) => Ok(()),
    }
}

pub fn user_info(user: &User) -> UserInfo {
    UserInfo {
        username: user.name.clone(),
        uid: user.uid.clone(),
        groups: user.groups.clone(),
        extra: user
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), ExtraValue { items: v.clone() }))
            .collect(),
    }
}

fn not_found(resource: &str, name: &str) -> Status {
    ApiError::new(Reason::NotFound, format!("{resource} \"{name}\" not found")).into()
}

fn meta_uid(meta: Option<&ObjectMeta>) -> &str {
    meta.map(|m| m.uid.as_str()).unwrap_or("")
}

#[tonic::async_trait]
impl Authentication for AuthenticationService {
    async fn create_token(
        &self,
        request: Request<TokenRequest>,
    ) -> Result<Response<TokenRequest>, Status> {
        let user = user_of(&request);
        let mut tr = request.into_inner();
        let meta = tr.metadata.clone().unwrap_or_default();
        let (namespace, name) = (meta.namespace.as_str(), meta.name.as_str());
        if namespace.is_empty() || name.is_empty() {
            return Err(ApiError::new(
                Reason::BadRequest,
                "a TokenRequest names its ServiceAccount in metadata.namespace and metadata.name",
            )
            .into());
        }
        let attributes = Attributes::resource("create", "", "serviceaccounts", namespace, name)
            .with_subresource("token");
        authorize(&*self.authorizer, &user, &attributes).await?;
        let issuer = self.issuer.as_ref().ok_or_else(|| {
            Status::unavailable(
                "token issuing is off: the apiserver has no service-account signing key",
            )
        })?;
        let sa = get_typed::<ServiceAccount>(self.objects(), namespace, name)
            .await?
            .ok_or_else(|| not_found("serviceaccounts", name))?;
        let sa_uid = meta_uid(sa.metadata.as_ref()).to_string();
        let spec = tr.spec.clone().unwrap_or_default();
        let mut bound_pod = None;
        if let Some(r) = spec
            .bound_object_ref
            .as_ref()
            .filter(|r| !r.kind.is_empty())
        {
            if r.kind != "Pod" {
                return Err(ApiError::new(
                    Reason::Invalid,
                    format!(
                        "spec.boundObjectRef.kind: Unsupported value: {:?}: supported values: \"Pod\"",
                        r.kind
                    ),
                )
                .into());
            }
            let pod = get_typed::<Pod>(self.objects(), namespace, &r.name)
                .await?
                .ok_or_else(|| not_found("pods", &r.name))?;
            let uid = meta_uid(pod.metadata.as_ref()).to_string();
            if !r.uid.is_empty() && r.uid != uid {
                return Err(ApiError::new(
                    Reason::Conflict,
                    format!(
                        "the UID in the bound object reference ({}) does not match the UID in record ({uid}). The object might have been deleted and then recreated",
                        r.uid
                    ),
                )
                .into());
            }
            let pod_sa = pod
                .spec
                .as_ref()
                .map(|s| s.service_account_name.as_str())
                .unwrap_or("");
            if pod_sa != name {
                return Err(ApiError::new(
                    Reason::BadRequest,
                    format!(
                        "cannot bind token for serviceaccount {name:?} to pod running with different serviceaccount name {pod_sa:?}"
                    ),
                )
                .into());
            }
            let pod_node = pod.spec.as_ref().map(|s| s.node_name.clone());
            bound_pod = Some((
                r.name.clone(),
                uid,
                pod_node.unwrap_or_default(),
                r.uid.is_empty(),
            ));
        }
        node_may_request(
            &user,
            bound_pod
                .as_ref()
                .map(|(_, _, node, no_uid)| (node.as_str(), *no_uid)),
        )
        .map_err(|m| {
            ApiError::new(
                Reason::Forbidden,
                format!("serviceaccounts {name:?} is forbidden: {m}"),
            )
        })?;
        let bound_pod = bound_pod.map(|(pod, uid, _, _)| (pod, uid));
        let expiration = issuer
            .expiration(spec.expiration_seconds)
            .map_err(|e| ApiError::new(Reason::Invalid, e))?;
        let audiences = if spec.audiences.is_empty() {
            issuer.api_audiences().to_vec()
        } else {
            spec.audiences.clone()
        };
        let (token, expires) = issuer.issue(
            namespace,
            name,
            &sa_uid,
            bound_pod.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
            &audiences,
            expiration,
            SystemTime::now(),
        );
        tracing::info!(namespace, serviceaccount = name, user = %user.name, pod = ?bound_pod.as_ref().map(|p| &p.0), "token issued");
        let mut spec = spec;
        spec.audiences = audiences;
        spec.expiration_seconds = Some(expiration.as_secs() as i64);
        tr.api_version = API_VERSION.to_string();
        tr.kind = "TokenRequest".to_string();
        tr.spec = Some(spec);
        tr.status = Some(TokenRequestStatus {
            token,
            expiration_timestamp: proto::time::format_rfc3339(expires),
        });
        Ok(Response::new(tr))
    }

    async fn create_token_review(
        &self,
        request: Request<TokenReview>,
    ) -> Result<Response<TokenReview>, Status> {
        let user = user_of(&request);
        let attributes = Attributes::resource("create", GROUP, "tokenreviews", "", "");
        authorize(&*self.authorizer, &user, &attributes).await?;
        let mut review = request.into_inner();
        let spec = review.spec.clone().unwrap_or_default();
        if spec.token.is_empty() {
            return Err(ApiError::new(Reason::Invalid, "spec.token: Required value").into());
        }
        let audiences = if spec.audiences.is_empty() {
            self.issuer
                .as_ref()
                .map(|i| i.api_audiences().to_vec())
                .or_else(|| {
                    self.authenticator
                        .service_accounts
                        .as_ref()
                        .map(|s| s.audiences.clone())
                })
                .unwrap_or_default()
        } else {
            spec.audiences.clone()
        };
        let status = match self
            .authenticator
            .authenticate_token(&spec.token, &audiences, SystemTime::now())
            .await
        {
            Ok(u) => TokenReviewStatus {
                authenticated: true,
                user: Some(user_info(&authenticated(u))),
                audiences,
                error: String::new(),
            },
            Err(super::AuthnError::Lookup(e)) => return Err(Status::unavailable(e)),
            Err(e) => TokenReviewStatus {
                authenticated: false,
                user: None,
                audiences: Vec::new(),
                error: e.to_string(),
            },
        };
        review.api_version = API_VERSION.to_string();
        review.kind = "TokenReview".to_string();
        review.status = Some(status);
        Ok(Response::new(review))
    }

    async fn create_self_subject_review(
        &self,
        request: Request<SelfSubjectReview>,
    ) -> Result<Response<SelfSubjectReview>, Status> {
        let user = user_of(&request);
        // Anyone authenticated may ask who they are; anonymous callers only if allowed.
        if !user.in_group(names::SYSTEM_AUTHENTICATED) {
            let attributes = Attributes::resource("create", GROUP, "selfsubjectreviews", "", "");
            authorize(&*self.authorizer, &user, &attributes).await?;
        }
        let mut review = request.into_inner();
        review.api_version = API_VERSION.to_string();
        review.kind = "SelfSubjectReview".to_string();
        review.status = Some(SelfSubjectReviewStatus {
            user_info: Some(user_info(&user)),
        });
        Ok(Response::new(review))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_get_tokens_only_for_their_own_pods() {
        let node = User::new("system:node:n1", &[names::SYSTEM_NODES]);
        assert_eq!(node_may_request(&node, Some(("n1", false))), Ok(()));
        assert_eq!(
            node_may_request(&node, Some(("n2", false))).unwrap_err(),
            "node requested token bound to a pod scheduled on a different node"
        );
        assert_eq!(
            node_may_request(&node, None).unwrap_err(),
            "node requested token not bound to a pod"
        );
        assert!(node_may_request(&node, Some(("n1", true))).is_err());
        // Anyone else is left to the authorizer.
        let admin = User::new("admin", &["system:masters"]);
        assert_eq!(node_may_request(&admin, None), Ok(()));
    }
}
