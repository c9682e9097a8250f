//! What the scheduler tells users: Events on pods (`FailedScheduling` with the reasons,
//! `Scheduled` with the node) and the pod's `PodScheduled=False` condition, written in the
//! background so the scheduling loop never waits on them. Events go through the recorder
//! every daemon shares (`client::events`): repeats of the same failure bump the count of
//! one Event, as Kubernetes' event correlator does.
//!
//! `Reporter` is the seam: `ApiReporter` writes through the API, tests use a fake.

use client::events::{ApiSink, EventType, Recorder, RecorderConfig, reference_of};
use client::{Api, Client, SystemClock};
use proto::Resource;
use proto::k8s::{Pod, PodCondition};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub trait Reporter: Send + Sync + 'static {
    /// No node fits (or binding failed): a Warning event and the PodScheduled condition.
    fn failed(&self, pod: Arc<Pod>, message: String);
    /// Bound: a Normal event.
    fn scheduled(&self, pod: Arc<Pod>, node: String);
    /// Evicted to make room for `by` on `node`: a Normal event on the victim.
    fn preempted(&self, victim: Arc<Pod>, by: String, node: String);
}

/// Writes reports through the API from background tasks: events through the shared
/// recorder (`client::events`: repeats become count patches, a bounded queue drops under
/// a burst rather than queue without limit), conditions through a writer of their own.
pub struct ApiReporter {
    events: Recorder,
    conditions: mpsc::UnboundedSender<(Arc<Pod>, String)>,
}

/// Condition writes in flight at once.
const CONCURRENT_WRITES: usize = 16;

impl ApiReporter {
    /// Spawns the writers; they stop when `cancel` fires (after the writes in flight).
    pub fn start(
        client: Client,
        component: &str,
        instance: &str,
        cancel: CancellationToken,
    ) -> (Arc<ApiReporter>, tokio::task::JoinHandle<()>) {
        let (events, broadcaster) = client::events::recorder(
            RecorderConfig::new(component, "", instance),
            Arc::new(SystemClock),
        );
        let (ctx, crx) = mpsc::unbounded_channel();
        let sink = ApiSink::new(client.clone());
        let task = tokio::spawn(
            async move {
                tokio::join!(
                    broadcaster
                        .run(sink, cancel.clone())
                        .instrument(tracing::info_span!("events")),
                    write_conditions(client, crx, cancel.clone()),
                );
            }
            .instrument(tracing::info_span!("reporter")),
        );
        (
            Arc::new(ApiReporter {
                events,
                conditions: ctx,
            }),
            task,
        )
    }

    fn event(&self, pod: &Pod, kind: EventType, reason: &str, message: String, action: &str) {
        self.events
            .record(reference_of(pod), kind, reason, message, action);
    }
}

impl Reporter for ApiReporter {
    fn failed(&self, pod: Arc<Pod>, message: String) {
        self.event(
            &pod,
            EventType::Warning,
            "FailedScheduling",
            message.clone(),
            "Scheduling",
        );
        let _ = self.conditions.send((pod, message));
    }
    fn preempted(&self, victim: Arc<Pod>, by: String, node: String) {
        let msg = format!("Preempted by pod {by} on node {node}");
        self.event(&victim, EventType::Normal, "Preempted", msg, "Preempting");
    }
    fn scheduled(&self, pod: Arc<Pod>, node: String) {
        let m = pod.meta();
        let msg = format!("Successfully assigned {}/{} to {node}", m.namespace, m.name);
        self.event(&pod, EventType::Normal, "Scheduled", msg, "Binding");
    }
}

async fn write_conditions(
    client: Client,
    mut rx: mpsc::UnboundedReceiver<(Arc<Pod>, String)>,
    cancel: CancellationToken,
) {
    let sem = Arc::new(Semaphore::new(CONCURRENT_WRITES));
    let mut tasks = JoinSet::new();
    loop {
        let (pod, message) = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            Some(r) = rx.recv() => r,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            else => break,
        };
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let client = client.clone();
        tasks.spawn(async move {
            condition(&client, &pod, &message).await;
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Sets PodScheduled=False (reason Unschedulable) with the message, unless the pod
/// already says exactly that.
async fn condition(client: &Client, pod: &Pod, message: &str) {
    let m = pod.meta();
    let key_str = format!("{}/{}", m.namespace, m.name);
    let conditions = pod
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let Some(updated) = with_unschedulable_condition(&conditions, message) else {
        return;
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), &m.namespace);
    let patch = serde_json::json!({"status": {"conditions": updated}});
    if let Err(e) = api.patch_merge_status(&m.name, &patch).await {
        tracing::warn!(pod = %key_str, error = %e, "could not set the PodScheduled condition");
    }
}

/// Pure: the pod's conditions with PodScheduled=False/Unschedulable/`message`, or `None`
/// when they already say so. The transition time moves only when the status changes.
pub fn with_unschedulable_condition(
    conditions: &[PodCondition],
    message: &str,
) -> Option<Vec<serde_json::Value>> {
    let current = conditions.iter().find(|c| c.r#type == "PodScheduled");
    if let Some(c) = current
        && c.status == "False"
        && c.reason == "Unschedulable"
        && c.message == message
    {
        return None;
    }
    let now = proto::time::now_rfc3339();
    let transition = match current {
        Some(c) if c.status == "False" && !c.last_transition_time.is_empty() => {
            c.last_transition_time.clone()
        }
        _ => now.clone(),
    };
    let mut out: Vec<serde_json::Value> = conditions
        .iter()
        .filter(|c| c.r#type != "PodScheduled")
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    out.push(serde_json::json!({
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastTransitionTime": transition,
    }));
    Some(out)
}

/// Records reports in memory (tests).
#[derive(Default)]
pub struct FakeReporter {
    pub failures: Mutex<Vec<(String, String)>>,
    pub scheduled: Mutex<Vec<(String, String)>>,
    /// (victim, message)
    pub preempted: Mutex<Vec<(String, String)>>,
}

impl Reporter for FakeReporter {
    fn preempted(&self, victim: Arc<Pod>, by: String, node: String) {
        let key = format!("{}/{}", victim.meta().namespace, victim.meta().name);
        self.preempted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, format!("Preempted by pod {by} on node {node}")));
    }
    fn failed(&self, pod: Arc<Pod>, message: String) {
        let key = format!("{}/{}", pod.meta().namespace, pod.meta().name);
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, message));
    }
    fn scheduled(&self, pod: Arc<Pod>, node: String) {
        let key = format!("{}/{}", pod.meta().namespace, pod.meta().name);
        self.scheduled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, node));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_is_written_once_per_message() {
        let first = with_unschedulable_condition(&[], "0/1 nodes are available: 1 Too many pods.")
            .expect("no condition yet");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0]["status"], "False");
        assert_eq!(first[0]["reason"], "Unschedulable");
        let as_cond = PodCondition {
            r#type: "PodScheduled".into(),
            status: "False".into(),
            reason: "Unschedulable".into(),
            message: "0/1 nodes are available: 1 Too many pods.".into(),
            last_transition_time: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        assert!(
            with_unschedulable_condition(std::slice::from_ref(&as_cond), &as_cond.message)
                .is_none()
        );
        let changed = with_unschedulable_condition(
            &[
                as_cond.clone(),
                PodCondition {
                    r#type: "Other".into(),
                    status: "True".into(),
                    ..Default::default()
                },
            ],
            "new message",
        )
        .unwrap();
        assert_eq!(changed.len(), 2, "other conditions kept: {changed:?}");
        let ps = changed
            .iter()
            .find(|c| c["type"] == "PodScheduled")
            .unwrap();
        assert_eq!(ps["message"], "new message");
        assert_eq!(
            ps["lastTransitionTime"], "2026-01-01T00:00:00Z",
            "status unchanged: transition time kept"
        );
    }
}
