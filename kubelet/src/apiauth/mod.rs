//! Authentication and authorization of the kubelet API (secure mode): the caller's client
//! certificate, then a SubjectAccessReview for the node subresource the call touches.

pub mod authn;
pub mod authz;
pub mod review;
