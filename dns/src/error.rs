//! The crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid {flag}: {reason}")]
    InvalidFlag { flag: &'static str, reason: String },
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics and health endpoints")]
    Endpoints(#[from] client::daemon::EndpointError),
    #[error("task failed: {0}")]
    Task(String),
}
