//! The files of a downwardAPI volume (or projection): pod fields (`metadata.name`,
//! `namespace`, `uid`, `labels`, `annotations`, one label or annotation) and container
//! resources (`limits.*` / `requests.*` divided by `divisor`, rounded up). Pure.

use super::atomic_writer::{FileData, Payload};
use proto::k8s::{DownwardApiVolumeFile, Pod};
use std::collections::BTreeMap;

/// What a container's unset limits default to: the node's allocatable (Kubernetes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeAllocatable {
    pub cpu_millis: i64,
    pub memory_bytes: i64,
    pub ephemeral_storage_bytes: i64,
}

impl NodeAllocatable {
    /// This machine's CPUs and memory (the kubelet reports capacity as allocatable).
    pub fn of_this_node() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as i64)
            .unwrap_or(1);
        let mem_kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| crate::node::parse_meminfo(&t))
            .unwrap_or(0);
        NodeAllocatable {
            cpu_millis: cpus * 1000,
            memory_bytes: i64::try_from(mem_kib.saturating_mul(1024)).unwrap_or(i64::MAX),
            ephemeral_storage_bytes: 0,
        }
    }
}

/// Kubernetes' `fieldpath.FormatMap`: `key="value"` lines in key order, values quoted as
/// Go's `%q` does.
pub fn format_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn field(pod: &Pod, path: &str) -> Result<String, String> {
    if let Some(v) = crate::spec::metadata_field(pod, path) {
        return Ok(v);
    }
    let meta = pod.metadata.clone().unwrap_or_default();
    Ok(match path {
        "metadata.labels" => format_map(&meta.labels.into_iter().collect()),
        "metadata.annotations" => format_map(&meta.annotations.into_iter().collect()),
        other => {
            return Err(format!(
                "unsupported fieldRef {other:?} in a downwardAPI volume"
            ));
        }
    })
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 {
        return 0;
    }
    (a + b - 1).div_euclid(b)
}

/// Kubernetes' `ExtractContainerResourceValue`: cpu in units of the divisor's millicores,
/// memory and ephemeral-storage in units of its bytes, rounded up. Unset limits are the
/// node's allocatable; unset requests are the limit when it is set (API defaulting), else 0.
fn resource(
    pod: &Pod,
    container: &str,
    resource: &str,
    divisor: &str,
    node: &NodeAllocatable,
) -> Result<String, String> {
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(c) = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter())
        .find(|c| c.name == container)
    else {
        return Err(format!("container {container:?} not found in the pod"));
    };
    let r = c.resources.clone().unwrap_or_default();
    let divisor = if divisor.is_empty() { "1" } else { divisor };
    let (kind, name) = resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource {resource:?}"))?;
    let parse = |q: &str, cpu: bool| -> Result<i64, String> {
        if cpu {
            proto::quantity::parse_cpu_millis(q).map_err(|e| e.to_string())
        } else {
            proto::quantity::parse_bytes(q).map_err(|e| e.to_string())
        }
    };
    let cpu = name == "cpu";
    let node_value = match name {
        "cpu" => node.cpu_millis,
        "memory" => node.memory_bytes,
        "ephemeral-storage" => node.ephemeral_storage_bytes,
        _ => return Err(format!("unsupported container resource {resource:?}")),
    };
    let value = match kind {
        "limits" => match r.limits.get(name) {
            Some(q) => parse(q, cpu)?,
            None => node_value,
        },
        "requests" => match r.requests.get(name).or_else(|| r.limits.get(name)) {
            Some(q) => parse(q, cpu)?,
            None => 0,
        },
        _ => return Err(format!("unsupported container resource {resource:?}")),
    };
    let d = parse(divisor, cpu)?;
    if d <= 0 {
        return Err(format!("invalid divisor {divisor:?}"));
    }
    Ok(ceil_div(value, d).to_string())
}

/// The payload of downwardAPI `items`, each with its mode or `default_mode`.
pub fn files(
    pod: &Pod,
    items: &[DownwardApiVolumeFile],
    default_mode: u32,
    node: &NodeAllocatable,
) -> Result<Payload, String> {
    let mut out = Payload::new();
    for it in items {
        let value = match (&it.field_ref, &it.resource_field_ref) {
            (Some(f), None) => field(pod, &f.field_path)?,
            (None, Some(r)) => resource(pod, &r.container_name, &r.resource, &r.divisor, node)?,
            _ => {
                return Err(format!(
                    "item {:?}: exactly one of fieldRef and resourceFieldRef is required",
                    it.path
                ));
            }
        };
        let mode = it.mode.map(|m| m as u32).unwrap_or(default_mode);
        out.insert(
            it.path.clone(),
            FileData {
                data: value.into_bytes(),
                mode,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        Container, ObjectFieldSelector, ObjectMeta, PodSpec, ResourceFieldSelector,
        ResourceRequirements,
    };

    fn pod() -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "shop".into(),
                uid: "u-1".into(),
                labels: [
                    ("app".to_string(), "web".to_string()),
                    ("tier".to_string(), "a\"b".to_string()),
                ]
                .into(),
                annotations: [("note".to_string(), "line1\nline2".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "app".into(),
                    resources: Some(ResourceRequirements {
                        limits: [("memory".to_string(), "64Mi".to_string())].into(),
                        requests: [("cpu".to_string(), "250m".to_string())].into(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn f(path: &str, field: &str) -> DownwardApiVolumeFile {
        DownwardApiVolumeFile {
            path: path.into(),
            field_ref: Some(ObjectFieldSelector {
                api_version: "v1".into(),
                field_path: field.into(),
            }),
            resource_field_ref: None,
            mode: None,
        }
    }

    fn r(path: &str, res: &str, divisor: &str) -> DownwardApiVolumeFile {
        DownwardApiVolumeFile {
            path: path.into(),
            field_ref: None,
            resource_field_ref: Some(ResourceFieldSelector {
                container_name: "app".into(),
                resource: res.into(),
                divisor: divisor.into(),
            }),
            mode: Some(0o400),
        }
    }

    #[test]
    fn fields_and_resources_as_kubernetes_writes_them() {
        let node = NodeAllocatable {
            cpu_millis: 4000,
            memory_bytes: 8 << 30,
            ephemeral_storage_bytes: 0,
        };
        let items = vec![
            f("name", "metadata.name"),
            f("ns", "metadata.namespace"),
            f("uid", "metadata.uid"),
            f("labels", "metadata.labels"),
            f("annotations", "metadata.annotations"),
            f("app", "metadata.labels['app']"),
            r("mem_mi", "limits.memory", "1Mi"),
            r("cpu_req_m", "requests.cpu", "1m"),
            r("cpu_req", "requests.cpu", ""),
            r("cpu_lim", "limits.cpu", ""),
            r("mem_req", "requests.memory", ""),
        ];
        let p = files(&pod(), &items, 0o644, &node).unwrap();
        let s = |k: &str| String::from_utf8(p[k].data.clone()).unwrap();
        assert_eq!(s("name"), "web");
        assert_eq!(s("ns"), "shop");
        assert_eq!(s("uid"), "u-1");
        assert_eq!(s("labels"), "app=\"web\"\ntier=\"a\\\"b\"");
        assert_eq!(s("annotations"), "note=\"line1\\nline2\"");
        assert_eq!(s("app"), "web");
        assert_eq!(s("mem_mi"), "64");
        assert_eq!(s("cpu_req_m"), "250");
        assert_eq!(s("cpu_req"), "1", "250m in cores, rounded up");
        assert_eq!(s("cpu_lim"), "4", "unset limit: the node's allocatable");
        assert_eq!(
            s("mem_req"),
            (64 << 20).to_string(),
            "unset request: the limit"
        );
        assert_eq!(p["name"].mode, 0o644);
        assert_eq!(p["mem_mi"].mode, 0o400);
        let bad = files(&pod(), &[f("x", "status.podIP")], 0o644, &node).unwrap_err();
        assert!(bad.contains("status.podIP"), "{bad}");
    }
}
