//! Job controller (Kubernetes' `pkg/controller/job`, batch/v1, NonIndexed completion mode):
//! runs pods from `spec.template` until `completions` of them succeeded, at most
//! `parallelism` at a time, and gives up after `backoffLimit` failures or
//! `activeDeadlineSeconds`.
//!
//! - `plan_job` is the pure decision (counts, conditions, how many pods to create or
//!   delete, when to look again); `sync` reads the caches, claims pods and carries it out.
//! - Pods are named `<job>-<5 characters>` (generateName), carry the template's labels (the
//!   apiserver's admission already put `batch.kubernetes.io/controller-uid`, `job-name` and
//!   the generated selector there) and a controller reference to the Job.
//! - Expectations (as the ReplicaSet's): after creating or deleting, the Job is not acted on
//!   again until the informer saw those pods, so a lagging cache never over-creates.
//! - Failed pods are replaced after Kubernetes' pod-failure back-off (10s doubling, at most
//!   6 minutes, counted from the last failure seen).
//! - `ttlSecondsAfterFinished` (Kubernetes' separate ttl-after-finished controller, done
//!   here): a finished Job is deleted with background propagation once the TTL has passed,
//!   and the garbage collector removes its pods.

use crate::context::Context;
use crate::error::Error;
use crate::pods::{controller_ref, deletion_order};
use client::leader::{Clock, SystemClock};
use client::runtime::{
    Action, Controller, Expectations, OnConflict, backoff, resolve_controller_ref,
    update_status_if_changed,
};
use client::store::{key_of, split_key};
use client::{DeleteParams, DeletePreconditions, InformerEvent, Store, WorkQueue};
use futures::future::BoxFuture;
use proto::k8s::{Job, JobCondition, JobStatus, Pod};
use proto::selector::LabelSelector;
use proto::time::{format_rfc3339, parse_rfc3339};
use proto::{Reason, Resource};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "job";
const SOURCE: &str = "job-controller";
/// Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);
pub const MAX_BACKOFF: Duration = Duration::from_secs(360);
/// Creates per sync (as the ReplicaSet's burst).
const BURST: usize = 500;

/// What tests may change.
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// First delay before a failed pod is replaced (doubles per further failure).
    pub backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(SystemClock),
            backoff: DEFAULT_BACKOFF,
        }
    }
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    let opts = Options {
        clock: ctx.clock.clone(),
        ..Options::default()
    };
    Box::pin(run(ctx, cancel, opts))
}

struct JobController {
    ctx: Arc<Context>,
    jobs: Store<Job>,
    pods: Store<Pod>,
    expectations: Expectations,
    queue: WorkQueue<String>,
    opts: Options,
    /// Per Job: (failed pods seen, when that number was first seen), for the back-off.
    failures: Mutex<HashMap<String, (i32, SystemTime)>>,
}

/// Runs the controller with these options (tests: a fake clock, a short back-off).
pub async fn run(ctx: Arc<Context>, cancel: CancellationToken, opts: Options) -> Result<(), Error> {
    let job_informer = ctx.informer::<Job>();
    let pod_informer = ctx.informer::<Pod>();
    let runtime =
        Controller::new(NAME, job_informer.clone()).workers(ctx.config.concurrent_workers);
    let c = Arc::new(JobController {
        ctx: ctx.clone(),
        jobs: job_informer.store(),
        pods: pod_informer.store(),
        expectations: Expectations::new(),
        queue: runtime.queue(),
        opts,
        failures: Mutex::new(HashMap::new()),
    });
    let (jc, pc) = (c.clone(), c.clone());
    runtime
        .watches_with(job_informer, move |ev, _| jc.on_job(ev))
        .watches_with(pod_informer, move |ev, _| pc.on_pod(ev.clone()))
        .run(
            |req, c| async move { c.sync(&req.key).await },
            backoff,
            c,
            cancel,
        )
        .await;
    Ok(())
}

impl JobController {
    /// A Job's own events enqueue it (the runtime does); a deleted one's records go.
    fn on_job(&self, ev: &InformerEvent<Job>) {
        if let InformerEvent::Deleted(job) = ev {
            let key = key_of(job.as_ref());
            self.expectations.delete(&key);
            self.failures_lock().remove(&key);
        }
    }

    fn failures_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i32, SystemTime)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Job key a pod's controller reference names, when that Job is cached (same uid).
    fn owner(&self, pod: &Pod) -> Option<String> {
        resolve_controller_ref(&self.jobs, pod.meta()).map(|job| key_of(job.as_ref()))
    }

    /// Jobs in the pod's namespace whose selector matches it (orphans to adopt).
    fn matching_jobs(&self, pod: &Pod) -> Vec<String> {
        self.jobs
            .by_namespace(&pod.meta().namespace)
            .into_iter()
            .filter(|j| {
                job_selector(j).is_some_and(|s| !s.is_empty() && s.matches(&pod.meta().labels))
            })
            .map(|j| key_of(j.as_ref()))
            .collect()
    }

    fn on_pod(&self, ev: InformerEvent<Pod>) {
        match &ev {
            InformerEvent::Added(pod) => {
                if let Some(key) = self.owner(pod) {
                    if pod.meta().deletion_timestamp.is_empty() {
                        self.expectations.creation_observed(&key);
                    } else {
                        self.expectations
                            .deletion_observed(&key, &key_of(pod.as_ref()));
                    }
                    self.queue.add(key);
                } else if controller_ref(pod.meta()).is_none() {
                    for key in self.matching_jobs(pod) {
                        self.queue.add(key);
                    }
                }
            }
            InformerEvent::Modified { old, new } => {
                if old.meta().resource_version == new.meta().resource_version {
                    return;
                }
                if let Some(key) = self.owner(new) {
                    if !new.meta().deletion_timestamp.is_empty() {
                        self.expectations
                            .deletion_observed(&key, &key_of(new.as_ref()));
                    }
                    self.queue.add(key);
                } else if controller_ref(new.meta()).is_none() {
                    for key in self.matching_jobs(new) {
                        self.queue.add(key);
                    }
                }
                if let Some(key) = self.owner(old) {
                    self.queue.add(key);
                }
            }
            InformerEvent::Deleted(pod) => {
                if let Some(key) = self.owner(pod) {
                    self.expectations
                        .deletion_observed(&key, &key_of(pod.as_ref()));
                    self.queue.add(key);
                }
            }
            InformerEvent::Sync(pod) => {
                if let Some(key) = self.owner(pod) {
                    self.queue.add(key);
                }
            }
        }
    }

    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(job) = self.jobs.get(key) else {
            self.expectations.delete(key);
            return Ok(Action::Done);
        };
        if !job.meta().deletion_timestamp.is_empty() {
            return Ok(Action::Done);
        }
        let now = self.opts.clock.now();
        if is_finished(&job) {
            return self.sync_finished(key, &job, now).await;
        }
        let Some(selector) = job_selector(&job) else {
            tracing::warn!("job without a valid selector; not syncing");
            return Ok(Action::Done);
        };
        let satisfied = self.expectations.satisfied(key);
        let (namespace, _) = split_key(key);
        let pods = self.pods.by_namespace(namespace);
        let owned = self.claim(&job, &selector, pods).await?;
        let failed_now = owned.iter().filter(|p| phase(p) == "Failed").count();
        let last_failure = self.note_failures(key, &job, failed_now, now);
        let plan = plan_job(
            &job,
            &owned,
            PlanInput {
                now,
                last_failure,
                backoff: self.opts.backoff,
            },
        );
        let mut err = None;
        if satisfied {
            if !plan.delete.is_empty()
                && let Err(e) = self.delete_pods(key, &job, &plan.delete).await
            {
                err = Some(e);
            }
            if plan.create > 0
                && let Err(e) = self.create_pods(key, &job, plan.create).await
            {
                err = Some(e);
            }
        } else {
            let (adds, dels) = self.expectations.pending(key);
            tracing::debug!(adds, dels, "waiting for the cache to catch up");
        }
        if let Some(ev) = &plan.event {
            self.ctx.events.event(
                SOURCE,
                job.as_ref(),
                ev.warning,
                ev.reason,
                ev.message.clone(),
            );
        }
        self.update_status(&job, plan.status.clone()).await?;
        if let Some(e) = err {
            return Err(e);
        }
        Ok(match plan.requeue {
            Some(d) => Action::RequeueAfter(d),
            // A finished Job with a TTL is looked at again for its deletion.
            None if plan.finished => Action::RequeueAfter(Duration::from_millis(10)),
            None => Action::Done,
        })
    }

    /// Remembers when the number of failed pods last grew (the back-off's start).
    fn note_failures(
        &self,
        key: &str,
        job: &Job,
        failed_pods: usize,
        now: SystemTime,
    ) -> Option<SystemTime> {
        let failed = i32::try_from(failed_pods)
            .unwrap_or(i32::MAX)
            .max(job.status.as_ref().map_or(0, |s| s.failed));
        if failed == 0 {
            return None;
        }
        let mut map = self.failures_lock();
        let entry = map.entry(key.to_string()).or_insert((failed, now));
        if entry.0 != failed {
            *entry = (failed, now);
        }
        Some(entry.1)
    }

    /// A finished Job: its active pods go, and after `ttlSecondsAfterFinished` the Job.
    async fn sync_finished(&self, key: &str, job: &Job, now: SystemTime) -> Result<Action, Error> {
        let active: Vec<Arc<Pod>> = self
            .pods
            .by_owner(&job.meta().uid)
            .into_iter()
            .filter(|p| crate::pods::is_active(p))
            .collect();
        if !active.is_empty() && self.expectations.satisfied(key) {
            self.delete_pods(key, job, &active).await?;
        }
        match ttl_expiry(job, now) {
            None => Ok(Action::Done),
            Some(d) if !d.is_zero() => Ok(Action::RequeueAfter(d)),
            Some(_) => {
                tracing::info!("ttlSecondsAfterFinished passed: deleting the job");
                let api = self.ctx.api_in::<Job>(&job.meta().namespace);
                let params = DeleteParams {
                    propagation_policy: "Background".into(),
                    preconditions: Some(DeletePreconditions {
                        uid: job.meta().uid.clone(),
                        resource_version: String::new(),
                    }),
                    ..Default::default()
                };
                match api.delete(&job.meta().name, &params).await {
                    Ok(_) => Ok(Action::Done),
                    Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => Ok(Action::Done),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Kubernetes' ClaimPods, over all pods (finished ones count too): adopts matching
    /// orphans, releases owned pods that stopped matching.
    async fn claim(
        &self,
        job: &Job,
        selector: &LabelSelector,
        pods: Vec<Arc<Pod>>,
    ) -> Result<Vec<Arc<Pod>>, Error> {
        let ns = &job.meta().namespace;
        let claimer = crate::pods::Claimer {
            owner: job,
            owners: &self.ctx.api_in::<Job>(ns),
            api_version: "batch/v1",
            kind: "Job",
            may_adopt: &|_| true,
        };
        let api = self.ctx.api_in::<Pod>(ns);
        Ok(crate::pods::claim_pods(&claimer, &api, selector, pods).await?)
    }

    async fn create_pods(&self, key: &str, job: &Job, n: usize) -> Result<(), Error> {
        let n = n.min(BURST);
        let api = self.ctx.api_in::<Pod>(&job.meta().namespace);
        let pod = pod_from_template(job);
        self.expectations.expect_creations(key, n);
        tracing::info!(creating = n, "creating job pods");
        let (created, err) = super::replicaset::slow_start_batch(n, 1, || {
            let api = api.clone();
            let pod = pod.clone();
            async move {
                match api.create(&pod).await {
                    Ok(p) => {
                        let msg = format!("Created pod: {}", p.meta().name);
                        self.ctx
                            .events
                            .event(SOURCE, job, false, "SuccessfulCreate", msg);
                        Ok(())
                    }
                    Err(e) => {
                        let msg = format!("Error creating: {e}");
                        self.ctx
                            .events
                            .event(SOURCE, job, true, "FailedCreate", msg);
                        Err(e)
                    }
                }
            }
        })
        .await;
        for _ in created..n {
            self.expectations.creation_observed(key);
        }
        match err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn delete_pods(&self, key: &str, job: &Job, victims: &[Arc<Pod>]) -> Result<(), Error> {
        let api = self.ctx.api_in::<Pod>(&job.meta().namespace);
        let results = crate::pods::delete_expected(&api, &self.expectations, key, victims).await;
        let mut first_err = None;
        for (p, r) in results {
            match r {
                Ok(_) => {
                    let msg = format!("Deleted pod: {}", p.meta().name);
                    self.ctx
                        .events
                        .event(SOURCE, job, false, "SuccessfulDelete", msg);
                }
                Err(e) => {
                    if !e.is(Reason::NotFound) {
                        let msg = format!("Error deleting: {e}");
                        self.ctx
                            .events
                            .event(SOURCE, job, true, "FailedDelete", msg);
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn update_status(&self, job: &Job, status: JobStatus) -> Result<(), Error> {
        let api = self.ctx.api_in::<Job>(&job.meta().namespace);
        update_status_if_changed(&api, job, status, OnConflict::Fail).await?;
        Ok(())
    }
}

fn job_selector(job: &Job) -> Option<LabelSelector> {
    job.spec
        .as_ref()?
        .selector
        .as_ref()
        .and_then(|s| LabelSelector::from_proto(s).ok())
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().map_or("", |s| s.phase.as_str())
}

fn condition<'a>(status: &'a JobStatus, t: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .iter()
        .find(|c| c.r#type == t && c.status == "True")
}

/// Complete or Failed (a terminal condition is True).
pub fn is_finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .is_some_and(|s| condition(s, "Complete").is_some() || condition(s, "Failed").is_some())
}

/// Pure: for a finished Job with `ttlSecondsAfterFinished`, how long until it is deleted
/// (zero: now). None without a TTL or not finished.
pub fn ttl_expiry(job: &Job, now: SystemTime) -> Option<Duration> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let status = job.status.as_ref()?;
    let finished = condition(status, "Complete").or_else(|| condition(status, "Failed"))?;
    let at = parse_rfc3339(&status.completion_time)
        .or_else(|| parse_rfc3339(&finished.last_transition_time))
        .unwrap_or(now);
    let expiry = at + Duration::from_secs(u64::try_from(ttl.max(0)).unwrap_or(0));
    Some(expiry.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The pod a Job creates: its template, `generateName: <job>-`, controlled by the Job.
pub fn pod_from_template(job: &Job) -> Pod {
    let template = job.spec.as_ref().and_then(|s| s.template.as_ref());
    crate::pods::pod_from_template(template, job.meta(), "batch/v1", "Job")
}

/// What `plan_job` needs besides the Job and its pods.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput {
    pub now: SystemTime,
    /// When the number of failed pods last grew (start of the replacement back-off).
    pub last_failure: Option<SystemTime>,
    /// First back-off delay.
    pub backoff: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// The decision for one sync.
#[derive(Debug, Clone)]
pub struct JobPlan {
    /// Pods to create.
    pub create: usize,
    /// Active pods to delete (finished, suspended, or more than parallelism).
    pub delete: Vec<Arc<Pod>>,
    pub status: JobStatus,
    /// The Job became finished in this sync.
    pub finished: bool,
    pub event: Option<JobEvent>,
    /// Look again then (deadline, back-off).
    pub requeue: Option<Duration>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn secs(s: i32) -> Duration {
    Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0))
}

/// Sets condition `t` to `status` (adding it or changing it; the transition time changes
/// only with the status).
fn set_condition(
    conditions: &mut Vec<JobCondition>,
    t: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    if let Some(c) = conditions.iter_mut().find(|c| c.r#type == t) {
        if c.status != status {
            c.last_transition_time = now.to_string();
        }
        c.status = status.to_string();
        c.reason = reason.to_string();
        c.message = message.to_string();
        c.last_probe_time = now.to_string();
    } else {
        conditions.push(JobCondition {
            r#type: t.to_string(),
            status: status.to_string(),
            last_probe_time: now.to_string(),
            last_transition_time: now.to_string(),
            reason: reason.to_string(),
            message: message.to_string(),
        });
    }
}

/// Pure: Kubernetes' pod-failure back-off: `base * 2^(failures-1)`, at most 6 minutes,
/// from the last failure. None when no failure or the delay has passed.
pub fn backoff_remaining(
    failures: i32,
    last_failure: Option<SystemTime>,
    now: SystemTime,
    base: Duration,
) -> Option<Duration> {
    if failures <= 0 {
        return None;
    }
    let last = last_failure?;
    let exp = u32::try_from((failures - 1).min(16)).unwrap_or(0);
    let delay = base.saturating_mul(1 << exp).min(MAX_BACKOFF);
    (last + delay)
        .duration_since(now)
        .ok()
        .filter(|d| !d.is_zero())
}

/// Pure: Kubernetes' syncJob for a NonIndexed Job that is not finished yet: the counts,
/// the conditions, and what to create or delete.
pub fn plan_job(job: &Job, pods: &[Arc<Pod>], input: PlanInput) -> JobPlan {
    let now = input.now;
    let now_s = format_rfc3339(now);
    let spec = job.spec.clone().unwrap_or_default();
    let old = job.status.clone().unwrap_or_default();
    let mut status = old.clone();
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let completions = spec.completions;
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let suspended = spec.suspend == Some(true);
    let on_failure = spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .is_some_and(|s| s.restart_policy == "OnFailure");

    let mut active: Vec<Arc<Pod>> = pods
        .iter()
        .filter(|p| crate::pods::is_active(p))
        .cloned()
        .collect();
    let terminating = pods
        .iter()
        .filter(|p| !p.meta().deletion_timestamp.is_empty() && phase(p) != "Succeeded")
        .filter(|p| phase(p) != "Failed")
        .count();
    // Counted from the pods still there, never below what was counted before (a finished
    // pod removed by someone does not undo its count).
    let succeeded =
        count(pods.iter().filter(|p| phase(p) == "Succeeded").count()).max(old.succeeded);
    let failed = count(pods.iter().filter(|p| phase(p) == "Failed").count()).max(old.failed);
    let restarts: i32 = active
        .iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .chain(&s.container_statuses)
        })
        .map(|c| c.restart_count)
        .sum();

    let mut event = None;
    let mut requeue: Option<Duration> = None;
    let mut finished: Option<(&str, &str, String)> = None;

    // Suspension toggles the Suspended condition; resuming restarts the deadline clock.
    let was_suspended = condition(&old, "Suspended").is_some();
    if suspended && !was_suspended {
        set_condition(
            &mut status.conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            &now_s,
        );
        event = Some(JobEvent {
            warning: false,
            reason: "Suspended",
            message: "Job suspended".into(),
        });
    } else if !suspended && was_suspended {
        set_condition(
            &mut status.conditions,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            &now_s,
        );
        status.start_time = now_s.clone();
        event = Some(JobEvent {
            warning: false,
            reason: "Resumed",
            message: "Job resumed".into(),
        });
    }
    if !suspended && status.start_time.is_empty() {
        status.start_time = now_s.clone();
    }

    // Failure: backoff limit, then the deadline.
    let exceeds_backoff = failed > backoff_limit
        || (on_failure
            && if backoff_limit == 0 {
                restarts > 0
            } else {
                restarts >= backoff_limit
            });
    if exceeds_backoff {
        finished = Some((
            "Failed",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".into(),
        ));
    } else if !suspended
        && let Some(ads) = spec.active_deadline_seconds
        && let Some(start) = parse_rfc3339(&status.start_time)
    {
        let deadline = start + secs(ads);
        match deadline.duration_since(now) {
            Ok(left) if !left.is_zero() => requeue = Some(left),
            _ => {
                finished = Some((
                    "Failed",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline".into(),
                ));
            }
        }
    }
    // Success.
    if finished.is_none() {
        let complete = match completions {
            Some(c) => succeeded >= c,
            // Work-queue Jobs: done once one pod succeeded and none is left running.
            None => succeeded > 0 && active.is_empty(),
        };
        if complete {
            finished = Some(("Complete", "", String::new()));
        }
    }

    let mut create = 0;
    let mut delete = Vec::new();
    if let Some((t, reason, message)) = &finished {
        // Whatever still runs is stopped.
        delete = active.clone();
        set_condition(&mut status.conditions, t, "True", reason, message, &now_s);
        if *t == "Complete" {
            status.completion_time = now_s.clone();
            event = Some(JobEvent {
                warning: false,
                reason: "Completed",
                message: "Job completed".into(),
            });
        } else {
            event = Some(JobEvent {
                warning: true,
                reason,
                message: message.clone(),
            });
        }
        requeue = None;
    } else {
        let want = if suspended {
            0
        } else {
            match completions {
                Some(c) => parallelism.min((c - succeeded).max(0)),
                // Once one succeeded, no new pods: the others finish on their own.
                None if succeeded > 0 => count(active.len()),
                None => parallelism,
            }
        };
        let want = usize::try_from(want).unwrap_or(0);
        if active.len() > want {
            active.sort_by(|a, b| deletion_order(a, b));
            delete = active[..active.len() - want].to_vec();
        } else if active.len() < want {
            match backoff_remaining(failed, input.last_failure, now, input.backoff) {
                Some(wait) => requeue = Some(requeue.map_or(wait, |r| r.min(wait))),
                None => create = want - active.len(),
            }
        }
    }
    status.active = count(active.len());
    status.ready = Some(count(
        active.iter().filter(|p| crate::pods::is_ready(p)).count(),
    ));
    status.succeeded = succeeded;
    status.failed = failed;
    status.terminating = Some(count(terminating));
    JobPlan {
        create,
        delete,
        status,
        finished: finished.is_some(),
        event,
        requeue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{ContainerStatus, JobSpec, ObjectMeta, PodSpec, PodStatus, PodTemplateSpec};

    fn job(completions: Option<i32>, parallelism: i32, backoff: i32) -> Job {
        let mut j = Job {
            spec: Some(JobSpec {
                completions,
                parallelism: Some(parallelism),
                backoff_limit: Some(backoff),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: [("job-name".to_string(), "pi".to_string())].into(),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        restart_policy: "Never".into(),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        j.meta_mut().name = "pi".into();
        j.meta_mut().namespace = "ns".into();
        j.meta_mut().uid = "u1".into();
        j
    }

    fn pod(name: &str, phase: &str) -> Arc<Pod> {
        let mut p = Pod {
            status: Some(PodStatus {
                phase: phase.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.meta_mut().name = name.into();
        Arc::new(p)
    }

    fn pods(active: usize, succeeded: usize, failed: usize) -> Vec<Arc<Pod>> {
        let mut v = Vec::new();
        for i in 0..active {
            v.push(pod(&format!("a{i}"), "Running"));
        }
        for i in 0..succeeded {
            v.push(pod(&format!("s{i}"), "Succeeded"));
        }
        for i in 0..failed {
            v.push(pod(&format!("f{i}"), "Failed"));
        }
        v
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    fn input(now: u64) -> PlanInput {
        PlanInput {
            now: t(now),
            last_failure: None,
            backoff: Duration::ZERO,
        }
    }

    fn cond(s: &JobStatus, ty: &str) -> Option<String> {
        condition(s, ty).map(|c| c.reason.clone())
    }

    /// (completions, parallelism, backoffLimit, active, succeeded, failed, create, delete,
    /// finished condition)
    type Case = (
        Option<i32>,
        i32,
        i32,
        usize,
        usize,
        usize,
        usize,
        usize,
        Option<&'static str>,
    );

    #[test]
    fn creates_deletes_and_finishes_by_completions_and_parallelism() {
        // (completions, parallelism, backoffLimit, active, succeeded, failed) ->
        // (create, delete, finished condition)
        let cases: Vec<Case> = vec![
            (Some(3), 2, 6, 0, 0, 0, 2, 0, None),
            (Some(3), 2, 6, 2, 0, 0, 0, 0, None),
            (Some(3), 2, 6, 1, 2, 0, 0, 0, None),
            (Some(3), 2, 6, 0, 2, 0, 1, 0, None),
            (Some(3), 2, 6, 1, 3, 0, 0, 1, Some("Complete")),
            (Some(3), 5, 6, 0, 0, 0, 3, 0, None),
            (Some(1), 1, 6, 0, 0, 1, 1, 0, None),
            (Some(1), 1, 1, 0, 0, 2, 0, 0, Some("Failed")),
            (Some(1), 1, 0, 1, 0, 1, 0, 1, Some("Failed")),
            (Some(4), 1, 6, 3, 0, 0, 0, 2, None),
            // Work queue (no completions).
            (None, 3, 6, 0, 0, 0, 3, 0, None),
            (None, 3, 6, 2, 1, 0, 0, 0, None),
            (None, 3, 6, 0, 1, 0, 0, 0, Some("Complete")),
        ];
        for (i, (c, p, b, a, s, f, want_create, want_delete, want_finish)) in
            cases.into_iter().enumerate()
        {
            let j = job(c, p, b);
            let plan = plan_job(&j, &pods(a, s, f), input(0));
            assert_eq!(plan.create, want_create, "case {i}: create");
            assert_eq!(plan.delete.len(), want_delete, "case {i}: delete");
            let finished = if cond(&plan.status, "Complete").is_some() {
                Some("Complete")
            } else if cond(&plan.status, "Failed").is_some() {
                Some("Failed")
            } else {
                None
            };
            assert_eq!(finished, want_finish, "case {i}: finished");
            assert_eq!(plan.status.succeeded, count(s), "case {i}");
            assert_eq!(plan.status.failed, count(f), "case {i}");
            assert_eq!(plan.status.active, count(a), "case {i}");
        }
    }

    #[test]
    fn completion_sets_time_condition_and_event() {
        let plan = plan_job(&job(Some(1), 1, 6), &pods(0, 1, 0), input(5));
        assert_eq!(plan.status.completion_time, format_rfc3339(t(5)));
        assert_eq!(plan.status.start_time, format_rfc3339(t(5)));
        let c = condition(&plan.status, "Complete").unwrap();
        assert_eq!(c.status, "True");
        assert_eq!(plan.event.unwrap().reason, "Completed");
    }

    #[test]
    fn backoff_limit_exceeded_deletes_active_pods() {
        let plan = plan_job(&job(Some(5), 2, 1), &pods(1, 0, 2), input(0));
        assert_eq!(
            cond(&plan.status, "Failed").as_deref(),
            Some("BackoffLimitExceeded")
        );
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(plan.create, 0);
        assert!(
            plan.status.completion_time.is_empty(),
            "only Complete sets it"
        );
        let ev = plan.event.unwrap();
        assert!(ev.warning);
        assert_eq!(ev.reason, "BackoffLimitExceeded");
    }

    #[test]
    fn on_failure_restarts_count_against_the_backoff_limit() {
        let mut j = job(Some(1), 1, 2);
        j.spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .restart_policy = "OnFailure".into();
        let mut p = (*pod("a", "Running")).clone();
        p.status.as_mut().unwrap().container_statuses = vec![ContainerStatus {
            restart_count: 1,
            ..Default::default()
        }];
        let plan = plan_job(&j, &[Arc::new(p.clone())], input(0));
        assert!(cond(&plan.status, "Failed").is_none());
        p.status.as_mut().unwrap().container_statuses[0].restart_count = 2;
        let plan = plan_job(&j, &[Arc::new(p)], input(0));
        assert_eq!(
            cond(&plan.status, "Failed").as_deref(),
            Some("BackoffLimitExceeded")
        );
    }

    #[test]
    fn active_deadline_fails_the_job_and_requeues_before() {
        let mut j = job(Some(1), 1, 6);
        j.spec.as_mut().unwrap().active_deadline_seconds = Some(10);
        j.status = Some(JobStatus {
            start_time: format_rfc3339(t(0)),
            ..Default::default()
        });
        let plan = plan_job(&j, &pods(1, 0, 0), input(4));
        assert_eq!(plan.requeue, Some(Duration::from_secs(6)));
        assert!(!plan.finished);
        let plan = plan_job(&j, &pods(1, 0, 0), input(10));
        assert_eq!(
            cond(&plan.status, "Failed").as_deref(),
            Some("DeadlineExceeded")
        );
        assert_eq!(plan.delete.len(), 1);
    }

    #[test]
    fn suspend_deletes_active_pods_and_resume_restarts_the_clock() {
        let mut j = job(Some(3), 2, 6);
        j.spec.as_mut().unwrap().suspend = Some(true);
        j.status = Some(JobStatus {
            start_time: format_rfc3339(t(0)),
            ..Default::default()
        });
        let plan = plan_job(&j, &pods(2, 0, 0), input(3));
        assert_eq!((plan.create, plan.delete.len()), (0, 2));
        assert_eq!(
            cond(&plan.status, "Suspended").as_deref(),
            Some("JobSuspended")
        );
        j.status = Some(plan.status);
        j.spec.as_mut().unwrap().suspend = Some(false);
        let plan = plan_job(&j, &pods(0, 0, 0), input(9));
        assert_eq!(plan.create, 2);
        let c = plan
            .status
            .conditions
            .iter()
            .find(|c| c.r#type == "Suspended")
            .unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "JobResumed")
        );
        assert_eq!(plan.status.start_time, format_rfc3339(t(9)));
    }

    #[test]
    fn failed_pods_are_replaced_after_the_backoff() {
        let j = job(Some(1), 1, 6);
        let mut inp = input(5);
        inp.backoff = Duration::from_secs(10);
        inp.last_failure = Some(t(0));
        let plan = plan_job(&j, &pods(0, 0, 1), inp);
        assert_eq!(plan.create, 0);
        assert_eq!(plan.requeue, Some(Duration::from_secs(5)));
        inp.now = t(10);
        assert_eq!(plan_job(&j, &pods(0, 0, 1), inp).create, 1);
        // Two failures: 20s.
        assert_eq!(
            backoff_remaining(2, Some(t(0)), t(10), Duration::from_secs(10)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            backoff_remaining(30, Some(t(0)), t(0), Duration::from_secs(10)),
            Some(MAX_BACKOFF)
        );
    }

    #[test]
    fn counts_never_go_down_when_finished_pods_vanish() {
        let mut j = job(Some(5), 1, 6);
        j.status = Some(JobStatus {
            succeeded: 2,
            failed: 1,
            ..Default::default()
        });
        let plan = plan_job(&j, &pods(0, 0, 0), input(0));
        assert_eq!((plan.status.succeeded, plan.status.failed), (2, 1));
    }

    #[test]
    fn ttl_after_finished() {
        let mut j = job(Some(1), 1, 6);
        j.spec.as_mut().unwrap().ttl_seconds_after_finished = Some(30);
        assert_eq!(ttl_expiry(&j, t(0)), None, "not finished");
        let plan = plan_job(&j, &pods(0, 1, 0), input(100));
        j.status = Some(plan.status);
        assert_eq!(ttl_expiry(&j, t(110)), Some(Duration::from_secs(20)));
        assert_eq!(ttl_expiry(&j, t(200)), Some(Duration::ZERO));
        j.spec.as_mut().unwrap().ttl_seconds_after_finished = None;
        assert_eq!(ttl_expiry(&j, t(200)), None);
    }

    #[test]
    fn pods_carry_the_template_and_a_controller_reference() {
        let p = pod_from_template(&job(Some(1), 1, 6));
        assert_eq!(p.meta().generate_name, "pi-");
        assert_eq!(p.meta().labels["job-name"], "pi");
        let r = controller_ref(p.meta()).unwrap();
        assert_eq!(
            (r.kind.as_str(), r.api_version.as_str(), r.uid.as_str()),
            ("Job", "batch/v1", "u1")
        );
    }
}
