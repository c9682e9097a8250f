//! The data directory holds every Secret (and the service-account signing key, where the
//! cluster scripts put it): only its owner may enter it. A missing one is created 0700; an
//! existing one that others could read is tightened to 0700, with a log line saying so.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

pub const MODE: u32 = 0o700;

/// Creates `dir` (and missing parents) 0700, or tightens an existing one to 0700.
pub fn ensure(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(MODE)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
    if mode != MODE {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(MODE))?;
        tracing::info!(dir = %dir.display(), from = format!("{mode:o}"), to = format!("{MODE:o}"), "data directory permissions tightened");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_private_and_tightens_existing() {
        let tmp = tempfile::Builder::new()
            .prefix("private-dir-test-")
            .tempdir()
            .unwrap();
        let fresh = tmp.path().join("a/b");
        ensure(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure(&open).unwrap();
        assert_eq!(mode(&open), 0o700);
    }
}
