//! Every runtime call timed in one place: a [`Runtime`] around the real one that counts
//! and times each operation (`kubelet_runtime_operations_total`,
//! `kubelet_runtime_operations_duration_seconds`, `kubelet_runtime_operations_errors_total`),
//! with the CRI method names Kubernetes uses as `operation_type`.

use super::{
    ContainerConfig, ContainerInfo, ContainerStats, ExecOutput, ImageInfo, LogOptions, LogStream,
    Runtime, stream,
};
use crate::error::Result;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub struct Instrumented<R: Runtime> {
    inner: Arc<R>,
}

impl<R: Runtime> Instrumented<R> {
    pub fn new(inner: Arc<R>) -> Self {
        Instrumented { inner }
    }

    /// The runtime underneath.
    pub fn inner(&self) -> &Arc<R> {
        &self.inner
    }
}

/// Runs `call` as `operation`, recording its count, duration and failure.
async fn timed<T>(operation: &'static str, call: impl Future<Output = Result<T>>) -> Result<T> {
    let started = Instant::now();
    let r = call.await;
    crate::metrics::metrics().observe_runtime_operation(
        operation,
        started.elapsed().as_secs_f64(),
        r.is_err(),
    );
    r
}

impl<R: Runtime> Runtime for Instrumented<R> {
    async fn version(&self) -> Result<String> {
        timed("version", self.inner.version()).await
    }
    async fn list_containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerInfo>> {
        timed("list_containers", self.inner.list_containers(labels)).await
    }
    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo> {
        timed("container_status", self.inner.inspect_container(id)).await
    }
    async fn create_container(&self, config: &ContainerConfig) -> Result<String> {
        timed("create_container", self.inner.create_container(config)).await
    }
    async fn start_container(&self, id: &str) -> Result<()> {
        timed("start_container", self.inner.start_container(id)).await
    }
    async fn stop_container(&self, id: &str, grace_secs: i64) -> Result<()> {
        timed("stop_container", self.inner.stop_container(id, grace_secs)).await
    }
    async fn remove_container(&self, id: &str) -> Result<()> {
        timed("remove_container", self.inner.remove_container(id)).await
    }
    async fn inspect_image(&self, image: &str) -> Result<Option<ImageInfo>> {
        timed("image_status", self.inner.inspect_image(image)).await
    }
    async fn pull_image(&self, image: &str) -> Result<()> {
        timed("pull_image", self.inner.pull_image(image)).await
    }
    async fn image_user(&self, image: &str) -> Result<String> {
        // The user comes from the image's config, which CRI returns with ImageStatus.
        timed("image_status", self.inner.image_user(image)).await
    }
    async fn import_rootfs(
        &self,
        image: &str,
        tarball: bytes::Bytes,
        changes: &[String],
    ) -> Result<()> {
        timed(
            "import_image",
            self.inner.import_rootfs(image, tarball, changes),
        )
        .await
    }
    async fn load_image(&self, tarball: bytes::Bytes) -> Result<()> {
        timed("load_image", self.inner.load_image(tarball)).await
    }
    async fn list_images(&self) -> Result<Vec<ImageInfo>> {
        timed("list_images", self.inner.list_images()).await
    }
    async fn remove_image(&self, id: &str) -> Result<()> {
        timed("remove_image", self.inner.remove_image(id)).await
    }
    async fn exec(&self, id: &str, cmd: &[String]) -> Result<ExecOutput> {
        timed("exec_sync", self.inner.exec(id, cmd)).await
    }
    async fn logs(&self, id: &str, options: &LogOptions) -> Result<LogStream> {
        // Opening the stream; reading it is the caller's time.
        timed("logs", self.inner.logs(id, options)).await
    }
    async fn stats(&self, id: &str) -> Result<ContainerStats> {
        timed("container_stats", self.inner.stats(id)).await
    }
    async fn exec_stream(
        &self,
        id: &str,
        spec: &stream::StreamSpec,
        input: tokio::sync::mpsc::Receiver<stream::StreamInput>,
    ) -> Result<stream::StreamOutputs> {
        // Setting the session up (CRI's `exec` returns its streaming URL), not its life.
        timed("exec", self.inner.exec_stream(id, spec, input)).await
    }
    async fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> Result<super::port_forward::PortStream> {
        // Making the connection (CRI's `port_forward` returns its streaming URL), not its life.
        timed("port_forward", self.inner.port_forward(sandbox_id, port)).await
    }
    async fn image_fs_usage(&self) -> Result<(u64, u64)> {
        timed("image_fs_info", self.inner.image_fs_usage()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::FakeRuntime;

    #[tokio::test]
    async fn every_call_is_counted_and_failures_are_errors() {
        let rt = Instrumented::new(Arc::new(FakeRuntime::new()));
        let before = telemetry::metrics::encode();
        let count = |text: &str, name: &str, op: &str| -> u64 {
            let prefix = format!("{name}{{operation_type=\"{op}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        rt.list_containers(&[]).await.unwrap();
        rt.list_containers(&[]).await.unwrap();
        assert!(rt.stats("no-such-container").await.is_err());
        let after = telemetry::metrics::encode();
        let ops = "kubelet_runtime_operations_total";
        let errors = "kubelet_runtime_operations_errors_total";
        assert_eq!(
            count(&after, ops, "list_containers") - count(&before, ops, "list_containers"),
            2
        );
        assert_eq!(
            count(&after, ops, "container_stats") - count(&before, ops, "container_stats"),
            1
        );
        assert_eq!(
            count(&after, errors, "container_stats") - count(&before, errors, "container_stats"),
            1
        );
        assert!(
            after.contains("kubelet_runtime_operations_duration_seconds_count{operation_type=\"list_containers\"}"),
            "{after}"
        );
    }
}
