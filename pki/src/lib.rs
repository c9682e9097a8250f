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

#[cfg(test)]
mod tests {
    /// The types daemons keep in shared state and move across tasks.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn shared<T: Send + Sync + 'static>() {}
        fn cloned<T: Clone>() {}
        shared::<crate::ca::Ca>();
        shared::<crate::verify::ClientVerifier>();
        shared::<crate::tls::ServingCert>();
        shared::<crate::tls::ClientIdentity>();
        shared::<crate::tls::Connector>();
        shared::<crate::tls::TlsConnectInfo>();
        shared::<crate::Error>();
        cloned::<crate::verify::ClientVerifier>();
        cloned::<crate::tls::ServingCert>();
        cloned::<crate::tls::ClientIdentity>();
        cloned::<crate::tls::Connector>();
    }

    #[test]
    fn rustls_error_is_found_inside_io_errors() {
        let inner = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner.clone());
        assert_eq!(crate::tls::rustls_error(&io), Some(&inner));
        assert_eq!(crate::tls::rustls_error(&inner), Some(&inner));
        let other = std::io::Error::other("refused");
        assert_eq!(crate::tls::rustls_error(&other), None);
    }
}
