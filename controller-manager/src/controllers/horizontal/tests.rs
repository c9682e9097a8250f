//! Table tests of the pure parts: the replica calculation and the normalization.

use super::calculator::{Target, resource_replicas};
use super::normalize::{self, History, Sample};
use super::resource_target;
use proto::k8s::{
    Container, ContainerResourceMetricSource, HorizontalPodAutoscalerBehavior, HpaScalingPolicy,
    HpaScalingRules, MetricSpec, MetricTarget, ObjectMeta, Pod, PodCondition, PodSpec, PodStatus,
    ResourceMetricSource, ResourceRequirements,
};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A pod in `phase`, Ready or not, with one container requesting `cpu` (None: no request).
fn pod(name: &str, phase: &str, ready: bool, cpu: Option<&str>) -> Pod {
    Pod {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: "ns".into(),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                resources: Some(ResourceRequirements {
                    requests: cpu
                        .map(|c| [("cpu".to_string(), c.to_string())].into())
                        .unwrap_or_default(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: phase.into(),
            conditions: vec![PodCondition {
                r#type: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn running(name: &str) -> Pod {
    pod(name, "Running", true, Some("100m"))
}

fn usage(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// (name, current, pods, usage, target, want replicas or an error substring)
type CalcCase = (
    &'static str,
    i32,
    Vec<Pod>,
    HashMap<String, i64>,
    Target,
    Result<i32, &'static str>,
);

/// (name, recommendations (seconds ago, value), current, proposed, min, max, want,
/// AbleToScale reason, ScalingLimited reason)
type NormCase = (
    &'static str,
    Vec<(u64, i32)>,
    i32,
    i32,
    i32,
    i32,
    i32,
    &'static str,
    &'static str,
);

#[test]
fn replica_calculation_follows_kubernetes() {
    let mut deleting = running("gone");
    deleting.metadata.as_mut().expect("meta").deletion_timestamp = "2026-01-01T00:00:00Z".into();
    let cases: Vec<CalcCase> = vec![
        (
            "scale up: one pod at 200% of request, target 50%",
            1,
            vec![running("a")],
            usage(&[("a", 200)]),
            Target::Utilization(50),
            Ok(4),
        ),
        (
            "scale down: four pods at 10%, target 50%",
            4,
            vec![running("a"), running("b"), running("c"), running("d")],
            usage(&[("a", 10), ("b", 10), ("c", 10), ("d", 10)]),
            Target::Utilization(50),
            Ok(1),
        ),
        (
            "within tolerance (+8%): unchanged",
            2,
            vec![running("a"), running("b")],
            usage(&[("a", 54), ("b", 54)]),
            Target::Utilization(50),
            Ok(2),
        ),
        (
            "within tolerance (-8%): unchanged",
            2,
            vec![running("a"), running("b")],
            usage(&[("a", 46), ("b", 46)]),
            Target::Utilization(50),
            Ok(2),
        ),
        (
            "just beyond tolerance (+12%): ceil(2 * 1.12) = 3",
            2,
            vec![running("a"), running("b")],
            usage(&[("a", 56), ("b", 56)]),
            Target::Utilization(50),
            Ok(3),
        ),
        (
            "a pod without a cpu request makes utilization undefined",
            2,
            vec![running("a"), pod("b", "Running", true, None)],
            usage(&[("a", 50), ("b", 50)]),
            Target::Utilization(50),
            Err("missing request for cpu in container app of Pod b"),
        ),
        (
            "unready pods' samples are ignored (and count 0% on the way up)",
            4,
            vec![
                running("a"),
                running("b"),
                pod("c", "Running", false, Some("100m")),
                pod("d", "Pending", false, Some("100m")),
            ],
            // a, b at 100% (ratio 2); with c, d at 0% the ratio is 1: no change. Counting
            // c's 1000m would ask for 12.
            usage(&[("a", 100), ("b", 100), ("c", 1000), ("d", 1000)]),
            Target::Utilization(50),
            Ok(4),
        ),
        (
            "deleting and Failed pods are ignored",
            2,
            vec![
                running("a"),
                deleting,
                pod("f", "Failed", false, Some("100m")),
            ],
            usage(&[("a", 100), ("gone", 0), ("f", 0)]),
            Target::Utilization(50),
            Ok(2),
        ),
        (
            "missing samples count as 100% on the way down",
            3,
            vec![running("a"), running("b"), running("c")],
            // a, b at 10% would say 1; with c at 100%: 40% -> ceil(0.8 * 3) = 3.
            usage(&[("a", 10), ("b", 10)]),
            Target::Utilization(50),
            Ok(3),
        ),
        (
            "missing samples count as 0% on the way up",
            2,
            vec![running("a"), running("b")],
            // a at 200% would say 4 for 1 pod; with b at 0%: 100% -> ceil(2 * 2) = 4.
            usage(&[("a", 200)]),
            Target::Utilization(50),
            Ok(4),
        ),
        (
            "AverageValue: 300m per pod against 100m",
            2,
            vec![running("a"), running("b")],
            usage(&[("a", 300), ("b", 300)]),
            Target::AverageValue(100),
            Ok(6),
        ),
        (
            "AverageValue needs no requests",
            1,
            vec![pod("a", "Running", true, None)],
            usage(&[("a", 50)]),
            Target::AverageValue(100),
            Ok(1),
        ),
        (
            "no pods",
            1,
            vec![],
            usage(&[]),
            Target::Utilization(50),
            Err("no pods returned by selector"),
        ),
        (
            "no samples for ready pods",
            1,
            vec![pod("a", "Running", false, Some("100m"))],
            usage(&[("a", 100)]),
            Target::Utilization(50),
            Err("did not receive metrics"),
        ),
    ];
    for (name, current, pods, usage, target, want) in cases {
        let got = resource_replicas(current, &pods, &usage, "cpu", "", target, 0.1);
        match (got, want) {
            (Ok(p), Ok(w)) => assert_eq!(p.replicas, w, "{name}: {p:?}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "{name}: error {e:?} lacks {w:?}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn memory_samples_of_unready_pods_count() {
    // As Kubernetes: readiness only filters cpu samples.
    let pods = [running("a"), pod("b", "Running", false, Some("100m"))];
    let u = usage(&[("a", 300), ("b", 300)]);
    let cpu = resource_replicas(2, &pods, &u, "cpu", "", Target::AverageValue(100), 0.1);
    let mem = resource_replicas(2, &pods, &u, "memory", "", Target::AverageValue(100), 0.1);
    // cpu: a alone says 3 for one pod, b at 0% on the way up: ceil(1.5 * 2) = 3.
    assert_eq!(cpu.map(|p| p.replicas), Ok(3));
    // memory: both at 300 -> 6.
    assert_eq!(mem.map(|p| p.replicas), Ok(6));
}

#[test]
fn utilization_and_average_are_reported() {
    let p = resource_replicas(
        1,
        &[running("a")],
        &usage(&[("a", 200)]),
        "cpu",
        "",
        Target::Utilization(50),
        0.1,
    )
    .expect("computes");
    assert_eq!(p.utilization, Some(200));
    assert_eq!(p.average_milli, 200);
}

#[test]
fn a_container_resource_counts_only_that_containers_request() {
    // app requests 100m; a sidecar without a cpu request.
    let mut p = running("a");
    let spec = p.spec.as_mut().expect("spec");
    spec.containers.push(Container {
        name: "sidecar".into(),
        ..Default::default()
    });
    let pods = [p];
    let whole = resource_replicas(
        1,
        &pods,
        &usage(&[("a", 200)]),
        "cpu",
        "",
        Target::Utilization(50),
        0.1,
    );
    assert!(
        whole
            .unwrap_err()
            .contains("missing request for cpu in container sidecar of Pod a")
    );
    let app = resource_replicas(
        1,
        &pods,
        &usage(&[("a", 200)]),
        "cpu",
        "app",
        Target::Utilization(50),
        0.1,
    )
    .expect("computes");
    assert_eq!((app.replicas, app.utilization), (4, Some(200)));
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn history(recs: &[(u64, i32)], at: SystemTime) -> History {
    History {
        recommendations: recs
            .iter()
            .map(|(ago, v)| Sample {
                at: at - Duration::from_secs(*ago),
                value: *v,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn normalization_without_behavior() {
    let w = Duration::from_secs(300);
    let cases: Vec<NormCase> = vec![
        (
            "stabilization keeps the highest recommendation of the window",
            vec![(100, 5), (10, 3)],
            5,
            2,
            1,
            10,
            5,
            "ScaleDownStabilized",
            "DesiredWithinRange",
        ),
        (
            "older than the window is forgotten",
            vec![(301, 5), (10, 3)],
            5,
            2,
            1,
            10,
            3,
            "ScaleDownStabilized",
            "DesiredWithinRange",
        ),
        (
            "scale-up is never delayed",
            vec![(10, 2)],
            2,
            4,
            1,
            10,
            4,
            "ReadyForNewScale",
            "DesiredWithinRange",
        ),
        (
            "below min",
            vec![],
            3,
            0,
            2,
            10,
            2,
            "ReadyForNewScale",
            "TooFewReplicas",
        ),
        (
            "above max",
            vec![],
            6,
            20,
            1,
            10,
            10,
            "ReadyForNewScale",
            "TooManyReplicas",
        ),
        (
            "scale-up limit max(2 * current, 4)",
            vec![],
            2,
            9,
            1,
            10,
            4,
            "ReadyForNewScale",
            "ScaleUpLimit",
        ),
    ];
    for (name, recs, current, proposed, min, max, want, able, limited) in cases {
        let t = now();
        let mut h = history(&recs, t);
        let n = normalize::without_behavior(&mut h, current, proposed, min, max, w, t);
        assert_eq!(n.replicas, want, "{name}");
        assert_eq!(n.able_to_scale.reason, able, "{name}");
        assert_eq!(n.scaling_limited.reason, limited, "{name}");
        assert!(
            h.recommendations
                .iter()
                .any(|s| s.at == t && s.value == proposed),
            "{name}: the proposal is remembered"
        );
    }
}

fn rules(window: i32, select: &str, policies: &[(&str, i32, i32)]) -> Option<HpaScalingRules> {
    Some(HpaScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: Some(select.into()),
        policies: policies
            .iter()
            .map(|(t, v, p)| HpaScalingPolicy {
                r#type: t.to_string(),
                value: *v,
                period_seconds: *p,
            })
            .collect(),
        tolerance: None,
    })
}

#[test]
fn normalization_with_behavior() {
    let w = Duration::from_secs(300);
    let t = now();
    // Scale-down limited to 1 pod per minute.
    let b = HorizontalPodAutoscalerBehavior {
        scale_up: None,
        scale_down: rules(0, "Max", &[("Pods", 1, 60)]),
    };
    let mut h = History::default();
    let n = normalize::with_behavior(&mut h, 5, 1, 1, 10, &b, w, t);
    assert_eq!(
        (n.replicas, n.scaling_limited.reason),
        (4, "ScaleDownLimit")
    );
    normalize::record_scale(&mut h, 5, 4, Duration::from_secs(60), t);
    let n = normalize::with_behavior(&mut h, 4, 1, 1, 10, &b, w, t + Duration::from_secs(10));
    assert_eq!(n.replicas, 4, "one pod already removed this minute");
    let n = normalize::with_behavior(&mut h, 4, 1, 1, 10, &b, w, t + Duration::from_secs(61));
    assert_eq!(n.replicas, 3, "a new minute allows one more");

    // Default scale-up policies: max(4 pods, 100%) per 15 s.
    let mut h = History::default();
    let n = normalize::with_behavior(&mut h, 3, 50, 1, 100, &b, w, t);
    assert_eq!((n.replicas, n.scaling_limited.reason), (7, "ScaleUpLimit"));

    // Scale-up disabled.
    let off = HorizontalPodAutoscalerBehavior {
        scale_up: rules(0, "Disabled", &[]),
        scale_down: None,
    };
    let mut h = History::default();
    let n = normalize::with_behavior(&mut h, 3, 8, 1, 10, &off, w, t);
    assert_eq!(n.replicas, 3);

    // Scale-up stabilization: the lowest recommendation of its window.
    let slow_up = HorizontalPodAutoscalerBehavior {
        scale_up: rules(60, "Max", &[("Percent", 100, 15)]),
        scale_down: None,
    };
    let mut h = history(&[(30, 3)], t);
    let n = normalize::with_behavior(&mut h, 2, 6, 1, 10, &slow_up, w, t);
    assert_eq!(
        (n.replicas, n.able_to_scale.reason),
        (3, "ScaleUpStabilized")
    );

    // Unset scale-down window: the flag's; the highest recommendation wins.
    let mut h = history(&[(100, 6)], t);
    let n = normalize::with_behavior(&mut h, 6, 2, 1, 10, &slow_up, w, t);
    assert_eq!(
        (n.replicas, n.able_to_scale.reason),
        (6, "ScaleDownStabilized")
    );
}

#[test]
fn metric_specs_are_understood_or_refused() {
    let spec = |ty: &str, name: &str, target: MetricTarget| MetricSpec {
        r#type: ty.into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: Some(target),
        }),
        ..Default::default()
    };
    let util = MetricTarget {
        r#type: "Utilization".into(),
        average_utilization: Some(80),
        ..Default::default()
    };
    let avg = MetricTarget {
        r#type: "AverageValue".into(),
        average_value: "250m".into(),
        ..Default::default()
    };
    assert_eq!(
        resource_target(&spec("Resource", "cpu", util.clone())),
        Ok(("cpu".into(), String::new(), Target::Utilization(80)))
    );
    assert_eq!(
        resource_target(&spec("Resource", "cpu", avg.clone())),
        Ok(("cpu".into(), String::new(), Target::AverageValue(250)))
    );
    let container = |name: &str, container: &str, target: MetricTarget| MetricSpec {
        r#type: "ContainerResource".into(),
        container_resource: Some(ContainerResourceMetricSource {
            name: name.into(),
            target: Some(target),
            container: container.into(),
        }),
        ..Default::default()
    };
    assert_eq!(
        resource_target(&container("memory", "web", avg)),
        Ok(("memory".into(), "web".into(), Target::AverageValue(250)))
    );
    assert!(
        resource_target(&container("cpu", "", util.clone()))
            .unwrap_err()
            .contains("no container")
    );
    assert!(resource_target(&spec("Pods", "cpu", util.clone())).is_err());
    assert!(resource_target(&spec("Resource", "gpu", util)).is_err());
    assert!(
        resource_target(&spec("Resource", "cpu", MetricTarget::default()))
            .unwrap_err()
            .contains("neither a utilization target nor a value target")
    );
}
