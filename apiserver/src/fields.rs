//! Field selectors: which fields each kind can be selected by (Kubernetes' field label
//! conversion functions), and reading their values from an object.

use proto::{KindInfo, Object};
use serde_json::Value;

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

/// Booleans and numbers that the JSON form omits when zero read as Kubernetes prints them.
fn zero_value(field: &str) -> &'static str {
    match field {
        "spec.hostNetwork" | "spec.unschedulable" => "false",
        "status.replicas" | "status.successful" => "0",
        _ => "",
    }
}

/// Reads field values of one object; converts it to JSON at most once, and only when a
/// field beyond name and namespace is asked for.
pub struct FieldReader<'a> {
    object: &'a Object,
    json: Option<Value>,
}

impl<'a> FieldReader<'a> {
    pub fn new(object: &'a Object) -> Self {
        FieldReader { object, json: None }
    }

    pub fn get(&mut self, field: &str) -> String {
        match field {
            "metadata.name" => return self.object.meta().name.clone(),
            "metadata.namespace" => return self.object.meta().namespace.clone(),
            _ => {}
        }
        let json = self.json.get_or_insert_with(|| self.object.to_json());
        let mut cur = &*json;
        for part in field.split('.') {
            match cur.get(part) {
                Some(v) => cur = v,
                None => return zero_value(field).to_string(),
            }
        }
        match cur {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => zero_value(field).to_string(),
            // `source` of an Event is an object; Kubernetes selects on its component.
            Value::Object(m) => m
                .get("component")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            Value::Array(_) => String::new(),
        }
    }
}
