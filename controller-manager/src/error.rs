//! The crate's one error type.

use proto::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed (the reconcile is retried with back-off).
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("leader election: {0}")]
    Leader(#[from] client::leader::LeaderError),
    /// The lease went to another replica: this one must stop acting.
    #[error("leader election lost")]
    LeadershipLost,
    /// An object cannot be acted on as written (bad selector, ...); retrying will not help
    /// until it changes.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// True for the API's NotFound (an object gone meanwhile).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(e) if e.is(proto::Reason::NotFound))
    }

    /// True for the API's Conflict (a stale resourceVersion: re-read and retry).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api(e) if e.is(proto::Reason::Conflict))
    }
}
