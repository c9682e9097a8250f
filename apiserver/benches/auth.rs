//! What identity and access cost: API creates/s and per-request latency through the same
//! build twice in one run, once plain (plaintext HTTP/2, `AlwaysAllow`) and once secure
//! (TLS, client-certificate authentication, `Node,RBAC` with the caller's rights coming from
//! a RoleBinding, so every request walks the RBAC rules rather than the `system:masters`
//! shortcut). The issue's target: secure throughput at least 0.8 of plain.
//!
//! `cargo bench -p apiserver --bench auth` (env BENCH_SCALE=0.2 for a quick run)

mod common;
use common::{Figures, cm, measure, scale};

use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{Client, ConnectionConfig, Credentials};
use proto::Resource;
use proto::k8s::*;

/// `total` creates over `concurrency` tasks sharing `clients` (one connection each).
async fn creates(clients: &[Client], concurrency: usize, total: usize, prefix: &str) -> Figures {
    let clients: Arc<Vec<Client>> = Arc::new(clients.to_vec());
    let prefix: Arc<str> = prefix.into();
    measure(concurrency, total, move |t, i| {
        let c = clients[t % clients.len()].clone();
        let name = format!("{prefix}-{i}");
        async move {
            c.create(cm("bench", &name)).await.expect("create");
        }
    })
    .await
}

async fn namespace(client: &Client) {
    let mut n = Namespace::default();
    n.meta_mut().name = "bench".into();
    client.create(n.into_object()).await.expect("namespace");
}

async fn plain(dir: &std::path::Path) -> (apiserver::RunningServer, Vec<Client>) {
    let server = apiserver::start(apiserver::Config::for_dir(
        dir.to_path_buf(),
        "127.0.0.1:0".parse().expect("addr"),
    ))
    .await
    .expect("plain apiserver");
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(Client::connect(&server.url()).await.expect("connect"));
    }
    namespace(&clients[0]).await;
    (server, clients)
}

/// `modes`: the authorization modes; with `AlwaysAllow` this measures TLS and
/// authentication alone.
async fn secure(dir: &std::path::Path, modes: &[&str]) -> (apiserver::RunningServer, Vec<Client>) {
    let mut config =
        apiserver::Config::for_dir(dir.to_path_buf(), "127.0.0.1:0".parse().expect("addr"));
    config.insecure_plaintext = false;
    config.authorization_mode = modes.iter().map(|m| m.to_string()).collect();
    let server = apiserver::start(config).await.expect("secure apiserver");
    let mut admin = client::Kubeconfig::load(&dir.join("admin.kubeconfig"))
        .and_then(|k| k.connection(None))
        .expect("admin kubeconfig");
    // The kubeconfig names the advertise address; this server listens on loopback only.
    admin.server = server.url();
    let admin = Client::connect_with(&admin).await.expect("admin connect");
    namespace(&admin).await;
    // The benchmark user may edit the namespace through a RoleBinding, nothing more.
    let mut binding = RoleBinding::default();
    binding.meta_mut().name = "bench-edit".into();
    binding.meta_mut().namespace = "bench".into();
    binding.role_ref = Some(RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: "ClusterRole".into(),
        name: "edit".into(),
    });
    binding.subjects.push(Subject {
        kind: "User".into(),
        api_group: "rbac.authorization.k8s.io".into(),
        name: "bench-user".into(),
        ..Default::default()
    });
    admin
        .create(binding.into_object())
        .await
        .expect("rolebinding");
    let pki = dir.join("pki");
    let read = |f: &str| std::fs::read_to_string(pki.join(f)).expect("pki file");
    let ca = pki::ca::Ca::from_pem(&read("ca.crt"), &read("ca.key")).expect("ca");
    let user = ca
        .issue(&pki::ca::CertSpec {
            common_name: "bench-user".into(),
            organizations: vec![],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![pki::ca::Usage::ClientAuth],
            validity: Duration::from_secs(3600),
        })
        .expect("user cert");
    let conn = ConnectionConfig {
        credentials: Credentials::ClientCert {
            cert_pem: user.cert_pem,
            key_pem: user.key_pem,
        },
        ..admin.connection().clone()
    };
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(Client::connect_with(&conn).await.expect("connect"));
    }
    // The RBAC cache follows the store through a watch: wait until the binding counts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while clients[0].create(cm("bench", "probe")).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the RoleBinding never took effect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (server, clients)
}

fn line(what: &str, p: &Figures, s: &Figures) {
    println!(
        "{what:<28} plain {:>8.0}/s p50 {:>6.2} ms p99 {:>6.2} ms | secure {:>8.0}/s p50 {:>6.2} ms p99 {:>6.2} ms | ratio {:.2}",
        p.per_second,
        p.p50.as_secs_f64() * 1e3,
        p.p99.as_secs_f64() * 1e3,
        s.per_second,
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.per_second / p.per_second
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::Builder::new()
            .prefix("auth-bench-")
            .tempdir()
            .expect("temp dir");
        println!(
            "# TLS + authentication + RBAC against plain, same build, same run (compare ratios)"
        );
        let (plain_server, plain_clients) = plain(&dir.path().join("plain")).await;
        let (secure_server, secure_clients) =
            secure(&dir.path().join("secure"), &["Node", "RBAC"]).await;
        let (tls_server, tls_clients) = secure(&dir.path().join("tls"), &["AlwaysAllow"]).await;
        let plain_clients = Arc::new(plain_clients);
        let secure_clients = Arc::new(secure_clients);
        let n1 = scale(1000);
        let n16 = scale(4000);
        // Interleaved, so drift of the machine hits both alike.
        let p1 = creates(&plain_clients, 1, n1, "p1").await;
        let s1 = creates(&secure_clients, 1, n1, "s1").await;
        let p16 = creates(&plain_clients, 16, n16, "p16").await;
        let s16 = creates(&secure_clients, 16, n16, "s16").await;
        let t16 = creates(&tls_clients, 16, n16, "t16").await;
        line("create, 1 client", &p1, &s1);
        line("create, 16 clients", &p16, &s16);
        line("16 clients, TLS+authn only", &p16, &t16);
        // A fresh connection per request: the TLS handshake's cost, which long-lived
        // clients (every daemon) pay once.
        let started = Instant::now();
        let handshakes = scale(200);
        let conn = secure_clients[0].connection().clone();
        for i in 0..handshakes {
            let c = Client::connect_with(&conn).await.expect("connect");
            c.create(cm("bench", &format!("hs-{i}")))
                .await
                .expect("create");
        }
        println!(
            "new TLS connection + create      {:>8.2} ms each",
            started.elapsed().as_secs_f64() * 1e3 / handshakes as f64
        );
        plain_server.shutdown().await.expect("shutdown");
        secure_server.shutdown().await.expect("shutdown");
        tls_server.shutdown().await.expect("shutdown");
    });
}
