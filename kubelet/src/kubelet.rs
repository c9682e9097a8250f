//! The daemon: images, node registration and heartbeat, the pod informer feeding one worker
//! per pod, and the clean-up of containers whose pods no longer exist.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::Recorder;
use crate::images;
use crate::network::{self, Cidr, PodNetwork};
use crate::node;
use crate::runtime::{Runtime, labels};
use crate::volumes;
use crate::worker::{PodWorker, Shared};
use client::{Api, Informer, InformerConfig, InformerEvent};
use proto::Resource;
use proto::k8s::{Node, Pod};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub const ORPHAN_SWEEP: Duration = Duration::from_secs(10);
/// As Kubernetes' image GC period.
pub const IMAGE_GC_PERIOD: Duration = Duration::from_secs(300);

struct WorkerHandle {
    tx: watch::Sender<Option<Arc<Pod>>>,
    cancel: CancellationToken,
    trace: crate::worker::TraceSlot,
}

/// The first non-loopback IPv4 address of the host.
pub fn default_node_ip() -> Option<std::net::Ipv4Addr> {
    // A UDP "connect" picks the source address the routing table would use; nothing is sent.
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() => Some(ip),
        _ => None,
    }
}

/// Runs the kubelet until `cancel`. Pods' containers keep running after it returns.
/// With a `pod_network` (the real one is `network::HostNetwork`), pods get addresses from
/// the node's podCIDR (spec.podCIDR, else `--pod-cidr`) through it; without a podCIDR (or
/// without a network, as simulated nodes run) they stay on the runtime's default bridge.
pub async fn run<R: Runtime>(
    cfg: Config,
    runtime: Arc<R>,
    pod_network: Option<Arc<dyn PodNetwork>>,
    cancel: CancellationToken,
) -> Result<()> {
    // Every runtime call is counted and timed (kubelet_runtime_operations_*).
    let runtime = Arc::new(crate::runtime::instrumented::Instrumented::new(runtime));
    let node_name = match &cfg.node_name {
        Some(n) => n.clone(),
        None => client::daemon::host_name()
            .map(|s| s.to_ascii_lowercase())
            .map_err(|e| Error::io("reading the host name", e))?,
    };
    crate::metrics::metrics().set_node_name(&node_name);
    let sync_loop = crate::syncloop::SyncLoopMonitor::default();
    let health = crate::syncloop::health(sync_loop.clone(), cfg.sync_frequency);
    if cfg.healthz_port != 0 {
        let addr = std::net::SocketAddr::new(cfg.healthz_bind_address, cfg.healthz_port);
        // As Kubernetes' kubelet, a healthz port that cannot be had is logged, not fatal.
        if let Err(e) = crate::http::serve_healthz(addr, health.clone(), cancel.clone()).await {
            tracing::error!(%addr, error = %e, "serving healthz failed");
        }
    }
    let node_ip = cfg
        .node_ip
        .or_else(default_node_ip)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let cluster_cidr: Cidr = cfg
        .cluster_cidr
        .parse()
        .map_err(|e| Error::Config(format!("--cluster-cidr: {e}")))?;
    let mut security =
        crate::security::NodeSecurity::new(cfg.seccomp_root(), cfg.allowed_unsafe_sysctls.clone())
            .map_err(|e| Error::Config(e.to_string()))?;
    security.seccomp_default = cfg.seccomp_default;
    std::fs::create_dir_all(cfg.root_dir.join("pods"))
        .map_err(|e| Error::io(format!("creating {}", cfg.root_dir.display()), e))?;
    // Every pod's volumes, tokens and Secrets live under the root dir: only root may enter
    // (containers reach their own volumes through bind mounts, not through this path).
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg.root_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("making {} private", cfg.root_dir.display()), e))?;
    }

    // The apiserver connection first: a join writes the node's credentials under the root
    // dir, and everything after talks through this client.
    let paths = crate::bootstrap::files::Paths::new(&cfg.root_dir);
    let server = cfg.server();
    let flags = crate::bootstrap::source::Flags {
        kubeconfig: cfg.connection.kubeconfig.as_deref(),
        server: server.as_deref(),
        bootstrap_token: cfg.bootstrap_token.as_deref(),
        ca_cert_hash: cfg.ca_cert_hash.as_deref(),
    };
    let Some(conn) = crate::bootstrap::connect(&flags, &paths, &node_name, &cancel).await? else {
        return Ok(());
    };
    let client = conn.client.clone();
    let api_security = if conn.secure() {
        Some(crate::api_tls::security(&cfg, &conn)?)
    } else {
        None
    };

    images::ensure_local_images(runtime.as_ref(), &cfg.busybox).await?;
    if let Some(dir) = &cfg.image_dir {
        let n = images::load_image_dir(runtime.as_ref(), dir).await?;
        tracing::info!(dir = %dir.display(), images = n, "loaded images");
    }

    // Bound now so the Node reports the port; in secure mode served once a serving
    // certificate is there (which needs the registered Node).
    let api_ip = match &api_security {
        Some(_) => cfg.address,
        None => crate::server::plaintext_api_address(cfg.address)?,
    };
    let (listener, api_addr) =
        crate::server::bind(std::net::SocketAddr::new(api_ip, cfg.port)).await?;
    let (api_task, secure_listener) = match &api_security {
        None => (
            Some(crate::server::serve_plaintext(
                runtime.clone(),
                &node_name,
                listener,
                health.clone(),
                cancel.clone(),
            )),
            None,
        ),
        Some(_) => (None, Some(listener)),
    };
    let mut facts = node::host_facts(
        &node_name,
        &node_ip,
        node::parse_labels(&cfg.node_labels)?,
        node::parse_taints(&cfg.register_with_taints)?,
        cfg.max_pods,
        runtime.version().await.unwrap_or_default(),
    );
    facts.kubelet_port = api_addr.port();
    // Registration retries until the apiserver answers.
    let mut backoff = client::Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let registered: Node = loop {
        match node::register(&client, &facts, cfg.pod_cidr.as_deref()).await {
            Ok(n) => break n,
            Err(e) => {
                let d = backoff.next_delay();
                tracing::warn!(node = %node_name, error = %e, retry_in = ?d, "registering the node failed");
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(d) => {}
                }
            }
        }
    };

    let assigned_cidr = registered
        .spec
        .as_ref()
        .map(|s| s.pod_cidr.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| cfg.pod_cidr.clone());
    if let (Some(flag), Some(spec)) = (&cfg.pod_cidr, registered.spec.as_ref())
        && !spec.pod_cidr.is_empty()
        && &spec.pod_cidr != flag
    {
        tracing::warn!(node = %node_name, flag = %flag, assigned = %spec.pod_cidr, "--pod-cidr differs from the node's spec.podCIDR; using spec.podCIDR");
    }
    // The podCIDR the pod network is set up for; pods are attached only once it is.
    let mut node_cidr: Option<Cidr> = match (assigned_cidr, &pod_network) {
        (Some(c), Some(net)) => {
            let cidr: Cidr = c.parse()?;
            net.setup_node(cidr).await?;
            Some(cidr)
        }
        _ => {
            tracing::info!(node = %node_name, "no podCIDR yet: pods use the runtime's default bridge until spec.podCIDR is set");
            None
        }
    };
    let network: Option<Arc<dyn PodNetwork>> = node_cidr.and(pod_network.clone());

    let mut tasks = JoinSet::new();
    if let Some(api_task) = api_task {
        tasks.spawn(async move {
            let _ = api_task.await;
        });
    }
    if let (Some(listener), Some(security)) = (secure_listener, api_security) {
        let mut node_ips: Vec<std::net::IpAddr> = node_ip.parse().into_iter().collect();
        if !cfg.address.is_unspecified() && !node_ips.contains(&cfg.address) {
            node_ips.push(cfg.address);
        }
        let source = crate::api_tls::ServingSource {
            tls_files: cfg
                .tls_cert_file
                .clone()
                .zip(cfg.tls_private_key_file.clone()),
            node_name: node_name.clone(),
            node_ips,
            rotate: cfg.rotate_certificates,
        };
        let api = crate::api_tls::SecureApi {
            runtime: runtime.clone(),
            listener,
            security,
            health: health.clone(),
        };
        tasks.spawn(crate::api_tls::run(
            api,
            conn.clone(),
            paths.clone(),
            source,
            cancel.clone(),
        ));
    }
    if let (Some(current), true) = (conn.current_cert_pem(), cfg.rotate_certificates) {
        tasks.spawn(crate::certificate::manager::rotate(
            "client",
            client.clone(),
            crate::certificate::shape::client(&node_name),
            current,
            crate::bootstrap::install_client(&conn, &paths),
            cancel.clone(),
        ));
    }
    tasks.spawn(crate::volumes::local_path::run(
        client.clone(),
        vec![node_name.clone(), facts.hostname.clone()],
        cfg.local_path_root.clone(),
        cancel.clone(),
    ));
    let (events, events_task) = Recorder::new(client.clone(), &node_name, cancel.clone());
    tasks.spawn(events_task);
    {
        let rt = runtime.clone();
        let runtime_ok = move || {
            let rt = rt.clone();
            async move { rt.version().await.is_ok() }
        };
        tasks.spawn(node::heartbeat(
            client.clone(),
            facts.clone(),
            node::HeartbeatTiming {
                lease_duration_secs: cfg.node_lease_duration_seconds,
                status_update: cfg.node_status_update_frequency,
            },
            registered.meta().uid.clone(),
            cfg.root_dir.clone(),
            runtime_ok,
            cancel.clone(),
        ));
    }

    {
        let rt = runtime.clone();
        let cancel = cancel.clone();
        let t = crate::image_gc::Thresholds {
            high_percent: cfg.image_gc_high_threshold,
            low_percent: cfg.image_gc_low_threshold,
        };
        tasks.spawn(async move {
            let protected = [images::PAUSE_IMAGE, images::BUSYBOX_IMAGE];
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(IMAGE_GC_PERIOD) => {}
                }
                if let Err(e) = crate::image_gc::collect(rt.as_ref(), &protected, t).await {
                    tracing::warn!(error = %e, "image garbage collection failed");
                }
            }
        });
    }

    // Service links need the Services known before a container is made, as Kubernetes'
    // kubelet waits for its Service informer.
    let service_informer = Informer::new(
        Api::<proto::k8s::Service>::all(client.clone()),
        InformerConfig::default(),
    );
    service_informer.start();
    tokio::select! {
        _ = cancel.cancelled() => return Ok(()),
        _ = service_informer.wait_until_synced() => {}
    }
    let shared = Arc::new(Shared {
        runtime: runtime.clone(),
        client: client.clone(),
        node_name: node_name.clone(),
        node_ip: node_ip.clone(),
        root_dir: cfg.root_dir.clone(),
        prefix: cfg.container_prefix.clone(),
        pause_image: images::PAUSE_IMAGE.to_string(),
        events,
        network: std::sync::RwLock::new(network),
        resync: cfg.sync_frequency,
        dns: crate::dns::DnsSettings::from_config(&cfg),
        services: service_informer.store(),
        security,
        tokens: Arc::new(volumes::token::TokenManager::new(Arc::new(
            volumes::token::ApiTokenRequester {
                client: client.clone(),
            },
        ))),
    });

    let informer = Informer::new(
        Api::<Pod>::all(client.clone()),
        InformerConfig {
            field_selector: format!("spec.nodeName={node_name}"),
            ..Default::default()
        },
    );
    let mut rx = informer.subscribe_traced();
    informer.start();
    tokio::select! {
        _ = cancel.cancelled() => return Ok(()),
        _ = informer.wait_until_synced() => {}
    }
    tracing::info!(node = %node_name, pods = informer.store().len(), "pod informer synced");

    // Routes to other nodes' pods follow the Node objects.
    let node_informer = Informer::new(Api::<Node>::all(client.clone()), InformerConfig::default());
    let mut node_rx = node_informer.subscribe();
    if pod_network.is_some() {
        node_informer.start();
    }

    let mut workers: HashMap<String, WorkerHandle> = HashMap::new();
    let mut worker_tasks: JoinSet<String> = JoinSet::new();
    let store = informer.store();
    let mut sweep = tokio::time::interval(ORPHAN_SWEEP);
    loop {
        sync_loop.entered(std::time::SystemTime::now());
        tokio::select! {
            _ = cancel.cancelled() => break,
            ev = rx.recv() => {
                let Some((ev, parent)) = ev else { break };
                dispatch(&shared, &mut workers, &mut worker_tasks, ev, parent);
            }
            done = worker_tasks.join_next(), if !worker_tasks.is_empty() => {
                if let Some(Ok(uid)) = done {
                    // A worker ends once its pod is gone; a pod still present gets a new one.
                    if workers.get(&uid).is_some_and(|w| w.tx.borrow().is_none()) {
                        workers.remove(&uid);
                    }
                }
            }
            _ = sweep.tick() => {
                let live: HashSet<String> = store.list().iter().map(|p| p.meta().uid.clone()).collect();
                let known: HashSet<String> = workers.keys().cloned().chain(live).collect();
                shared.tokens.retain_pods(&known);
                if let Err(e) = remove_orphans(&shared, &known).await {
                    tracing::warn!(node = %node_name, error = %e, "orphan clean-up failed");
                }
                if let (Some(net), Some(_)) = (&pod_network, node_cidr) {
                    net.release_unknown(&known.iter().cloned().collect());
                }
            }
            ev = node_rx.recv(), if pod_network.is_some() => {
                let Some(net) = &pod_network else { continue };
                if ev.is_none() { continue; }
                // Coalesce a burst of node events into one sync.
                while node_rx.try_recv().is_ok() {}
                let nodes: Vec<Node> = node_informer.store().list().iter().map(|n| n.as_ref().clone()).collect();
                if node_cidr.is_none() {
                    // The controller-manager assigned the podCIDR after the kubelet started.
                    let assigned = nodes
                        .iter()
                        .find(|n| n.meta().name == node_name)
                        .and_then(|n| n.spec.as_ref())
                        .map(|s| s.pod_cidr.clone())
                        .filter(|c| !c.is_empty());
                    if let Some(c) = assigned {
                        match setup_node(net.as_ref(), &c).await {
                            Ok(cidr) => {
                                *shared.network.write().unwrap_or_else(|p| p.into_inner()) =
                                    Some(net.clone());
                                node_cidr = Some(cidr);
                            }
                            Err(e) => tracing::warn!(node = %node_name, cidr = %c, error = %e, "setting up the pod network failed"),
                        }
                    }
                }
                if let Some(mine) = node_cidr {
                    let plan = network::desired_routes(&nodes, &node_name, mine, cluster_cidr);
                    if let Err(e) = net.sync_routes(&plan).await {
                        tracing::warn!(node = %node_name, error = %e, "syncing node routes failed");
                    }
                }
            }
        }
    }
    for w in workers.values() {
        w.cancel.cancel();
    }
    informer.stop();
    node_informer.stop();
    service_informer.stop();
    let drain = async {
        while worker_tasks.join_next().await.is_some() {}
        while tasks.join_next().await.is_some() {}
    };
    if tokio::time::timeout(Duration::from_secs(10), drain)
        .await
        .is_err()
    {
        tracing::warn!(node = %node_name, "workers did not stop within 10s");
    }
    Ok(())
}

async fn setup_node(net: &dyn PodNetwork, cidr: &str) -> Result<Cidr> {
    let cidr: Cidr = cidr.parse()?;
    net.setup_node(cidr).await?;
    Ok(cidr)
}

fn dispatch<R: Runtime>(
    shared: &Arc<Shared<R>>,
    workers: &mut HashMap<String, WorkerHandle>,
    tasks: &mut JoinSet<String>,
    ev: InformerEvent<Pod>,
    parent: Option<telemetry::trace::TraceParent>,
) {
    let (pod, gone) = match &ev {
        InformerEvent::Deleted(p) => (p.clone(), true),
        other => (other.object().clone(), false),
    };
    let uid = pod.meta().uid.clone();
    if let Some(w) = workers.get(&uid) {
        if parent.is_some() {
            *w.trace.lock().unwrap_or_else(|p| p.into_inner()) = parent;
        }
        let _ = w.tx.send(if gone { None } else { Some(pod) });
        return;
    }
    if gone {
        // A pod we never ran: the orphan sweep removes anything left of it.
        return;
    }
    let (tx, rx) = watch::channel(Some(pod.clone()));
    let cancel = CancellationToken::new();
    let trace = crate::worker::TraceSlot::new(std::sync::Mutex::new(parent));
    let worker = PodWorker::new(shared.clone(), uid.clone(), rx).traced_by(trace.clone());
    let span = tracing::info_span!("pod", key = %client::store::key_of(pod.as_ref()), uid = %uid);
    let c = cancel.clone();
    let u = uid.clone();
    tasks.spawn(tracing::Instrument::instrument(
        async move {
            worker.run(c).await;
            u
        },
        span,
    ));
    workers.insert(uid, WorkerHandle { tx, cancel, trace });
}

/// Stops and removes containers of this node whose pod is neither in the API nor being
/// handled, and their pod directories. Running containers of known pods are never touched:
/// after a restart the workers adopt them.
pub async fn remove_orphans<R: Runtime>(shared: &Shared<R>, known: &HashSet<String>) -> Result<()> {
    let all = shared
        .runtime
        .list_containers(&[(labels::NODE, shared.node_name.as_str())])
        .await?;
    let mut orphan_uids = HashSet::new();
    for c in &all {
        let uid = c.pod_uid().to_string();
        if uid.is_empty() || known.contains(&uid) {
            continue;
        }
        if c.is_running() {
            let grace = c.label(labels::GRACE_PERIOD).parse::<i64>().unwrap_or(30);
            let grace = if c.kind() == Some(crate::runtime::ContainerKind::Sandbox) {
                0
            } else {
                grace
            };
            tracing::info!(node = %shared.node_name, container = %c.name, "stopping a container whose pod is gone");
            shared.runtime.stop_container(&c.id, grace).await?;
        }
        shared.runtime.remove_container(&c.id).await?;
        orphan_uids.insert(uid);
    }
    if let Some(net) = &shared.network() {
        for uid in &orphan_uids {
            net.detach(uid).await?;
        }
    }
    // Pod directories of pods that are gone.
    if let Ok(rd) = std::fs::read_dir(shared.root_dir.join("pods")) {
        for e in rd.flatten() {
            let uid = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&uid) {
                volumes::cleanup(&shared.root_dir, &uid);
            }
        }
    }
    Ok(())
}
