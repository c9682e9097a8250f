//! An apiserver in-process on a temporary store, for component tests of every crate that
//! talks to it (real gRPC on a loopback port, real sled on disk).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::server::{Config, RunningServer, start};

pub struct TestServer {
    pub url: String,
    server: Option<RunningServer>,
    dir: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    config: Config,
}

impl TestServer {
    /// Panics when it cannot start: a test without its server cannot go on.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Like `start`, with flags changed by `configure` (kept across `restart`).
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix("apiserver-test-")
            .tempdir()
            .expect("temporary directory for the test store");
        let data_dir = dir.path().join("data");
        let mut config = Config::for_dir(
            data_dir.clone(),
            "127.0.0.1:0".parse().expect("loopback address"),
        );
        configure(&mut config);
        let mut t = Self::start_config(config).await;
        t.dir = Some(dir);
        t
    }

    /// Starts on an existing data directory (to test restarts); the caller owns the dir.
    pub async fn start_in(data_dir: &Path, listen: SocketAddr) -> TestServer {
        Self::start_config(Config::for_dir(data_dir.to_path_buf(), listen)).await
    }

    async fn start_config(config: Config) -> TestServer {
        let server = start(config.clone())
            .await
            .expect("in-process apiserver starts");
        TestServer {
            url: server.url(),
            server: Some(server),
            dir: None,
            data_dir: config.data_dir.clone(),
            config,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server
            .as_ref()
            .map(|s| s.local_addr())
            .expect("server running")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `DATA_DIR/admin.kubeconfig` of a TLS server (`insecure_plaintext = false`); `None`
    /// for the plaintext default. Its server is the loopback address the server listens on.
    pub fn admin_kubeconfig(&self) -> Option<PathBuf> {
        self.server.as_ref().and_then(|s| s.admin_kubeconfig())
    }

    /// Stops the server (cleanly) and starts it again on the same data and port.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await
    }

    /// Like `restart`, with flags changed by `configure` (kept for later restarts).
    pub async fn restart_with(&mut self, configure: impl FnOnce(&mut Config)) {
        self.stop_in_place().await;
        configure(&mut self.config);
        self.start_again().await
    }

    /// Stops the server cleanly, keeping its data and port, so a test can look at (or
    /// change) the files before `start_again`.
    pub async fn stop_in_place(&mut self) {
        if let Some(s) = self.server.take() {
            self.config.listen = s.local_addr();
            s.shutdown().await.expect("clean shutdown");
        }
    }

    /// Starts a server stopped by `stop_in_place` on the same data and port.
    pub async fn start_again(&mut self) {
        let config = self.config.clone();
        let server = start(config).await.expect("restart");
        self.url = server.url();
        self.server = Some(server);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.shutdown().await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // The serving task dies with the test's runtime; the store flushes on drop.
        self.server.take();
    }
}
