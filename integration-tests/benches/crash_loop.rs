//! The store under crashes, repeated: the real apiserver binary SIGKILLed `CRASH_ROUNDS`
//! times (default 100) under concurrent writers, each restart checked for every
//! acknowledged write, the watch resume and revisions never reused
//! (`integration_tests::crash_loop`). Exits non-zero on any loss.
//!
//!     cargo build -p apiserver --bin apiserver
//!     cargo bench -p integration-tests --bench crash_loop
//!
//! Environment: CRASH_ROUNDS (100), CRASH_WRITERS (8), CRASH_KEYS (16 per writer),
//! CRASH_KILL_MS ("200-2000": the kill comes this long after the writers start),
//! CRASH_SEED (the clock).

use std::time::{Duration, Instant};

use integration_tests::crash_loop::{Config, run};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not valid");
            std::process::exit(2)
        }),
        Err(_) => default,
    }
}

fn kill_window() -> (Duration, Duration) {
    let v = std::env::var("CRASH_KILL_MS").unwrap_or_else(|_| "200-2000".into());
    let parsed = v
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .filter(|(a, b)| a <= b);
    match parsed {
        Some((a, b)) => (Duration::from_millis(a), Duration::from_millis(b)),
        None => {
            eprintln!("CRASH_KILL_MS={v:?}: want MIN-MAX in milliseconds, e.g. 200-2000");
            std::process::exit(2)
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument means "not this one".
    if std::env::args().skip(1).any(|a| !a.starts_with("--")) {
        return;
    }
    let seed = env(
        "CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    );
    let cfg = Config {
        rounds: env("CRASH_ROUNDS", 100),
        writers: env("CRASH_WRITERS", 8),
        keys_per_writer: env("CRASH_KEYS", 16),
        kill_after: kill_window(),
        seed,
        verbose: true,
    };
    let dir = match tempfile::Builder::new()
        .prefix(&format!("crash-loop-{}-", std::process::id()))
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot make a temp dir: {e}");
            std::process::exit(2)
        }
    };
    println!(
        "crash loop: {} rounds, {} writers x {} keys (configmaps and secrets in 4 namespaces), kill {:?}-{:?} after the writers start, seed {seed}, data {}",
        cfg.rounds,
        cfg.writers,
        cfg.keys_per_writer,
        cfg.kill_after.0,
        cfg.kill_after.1,
        dir.path().display()
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            std::process::exit(2)
        }
    };
    let started = Instant::now();
    let report = rt.block_on(run(&cfg, dir.path()));
    let in_flight: usize = report.rounds.iter().map(|r| r.in_flight).sum();
    let applied: usize = report.rounds.iter().map(|r| r.in_flight_applied).sum();
    println!();
    println!("rounds (SIGKILLs)               {}", report.rounds.len());
    println!("acknowledged writes checked     {}", report.acked());
    println!("acknowledged writes lost        {}", report.lost());
    println!("  not delivered by the watch    {}", report.watch_missed());
    println!("unanswered writes at the kill   {in_flight} ({applied} found applied)");
    println!("watch events checked            {}", report.watch_events());
    println!(
        "restart (kill to first request) p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        report.restart_percentile(0.5).as_secs_f64() * 1000.0,
        report.restart_percentile(0.99).as_secs_f64() * 1000.0,
        report.restart_percentile(1.0).as_secs_f64() * 1000.0
    );
    println!(
        "last revision                   {}",
        report.rounds.last().map(|r| r.revision).unwrap_or(0)
    );
    println!(
        "wall time                       {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if !report.unexpected_errors.is_empty() {
        println!(
            "errors from a live server (not the kill): {}",
            report.unexpected_errors.len()
        );
        for e in report.unexpected_errors.iter().take(10) {
            println!("  {e}");
        }
    }
    if report.failures.is_empty() && report.rounds.len() == cfg.rounds {
        println!(
            "PASS: nothing acknowledged was lost, no revision reused, every watch resumed exactly"
        );
        return;
    }
    println!("FAIL: {} problems", report.failures.len());
    for f in report.failures.iter().take(40) {
        println!("  {f}");
    }
    // Keep the data and logs for a look.
    let kept = dir.keep();
    println!("data and apiserver logs kept in {}", kept.display());
    std::process::exit(1);
}
