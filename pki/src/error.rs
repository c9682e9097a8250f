/// Everything that can go wrong in this crate, outside of client-certificate verification
/// (which has its own [`crate::verify::VerifyError`] because its messages reach clients).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("invalid certificate: {0}")]
    Certificate(String),
    #[error("invalid certificate signing request: {0}")]
    Csr(String),
    #[error("invalid private key: {0}")]
    Key(String),
    #[error("invalid name {name:?}: {reason}")]
    Name { name: String, reason: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("cannot generate certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
