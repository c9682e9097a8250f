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

/// A light check of the standard five-field cron syntax (and the `@hourly` macros):
/// field count, allowed characters and numeric ranges; the CronJob controller parses it
/// fully when it schedules.
pub fn check_cron_schedule(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("use spec.timeZone instead of TZ in the schedule".into());
    }
    if let Some(m) = s.strip_prefix('@') {
        return match m {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!("unrecognized descriptor: {s}")),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {s}",
            fields.len()
        ));
    }
    const RANGES: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    for (field, (name, lo, hi)) in fields.iter().zip(RANGES) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            if let Some(st) = step
                && st.parse::<u32>().map_or(true, |n| n == 0)
            {
                return Err(format!("invalid step in {name} field: {part}"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            for bound in range.split('-') {
                let ok = match bound.parse::<u32>() {
                    Ok(n) => (lo..=hi).contains(&n),
                    // Month and weekday names (JAN, mon).
                    Err(_) => {
                        (name == "month" || name == "day of week")
                            && bound.len() == 3
                            && bound.chars().all(|c| c.is_ascii_alphabetic())
                    }
                };
                if !ok {
                    return Err(format!("{name} field out of range or malformed: {part}"));
                }
            }
        }
    }
    Ok(())
}
