//! The cells of one object's row, in the order of `columns(kind)` (wide ones included: the
//! apiserver always sends them and clients hide priority 1 columns), computed as
//! Kubernetes' printers compute them.

mod cluster;
mod network;
mod pod;
mod policy;
mod storage;
mod workloads;

pub use cluster::{csr_condition, event_time};

use super::Cell;
use super::age::age;
use super::jv::{arr_at, i64_at, len_at, str_at};
use serde_json::Value;
use std::time::SystemTime;

/// The row of `o`, an object of kind `kind`: one cell per column of `columns(kind)`.
pub fn row_cells(kind: &str, o: &Value, now: SystemTime) -> Vec<Cell> {
    let name = Cell::from(str_at(o, "/metadata/name"));
    let created = Cell::from(age(str_at(o, "/metadata/creationTimestamp"), now));
    let tail = match kind {
        "Pod" => pod::cells(o, now, created),
        "ReplicaSet" => workloads::replica_set(o, created),
        "DaemonSet" => workloads::daemon_set(o, created),
        "Job" => workloads::job(o, now, created),
        "CronJob" => workloads::cron_job(o, now, created),
        "StatefulSet" => workloads::stateful_set(o, created),
        "Deployment" => workloads::deployment(o, created),
        "HorizontalPodAutoscaler" => workloads::hpa(o, created),
        "Service" => network::service(o, created),
        "Ingress" => network::ingress(o, created),
        "Endpoints" => vec![network::endpoints_text(o).into(), created],
        "Node" => cluster::node(o, created),
        "Event" => return cluster::event(o, now),
        "Namespace" => cluster::namespace(o, created),
        "Lease" => vec![str_at(o, "/spec/holderIdentity").into(), created],
        "ControllerRevision" => vec![
            controller_of(o).into(),
            Cell::Int(i64_at(o, "/revision").unwrap_or(0)),
            created,
        ],
        "RoleBinding" | "ClusterRoleBinding" => cluster::binding(o, created),
        "CertificateSigningRequest" => cluster::csr(o, created),
        "ConfigMap" => vec![
            Cell::Int((len_at(o, "/data") + len_at(o, "/binaryData")) as i64),
            created,
        ],
        "Secret" => vec![
            Cell::from(match str_at(o, "/type") {
                "" => "Opaque",
                t => t,
            }),
            Cell::Int(len_at(o, "/data") as i64),
            created,
        ],
        "ServiceAccount" => vec![Cell::Int(arr_at(o, "/secrets").len() as i64), created],
        "PersistentVolume" => storage::persistent_volume(o, created),
        "PersistentVolumeClaim" => storage::persistent_volume_claim(o, created),
        "ResourceQuota" => storage::resource_quota(o, created),
        "PodDisruptionBudget" => policy::pod_disruption_budget(o, created),
        "StorageClass" => return storage::storage_class_row(o, created),
        _ => vec![created_at(o).into()],
    };
    let mut row = Vec::with_capacity(tail.len() + 1);
    row.push(name);
    row.extend(tail);
    row
}

/// The default table's `Created At`: the creation time in UTC, to the second
/// (Go's zero time when there is none, as Kubernetes prints it).
fn created_at(o: &Value) -> String {
    match crate::time::parse_rfc3339(str_at(o, "/metadata/creationTimestamp")) {
        Some(t) => crate::time::format_rfc3339(t),
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

fn num(v: &Value, ptr: &str) -> i64 {
    i64_at(v, ptr).unwrap_or(0)
}

fn title_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}

/// CONTAINERS and IMAGES of a pod spec: the names and images joined by commas.
fn containers_and_images(o: &Value, pod_spec: &str) -> [Cell; 2] {
    let containers = arr_at(o, &format!("{pod_spec}/containers"));
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    [names.join(",").into(), images.join(",").into()]
}

/// A load balancer's ingress points (`ip`, else `hostname`), sorted and without repeats.
fn load_balancer_text(o: &Value) -> String {
    let mut points: Vec<&str> = arr_at(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname"),
            ip => ip,
        })
        .filter(|s| !s.is_empty())
        .collect();
    points.sort_unstable();
    points.dedup();
    points.join(",")
}

/// The controlling owner as kubectl names it (`daemonset.apps/web`), `<none>` without one.
fn controller_of(o: &Value) -> String {
    let refs = arr_at(o, "/metadata/ownerReferences");
    let Some(r) = refs
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
    else {
        return "<none>".into();
    };
    let group = str_at(r, "/apiVersion")
        .rsplit_once('/')
        .map_or("", |(g, _)| g);
    let kind = str_at(r, "/kind").to_lowercase();
    let name = str_at(r, "/name");
    match group {
        "" => format!("{kind}/{name}"),
        g => format!("{kind}.{g}/{name}"),
    }
}
