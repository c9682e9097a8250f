//! Memory over the run: a daemon's resident set sampled from `/proc/PID/status`, and the
//! peak in the first and the last fifth of the run compared. A daemon restarted by the chaos
//! loop starts small again, so a leak shows only when it grows within a life faster than the
//! kills reset it: the figure is a bound on unbounded growth, not a profile.

use std::collections::BTreeMap;

/// `VmRSS` in KiB from the text of `/proc/PID/status`.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples per daemon: (seconds since the run started, RSS KiB).
#[derive(Debug, Default, Clone)]
pub struct RssLog {
    pub samples: BTreeMap<String, Vec<(f64, u64)>>,
}

/// One daemon's figures: peaks in the first and last fifth of the run, and the overall one.
#[derive(Debug, Clone, PartialEq)]
pub struct RssSummary {
    pub daemon: String,
    pub first_peak_kib: Option<u64>,
    pub last_peak_kib: Option<u64>,
    pub max_kib: u64,
    pub samples: usize,
}

impl RssSummary {
    /// Growth beyond 2x between the first and the last fifth.
    pub fn grew(&self) -> bool {
        matches!((self.first_peak_kib, self.last_peak_kib), (Some(a), Some(b)) if b > 2 * a)
    }
}

impl RssLog {
    pub fn record(&mut self, daemon: &str, at_secs: f64, kib: u64) {
        self.samples
            .entry(daemon.to_string())
            .or_default()
            .push((at_secs, kib));
    }

    /// Every daemon's summary over a run of `run_secs` (the chaos phase).
    pub fn summarize(&self, run_secs: f64) -> Vec<RssSummary> {
        let fifth = run_secs / 5.0;
        self.samples
            .iter()
            .map(|(daemon, s)| {
                let peak = |keep: &dyn Fn(f64) -> bool| {
                    s.iter().filter(|(t, _)| keep(*t)).map(|(_, k)| *k).max()
                };
                RssSummary {
                    daemon: daemon.clone(),
                    first_peak_kib: peak(&|t| t <= fifth),
                    last_peak_kib: peak(&|t| t >= run_secs - fifth && t <= run_secs),
                    max_kib: s.iter().map(|(_, k)| *k).max().unwrap_or(0),
                    samples: s.len(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_kib() {
        let status = "Name:\tapiserver\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tzombie\n"), None);
    }

    #[test]
    fn peaks_per_fifth_and_growth_flag() {
        let mut log = RssLog::default();
        for (t, k) in [
            (1.0, 100),
            (15.0, 120),
            (50.0, 500),
            (85.0, 200),
            (99.0, 260),
        ] {
            log.record("apiserver", t, k);
        }
        log.record("scheduler", 5.0, 50);
        log.record("scheduler", 95.0, 90);
        let s = log.summarize(100.0);
        let api = s.iter().find(|s| s.daemon == "apiserver").unwrap();
        assert_eq!(api.first_peak_kib, Some(120));
        assert_eq!(api.last_peak_kib, Some(260));
        assert_eq!(api.max_kib, 500);
        assert!(api.grew(), "260 > 2 x 120");
        let sched = s.iter().find(|s| s.daemon == "scheduler").unwrap();
        assert!(!sched.grew(), "90 <= 2 x 50");
        let mut lone = RssLog::default();
        lone.record("dns", 50.0, 10);
        assert!(!lone.summarize(100.0)[0].grew(), "no window, no verdict");
    }
}
