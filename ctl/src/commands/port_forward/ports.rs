//! What `port-forward`'s arguments mean, as kubectl reads them: `[LOCAL]:REMOTE` port
//! pairs (a named remote port looked up in the pod, or for a service its port's targetPort),
//! and the `--address` list to listen on. Pure: the command does the I/O.

use anyhow::{Result, anyhow, bail};
use proto::Resource;
use proto::k8s::{Pod, Service};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// kubectl's `splitPort`: `LOCAL:REMOTE`, or one port for both (anything that is not two
/// parts, as kubectl, whose later parsing refuses it).
pub fn split_port(port: &str) -> (&str, &str) {
    let parts: Vec<&str> = port.split(':').collect();
    match parts.as_slice() {
        [local, remote] => (local, remote),
        _ => (parts[0], parts[0]),
    }
}

/// A pair as kubectl writes it back: `REMOTE` alone when both are the same text.
fn join_port(local: &str, remote: &str) -> String {
    if local == remote {
        remote.to_string()
    } else {
        format!("{local}:{remote}")
    }
}

fn is_number(s: &str) -> bool {
    // Go's strconv.Atoi: an optional sign, then digits.
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// kubectl's `LookupContainerPortNumberByName`: containers first, then init containers.
pub fn container_port_by_name(pod: &Pod, name: &str) -> Result<i32> {
    let spec = pod.spec.clone().unwrap_or_default();
    spec.containers
        .iter()
        .chain(&spec.init_containers)
        .flat_map(|c| &c.ports)
        .find(|p| p.name == name)
        .map(|p| p.container_port)
        .ok_or_else(|| {
            anyhow!(
                "Pod '{}' does not have a named port '{name}'",
                pod.meta().name
            )
        })
}

/// kubectl's `convertPodNamedPortToNumber`: named remote ports become the pod's numbers.
pub fn convert_pod_named_ports(ports: &[String], pod: &Pod) -> Result<Vec<String>> {
    ports
        .iter()
        .map(|port| {
            let (local, remote) = split_port(port);
            if remote.is_empty() {
                bail!("remote port cannot be empty");
            }
            let number = if is_number(remote) {
                remote.to_string()
            } else {
                container_port_by_name(pod, remote)?.to_string()
            };
            // `http` alone keeps one number for both sides; `:http` stays random locally.
            Ok(if local == remote {
                number
            } else {
                format!("{local}:{number}")
            })
        })
        .collect()
}

fn service_port_by_name(svc: &Service, name: &str) -> Result<i32> {
    svc.spec
        .iter()
        .flat_map(|s| &s.ports)
        .find(|p| p.name == name)
        .map(|p| p.port)
        .ok_or_else(|| {
            anyhow!(
                "Service '{}' does not have a named port '{name}'",
                svc.meta().name
            )
        })
}

/// kubectl's `LookupContainerPortNumberByServicePort`: the pod's port behind service port
/// `port` (its targetPort: a number, a name in the pod, or unset for the same number; a
/// headless service's ports are the pods').
pub fn container_port_for_service_port(svc: &Service, pod: &Pod, port: i32) -> Result<i32> {
    let spec = svc.spec.clone().unwrap_or_default();
    let Some(sp) = spec.ports.iter().find(|p| p.port == port) else {
        bail!(
            "Service {} does not have a service port {port}",
            svc.meta().name
        );
    };
    if spec.cluster_ip == "None" {
        return Ok(port);
    }
    match sp.target_port.parse::<i32>() {
        Ok(0) => Ok(sp.port),
        Ok(n) => Ok(n),
        Err(_) if sp.target_port.is_empty() => Ok(sp.port),
        Err(_) => container_port_by_name(pod, &sp.target_port),
    }
}

/// kubectl's `translateServicePortToTargetPort`: service ports (numbers or names) become
/// the chosen pod's ports; the local side stays the service port when it was not given.
pub fn translate_service_ports(ports: &[String], svc: &Service, pod: &Pod) -> Result<Vec<String>> {
    ports
        .iter()
        .map(|port| {
            let (local, remote) = split_port(port);
            let mut local = local.to_string();
            let number = match remote.parse::<i32>() {
                Ok(n) => n,
                Err(_) => {
                    let n = service_port_by_name(svc, remote)?;
                    if local == remote {
                        local = n.to_string();
                    }
                    n
                }
            };
            let target = container_port_for_service_port(svc, pod, number)?;
            Ok(join_port(&local, &target.to_string()))
        })
        .collect()
}

/// kubectl's `checkUDPPorts`: a remote port served only over UDP cannot be forwarded.
/// `named` resolves a remote port name to its number as the object declares it.
fn check_udp(
    ports: &[String],
    udp: &BTreeSet<i32>,
    tcp: &BTreeSet<i32>,
    named: impl Fn(&str) -> Result<i32>,
) -> Result<()> {
    for port in ports {
        let (_, remote) = split_port(port);
        let number = match remote.parse::<i32>() {
            Ok(n) => n,
            Err(_) => named(remote)?,
        };
        if udp.contains(&number) && !tcp.contains(&number) {
            bail!("UDP protocol is not supported for {remote}");
        }
    }
    Ok(())
}

/// A protocol as declared; unset is TCP (the API's default).
fn protocol(p: &str) -> &str {
    if p.is_empty() { "TCP" } else { p }
}

pub fn check_udp_in_service(ports: &[String], svc: &Service) -> Result<()> {
    let (mut udp, mut tcp) = (BTreeSet::new(), BTreeSet::new());
    for p in svc.spec.iter().flat_map(|s| &s.ports) {
        match protocol(&p.protocol) {
            "UDP" => udp.insert(p.port),
            "TCP" => tcp.insert(p.port),
            _ => false,
        };
    }
    check_udp(ports, &udp, &tcp, |name| service_port_by_name(svc, name))
}

pub fn check_udp_in_pod(ports: &[String], pod: &Pod) -> Result<()> {
    let (mut udp, mut tcp) = (BTreeSet::new(), BTreeSet::new());
    for p in pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| &c.ports)
    {
        match protocol(&p.protocol) {
            "UDP" => udp.insert(p.container_port),
            "TCP" => tcp.insert(p.container_port),
            _ => false,
        };
    }
    check_udp(ports, &udp, &tcp, |name| container_port_by_name(pod, name))
}

/// A local port and the pod's port it forwards to; local 0: any free port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardedPort {
    pub local: u16,
    pub remote: u16,
}

/// Go's `strconv.ParseUint(s, 10, 16)`, with its error text.
fn parse_u16(s: &str) -> std::result::Result<u16, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse::<u16>()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// kubectl's `parsePorts`: `5000`, `8888:5000`, `:5000` / `0:5000` (any free local port).
pub fn parse_ports(ports: &[String]) -> Result<Vec<ForwardedPort>> {
    ports
        .iter()
        .map(|port| {
            let parts: Vec<&str> = port.split(':').collect();
            let (local, remote) = match parts.as_slice() {
                [one] => (*one, *one),
                [local, remote] => (if local.is_empty() { "0" } else { local }, *remote),
                _ => bail!("invalid port format '{port}'"),
            };
            let local =
                parse_u16(local).map_err(|e| anyhow!("error parsing local port '{local}': {e}"))?;
            let remote = parse_u16(remote)
                .map_err(|e| anyhow!("error parsing remote port '{remote}': {e}"))?;
            if remote == 0 {
                bail!("remote port must be > 0");
            }
            Ok(ForwardedPort { local, remote })
        })
        .collect()
}

/// An address to listen on. `localhost` is two, either of which may fail to bind
/// (`all_may_fail`: the port fails only when both do); an address given as an IP must bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddress {
    pub ip: IpAddr,
    pub all_may_fail: bool,
}

/// kubectl's `parseAddresses`: `localhost` (127.0.0.1 and ::1) or IPs, each once, sorted
/// by their text (so 127.0.0.1 comes before ::1).
pub fn parse_addresses(addresses: &[String]) -> Result<Vec<ListenAddress>> {
    if addresses.is_empty() {
        bail!("you must specify at least 1 address");
    }
    let mut parsed: std::collections::BTreeMap<String, ListenAddress> = Default::default();
    for a in addresses {
        if a == "localhost" {
            for ip in [
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ] {
                parsed.entry(ip.to_string()).or_insert(ListenAddress {
                    ip,
                    all_may_fail: true,
                });
            }
        } else {
            let ip: IpAddr = a.parse().map_err(|_| anyhow!("{a} is not a valid IP"))?;
            parsed.insert(
                ip.to_string(),
                ListenAddress {
                    ip,
                    all_may_fail: false,
                },
            );
        }
    }
    Ok(parsed.into_values().collect())
}

/// Go's `net.JoinHostPort`: an IPv6 address in brackets.
pub fn host_port(ip: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(ip, port).to_string()
}

/// The line kubectl prints for each listener.
pub fn forwarding_line(ip: IpAddr, local: u16, remote: u16) -> String {
    format!("Forwarding from {} -> {remote}", host_port(ip, local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, ContainerPort, ObjectMeta, PodSpec, ServicePort, ServiceSpec};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn pod() -> Pod {
        let port = |name: &str, n: i32, proto: &str| ContainerPort {
            name: name.into(),
            container_port: n,
            protocol: proto.into(),
            ..Default::default()
        };
        Pod {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "app".into(),
                    ports: vec![
                        port("http", 8080, "TCP"),
                        port("dns", 53, "UDP"),
                        port("metrics", 9090, ""),
                    ],
                    ..Default::default()
                }],
                init_containers: vec![Container {
                    name: "init".into(),
                    ports: vec![port("setup", 7000, "TCP")],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn service(cluster_ip: &str, ports: &[(&str, i32, &str, &str)]) -> Service {
        Service {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                ..Default::default()
            }),
            spec: Some(ServiceSpec {
                cluster_ip: cluster_ip.into(),
                ports: ports
                    .iter()
                    .map(|(name, port, target, proto)| ServicePort {
                        name: name.to_string(),
                        port: *port,
                        target_port: target.to_string(),
                        protocol: proto.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn port_specs_as_kubectl_parses_them() {
        let p = |l, r| ForwardedPort {
            local: l,
            remote: r,
        };
        assert_eq!(
            parse_ports(&strings(&["5000", "8888:5000", ":80", "0:81"])).unwrap(),
            vec![p(5000, 5000), p(8888, 5000), p(0, 80), p(0, 81)]
        );
        let err = |s: &str| parse_ports(&strings(&[s])).unwrap_err().to_string();
        assert_eq!(err("1:2:3"), "invalid port format '1:2:3'");
        assert_eq!(
            err("x:80"),
            "error parsing local port 'x': strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err("80:70000"),
            "error parsing remote port '70000': strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert_eq!(
            err("8080:"),
            "error parsing remote port '': strconv.ParseUint: parsing \"\": invalid syntax"
        );
        assert_eq!(err("0"), "remote port must be > 0");
        assert_eq!(err(":0"), "remote port must be > 0");
        assert_eq!(
            err("-1"),
            "error parsing local port '-1': strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
    }

    #[test]
    fn named_pod_ports_become_numbers() {
        let got = convert_pod_named_ports(
            &strings(&["http", "9000:http", ":metrics", "80", "setup"]),
            &pod(),
        )
        .unwrap();
        assert_eq!(got, strings(&["8080", "9000:8080", ":9090", "80", "7000"]));
        let e = convert_pod_named_ports(&strings(&["https"]), &pod()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Pod 'web' does not have a named port 'https'"
        );
        let e = convert_pod_named_ports(&strings(&["8080:"]), &pod()).unwrap_err();
        assert_eq!(e.to_string(), "remote port cannot be empty");
    }

    #[test]
    fn service_ports_map_to_their_target_ports_in_the_pod() {
        let svc = service(
            "10.96.0.10",
            &[
                ("http", 80, "8080", "TCP"),
                ("named", 81, "metrics", "TCP"),
                ("same", 82, "", "TCP"),
                ("zero", 83, "0", "TCP"),
            ],
        );
        let got = translate_service_ports(
            &strings(&[
                "80",
                "8000:80",
                ":80",
                "http",
                "9000:http",
                "named",
                "same",
                "zero",
            ]),
            &svc,
            &pod(),
        )
        .unwrap();
        assert_eq!(
            got,
            strings(&[
                "80:8080",
                "8000:8080",
                ":8080",
                "80:8080",
                "9000:8080",
                "81:9090",
                "82",
                "83"
            ])
        );
        let e = translate_service_ports(&strings(&["8080"]), &svc, &pod()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Service web does not have a service port 8080"
        );
        let e = translate_service_ports(&strings(&["https"]), &svc, &pod()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Service 'web' does not have a named port 'https'"
        );
        let missing = service("10.96.0.10", &[("x", 80, "nope", "TCP")]);
        let e = translate_service_ports(&strings(&["80"]), &missing, &pod()).unwrap_err();
        assert_eq!(e.to_string(), "Pod 'web' does not have a named port 'nope'");
        // A headless service's ports are the pods' own.
        let headless = service("None", &[("http", 80, "8080", "TCP")]);
        assert_eq!(
            translate_service_ports(&strings(&["80"]), &headless, &pod()).unwrap(),
            strings(&["80"])
        );
    }

    #[test]
    fn udp_only_ports_are_refused() {
        let e = check_udp_in_pod(&strings(&["53"]), &pod()).unwrap_err();
        assert_eq!(e.to_string(), "UDP protocol is not supported for 53");
        let e = check_udp_in_pod(&strings(&["1053:dns"]), &pod()).unwrap_err();
        assert_eq!(e.to_string(), "UDP protocol is not supported for dns");
        check_udp_in_pod(&strings(&["http", "9090", "5353"]), &pod()).unwrap();
        let svc = service(
            "10.96.0.10",
            &[
                ("dns", 53, "53", "UDP"),
                ("dns-tcp", 53, "53", "TCP"),
                ("syslog", 514, "514", "UDP"),
            ],
        );
        // 53 is served over TCP too.
        check_udp_in_service(&strings(&["53", "dns"]), &svc).unwrap();
        let e = check_udp_in_service(&strings(&["syslog"]), &svc).unwrap_err();
        assert_eq!(e.to_string(), "UDP protocol is not supported for syslog");
    }

    #[test]
    fn addresses_as_kubectl_reads_them() {
        let a = parse_addresses(&strings(&["localhost"])).unwrap();
        assert_eq!(
            a.iter()
                .map(|a| (a.ip.to_string(), a.all_may_fail))
                .collect::<Vec<_>>(),
            vec![("127.0.0.1".into(), true), ("::1".into(), true)]
        );
        let a = parse_addresses(&strings(&["localhost", "127.0.0.1", "10.1.2.3"])).unwrap();
        assert_eq!(
            a.iter()
                .map(|a| (a.ip.to_string(), a.all_may_fail))
                .collect::<Vec<_>>(),
            vec![
                ("10.1.2.3".into(), false),
                ("127.0.0.1".into(), false),
                ("::1".into(), true)
            ]
        );
        let e = parse_addresses(&strings(&["example.com"])).unwrap_err();
        assert_eq!(e.to_string(), "example.com is not a valid IP");
        assert_eq!(
            forwarding_line("::1".parse().unwrap(), 8080, 80),
            "Forwarding from [::1]:8080 -> 80"
        );
        assert_eq!(
            forwarding_line("127.0.0.1".parse().unwrap(), 8080, 80),
            "Forwarding from 127.0.0.1:8080 -> 80"
        );
    }
}
