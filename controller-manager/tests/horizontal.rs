//! HorizontalPodAutoscaler controller against an in-process apiserver, the replicaset and
//! deployment controllers, fake nodes and the fake kubelet; pod usage comes from
//! `FakeMetrics` (a total load spread over the target's pods).

mod common;

use client::{Api, FakeClock, ListParams};
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::horizontal::{self, metrics::FakeMetrics};
use proto::k8s::{Deployment, Event, HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(30);
const NS: &str = "hpa";
const WINDOW: Duration = Duration::from_secs(3);
const SYNC: Duration = Duration::from_millis(200);

fn deployment_yaml(name: &str, cpu_request: Option<&str>) -> String {
    let resources = cpu_request
        .map(|c| format!(", resources: {{requests: {{cpu: {c}}}}}"))
        .unwrap_or_default();
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {NS}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: app, image: busybox{resources}}}]
"#
    )
}

fn hpa_yaml(name: &str, target: &str) -> String {
    format!(
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {name}, namespace: {NS}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {target}}}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}
"#
    )
}

/// The cluster, with the HPA controller on a fake metrics source, syncing every 200 ms and
/// stabilizing scale-downs over `WINDOW`.
async fn start() -> (Cluster, Arc<FakeMetrics>, CancellationToken) {
    start_with(None).await
}

/// `start`, the controllers reading time from `clock` when given.
async fn start_with(clock: Option<FakeClock>) -> (Cluster, Arc<FakeMetrics>, CancellationToken) {
    let mut b = Cluster::builder()
        .controllers(&["replicaset", "deployment"])
        .configure(|cfg| {
            cfg.horizontal_pod_autoscaler_sync_period = SYNC;
            cfg.horizontal_pod_autoscaler_downscale_stabilization = WINDOW;
        });
    if let Some(clock) = clock {
        b = b.clock(clock);
    }
    let c = b.start().await;
    c.namespace(NS).await;
    let fake = Arc::new(FakeMetrics::new());
    let cancel = CancellationToken::new();
    // Inside the observer's scope, so that `reconciled` sees its syncs.
    tokio::spawn(c.ctx.observed(Box::pin(horizontal::run_with(
        c.ctx.clone(),
        cancel.clone(),
        fake.clone(),
    ))));
    (c, fake, cancel)
}

async fn spec_replicas(c: &Cluster, name: &str) -> i32 {
    c.api::<Deployment>(NS)
        .get(name)
        .await
        .expect("get deployment")
        .spec
        .and_then(|s| s.replicas)
        .unwrap_or(0)
}

async fn ready_pods(c: &Cluster, app: &str) -> usize {
    list_pods(&c.client, NS, &format!("app={app}"))
        .await
        .iter()
        .filter(|p| !is_terminating(p) && is_ready(p))
        .count()
}

async fn status(c: &Cluster, name: &str) -> HorizontalPodAutoscalerStatus {
    c.api::<HorizontalPodAutoscaler>(NS)
        .get(name)
        .await
        .expect("get hpa")
        .status
        .unwrap_or_default()
}

fn condition<'a>(s: &'a HorizontalPodAutoscalerStatus, kind: &str) -> (&'a str, &'a str) {
    s.conditions
        .iter()
        .find(|c| c.r#type == kind)
        .map(|c| (c.status.as_str(), c.reason.as_str()))
        .unwrap_or(("", ""))
}

async fn events(c: &Cluster) -> Vec<Event> {
    Api::<Event>::namespaced(c.client.clone(), NS)
        .list(&ListParams::default())
        .await
        .expect("list events")
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_load_scales_up_then_down_after_the_stabilization_window() {
    // The window is on the controller's clock: the test moves it instead of waiting.
    let clock = FakeClock::starting_now();
    let (c, fake, cancel) = start_with(Some(clock.clone())).await;
    // Two finished syncs after a change: the first may have started before it.
    let two_syncs = || async {
        for _ in 0..2 {
            let before = c.reconciles(horizontal::NAME, "hpa/web");
            c.reconciled(horizontal::NAME, "hpa/web", before).await;
        }
    };
    // One pod requesting 100m uses 200m: 200% of its request against a 50% target.
    fake.set_total(Some(200));
    let _: Deployment = c.apply_yaml(&deployment_yaml("web", Some("100m"))).await;
    wait_for("1 ready pod", T, || async {
        (ready_pods(&c, "web").await == 1).then_some(())
    })
    .await;
    let _: HorizontalPodAutoscaler = c.apply_yaml(&hpa_yaml("web", "web")).await;

    // ceil(1 * 200 / 50) = 4.
    wait_for("scaled to 4 ready pods", T, || async {
        (spec_replicas(&c, "web").await == 4 && ready_pods(&c, "web").await == 4).then_some(())
    })
    .await;
    // The same 200m over 4 pods is 50%: the target, so it stays (checked below, once a
    // sync has measured 50% over 4 pods and one more has finished).
    let s = wait_for("status at 4 pods, 50%", T, || async {
        let s = status(&c, "web").await;
        let util = s
            .current_metrics
            .first()
            .and_then(|m| m.resource.as_ref())
            .and_then(|r| r.current.as_ref())
            .and_then(|c| c.average_utilization);
        (s.current_replicas == 4 && util == Some(50)).then_some(s)
    })
    .await;
    let before = c.reconciles(horizontal::NAME, "hpa/web");
    c.reconciled(horizontal::NAME, "hpa/web", before).await;
    assert_eq!(spec_replicas(&c, "web").await, 4, "stable at the target");
    assert_eq!(s.desired_replicas, 4);
    assert!(!s.last_scale_time.is_empty(), "lastScaleTime set");
    assert_eq!(s.observed_generation, Some(1));
    assert_eq!(condition(&s, "AbleToScale").0, "True");
    assert_eq!(condition(&s, "ScalingActive"), ("True", "ValidMetricFound"));
    assert_eq!(
        condition(&s, "ScalingLimited"),
        ("False", "DesiredWithinRange")
    );
    let m = &s.current_metrics[0];
    assert_eq!(m.r#type, "Resource");
    let r = m.resource.as_ref().expect("resource status");
    assert_eq!(r.name, "cpu");
    assert_eq!(
        r.current.as_ref().map(|c| c.average_value.as_str()),
        Some("50m")
    );
    wait_for("SuccessfulRescale event to 4", T, || async {
        events(&c).await.into_iter().find(|e| {
            e.reason == "SuccessfulRescale"
                && e.message
                    == "New size: 4; reason: cpu resource utilization (percentage of request) above target"
        })
    })
    .await;

    // Load gone: 0% asks for 0 -> min 1, but only once 4 is out of the window. The clock
    // has not moved since the last recommendation of 4, so the window counts from now.
    fake.set_total(Some(0));
    wait_for("status sees 0%", T, || async {
        let s = status(&c, "web").await;
        let util = s
            .current_metrics
            .first()
            .and_then(|m| m.resource.as_ref())
            .and_then(|r| r.current.as_ref())
            .and_then(|c| c.average_utilization);
        (util == Some(0)).then_some(())
    })
    .await;
    let s = status(&c, "web").await;
    assert_eq!(spec_replicas(&c, "web").await, 4, "held by the window");
    assert_eq!(
        condition(&s, "AbleToScale"),
        ("True", "ScaleDownStabilized")
    );
    clock.advance(WINDOW / 2);
    two_syncs().await;
    assert_eq!(
        spec_replicas(&c, "web").await,
        4,
        "still held by the window"
    );
    // Just short of the window: still held (scale-down only after the window).
    clock.advance(WINDOW / 2 - Duration::from_millis(10));
    two_syncs().await;
    assert_eq!(
        spec_replicas(&c, "web").await,
        4,
        "held until the window is over"
    );
    clock.advance(Duration::from_millis(20));
    let dropped = Instant::now();
    wait_for("scaled down to 1", T, || async {
        (spec_replicas(&c, "web").await == 1).then_some(())
    })
    .await;
    let took = dropped.elapsed();
    eprintln!("scale-down {took:?} after the clock passed the {WINDOW:?} window");
    wait_for("SuccessfulRescale event to 1", T, || async {
        events(&c).await.into_iter().find(|e| {
            e.reason == "SuccessfulRescale"
                && e.message == "New size: 1; reason: All metrics below target"
        })
    })
    .await;
    let s = wait_for("status at 1", T, || async {
        let s = status(&c, "web").await;
        (s.desired_replicas == 1).then_some(s)
    })
    .await;
    assert_eq!(condition(&s, "ScalingLimited"), ("True", "TooFewReplicas"));
    cancel.cancel();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_without_cpu_requests_are_not_scaled_and_say_why() {
    let (c, fake, cancel) = start().await;
    fake.set_total(Some(500));
    let _: Deployment = c.apply_yaml(&deployment_yaml("noreq", None)).await;
    wait_for("1 ready pod", T, || async {
        (ready_pods(&c, "noreq").await == 1).then_some(())
    })
    .await;
    let _: HorizontalPodAutoscaler = c.apply_yaml(&hpa_yaml("noreq", "noreq")).await;
    let s = wait_for("ScalingActive=False", T, || async {
        let s = status(&c, "noreq").await;
        (condition(&s, "ScalingActive").0 == "False").then_some(s)
    })
    .await;
    assert_eq!(
        condition(&s, "ScalingActive"),
        ("False", "FailedGetResourceMetric")
    );
    let msg = &s
        .conditions
        .iter()
        .find(|c| c.r#type == "ScalingActive")
        .expect("condition")
        .message;
    assert!(
        msg.contains("missing request for cpu in container app of Pod noreq-"),
        "{msg}"
    );
    let ev = wait_for("FailedGetResourceMetric event", T, || async {
        events(&c)
            .await
            .into_iter()
            .find(|e| e.reason == "FailedGetResourceMetric")
    })
    .await;
    assert_eq!(ev.r#type, "Warning");
    assert!(
        ev.message.contains("missing request for cpu"),
        "{}",
        ev.message
    );
    // A full sync after the one that reported the failure: still nothing scaled.
    let before = c.reconciles(horizontal::NAME, "hpa/noreq");
    c.reconciled(horizontal::NAME, "hpa/noreq", before).await;
    assert_eq!(spec_replicas(&c, "noreq").await, 1, "never scaled");
    cancel.cancel();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_target_is_reported_unable_to_scale() {
    let (c, _fake, cancel) = start().await;
    let _: HorizontalPodAutoscaler = c.apply_yaml(&hpa_yaml("ghost", "nothere")).await;
    let s = wait_for("AbleToScale=False", T, || async {
        let s = status(&c, "ghost").await;
        (condition(&s, "AbleToScale").0 == "False").then_some(s)
    })
    .await;
    assert_eq!(condition(&s, "AbleToScale"), ("False", "FailedGetScale"));
    cancel.cancel();
    c.stop().await;
}

/// The real source reads the apiserver's resource metrics API; the fake nodes run no
/// kubelet, so there is never a sample of the target's pods: that must surface as
/// FailedGetResourceMetric, in Kubernetes' words, and nothing is scaled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_api_without_samples_is_reported_and_nothing_scales() {
    let c = Cluster::builder()
        .nodes(1)
        .controllers(&["replicaset", "deployment"])
        .configure(|cfg| {
            cfg.horizontal_pod_autoscaler_sync_period = SYNC;
        })
        .start()
        .await;
    c.namespace(NS).await;
    let cancel = CancellationToken::new();
    let source = Arc::new(horizontal::metrics::ResourceMetrics::new(
        client::MetricsApi::new(c.ctx.client.clone()),
    ));
    tokio::spawn(horizontal::run_with(c.ctx.clone(), cancel.clone(), source));
    let _: Deployment = c.apply_yaml(&deployment_yaml("real", Some("100m"))).await;
    wait_for("1 ready pod", T, || async {
        (ready_pods(&c, "real").await == 1).then_some(())
    })
    .await;
    let _: HorizontalPodAutoscaler = c.apply_yaml(&hpa_yaml("real", "real")).await;
    let s = wait_for("ScalingActive=False", T, || async {
        let s = status(&c, "real").await;
        (condition(&s, "ScalingActive").0 == "False").then_some(s)
    })
    .await;
    let msg = &s
        .conditions
        .iter()
        .find(|c| c.r#type == "ScalingActive")
        .expect("condition")
        .message;
    eprintln!("{msg}");
    assert_eq!(
        condition(&s, "ScalingActive"),
        ("False", "FailedGetResourceMetric")
    );
    assert!(
        msg.contains(
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        ),
        "{msg}"
    );
    assert_eq!(spec_replicas(&c, "real").await, 1);
    cancel.cancel();
    c.stop().await;
}
