//! The real [`AccessReviewer`]: a SubjectAccessReview through the apiserver, as the
//! kubelet's own identity (the Node authorizer lets nodes create them).

use super::authz::{AccessReviewer, ResourceCheck, UserInfo, Verdict};
use proto::k8s::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};

pub struct ApiReviewer {
    pub client: client::Client,
}

/// The review the kubelet sends for `user` doing `check`.
pub fn review_for(user: &UserInfo, check: &ResourceCheck) -> SubjectAccessReview {
    SubjectAccessReview {
        api_version: "authorization.k8s.io/v1".into(),
        kind: "SubjectAccessReview".into(),
        spec: Some(SubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: check.verb.into(),
                version: "v1".into(),
                resource: check.resource.into(),
                subresource: check.subresource.into(),
                name: check.name.clone(),
                ..Default::default()
            }),
            user: user.name.clone(),
            uid: user.uid.clone(),
            groups: user.groups.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl AccessReviewer for ApiReviewer {
    async fn review(&self, user: &UserInfo, check: &ResourceCheck) -> Result<Verdict, String> {
        let answer = self
            .client
            .create_subject_access_review(review_for(user, check))
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status.unwrap_or_default();
        if !status.evaluation_error.is_empty() && !status.allowed {
            tracing::debug!(user = %user.name, error = %status.evaluation_error, "subject access review had an evaluation error");
        }
        Ok(Verdict {
            allowed: status.allowed && !status.denied,
            reason: status.reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_names_the_user_and_the_node_subresource() {
        let u = UserInfo {
            name: "kube-apiserver-kubelet-client".into(),
            uid: String::new(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        };
        let r = review_for(
            &u,
            &super::super::authz::check_for(super::super::authz::ApiCall::Stats, "n1"),
        );
        let spec = r.spec.unwrap();
        assert_eq!(spec.user, "kube-apiserver-kubelet-client");
        assert_eq!(spec.groups, u.groups);
        let a = spec.resource_attributes.unwrap();
        assert_eq!(
            (
                a.verb.as_str(),
                a.resource.as_str(),
                a.subresource.as_str(),
                a.name.as_str(),
                a.namespace.as_str()
            ),
            ("get", "nodes", "stats", "n1", "")
        );
    }
}
