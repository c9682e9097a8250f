//! Pod DNS: the resolv.conf a pod's containers see, from its dnsPolicy and dnsConfig and the
//! kubelet's `--cluster-dns`/`--cluster-domain`, as Kubernetes' kubelet writes it
//! (pkg/kubelet/network/dns). The content is a pure function ([`resolv_conf`]); the file
//! lives at `<pod dir>/etc-resolv.conf` and is bind-mounted read-only at /etc/resolv.conf
//! into every container of the pod. Without `--cluster-dns` nothing is written and pods
//! keep Docker's resolv.conf, as before.

use crate::error::{Error, Result};
use crate::runtime::Mount;
use proto::k8s::{Pod, PodDnsConfig};
use proto::resource::Resource;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// glibc reads three nameservers; Kubernetes trims to the same.
pub const MAX_NAMESERVERS: usize = 3;
/// Kubernetes' limit on search domains.
pub const MAX_SEARCHES: usize = 32;
pub const FILE_NAME: &str = "etc-resolv.conf";

/// The kubelet's DNS flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSettings {
    /// `--cluster-dns`: empty means no cluster DNS (Docker's resolv.conf stays).
    pub cluster_dns: Vec<Ipv4Addr>,
    /// `--cluster-domain`.
    pub cluster_domain: String,
    /// `--resolv-conf`: the host file dnsPolicy Default starts from.
    pub host_resolv_conf: PathBuf,
}

impl DnsSettings {
    pub fn from_config(c: &crate::config::Config) -> DnsSettings {
        DnsSettings {
            cluster_dns: c.cluster_dns.clone(),
            cluster_domain: c.cluster_domain.clone(),
            host_resolv_conf: c.resolv_conf.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    /// `name` or `name:value`, by name.
    pub options: Vec<(String, Option<String>)>,
}

impl ResolvConf {
    /// The parts of a resolv.conf file this cares about (comments and other keywords are
    /// dropped, as Kubernetes does).
    pub fn parse(text: &str) -> ResolvConf {
        let mut r = ResolvConf::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => r.nameservers.extend(words.next().map(String::from)),
                // The last search line wins (resolv.conf(5)).
                Some("search") | Some("domain") => {
                    r.searches = words.map(String::from).collect();
                }
                Some("options") => {
                    for w in words {
                        let (k, v) = match w.split_once(':') {
                            Some((k, v)) => (k.to_string(), Some(v.to_string())),
                            None => (w.to_string(), None),
                        };
                        r.set_option(k, v);
                    }
                }
                _ => {}
            }
        }
        r
    }

    fn set_option(&mut self, name: String, value: Option<String>) {
        match self.options.iter_mut().find(|(n, _)| *n == name) {
            Some(o) => o.1 = value,
            None => self.options.push((name, value)),
        }
    }

    /// Kubernetes' appendDNSConfig: nameservers and searches appended without duplicates,
    /// options merged by name with the pod's value winning. Entries that are not a single
    /// word (a newline would add lines to the file) are skipped.
    fn append(&mut self, c: &PodDnsConfig) {
        let word =
            |s: &String| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        for n in c.nameservers.iter().filter(|s| word(s)) {
            if !self.nameservers.contains(n) {
                self.nameservers.push(n.clone());
            }
        }
        for s in c.searches.iter().filter(|s| word(s)) {
            if !self.searches.contains(s) {
                self.searches.push(s.clone());
            }
        }
        for o in &c.options {
            if word(&o.name) && o.value.as_ref().is_none_or(word) {
                self.set_option(o.name.clone(), o.value.clone());
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for n in self.nameservers.iter().take(MAX_NAMESERVERS) {
            out.push_str(&format!("nameserver {n}\n"));
        }
        if !self.searches.is_empty() {
            let s: Vec<&str> = self
                .searches
                .iter()
                .take(MAX_SEARCHES)
                .map(String::as_str)
                .collect();
            out.push_str(&format!("search {}\n", s.join(" ")));
        }
        if !self.options.is_empty() {
            let o: Vec<String> = self
                .options
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}:{v}"),
                    None => k.clone(),
                })
                .collect();
            out.push_str(&format!("options {}\n", o.join(" ")));
        }
        out
    }
}

/// The pod's resolv.conf, or `None` to leave Docker's in place: without `--cluster-dns`;
/// for host-network pods under ClusterFirst or Default (they see the host's file already);
/// for Default without a dnsConfig. `host` is the text of `--resolv-conf`.
pub fn resolv_conf(pod: &Pod, s: &DnsSettings, host: &str) -> Option<String> {
    if s.cluster_dns.is_empty() {
        return None;
    }
    let spec = pod.spec.as_ref()?;
    let dns_config = spec.dns_config.clone().unwrap_or_default();
    let policy = if spec.dns_policy.is_empty() {
        "ClusterFirst"
    } else {
        spec.dns_policy.as_str()
    };
    let domain = s.cluster_domain.trim_end_matches('.');
    let mut r = match policy {
        "ClusterFirst" if spec.host_network => return None,
        "ClusterFirst" | "ClusterFirstWithHostNet" => {
            let ns = &pod.meta().namespace;
            ResolvConf {
                nameservers: s.cluster_dns.iter().map(|ip| ip.to_string()).collect(),
                searches: vec![
                    format!("{ns}.svc.{domain}"),
                    format!("svc.{domain}"),
                    domain.to_string(),
                ],
                options: vec![("ndots".into(), Some("5".into()))],
            }
        }
        "None" => ResolvConf::default(),
        // Default (and anything unknown, which validation should have refused).
        _ if spec.dns_config.is_none() || spec.host_network => return None,
        _ => ResolvConf::parse(host),
    };
    r.append(&dns_config);
    Some(r.render())
}

/// Writes the pod's resolv.conf when it needs one and returns the mount for it. Called
/// for every container start; the file is rewritten only when its content changed.
pub fn pod_mount(s: &DnsSettings, root: &Path, uid: &str, pod: &Pod) -> Result<Option<Mount>> {
    if s.cluster_dns.is_empty() {
        return Ok(None);
    }
    // Only Default reads the host file; an unreadable one reads as empty.
    let host = std::fs::read_to_string(&s.host_resolv_conf).unwrap_or_default();
    let Some(content) = resolv_conf(pod, s, &host) else {
        return Ok(None);
    };
    let dir = std::path::absolute(crate::volumes::pod_dir(root, uid))
        .map_err(|e| Error::io("pod directory", e))?;
    let path = dir.join(FILE_NAME);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
        std::fs::write(&tmp, &content)
            .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    Ok(Some(Mount {
        host_path: path.to_string_lossy().into_owned(),
        container_path: "/etc/resolv.conf".into(),
        read_only: true,
        sub_path: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{ObjectMeta, PodDnsConfigOption, PodSpec};

    fn settings() -> DnsSettings {
        DnsSettings {
            cluster_dns: vec![Ipv4Addr::new(10, 96, 0, 10)],
            cluster_domain: "cluster.local".into(),
            host_resolv_conf: "/etc/resolv.conf".into(),
        }
    }

    fn pod(policy: &str, host_network: bool, cfg: Option<PodDnsConfig>) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: "p".into(),
                namespace: "team".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                dns_policy: policy.into(),
                host_network,
                dns_config: cfg,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn extra() -> PodDnsConfig {
        PodDnsConfig {
            nameservers: vec!["1.2.3.4".into(), "10.96.0.10".into()],
            searches: vec!["corp.example".into(), "bad\nnameserver 6.6.6.6".into()],
            options: vec![
                PodDnsConfigOption {
                    name: "ndots".into(),
                    value: Some("2".into()),
                },
                PodDnsConfigOption {
                    name: "edns0".into(),
                    value: None,
                },
            ],
        }
    }

    const HOST: &str = "# from dhcp\nnameserver 192.168.1.1\nsearch lan\noptions timeout:2\n";

    #[test]
    fn cluster_first_is_the_default() {
        let want = "nameserver 10.96.0.10\n\
                    search team.svc.cluster.local svc.cluster.local cluster.local\n\
                    options ndots:5\n";
        assert_eq!(
            resolv_conf(&pod("", false, None), &settings(), HOST).as_deref(),
            Some(want)
        );
        assert_eq!(
            resolv_conf(&pod("ClusterFirst", false, None), &settings(), HOST).as_deref(),
            Some(want)
        );
        // Several --cluster-dns addresses and another domain (trailing dot tolerated).
        let mut s = settings();
        s.cluster_dns.push(Ipv4Addr::new(10, 96, 0, 11));
        s.cluster_domain = "corp.internal.".into();
        assert_eq!(
            resolv_conf(&pod("", false, None), &s, HOST).unwrap(),
            "nameserver 10.96.0.10\nnameserver 10.96.0.11\n\
             search team.svc.corp.internal svc.corp.internal corp.internal\noptions ndots:5\n"
        );
    }

    #[test]
    fn dns_config_is_merged_and_cannot_inject_lines() {
        assert_eq!(
            resolv_conf(&pod("", false, Some(extra())), &settings(), HOST).unwrap(),
            "nameserver 10.96.0.10\nnameserver 1.2.3.4\n\
             search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
             options ndots:2 edns0\n"
        );
    }

    #[test]
    fn none_default_and_host_network() {
        assert_eq!(
            resolv_conf(&pod("None", false, Some(extra())), &settings(), HOST).unwrap(),
            "nameserver 1.2.3.4\nnameserver 10.96.0.10\nsearch corp.example\noptions ndots:2 edns0\n"
        );
        // Default: Docker's file stays unless the pod adds to it; then the host's plus it.
        assert_eq!(
            resolv_conf(&pod("Default", false, None), &settings(), HOST),
            None
        );
        assert_eq!(
            resolv_conf(&pod("Default", false, Some(extra())), &settings(), HOST).unwrap(),
            "nameserver 192.168.1.1\nnameserver 1.2.3.4\nnameserver 10.96.0.10\n\
             search lan corp.example\noptions timeout:2 ndots:2 edns0\n"
        );
        // Host network: ClusterFirst means the host's file; ClusterFirstWithHostNet asks
        // for the cluster's.
        assert_eq!(
            resolv_conf(&pod("ClusterFirst", true, None), &settings(), HOST),
            None
        );
        assert!(
            resolv_conf(
                &pod("ClusterFirstWithHostNet", true, None),
                &settings(),
                HOST
            )
            .unwrap()
            .starts_with("nameserver 10.96.0.10\n")
        );
    }

    #[test]
    fn without_cluster_dns_nothing_changes() {
        let s = DnsSettings {
            cluster_dns: vec![],
            ..settings()
        };
        for policy in ["", "ClusterFirst", "None", "Default"] {
            assert_eq!(
                resolv_conf(&pod(policy, false, Some(extra())), &s, HOST),
                None
            );
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            pod_mount(&s, dir.path(), "u1", &pod("", false, None)).unwrap(),
            None
        );
        assert!(!dir.path().join("pods").exists());
    }

    #[test]
    fn the_file_is_written_once_and_mounted_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = pod("", false, None);
        let m = pod_mount(&settings(), dir.path(), "u1", &p)
            .unwrap()
            .unwrap();
        assert_eq!(m.container_path, "/etc/resolv.conf");
        assert!(m.read_only);
        let path = dir.path().join("pods/u1").join(FILE_NAME);
        assert_eq!(m.host_path, path.to_string_lossy());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("search team.svc.cluster.local")
        );
        // Not rewritten when unchanged (the inode a running container has mounted stays).
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        pod_mount(&settings(), dir.path(), "u1", &p).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
    }

    #[test]
    fn flags() {
        use clap::Parser;
        let c = crate::config::Config::parse_from(["kubelet"]);
        let s = DnsSettings::from_config(&c);
        assert!(s.cluster_dns.is_empty());
        assert_eq!(s.cluster_domain, "cluster.local");
        let c = crate::config::Config::parse_from([
            "kubelet",
            "--cluster-dns",
            "10.96.0.10,10.96.0.11",
            "--cluster-domain",
            "corp.internal",
        ]);
        let s = DnsSettings::from_config(&c);
        assert_eq!(s.cluster_dns.len(), 2);
        assert_eq!(s.cluster_domain, "corp.internal");
        assert!(crate::config::Config::try_parse_from(["kubelet", "--cluster-dns", "x"]).is_err());
    }

    #[test]
    fn parses_host_files() {
        let r = ResolvConf::parse(
            "nameserver 1.1.1.1\nnameserver 8.8.8.8\ndomain a\nsearch b c\noptions ndots:1 rotate ndots:3\n",
        );
        assert_eq!(r.nameservers, vec!["1.1.1.1", "8.8.8.8"]);
        assert_eq!(r.searches, vec!["b", "c"]);
        assert_eq!(
            r.options,
            vec![
                ("ndots".to_string(), Some("3".to_string())),
                ("rotate".to_string(), None)
            ]
        );
    }
}
