//! What a Service write asks of the allocator, decided without a store: which clusterIP and
//! nodePorts to keep, reserve as requested, or allocate, and which to release. Mirrors
//! Kubernetes' service REST storage (`patchAllocatedValues`, `dropTypeDependentFields`,
//! the allocators' range checks).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use proto::k8s::ServiceSpec;
use proto::validation::FieldError;

use super::cidr::Ipv4Cidr;
use super::ports::PortRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<T> {
    /// Nothing to hold (headless, ExternalName, a port without a nodePort).
    None,
    /// Already held by this Service before the write.
    Keep(T),
    /// Asked for by the client: reserve exactly this.
    Reserve(T),
    /// Let the allocator choose.
    Allocate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub ip: Action<Ipv4Addr>,
    /// One per entry of the new `spec.ports`.
    pub ports: Vec<Action<u16>>,
    /// Held before the write and not after: released once the write succeeded.
    pub release_ip: Option<Ipv4Addr>,
    pub release_ports: Vec<u16>,
}

fn service_type(spec: &ServiceSpec) -> &str {
    if spec.r#type.is_empty() {
        "ClusterIP"
    } else {
        &spec.r#type
    }
}

pub fn is_headless(spec: &ServiceSpec) -> bool {
    spec.cluster_ip == "None"
}

pub fn needs_cluster_ip(spec: &ServiceSpec) -> bool {
    service_type(spec) != "ExternalName" && !is_headless(spec)
}

/// Types whose ports may carry nodePorts.
fn has_node_ports(spec: &ServiceSpec) -> bool {
    matches!(service_type(spec), "NodePort" | "LoadBalancer")
}

/// Types that get a nodePort for every port the client left without one.
fn allocates_node_ports(spec: &ServiceSpec) -> bool {
    match service_type(spec) {
        "NodePort" => true,
        "LoadBalancer" => spec.allocate_load_balancer_node_ports != Some(false),
        _ => false,
    }
}

/// The clusterIP a stored Service holds.
pub fn held_ip(spec: &ServiceSpec) -> Option<Ipv4Addr> {
    if !needs_cluster_ip(spec) {
        return None;
    }
    spec.cluster_ip.parse().ok()
}

/// The nodePorts a stored Service holds.
pub fn held_ports(spec: &ServiceSpec) -> BTreeSet<u16> {
    if !has_node_ports(spec) {
        return BTreeSet::new();
    }
    spec.ports
        .iter()
        .filter_map(|p| u16::try_from(p.node_port).ok())
        .filter(|p| *p != 0)
        .collect()
}

pub fn ip_not_in_range(ip: &str, cidr: &Ipv4Cidr) -> FieldError {
    FieldError::invalid(
        "spec.clusterIPs",
        [ip],
        format!(
            "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {cidr}"
        ),
    )
}

pub fn ip_taken(ip: Ipv4Addr) -> FieldError {
    FieldError::invalid(
        "spec.clusterIPs",
        [ip.to_string()],
        format!("failed to allocate IP {ip}: provided IP is already allocated"),
    )
}

pub fn port_taken(index: usize, port: u16) -> FieldError {
    FieldError::invalid(
        format!("spec.ports[{index}].nodePort"),
        i32::from(port),
        "provided port is already allocated",
    )
}

/// Decides what writing `new` over `old` (`None` for a create) needs. Refuses requested
/// values the ranges cannot hold.
pub fn plan(
    cidr: &Ipv4Cidr,
    ports: &PortRange,
    old: Option<&ServiceSpec>,
    new: &ServiceSpec,
) -> Result<Plan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let old_ip = old.and_then(held_ip);
    let old_ports = old.map(held_ports).unwrap_or_default();

    let ip = if !needs_cluster_ip(new) {
        Action::None
    } else {
        match requested_ip(new) {
            Err(e) => {
                errors.push(e);
                Action::None
            }
            Ok(None) => Action::Allocate,
            // Possibly from an earlier, different range: Kubernetes keeps such IPs.
            Ok(Some(ip)) if Some(ip) == old_ip => Action::Keep(ip),
            Ok(Some(ip)) if cidr.contains(ip) => Action::Reserve(ip),
            Ok(Some(ip)) => {
                errors.push(ip_not_in_range(&ip.to_string(), cidr));
                Action::None
            }
        }
    };

    let mut new_ports = BTreeSet::new();
    let mut port_actions = Vec::with_capacity(new.ports.len());
    for (i, p) in new.ports.iter().enumerate() {
        let action = if p.node_port == 0 {
            if allocates_node_ports(new) {
                Action::Allocate
            } else {
                Action::None
            }
        } else if !has_node_ports(new) {
            // Validation refuses nodePorts on these types; nothing to hold.
            Action::None
        } else {
            match u16::try_from(p.node_port) {
                Ok(n) if old_ports.contains(&n) => {
                    new_ports.insert(n);
                    Action::Keep(n)
                }
                // One nodePort may serve a port number over TCP and UDP alike.
                Ok(n) if new_ports.contains(&n) => Action::Keep(n),
                Ok(n) if ports.contains(p.node_port) => {
                    new_ports.insert(n);
                    Action::Reserve(n)
                }
                _ => {
                    errors.push(FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        p.node_port,
                        format!(
                            "provided port is not in the valid range. The range of valid ports is {ports}"
                        ),
                    ));
                    Action::None
                }
            }
        };
        port_actions.push(action);
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let release_ip = old_ip.filter(|o| match ip {
        Action::Keep(n) | Action::Reserve(n) => n != *o,
        _ => true,
    });
    Ok(Plan {
        ip,
        ports: port_actions,
        release_ip,
        release_ports: old_ports.difference(&new_ports).copied().collect(),
    })
}

/// The clusterIP the client asked for: `clusterIP`, else the first of `clusterIPs`.
fn requested_ip(spec: &ServiceSpec) -> Result<Option<Ipv4Addr>, FieldError> {
    let first = spec.cluster_ips.first().map(String::as_str).unwrap_or("");
    if !spec.cluster_ip.is_empty() && !first.is_empty() && first != spec.cluster_ip {
        return Err(FieldError::invalid(
            "spec.clusterIPs[0]",
            first,
            "must match `clusterIP` when `clusterIP` is set",
        ));
    }
    let (path, ip) = if spec.cluster_ip.is_empty() {
        ("spec.clusterIPs[0]", first)
    } else {
        ("spec.clusterIP", spec.cluster_ip.as_str())
    };
    if ip.is_empty() {
        return Ok(None);
    }
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => Ok(Some(v4)),
        Ok(std::net::IpAddr::V6(_)) => Err(FieldError::invalid(
            path,
            ip,
            "must be an IPv4 address: this cluster's service range is IPv4 only",
        )),
        Err(_) => Err(FieldError::invalid(
            path,
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        )),
    }
}

/// Writes the chosen clusterIP and the IP family fields as Kubernetes reports them.
pub fn fill_ip(spec: &mut ServiceSpec, ip: Option<Ipv4Addr>) {
    if service_type(spec) == "ExternalName" {
        spec.cluster_ips.clear();
        spec.ip_families.clear();
        spec.ip_family_policy = None;
        return;
    }
    if let Some(ip) = ip {
        spec.cluster_ip = ip.to_string();
    }
    if !spec.cluster_ip.is_empty() {
        spec.cluster_ips = vec![spec.cluster_ip.clone()];
    }
    if spec.ip_families.is_empty() {
        spec.ip_families = vec!["IPv4".to_string()];
    }
    spec.ip_family_policy
        .get_or_insert_with(|| "SingleStack".to_string());
}

/// What an update may leave out and still mean "unchanged" (Kubernetes'
/// `patchAllocatedValues`), and what a type change drops (`dropTypeDependentFields`): a
/// client that replaces a Service without its allocated clusterIP or nodePorts keeps them;
/// one that changes the type away from NodePort/LoadBalancer or to ExternalName gives up
/// what it no longer needs, unless it changed those fields itself.
pub fn keep_allocated_values(new: &mut ServiceSpec, old: &ServiceSpec) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        if new.cluster_ip.is_empty() && new.cluster_ips.is_empty() {
            new.cluster_ip = old.cluster_ip.clone();
        }
        if new.cluster_ip == old.cluster_ip {
            if new.cluster_ips.is_empty() {
                new.cluster_ips = old.cluster_ips.clone();
            }
            if new.ip_families.is_empty() {
                new.ip_families = old.ip_families.clone();
            }
            if new.ip_family_policy.is_none() {
                new.ip_family_policy = old.ip_family_policy.clone();
            }
        }
    }
    if has_node_ports(old) && has_node_ports(new) {
        for p in new.ports.iter_mut().filter(|p| p.node_port == 0) {
            if let Some(o) = old
                .ports
                .iter()
                .find(|o| o.port == p.port && o.protocol == p.protocol && o.node_port != 0)
            {
                p.node_port = o.node_port;
            }
        }
    }
    if has_node_ports(old) && !has_node_ports(new) {
        let held = held_ports(old);
        let unchanged = new.ports.iter().all(|p| {
            p.node_port == 0 || u16::try_from(p.node_port).is_ok_and(|n| held.contains(&n))
        });
        if unchanged {
            for p in &mut new.ports {
                p.node_port = 0;
            }
        }
    }
    if service_type(new) == "ExternalName"
        && held_ip(old).is_some()
        && new.cluster_ip == old.cluster_ip
    {
        new.cluster_ip.clear();
        new.cluster_ips.clear();
        new.ip_families.clear();
        new.ip_family_policy = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ServicePort;

    fn ranges() -> (Ipv4Cidr, PortRange) {
        (
            "10.96.0.0/12".parse().unwrap(),
            "30000-32767".parse().unwrap(),
        )
    }

    fn svc(ty: &str, ip: &str, node_ports: &[i32]) -> ServiceSpec {
        ServiceSpec {
            r#type: ty.into(),
            cluster_ip: ip.into(),
            ports: node_ports
                .iter()
                .enumerate()
                .map(|(i, n)| ServicePort {
                    name: format!("p{i}"),
                    protocol: "TCP".into(),
                    port: 80 + i as i32,
                    node_port: *n,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// Name, spec, the IP action and the port actions expected.
    type CreateCase = (
        &'static str,
        ServiceSpec,
        Action<Ipv4Addr>,
        Vec<Action<u16>>,
    );

    #[test]
    fn creates() {
        use Action::*;
        let (c, r) = ranges();
        let table: Vec<CreateCase> = vec![
            (
                "plain ClusterIP",
                svc("ClusterIP", "", &[0]),
                Allocate,
                vec![None],
            ),
            (
                "empty type is ClusterIP",
                svc("", "", &[0]),
                Allocate,
                vec![None],
            ),
            (
                "requested IP",
                svc("ClusterIP", "10.96.0.10", &[0]),
                Reserve(ip("10.96.0.10")),
                vec![None],
            ),
            ("headless", svc("ClusterIP", "None", &[0]), None, vec![None]),
            ("ExternalName", svc("ExternalName", "", &[]), None, vec![]),
            (
                "NodePort",
                svc("NodePort", "", &[0, 30080]),
                Allocate,
                vec![Allocate, Reserve(30080)],
            ),
            (
                "LoadBalancer",
                svc("LoadBalancer", "", &[0]),
                Allocate,
                vec![Allocate],
            ),
            (
                "same nodePort twice",
                svc("NodePort", "", &[30080, 30080]),
                Allocate,
                vec![Reserve(30080), Keep(30080)],
            ),
        ];
        for (name, spec, want_ip, want_ports) in table {
            let p = plan(&c, &r, Option::None, &spec).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(p.ip, want_ip, "{name}");
            assert_eq!(p.ports, want_ports, "{name}");
            assert_eq!(
                (p.release_ip, p.release_ports.len()),
                (Option::None, 0),
                "{name}"
            );
        }
        let mut lb = svc("LoadBalancer", "", &[0]);
        lb.allocate_load_balancer_node_ports = Some(false);
        assert_eq!(plan(&c, &r, Option::None, &lb).unwrap().ports, vec![None]);
        let mut by_ips = svc("ClusterIP", "", &[0]);
        by_ips.cluster_ips = vec!["10.96.0.7".into()];
        assert_eq!(
            plan(&c, &r, Option::None, &by_ips).unwrap().ip,
            Reserve(ip("10.96.0.7"))
        );
    }

    #[test]
    fn refusals_name_the_field_in_kubernetes_words() {
        let (c, r) = ranges();
        let table = [
            (
                svc("ClusterIP", "10.0.0.1", &[0]),
                r#"spec.clusterIPs: Invalid value: ["10.0.0.1"]: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#,
            ),
            (
                svc("ClusterIP", "10.96.0.0", &[0]),
                "the provided IP (10.96.0.0) is not in the valid range",
            ),
            (
                svc("ClusterIP", "banana", &[0]),
                r#"spec.clusterIP: Invalid value: "banana": must be a valid IP address"#,
            ),
            (svc("ClusterIP", "fd00::1", &[0]), "IPv4 only"),
            (
                svc("NodePort", "", &[0, 40000]),
                "spec.ports[1].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767",
            ),
        ];
        for (spec, want) in table {
            let errors = plan(&c, &r, None, &spec).expect_err(want);
            let msg = proto::validation::join(&errors);
            assert!(
                msg.contains(want),
                "{msg}
want {want}"
            );
        }
        let mut both = svc("ClusterIP", "10.96.0.5", &[0]);
        both.cluster_ips = vec!["10.96.0.6".into()];
        assert!(plan(&c, &r, None, &both).is_err());
        assert_eq!(
            port_taken(0, 30080).to_string(),
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        );
        assert_eq!(
            ip_taken(ip("10.96.0.10")).to_string(),
            r#"spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated"#
        );
    }

    #[test]
    fn updates_keep_reserve_and_release() {
        use Action::*;
        let (c, r) = ranges();
        let old = svc("NodePort", "10.96.0.9", &[30080, 30081]);
        // Unchanged: everything kept, nothing released.
        let p = plan(&c, &r, Some(&old), &old).unwrap();
        assert_eq!(
            (p.ip, p.ports.clone()),
            (Keep(ip("10.96.0.9")), vec![Keep(30080), Keep(30081)])
        );
        assert!(p.release_ip.is_none() && p.release_ports.is_empty());
        // A changed nodePort: the new one reserved, the old one released.
        let new = svc("NodePort", "10.96.0.9", &[30080, 30090]);
        let p = plan(&c, &r, Some(&old), &new).unwrap();
        assert_eq!(p.ports, vec![Keep(30080), Reserve(30090)]);
        assert_eq!(p.release_ports, vec![30081]);
        // NodePort -> ClusterIP: ports released.
        let mut to_cluster = svc("ClusterIP", "10.96.0.9", &[30080, 30081]);
        keep_allocated_values(&mut to_cluster, &old);
        let p = plan(&c, &r, Some(&old), &to_cluster).unwrap();
        assert_eq!(p.ports, vec![None, None]);
        assert_eq!(p.release_ports, vec![30080, 30081]);
        // ExternalName -> ClusterIP: an IP allocated.
        let ext = svc("ExternalName", "", &[]);
        let p = plan(&c, &r, Some(&ext), &svc("ClusterIP", "", &[0])).unwrap();
        assert_eq!(p.ip, Allocate);
        // ClusterIP -> ExternalName: the IP released.
        let mut to_ext = svc("ExternalName", "10.96.0.9", &[]);
        keep_allocated_values(&mut to_ext, &svc("ClusterIP", "10.96.0.9", &[0]));
        assert_eq!(to_ext.cluster_ip, "");
        let p = plan(&c, &r, Some(&svc("ClusterIP", "10.96.0.9", &[0])), &to_ext).unwrap();
        assert_eq!((p.ip, p.release_ip), (None, Some(ip("10.96.0.9"))));
        // An IP held from an earlier, different range stays.
        let outside = svc("ClusterIP", "10.0.0.5", &[0]);
        assert_eq!(
            plan(&c, &r, Some(&outside), &outside).unwrap().ip,
            Keep(ip("10.0.0.5"))
        );
    }

    #[test]
    fn an_update_that_omits_allocated_values_keeps_them() {
        let mut old = svc("NodePort", "10.96.0.9", &[30080]);
        fill_ip(&mut old, Option::None);
        let mut new = svc("NodePort", "", &[0]);
        keep_allocated_values(&mut new, &old);
        assert_eq!(new.cluster_ip, "10.96.0.9");
        assert_eq!(new.cluster_ips, vec!["10.96.0.9".to_string()]);
        assert_eq!(new.ip_family_policy.as_deref(), Some("SingleStack"));
        assert_eq!(new.ports[0].node_port, 30080);
        // A nodePort the client changed itself is its choice, even when switching type.
        let mut changed = svc("ClusterIP", "10.96.0.9", &[30099]);
        keep_allocated_values(&mut changed, &old);
        assert_eq!(changed.ports[0].node_port, 30099);
    }

    #[test]
    fn filling_sets_the_ip_family_fields() {
        let mut s = svc("ClusterIP", "", &[0]);
        fill_ip(&mut s, Some(ip("10.96.3.4")));
        assert_eq!(s.cluster_ip, "10.96.3.4");
        assert_eq!(s.cluster_ips, vec!["10.96.3.4".to_string()]);
        assert_eq!(s.ip_families, vec!["IPv4".to_string()]);
        assert_eq!(s.ip_family_policy.as_deref(), Some("SingleStack"));
        let mut h = svc("ClusterIP", "None", &[0]);
        fill_ip(&mut h, Option::None);
        assert_eq!(
            (h.cluster_ip.as_str(), h.cluster_ips.clone()),
            ("None", vec!["None".to_string()])
        );
        let mut e = svc("ExternalName", "", &[]);
        fill_ip(&mut e, Option::None);
        assert!(e.cluster_ips.is_empty() && e.ip_families.is_empty());
    }
}
