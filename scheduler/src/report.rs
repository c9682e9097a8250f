//! What the scheduler tells users: Events on pods (`FailedScheduling` with the reasons,
//! `Scheduled` with the node) and the pod's `PodScheduled=False` condition, written in the
//! background so the scheduling loop never waits on them. Repeats of the same failure bump
//! the count of one Event, as Kubernetes' event correlator does.
//!
//! `Reporter` is the seam: `ApiReporter` writes through the API, tests use a fake.

use client::{Api, Client};
use proto::Resource;
use proto::k8s::{Event, EventSource, ObjectReference, Pod, PodCondition};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
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

enum Report {
    Failed(Arc<Pod>, String),
    Scheduled(Arc<Pod>, String),
    Preempted(Arc<Pod>, String),
}

/// Writes reports through the API from a background task.
pub struct ApiReporter {
    failures: mpsc::UnboundedSender<Report>,
    /// Bounded: under a burst of bindings, success events are dropped rather than queued
    /// without limit (Kubernetes' event broadcaster drops too).
    successes: mpsc::Sender<Report>,
}

/// Success events waiting to be written before new ones are dropped.
const SUCCESS_BACKLOG: usize = 1000;
/// Event writes in flight at once.
const CONCURRENT_WRITES: usize = 16;

impl ApiReporter {
    /// Spawns the writer; it stops when `cancel` fires (after the writes in flight).
    pub fn start(
        client: Client,
        component: &str,
        instance: &str,
        cancel: CancellationToken,
    ) -> (Arc<ApiReporter>, tokio::task::JoinHandle<()>) {
        let (ftx, frx) = mpsc::unbounded_channel();
        let (stx, srx) = mpsc::channel(SUCCESS_BACKLOG);
        let writer = Writer {
            client,
            component: component.to_string(),
            instance: instance.to_string(),
            seen: Arc::new(Mutex::new(HashMap::new())),
        };
        let task = tokio::spawn(
            writer
                .run(frx, srx, cancel)
                .instrument(tracing::info_span!("reporter")),
        );
        (
            Arc::new(ApiReporter {
                failures: ftx,
                successes: stx,
            }),
            task,
        )
    }
}

impl Reporter for ApiReporter {
    fn failed(&self, pod: Arc<Pod>, message: String) {
        let _ = self.failures.send(Report::Failed(pod, message));
    }
    fn preempted(&self, victim: Arc<Pod>, by: String, node: String) {
        let msg = format!("Preempted by pod {by} on node {node}");
        let _ = self.failures.send(Report::Preempted(victim, msg));
    }
    fn scheduled(&self, pod: Arc<Pod>, node: String) {
        if self
            .successes
            .try_send(Report::Scheduled(pod.clone(), node))
            .is_err()
        {
            tracing::debug!(pod = %format!("{}/{}", pod.meta().namespace, pod.meta().name), "event backlog full; dropping a Scheduled event");
        }
    }
}

/// (pod uid, reason, message) -> (event name, count).
type Seen = Arc<Mutex<HashMap<(String, String, String), (String, i32)>>>;

#[derive(Clone)]
struct Writer {
    client: Client,
    component: String,
    instance: String,
    seen: Seen,
}

impl Writer {
    async fn run(
        self,
        mut failures: mpsc::UnboundedReceiver<Report>,
        mut successes: mpsc::Receiver<Report>,
        cancel: CancellationToken,
    ) {
        let sem = Arc::new(Semaphore::new(CONCURRENT_WRITES));
        let mut tasks = JoinSet::new();
        loop {
            let report = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(r) = failures.recv() => r,
                Some(r) = successes.recv() => r,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
                else => break,
            };
            let Ok(permit) = sem.clone().acquire_owned().await else {
                break;
            };
            let w = self.clone();
            tasks.spawn(async move {
                w.write(report).await;
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn write(&self, report: Report) {
        match report {
            Report::Failed(pod, message) => {
                self.event(&pod, "Warning", "FailedScheduling", &message)
                    .await;
                self.condition(&pod, &message).await;
            }
            Report::Preempted(pod, message) => {
                self.event(&pod, "Normal", "Preempted", &message).await;
            }
            Report::Scheduled(pod, node) => {
                let m = pod.meta();
                let msg = format!("Successfully assigned {}/{} to {node}", m.namespace, m.name);
                self.event(&pod, "Normal", "Scheduled", &msg).await;
            }
        }
    }

    async fn event(&self, pod: &Pod, kind: &str, reason: &str, message: &str) {
        let m = pod.meta();
        let key_str = format!("{}/{}", m.namespace, m.name);
        let api: Api<Event> = Api::namespaced(self.client.clone(), &m.namespace);
        let now = proto::time::now_rfc3339();
        let seen_key = (m.uid.clone(), reason.to_string(), message.to_string());
        let previous = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&seen_key)
            .cloned();
        if let Some((name, count)) = previous {
            let patch = serde_json::json!({"count": count + 1, "lastTimestamp": now});
            match api.patch_merge(&name, &patch).await {
                Ok(_) => {
                    self.remember(seen_key, name, count + 1);
                    return;
                }
                Err(e) => {
                    tracing::debug!(pod = %key_str, error = %e, "could not update event; creating a new one");
                }
            }
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut ev = Event {
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
                api_version: "v1".into(),
                resource_version: m.resource_version.clone(),
                ..Default::default()
            }),
            reason: reason.into(),
            message: message.into(),
            r#type: kind.into(),
            count: 1,
            first_timestamp: now.clone(),
            last_timestamp: now,
            source: Some(EventSource {
                component: self.component.clone(),
                ..Default::default()
            }),
            action: match reason {
                "Scheduled" => "Binding",
                "Preempted" => "Preempting",
                _ => "Scheduling",
            }
            .into(),
            reporting_component: self.component.clone(),
            reporting_instance: self.instance.clone(),
            ..Default::default()
        };
        ev.meta_mut().name = format!("{}.{nanos:x}", m.name);
        ev.meta_mut().namespace = m.namespace.clone();
        match api.create(&ev).await {
            Ok(created) => {
                if kind == "Warning" {
                    self.remember(seen_key, created.meta().name.clone(), 1);
                }
            }
            Err(e) => tracing::warn!(pod = %key_str, reason, error = %e, "could not write event"),
        }
    }

    fn remember(&self, key: (String, String, String), name: String, count: i32) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert(key, (name, count));
    }

    /// Sets PodScheduled=False (reason Unschedulable) with the message, unless the pod
    /// already says exactly that.
    async fn condition(&self, pod: &Pod, message: &str) {
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
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &m.namespace);
        let patch = serde_json::json!({"status": {"conditions": updated}});
        if let Err(e) = api.patch_merge_status(&m.name, &patch).await {
            tracing::warn!(pod = %key_str, error = %e, "could not set the PodScheduled condition");
        }
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
