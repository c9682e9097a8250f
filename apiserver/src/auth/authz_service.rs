//! The `Authorization` gRPC service (Kubernetes' `authorization.k8s.io/v1` reviews): a
//! SubjectAccessReview asks whether some user may do something (the caller needs `create
//! subjectaccessreviews`; kubelets and controllers use it to authorize their own clients),
//! a SelfSubjectAccessReview asks it for the caller (`ctl auth can-i`).

use std::sync::Arc;

use proto::ApiError;
use proto::k8s::authorization_server::Authorization;
use proto::k8s::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SubjectAccessReview,
    SubjectAccessReviewStatus,
};
use tonic::{Request, Response, Status};

use super::context::user_of;
use super::{Attributes, Authorizer, Decision, User, authz::forbidden_message};

const GROUP: &str = "authorization.k8s.io";

pub struct AuthorizationService {
    authorizer: Arc<dyn Authorizer>,
}

impl AuthorizationService {
    pub fn new(authorizer: Arc<dyn Authorizer>) -> Self {
        AuthorizationService { authorizer }
    }

    async fn review(&self, user: &User, attrs: &Attributes) -> SubjectAccessReviewStatus {
        match self.authorizer.authorize(user, attrs).await {
            Decision::Allow => SubjectAccessReviewStatus {
                allowed: true,
                ..Default::default()
            },
            Decision::Deny(reason) => SubjectAccessReviewStatus {
                allowed: false,
                denied: true,
                reason,
                ..Default::default()
            },
            Decision::NoOpinion(reason) => SubjectAccessReviewStatus {
                allowed: false,
                reason,
                ..Default::default()
            },
        }
    }
}

fn invalid(kind: &str, detail: String) -> Status {
    ApiError::invalid(format!("{kind}.{GROUP} \"\" is invalid: {detail}")).into()
}

/// The attributes a review's spec describes; exactly one of the two must be given.
pub fn review_attributes(
    kind: &str,
    resource: Option<&ResourceAttributes>,
    non_resource: Option<&NonResourceAttributes>,
) -> Result<Attributes, Status> {
    match (resource, non_resource) {
        (Some(r), None) => Ok(Attributes {
            verb: r.verb.clone(),
            api_group: r.group.clone(),
            resource: r.resource.clone(),
            subresource: r.subresource.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            path: String::new(),
        }),
        (None, Some(n)) => Ok(Attributes {
            verb: n.verb.clone(),
            path: n.path.clone(),
            ..Attributes::default()
        }),
        _ => Err(invalid(
            kind,
            "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified".to_string(),
        )),
    }
}

#[tonic::async_trait]
impl Authorization for AuthorizationService {
    async fn create_subject_access_review(
        &self,
        request: Request<SubjectAccessReview>,
    ) -> Result<Response<SubjectAccessReview>, Status> {
        let caller = user_of(&request);
        let create = Attributes::resource("create", GROUP, "subjectaccessreviews", "", "");
        match self.authorizer.authorize(&caller, &create).await {
            Decision::Allow => {}
            Decision::Deny(why) | Decision::NoOpinion(why) => {
                return Err(ApiError::forbidden(forbidden_message(&caller, &create, &why)).into());
            }
        }
        let mut review = request.into_inner();
        let spec = review.spec.clone().unwrap_or_default();
        let attrs = review_attributes(
            "SubjectAccessReview",
            spec.resource_attributes.as_ref(),
            spec.non_resource_attributes.as_ref(),
        )?;
        if spec.user.is_empty() && spec.groups.is_empty() {
            return Err(invalid(
                "SubjectAccessReview",
                "spec.user: Invalid value: \"\": at least one of user or group must be specified"
                    .to_string(),
            ));
        }
        let subject = User {
            name: spec.user.clone(),
            uid: spec.uid.clone(),
            groups: spec.groups.clone(),
            extra: spec
                .extra
                .iter()
                .map(|(k, v)| (k.clone(), v.items.clone()))
                .collect(),
        };
        let status = self.review(&subject, &attrs).await;
        tracing::debug!(caller = %caller.name, user = %subject.name, verb = %attrs.verb, resource = %attrs.resource, allowed = status.allowed, "subject access review");
        review.api_version = format!("{GROUP}/v1");
        review.kind = "SubjectAccessReview".to_string();
        review.status = Some(status);
        Ok(Response::new(review))
    }

    async fn create_self_subject_access_review(
        &self,
        request: Request<SelfSubjectAccessReview>,
    ) -> Result<Response<SelfSubjectAccessReview>, Status> {
        let caller = user_of(&request);
        let mut review = request.into_inner();
        let spec = review.spec.clone().unwrap_or_default();
        let attrs = review_attributes(
            "SelfSubjectAccessReview",
            spec.resource_attributes.as_ref(),
            spec.non_resource_attributes.as_ref(),
        )?;
        review.api_version = format!("{GROUP}/v1");
        review.kind = "SelfSubjectAccessReview".to_string();
        review.status = Some(self.review(&caller, &attrs).await);
        Ok(Response::new(review))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Authenticated;
    use proto::k8s::{SelfSubjectAccessReviewSpec, SubjectAccessReviewSpec};

    /// Allows alice to get pods, and nothing else.
    struct AliceReadsPods;

    #[tonic::async_trait]
    impl Authorizer for AliceReadsPods {
        async fn authorize(&self, user: &User, a: &Attributes) -> Decision {
            if user.name == "alice" && a.verb == "get" && a.resource == "pods" {
                Decision::Allow
            } else {
                Decision::NoOpinion("not alice reading pods".into())
            }
        }
    }

    fn as_user<T>(user: User, body: T) -> Request<T> {
        let mut r = Request::new(body);
        r.extensions_mut().insert(Authenticated(Arc::new(user)));
        r
    }

    fn pods(verb: &str) -> Option<ResourceAttributes> {
        Some(ResourceAttributes {
            namespace: "team".into(),
            verb: verb.into(),
            resource: "pods".into(),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn self_reviews_answer_for_the_caller() {
        let s = AuthorizationService::new(Arc::new(AliceReadsPods));
        let ask = |user: &str, verb: &str| {
            as_user(
                User::new(user, &[]),
                SelfSubjectAccessReview {
                    spec: Some(SelfSubjectAccessReviewSpec {
                        resource_attributes: pods(verb),
                        non_resource_attributes: None,
                    }),
                    ..Default::default()
                },
            )
        };
        let r = s
            .create_self_subject_access_review(ask("alice", "get"))
            .await
            .unwrap()
            .into_inner();
        assert!(r.status.unwrap().allowed);
        let r = s
            .create_self_subject_access_review(ask("alice", "delete"))
            .await
            .unwrap()
            .into_inner();
        let status = r.status.unwrap();
        assert!(!status.allowed && !status.denied);
        assert_eq!(status.reason, "not alice reading pods");
        let empty = as_user(User::new("alice", &[]), SelfSubjectAccessReview::default());
        let err = s
            .create_self_subject_access_review(empty)
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn reviews_of_others_need_create_subjectaccessreviews() {
        let s = AuthorizationService::new(Arc::new(AliceReadsPods));
        let review = SubjectAccessReview {
            spec: Some(SubjectAccessReviewSpec {
                resource_attributes: pods("get"),
                user: "alice".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = s
            .create_subject_access_review(as_user(User::new("bob", &[]), review.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            err.message(),
            "subjectaccessreviews.authorization.k8s.io is forbidden: User \"bob\" cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope: not alice reading pods"
        );
        let s = AuthorizationService::new(Arc::new(crate::auth::authz::AlwaysAllow));
        let r = s
            .create_subject_access_review(as_user(User::new("bob", &[]), review))
            .await
            .unwrap()
            .into_inner();
        assert!(r.status.unwrap().allowed);
        assert_eq!(r.kind, "SubjectAccessReview");
    }
}
