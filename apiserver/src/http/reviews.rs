//! The kinds that exist only as requests: access reviews (`authorization.k8s.io/v1`), token
//! and self-subject reviews (`authentication.k8s.io`), and TokenRequest
//! (`serviceaccounts/{name}/token`). Each is decoded from JSON and handed to the gRPC
//! `Authorization` / `Authentication` service, which authorizes and answers it exactly as
//! for a gRPC caller; the answer is written back as Kubernetes JSON with 201 Created.

use proto::k8s::authentication_server::Authentication;
use proto::k8s::authorization_server::Authorization;
use proto::k8s::{
    SelfSubjectAccessReview, SelfSubjectReview, SubjectAccessReview, TokenRequest, TokenReview,
};
use proto::{ApiError, schema};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{HttpApi, HttpResponse, grpc, json_response, status_response};

mod rules;
use crate::store::Store;

/// Which review a POST path names, with the namespace of a local review.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Review<'a> {
    SelfSubjectAccess,
    SubjectAccess,
    LocalSubjectAccess { namespace: &'a str },
    Token,
    SelfSubject,
    SelfSubjectRules,
}

/// The review a path names, and the apiVersion its answer carries (the one asked).
pub(crate) fn classify(path: &str) -> Option<(Review<'_>, &str)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => Some((Review::SelfSubjectAccess, "v1")),
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
        ] => Some((Review::SelfSubjectRules, "v1")),
        ["apis", "authorization.k8s.io", "v1", "subjectaccessreviews"] => {
            Some((Review::SubjectAccess, "v1"))
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "namespaces",
            namespace,
            "localsubjectaccessreviews",
        ] => Some((Review::LocalSubjectAccess { namespace }, "v1")),
        ["apis", "authentication.k8s.io", "v1", "tokenreviews"] => Some((Review::Token, "v1")),
        [
            "apis",
            "authentication.k8s.io",
            version,
            "selfsubjectreviews",
        ] if matches!(*version, "v1" | "v1beta1" | "v1alpha1") => {
            Some((Review::SelfSubject, version))
        }
        _ => None,
    }
}

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    parts: &::http::request::Parts,
    body: &[u8],
) -> Option<HttpResponse> {
    let path = parts.uri.path().to_string();
    let (review, version) = classify(&path)?;
    let authorization = &*http.authorization;
    let authentication = &*http.authentication;
    Some(match review {
        Review::SelfSubjectAccess => {
            let r: SelfSubjectAccessReview = match decode(body, "k8s.SelfSubjectAccessReview") {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let answer = authorization
                .create_self_subject_access_review(grpc(parts, r))
                .await;
            respond(answer, "authorization.k8s.io/v1", "SelfSubjectAccessReview")
        }
        Review::SelfSubjectRules => {
            let value = if body.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                match decode_text(body) {
                    Ok(v) => v,
                    Err(e) => return Some(e),
                }
            };
            let namespace = value["spec"]["namespace"].as_str().unwrap_or("");
            rules::self_subject_rules_review(http, parts, namespace).await
        }
        Review::SubjectAccess => {
            let r: SubjectAccessReview = match decode(body, "k8s.SubjectAccessReview") {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let answer = authorization
                .create_subject_access_review(grpc(parts, r))
                .await;
            respond(answer, "authorization.k8s.io/v1", "SubjectAccessReview")
        }
        Review::LocalSubjectAccess { namespace } => {
            // A SubjectAccessReview confined to one namespace: the same shape.
            let mut r: SubjectAccessReview = match decode(body, "k8s.SubjectAccessReview") {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let meta = r.metadata.get_or_insert_with(Default::default);
            if !meta.namespace.is_empty() && meta.namespace != namespace {
                return Some(super::api_error_response(&ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                )));
            }
            meta.namespace = namespace.to_string();
            let spec = r.spec.clone().unwrap_or_default();
            match spec.resource_attributes.as_ref() {
                Some(attrs) if attrs.namespace == namespace => {}
                _ => {
                    return Some(super::api_error_response(&ApiError::invalid(format!(
                        "LocalSubjectAccessReview.authorization.k8s.io \"\" is invalid: \
                         spec.resourceAttributes.namespace: Invalid value: \"{}\": must match metadata.namespace",
                        spec.resource_attributes
                            .as_ref()
                            .map(|a| a.namespace.as_str())
                            .unwrap_or("")
                    ))));
                }
            }
            let answer = authorization
                .create_subject_access_review(grpc(parts, r))
                .await;
            respond(
                answer,
                "authorization.k8s.io/v1",
                "LocalSubjectAccessReview",
            )
        }
        Review::Token => {
            let r: TokenReview = match decode(body, "k8s.TokenReview") {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let answer = authentication.create_token_review(grpc(parts, r)).await;
            respond(answer, "authentication.k8s.io/v1", "TokenReview")
        }
        Review::SelfSubject => {
            let r: SelfSubjectReview = match decode(body, "k8s.SelfSubjectReview") {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let answer = authentication
                .create_self_subject_review(grpc(parts, r))
                .await;
            respond(
                answer,
                &format!("authentication.k8s.io/{version}"),
                "SelfSubjectReview",
            )
        }
    })
}

/// POST `serviceaccounts/{name}/token`: a TokenRequest for that ServiceAccount.
pub(crate) async fn token_request<S: Store>(
    http: &HttpApi<S>,
    parts: &::http::request::Parts,
    namespace: &str,
    name: &str,
    body: &[u8],
) -> HttpResponse {
    if parts.method != ::http::Method::POST {
        return super::api_error_response(&ApiError::new(
            proto::Reason::NotFound,
            "the server could not find the requested resource",
        ));
    }
    let mut r: TokenRequest = match decode(body, "k8s.TokenRequest") {
        Ok(r) => r,
        Err(e) => return e,
    };
    let meta = r.metadata.get_or_insert_with(Default::default);
    meta.namespace = namespace.to_string();
    meta.name = name.to_string();
    let answer = Authentication::create_token(&*http.authentication, grpc(parts, r)).await;
    respond(answer, "authentication.k8s.io/v1", "TokenRequest")
}

/// Decodes a request kind from JSON (or YAML), as Kubernetes' decoder would: `null` is
/// absent and fields this kind does not have are dropped (clients send fields of newer
/// versions, `status` stubs, `creationTimestamp: null`). An empty body is an empty request.
// The error is the response to send, built once on a failed request: boxing buys nothing.
#[allow(clippy::result_large_err)]
fn decode<T: DeserializeOwned + Default>(body: &[u8], message: &str) -> Result<T, HttpResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value = decode_text(body)?;
    let mut value = strip_nulls(value);
    if let Some(schema) = schema::message(message) {
        schema::prune_unknown_message(schema, &mut value);
    }
    serde_json::from_value(value).map_err(|e| {
        super::api_error_response(&ApiError::bad_request(format!(
            "error decoding request body: {e}"
        )))
    })
}

/// JSON, else YAML.
#[allow(clippy::result_large_err)]
fn decode_text(body: &[u8]) -> Result<Value, HttpResponse> {
    Ok(match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(json_error) => match serde_saphyr::from_slice::<Value>(body) {
            Ok(v) => v,
            Err(_) => {
                return Err(super::api_error_response(&ApiError::bad_request(format!(
                    "the body of the request was in an unknown format: {json_error}"
                ))));
            }
        },
    })
}

use proto::manifest::strip_nulls;

/// 201 with the answered review, or the gRPC error as a Status.
fn respond<T: Serialize>(
    answer: Result<tonic::Response<T>, tonic::Status>,
    api_version: &str,
    kind: &str,
) -> HttpResponse {
    match answer {
        Ok(r) => json_response(
            ::http::StatusCode::CREATED,
            &review_json(r.get_ref(), api_version, kind),
        ),
        Err(status) => status_response(&status),
    }
}

/// The answer as Kubernetes writes it: its apiVersion and kind, `allowed: false` and the
/// other required fields present, int64 as numbers.
fn review_json<T: Serialize>(review: &T, api_version: &str, kind: &str) -> Value {
    let mut value = serde_json::to_value(review).unwrap_or(Value::Null);
    // The local review has the shape of a SubjectAccessReview.
    let message = if kind == "LocalSubjectAccessReview" {
        "k8s.SubjectAccessReview".to_string()
    } else {
        format!("k8s.{kind}")
    };
    if let Some(schema) = schema::message(&message) {
        schema::normalize_message(schema, &mut value);
    }
    if let Value::Object(map) = &mut value {
        map.insert("apiVersion".into(), Value::from(api_version));
        map.insert("kind".into(), Value::from(kind));
        map.entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_their_review() {
        assert_eq!(
            classify("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
            Some((Review::SelfSubjectAccess, "v1"))
        );
        assert_eq!(
            classify("/apis/authorization.k8s.io/v1/namespaces/ns1/localsubjectaccessreviews"),
            Some((Review::LocalSubjectAccess { namespace: "ns1" }, "v1"))
        );
        assert_eq!(
            classify("/apis/authentication.k8s.io/v1beta1/selfsubjectreviews"),
            Some((Review::SelfSubject, "v1beta1"))
        );
        assert_eq!(
            classify("/apis/authentication.k8s.io/v1/tokenreviews"),
            Some((Review::Token, "v1"))
        );
        assert_eq!(
            classify("/apis/authentication.k8s.io/v2/selfsubjectreviews"),
            None
        );
        assert_eq!(classify("/api/v1/namespaces/a/pods"), None);
    }

    #[test]
    fn kubectl_request_bodies_decode() {
        // What kubectl auth can-i sends.
        let body = br#"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default","verb":"get","resource":"pods","fieldSelector":{}}},"status":{"allowed":false}}"#;
        let r: SelfSubjectAccessReview = decode(body, "k8s.SelfSubjectAccessReview").unwrap();
        let attrs = r.spec.unwrap().resource_attributes.unwrap();
        assert_eq!(
            (attrs.verb.as_str(), attrs.resource.as_str()),
            ("get", "pods")
        );
        let r: TokenRequest = decode(br#"{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"audiences":null,"expirationSeconds":3600,"boundObjectRef":null},"status":{"token":"","expirationTimestamp":null}}"#,
            "k8s.TokenRequest",
        )
        .unwrap();
        assert_eq!(r.spec.unwrap().expiration_seconds, Some(3600));
        let r: SelfSubjectReview = decode(b"", "k8s.SelfSubjectReview").unwrap();
        assert_eq!(r, SelfSubjectReview::default());
        assert!(decode::<TokenReview>(b"{not json", "k8s.TokenReview").is_err());
    }

    #[test]
    fn answers_carry_kind_and_required_fields() {
        let review = SelfSubjectAccessReview {
            status: Some(Default::default()),
            ..Default::default()
        };
        let v = review_json(
            &review,
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
        );
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(v["apiVersion"], "authorization.k8s.io/v1");
        assert_eq!(v["status"]["allowed"], json!(false));
        let tr = TokenRequest {
            spec: Some(proto::k8s::TokenRequestSpec {
                expiration_seconds: Some(600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = review_json(&tr, "authentication.k8s.io/v1", "TokenRequest");
        assert_eq!(v["spec"]["expirationSeconds"], json!(600));
    }
}
