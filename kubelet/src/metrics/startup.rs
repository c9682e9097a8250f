//! Pod startup latency as Kubernetes' kubelet measures it (`pod_startup_latency_tracker.go`
//! and `kubelet_pod_start_duration_seconds`): per pod, from first sight to all of its
//! containers running, and the SLI from the pod's creation with image pulling taken out.

use crate::actions::PodRuntimeState;
use crate::runtime::ContainerKind;
use proto::k8s::Pod;
use proto::k8s::volume::VolumeSource;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not looked at yet.
    New,
    /// Seen with some container not running.
    Starting,
    /// Recorded, or already running when first seen (a kubelet restart adopting it).
    Done,
}

/// What one pod's start measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Started {
    /// `kubelet_pod_start_duration_seconds`: first seen by this kubelet to running.
    pub start: Duration,
    /// `kubelet_pod_start_sli_duration_seconds`: creation to running, less the time from
    /// the first image pull's start to the last one's end; None for stateful pods (the SLI
    /// covers stateless pods) or without a creation time.
    pub sli: Option<Duration>,
}

/// One pod worker's tracker.
#[derive(Debug, Clone)]
pub struct StartupTracker {
    first_seen: SystemTime,
    phase: Phase,
    first_pull_started: Option<SystemTime>,
    last_pull_finished: Option<SystemTime>,
}

impl StartupTracker {
    pub fn new(first_seen: SystemTime) -> Self {
        StartupTracker {
            first_seen,
            phase: Phase::New,
            first_pull_started: None,
            last_pull_finished: None,
        }
    }

    pub fn pull_started(&mut self, at: SystemTime) {
        self.first_pull_started.get_or_insert(at);
    }

    pub fn pull_finished(&mut self, at: SystemTime) {
        self.last_pull_finished = Some(at);
    }

    /// After each look at the pod's containers; Some once, when the pod first runs.
    pub fn observe(
        &mut self,
        all_running: bool,
        created: Option<SystemTime>,
        stateless: bool,
        now: SystemTime,
    ) -> Option<Started> {
        match (self.phase, all_running) {
            (Phase::New, true) => {
                self.phase = Phase::Done;
                None
            }
            (Phase::New | Phase::Starting, false) => {
                self.phase = Phase::Starting;
                None
            }
            (Phase::Starting, true) => {
                self.phase = Phase::Done;
                let pulling = match (self.first_pull_started, self.last_pull_finished) {
                    (Some(a), Some(b)) => b.duration_since(a).unwrap_or_default(),
                    _ => Duration::ZERO,
                };
                let sli = created.filter(|_| stateless).map(|c| {
                    now.duration_since(c)
                        .unwrap_or_default()
                        .saturating_sub(pulling)
                });
                Some(Started {
                    start: now.duration_since(self.first_seen).unwrap_or_default(),
                    sli,
                })
            }
            (Phase::Done, _) => None,
        }
    }
}

/// Every app container of the pod's spec has a running instance (a pod without any does
/// not count as running).
pub fn all_running(pod: &Pod, state: &PodRuntimeState) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    !spec.containers.is_empty()
        && spec.containers.iter().all(|c| {
            state
                .latest(&c.name, ContainerKind::App)
                .is_some_and(|i| i.is_running())
        })
}

/// No persistentVolumeClaim volume: the pods the startup SLI is about.
pub fn stateless(pod: &Pod) -> bool {
    pod.spec.as_ref().is_none_or(|s| {
        s.volumes.iter().all(|v| {
            !matches!(
                v.volume_source,
                Some(VolumeSource::PersistentVolumeClaim(_))
            )
        })
    })
}

/// The pod's creation time.
pub fn created(pod: &Pod) -> Option<SystemTime> {
    pod.metadata
        .as_ref()
        .and_then(|m| proto::time::parse_rfc3339(&m.creation_timestamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn a_started_pod_is_measured_once_without_its_image_pulls() {
        let mut t = StartupTracker::new(at(102));
        assert_eq!(t.observe(false, Some(at(100)), true, at(102)), None);
        t.pull_started(at(103));
        t.pull_finished(at(110));
        t.pull_started(at(111)); // a second image: the first start stays
        t.pull_finished(at(115));
        let s = t.observe(true, Some(at(100)), true, at(120)).unwrap();
        assert_eq!(s.start, Duration::from_secs(18));
        // 20 s since creation, 12 s of them pulling.
        assert_eq!(s.sli, Some(Duration::from_secs(8)));
        assert_eq!(t.observe(true, Some(at(100)), true, at(130)), None);
        assert_eq!(t.observe(false, Some(at(100)), true, at(140)), None);
        assert_eq!(t.observe(true, Some(at(100)), true, at(150)), None);
    }

    #[test]
    fn pods_running_when_first_seen_and_stateful_pods_have_no_sli() {
        let mut adopted = StartupTracker::new(at(0));
        assert_eq!(adopted.observe(true, Some(at(0)), true, at(1)), None);
        assert_eq!(adopted.observe(true, Some(at(0)), true, at(2)), None);

        let mut stateful = StartupTracker::new(at(0));
        stateful.observe(false, Some(at(0)), false, at(1));
        let s = stateful.observe(true, Some(at(0)), false, at(4)).unwrap();
        assert_eq!((s.start, s.sli), (Duration::from_secs(4), None));
    }
}
