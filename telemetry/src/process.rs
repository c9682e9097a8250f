//! The process metrics every Prometheus client exposes (Go's `process` collector, which
//! Kubernetes' components have): CPU time, memory, file descriptors and start time, read
//! from `/proc/self` at each scrape.

use crate::metrics::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::sync::Once;

/// The kernel's unit for the times in `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux
/// architecture's user ABI).
const USER_HZ: f64 = 100.0;

/// What one scrape reports; a figure that could not be read is left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_memory_bytes: Option<f64>,
    pub virtual_memory_bytes: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub open_fds: Option<f64>,
    pub max_fds: Option<f64>,
}

/// From `/proc/self/stat`: user + system CPU seconds, and the start time in ticks since boot.
/// The command name (field 2) may hold spaces and parentheses, so fields are counted from
/// the last `)`.
pub fn parse_stat(stat: &str) -> Option<(f64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state is field 3, utime 14, stime 15, starttime 22.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let cpu = (field(14)? + field(15)?) as f64 / USER_HZ;
    Some((cpu, field(22)?))
}

/// `btime` of `/proc/stat`: boot time in seconds since the epoch.
pub fn parse_boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// `VmRSS` and `VmSize` of `/proc/self/status`, in bytes.
pub fn parse_status(status: &str) -> (Option<f64>, Option<f64>) {
    let kib = |key: &str| {
        status.lines().find_map(|l| {
            let value = l.strip_prefix(key)?.strip_prefix(':')?;
            let kb: f64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kb * 1024.0)
        })
    };
    (kib("VmRSS"), kib("VmSize"))
}

/// The soft limit of "Max open files" in `/proc/self/limits`.
pub fn parse_max_fds(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    soft.parse().ok()
}

/// This process's figures now.
pub fn read() -> ProcessStats {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let mut stats = ProcessStats::default();
    if let Some((cpu, start_ticks)) = read("/proc/self/stat").as_deref().and_then(parse_stat) {
        stats.cpu_seconds = Some(cpu);
        if let Some(boot) = read("/proc/stat").as_deref().and_then(parse_boot_time) {
            stats.start_time_seconds = Some(boot as f64 + start_ticks as f64 / USER_HZ);
        }
    }
    if let Some(status) = read("/proc/self/status") {
        (stats.resident_memory_bytes, stats.virtual_memory_bytes) = parse_status(&status);
    }
    stats.max_fds = read("/proc/self/limits").as_deref().and_then(parse_max_fds);
    stats.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as f64);
    stats
}

#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = read();
        if let Some(v) = stats.cpu_seconds {
            let counter = ConstCounter::new(v);
            counter.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                counter.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                stats.resident_memory_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                stats.virtual_memory_bytes,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                stats.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                stats.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                stats.max_fds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let gauge = ConstGauge::new(v);
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    gauge.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}

static REGISTERED: Once = Once::new();

/// Adds the process metrics to the process's registry; later calls do nothing.
pub fn register_process_metrics() {
    REGISTERED.call_once(|| crate::metrics::register_collector(Box::new(ProcessCollector)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis, as a thread may be named.
        let stat = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1200 0 3 0 250 130 0 0 20 0 9 0 123456 912345088 4321 18446744073709551615 1 1 0 0 0 0 0 4096 17991 0 0 0 17 3 0 0 0 0 0";
        let (cpu, start) = parse_stat(stat).unwrap();
        assert!((cpu - 3.8).abs() < 1e-9, "{cpu}");
        assert_eq!(start, 123456);
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn boot_time_status_and_limits() {
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1733480000\nprocesses 9\n"),
            Some(1733480000)
        );
        assert_eq!(parse_boot_time("cpu 1\n"), None);
        let status =
            "Name:\tscheduler\nVmPeak:\t  99999 kB\nVmSize:\t  20480 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(
            parse_status(status),
            (Some(1024.0 * 1024.0), Some(20480.0 * 1024.0))
        );
        assert_eq!(parse_status("Name:\tx\n"), (None, None));
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            1048576              1048576              files     \n";
        assert_eq!(parse_max_fds(limits), Some(1048576.0));
        assert_eq!(
            parse_max_fds("Max open files  unlimited unlimited files\n"),
            None
        );
    }

    #[test]
    fn this_process_is_read_and_encoded() {
        let stats = read();
        assert!(stats.resident_memory_bytes.unwrap() > 0.0);
        assert!(stats.open_fds.unwrap() >= 1.0);
        assert!(stats.start_time_seconds.unwrap() > 1.0e9);
        register_process_metrics();
        register_process_metrics();
        let text = crate::metrics::encode();
        assert_eq!(
            text.matches("# TYPE process_resident_memory_bytes gauge")
                .count(),
            1,
            "{text}"
        );
        assert!(text.contains("process_cpu_seconds_total "), "{text}");
        for name in [
            "process_virtual_memory_bytes ",
            "process_start_time_seconds ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            assert!(text.contains(name), "{name} missing: {text}");
        }
    }
}
