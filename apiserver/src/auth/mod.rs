//! Identity and access, in Kubernetes' order: the transport (TLS, `crate::tls`) hands over
//! a connection, authentication turns its credentials into one [`User`] per request
//! (`authn`), authorization decides whether that user may do what the request asks
//! (`authz`: Node authorizer, then RBAC), and admission (in `crate::admission`) sees the
//! same user through [`context`]. Every protocol enters through the same chain.

pub mod authn;
pub mod authz;
pub mod authz_service;
pub mod context;
pub mod node;
pub mod rbac;
pub mod user;

pub use authz::{Attributes, Authorizer, Decision};
pub use context::Authenticated;
pub use user::User;
