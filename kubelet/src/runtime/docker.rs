//! The Docker runtime through bollard (the engine's unix socket). Docker's API may be older
//! than bollard's default: the client negotiates the version at connect.

use super::{
    ContainerConfig, ContainerInfo, ContainerState, ContainerStats, ExecOutput, ImageInfo,
    LogOptions, LogStream, NetworkMode, Runtime,
};
use crate::error::{Error, Result};
use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, ExecConfig, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptions,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    StatsOptionsBuilder,
};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

impl std::fmt::Debug for DockerRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DockerRuntime")
    }
}

fn rt(e: DockerError) -> Error {
    Error::Runtime(e.to_string())
}

fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Docker's `since` (seconds since the epoch; 0: from the start) for "the last `secs`".
fn since(secs: Option<u64>) -> i32 {
    let Some(secs) = secs else { return 0 };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i32::try_from(now.saturating_sub(secs)).unwrap_or(0)
}

fn parse_time(s: Option<&str>) -> Option<std::time::SystemTime> {
    let s = s?;
    // Docker writes the zero time for "never".
    if s.starts_with("0001-") {
        return None;
    }
    proto::time::parse_rfc3339(s)
}

impl DockerRuntime {
    /// Connects to the local engine (`DOCKER_HOST` or `/var/run/docker.sock`) and negotiates
    /// the API version.
    pub async fn connect() -> Result<Self> {
        let docker = Docker::connect_with_socket_defaults().map_err(rt)?;
        let docker = docker.negotiate_version().await.map_err(rt)?;
        Ok(DockerRuntime { docker })
    }

    async fn kill(&self, id: &str, signal: &str) -> Result<()> {
        let opts = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        match self.docker.kill_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            // 409: not running; 404: gone.
            Err(DockerError::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(e) => Err(rt(e)),
        }
    }
}

impl Runtime for DockerRuntime {
    async fn version(&self) -> Result<String> {
        let v = self.docker.version().await.map_err(rt)?;
        Ok(format!("docker://{}", v.version.unwrap_or_default()))
    }

    async fn list_containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerInfo>> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if !labels.is_empty() {
            filters.insert(
                "label".into(),
                labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            );
        }
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self.docker.list_containers(Some(opts)).await.map_err(rt)?;
        let mut out = Vec::with_capacity(list.len());
        for c in list {
            let Some(id) = c.id else { continue };
            match self.inspect_container(&id).await {
                Ok(info) => out.push(info),
                // Removed between list and inspect.
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo> {
        let c = match self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => c,
            Err(e) if is_not_found(&e) => return Err(Error::NotFound(id.to_string())),
            Err(e) => return Err(rt(e)),
        };
        let st = c.state.unwrap_or_default();
        use bollard::models::ContainerStateStatusEnum as S;
        let state = match st.status {
            Some(S::CREATED) => ContainerState::Created,
            Some(S::RUNNING | S::PAUSED | S::RESTARTING) => ContainerState::Running,
            Some(S::EXITED | S::DEAD) => ContainerState::Exited,
            _ => ContainerState::Unknown,
        };
        let config = c.config.unwrap_or_default();
        let ip = c
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|nets| {
                nets.values()
                    .filter_map(|e| e.ip_address.clone())
                    .find(|ip| !ip.is_empty())
            });
        Ok(ContainerInfo {
            id: c.id.unwrap_or_else(|| id.to_string()),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            image: config.image.unwrap_or_default(),
            image_id: c.image.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            state,
            exit_code: st.exit_code.unwrap_or(0),
            oom_killed: st.oom_killed.unwrap_or(false),
            error: st.error.unwrap_or_default(),
            created_at: parse_time(c.created.as_deref()),
            started_at: parse_time(st.started_at.as_deref()),
            finished_at: parse_time(st.finished_at.as_deref()),
            pid: st
                .pid
                .filter(|p| *p > 0 && state == ContainerState::Running)
                .and_then(|p| u32::try_from(p).ok()),
            ip,
        })
    }

    async fn create_container(&self, config: &ContainerConfig) -> Result<String> {
        let network_mode = config.network.as_ref().map(|n| match n {
            NetworkMode::None => "none".to_string(),
            NetworkMode::Bridge => "bridge".to_string(),
            NetworkMode::Host => "host".to_string(),
            NetworkMode::Container(id) => format!("container:{id}"),
        });
        // Mounts, not `Binds` strings: a missing source is an error here, never a directory
        // the engine makes.
        if let Some(m) = config.mounts.iter().find(|m| m.sub_path.is_some()) {
            return Err(Error::Runtime(format!(
                "mount {}: its subPath was not prepared by the kubelet",
                m.container_path
            )));
        }
        let mounts: Vec<bollard::models::Mount> = config
            .mounts
            .iter()
            .map(|m| bollard::models::Mount {
                target: Some(m.container_path.clone()),
                source: Some(m.host_path.clone()),
                typ: Some(bollard::models::MountType::BIND),
                read_only: Some(m.read_only),
                ..Default::default()
            })
            .collect();
        let host_config = HostConfig {
            network_mode,
            ipc_mode: if config.ipc_host {
                Some("host".to_string())
            } else {
                config
                    .ipc_container
                    .as_ref()
                    .map(|id| format!("container:{id}"))
                    .or_else(|| config.ipc_shareable.then(|| "shareable".to_string()))
            },
            mounts: (!mounts.is_empty()).then_some(mounts),
            nano_cpus: config.nano_cpus,
            memory: config.memory,
            privileged: Some(config.privileged),
            group_add: (!config.group_add.is_empty()).then(|| config.group_add.clone()),
            readonly_rootfs: Some(config.readonly_rootfs),
            cap_add: (!config.cap_add.is_empty()).then(|| config.cap_add.clone()),
            cap_drop: (!config.cap_drop.is_empty()).then(|| config.cap_drop.clone()),
            security_opt: (!config.security_opt.is_empty()).then(|| config.security_opt.clone()),
            pid_mode: config.pid_mode.clone(),
            sysctls: (!config.sysctls.is_empty())
                .then(|| config.sysctls.clone().into_iter().collect()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(config.image.clone()),
            entrypoint: config.entrypoint.clone(),
            cmd: config.cmd.clone(),
            working_dir: config.working_dir.clone(),
            user: config.user.clone(),
            env: Some(config.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(config.labels.clone().into_iter().collect()),
            hostname: config.hostname.clone(),
            tty: Some(config.tty),
            open_stdin: Some(config.stdin),
            stdin_once: Some(config.stdin_once),
            exposed_ports: (!config.exposed_ports.is_empty()).then(|| config.exposed_ports.clone()),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default()
            .name(&config.name)
            .build();
        let resp = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(rt)?;
        Ok(resp.id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(rt)
    }

    async fn stop_container(&self, id: &str, grace_secs: i64) -> Result<()> {
        // SIGTERM, poll, SIGKILL: Docker's own stop holds one HTTP request for the whole grace
        // period, which the client's request timeout would cut short for long periods.
        self.kill(id, "SIGTERM").await?;
        let deadline = Instant::now() + Duration::from_secs(u64::try_from(grace_secs).unwrap_or(0));
        loop {
            match self.inspect_container(id).await {
                Ok(info) if info.is_running() => {}
                Ok(_) | Err(Error::NotFound(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill(id, "SIGKILL").await?;
        // Wait for the kill to land so callers see the container stopped.
        for _ in 0..50 {
            match self.inspect_container(id).await {
                Ok(info) if info.is_running() => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                _ => break,
            }
        }
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // 409: removal already in progress.
            Err(DockerError::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(rt(e)),
        }
    }

    async fn inspect_image(&self, image: &str) -> Result<Option<ImageInfo>> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(ImageInfo {
                id: i.id.unwrap_or_default(),
                tags: i.repo_tags.unwrap_or_default(),
                size: i.size.unwrap_or(0),
                created: 0,
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(rt(e)),
        }
    }

    async fn image_user(&self, image: &str) -> Result<String> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.config.and_then(|c| c.user).unwrap_or_default()),
            Err(e) if is_not_found(&e) => Err(Error::NotFound(image.to_string())),
            Err(e) => Err(rt(e)),
        }
    }

    async fn pull_image(&self, image: &str) -> Result<()> {
        let opts = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let mut s = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = s.next().await {
            item.map_err(|e| Error::ImagePull {
                image: image.to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    async fn import_rootfs(
        &self,
        image: &str,
        tarball: bytes::Bytes,
        changes: &[String],
    ) -> Result<()> {
        let mut b = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(image);
        if !changes.is_empty() {
            b = b.changes(changes.to_vec());
        }
        let mut s =
            self.docker
                .create_image(Some(b.build()), Some(bollard::body_full(tarball)), None);
        while let Some(item) = s.next().await {
            item.map_err(rt)?;
        }
        Ok(())
    }

    async fn load_image(&self, tarball: bytes::Bytes) -> Result<()> {
        let opts = bollard::query_parameters::ImportImageOptionsBuilder::default()
            .quiet(true)
            .build();
        let mut s = self
            .docker
            .import_image(opts, bollard::body_full(tarball), None);
        while let Some(item) = s.next().await {
            item.map_err(rt)?;
        }
        Ok(())
    }

    async fn list_images(&self) -> Result<Vec<ImageInfo>> {
        let list = self
            .docker
            .list_images(None::<ListImagesOptions>)
            .await
            .map_err(rt)?;
        Ok(list
            .into_iter()
            .map(|i| ImageInfo {
                id: i.id,
                tags: i.repo_tags,
                size: i.size,
                created: i.created,
            })
            .collect())
    }

    async fn remove_image(&self, id: &str) -> Result<()> {
        let opts = RemoveImageOptionsBuilder::default().build();
        match self.docker.remove_image(id, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(rt(e)),
        }
    }

    async fn exec(&self, id: &str, cmd: &[String]) -> Result<ExecOutput> {
        let created = self
            .docker
            .create_exec(
                id,
                ExecConfig {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    Error::NotFound(id.to_string())
                } else {
                    rt(e)
                }
            })?;
        // Bounded: a command cannot fill the kubelet's memory or hold the call forever.
        let got = match self
            .docker
            .start_exec(&created.id, None::<StartExecOptions>)
            .await
            .map_err(rt)?
        {
            StartExecResults::Attached { output: s, .. } => super::bounded::collect(
                s.map_ok(|o| o.into_bytes()),
                super::bounded::OUTPUT_LIMIT,
                super::bounded::IDLE_TIMEOUT,
            )
            .await
            .map_err(rt)?,
            StartExecResults::Detached => Default::default(),
        };
        if got.idle {
            return Err(Error::Runtime(format!(
                "exec in {id}: no output for {:?}; given up (the command may still run in the container)",
                super::bounded::IDLE_TIMEOUT
            )));
        }
        let inspect = self.docker.inspect_exec(&created.id).await.map_err(rt)?;
        Ok(ExecOutput {
            // Still running after a cut: no exit code yet.
            exit_code: inspect.exit_code.unwrap_or(-1),
            output: got.output,
            truncated: got.truncated,
        })
    }

    async fn exec_stream(
        &self,
        id: &str,
        spec: &super::stream::StreamSpec,
        input: tokio::sync::mpsc::Receiver<super::stream::StreamInput>,
    ) -> Result<super::stream::StreamOutputs> {
        super::stream::docker_start(&self.docker, id, spec, input).await
    }

    /// From inside the sandbox's network namespace, which every container of the pod
    /// shares (found through the sandbox's main process).
    async fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> Result<super::port_forward::PortStream> {
        let info = self.inspect_container(sandbox_id).await?;
        let pid = info
            .pid
            .filter(|_| info.is_running())
            .ok_or_else(|| Error::Runtime(format!("sandbox {sandbox_id} is not running")))?;
        super::port_forward::connect_in_namespace_of(pid, port).await
    }

    async fn logs(&self, id: &str, options: &LogOptions) -> Result<LogStream> {
        let tail = options
            .tail
            .map(|t| t.to_string())
            .unwrap_or_else(|| "all".to_string());
        let opts = LogsOptionsBuilder::default()
            .follow(options.follow)
            .stdout(true)
            .stderr(true)
            .timestamps(options.timestamps)
            .tail(&tail)
            .since(since(options.since_seconds))
            .build();
        let s = self
            .docker
            .logs(id, Some(opts))
            .map_ok(|o| o.into_bytes())
            .map_err(rt);
        Ok(s.boxed())
    }

    async fn image_fs_usage(&self) -> Result<(u64, u64)> {
        let info = self.docker.info().await.map_err(rt)?;
        let root = info
            .docker_root_dir
            .unwrap_or_else(|| "/var/lib/docker".to_string());
        let st = nix::sys::statvfs::statvfs(root.as_str())
            .map_err(|e| Error::Runtime(format!("statvfs {root}: {e}")))?;
        let frag = st.fragment_size();
        let total = st.blocks() * frag;
        let free = st.blocks_available() * frag;
        Ok((total.saturating_sub(free), total))
    }

    async fn stats(&self, id: &str) -> Result<ContainerStats> {
        let opts = StatsOptionsBuilder::default().stream(false).build();
        let mut s = self.docker.stats(id, Some(opts));
        let Some(item) = s.next().await else {
            return Err(Error::NotFound(id.to_string()));
        };
        let st = item.map_err(rt)?;
        let cpu = st.cpu_stats.unwrap_or_default();
        let pre = st.precpu_stats.unwrap_or_default();
        let total = cpu
            .cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0);
        let pre_total = pre
            .cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0);
        let sys = cpu.system_cpu_usage.unwrap_or(0);
        let pre_sys = pre.system_cpu_usage.unwrap_or(0);
        let cpus = u64::from(cpu.online_cpus.unwrap_or(1).max(1));
        let cpu_millicores = if sys > pre_sys && total >= pre_total {
            (total - pre_total) * 1000 * cpus / (sys - pre_sys)
        } else {
            0
        };
        let mem = st.memory_stats.unwrap_or_default();
        let cache = mem
            .stats
            .as_ref()
            .and_then(|m| m.get("inactive_file").or_else(|| m.get("cache")).copied())
            .unwrap_or(0);
        let usage = mem.usage.unwrap_or(0);
        Ok(ContainerStats {
            cpu_usage_ns: total,
            cpu_millicores,
            memory_bytes: usage.saturating_sub(cache),
            memory_usage_bytes: usage,
        })
    }
}
