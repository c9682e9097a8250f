use super::usage::{handles, matching_resources, pod_constraints, usage};
use super::*;
use crate::k8s::{ResourceQuotaSpec, ScopeSelector, ScopedResourceSelectorRequirement};
use crate::resource::info;
use std::time::Duration;

fn obj(kind: &'static crate::KindInfo, json: serde_json::Value) -> Object {
    Object::from_json_as(kind, json).expect("valid test object")
}

fn pod(spec: serde_json::Value) -> Object {
    obj(
        &info::Pod,
        serde_json::json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}),
    )
}

fn shown(list: &ResourceList) -> Vec<String> {
    list.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_pod_is_charged_its_requests_limits_and_one_pod() {
    let p = pod(serde_json::json!({"containers": [
        {"name": "a", "image": "x", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
        {"name": "b", "image": "x", "resources": {"requests": {"cpu": "250m", "memory": "64Mi", "example.com/gpu": "1"}}},
    ]}));
    assert_eq!(
        shown(&usage(&p, SystemTime::now())),
        [
            "count/pods=1",
            "cpu=500m",
            "limits.cpu=1",
            "memory=128Mi",
            "pods=1",
            "requests.cpu=500m",
            "requests.example.com/gpu=1",
            "requests.memory=128Mi",
        ]
    );
}

#[test]
fn init_containers_raise_the_peak_and_sidecars_add_to_it() {
    let p = pod(serde_json::json!({
        "initContainers": [
            {"name": "side", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "init", "image": "x", "resources": {"requests": {"cpu": "2"}}},
        ],
        "containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "500m"}}}],
        "overhead": {"cpu": "10m"},
    }));
    let u = usage(&p, SystemTime::now());
    // max(500m + 100m, 2 + 100m) + 10m overhead.
    assert_eq!(u["requests.cpu"].to_string(), "2110m");
    assert!(
        !u.contains_key("limits.cpu"),
        "overhead raises only limits that are set"
    );
}

#[test]
fn finished_pods_and_pods_past_their_grace_count_only_as_stored_objects() {
    let mut p = pod(serde_json::json!({"containers": [{"name": "a", "image": "x"}]}));
    if let Some(crate::k8s::object::Kind::Pod(x)) = &mut p.kind {
        x.status.get_or_insert_with(Default::default).phase = "Succeeded".into();
    }
    assert_eq!(shown(&usage(&p, SystemTime::now())), ["count/pods=1"]);

    let mut p = pod(serde_json::json!({"containers": [{"name": "a", "image": "x"}]}));
    let now = SystemTime::now();
    p.meta_mut().deletion_timestamp = crate::time::format_rfc3339(now);
    p.meta_mut().deletion_grace_period_seconds = Some(30);
    assert!(
        usage(&p, now).contains_key("pods"),
        "still in its grace period"
    );
    assert!(!usage(&p, now + Duration::from_secs(31)).contains_key("pods"));
}

#[test]
fn pods_must_state_what_a_quota_limits() {
    let p = pod(serde_json::json!({"containers": [
        {"name": "b", "image": "x", "resources": {"requests": {"cpu": "1"}}},
        {"name": "a", "image": "x"},
    ]}));
    let Some(crate::k8s::object::Kind::Pod(p)) = &p.kind else {
        unreachable!()
    };
    assert_eq!(
        pod_constraints(p, &names(&["limits.cpu", "requests.cpu", "pods"])),
        Err("must specify limits.cpu for: a,b; requests.cpu for: a".to_string())
    );
    assert_eq!(pod_constraints(p, &names(&["pods", "count/pods"])), Ok(()));
}

#[test]
fn services_count_node_ports_and_load_balancers() {
    let svc = obj(
        &info::Service,
        serde_json::json!({"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer",
            "ports": [{"port": 80}, {"port": 443}]}}),
    );
    assert_eq!(
        shown(&usage(&svc, SystemTime::now())),
        [
            "count/services=1",
            "services=1",
            "services.loadbalancers=1",
            "services.nodeports=2",
        ]
    );
}

#[test]
fn claims_count_storage_overall_and_per_class() {
    let pvc = obj(
        &info::PersistentVolumeClaim,
        serde_json::json!({"metadata": {"name": "c"}, "spec": {"storageClassName": "gold",
            "resources": {"requests": {"storage": "1.5"}}}}),
    );
    assert_eq!(
        shown(&usage(&pvc, SystemTime::now())),
        [
            "count/persistentvolumeclaims=1",
            "gold.storageclass.storage.k8s.io/persistentvolumeclaims=1",
            "gold.storageclass.storage.k8s.io/requests.storage=2",
            "persistentvolumeclaims=1",
            "requests.storage=2",
        ]
    );
    let hard = names(&[
        "gold.storageclass.storage.k8s.io/requests.storage",
        "requests.cpu",
        "requests.storage",
    ]);
    assert_eq!(
        matching_resources(&info::PersistentVolumeClaim, &hard),
        names(&[
            "gold.storageclass.storage.k8s.io/requests.storage",
            "requests.storage"
        ])
    );
}

#[test]
fn other_kinds_count_by_group_and_legacy_name() {
    let cm = obj(
        &info::ConfigMap,
        serde_json::json!({"metadata": {"name": "c"}}),
    );
    assert_eq!(
        shown(&usage(&cm, SystemTime::now())),
        ["configmaps=1", "count/configmaps=1"]
    );
    let hard = names(&["count/deployments.apps", "count/deployments", "pods"]);
    assert_eq!(
        matching_resources(&info::Deployment, &hard),
        names(&["count/deployments.apps"])
    );
    assert!(matching_resources(&info::Event, &names(&["count/events"])).is_empty());
    assert!(handles(&info::ConfigMap, false) && !handles(&info::ConfigMap, true));
    assert!(handles(&info::PersistentVolumeClaim, true) && !handles(&info::Pod, true));
}

fn requirement(scope: &str, op: &str, values: &[&str]) -> ScopedResourceSelectorRequirement {
    ScopedResourceSelectorRequirement {
        scope_name: scope.into(),
        operator: op.into(),
        values: names(values),
    }
}

#[test]
fn scopes_select_pods_by_deadline_qos_and_priority_class() {
    let best_effort = pod(serde_json::json!({"containers": [{"name": "a", "image": "x"}]}));
    let burstable = pod(
        serde_json::json!({"activeDeadlineSeconds": 30, "priorityClassName": "high",
        "containers": [{"name": "a", "image": "x", "resources": {"requests": {"memory": "1Mi"}}}]}),
    );
    let check = |r: ScopedResourceSelectorRequirement| {
        (
            scope::matches(&r, &best_effort),
            scope::matches(&r, &burstable),
        )
    };
    assert_eq!(
        check(requirement("BestEffort", "Exists", &[])),
        (true, false)
    );
    assert_eq!(
        check(requirement("NotBestEffort", "Exists", &[])),
        (false, true)
    );
    assert_eq!(
        check(requirement("Terminating", "Exists", &[])),
        (false, true)
    );
    assert_eq!(
        check(requirement("NotTerminating", "Exists", &[])),
        (true, false)
    );
    assert_eq!(
        check(requirement("PriorityClass", "In", &["high"])),
        (false, true)
    );
    assert_eq!(
        check(requirement("PriorityClass", "NotIn", &["high"])),
        (true, false)
    );
    assert_eq!(
        check(requirement("PriorityClass", "Exists", &[])),
        (false, true)
    );
    assert_eq!(
        check(requirement("PriorityClass", "DoesNotExist", &[])),
        (true, false)
    );
    let cm = obj(
        &info::ConfigMap,
        serde_json::json!({"metadata": {"name": "c"}}),
    );
    assert!(!scope::matches(
        &requirement("NotTerminating", "Exists", &[]),
        &cm
    ));
}

#[test]
fn used_is_the_sum_over_objects_in_scope_for_each_tracked_resource() {
    let spec = ResourceQuotaSpec {
        hard: [
            ("pods", "10"),
            ("requests.memory", "1Gi"),
            ("example.com/unknown", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        scopes: Vec::new(),
        scope_selector: Some(ScopeSelector {
            match_expressions: vec![requirement("PriorityClass", "NotIn", &["low"])],
        }),
    };
    let p = |class: &str| {
        pod(serde_json::json!({"priorityClassName": class,
            "containers": [{"name": "a", "image": "x", "resources": {"requests": {"memory": "100Mi"}}}]}))
    };
    let previous = [("example.com/unknown".to_string(), "1".to_string())].into();
    let used = calculate_used(
        &spec,
        &previous,
        &[p(""), p("high"), p("low")],
        SystemTime::now(),
    );
    assert_eq!(
        shown(&used),
        ["example.com/unknown=1", "pods=2", "requests.memory=200Mi"]
    );
    let none = calculate_used(&spec, &BTreeMap::new(), &[], SystemTime::now());
    assert_eq!(shown(&none), ["pods=0", "requests.memory=0"]);
}
