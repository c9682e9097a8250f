//! The kubelet's `/metrics/resource` (Prometheus text format 0.0.4) read into one node's
//! [`Batch`], as metrics-server's decoder reads it: `node_cpu_usage_seconds_total` and
//! `node_memory_working_set_bytes` for the node, `container_cpu_usage_seconds_total`,
//! `container_memory_working_set_bytes` and `container_start_time_seconds` per container
//! (the `pod_*` series and `resource_scrape_error` are not needed: a pod's usage is its
//! containers'). A point needs its cpu and memory series both; a pod with an incomplete
//! container is dropped whole, as metrics-server drops it.

use std::collections::BTreeMap;

/// One sample of one node or container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Point {
    /// When the cpu counter was read: milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Cumulative cpu time in nanoseconds (core-seconds x 1e9).
    pub cpu_ns: u64,
    /// Working set in bytes.
    pub memory: u64,
    /// When the container started (ms since the epoch); `None` for nodes.
    pub start_ms: Option<i64>,
}

/// A pod's key: (namespace, name).
pub type PodRef = (String, String);

/// What one scrape (or, merged, one round over every node) yielded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub nodes: BTreeMap<String, Point>,
    /// Per pod, per container.
    pub pods: BTreeMap<PodRef, BTreeMap<String, Point>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// One sample line: `name{labels} value [timestamp_ms]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// Every sample of a text exposition; comments and blank lines skipped. One malformed line
/// fails the whole text (a kubelet that writes garbage is not half-believed).
pub fn samples(text: &str) -> Result<Vec<Sample>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sample = sample(line).map_err(|reason| ParseError::Line {
            line: i + 1,
            reason,
        })?;
        out.push(sample);
    }
    Ok(out)
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or("a sample needs a value")?;
    let name = &line[..name_end];
    let valid_name = name.chars().enumerate().all(|(i, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
    });
    if name.is_empty() || !valid_name {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("a sample needs a value")?;
    let value = parse_value(value)?;
    let timestamp_ms = match fields.next() {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("invalid timestamp {t:?}"))?,
        ),
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected {extra:?} after the timestamp"));
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
        timestamp_ms,
    })
}

/// `key="value",...}`: fills `labels`, returns what follows the `}`.
fn parse_labels<'a>(
    mut s: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, String> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let eq = s.find('=').ok_or("unterminated label set")?;
        let key = s[..eq].trim();
        if key.is_empty()
            || !key
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()))
        {
            return Err(format!("invalid label name {key:?}"));
        }
        s = s[eq + 1..].trim_start();
        s = s.strip_prefix('"').ok_or("a label value must be quoted")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".to_string()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    _ => return Err("invalid escape in a label value".to_string()),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.insert(key.to_string(), value);
        s = s[end + 1..].trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err("expected ',' or '}' in a label set".to_string());
        }
    }
}

/// Go's ParseFloat as the text format uses it (`+Inf`, `-Inf`, `NaN` included).
fn parse_value(v: &str) -> Result<f64, String> {
    match v {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => v.parse::<f64>().map_err(|_| format!("invalid value {v:?}")),
    }
}

/// A finite, non-negative value as a whole number (`scale` times it, truncated); anything
/// else is not a usage.
fn whole(value: f64, scale: f64) -> Option<u64> {
    let v = value * scale;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

#[derive(Default)]
struct Partial {
    cpu: Option<(u64, Option<i64>)>,
    memory: Option<u64>,
    start_ms: Option<i64>,
}

impl Partial {
    /// Complete (cpu and memory) or nothing; a missing timestamp is the scrape's time.
    fn point(&self, scraped_ms: i64) -> Option<Point> {
        let (cpu_ns, ts) = self.cpu?;
        Some(Point {
            timestamp_ms: ts.unwrap_or(scraped_ms),
            cpu_ns,
            memory: self.memory?,
            start_ms: self.start_ms,
        })
    }
}

/// One node's `/metrics/resource`, scraped at `scraped_ms` (used for samples without a
/// timestamp), as a batch of that node and its pods.
pub fn decode(node: &str, text: &str, scraped_ms: i64) -> Result<Batch, ParseError> {
    let mut n = Partial::default();
    let mut containers: BTreeMap<(String, String, String), Partial> = BTreeMap::new();
    for s in samples(text)? {
        let container = || {
            let l = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
            (l("namespace"), l("pod"), l("container"))
        };
        match s.name.as_str() {
            "node_cpu_usage_seconds_total" => {
                n.cpu = whole(s.value, 1e9).map(|v| (v, s.timestamp_ms));
            }
            "node_memory_working_set_bytes" => n.memory = whole(s.value, 1.0),
            "container_cpu_usage_seconds_total" => {
                containers.entry(container()).or_default().cpu =
                    whole(s.value, 1e9).map(|v| (v, s.timestamp_ms));
            }
            "container_memory_working_set_bytes" => {
                containers.entry(container()).or_default().memory = whole(s.value, 1.0);
            }
            "container_start_time_seconds" => {
                containers.entry(container()).or_default().start_ms =
                    whole(s.value, 1e3).and_then(|v| i64::try_from(v).ok());
            }
            _ => {}
        }
    }
    let mut batch = Batch::default();
    if let Some(p) = n.point(scraped_ms) {
        batch.nodes.insert(node.to_string(), p);
    }
    let mut incomplete = std::collections::BTreeSet::new();
    for ((ns, pod, name), partial) in containers {
        if ns.is_empty() || pod.is_empty() || name.is_empty() {
            continue;
        }
        let key = (ns, pod);
        match partial.point(scraped_ms) {
            Some(p) => {
                batch.pods.entry(key).or_default().insert(name, p);
            }
            None => {
                incomplete.insert(key);
            }
        }
    }
    for key in incomplete {
        batch.pods.remove(&key);
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kubernetes' kubelet 1.33, as the plan quotes it.
    const SAMPLE: &str = r#"# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-0"} 0.012345 1733484000000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="web",namespace="default",pod="web-0"} 1.2345e+06 1733484000000
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="web",namespace="default",pod="web-0"} 1.7334839e+09 1733484000000
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 123.45 1733484000000
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1.5e+09 1733484000000
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="default",pod="web-0"} 0.02 1733484000000
# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
# TYPE pod_memory_working_set_bytes gauge
pod_memory_working_set_bytes{namespace="default",pod="web-0"} 2.5e+06 1733484000000
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
"#;

    #[test]
    fn the_kubelets_sample_decodes() {
        let b = decode("n1", SAMPLE, 1).unwrap();
        assert_eq!(
            b.nodes["n1"],
            Point {
                timestamp_ms: 1_733_484_000_000,
                cpu_ns: 123_450_000_000,
                memory: 1_500_000_000,
                start_ms: None,
            }
        );
        let web = &b.pods[&("default".to_string(), "web-0".to_string())]["web"];
        assert_eq!(web.cpu_ns, 12_345_000);
        assert_eq!(web.memory, 1_234_500);
        assert_eq!(web.timestamp_ms, 1_733_484_000_000);
        assert_eq!(web.start_ms, Some(1_733_483_900_000));
        assert_eq!(b.pods.len(), 1);
    }

    #[test]
    fn labels_escapes_and_missing_timestamps() {
        let s = samples("a_b:c{x=\"q\\\"uo\\\\te\\n\", y = \"2\",} 1e3\nplain -Inf 5\nnan NaN\n")
            .unwrap();
        assert_eq!(s[0].name, "a_b:c");
        assert_eq!(s[0].labels["x"], "q\"uo\\te\n");
        assert_eq!(s[0].labels["y"], "2");
        assert_eq!((s[0].value, s[0].timestamp_ms), (1000.0, None));
        assert_eq!(
            (s[1].value, s[1].timestamp_ms),
            (f64::NEG_INFINITY, Some(5))
        );
        assert!(s[2].value.is_nan());
        // No timestamp: the scrape's time.
        let b = decode(
            "n",
            "node_cpu_usage_seconds_total 2\nnode_memory_working_set_bytes 10\n",
            42,
        )
        .unwrap();
        assert_eq!(b.nodes["n"].timestamp_ms, 42);
    }

    #[test]
    fn garbage_is_an_error_naming_the_line_never_a_panic() {
        for text in [
            "node_cpu_usage_seconds_total\n",
            "node_cpu_usage_seconds_total abc 1\n",
            "x{a=\"1\" 2\n",
            "x{a=1} 2\n",
            "x{a=\"1\"} 2 3 4\n",
            "x{a=\"1\"} 2 1.5\n",
            "9x 1\n",
            "x{=\"1\"} 1\n",
            "x{a=\"\\q\"} 1\n",
            "<html>not metrics</html>\n",
            "x{a=\"unterminated",
        ] {
            let e = samples(text).expect_err(text);
            assert!(e.to_string().starts_with("line 1:"), "{text:?}: {e}");
        }
        let e = samples("# ok\n\nok 1\nbad line here\n").unwrap_err();
        assert!(e.to_string().starts_with("line 4:"), "{e}");
        assert_eq!(samples("").unwrap(), vec![]);
    }

    #[test]
    fn incomplete_points_are_dropped_with_their_pod() {
        let text = "\
container_cpu_usage_seconds_total{container=\"a\",namespace=\"ns\",pod=\"p\"} 1 1000
container_memory_working_set_bytes{container=\"a\",namespace=\"ns\",pod=\"p\"} 10 1000
container_cpu_usage_seconds_total{container=\"b\",namespace=\"ns\",pod=\"p\"} 1 1000
container_cpu_usage_seconds_total{container=\"c\",namespace=\"ns\",pod=\"q\"} 1 1000
container_memory_working_set_bytes{container=\"c\",namespace=\"ns\",pod=\"q\"} 10 1000
container_cpu_usage_seconds_total{container=\"d\",namespace=\"ns\",pod=\"r\"} -1 1000
container_memory_working_set_bytes{container=\"d\",namespace=\"ns\",pod=\"r\"} 10 1000
node_cpu_usage_seconds_total 5 1000
";
        let b = decode("n", text, 0).unwrap();
        // p lacks b's memory, r has a negative counter; no node memory: no node point.
        let pods: Vec<&str> = b.pods.keys().map(|(_, p)| p.as_str()).collect();
        assert_eq!(pods, ["q"]);
        assert!(b.nodes.is_empty());
    }
}
