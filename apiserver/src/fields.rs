//! Field selectors: which fields each kind can be selected by (Kubernetes' field label
//! conversion functions), and their values, read straight from the typed object. Watches
//! with field selectors (a kubelet's `spec.nodeName=<node>`) check every event of their
//! kind, so this must stay cheap: no JSON conversion.

use proto::k8s::object::Kind as K;
use proto::{KindInfo, Object};

const COMMON: &[&str] = &["metadata.name", "metadata.namespace"];

fn kind_fields(info: &KindInfo) -> &'static [&'static str] {
    match info.plural {
        "pods" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "events" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "nodes" => &["spec.unschedulable"],
        "secrets" => &["type"],
        "namespaces" => &["status.phase"],
        "replicasets" => &["status.replicas"],
        "jobs" => &["status.successful"],
        "services" => &["spec.clusterIP", "spec.type"],
        _ => &[],
    }
}

pub fn is_supported(info: &KindInfo, field: &str) -> bool {
    COMMON.contains(&field) || kind_fields(info).contains(&field)
}

/// The value of a supported field as Kubernetes prints it ("" for unset strings, "false" and
/// "0" for unset booleans and counts). `None` for a field the kind does not support (the
/// filter refuses those before any object is read).
pub fn field_value(object: &Object, field: &str) -> Option<String> {
    let meta = object.meta();
    match field {
        "metadata.name" => return Some(meta.name.clone()),
        "metadata.namespace" => return Some(meta.namespace.clone()),
        _ => {}
    }
    let v = match &object.kind {
        Some(K::Pod(p)) => {
            let spec =
                |f: fn(&proto::k8s::PodSpec) -> String| p.spec.as_ref().map(f).unwrap_or_default();
            let status = |f: fn(&proto::k8s::PodStatus) -> String| {
                p.status.as_ref().map(f).unwrap_or_default()
            };
            match field {
                "spec.nodeName" => spec(|s| s.node_name.clone()),
                "spec.restartPolicy" => spec(|s| s.restart_policy.clone()),
                "spec.schedulerName" => spec(|s| s.scheduler_name.clone()),
                "spec.serviceAccountName" => spec(|s| s.service_account_name.clone()),
                "spec.hostNetwork" => p.spec.as_ref().is_some_and(|s| s.host_network).to_string(),
                "status.phase" => status(|s| s.phase.clone()),
                "status.podIP" => status(|s| s.pod_ip.clone()),
                "status.nominatedNodeName" => status(|s| s.nominated_node_name.clone()),
                _ => return None,
            }
        }
        Some(K::Event(e)) => {
            let io = |f: fn(&proto::k8s::ObjectReference) -> String| {
                e.involved_object.as_ref().map(f).unwrap_or_default()
            };
            match field {
                "involvedObject.kind" => io(|o| o.kind.clone()),
                "involvedObject.namespace" => io(|o| o.namespace.clone()),
                "involvedObject.name" => io(|o| o.name.clone()),
                "involvedObject.uid" => io(|o| o.uid.clone()),
                "involvedObject.apiVersion" => io(|o| o.api_version.clone()),
                "involvedObject.resourceVersion" => io(|o| o.resource_version.clone()),
                "involvedObject.fieldPath" => io(|o| o.field_path.clone()),
                "reason" => e.reason.clone(),
                "reportingComponent" => e.reporting_component.clone(),
                "source" => e
                    .source
                    .as_ref()
                    .map(|s| s.component.clone())
                    .unwrap_or_default(),
                "type" => e.r#type.clone(),
                _ => return None,
            }
        }
        Some(K::Node(n)) if field == "spec.unschedulable" => {
            n.spec.as_ref().is_some_and(|s| s.unschedulable).to_string()
        }
        Some(K::Secret(s)) if field == "type" => s.r#type.clone(),
        Some(K::Namespace(n)) if field == "status.phase" => n
            .status
            .as_ref()
            .map(|s| s.phase.clone())
            .unwrap_or_default(),
        Some(K::ReplicaSet(r)) if field == "status.replicas" => {
            r.status.as_ref().map_or(0, |s| s.replicas).to_string()
        }
        Some(K::Job(j)) if field == "status.successful" => {
            j.status.as_ref().map_or(0, |s| s.succeeded).to_string()
        }
        Some(K::Service(s)) => {
            let spec = s.spec.as_ref();
            match field {
                "spec.clusterIP" => spec.map(|s| s.cluster_ip.clone()).unwrap_or_default(),
                "spec.type" => spec.map(|s| s.r#type.clone()).unwrap_or_default(),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::ALL_KINDS;

    /// Every field a kind advertises has a typed reader, so no supported selector can
    /// silently never match.
    #[test]
    fn every_supported_field_is_readable() {
        for info in ALL_KINDS {
            let object = Object::from_json_as(
                info,
                serde_json::json!({"metadata": {"name": "x", "namespace": "ns"}}),
            )
            .expect("an empty object of every kind");
            for field in COMMON.iter().chain(kind_fields(info)) {
                assert!(
                    field_value(&object, field).is_some(),
                    "{}: no reader for {field}",
                    info.plural
                );
            }
        }
    }

    #[test]
    fn values_read_as_kubernetes_prints_them() {
        let pod = Object::from_json_as(
            &proto::resource::info::Pod,
            serde_json::json!({
                "metadata": {"name": "p", "namespace": "default"},
                "spec": {"nodeName": "n1", "containers": []},
                "status": {"phase": "Running"}
            }),
        )
        .unwrap();
        assert_eq!(field_value(&pod, "spec.nodeName").as_deref(), Some("n1"));
        assert_eq!(
            field_value(&pod, "status.phase").as_deref(),
            Some("Running")
        );
        assert_eq!(
            field_value(&pod, "spec.hostNetwork").as_deref(),
            Some("false")
        );
        assert_eq!(field_value(&pod, "status.podIP").as_deref(), Some(""));
        assert_eq!(field_value(&pod, "spec.bogus"), None);
    }
}
