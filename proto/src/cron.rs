//! The standard 5-field cron schedule (`minute hour day-of-month month day-of-week`), as
//! Kubernetes parses it (robfig/cron/v3's standard parser), in one place: the apiserver's
//! CronJob validation and the CronJob controller both call [`Schedule::parse`], so a schedule
//! is admitted exactly when the controller can run it.
//!
//! Accepted: `*`, `?` (as `*`), numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (a to
//! the field's end), comma lists, month names `JAN`-`DEC` and weekday names `SUN`-`SAT`
//! (any case), and the descriptors `@yearly`/`@annually`, `@monthly`, `@weekly`,
//! `@daily`/`@midnight`, `@hourly`. Not accepted: `@every <duration>` and the
//! `TZ=`/`CRON_TZ=` prefixes (Kubernetes refuses them in spec.schedule since 1.27;
//! spec.timeZone says the zone). Times are UTC.
//!
//! One extension over robfig kept from before: day-of-week 7 is Sunday, as in Vixie cron.
//!
//! As in robfig, when both day-of-month and day-of-week are restricted, a day matches if
//! either does; otherwise both must. A field counts as unrestricted when it holds `*` or
//! `?` without a step above 1 (robfig's star bit: `*/2` in day-of-month restricts it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a schedule does not parse; the message is robfig's wording where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    dom: u64,
    months: u64,
    dow: u64,
    /// Day-of-month or day-of-week was `*`/`?`: the days must match both fields.
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(
    s: &str,
    min: u32,
    max: u32,
    names: &[&str],
    names_from: u32,
) -> Result<u32, ScheduleError> {
    let up = s.to_ascii_uppercase();
    if let Some(i) = names.iter().position(|n| *n == up) {
        return Ok(names_from + u32::try_from(i).unwrap_or(0));
    }
    let v: u32 = s
        .parse()
        .map_err(|_| ScheduleError(format!("failed to parse int from {s}")))?;
    if v < min || v > max {
        return Err(ScheduleError(format!(
            "{v} is outside the range {min}-{max}"
        )));
    }
    Ok(v)
}

/// One field as a bit set; the bool says it started with `*` or `?`.
fn field(
    s: &str,
    min: u32,
    max: u32,
    names: &[&str],
    names_from: u32,
) -> Result<(u64, bool), ScheduleError> {
    let mut bits = 0u64;
    let mut star = false;
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let st: u32 = st
                    .parse()
                    .map_err(|_| ScheduleError(format!("failed to parse step {st:?}")))?;
                if st == 0 {
                    return Err(ScheduleError("step of 0 is not allowed".into()));
                }
                (r, Some(st))
            }
            None => (part, None),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            // robfig's star bit: `*` or `*/1` leaves the field unrestricted, `*/2` does not.
            star = star || step.is_none_or(|st| st <= 1);
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, min, max, names, names_from)?,
                value(b, min, max, names, names_from)?,
            )
        } else {
            let a = value(range, min, max, names, names_from)?;
            // `a/n`: from a to the end of the field.
            (a, if step.is_some() { max } else { a })
        };
        if lo > hi {
            return Err(ScheduleError(format!(
                "beginning of range ({lo}) beyond end of range ({hi})"
            )));
        }
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    pub fn parse(spec: &str) -> Result<Schedule, ScheduleError> {
        let spec = spec.trim();
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => {
                return Err(ScheduleError(format!("unrecognized descriptor: {s}")));
            }
            s if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") => {
                return Err(ScheduleError(
                    "use spec.timeZone instead of TZ in the schedule".into(),
                ));
            }
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError(format!(
                "expected exactly 5 fields, found {}: {spec}",
                fields.len()
            )));
        }
        let (minutes, _) = field(fields[0], 0, 59, &[], 0)?;
        let (hours, _) = field(fields[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = field(fields[2], 1, 31, &[], 0)?;
        let (months, _) = field(fields[3], 1, 12, &MONTHS, 1)?;
        let (mut dow, dow_star) = field(fields[4], 0, 7, &DAYS, 0)?;
        if dow & (1 << 7) != 0 {
            dow |= 1;
        }
        Ok(Schedule {
            minutes,
            hours,
            dom,
            months,
            dow,
            dom_star,
            dow_star,
        })
    }

    fn day_matches(&self, y: i64, m: u32, d: u32) -> bool {
        if self.months & (1 << m) == 0 {
            return false;
        }
        let wd = weekday(days_from_civil(y, m, d));
        let dom = self.dom & (1 << d) != 0;
        let dow = self.dow & (1 << wd) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled time strictly after `t` (whole minutes), within 5 years.
    pub fn next(&self, t: SystemTime) -> Option<SystemTime> {
        let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
        // The next whole minute after t.
        let start = (secs / 60 + 1) * 60;
        let first_day = i64::try_from(start / 86_400).ok()?;
        let mut from_minute = (start % 86_400) / 60;
        for day in first_day..first_day + 366 * 5 {
            let (y, m, d) = civil_from_days(day);
            if self.day_matches(y, m, d) {
                for minute_of_day in from_minute..1440 {
                    let (h, mi) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << mi) != 0 {
                        let at = u64::try_from(day).ok()? * 86_400 + minute_of_day * 60;
                        return Some(UNIX_EPOCH + Duration::from_secs(at));
                    }
                }
            }
            from_minute = 0;
        }
        None
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// 0 = Sunday.
fn weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    u32::try_from((days + 4).rem_euclid(7)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_rfc3339, parse_rfc3339};

    fn at(s: &str) -> SystemTime {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1000, 0, 59, 60, 11_016, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(0), 4);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    #[test]
    fn next_times() {
        // (schedule, after, next)
        let cases = [
            ("* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z"),
            ("* * * * *", "2026-03-01T10:00:59Z", "2026-03-01T10:01:00Z"),
            (
                "*/15 * * * *",
                "2026-03-01T10:16:00Z",
                "2026-03-01T10:30:00Z",
            ),
            ("5 4 * * *", "2026-03-01T10:00:00Z", "2026-03-02T04:05:00Z"),
            ("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"),
            ("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            (
                "30 9 * * 1-5",
                "2026-11-27T10:00:00Z",
                "2026-11-30T09:30:00Z",
            ),
            (
                "0 12 * * SUN",
                "2026-11-27T10:00:00Z",
                "2026-11-29T12:00:00Z",
            ),
            ("0 12 * * 7", "2026-11-27T10:00:00Z", "2026-11-29T12:00:00Z"),
            (
                "0 0 * JAN,jul *",
                "2026-02-01T00:00:00Z",
                "2026-07-01T00:00:00Z",
            ),
            (
                "10-20/5 * * * *",
                "2026-03-01T10:16:00Z",
                "2026-03-01T10:20:00Z",
            ),
            (
                "50/5 * * * *",
                "2026-03-01T10:56:00Z",
                "2026-03-01T11:50:00Z",
            ),
            (
                "0 8,20 * * *",
                "2026-03-01T09:00:00Z",
                "2026-03-01T20:00:00Z",
            ),
            // Both day fields restricted: either matches (the 13th, or a Friday).
            ("0 0 13 * 5", "2026-11-27T10:00:00Z", "2026-12-04T00:00:00Z"),
            ("0 0 13 * 5", "2026-12-05T10:00:00Z", "2026-12-11T00:00:00Z"),
            ("0 0 13 * 5", "2026-12-11T10:00:00Z", "2026-12-13T00:00:00Z"),
            ("@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"),
            ("@daily", "2026-03-01T10:00:00Z", "2026-03-02T00:00:00Z"),
            ("@weekly", "2026-11-27T10:00:00Z", "2026-11-29T00:00:00Z"),
            ("@yearly", "2026-11-27T10:00:00Z", "2027-01-01T00:00:00Z"),
        ];
        for (spec, after, want) in cases {
            let s = Schedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            let got = s.next(at(after)).map(format_rfc3339);
            assert_eq!(got.as_deref(), Some(want), "{spec} after {after}");
        }
        // 31 February never comes.
        assert_eq!(
            Schedule::parse("0 0 31 2 *")
                .unwrap()
                .next(at("2026-01-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "x * * * *",
            "@every 5m",
            "@reboot",
            // The two the apiserver's old light check admitted and the controller refused.
            "5-2 * * * *",
            "0 0 1 XYZ *",
            "TZ=UTC 0 * * * *",
            "CRON_TZ=Europe/Paris 0 * * * *",
            "-1 * * * *",
            "1-2-3 * * * *",
            "*/x * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (bad, want) in [
            (
                "5-2 * * * *",
                "beginning of range (5) beyond end of range (2)",
            ),
            ("0 0 1 XYZ *", "failed to parse int from XYZ"),
            (
                "TZ=UTC 0 * * * *",
                "use spec.timeZone instead of TZ in the schedule",
            ),
            ("* * * *", "expected exactly 5 fields, found 4: * * * *"),
            ("60 * * * *", "60 is outside the range 0-59"),
            ("@reboot", "unrecognized descriptor: @reboot"),
        ] {
            assert_eq!(
                Schedule::parse(bad).map(|_| ()).map_err(|e| e.to_string()),
                Err(want.to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn kubernetes_examples_parse() {
        // From the Kubernetes CronJob documentation and robfig's tests.
        for ok in [
            "*/1 * * * *",
            "0 0 13 * 5",
            "0 3 * * 1",
            "0 0 1 * *",
            "0 0 1 1 *",
            "0 0 * * 0",
            "0 * * * *",
            "5 4 * * *",
            "0 22 * * 1-5",
            "23 0-20/2 * * *",
            "0 0,12 1 */2 *",
            "0 4 8-14 * *",
            "0 0 ? * MON-FRI",
            "30 08 ? Jul Sun",
            "0 0 1 JAN MON",
            "15,45 9-17 * * 1-5",
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
            "  @hourly  ",
        ] {
            assert!(Schedule::parse(ok).is_ok(), "{ok:?} should parse");
        }
    }

    #[test]
    fn a_stepped_star_restricts_the_day() {
        // robfig: `*/2` clears the star bit, so day-of-month and day-of-week are ORed:
        // odd days of the month, or Mondays (2026-11-30 is a Monday).
        let s = Schedule::parse("0 0 */2 * 1").unwrap();
        assert_eq!(
            s.next(at("2026-11-29T10:00:00Z"))
                .map(format_rfc3339)
                .as_deref(),
            Some("2026-11-30T00:00:00Z")
        );
        // `*/1` keeps it: only Mondays.
        let s = Schedule::parse("0 0 */1 * 1").unwrap();
        assert_eq!(
            s.next(at("2026-11-24T10:00:00Z"))
                .map(format_rfc3339)
                .as_deref(),
            Some("2026-11-30T00:00:00Z")
        );
    }
}
