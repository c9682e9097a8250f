//! Audit logging (`--audit-log-path`, `--audit-policy-file`): one JSON line per request in
//! Kubernetes' audit Event format, at the level the policy gives it. Lines go through a
//! bounded channel to a writer task, so a slow disk never holds up a request; when the
//! channel is full the line is dropped, counted and the count logged.

pub mod event;
pub mod policy;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::auth::{Attributes, Decision, User};
pub use event::Event;
pub use policy::{Level, Policy};

/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 10_000;

#[derive(Clone, Default)]
pub struct Audit {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    policy: Policy,
    tx: mpsc::Sender<String>,
    dropped: AtomicU64,
}

/// What the service knows about one request when it is done.
pub struct Record<'a> {
    pub user: &'a User,
    pub attrs: &'a Attributes,
    pub source_ip: Option<std::net::IpAddr>,
    pub received: SystemTime,
    pub decision: &'a Decision,
    pub outcome: Result<(), &'a tonic::Status>,
    pub created: bool,
    pub request_object: Option<serde_json::Value>,
    pub response_object: Option<serde_json::Value>,
}

impl Audit {
    /// No audit log (the default).
    pub fn disabled() -> Audit {
        Audit::default()
    }

    /// Audit to `log` ("-" for standard output) with the policy in `policy_file`, or every
    /// request at Metadata without one. Spawns the writer task: call inside the runtime.
    pub fn from_paths(log: Option<&Path>, policy_file: Option<&Path>) -> Result<Audit, String> {
        let Some(log) = log else {
            if policy_file.is_some() {
                warn!("--audit-policy-file without --audit-log-path: nothing is audited");
            }
            return Ok(Audit::disabled());
        };
        let policy = match policy_file {
            None => Policy::everything(Level::Metadata),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("--audit-policy-file {}: {e}", p.display()))?;
                Policy::parse(&text)
                    .map_err(|e| format!("--audit-policy-file {}: {e}", p.display()))?
            }
        };
        let out: Box<dyn Write + Send> = if log == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(open_log(log).map_err(|e| format!("--audit-log-path {}: {e}", log.display()))?)
        };
        info!(path = %log.display(), rules = policy.rules.len(), "audit log enabled");
        Ok(Audit::with_writer(policy, out))
    }

    /// What `--audit-log-path` and `--audit-policy-file` ask for.
    pub fn from_config(config: &crate::server::Config) -> Result<Audit, String> {
        Audit::from_paths(
            config.audit_log_path.as_deref(),
            config.audit_policy_file.as_deref(),
        )
    }

    /// Audit into any writer (tests read a buffer).
    pub fn with_writer(policy: Policy, out: Box<dyn Write + Send>) -> Audit {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::task::spawn_blocking(move || write_lines(rx, out));
        Audit {
            inner: Some(Arc::new(Inner {
                policy,
                tx,
                dropped: AtomicU64::new(0),
            })),
        }
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The level this request is audited at (None when auditing is off).
    pub fn level(&self, user: &User, attrs: &Attributes) -> Level {
        match &self.inner {
            Some(inner) => inner.policy.level(user, attrs),
            None => Level::None,
        }
    }

    /// Queues the request's line; never waits.
    pub fn log(&self, record: Record<'_>) {
        let Some(inner) = &self.inner else { return };
        let level = inner.policy.level(record.user, record.attrs);
        if level == Level::None {
            return;
        }
        let line = match serde_json::to_string(&build_event(level, record)) {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "audit event does not serialize");
                return;
            }
        };
        if inner.tx.try_send(line).is_err() {
            let n = inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                warn!(
                    dropped = n,
                    "audit log writer is behind: audit events dropped"
                );
            }
        }
    }

    /// Audit events dropped so far because the writer was behind.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.dropped.load(Ordering::Relaxed))
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

fn write_lines(mut rx: mpsc::Receiver<String>, out: Box<dyn Write + Send>) {
    let mut out = std::io::BufWriter::new(out);
    while let Some(line) = rx.blocking_recv() {
        let mut batch = vec![line];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        for l in batch {
            if let Err(e) = writeln!(out, "{l}") {
                warn!(error = %e, "cannot write the audit log");
            }
        }
        if let Err(e) = out.flush() {
            warn!(error = %e, "cannot flush the audit log");
        }
    }
}

fn build_event(level: Level, r: Record<'_>) -> Event {
    let (decision, reason) = match r.decision {
        Decision::Allow => ("allow", String::new()),
        Decision::Deny(why) | Decision::NoOpinion(why) => ("forbid", why.clone()),
    };
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "authorization.k8s.io/decision".to_string(),
        decision.to_string(),
    );
    annotations.insert("authorization.k8s.io/reason".to_string(), reason);
    let code = event::http_code(r.outcome, r.created);
    let (status, message, reason) = match r.outcome {
        Ok(()) => (String::new(), String::new(), String::new()),
        Err(s) => {
            let e = proto::ApiError::from_status(s);
            (
                "Failure".to_string(),
                e.message,
                e.reason.as_str().to_string(),
            )
        }
    };
    Event {
        kind: "Event",
        api_version: "audit.k8s.io/v1",
        level: level.as_str(),
        audit_id: crate::admission::new_uid(),
        stage: "ResponseComplete",
        request_uri: event::request_uri(r.attrs),
        verb: r.attrs.verb.clone(),
        user: event::user_info(r.user),
        source_ips: r.source_ip.map(|ip| ip.to_string()).into_iter().collect(),
        object_ref: event::object_ref(r.attrs),
        response_status: event::ResponseStatus {
            metadata: BTreeMap::new(),
            code,
            status,
            message,
            reason,
        },
        request_object: r.request_object.filter(|_| level >= Level::Request),
        response_object: r
            .response_object
            .filter(|_| level >= Level::RequestResponse),
        request_received_timestamp: proto::time::format_rfc3339_micros(r.received),
        stage_timestamp: proto::time::now_rfc3339_micros(),
        annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn each_request_is_one_kubernetes_event_line() {
        let buf = Buffer::default();
        let policy = Policy::parse(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  verbs: [watch]\n- level: Request\n  resources: [{group: \"\", resources: [configmaps]}]\n- level: Metadata\n",
        )
        .unwrap();
        let audit = Audit::with_writer(policy, Box::new(buf.clone()));
        let user = User::new("alice", &["devs"]);
        let denied: tonic::Status = proto::ApiError::forbidden("nope").into();
        let get = Attributes::resource("get", "", "secrets", "team", "s");
        audit.log(Record {
            user: &user,
            attrs: &get,
            source_ip: Some("10.0.0.7".parse().unwrap()),
            received: SystemTime::now(),
            decision: &Decision::NoOpinion(String::new()),
            outcome: Err(&denied),
            created: false,
            request_object: None,
            response_object: Some(serde_json::json!({"secret": "x"})),
        });
        let watch = Attributes::resource("watch", "", "pods", "", "");
        audit.log(Record {
            user: &user,
            attrs: &watch,
            source_ip: None,
            received: SystemTime::now(),
            decision: &Decision::Allow,
            outcome: Ok(()),
            created: false,
            request_object: None,
            response_object: None,
        });
        let create = Attributes::resource("create", "", "configmaps", "team", "c");
        audit.log(Record {
            user: &user,
            attrs: &create,
            source_ip: None,
            received: SystemTime::now(),
            decision: &Decision::Allow,
            outcome: Ok(()),
            created: true,
            request_object: Some(serde_json::json!({"data": {"k": "v"}})),
            response_object: Some(serde_json::json!({"data": {"k": "v"}})),
        });
        let lines = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
                if text.lines().count() >= 2 {
                    return text;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
        let events: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 2, "the watch is at level None: {lines}");
        let e = &events[0];
        assert_eq!(e["kind"], "Event");
        assert_eq!(e["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(e["level"], "Metadata");
        assert_eq!(e["stage"], "ResponseComplete");
        assert_eq!(e["verb"], "get");
        assert_eq!(e["user"]["username"], "alice");
        assert_eq!(e["sourceIPs"][0], "10.0.0.7");
        assert_eq!(e["objectRef"]["resource"], "secrets");
        assert_eq!(e["objectRef"]["namespace"], "team");
        assert_eq!(e["responseStatus"]["code"], 403);
        assert_eq!(e["annotations"]["authorization.k8s.io/decision"], "forbid");
        assert!(
            e.get("responseObject").is_none(),
            "Metadata carries no bodies"
        );
        let c = &events[1];
        assert_eq!(c["level"], "Request");
        assert_eq!(c["responseStatus"]["code"], 201);
        assert_eq!(c["requestObject"]["data"]["k"], "v");
        assert!(c.get("responseObject").is_none());
        assert_eq!(audit.dropped(), 0);
    }
}
