//! The cluster's PKI: a certificate authority that issues serving and client certificates
//! (kubeadm's layout), certificate signing requests, inspection of certificates, kubeadm's
//! CA pin hash, verification of client certificate chains (as kube-apiserver's x509
//! authenticator), and rustls TLS for tonic servers and channels.
//!
//! Cryptography is ring's, passed explicitly to rustls: nothing installs a process-wide
//! crypto provider.

pub mod ca;
pub mod csr;
mod error;
pub mod files;
pub mod hash;
pub mod inspect;
mod names;
mod pem;
pub mod tls;
pub mod verify;

pub use error::Error;
