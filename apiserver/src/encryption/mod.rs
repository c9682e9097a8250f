//! Encryption at rest, as Kubernetes' apiserver does it (`--encryption-provider-config`):
//! an EncryptionConfiguration names resources and providers (`config`), each provider key
//! a cipher (`providers`), and a prefix transformer per resource encrypts values on their
//! way into the store and decrypts them on the way out (`transformer`). The store wrapper
//! that applies it is `store::encrypted`.

pub mod config;
pub mod providers;
pub mod transformer;

pub use config::{EncryptionConfig, parse};
pub use transformer::{Encryption, Transformer};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong; the apiserver refuses to start.
    #[error("{0}")]
    Config(String),
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
}

/// Reads, parses and resolves the configuration file against the kinds served here.
pub fn load(path: &std::path::Path) -> Result<(Encryption, Vec<String>), Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the encryption configuration holds the keys but others can read it; make it 0600");
        }
    }
    let config = parse(&text)?;
    let kinds = proto::resource::ALL_KINDS;
    Ok((
        Encryption::resolve(&config, kinds),
        Encryption::unmatched(&config, kinds),
    ))
}
