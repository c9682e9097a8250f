//! Job controller against an in-process apiserver. No fake kubelet: the test plays the
//! kubelet, finishing pods (phase Succeeded or Failed) through the status subresource, as a
//! real kubelet does for `restartPolicy: Never` pods.

mod common;

use client::Api;
use common::{Cluster, ClusterBuilder, list_pods, wait_for};
use controller_manager::controllers::job;
use proto::Resource;
use proto::k8s::{Job, Pod, PodStatus};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(30);

fn job_yaml(name: &str, extra: &str) -> String {
    format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: default}}
spec:
{extra}
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: busybox}}]
"#
    )
}

/// Starts the cluster (no kubelet) and the job controller with a short pod-failure
/// back-off; the events writer too.
async fn start(builder: ClusterBuilder) -> (Cluster, CancellationToken) {
    let c = builder.no_kubelet().start().await;
    let cancel = CancellationToken::new();
    if let Some(w) = c.ctx.events.writer(c.client.clone(), cancel.child_token()) {
        tokio::spawn(w);
    }
    let opts = job::Options {
        backoff: Duration::from_millis(200),
        ..Default::default()
    };
    // In the cluster's reconcile observer, as the controllers it starts itself.
    let run = job::run(c.ctx.clone(), cancel.child_token(), opts);
    tokio::spawn(c.ctx.observed(Box::pin(run)));
    (c, cancel)
}

/// For `Cluster::drained`: the controller's cache has the Job with this condition.
fn finished_in_cache(
    key: &str,
    condition: &str,
    reason: &str,
) -> impl Fn(&client::Store<Job>) -> bool {
    let (key, condition, reason) = (key.to_string(), condition.to_string(), reason.to_string());
    move |st| {
        st.get(&key)
            .and_then(|j| j.status.clone())
            .is_some_and(|s| has_condition(&s, &condition, &reason))
    }
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().map_or("", |s| s.phase.as_str())
}

async fn job_pods(c: &Cluster, name: &str) -> Vec<Pod> {
    list_pods(&c.client, "default", &format!("job-name={name}")).await
}

/// Sets a pod's phase (what the kubelet reports when its containers exit).
async fn finish(c: &Cluster, pod: &Pod, phase: &str) {
    let mut p = pod.clone();
    p.status = Some(PodStatus {
        phase: phase.into(),
        ..Default::default()
    });
    let api: Api<Pod> = c.api("default");
    api.update_status(&p).await.expect("finish pod");
}

async fn job_status(c: &Cluster, name: &str) -> Option<proto::k8s::JobStatus> {
    c.api::<Job>("default").get(name).await.ok()?.status
}

fn has_condition(s: &proto::k8s::JobStatus, t: &str, reason: &str) -> bool {
    s.conditions
        .iter()
        .any(|c| c.r#type == t && c.status == "True" && c.reason == reason)
}

async fn event_reasons(c: &Cluster, uid: &str) -> Vec<String> {
    let events: Api<proto::k8s::Event> = c.api("default");
    events
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.involved_object.as_ref().is_some_and(|o| o.uid == uid))
        .map(|e| e.reason)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_3_parallelism_2_completes_with_exactly_3_succeeded_pods() {
    let (c, cancel) = start(Cluster::builder()).await;
    let j: Job = c
        .apply_yaml(&job_yaml("pi", "  completions: 3\n  parallelism: 2"))
        .await;
    let uid = j.meta().uid.clone();
    // Play the kubelet: whenever pods are running, check parallelism and finish them one
    // at a time.
    let max_active = Arc::new(AtomicUsize::new(0));
    let status = wait_for("job Complete", T, || async {
        let pods = job_pods(&c, "pi").await;
        let active: Vec<&Pod> = pods
            .iter()
            .filter(|p| !matches!(phase(p), "Succeeded" | "Failed"))
            .collect();
        max_active.fetch_max(active.len(), Ordering::SeqCst);
        if let Some(p) = active.first() {
            finish(&c, p, "Succeeded").await;
        }
        let s = job_status(&c, "pi").await?;
        has_condition(&s, "Complete", "").then_some(s)
    })
    .await;
    let max_active = max_active.load(Ordering::SeqCst);
    assert!(max_active <= 2, "parallelism 2, saw {max_active} active");
    assert_eq!(status.succeeded, 3);
    assert_eq!(status.failed, 0);
    assert_eq!(status.active, 0);
    assert!(!status.start_time.is_empty() && !status.completion_time.is_empty());
    // No pod beyond the 3 completions, once the controller has looked at the complete
    // Job and has nothing left, not even a delayed retry.
    c.drained(
        job::NAME,
        "default/pi",
        0,
        finished_in_cache("default/pi", "Complete", ""),
    )
    .await;
    let pods = job_pods(&c, "pi").await;
    assert_eq!(pods.len(), 3, "exactly 3 pods");
    assert!(pods.iter().all(|p| phase(p) == "Succeeded"));
    for p in &pods {
        assert!(p.meta().name.starts_with("pi-"));
        let r = &p.meta().owner_references[0];
        assert_eq!((r.kind.as_str(), r.uid.as_str()), ("Job", uid.as_str()));
        assert_eq!(p.meta().labels["batch.kubernetes.io/controller-uid"], uid);
    }
    let reasons = wait_for("events", T, || async {
        let r = event_reasons(&c, &uid).await;
        (r.iter().filter(|r| *r == "SuccessfulCreate").count() == 3
            && r.iter().any(|r| r == "Completed"))
        .then_some(r)
    })
    .await;
    assert_eq!(reasons.iter().filter(|r| *r == "Completed").count(), 1);
    cancel.cancel();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_pods_are_replaced_until_the_backoff_limit() {
    let (c, cancel) = start(Cluster::builder()).await;
    let j: Job = c
        .apply_yaml(&job_yaml("flaky", "  backoffLimit: 2\n  parallelism: 1"))
        .await;
    let status = wait_for("job Failed", T, || async {
        for p in job_pods(&c, "flaky").await {
            if phase(&p).is_empty() || phase(&p) == "Pending" {
                finish(&c, &p, "Failed").await;
            }
        }
        let s = job_status(&c, "flaky").await?;
        has_condition(&s, "Failed", "BackoffLimitExceeded").then_some(s)
    })
    .await;
    // backoffLimit 2: the third failure ends it.
    assert_eq!(status.failed, 3);
    assert_eq!(status.succeeded, 0);
    assert!(status.completion_time.is_empty());
    c.drained(
        job::NAME,
        "default/flaky",
        0,
        finished_in_cache("default/flaky", "Failed", "BackoffLimitExceeded"),
    )
    .await;
    assert_eq!(job_pods(&c, "flaky").await.len(), 3, "no pod after failing");
    wait_for("BackoffLimitExceeded event", T, || async {
        event_reasons(&c, &j.meta().uid)
            .await
            .iter()
            .any(|r| r == "BackoffLimitExceeded")
            .then_some(())
    })
    .await;
    cancel.cancel();
    c.stop().await;
}

/// The controller's cache sees every change 400 ms late: expectations keep it from
/// creating again on a stale look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_cache_never_creates_too_many_pods() {
    let (c, cancel) = start(Cluster::builder().informer_delay(Duration::from_millis(400))).await;
    let created = Arc::new(AtomicUsize::new(0));
    let marked = Arc::new(tokio::sync::Notify::new());
    c.namespace("other").await;
    // Returns once the counter has every pod creation made before the call.
    let caught_up = |name: &'static str| {
        let (c, marked) = (&c, marked.clone());
        async move {
            c.api::<Pod>("other")
                .create(&common::marker_pod("other", name))
                .await
                .unwrap();
            tokio::time::timeout(T, marked.notified())
                .await
                .expect("the counter sees the marker pod");
        }
    };
    let counter = {
        use futures::StreamExt;
        let api: Api<Pod> = Api::all(c.client.clone());
        let mut stream = api.watch(&client::WatchParams::default()).await.unwrap();
        let (created, marked) = (created.clone(), marked.clone());
        tokio::spawn(async move {
            while let Some(Ok(ev)) = stream.next().await {
                if let client::WatchEvent::Added(p) = ev {
                    // A marker pod says every earlier event has come (watches are
                    // ordered); it is not the Job's.
                    if p.meta().labels.get("app").map(String::as_str) == Some("marker") {
                        marked.notify_one();
                    } else {
                        created.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        })
    };
    c.apply_yaml::<Job>(&job_yaml("wide", "  completions: 20\n  parallelism: 10"))
        .await;
    wait_for("10 pods", T, || async {
        (job_pods(&c, "wide").await.len() == 10).then_some(())
    })
    .await;
    // Force many syncs on the stale cache by touching the Job.
    let api: Api<Job> = c.api("default");
    for i in 0..10 {
        let patch = serde_json::json!({"metadata": {"annotations": {"poke": i.to_string()}}});
        api.patch_merge("wide", &patch).await.unwrap();
        // Spread over time, so the pokes are separate syncs on the lagging cache (the
        // queue would fold back-to-back ones into one): the scenario, not a wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The controller's lagging cache has the last poke and the 10 pods, it has looked at
    // the Job since and has nothing left; the counter has every creation up to now.
    c.settled(job::NAME, "default/wide", 0, |st: &client::Store<Job>| {
        st.get("default/wide")
            .is_some_and(|j| j.meta().annotations.get("poke").map(String::as_str) == Some("9"))
    })
    .await;
    c.settled(job::NAME, "default/wide", 0, |st: &client::Store<Pod>| {
        st.by_namespace("default").len() == 10
    })
    .await;
    caught_up("marker-1").await;
    assert_eq!(
        created.load(Ordering::SeqCst),
        10,
        "exactly parallelism pods"
    );
    // Finish them all: 10 more, and then the Job completes with 20.
    let done = std::sync::Mutex::new(HashSet::new());
    let s = wait_for("Complete", T, || async {
        for p in job_pods(&c, "wide").await {
            let running = !matches!(phase(&p), "Succeeded" | "Failed");
            if running && done.lock().unwrap().insert(p.meta().name.clone()) {
                finish(&c, &p, "Succeeded").await;
            }
        }
        let s = job_status(&c, "wide").await?;
        has_condition(&s, "Complete", "").then_some(s)
    })
    .await;
    assert_eq!(s.succeeded, 20);
    c.drained(
        job::NAME,
        "default/wide",
        0,
        finished_in_cache("default/wide", "Complete", ""),
    )
    .await;
    caught_up("marker-2").await;
    assert_eq!(created.load(Ordering::SeqCst), 20);
    counter.abort();
    cancel.cancel();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_resume_deadline_and_ttl() {
    let (c, cancel) = start(Cluster::builder().controllers(&["garbagecollector"])).await;
    // Suspended: no pods until resumed.
    c.apply_yaml::<Job>(&job_yaml(
        "later",
        "  suspend: true\n  parallelism: 2\n  completions: 2",
    ))
    .await;
    wait_for("Suspended condition", T, || async {
        let s = job_status(&c, "later").await?;
        has_condition(&s, "Suspended", "JobSuspended").then_some(())
    })
    .await;
    assert!(job_pods(&c, "later").await.is_empty());
    let api: Api<Job> = c.api("default");
    api.patch_merge("later", &serde_json::json!({"spec": {"suspend": false}}))
        .await
        .unwrap();
    wait_for("2 pods after resume", T, || async {
        (job_pods(&c, "later").await.len() == 2).then_some(())
    })
    .await;
    // Suspending again deletes the active pods.
    api.patch_merge("later", &serde_json::json!({"spec": {"suspend": true}}))
        .await
        .unwrap();
    wait_for("pods deleted on suspend", T, || async {
        job_pods(&c, "later").await.is_empty().then_some(())
    })
    .await;

    // activeDeadlineSeconds: Failed/DeadlineExceeded, pods deleted.
    c.apply_yaml::<Job>(&job_yaml("slow", "  activeDeadlineSeconds: 1"))
        .await;
    wait_for("DeadlineExceeded", T, || async {
        let s = job_status(&c, "slow").await?;
        has_condition(&s, "Failed", "DeadlineExceeded").then_some(())
    })
    .await;
    wait_for("deadline pods deleted", T, || async {
        job_pods(&c, "slow").await.is_empty().then_some(())
    })
    .await;

    // ttlSecondsAfterFinished: the Job goes, and the GC takes its pod.
    c.apply_yaml::<Job>(&job_yaml("brief", "  ttlSecondsAfterFinished: 1"))
        .await;
    let pod = wait_for("pod", T, || async {
        job_pods(&c, "brief").await.into_iter().next()
    })
    .await;
    finish(&c, &pod, "Succeeded").await;
    wait_for("job deleted after its TTL", T, || async {
        api.get_opt("brief").await.ok()?.is_none().then_some(())
    })
    .await;
    wait_for("its pod collected", T, || async {
        job_pods(&c, "brief").await.is_empty().then_some(())
    })
    .await;
    cancel.cancel();
    c.stop().await;
}
