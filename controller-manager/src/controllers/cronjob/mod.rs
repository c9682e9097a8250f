//! CronJob controller (Kubernetes' `cronjob_controllerv2.go`, batch/v1): creates a Job from
//! `spec.jobTemplate` at each time of `spec.schedule` (UTC), named
//! `<cronjob>-<scheduled time in minutes since the epoch>`.
//!
//! - `plan_cronjob` is the pure decision: which Jobs left the active list, the most recent
//!   missed schedule time (only that one runs, as in Kubernetes), `startingDeadlineSeconds`,
//!   `concurrencyPolicy` (Allow / Forbid / Replace), `suspend`, history cleanup
//!   (`successfulJobsHistoryLimit` / `failedJobsHistoryLimit`), the status, and when to look
//!   again (the next schedule time: no polling).
//! - A Job in `status.active` that the cache does not hold is looked up live before it is
//!   dropped from the list (a Job created a moment ago may not be cached yet).
//! - Time comes from the context's `client::Clock` (`run` takes another one in tests).
//! - `spec.timeZone` other than UTC is not supported: a Warning event `UnknownTimeZone` and no
//!   Job.

use crate::context::Context;
use crate::error::Error;
use crate::pods::{controller_ref, new_controller_ref};
use client::runtime::{Action, Controller, OnConflict, backoff, update_status_if_changed};
use client::{Clock, DeleteParams, Store};
use futures::future::BoxFuture;
use proto::k8s::{CronJob, CronJobStatus, Job, ObjectReference};
use proto::time::{format_rfc3339, parse_rfc3339};
use proto::{Reason, Resource};
// The parser the apiserver validates with, so an admitted schedule is one that runs.
pub use proto::cron::Schedule;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "cronjob";
const SOURCE: &str = "cronjob-controller";
/// Kubernetes' annotation with the time a Job was scheduled for.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// More missed start times than this get a Warning (as Kubernetes).
const TOO_MANY_MISSED: usize = 100;

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    let clock = ctx.clock.clone();
    Box::pin(run(ctx, cancel, clock))
}

struct CronJobController {
    ctx: Arc<Context>,
    cronjobs: Store<CronJob>,
    jobs: Store<Job>,
    clock: Arc<dyn Clock>,
}

/// Runs the controller with this clock (tests).
pub async fn run(
    ctx: Arc<Context>,
    cancel: CancellationToken,
    clock: Arc<dyn Clock>,
) -> Result<(), Error> {
    let cj_informer = ctx.informer::<CronJob>();
    let job_informer = ctx.informer::<Job>();
    let c = Arc::new(CronJobController {
        ctx: ctx.clone(),
        cronjobs: cj_informer.store(),
        jobs: job_informer.store(),
        clock,
    });
    Controller::new(NAME, cj_informer)
        .owns(job_informer)
        .workers(ctx.config.concurrent_workers)
        .run(
            |req, c| async move { c.sync(&req.key).await },
            backoff,
            c,
            cancel,
        )
        .await;
    Ok(())
}

impl CronJobController {
    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(cj) = self.cronjobs.get(key) else {
            return Ok(Action::Done);
        };
        let ns = cj.meta().namespace.clone();
        let job_api = self.ctx.api_in::<Job>(&ns);
        let mut jobs: Vec<Arc<Job>> = self.jobs.by_owner(&cj.meta().uid);
        // Active Jobs the cache does not hold yet: ask the API before dropping them.
        let cached: HashSet<String> = jobs.iter().map(|j| j.meta().uid.clone()).collect();
        for r in cj.status.iter().flat_map(|s| &s.active) {
            if !cached.contains(&r.uid)
                && let Some(j) = job_api.get_opt(&r.name).await?
                && j.meta().uid == r.uid
            {
                jobs.push(Arc::new(j));
            }
        }
        let now = self.clock.now();
        let plan = plan_cronjob(&cj, &jobs, now);
        for ev in &plan.events {
            self.ctx
                .events
                .event(SOURCE, cj.as_ref(), ev.0, ev.1, ev.2.clone());
        }
        let mut status = plan.status.clone();
        for j in plan.delete_active.iter().chain(&plan.cleanup) {
            match job_api
                .delete(&j.meta().name, &DeleteParams::background())
                .await
            {
                Ok(_) => self.ctx.events.event(
                    SOURCE,
                    cj.as_ref(),
                    false,
                    "SuccessfulDelete",
                    format!("Deleted job {}", j.meta().name),
                ),
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(at) = plan.create {
            let job = job_from_template(&cj, at);
            let created = match job_api.create(&job).await {
                Ok(j) => {
                    self.ctx.events.event(
                        SOURCE,
                        cj.as_ref(),
                        false,
                        "SuccessfulCreate",
                        format!("Created job {}", j.meta().name),
                    );
                    Some(j)
                }
                // Already made (a retry, or our cache lags): take it if it is ours.
                Err(e) if e.is(Reason::AlreadyExists) => {
                    let existing = job_api.get_opt(&job.meta().name).await?;
                    existing.filter(|j| {
                        controller_ref(j.meta()).is_some_and(|r| r.uid == cj.meta().uid)
                    })
                }
                Err(e) => {
                    self.ctx.events.event(
                        SOURCE,
                        cj.as_ref(),
                        true,
                        "FailedCreate",
                        format!("Error creating job: {e}"),
                    );
                    return Err(e.into());
                }
            };
            if let Some(j) = created
                && !status.active.iter().any(|r| r.uid == j.meta().uid)
            {
                status.active.push(job_ref(&j));
            }
        }
        self.update_status(&cj, status).await?;
        Ok(match plan.requeue {
            // A little after the minute, so the schedule time has surely passed.
            Some(d) => Action::RequeueAfter(d + Duration::from_millis(100)),
            None => Action::Done,
        })
    }

    async fn update_status(&self, cj: &CronJob, status: CronJobStatus) -> Result<(), Error> {
        let api = self.ctx.api_in::<CronJob>(&cj.meta().namespace);
        update_status_if_changed(&api, cj, status, OnConflict::Fail).await?;
        Ok(())
    }
}

fn job_ref(j: &Job) -> ObjectReference {
    ObjectReference {
        kind: "Job".into(),
        namespace: j.meta().namespace.clone(),
        name: j.meta().name.clone(),
        uid: j.meta().uid.clone(),
        api_version: "batch/v1".into(),
        resource_version: j.meta().resource_version.clone(),
        ..Default::default()
    }
}

/// The name of the Job for a schedule time (Kubernetes' getJobName: minutes since epoch).
pub fn job_name(cj: &CronJob, at: SystemTime) -> String {
    let minutes = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60);
    format!("{}-{minutes}", cj.meta().name)
}

/// Kubernetes' getJobFromTemplate2: the template's metadata and spec, the scheduled-time
/// annotation, a controller reference to the CronJob. The apiserver defaults the spec.
pub fn job_from_template(cj: &CronJob, at: SystemTime) -> Job {
    let template = cj
        .spec
        .as_ref()
        .and_then(|s| s.job_template.clone())
        .unwrap_or_default();
    let tm = template.metadata.unwrap_or_default();
    let mut job = Job {
        spec: template.spec,
        ..Default::default()
    };
    let m = job.meta_mut();
    m.name = job_name(cj, at);
    m.namespace = cj.meta().namespace.clone();
    m.labels = tm.labels;
    m.annotations = tm.annotations;
    m.annotations
        .insert(SCHEDULED_TIMESTAMP.into(), format_rfc3339(at));
    m.owner_references = vec![new_controller_ref("batch/v1", "CronJob", cj.meta())];
    job
}

/// "Complete" or "Failed" when the Job finished.
fn finished(job: &Job) -> Option<&'static str> {
    let s = job.status.as_ref()?;
    ["Complete", "Failed"].into_iter().find(|t| {
        s.conditions
            .iter()
            .any(|c| c.r#type == *t && c.status == "True")
    })
}

/// The decision of one sync.
#[derive(Debug, Clone, Default)]
pub struct CronPlan {
    /// The status to write (the created Job's reference is added after its create).
    pub status: CronJobStatus,
    /// Create the Job for this schedule time.
    pub create: Option<SystemTime>,
    /// Active Jobs to delete first (concurrencyPolicy Replace).
    pub delete_active: Vec<Arc<Job>>,
    /// Finished Jobs beyond the history limits.
    pub cleanup: Vec<Arc<Job>>,
    /// (warning, reason, message)
    pub events: Vec<(bool, &'static str, String)>,
    /// Look again after this long (the next schedule time).
    pub requeue: Option<Duration>,
}

/// Pure: Kubernetes' syncCronJob plus cleanupFinishedJobs, for the Jobs this CronJob
/// controls, at `now`.
pub fn plan_cronjob(cj: &CronJob, jobs: &[Arc<Job>], now: SystemTime) -> CronPlan {
    let spec = cj.spec.clone().unwrap_or_default();
    let mut plan = CronPlan {
        status: cj.status.clone().unwrap_or_default(),
        ..Default::default()
    };
    let status = &mut plan.status;

    // The active list follows the Jobs: finished ones leave it, unfinished ones not in it
    // join it, vanished ones leave it.
    let mut active = Vec::new();
    for j in jobs {
        match finished(j) {
            Some(cond) => {
                if status.active.iter().any(|r| r.uid == j.meta().uid) {
                    plan.events.push((
                        false,
                        "SawCompletedJob",
                        format!("Saw completed job: {}, condition: {cond}", j.meta().name),
                    ));
                }
                if cond == "Complete" {
                    let done = j.status.as_ref().map(|s| s.completion_time.as_str());
                    if let Some(t) = done.and_then(parse_rfc3339)
                        && parse_rfc3339(&status.last_successful_time).is_none_or(|l| l < t)
                    {
                        status.last_successful_time = format_rfc3339(t);
                    }
                }
            }
            None => {
                let r = status
                    .active
                    .iter()
                    .find(|r| r.uid == j.meta().uid)
                    .cloned()
                    .unwrap_or_else(|| job_ref(j));
                active.push(r);
            }
        }
    }
    active.sort_by(|a, b| a.name.cmp(&b.name));
    status.active = active;

    if !cj.meta().deletion_timestamp.is_empty() {
        return plan;
    }
    plan.cleanup = history_cleanup(
        jobs,
        spec.successful_jobs_history_limit,
        spec.failed_jobs_history_limit,
    );
    if spec.suspend == Some(true) {
        return plan;
    }
    if let Some(tz) = spec.time_zone.as_deref()
        && !matches!(tz, "" | "UTC" | "Etc/UTC")
    {
        plan.events.push((
            true,
            "UnknownTimeZone",
            format!("invalid timeZone: {tz:?}: only UTC is supported"),
        ));
        return plan;
    }
    let sched = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            plan.events.push((
                true,
                "UnparseableSchedule",
                format!("unparseable schedule: {:?} : {e}", spec.schedule),
            ));
            return plan;
        }
    };
    plan.requeue = sched
        .next(now)
        .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO));

    // Kubernetes' mostRecentScheduleTime: from the last schedule (or creation), not earlier
    // than startingDeadlineSeconds ago.
    let created = parse_rfc3339(&cj.meta().creation_timestamp).unwrap_or(now);
    let mut earliest = parse_rfc3339(&status.last_schedule_time).unwrap_or(created);
    if let Some(sds) = spec.starting_deadline_seconds {
        let limit = now
            .checked_sub(Duration::from_secs(u64::try_from(sds.max(0)).unwrap_or(0)))
            .unwrap_or(UNIX_EPOCH);
        earliest = earliest.max(limit);
    }
    let mut most_recent = None;
    let mut missed = 0usize;
    let mut t = earliest;
    while let Some(n) = sched.next(t) {
        if n > now || missed > 1_000_000 {
            break;
        }
        most_recent = Some(n);
        missed += 1;
        t = n;
    }
    let Some(scheduled) = most_recent else {
        return plan;
    };
    if missed > TOO_MANY_MISSED {
        plan.events.push((
            true,
            "TooManyMissedTimes",
            format!(
                "too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
            ),
        ));
    }
    if let Some(sds) = spec.starting_deadline_seconds
        && scheduled + Duration::from_secs(u64::try_from(sds.max(0)).unwrap_or(0)) < now
    {
        plan.events.push((
            true,
            "MissedSchedule",
            format!(
                "Missed scheduled time to start a job: {}",
                format_rfc3339(scheduled)
            ),
        ));
        return plan;
    }
    let name = job_name(cj, scheduled);
    if jobs.iter().any(|j| j.meta().name == name) {
        // Already made for this time.
        return plan;
    }
    match spec.concurrency_policy.as_str() {
        "Forbid" if !status.active.is_empty() => {
            // The missed time runs when the active Job finishes (if still within
            // startingDeadlineSeconds), as in Kubernetes.
            return plan;
        }
        "Replace" => {
            plan.delete_active = jobs
                .iter()
                .filter(|j| finished(j).is_none())
                .cloned()
                .collect();
            status.active.clear();
        }
        _ => {}
    }
    status.last_schedule_time = format_rfc3339(scheduled);
    plan.create = Some(scheduled);
    plan
}

/// Pure: the finished Jobs beyond the history limits, oldest first (by start time, then
/// creation).
pub fn history_cleanup(
    jobs: &[Arc<Job>],
    successful_limit: Option<i32>,
    failed_limit: Option<i32>,
) -> Vec<Arc<Job>> {
    let mut out = Vec::new();
    for (cond, limit) in [("Complete", successful_limit), ("Failed", failed_limit)] {
        let Some(limit) = limit else { continue };
        let mut done: Vec<&Arc<Job>> = jobs
            .iter()
            .filter(|j| finished(j) == Some(cond) && j.meta().deletion_timestamp.is_empty())
            .collect();
        let keep = usize::try_from(limit.max(0)).unwrap_or(0);
        if done.len() <= keep {
            continue;
        }
        let started = |j: &Job| {
            let s = j
                .status
                .as_ref()
                .map(|s| s.start_time.as_str())
                .unwrap_or("");
            (
                parse_rfc3339(s).or_else(|| parse_rfc3339(&j.meta().creation_timestamp)),
                j.meta().name.clone(),
            )
        };
        done.sort_by_key(|j| started(j));
        let n = done.len() - keep;
        out.extend(done.into_iter().take(n).cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{CronJobSpec, JobCondition, JobStatus};

    fn at(s: &str) -> SystemTime {
        parse_rfc3339(s).unwrap()
    }

    fn cronjob(schedule: &str, policy: &str) -> CronJob {
        let mut cj = CronJob {
            spec: Some(CronJobSpec {
                schedule: schedule.into(),
                concurrency_policy: policy.into(),
                suspend: Some(false),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = cj.meta_mut();
        m.name = "tick".into();
        m.namespace = "ns".into();
        m.uid = "cj1".into();
        m.creation_timestamp = "2026-03-01T10:00:30Z".into();
        cj
    }

    fn job(name: &str, cond: Option<&str>, start: &str) -> Arc<Job> {
        let mut j = Job {
            status: Some(JobStatus {
                start_time: start.into(),
                completion_time: if cond == Some("Complete") {
                    start.into()
                } else {
                    String::new()
                },
                conditions: cond
                    .map(|c| JobCondition {
                        r#type: c.into(),
                        status: "True".into(),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        j.meta_mut().name = name.into();
        j.meta_mut().uid = format!("uid-{name}");
        Arc::new(j)
    }

    fn with_active(mut cj: CronJob, jobs: &[&Arc<Job>], last: &str) -> CronJob {
        cj.status = Some(CronJobStatus {
            active: jobs.iter().map(|j| job_ref(j)).collect(),
            last_schedule_time: last.into(),
            ..Default::default()
        });
        cj
    }

    #[test]
    fn schedules_the_most_recent_missed_time_once() {
        let cj = cronjob("*/5 * * * *", "Allow");
        // Before the first time: nothing, look again at 10:05.
        let p = plan_cronjob(&cj, &[], at("2026-03-01T10:02:00Z"));
        assert_eq!(p.create, None);
        assert_eq!(p.requeue, Some(Duration::from_secs(180)));
        // 10:05, 10:10 and 10:15 all missed: only 10:15 runs.
        let p = plan_cronjob(&cj, &[], at("2026-03-01T10:16:00Z"));
        assert_eq!(p.create, Some(at("2026-03-01T10:15:00Z")));
        assert_eq!(p.status.last_schedule_time, "2026-03-01T10:15:00Z");
        assert_eq!(p.requeue, Some(Duration::from_secs(240)));
        let name = job_name(&cj, at("2026-03-01T10:15:00Z"));
        assert_eq!(
            name,
            format!(
                "tick-{}",
                at("2026-03-01T10:15:00Z")
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    / 60
            )
        );
        // Its Job exists (cache caught up, status not yet): not again.
        let j = job(&name, None, "");
        let p = plan_cronjob(&cj, &[j], at("2026-03-01T10:16:00Z"));
        assert_eq!(p.create, None);
        assert_eq!(
            p.status.active.len(),
            1,
            "an unfinished owned Job joins the list"
        );
    }

    #[test]
    fn concurrency_policies() {
        let running = job("tick-1", None, "2026-03-01T10:05:00Z");
        let last = "2026-03-01T10:05:00Z";
        let now = at("2026-03-01T10:10:10Z");
        // (policy) -> (creates, deletes, active after)
        for (policy, create, delete, active) in [
            ("Allow", true, 0, 1),
            ("Forbid", false, 0, 1),
            ("Replace", true, 1, 0),
        ] {
            let cj = with_active(cronjob("*/5 * * * *", policy), &[&running], last);
            let p = plan_cronjob(&cj, std::slice::from_ref(&running), now);
            assert_eq!(p.create.is_some(), create, "{policy}");
            assert_eq!(p.delete_active.len(), delete, "{policy}");
            assert_eq!(p.status.active.len(), active, "{policy}");
        }
        // Forbid: once the active Job finished, the missed time runs.
        let done = job("tick-1", Some("Complete"), "2026-03-01T10:06:00Z");
        let cj = with_active(cronjob("*/5 * * * *", "Forbid"), &[&running], last);
        let p = plan_cronjob(&cj, &[done], now);
        assert_eq!(p.create, Some(at("2026-03-01T10:10:00Z")));
        assert!(p.status.active.is_empty());
        assert_eq!(p.status.last_successful_time, "2026-03-01T10:06:00Z");
        assert_eq!(p.events[0].1, "SawCompletedJob");
    }

    #[test]
    fn suspend_deadline_timezone_and_bad_schedules() {
        let now = at("2026-03-01T10:16:00Z");
        let mut cj = cronjob("*/5 * * * *", "Allow");
        cj.spec.as_mut().unwrap().suspend = Some(true);
        let p = plan_cronjob(&cj, &[], now);
        assert_eq!((p.create, p.requeue), (None, None));
        // Within startingDeadlineSeconds (90s after 10:15): runs.
        let mut cj = cronjob("*/5 * * * *", "Allow");
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(90);
        assert!(plan_cronjob(&cj, &[], now).create.is_some());
        // 30s: 10:15 is too late and earlier times are ignored.
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(30);
        let p = plan_cronjob(&cj, &[], now);
        assert_eq!(p.create, None);
        assert!(p.requeue.is_some());
        let mut cj = cronjob("*/5 * * * *", "Allow");
        cj.spec.as_mut().unwrap().time_zone = Some("Europe/Paris".into());
        let p = plan_cronjob(&cj, &[], now);
        assert_eq!((p.create, p.events[0].1), (None, "UnknownTimeZone"));
        let p = plan_cronjob(&cronjob("bad", "Allow"), &[], now);
        assert_eq!((p.create, p.events[0].1), (None, "UnparseableSchedule"));
        // Every minute over a day: a warning, and still only the latest time.
        let mut cj = cronjob("* * * * *", "Allow");
        cj.meta_mut().creation_timestamp = "2026-02-28T10:00:00Z".into();
        let p = plan_cronjob(&cj, &[], now);
        assert_eq!(p.create, Some(at("2026-03-01T10:16:00Z")));
        assert_eq!(p.events[0].1, "TooManyMissedTimes");
    }

    #[test]
    fn history_limits_keep_the_newest() {
        let jobs = vec![
            job("s1", Some("Complete"), "2026-03-01T10:01:00Z"),
            job("s3", Some("Complete"), "2026-03-01T10:03:00Z"),
            job("s2", Some("Complete"), "2026-03-01T10:02:00Z"),
            job("f1", Some("Failed"), "2026-03-01T10:01:00Z"),
            job("f2", Some("Failed"), "2026-03-01T10:02:00Z"),
            job("r", None, "2026-03-01T10:00:00Z"),
        ];
        let names =
            |v: Vec<Arc<Job>>| -> Vec<String> { v.iter().map(|j| j.meta().name.clone()).collect() };
        assert_eq!(
            names(history_cleanup(&jobs, Some(1), Some(1))),
            ["s1", "s2", "f1"]
        );
        assert_eq!(
            names(history_cleanup(&jobs, Some(3), Some(0))),
            ["f1", "f2"]
        );
        assert!(history_cleanup(&jobs, None, None).is_empty());
    }

    #[test]
    fn jobs_from_the_template() {
        let mut cj = cronjob("* * * * *", "Allow");
        cj.spec.as_mut().unwrap().job_template = Some(Box::new(proto::k8s::JobTemplateSpec {
            metadata: Some(proto::k8s::ObjectMeta {
                labels: [("app".to_string(), "tick".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(proto::k8s::JobSpec {
                backoff_limit: Some(2),
                ..Default::default()
            }),
        }));
        let t = at("2026-03-01T10:15:00Z");
        let j = job_from_template(&cj, t);
        assert_eq!(j.meta().name, job_name(&cj, t));
        assert_eq!(j.meta().labels["app"], "tick");
        assert_eq!(
            j.meta().annotations[SCHEDULED_TIMESTAMP],
            "2026-03-01T10:15:00Z"
        );
        assert_eq!(j.spec.as_ref().unwrap().backoff_limit, Some(2));
        let r = controller_ref(j.meta()).unwrap();
        assert_eq!((r.kind.as_str(), r.uid.as_str()), ("CronJob", "cj1"));
    }
}
