//! The scheduler's one error type.

use proto::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid scheduler config: {0}")]
    Config(String),
    #[error("cannot read config file {path}")]
    ConfigFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("api error: {0}")]
    Api(#[from] ApiError),
    #[error("leader election: {0}")]
    Leader(#[from] client::leader::LeaderError),
}
