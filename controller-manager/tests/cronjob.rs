//! CronJob controller against an in-process apiserver with an injected clock: the test moves
//! time to the next minute and pokes the CronJob (an annotation change) instead of waiting
//! for the real requeue at the next schedule time. Jobs are finished by the test (no Job
//! controller runs).

mod common;

use client::Api;
use client::leader::Clock;
use common::{Cluster, since_rv, wait_for};
use controller_manager::controllers::cronjob;
use proto::Resource;
use proto::k8s::{CronJob, Job, JobCondition, JobStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(30);

struct FakeClock(Mutex<SystemTime>);

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl FakeClock {
    /// Moves up to `cj`'s creation time (whole seconds, as stored). The clock starts before
    /// the CronJob exists; were a minute to turn in between, that minute's schedule time
    /// would come before the creation and never run, and the test's first tick would wait
    /// in vain (seen in CI).
    fn catch_up_with(&self, cj: &CronJob) {
        let created =
            proto::time::parse_rfc3339(&cj.meta().creation_timestamp).expect("creationTimestamp");
        let mut t = self.0.lock().unwrap();
        *t = (*t).max(created);
    }

    /// Moves to 5 seconds past the next whole minute; returns that minute (since epoch).
    fn next_minute(&self) -> u64 {
        let mut t = self.0.lock().unwrap();
        let minute = t.duration_since(UNIX_EPOCH).unwrap().as_secs() / 60 + 1;
        *t = UNIX_EPOCH + Duration::from_secs(minute * 60 + 5);
        minute
    }
}

const CRONJOB: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: default}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 2
  jobTemplate:
    metadata: {labels: {app: tick}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
"#;

async fn poke(api: &Api<CronJob>, n: u64) -> CronJob {
    let patch = serde_json::json!({"metadata": {"annotations": {"test/poke": n.to_string()}}});
    api.patch_merge("tick", &patch).await.unwrap()
}

/// Waits until the controller has looked at `cj` (this version or later) and gone idle.
async fn looked(c: &Cluster, before: u64, cj: &CronJob) {
    c.settled(
        cronjob::NAME,
        "default/tick",
        before,
        since_rv::<CronJob>("default/tick", &cj.meta().resource_version),
    )
    .await;
}

async fn job_names(c: &Cluster) -> Vec<String> {
    let mut v: Vec<String> = c
        .api::<Job>("default")
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|j| j.meta().deletion_timestamp.is_empty())
        .map(|j| j.meta().name.clone())
        .collect();
    v.sort();
    v
}

async fn complete(c: &Cluster, name: &str) {
    let api: Api<Job> = c.api("default");
    let mut j = api.get(name).await.unwrap();
    let now = proto::time::now_rfc3339();
    j.status = Some(JobStatus {
        start_time: now.clone(),
        completion_time: now.clone(),
        succeeded: 1,
        conditions: vec![JobCondition {
            r#type: "Complete".into(),
            status: "True".into(),
            last_transition_time: now,
            ..Default::default()
        }],
        ..Default::default()
    });
    api.update_status(&j).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_per_tick_forbid_and_history_limit() {
    let c = Cluster::builder().no_kubelet().start().await;
    let cancel = CancellationToken::new();
    if let Some(w) = c.ctx.events.writer(c.client.clone(), cancel.child_token()) {
        tokio::spawn(w);
    }
    let clock = Arc::new(FakeClock(Mutex::new(SystemTime::now())));
    // Inside the observer's scope, so that `settled` sees its reconciles.
    tokio::spawn(c.ctx.observed(Box::pin(cronjob::run(
        c.ctx.clone(),
        cancel.child_token(),
        clock.clone(),
    ))));
    let cj: CronJob = c.apply_yaml(CRONJOB).await;
    clock.catch_up_with(&cj);
    let api: Api<CronJob> = c.api("default");
    // Nothing before the first schedule time.
    looked(&c, 0, &cj).await;
    assert!(job_names(&c).await.is_empty());

    // Tick 1: a Job named after the minute.
    let m1 = clock.next_minute();
    poke(&api, m1).await;
    let j1 = format!("tick-{m1}");
    wait_for("job of tick 1", T, || async {
        job_names(&c).await.contains(&j1).then_some(())
    })
    .await;
    let job: Job = c.api("default").get(&j1).await.unwrap();
    assert_eq!(job.meta().labels["app"], "tick");
    assert_eq!(
        job.meta().owner_references[0].uid,
        cj.meta().uid,
        "controlled by the CronJob"
    );
    assert_eq!(
        job.spec.as_ref().unwrap().backoff_limit,
        Some(6),
        "defaulted"
    );
    wait_for("status active and lastScheduleTime", T, || async {
        let s = api.get("tick").await.ok()?.status?;
        let want = proto::time::format_rfc3339(UNIX_EPOCH + Duration::from_secs(m1 * 60));
        (s.active.len() == 1 && s.active[0].name == j1 && s.last_schedule_time == want)
            .then_some(())
    })
    .await;

    // Tick 2 while Job 1 runs: Forbid, nothing new.
    let m2 = clock.next_minute();
    let before = c.reconciles(cronjob::NAME, "default/tick");
    let poked = poke(&api, m2).await;
    looked(&c, before, &poked).await;
    assert_eq!(
        job_names(&c).await,
        std::slice::from_ref(&j1),
        "Forbid: no second job"
    );

    // Job 1 completes: it leaves the active list and the missed tick 2 runs (as
    // Kubernetes does, within startingDeadlineSeconds, here unset).
    complete(&c, &j1).await;
    let j2 = format!("tick-{m2}");
    wait_for("job of tick 2 after job 1 finished", T, || async {
        job_names(&c).await.contains(&j2).then_some(())
    })
    .await;
    wait_for("lastSuccessfulTime", T, || async {
        let s = api.get("tick").await.ok()?.status?;
        (!s.last_successful_time.is_empty() && s.active.len() == 1 && s.active[0].name == j2)
            .then_some(())
    })
    .await;

    // Ticks 3 and 4, each completing: only the 2 newest successful Jobs are kept.
    complete(&c, &j2).await;
    let mut last = String::new();
    for _ in 0..2 {
        let m = clock.next_minute();
        poke(&api, m).await;
        let name = format!("tick-{m}");
        wait_for("job of the tick", T, || async {
            job_names(&c).await.contains(&name).then_some(())
        })
        .await;
        complete(&c, &name).await;
        last = name;
    }
    let m4 = last;
    wait_for("history limit 2", T, || async {
        let names = job_names(&c).await;
        (names.len() == 2 && names.contains(&m4)).then_some(names)
    })
    .await;
    assert!(!job_names(&c).await.contains(&j1));
    cancel.cancel();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_and_unsupported_time_zone_create_nothing() {
    let c = Cluster::builder().no_kubelet().start().await;
    let cancel = CancellationToken::new();
    if let Some(w) = c.ctx.events.writer(c.client.clone(), cancel.child_token()) {
        tokio::spawn(w);
    }
    let clock = Arc::new(FakeClock(Mutex::new(SystemTime::now())));
    // Inside the observer's scope, so that `settled` sees its reconciles.
    tokio::spawn(c.ctx.observed(Box::pin(cronjob::run(
        c.ctx.clone(),
        cancel.child_token(),
        clock.clone(),
    ))));
    let cj: CronJob = c
        .apply_yaml(&CRONJOB.replace(
            "  concurrencyPolicy: Forbid\n",
            "  timeZone: Europe/Paris\n",
        ))
        .await;
    clock.catch_up_with(&cj);
    let api: Api<CronJob> = c.api("default");
    let m = clock.next_minute();
    poke(&api, m).await;
    let events: Api<proto::k8s::Event> = c.api("default");
    wait_for("UnknownTimeZone event", T, || async {
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .iter()
            .any(|e| {
                e.reason == "UnknownTimeZone"
                    && e.involved_object
                        .as_ref()
                        .is_some_and(|o| o.uid == cj.meta().uid)
            })
            .then_some(())
    })
    .await;
    assert!(job_names(&c).await.is_empty());
    // Back to UTC but suspended: still nothing; resumed: the Job of the missed minute.
    let before = c.reconciles(cronjob::NAME, "default/tick");
    let suspended = api
        .patch_merge(
            "tick",
            &serde_json::json!({"spec": {"timeZone": null, "suspend": true}}),
        )
        .await
        .unwrap();
    looked(&c, before, &suspended).await;
    assert!(job_names(&c).await.is_empty());
    api.patch_merge("tick", &serde_json::json!({"spec": {"suspend": false}}))
        .await
        .unwrap();
    let want = format!("tick-{m}");
    wait_for("job after resume", T, || async {
        job_names(&c).await.contains(&want).then_some(())
    })
    .await;
    cancel.cancel();
    c.stop().await;
}
