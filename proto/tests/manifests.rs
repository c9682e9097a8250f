//! Real Kubernetes manifests load into typed objects and come back out unchanged.

use proto::k8s::Object;
use proto::manifest::{load_documents, to_json_pretty, to_yaml};
use serde_json::Value;
use std::path::PathBuf;

const FILES: &[&str] = &[
    "deployment.yaml",
    "service.yaml",
    "configmap.yaml",
    "secret.yaml",
    "job.yaml",
    "cronjob.yaml",
    "hpa.yaml",
    "pv-pvc.yaml",
    "ingress.yaml",
    "daemonset.yaml",
    "statefulset.yaml",
    "multi.yaml",
    "list.json",
];

fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/manifests")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The input documents as plain JSON, read without the crate's loader, `List`s expanded.
fn raw_documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap();
    let mut out = Vec::new();
    for doc in docs {
        if doc["kind"] == "List" {
            out.extend(doc["items"].as_array().unwrap().iter().cloned());
        } else {
            out.push(doc);
        }
    }
    out
}

/// Compares what the user wrote with what the typed object writes back. The one difference
/// allowed: a number where the schema holds a string (int-or-string, quantity) comes back as
/// that number's text. Returns every other difference with its path.
fn differences(path: &str, input: &Value, output: &Value, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => differences(&p, va, vb, out),
                    None => out.push(format!("{p}: missing from output (input {va})")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{k}: only in output ({})", b[k]));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items in, {} out", a.len(), b.len()));
            }
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        (Value::Number(n), Value::String(s)) if n.to_string() == *s && holds_string(path) => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: input {a}, output {b}")),
    }
}

/// Where Kubernetes' schema holds an int-or-string or a quantity (listed here apart from
/// the loader's own list, so a mistake there shows up as a difference).
fn holds_string(path: &str) -> bool {
    let keys: Vec<&str> = path
        .split('.')
        .map(|k| k.split('[').next().unwrap_or(k))
        .collect();
    let last = keys.last().copied().unwrap_or("");
    let parent = keys.len().checked_sub(2).map(|i| keys[i]).unwrap_or("");
    matches!(
        last,
        "targetPort" | "maxSurge" | "maxUnavailable" | "sizeLimit" | "divisor" | "averageValue"
    ) || (last == "port" && matches!(parent, "httpGet" | "tcpSocket"))
        || matches!(
            parent,
            "requests"
                | "limits"
                | "capacity"
                | "allocatable"
                | "hard"
                | "used"
                | "min"
                | "max"
                | "default"
                | "defaultRequest"
                | "maxLimitRequestRatio"
        )
}

fn load_file(name: &str) -> Vec<Object> {
    load_documents(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_manifest_loads_and_writes_back_what_was_written() {
    for name in FILES {
        let text = read(name);
        let objects = load_file(name);
        let raw = raw_documents(&text);
        assert_eq!(objects.len(), raw.len(), "{name}: object count");
        for (object, input) in objects.iter().zip(&raw) {
            let mut diffs = Vec::new();
            differences("", input, &object.to_json(), &mut diffs);
            assert!(
                diffs.is_empty(),
                "{name} {}: {diffs:#?}",
                object.meta().name
            );
        }
    }
}

#[test]
fn json_and_yaml_output_load_back_equal() {
    for name in FILES {
        for object in load_file(name) {
            let json = to_json_pretty(&object);
            let again =
                load_documents(&json).unwrap_or_else(|e| panic!("{name} json: {e}\n{json}"));
            assert_eq!(again, vec![object.clone()], "{name} via json");
            let yaml = to_yaml(&object);
            let again =
                load_documents(&yaml).unwrap_or_else(|e| panic!("{name} yaml: {e}\n{yaml}"));
            assert_eq!(again, vec![object.clone()], "{name} via yaml:\n{yaml}");
        }
    }
}

#[test]
fn typed_fields_carry_what_the_manifest_says() {
    use proto::k8s::object::Kind;
    use proto::k8s::volume::VolumeSource;
    let objects = load_file("deployment.yaml");
    let Some(Kind::Deployment(d)) = &objects[0].kind else {
        panic!("not a deployment")
    };
    let spec = d.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(3));
    let ru = spec
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .as_ref()
        .unwrap();
    assert_eq!(
        (ru.max_surge.as_str(), ru.max_unavailable.as_str()),
        ("1", "25%")
    );
    let pod = spec.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(pod.termination_grace_period_seconds, Some(45));
    let c = &pod.containers[0];
    assert_eq!(c.resources.as_ref().unwrap().limits["cpu"], "1");
    assert_eq!(
        c.liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap()
            .port,
        "8080"
    );
    assert_eq!(
        c.readiness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap()
            .port,
        "http"
    );
    assert!(matches!(
        pod.volumes[1].volume_source,
        Some(VolumeSource::EmptyDir(ref e)) if e.medium == "Memory"
    ));
    assert!(matches!(
        pod.volumes[3].volume_source,
        Some(VolumeSource::HostPath(_))
    ));

    let objects = load_file("secret.yaml");
    let Some(Kind::Secret(s)) = &objects[0].kind else {
        panic!("not a secret")
    };
    assert_eq!(s.data["password"], b"s3cr3t");
    assert_eq!(s.string_data["api-key"], "plain-text-key");

    let objects = load_file("service.yaml");
    let Some(Kind::Service(svc)) = &objects[0].kind else {
        panic!("not a service")
    };
    let spec = svc.spec.as_ref().unwrap();
    assert_eq!(spec.ports[1].target_port, "9113");
    assert_eq!(spec.ports[0].node_port, 30080);

    let objects = load_file("list.json");
    let Some(Kind::Node(n)) = &objects[0].kind else {
        panic!("not a node")
    };
    let status = n.status.as_ref().unwrap();
    assert_eq!(
        status
            .daemon_endpoints
            .as_ref()
            .unwrap()
            .kubelet_endpoint
            .as_ref()
            .unwrap()
            .port,
        10250
    );
    assert_eq!(n.spec.as_ref().unwrap().pod_cidr, "10.244.1.0/24");
}

#[test]
fn unknown_fields_deep_in_a_template_name_their_path() {
    let text =
        read("deployment.yaml").replacen("workingDir:", "bogusField: 1\n        workingDir:", 1);
    let err = load_documents(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "spec.template.spec.containers[0].bogusField: unknown field"
    );
}

#[test]
fn two_volume_sources_in_one_volume_are_refused() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: a\n    emptyDir: {}\n    hostPath: {path: /x}\n";
    let err = load_documents(text).unwrap_err().to_string();
    assert_eq!(
        err,
        "spec.volumes[0]: may not specify more than 1 volume type"
    );
}

#[test]
fn the_comparison_notices_a_lost_or_changed_field() {
    // `hostNetwork: false` is the proto3 default and is not written back: a real difference.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: false\n  priority: 5\n";
    let object = &load_documents(text).unwrap()[0];
    let mut diffs = Vec::new();
    differences("", &raw_documents(text)[0], &object.to_json(), &mut diffs);
    assert_eq!(
        diffs,
        [".spec.hostNetwork: missing from output (input false)"]
    );
    // A number the schema keeps as a number must not come back as a string.
    let mut diffs = Vec::new();
    differences(
        "",
        &serde_json::json!({"a": 5}),
        &serde_json::json!({"a": "5"}),
        &mut diffs,
    );
    assert_eq!(diffs.len(), 1);
}
