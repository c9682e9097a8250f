//! cluster-dns: the cluster's DNS server (Kubernetes' kube-dns/CoreDNS role). Watches
//! Services and Endpoints, answers `<svc>.<ns>.svc.<domain>` and friends over UDP and TCP,
//! forwards other names upstream, and registers itself as the kube-system/kube-dns Service.

pub mod acl;
pub mod codec;
pub mod daemon;
pub mod error;
pub mod metrics;
pub mod register;
pub mod server;
pub mod table;

pub use daemon::{Config, Running, start};
pub use error::Error;
