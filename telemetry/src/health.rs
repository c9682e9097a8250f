//! Health checks answered as Kubernetes' components answer `/healthz`, `/livez` and
//! `/readyz` (`k8s.io/apiserver/pkg/server/healthz`): `ok`, or with `?verbose` one line per
//! check and `<endpoint> check passed`; a failing check makes the answer 500 and names the
//! check without its reason (`[-]informer-sync failed: reason withheld`), the reason goes
//! to the log. `/<endpoint>/<check>` asks one check; `?exclude=<check>` (repeatable) skips
//! checks.

use std::sync::{Arc, RwLock};

/// Which endpoints a check counts for. `/healthz` runs every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Failing means the process should be restarted (`/livez`).
    Livez,
    /// Failing means the process should get no traffic or work yet (`/readyz`).
    Readyz,
    Both,
}

impl Probe {
    fn counts_for(self, endpoint: Endpoint) -> bool {
        matches!(
            (endpoint, self),
            (Endpoint::Healthz, _)
                | (_, Probe::Both)
                | (Endpoint::Livez, Probe::Livez)
                | (Endpoint::Readyz, Probe::Readyz)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Healthz,
    Livez,
    Readyz,
}

impl Endpoint {
    fn parse(segment: &str) -> Option<Endpoint> {
        match segment {
            "healthz" => Some(Endpoint::Healthz),
            "livez" => Some(Endpoint::Livez),
            "readyz" => Some(Endpoint::Readyz),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::Healthz => "healthz",
            Endpoint::Livez => "livez",
            Endpoint::Readyz => "readyz",
        }
    }
}

type CheckFn = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
struct Check {
    name: String,
    probe: Probe,
    run: CheckFn,
}

/// A daemon's health checks. Clones share their checks, so a check added after the
/// endpoints started serving is answered too (informer sync known only later).
#[derive(Clone)]
pub struct Health {
    checks: Arc<RwLock<Vec<Check>>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.checks().into_iter().map(|c| c.name).collect();
        f.debug_struct("Health").field("checks", &names).finish()
    }
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

/// Kubernetes' answer to a path that names no endpoint or check (Go's `http.NotFound`).
const NOT_FOUND: &str = "404 page not found\n";

impl Health {
    /// Checks with only `ping`, which always passes (Kubernetes' `healthz.PingHealthz`).
    pub fn new() -> Self {
        let health = Health {
            checks: Arc::default(),
        };
        health.add_check("ping", Probe::Both, || Ok(()));
        health
    }

    /// Adds a check; a later check of the same name replaces the earlier one.
    pub fn add_check<F>(&self, name: impl Into<String>, probe: Probe, check: F)
    where
        F: Fn() -> Result<(), String> + Send + Sync + 'static,
    {
        let name = name.into();
        // A poisoned lock means a writer panicked between two whole vectors.
        let mut checks = self.checks.write().unwrap_or_else(|e| e.into_inner());
        checks.retain(|c| c.name != name);
        checks.push(Check {
            name,
            probe,
            run: Arc::new(check),
        });
    }

    fn checks(&self) -> Vec<Check> {
        self.checks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The status code and body for `path` (`/healthz`, `/livez/ping`, ...) with the raw
    /// query string (`verbose`, `exclude=a&exclude=b`).
    pub fn answer(&self, path: &str, query: Option<&str>) -> (u16, String) {
        let mut segments = path.trim_start_matches('/').splitn(2, '/');
        let Some(endpoint) = segments.next().and_then(Endpoint::parse) else {
            return (404, NOT_FOUND.to_string());
        };
        // Only this endpoint's checks are routed under it, as Kubernetes installs them.
        let checks: Vec<Check> = self
            .checks()
            .into_iter()
            .filter(|c| c.probe.counts_for(endpoint))
            .collect();
        match segments.next() {
            None | Some("") => answer_all(endpoint, &checks, &Query::parse(query)),
            Some(name) => match checks.iter().find(|c| c.name == name) {
                Some(check) => match (check.run)() {
                    Ok(()) => (200, "ok".to_string()),
                    Err(reason) => (500, format!("internal server error: {reason}\n")),
                },
                None => (404, NOT_FOUND.to_string()),
            },
        }
    }
}

/// What the query asks of an answer.
#[derive(Debug, Default, PartialEq, Eq)]
struct Query {
    verbose: bool,
    exclude: Vec<String>,
}

impl Query {
    fn parse(query: Option<&str>) -> Query {
        let mut q = Query::default();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "verbose" => q.verbose = true,
                "exclude" if !value.is_empty() => q.exclude.push(value.to_string()),
                _ => {}
            }
        }
        q
    }
}

fn answer_all(endpoint: Endpoint, checks: &[Check], query: &Query) -> (u16, String) {
    let mut lines = String::new();
    let mut failed = false;
    let mut unmatched: Vec<&str> = query.exclude.iter().map(String::as_str).collect();
    for check in checks {
        if query.exclude.contains(&check.name) {
            unmatched.retain(|e| *e != check.name);
            lines.push_str(&format!("[+]{} excluded: ok\n", check.name));
            continue;
        }
        match (check.run)() {
            Ok(()) => lines.push_str(&format!("[+]{} ok\n", check.name)),
            Err(reason) => {
                failed = true;
                tracing::info!(endpoint = endpoint.name(), check = %check.name, %reason, "health check failed");
                lines.push_str(&format!("[-]{} failed: reason withheld\n", check.name));
            }
        }
    }
    if !unmatched.is_empty() {
        let quoted: Vec<String> = unmatched.iter().map(|e| format!("{e:?}")).collect();
        lines.push_str(&format!(
            "warn: some health checks cannot be excluded: no matches for {}\n",
            quoted.join(",")
        ));
    }
    let name = endpoint.name();
    if failed {
        // Go's http.Error adds the newline.
        (500, format!("{lines}{name} check failed\n"))
    } else if query.verbose {
        (200, format!("{lines}{name} check passed\n"))
    } else {
        (200, "ok".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn health_with_sync(synced: Arc<AtomicBool>) -> Health {
        let h = Health::new();
        h.add_check("informer-sync", Probe::Readyz, move || {
            if synced.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("pods not synced".into())
            }
        });
        h
    }

    #[test]
    fn ok_then_verbose_lists_each_check() {
        let h = health_with_sync(Arc::new(AtomicBool::new(true)));
        assert_eq!(h.answer("/healthz", None), (200, "ok".into()));
        assert_eq!(h.answer("/livez", Some("")), (200, "ok".into()));
        assert_eq!(
            h.answer("/readyz", Some("verbose")),
            (
                200,
                "[+]ping ok\n[+]informer-sync ok\nreadyz check passed\n".into()
            )
        );
        assert_eq!(
            h.answer("/healthz", Some("verbose=1")),
            (
                200,
                "[+]ping ok\n[+]informer-sync ok\nhealthz check passed\n".into()
            )
        );
        // A readyz-only check is not part of livez.
        assert_eq!(
            h.answer("/livez", Some("verbose")),
            (200, "[+]ping ok\nlivez check passed\n".into())
        );
    }

    #[test]
    fn a_failing_check_is_500_with_its_reason_withheld() {
        let synced = Arc::new(AtomicBool::new(false));
        let h = health_with_sync(synced.clone());
        let failed = (
            500,
            "[+]ping ok\n[-]informer-sync failed: reason withheld\nreadyz check failed\n"
                .to_string(),
        );
        // Not verbose: the lines are still given, as Kubernetes does on failure.
        assert_eq!(h.answer("/readyz", None), failed);
        assert_eq!(h.answer("/readyz", Some("verbose")), failed);
        assert_eq!(h.answer("/livez", None), (200, "ok".into()));
        assert_eq!(h.answer("/healthz", None).0, 500);
        synced.store(true, Ordering::SeqCst);
        assert_eq!(h.answer("/readyz", None), (200, "ok".into()));
    }

    #[test]
    fn exclude_skips_checks_and_warns_of_unknown_names() {
        let h = health_with_sync(Arc::new(AtomicBool::new(false)));
        assert_eq!(
            h.answer("/readyz", Some("exclude=informer-sync")),
            (200, "ok".into())
        );
        assert_eq!(
            h.answer("/readyz", Some("verbose&exclude=informer-sync&exclude=nope")),
            (
                200,
                "[+]ping ok\n[+]informer-sync excluded: ok\nwarn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check passed\n"
                    .into()
            )
        );
    }

    #[test]
    fn one_check_by_path() {
        let synced = Arc::new(AtomicBool::new(false));
        let h = health_with_sync(synced.clone());
        assert_eq!(h.answer("/livez/ping", None), (200, "ok".into()));
        assert_eq!(
            h.answer("/readyz/informer-sync", None),
            (500, "internal server error: pods not synced\n".into())
        );
        // Routed only under the endpoints it counts for.
        assert_eq!(h.answer("/livez/informer-sync", None).0, 404);
        assert_eq!(h.answer("/healthz/informer-sync", None).0, 500);
        synced.store(true, Ordering::SeqCst);
        assert_eq!(h.answer("/readyz/informer-sync", None), (200, "ok".into()));
        assert_eq!(h.answer("/readyz/nope", None), (404, NOT_FOUND.into()));
        assert_eq!(h.answer("/metrics", None).0, 404);
    }

    #[test]
    fn clones_share_checks_and_a_name_is_replaced() {
        let h = Health::new();
        let served = h.clone();
        h.add_check("leaderElection", Probe::Livez, || Err("lease lost".into()));
        assert_eq!(served.answer("/livez", None).0, 500);
        h.add_check("leaderElection", Probe::Livez, || Ok(()));
        assert_eq!(
            served.answer("/livez", Some("verbose")),
            (
                200,
                "[+]ping ok\n[+]leaderElection ok\nlivez check passed\n".into()
            )
        );
    }
}
