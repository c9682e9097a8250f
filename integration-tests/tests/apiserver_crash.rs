//! The apiserver binary as a separate process, driven by the `ctl` binary and a gRPC
//! client, SIGKILLed in the middle of a stream of concurrent writes and restarted: every
//! acknowledged write must still be there, and a watch must resume from the last
//! resourceVersion it saw with no acknowledged change missing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use integration_tests::{ctl, free_addr, spawn_apiserver, text, wait_ready};
use proto::Resource;
use proto::k8s::{ConfigMap, WatchRequest};

fn configmap(name: &str, i: usize) -> proto::Object {
    let mut cm = ConfigMap::default();
    cm.meta_mut().name = name.to_string();
    cm.meta_mut().namespace = "crash".to_string();
    cm.data.insert("i".to_string(), i.to_string());
    cm.into_object()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_watch_resumes() {
    let dir = tempfile::Builder::new()
        .prefix("it-crash-")
        .tempdir()
        .expect("temp dir");
    let data = dir.path().join("data");
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut server = spawn_apiserver(&data, addr, dir.path().join("apiserver-1.log"));
    let client = wait_ready(&url, &mut server, Duration::from_secs(20)).await;

    // Drive it with ctl as a user would.
    let out = ctl(
        &url,
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: crash\n"),
    );
    assert!(
        out.status.success(),
        "ctl apply namespace failed: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("namespace/crash created"),
        "ctl said: {}",
        text(&out.stdout)
    );

    // A watcher that records every revision it sees.
    let seen: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let last_seen_rv = Arc::new(Mutex::new(0u64));
    let mut stream = client
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "crash".into(),
            resource_version: "1".into(),
            ..Default::default()
        })
        .await
        .expect("watch starts");
    let (seen_w, last_w) = (seen.clone(), last_seen_rv.clone());
    // It goes away after 100 events, as a client that loses its connection would, and
    // resumes later from the last resourceVersion it saw.
    let watcher = tokio::spawn(async move {
        while let Some(Ok(ev)) = stream.next().await {
            if seen_w.lock().unwrap().len() >= 100 {
                return;
            }
            let rv: u64 = ev.resource_version.parse().unwrap_or(0);
            if let Some(o) = ev.object {
                seen_w.lock().unwrap().insert(o.meta().name.clone(), rv);
            }
            *last_w.lock().unwrap() = rv;
        }
    });

    // Eight concurrent writers; each records what the server acknowledged.
    let acked: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, acked) = (client.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..100_000 {
                let name = format!("cm-{w}-{i}");
                match client.create(configmap(&name, i)).await {
                    Ok(o) => {
                        let rv = o
                            .meta()
                            .resource_version
                            .parse()
                            .expect("numeric resourceVersion");
                        acked.lock().unwrap().insert(name, rv);
                    }
                    Err(_) => return, // the server died under us: expected
                }
            }
        }));
    }
    // Kill it while writes are in flight.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for w in writers {
        let _ = w.await;
    }
    watcher.abort();
    let acked = acked.lock().unwrap().clone();
    let resume_from = *last_seen_rv.lock().unwrap();
    assert!(acked.len() >= 300, "writers stopped early");

    // Restart on the same data and port.
    let mut server = spawn_apiserver(&data, addr, dir.path().join("apiserver-2.log"));
    let client = wait_ready(&url, &mut server, Duration::from_secs(30)).await;

    // Every acknowledged write is there, at the revision acknowledged (nothing rewrote it).
    let mut missing = Vec::new();
    for (name, rv) in &acked {
        match client.get("configmaps", "crash", name).await {
            Ok(o) => assert_eq!(
                &o.meta().resource_version,
                &rv.to_string(),
                "{name} changed revision"
            ),
            Err(e) => missing.push(format!("{name}: {e}")),
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost after SIGKILL: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );

    // A watch resumes from the last revision the first watcher saw, and together the two
    // watchers saw every acknowledged create, each at its acknowledged revision.
    let mut stream = client
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "crash".into(),
            resource_version: resume_from.to_string(),
            allow_watch_bookmarks: true,
            ..Default::default()
        })
        .await
        .expect("watch resumes from its last resourceVersion");
    let mut resumed = BTreeMap::new();
    // Everything stored after resume_from: the acknowledged writes and any write that was
    // durable but whose answer the SIGKILL swallowed.
    let stored = client
        .list(proto::k8s::ListRequest {
            resource: "configmaps".into(),
            namespace: "crash".into(),
            ..Default::default()
        })
        .await
        .expect("list after restart");
    let stored: BTreeMap<String, u64> = stored
        .items
        .iter()
        .map(|o| {
            (
                o.meta().name.clone(),
                o.meta().resource_version.parse().unwrap_or(0),
            )
        })
        .collect();
    let want: BTreeSet<&String> = stored
        .iter()
        .filter(|(_, rv)| **rv > resume_from)
        .map(|(n, _)| n)
        .collect();
    assert!(
        want.len() >= 150,
        "the resumed watch has too little to prove: {} objects after {resume_from}",
        want.len()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while want.iter().any(|n| !resumed.contains_key(*n)) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(2), stream.next()).await {
            Ok(Some(Ok(ev))) => {
                let rv: u64 = ev.resource_version.parse().unwrap_or(0);
                assert!(
                    rv > resume_from,
                    "resumed watch replayed revision {rv} <= {resume_from}"
                );
                if let Some(o) = ev.object {
                    assert_eq!(ev.r#type, "ADDED");
                    resumed.insert(o.meta().name.clone(), rv);
                }
            }
            Ok(other) => panic!("resumed watch ended: {other:?}"),
            Err(_) => {}
        }
    }
    let seen = seen.lock().unwrap().clone();
    eprintln!(
        "acknowledged before SIGKILL: {}, seen by the first watch: {}, resumed from {resume_from}: {} more",
        acked.len(),
        seen.len(),
        resumed.len()
    );
    for (name, rv) in &acked {
        let got = resumed.get(name).or(seen.get(name));
        assert_eq!(
            got,
            Some(rv),
            "acknowledged create of {name} at {rv} was not delivered by either watch"
        );
    }
    // Exactly what is stored after resume_from, nothing more (no phantom or replayed events).
    let resumed_names: BTreeSet<&String> = resumed.keys().collect();
    assert_eq!(
        resumed_names, want,
        "the resumed watch must deliver exactly the objects written after {resume_from}"
    );

    // ctl sees the same state after the restart.
    let out = ctl(
        &url,
        &["get", "configmaps", "-n", "crash", "-o", "name"],
        None,
    );
    assert!(
        out.status.success(),
        "ctl get failed: {}",
        text(&out.stderr)
    );
    let listed = text(&out.stdout).lines().count();
    assert!(
        listed >= acked.len(),
        "ctl listed {listed} configmaps, {} were acknowledged",
        acked.len()
    );

    // A clean stop exits 0.
    assert!(
        server.terminate(Duration::from_secs(15)),
        "apiserver did not stop cleanly on SIGTERM:\n{}",
        server.log_text()
    );
    // And ctl against a stopped server fails fast with one line.
    let out = ctl(&url, &["get", "pods"], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(
        err.trim().lines().count(),
        1,
        "expected a one-line error, got: {err}"
    );
    assert!(
        err.contains("connect") || err.contains("reach"),
        "error does not name the cause: {err}"
    );
}

/// The crash loop of `benches/crash_loop.rs`, three rounds: SIGKILL under eight writers
/// of ConfigMaps and Secrets, restart, every acknowledged write and both watches checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sigkills_under_concurrent_writers_lose_nothing() {
    let dir = tempfile::Builder::new()
        .prefix("it-crash-loop-")
        .tempdir()
        .expect("temp dir");
    let cfg = integration_tests::crash_loop::Config {
        rounds: 3,
        writers: 8,
        keys_per_writer: 8,
        kill_after: (Duration::from_millis(300), Duration::from_millis(800)),
        seed: 20,
        verbose: true,
    };
    let report = integration_tests::crash_loop::run(&cfg, dir.path()).await;
    assert!(
        report.failures.is_empty(),
        "crash loop failed:\n{}",
        report.failures.join("\n")
    );
    assert_eq!(report.rounds.len(), 3);
    assert_eq!(report.lost(), 0);
    // Something was at stake in every round.
    for r in &report.rounds {
        assert!(r.acked > 0, "round {} acknowledged nothing: {r:?}", r.round);
        assert!(
            r.watch_events > 0,
            "round {} watched nothing: {r:?}",
            r.round
        );
    }
}
