//! batch API group: Job and CronJob (`pkg/apis/batch/validation`), with the light cron
//! schedule check.

use super::Errors;
use super::apps::{selector_matches_template, template_spec};
use super::pod::RestartRule;
use super::rules::*;
use crate::k8s::{self, JobSpec};
use crate::validation::FieldError;

pub(super) fn job_spec(spec: &JobSpec, path: &str, e: &mut Errors) {
    for (field, v) in [
        ("parallelism", spec.parallelism),
        ("completions", spec.completions),
        ("backoffLimit", spec.backoff_limit),
        ("ttlSecondsAfterFinished", spec.ttl_seconds_after_finished),
    ] {
        non_negative(&format!("{path}.{field}"), v, e);
    }
    if let Some(d) = spec.active_deadline_seconds
        && d <= 0
    {
        e.push(FieldError::invalid(
            format!("{path}.activeDeadlineSeconds"),
            d,
            "must be greater than 0",
        ));
    }
    if let Some(mode) = &spec.completion_mode {
        supported(
            &format!("{path}.completionMode"),
            mode,
            &["NonIndexed", "Indexed"],
            e,
        );
        if mode == "Indexed" && spec.completions.is_none() {
            e.push(FieldError::required(
                format!("{path}.completions"),
                "when completion mode is Indexed",
            ));
        }
    }
    // Without a selector the server generates one from the job's uid.
    if let Some(s) = &spec.selector {
        if s.match_labels.is_empty() && s.match_expressions.is_empty() {
            e.push(FieldError::invalid(
                format!("{path}.selector"),
                "",
                "empty selector is invalid for job",
            ));
        } else {
            selector_matches_template(s, spec.template.as_ref(), path, e);
        }
    }
    template_spec(
        spec.template.as_ref(),
        &format!("{path}.template"),
        RestartRule::Job,
        e,
    );
}

pub(super) fn cron_job(spec: &k8s::CronJobSpec, e: &mut Errors) {
    if spec.schedule.is_empty() {
        e.push(FieldError::required("spec.schedule", ""));
    } else if let Err(msg) = check_cron_schedule(&spec.schedule) {
        e.push(FieldError::invalid(
            "spec.schedule",
            &spec.schedule,
            format!("unparseable schedule: {msg}"),
        ));
    }
    if !spec.concurrency_policy.is_empty() {
        supported(
            "spec.concurrencyPolicy",
            &spec.concurrency_policy,
            &["Allow", "Forbid", "Replace"],
            e,
        );
    }
    for (field, v) in [
        ("startingDeadlineSeconds", spec.starting_deadline_seconds),
        (
            "successfulJobsHistoryLimit",
            spec.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", spec.failed_jobs_history_limit),
    ] {
        non_negative(&format!("spec.{field}"), v, e);
    }
    match spec.job_template.as_ref().and_then(|t| t.spec.as_ref()) {
        Some(job) => job_spec(job, "spec.jobTemplate.spec", e),
        None => e.push(FieldError::required(
            "spec.jobTemplate.spec.template.spec.containers",
            "",
        )),
    }
}

/// The schedule parsed by the same parser the CronJob controller runs
/// ([`crate::cron::Schedule`]), so nothing is admitted that could never run.
pub fn check_cron_schedule(schedule: &str) -> Result<(), String> {
    crate::cron::Schedule::parse(schedule)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
