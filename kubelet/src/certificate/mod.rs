//! The kubelet's certificates: the client certificate it talks to the apiserver with and
//! the serving certificate of its API, both requested through CertificateSigningRequests
//! and renewed before they expire (client-go's certificate manager).

pub mod manager;
pub mod pem;
pub mod request;
pub mod rotation;
pub mod shape;
