//! `ctl port-forward TYPE/NAME [LOCAL:]REMOTE [...] [--address ...]`, as kubectl: picks the
//! pod (a pod by name, or a workload's or service's most active one), maps named ports and
//! a service's ports to the pod's, listens locally and carries each accepted connection
//! over its own `PortForward` stream of the kubelet API (through the apiserver, which
//! finds the pod's kubelet). Runs until Ctrl-C (exit 0), or until the pod goes or a
//! connection fails on the pod's side (`error: lost connection to pod`, exit 1).

pub mod ports;

use super::Ctx;
use crate::args::parse_duration;
use crate::commands::container::pods::{Target, most_active_first, parse_target, workload_pods};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use client::kubelet_api::{self, PortForwardOpen};
use client::{Api as TypedApi, KubeletApi, WatchEvent, WatchParams};
use futures::StreamExt;
use ports::{ForwardedPort, ListenAddress};
use proto::Resource;
use proto::k8s::{Pod, Service};
use tokio::net::TcpListener;

#[derive(Args, Debug, Clone)]
pub struct PortForwardArgs {
    /// TYPE/NAME (pod/web, deployment/web, service/web), or a pod's name
    #[arg(value_name = "TYPE/NAME")]
    pub resource: Option<String>,
    /// [LOCAL_PORT:]REMOTE_PORT pairs: 8080:80, :80 (any free local port), 80 (the same),
    /// a named container port (8080:http), or for a service one of its ports
    #[arg(value_name = "[LOCAL_PORT:]REMOTE_PORT")]
    pub ports: Vec<String>,
    /// Addresses to listen on (comma separated). Only accepts IP addresses or localhost as
    /// a value. When localhost is supplied, ctl will try to bind on both 127.0.0.1 and ::1
    /// and will fail if neither of these addresses are available to bind.
    #[arg(long, value_delimiter = ',', default_value = "localhost")]
    pub address: Vec<String>,
    /// The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one
    /// pod is running
    #[arg(long, default_value = "1m0s", value_name = "DURATION")]
    pub pod_running_timeout: String,
}

/// Why forwarding stopped, other than Ctrl-C.
const LOST: &str = "lost connection to pod";

pub async fn port_forward(ctx: &Ctx, a: &PortForwardArgs) -> Result<()> {
    let (Some(resource), false) = (&a.resource, a.ports.is_empty()) else {
        bail!("TYPE/NAME and list of ports are required for port-forward");
    };
    let port_args = a.ports.as_slice();
    let timeout = parse_duration(&a.pod_running_timeout)
        .map_err(|e| anyhow!("--pod-running-timeout: {e}"))?;
    let target = parse_target(resource, "attach to")?;
    let (pod, remote_ports) = match &target {
        Target::Pod(name) => {
            let pod = get_pod(ctx, name).await?;
            ports::check_udp_in_pod(port_args, &pod)?;
            let converted = ports::convert_pod_named_ports(port_args, &pod)?;
            (pod, converted)
        }
        Target::Workload(kind, name) => {
            let pod = workload_pods(ctx, kind, name, timeout, most_active_first)
                .await?
                .remove(0);
            let converted = if *kind == "Service" {
                let svc = get_service(ctx, name).await?;
                ports::check_udp_in_service(port_args, &svc)?;
                ports::translate_service_ports(port_args, &svc, &pod)?
            } else {
                ports::check_udp_in_pod(port_args, &pod)?;
                ports::convert_pod_named_ports(port_args, &pod)?
            };
            (pod, converted)
        }
    };
    // As kubectl, the pod is read again just before forwarding.
    let pod = get_pod(ctx, &pod.meta().name).await?;
    let phase = pod.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("");
    if phase != "Running" {
        bail!("unable to forward port because pod is not running. Current status={phase}");
    }
    let addresses = ports::parse_addresses(&a.address)?;
    let forwards = ports::parse_ports(&remote_ports)?;
    let api = crate::commands::container::kubelet_api(ctx).await?;
    let listeners = listen(&addresses, forwards)?;
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::channel::<()>(1);
    let namespace = pod.meta().namespace.clone();
    let name = pod.meta().name.clone();
    let mut accepting = Vec::new();
    for (listener, port) in listeners {
        accepting.push(AbortOnDrop(tokio::spawn(accept_loop(
            listener,
            port,
            api.clone(),
            namespace.clone(),
            name.clone(),
            failed_tx.clone(),
        ))));
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = failed_rx.recv() => Err(anyhow!(LOST)),
        r = pod_gone(ctx, &pod) => r.and(Err(anyhow!(LOST))),
    }
}

fn pods_api(ctx: &Ctx, client: &client::Client) -> TypedApi<Pod> {
    TypedApi::namespaced(client.clone(), ctx.ns.effective())
}

async fn get_pod(ctx: &Ctx, name: &str) -> Result<Pod> {
    let api = ctx.api().await?;
    api.call(pods_api(ctx, api.client()).get(name)).await
}

async fn get_service(ctx: &Ctx, name: &str) -> Result<Service> {
    let api = ctx.api().await?;
    api.call(TypedApi::<Service>::namespaced(api.client().clone(), ctx.ns.effective()).get(name))
        .await
}

/// Binds every port on every address, printing kubectl's lines: a port whose first
/// listener took a free port (local 0) gets the same number on the other addresses. A
/// port fails when an address given as an IP fails, or when both of localhost's do; only
/// when every port failed is it an error.
fn listen(
    addresses: &[ListenAddress],
    forwards: Vec<ForwardedPort>,
) -> Result<Vec<(TcpListener, ForwardedPort)>> {
    let mut out = Vec::new();
    let mut any = false;
    for mut port in forwards.iter().copied() {
        let mut bound = Vec::new();
        let mut errors = Vec::new();
        let (mut localhost_ok, mut localhost_failed, mut ip_failed) = (0, 0, 0);
        for a in addresses {
            match bind(a.ip, port.local) {
                Ok(l) => {
                    let local = l.local_addr().map(|s| s.port()).unwrap_or(port.local);
                    port.local = local;
                    println!("{}", ports::forwarding_line(a.ip, local, port.remote));
                    if a.all_may_fail {
                        localhost_ok += 1;
                    }
                    bound.push(l);
                }
                Err(e) => {
                    let family = if a.ip.is_ipv4() { "tcp4" } else { "tcp6" };
                    errors.push(format!(
                        "unable to create listener: Error listen {family} {}: {e}",
                        ports::host_port(a.ip, port.local)
                    ));
                    if a.all_may_fail {
                        localhost_failed += 1;
                    } else {
                        ip_failed += 1;
                    }
                }
            }
        }
        if (localhost_ok == 0 && localhost_failed > 0) || ip_failed > 0 {
            eprintln!(
                "Unable to listen on port {}: Listeners failed to create with the following errors: [{}]",
                port.local,
                errors.join(" ")
            );
        } else {
            any = true;
        }
        // A listener that bound stays open, as kubectl's do, even when its port failed.
        out.extend(bound.into_iter().map(|l| (l, port)));
    }
    if !any {
        let list: Vec<String> = forwards
            .iter()
            .map(|p| format!("{{{} {}}}", p.local, p.remote))
            .collect();
        bail!(
            "unable to listen on any of the requested ports: [{}]",
            list.join(" ")
        );
    }
    Ok(out)
}

fn bind(ip: std::net::IpAddr, port: u16) -> std::io::Result<TcpListener> {
    let l = std::net::TcpListener::bind((ip, port))?;
    l.set_nonblocking(true)?;
    TcpListener::from_std(l)
}

/// Aborts the task when dropped: listeners close when the command ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts connections on one listener, each forwarded on its own stream. A failure on the
/// pod's side (the connection refused, the pod gone) is reported and ends the command, as
/// kubectl's does; a local one only ends that connection.
async fn accept_loop(
    listener: TcpListener,
    port: ForwardedPort,
    api: KubeletApi,
    namespace: String,
    pod: String,
    failed: tokio::sync::mpsc::Sender<()>,
) {
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error accepting connection on port {}: {e}", port.local);
                continue;
            }
        };
        println!("Handling connection for {}", port.local);
        let _ = socket.set_nodelay(true);
        let open = PortForwardOpen {
            namespace: namespace.clone(),
            pod: pod.clone(),
            port: u32::from(port.remote),
        };
        let (api, failed) = (api.clone(), failed.clone());
        tokio::spawn(async move {
            match kubelet_api::forward(&api, open, socket).await {
                Ok(()) => {}
                Err(kubelet_api::ForwardError::Local(e)) => {
                    eprintln!(
                        "error copying between the local connection and port {} -> {}: {e}",
                        port.local, port.remote
                    );
                }
                Err(kubelet_api::ForwardError::Remote(e)) => {
                    eprintln!(
                        "an error occurred forwarding {} -> {}: {}",
                        port.local, port.remote, e.message
                    );
                    let _ = failed.try_send(());
                }
            }
        });
    }
}

/// Returns once the pod is gone (deleted, replaced by another of the same name, or
/// finished): watched from the revision it was read at, read again when the watch ends.
async fn pod_gone(ctx: &Ctx, pod: &Pod) -> Result<()> {
    let api = ctx.api().await?;
    let pods = pods_api(ctx, api.client());
    let name = pod.meta().name.clone();
    let uid = pod.meta().uid.clone();
    let ended = |p: &Pod| {
        p.meta().uid != uid
            || p.status
                .as_ref()
                .is_some_and(|s| s.phase == "Succeeded" || s.phase == "Failed")
    };
    let mut revision = pod.meta().resource_version.clone();
    loop {
        let params = WatchParams {
            resource_version: revision.clone(),
            field_selector: format!("metadata.name={name}"),
            ..Default::default()
        };
        if let Ok(mut events) = pods.watch(&params).await {
            while let Some(Ok(ev)) = events.next().await {
                match &ev {
                    WatchEvent::Deleted(p) if p.meta().uid == uid => return Ok(()),
                    WatchEvent::Added(p) | WatchEvent::Modified(p) if ended(p) => {
                        return Ok(());
                    }
                    _ => {}
                }
                revision = ev.resource_version().to_string();
            }
        }
        // The watch ended (a timeout, the apiserver restarting): the pod's state now.
        match pods.get(&name).await {
            Ok(p) if ended(&p) => return Ok(()),
            Ok(p) => revision = p.meta().resource_version.clone(),
            Err(e) if e.is(proto::Reason::NotFound) => return Ok(()),
            Err(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn addr(ip: &str, all_may_fail: bool) -> ListenAddress {
        ListenAddress {
            ip: ip.parse().unwrap(),
            all_may_fail,
        }
    }

    #[tokio::test]
    async fn a_free_local_port_is_the_same_on_every_address() {
        // ::1 may be missing on this machine: localhost's addresses may fail alone.
        let got = listen(
            &[addr("127.0.0.1", true), addr("::1", true)],
            vec![ForwardedPort {
                local: 0,
                remote: 80,
            }],
        )
        .unwrap();
        let ports: Vec<u16> = got.iter().map(|(_, p)| p.local).collect();
        assert!(!ports.is_empty() && ports[0] != 0, "{ports:?}");
        assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
        for (l, p) in &got {
            assert_eq!(l.local_addr().unwrap().port(), p.local);
        }
    }

    #[tokio::test]
    async fn a_port_taken_on_an_address_given_as_an_ip_fails() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = listen(
            &[addr("127.0.0.1", false)],
            vec![ForwardedPort {
                local: port,
                remote: 80,
            }],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("unable to listen on any of the requested ports: [{{{port} 80}}]")
        );
        // Another port of the same command still forwards.
        let got = listen(
            &[addr("127.0.0.1", false)],
            vec![
                ForwardedPort {
                    local: port,
                    remote: 80,
                },
                ForwardedPort {
                    local: 0,
                    remote: 81,
                },
            ],
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.remote, 81);
        assert_eq!(
            got[0].0.local_addr().unwrap().ip(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
