//! An in-memory runtime: containers are records whose state tests (or a simulated "hollow"
//! node) drive by hand. Every mutating call is recorded so tests can assert on it.

use super::{
    ContainerConfig, ContainerInfo, ContainerState, ContainerStats, ExecOutput, ImageInfo,
    LogOptions, LogStream, Runtime,
};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create(String),
    Start(String),
    Stop(String, i64),
    Remove(String),
    Pull(String),
    Exec(String, Vec<String>),
    Import(String),
    RemoveImage(String),
}

#[derive(Debug, Default)]
struct Inner {
    containers: BTreeMap<String, (ContainerInfo, ContainerConfig)>,
    images: BTreeSet<String>,
    calls: Vec<Call>,
    next_id: u64,
    /// Ports of every pod that refuse connections (the others echo).
    closed_ports: BTreeSet<u16>,
    /// Exit code given to a container's exec calls (default 0).
    exec_exit: BTreeMap<String, i64>,
    /// Containers whose start exits at once with this code.
    exit_on_start: BTreeMap<String, i64>,
    /// (used, total) of the image filesystem.
    fs_usage: (u64, u64),
    image_sizes: BTreeMap<String, i64>,
    image_created: BTreeMap<String, i64>,
    /// The `USER` of each image's config (unset: root).
    image_users: BTreeMap<String, String>,
}

/// Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct FakeRuntime {
    inner: Arc<Mutex<Inner>>,
}

impl FakeRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_image(&self, image: &str) {
        self.lock().images.insert(image.to_string());
    }

    /// Gives an image a configured user (Dockerfile `USER`).
    pub fn set_image_user(&self, image: &str, user: &str) {
        let mut g = self.lock();
        g.images.insert(image.to_string());
        g.image_users.insert(image.to_string(), user.to_string());
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    pub fn containers(&self) -> Vec<ContainerInfo> {
        self.lock()
            .containers
            .values()
            .map(|(i, _)| i.clone())
            .collect()
    }

    pub fn config_of(&self, id: &str) -> Option<ContainerConfig> {
        self.lock().containers.get(id).map(|(_, c)| c.clone())
    }

    /// Makes a running container exit with `code` now.
    pub fn exit(&self, id: &str, code: i64) {
        if let Some((c, _)) = self.lock().containers.get_mut(id) {
            c.state = ContainerState::Exited;
            c.exit_code = code;
            c.pid = None;
            c.finished_at = Some(SystemTime::now());
        }
    }

    /// Containers named `container_name` (the Kubernetes container name) exit with `code`
    /// as soon as they start.
    pub fn exit_on_start(&self, container_name: &str, code: i64) {
        self.lock()
            .exit_on_start
            .insert(container_name.to_string(), code);
    }

    pub fn set_fs_usage(&self, used: u64, total: u64) {
        self.lock().fs_usage = (used, total);
    }

    /// Adds an image of `size` bytes created at `created` (seconds); removing it frees
    /// `size` bytes of the image filesystem.
    pub fn add_sized_image(&self, image: &str, size: i64, created: i64) {
        let mut g = self.lock();
        g.images.insert(image.to_string());
        g.image_sizes.insert(image.to_string(), size);
        g.image_created.insert(image.to_string(), created);
    }

    /// Connections to `port` of any pod are refused.
    pub fn close_port(&self, port: u16) {
        self.lock().closed_ports.insert(port);
    }

    pub fn set_exec_exit(&self, id: &str, code: i64) {
        self.lock().exec_exit.insert(id.to_string(), code);
    }
}

impl Runtime for FakeRuntime {
    async fn version(&self) -> Result<String> {
        Ok("fake://1".into())
    }

    async fn list_containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerInfo>> {
        Ok(self
            .lock()
            .containers
            .values()
            .filter(|(c, _)| {
                labels
                    .iter()
                    .all(|(k, v)| c.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(c, _)| c.clone())
            .collect())
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo> {
        self.lock()
            .containers
            .get(id)
            .map(|(c, _)| c.clone())
            .ok_or_else(|| Error::NotFound(id.to_string()))
    }

    async fn create_container(&self, config: &ContainerConfig) -> Result<String> {
        let mut g = self.lock();
        if !g.images.contains(&config.image) {
            return Err(Error::Runtime(format!("no such image: {}", config.image)));
        }
        if g.containers.values().any(|(c, _)| c.name == config.name) {
            return Err(Error::Runtime(format!(
                "conflict: the name {:?} is in use",
                config.name
            )));
        }
        g.next_id += 1;
        let id = format!("fake{:08}", g.next_id);
        let info = ContainerInfo {
            id: id.clone(),
            name: config.name.clone(),
            image: config.image.clone(),
            image_id: format!("sha256:{}", config.image),
            labels: config.labels.clone(),
            state: ContainerState::Created,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            created_at: Some(SystemTime::now()),
            started_at: None,
            finished_at: None,
            pid: None,
            ip: None,
        };
        g.containers.insert(id.clone(), (info, config.clone()));
        g.calls.push(Call::Create(config.name.clone()));
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        let mut g = self.lock();
        g.calls.push(Call::Start(id.to_string()));
        let exit_on_start = g.exit_on_start.clone();
        let n = g.next_id;
        let (c, _) = g
            .containers
            .get_mut(id)
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        let now = SystemTime::now();
        c.started_at = Some(now);
        if let Some(code) = exit_on_start.get(c.container_name()) {
            c.state = ContainerState::Exited;
            c.exit_code = *code;
            c.finished_at = Some(now);
        } else {
            c.state = ContainerState::Running;
            c.pid = Some(1000 + u32::try_from(n % 60000).unwrap_or(0));
            c.ip = Some(format!("10.88.0.{}", n % 250 + 2));
        }
        Ok(())
    }

    async fn stop_container(&self, id: &str, grace_secs: i64) -> Result<()> {
        let mut g = self.lock();
        g.calls.push(Call::Stop(id.to_string(), grace_secs));
        if let Some((c, _)) = g.containers.get_mut(id)
            && c.state == ContainerState::Running
        {
            c.state = ContainerState::Exited;
            c.exit_code = 137;
            c.pid = None;
            c.finished_at = Some(SystemTime::now());
        }
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let mut g = self.lock();
        g.calls.push(Call::Remove(id.to_string()));
        g.containers.remove(id);
        Ok(())
    }

    async fn inspect_image(&self, image: &str) -> Result<Option<ImageInfo>> {
        let g = self.lock();
        Ok(g.images.contains(image).then(|| ImageInfo {
            id: format!("sha256:{image}"),
            tags: vec![image.to_string()],
            size: g.image_sizes.get(image).copied().unwrap_or(1),
            created: g.image_created.get(image).copied().unwrap_or(0),
        }))
    }

    async fn image_user(&self, image: &str) -> Result<String> {
        let g = self.lock();
        if !g.images.contains(image) {
            return Err(Error::NotFound(image.to_string()));
        }
        Ok(g.image_users.get(image).cloned().unwrap_or_default())
    }

    async fn pull_image(&self, image: &str) -> Result<()> {
        self.lock().calls.push(Call::Pull(image.to_string()));
        Err(Error::ImagePull {
            image: image.to_string(),
            message: "no registry is reachable (fake runtime)".into(),
        })
    }

    async fn import_rootfs(
        &self,
        image: &str,
        _tarball: bytes::Bytes,
        _changes: &[String],
    ) -> Result<()> {
        let mut g = self.lock();
        g.calls.push(Call::Import(image.to_string()));
        g.images.insert(image.to_string());
        Ok(())
    }

    async fn load_image(&self, _tarball: bytes::Bytes) -> Result<()> {
        Ok(())
    }

    async fn list_images(&self) -> Result<Vec<ImageInfo>> {
        let g = self.lock();
        Ok(g.images
            .iter()
            .map(|i| ImageInfo {
                id: format!("sha256:{i}"),
                tags: vec![i.clone()],
                size: g.image_sizes.get(i).copied().unwrap_or(1),
                created: g.image_created.get(i).copied().unwrap_or(0),
            })
            .collect())
    }

    async fn remove_image(&self, id: &str) -> Result<()> {
        let name = id.trim_start_matches("sha256:").to_string();
        let mut g = self.lock();
        if g.containers.values().any(|(c, _)| c.image == name) {
            return Err(Error::Runtime(format!("conflict: image {name} is in use")));
        }
        g.calls.push(Call::RemoveImage(name.clone()));
        if g.images.remove(&name) {
            let size = u64::try_from(g.image_sizes.get(&name).copied().unwrap_or(0)).unwrap_or(0);
            g.fs_usage.0 = g.fs_usage.0.saturating_sub(size);
        }
        Ok(())
    }

    async fn image_fs_usage(&self) -> Result<(u64, u64)> {
        Ok(self.lock().fs_usage)
    }

    async fn exec(&self, id: &str, cmd: &[String]) -> Result<ExecOutput> {
        let mut g = self.lock();
        g.calls.push(Call::Exec(id.to_string(), cmd.to_vec()));
        match g.containers.get(id) {
            Some((c, _)) if c.is_running() => Ok(ExecOutput {
                exit_code: g.exec_exit.get(id).copied().unwrap_or(0),
                ..Default::default()
            }),
            Some(_) => Err(Error::Runtime(format!("container {id} is not running"))),
            None => Err(Error::NotFound(id.to_string())),
        }
    }

    /// Echoes stdin to stdout (stderr too when asked, as "err: <line>"), then exits with the
    /// container's exec exit code once stdin closes.
    async fn exec_stream(
        &self,
        id: &str,
        spec: &super::stream::StreamSpec,
        input: tokio::sync::mpsc::Receiver<super::stream::StreamInput>,
    ) -> Result<super::stream::StreamOutputs> {
        let mut g = self.lock();
        g.calls
            .push(Call::Exec(id.to_string(), spec.command.clone()));
        match g.containers.get(id) {
            Some((c, _)) if c.is_running() => {
                let code = g.exec_exit.get(id).copied().unwrap_or(0);
                Ok(super::stream::echo(input, spec.stderr && !spec.tty, code))
            }
            Some(_) => Err(Error::Runtime(format!("container {id} is not running"))),
            None => Err(Error::NotFound(id.to_string())),
        }
    }

    /// Every port of a running sandbox echoes (see [`super::port_forward::echo`]) unless
    /// [`close_port`](Self::close_port) closed it.
    async fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> Result<super::port_forward::PortStream> {
        let g = self.lock();
        match g.containers.get(sandbox_id) {
            Some((c, _)) if c.is_running() => {}
            Some(_) => {
                return Err(Error::Runtime(format!(
                    "sandbox {sandbox_id} is not running"
                )));
            }
            None => return Err(Error::NotFound(sandbox_id.to_string())),
        }
        if g.closed_ports.contains(&port) {
            return Err(Error::Network(format!(
                "failed to connect to localhost:{port} inside the pod's network namespace: connection refused"
            )));
        }
        drop(g);
        Ok(super::port_forward::echo())
    }

    async fn logs(&self, id: &str, _options: &LogOptions) -> Result<LogStream> {
        if !self.lock().containers.contains_key(id) {
            return Err(Error::NotFound(id.to_string()));
        }
        Ok(Box::pin(futures::stream::empty()))
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats> {
        if !self.lock().containers.contains_key(id) {
            return Err(Error::NotFound(id.to_string()));
        }
        Ok(ContainerStats::default())
    }
}
