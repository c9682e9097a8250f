//! The kubelet's one error type.

use proto::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("container runtime: {0}")]
    Runtime(String),
    #[error("image {image:?} not present and it cannot be pulled: {message}")]
    ImagePull { image: String, message: String },
    #[error("image {image:?} not present and the pull policy is Never")]
    ImageNeverPull { image: String },
    #[error("container {0:?} not found")]
    NotFound(String),
    #[error("api: {0}")]
    Api(#[from] ApiError),
    #[error("config: {0}")]
    Config(String),
    #[error("{0}")]
    Certificate(String),
    #[error("network: {0}")]
    Network(String),
    #[error("volume {volume:?}: {message}")]
    Volume { volume: String, message: String },
    #[error("io: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
