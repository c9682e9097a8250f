//! One audit record in Kubernetes' `audit.k8s.io/v1` `Event` shape (stage
//! ResponseComplete), serialized as one JSON line.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::auth::{Attributes, User};

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    pub resource: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub api_group: String,
    pub api_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResponseStatus {
    pub metadata: BTreeMap<String, String>,
    pub code: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub level: &'static str,
    #[serde(rename = "auditID")]
    pub audit_id: String,
    pub stage: &'static str,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    pub verb: String,
    pub user: UserInfo,
    #[serde(rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectReference>,
    pub response_status: ResponseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_object: Option<serde_json::Value>,
    pub request_received_timestamp: String,
    pub stage_timestamp: String,
    pub annotations: BTreeMap<String, String>,
}

/// The REST path Kubernetes would have served the request on (`/api/v1/namespaces/ns/pods/x`).
pub fn request_uri(attrs: &Attributes) -> String {
    if !attrs.is_resource_request() {
        return attrs.path.clone();
    }
    let version = proto::resource::kind_by_plural(&attrs.resource).map_or("v1", |k| k.version);
    let mut uri = if attrs.api_group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{}/{version}", attrs.api_group)
    };
    if !attrs.namespace.is_empty() {
        uri.push_str(&format!("/namespaces/{}", attrs.namespace));
    }
    uri.push_str(&format!("/{}", attrs.resource));
    if !attrs.name.is_empty() {
        uri.push_str(&format!("/{}", attrs.name));
    }
    if !attrs.subresource.is_empty() {
        uri.push_str(&format!("/{}", attrs.subresource));
    }
    if attrs.verb == "watch" {
        uri.push_str("?watch=true");
    }
    uri
}

pub fn object_ref(attrs: &Attributes) -> Option<ObjectReference> {
    if !attrs.is_resource_request() {
        return None;
    }
    let version = proto::resource::kind_by_plural(&attrs.resource).map_or("v1", |k| k.version);
    Some(ObjectReference {
        resource: attrs.resource.clone(),
        namespace: attrs.namespace.clone(),
        name: attrs.name.clone(),
        api_group: attrs.api_group.clone(),
        api_version: version.to_string(),
        subresource: attrs.subresource.clone(),
    })
}

pub fn user_info(user: &User) -> UserInfo {
    UserInfo {
        username: user.name.clone(),
        uid: user.uid.clone(),
        groups: user.groups.clone(),
    }
}

/// Kubernetes' HTTP status for a gRPC outcome (`created` for a successful create: 201).
pub fn http_code(outcome: Result<(), &tonic::Status>, created: bool) -> u16 {
    match outcome {
        Ok(()) if created => 201,
        Ok(()) => 200,
        Err(status) => proto::ApiError::from_status(status).reason.http_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_codes_read_as_kubernetes_logs_them() {
        let a = Attributes::resource("get", "", "pods", "default", "web").with_subresource("log");
        assert_eq!(request_uri(&a), "/api/v1/namespaces/default/pods/web/log");
        let d = Attributes::resource("list", "apps", "deployments", "", "");
        assert_eq!(request_uri(&d), "/apis/apps/v1/deployments");
        assert_eq!(http_code(Ok(()), true), 201);
        assert_eq!(
            http_code(Err(&proto::ApiError::forbidden("no").into()), false),
            403
        );
        assert_eq!(
            http_code(Err(&proto::ApiError::invalid("bad").into()), false),
            422
        );
        assert_eq!(
            http_code(Err(&tonic::Status::unauthenticated("who")), false),
            401
        );
    }
}
