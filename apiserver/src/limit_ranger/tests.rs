//! The LimitRanger's decisions without a store: Kubernetes' defaults, annotation and
//! messages (cases and texts from Kubernetes' `admission_test.go`).

use super::decision::*;
use proto::k8s::{LimitRange, PersistentVolumeClaim, Pod};
use serde_json::{Value, json};

fn limit_range(limits: Value) -> LimitRange {
    serde_json::from_value(json!({"metadata": {"name": "lr"}, "spec": {"limits": limits}}))
        .expect("limit range")
}

fn pod(containers: Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": containers}}))
        .expect("pod")
}

fn pod_spec(spec: Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).expect("pod")
}

fn container(name: &str, requests: Value, limits: Value) -> Value {
    json!({"name": name, "image": "x", "resources": {"requests": requests, "limits": limits}})
}

fn claim(storage: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": "c"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}
    }))
    .expect("claim")
}

fn resources(p: &Pod, i: usize) -> Value {
    serde_json::to_value(&p.spec.as_ref().unwrap().containers[i].resources).unwrap()
}

#[test]
fn defaults_fill_what_a_container_lacks_and_say_so() {
    let lr = limit_range(json!([{"type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "250m", "memory": "128Mi"}}]));
    let mut p = pod(json!([{"name": "web", "image": "x"}]));
    let set = apply_defaults(&lr, &mut p);
    let want = "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web";
    assert_eq!(set.as_deref(), Some(want));
    assert_eq!(p.metadata.as_ref().unwrap().annotations[ANNOTATION], want);
    assert_eq!(
        resources(&p, 0),
        json!({"limits": {"cpu": "500m", "memory": "256Mi"},
               "requests": {"cpu": "250m", "memory": "128Mi"}})
    );
}

#[test]
fn values_a_container_sets_are_kept_and_only_the_rest_is_named() {
    let lr = limit_range(json!([{"type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "250m", "memory": "128Mi"}}]));
    let mut p = pod(json!([container(
        "web",
        json!({"cpu": "100m"}),
        json!({"cpu": "1"})
    )]));
    let set = apply_defaults(&lr, &mut p);
    assert_eq!(
        set.as_deref(),
        Some(
            "LimitRanger plugin set: memory request for container web; memory limit for container web"
        )
    );
    assert_eq!(resources(&p, 0)["limits"]["cpu"], "1");
    assert_eq!(resources(&p, 0)["requests"]["cpu"], "100m");
}

#[test]
fn a_pod_with_everything_set_is_untouched() {
    let lr = limit_range(json!([{"type": "Container", "default": {"cpu": "500m"}}]));
    let mut p = pod(json!([container(
        "web",
        json!({"cpu": "1"}),
        json!({"cpu": "1"})
    )]));
    let before = p.clone();
    assert_eq!(apply_defaults(&lr, &mut p), None);
    assert_eq!(p, before);
}

#[test]
fn default_request_falls_back_to_default_then_min_and_default_to_max() {
    // As Kubernetes' SetDefaults_LimitRangeItem stores them.
    let lr = limit_range(json!([{"type": "Container",
        "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]));
    let mut p = pod(json!([{"name": "web", "image": "x"}]));
    apply_defaults(&lr, &mut p);
    assert_eq!(
        resources(&p, 0),
        json!({"limits": {"cpu": "2"}, "requests": {"cpu": "2", "memory": "64Mi"}})
    );
}

#[test]
fn init_containers_are_defaulted_and_named_as_such() {
    let lr = limit_range(json!([{"type": "Container", "default": {"cpu": "1"}}]));
    let mut p = pod_spec(json!({"containers": [{"name": "a", "image": "x"}],
                                "initContainers": [{"name": "i", "image": "x"}]}));
    assert_eq!(
        apply_defaults(&lr, &mut p).as_deref(),
        Some(
            "LimitRanger plugin set: cpu request for container a; cpu limit for container a; cpu request for init container i; cpu limit for init container i"
        )
    );
}

#[test]
fn pod_type_items_give_no_defaults() {
    let lr = limit_range(json!([{"type": "Pod", "max": {"cpu": "2"}}]));
    let mut p = pod(json!([{"name": "web", "image": "x"}]));
    assert_eq!(apply_defaults(&lr, &mut p), None);
}

#[test]
fn container_max_min_and_ratio_messages() {
    let lr = limit_range(json!([{"type": "Container", "max": {"cpu": "1"}}]));
    let p = pod(json!([container(
        "c",
        json!({"cpu": "1"}),
        json!({"cpu": "2"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Container is 1, but limit is 2"]
    );
    let p = pod(json!([container("c", json!({"cpu": "2"}), json!({}))]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Container is 1.  No limit is specified"]
    );

    let lr = limit_range(json!([{"type": "Container", "min": {"memory": "64Mi"}}]));
    let p = pod(json!([container(
        "c",
        json!({"memory": "32Mi"}),
        json!({})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["minimum memory usage per Container is 64Mi, but request is 32Mi"]
    );
    let p = pod(json!([container("c", json!({}), json!({}))]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["minimum memory usage per Container is 64Mi.  No request is specified"]
    );
    let p = pod(json!([container(
        "c",
        json!({"memory": "64Mi"}),
        json!({"memory": "32Mi"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["minimum memory usage per Container is 64Mi, but limit is 32Mi"]
    );

    let lr = limit_range(json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]));
    let p = pod(json!([container(
        "c",
        json!({"cpu": "250m"}),
        json!({"cpu": "1"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"]
    );
    let p = pod(json!([container(
        "c",
        json!({"cpu": "500m"}),
        json!({"cpu": "1"})
    )]));
    assert!(
        pod_violations(&lr, &p).is_empty(),
        "a ratio of exactly 2 is allowed"
    );
    let p = pod(json!([container(
        "c",
        json!({"cpu": "0"}),
        json!({"cpu": "1"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        [
            "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"
        ]
    );
    let p = pod(json!([container("c", json!({"cpu": "1"}), json!({}))]));
    assert_eq!(
        pod_violations(&lr, &p),
        [
            "cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0"
        ]
    );
}

#[test]
fn ratios_print_six_decimals_rounded_half_to_even() {
    let lr = limit_range(json!([{"type": "Container", "maxLimitRequestRatio": {"memory": "1"}}]));
    let p = pod(json!([container(
        "c",
        json!({"memory": "3"}),
        json!({"memory": "10"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["memory max limit to request ratio per Container is 1, but provided ratio is 3.333333"]
    );
    let p = pod(json!([container(
        "c",
        json!({"memory": "3"}),
        json!({"memory": "5"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["memory max limit to request ratio per Container is 1, but provided ratio is 1.666667"]
    );
}

#[test]
fn comparisons_are_exact_below_a_milli() {
    // Kubernetes compares quantities exactly (no rounding to whole milli-units).
    let lr = limit_range(json!([{"type": "Container", "max": {"cpu": "1m"}}]));
    let p = pod(json!([container(
        "c",
        json!({}),
        json!({"cpu": "1000001n"})
    )]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Container is 1m, but limit is 1000001n"]
    );
}

#[test]
fn pod_items_sum_containers_and_count_init_containers_at_their_peak() {
    let lr = limit_range(json!([{"type": "Pod", "max": {"cpu": "2"}}]));
    let p = pod(json!([
        container("a", json!({"cpu": "1"}), json!({"cpu": "1500m"})),
        container("b", json!({"cpu": "1"}), json!({"cpu": "1"})),
    ]));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Pod is 2, but limit is 2500m"]
    );
    // An init container runs alone: the pod needs the larger of it and the containers.
    let p = pod_spec(json!({
        "containers": [container("a", json!({"cpu": "1"}), json!({"cpu": "1"}))],
        "initContainers": [container("i", json!({"cpu": "3"}), json!({"cpu": "3"}))]
    }));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Pod is 2, but limit is 3"]
    );
    // A sidecar runs beside the containers: it adds up.
    let mut sidecar = container("s", json!({"cpu": "1"}), json!({"cpu": "1500m"}));
    sidecar["restartPolicy"] = json!("Always");
    let p = pod_spec(json!({
        "containers": [container("a", json!({"cpu": "1"}), json!({"cpu": "1"}))],
        "initContainers": [sidecar]
    }));
    assert_eq!(
        pod_violations(&lr, &p),
        ["maximum cpu usage per Pod is 2, but limit is 2500m"]
    );
}

#[test]
fn several_violations_are_listed_in_brackets_once_each() {
    let lr = limit_range(json!([{"type": "Container", "max": {"cpu": "1", "memory": "1Gi"}}]));
    let p = pod(json!([
        container("a", json!({}), json!({"cpu": "2", "memory": "2Gi"})),
        container("b", json!({}), json!({"cpu": "2"})),
    ]));
    let v = pod_violations(&lr, &p);
    assert_eq!(v.len(), 4);
    assert_eq!(
        aggregate(&v).as_deref(),
        Some(
            "[maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi, maximum memory usage per Container is 1Gi.  No limit is specified]"
        )
    );
    assert_eq!(aggregate(&[]), None);
    assert_eq!(aggregate(&["x".into(), "x".into()]).as_deref(), Some("x"));
}

#[test]
fn a_quantity_that_does_not_parse_is_left_to_validation() {
    let lr = limit_range(json!([{"type": "Container", "max": {"cpu": "1"}}]));
    let p = pod(json!([container("c", json!({}), json!({"cpu": "lots"}))]));
    assert!(pod_violations(&lr, &p).is_empty());
}

#[test]
fn claims_are_held_to_storage_min_and_max() {
    let lr = limit_range(json!([{"type": "PersistentVolumeClaim",
        "min": {"storage": "1Gi"}, "max": {"storage": "2Gi"}}]));
    assert!(claim_violations(&lr, &claim("2Gi"), None).is_empty());
    assert_eq!(
        claim_violations(&lr, &claim("5Gi"), None),
        ["maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"]
    );
    assert_eq!(
        claim_violations(&lr, &claim("500Mi"), None),
        ["minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"]
    );
    // Container items say nothing about claims.
    let containers = limit_range(json!([{"type": "Container", "max": {"storage": "1"}}]));
    assert!(claim_violations(&containers, &claim("5Gi"), None).is_empty());
}

#[test]
fn a_claim_update_is_checked_only_for_requests_it_changes() {
    let lr = limit_range(json!([{"type": "PersistentVolumeClaim", "max": {"storage": "2Gi"}}]));
    let stored = claim("5Gi");
    assert!(claim_violations(&lr, &claim("5120Mi"), Some(&stored)).is_empty());
    assert_eq!(
        claim_violations(&lr, &claim("6Gi"), Some(&stored)),
        ["maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 6Gi"]
    );
}
