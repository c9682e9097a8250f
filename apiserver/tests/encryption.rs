//! Encryption at rest through the in-process apiserver and real gRPC: Secrets never reach
//! sled's files in plain, read back through the API and watches, survive Kubernetes' key
//! rotation procedure (new key second, new key first, rewrite, old key dropped), and a
//! resource not in the configuration stays plain.

use std::path::{Path, PathBuf};
use std::time::Duration;

use apiserver::store::Store;
use apiserver::store::sled_store::{SledOptions, SledStore};
use apiserver::testing::TestServer;
use futures::StreamExt;
use proto::Resource;
use proto::k8s::*;

mod common;
use common::*;

const SECRETS: usize = 5;
/// 32 bytes each, base64.
const KEY1: &str = "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=";
const KEY2: &str = "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=";

fn config(dir: &Path, name: &str, providers: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n{providers}"
    );
    std::fs::write(&path, text).expect("write the encryption config");
    path
}

fn aescbc_key1() -> String {
    format!(
        "      - aescbc:\n          keys:\n            - name: key1\n              secret: {KEY1}\n"
    )
}

fn aesgcm_key2() -> String {
    format!(
        "      - aesgcm:\n          keys:\n            - name: key2\n              secret: {KEY2}\n"
    )
}

fn secret(name: &str, marker: &str) -> Object {
    let mut s = Secret::default();
    s.meta_mut().name = name.into();
    s.meta_mut().namespace = "default".into();
    s.data
        .insert("password".into(), format!("{marker}-{name}").into_bytes());
    s.into_object()
}

fn secret_data(o: &Object) -> Vec<u8> {
    match &o.kind {
        Some(object::Kind::Secret(s)) => s.data.get("password").cloned().unwrap_or_default(),
        other => panic!("not a secret: {other:?}"),
    }
}

/// Every file under `dir` (recursively) that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read data dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).expect("read data file");
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    assert!(files > 0, "no files under {}", dir.display());
    found
}

/// The raw stored value of each secret, read from sled beneath the encryption (the server
/// must be stopped).
async fn raw_values(data_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let store = SledStore::open(data_dir, SledOptions::default()).expect("open sled");
    let items = store
        .list("/registry/secrets/default/", None, 0)
        .await
        .expect("list raw")
        .items;
    store.close().await.expect("close sled");
    items
        .into_iter()
        .map(|kv| (kv.key, kv.value.to_vec()))
        .collect()
}

fn assert_all_prefixed(raw: &[(String, Vec<u8>)], prefix: &str) {
    assert_eq!(raw.len(), SECRETS);
    for (key, value) in raw {
        assert!(
            value.starts_with(prefix.as_bytes()),
            "{key} is stored as {:?}..., want prefix {prefix}",
            String::from_utf8_lossy(&value[..value.len().min(30)])
        );
    }
}

/// The default namespace's Secrets listed, for the revision a watch starts from.
async fn secrets_revision(c: &mut Client) -> String {
    list(
        c,
        ListRequest {
            resource: "secrets".into(),
            namespace: "default".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .resource_version
}

/// A watch of the default namespace's Secrets from `rv`.
async fn watch_secrets(c: &mut Client, rv: String) -> tonic::Streaming<WatchEvent> {
    c.watch(WatchRequest {
        resource: "secrets".into(),
        namespace: "default".into(),
        resource_version: rv,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn read_all(c: &mut Client, marker: &str) {
    for i in 0..SECRETS {
        let name = format!("s{i}");
        let o = get(c, "secrets", "default", &name)
            .await
            .expect("get secret");
        assert_eq!(secret_data(&o), format!("{marker}-{name}").into_bytes());
    }
    let l = list(
        c,
        ListRequest {
            resource: "secrets".into(),
            namespace: "default".into(),
            ..Default::default()
        },
    )
    .await
    .expect("list secrets");
    assert_eq!(l.items.len(), SECRETS);
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_keys_rotate() {
    let marker = "encryption-test-marker-7f3a9c";
    let cm_marker = "encryption-test-configmap-plain-5d1e";
    let conf = tempfile::Builder::new()
        .prefix("encryption-test-conf-")
        .tempdir()
        .unwrap();
    let v1 = config(conf.path(), "v1", &aescbc_key1());
    let mut s = TestServer::start_with(|c| c.encryption_provider_config = Some(v1.clone())).await;
    let mut c = connect(&s).await;

    let start = secrets_revision(&mut c).await;
    let mut watch = watch_secrets(&mut c, start).await;
    for i in 0..SECRETS {
        create(&mut c, secret(&format!("s{i}"), marker))
            .await
            .unwrap();
    }
    create(&mut c, cm("default", "plain", &[("k", cm_marker)]))
        .await
        .unwrap();
    // A deleted secret leaves its last value in the event history: ciphertext only.
    create(&mut c, secret("gone", marker)).await.unwrap();
    delete_secret(&mut c, "gone").await;

    // Watch events decrypt: the ADDED objects carry the value.
    for i in 0..SECRETS {
        let ev = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("watch event in time")
            .expect("stream open")
            .expect("event");
        assert_eq!(ev.r#type, "ADDED");
        let o = ev.object.expect("object");
        assert_eq!(
            secret_data(&o),
            format!("{marker}-s{i}").into_bytes(),
            "watch event decrypted"
        );
    }
    drop(watch);
    read_all(&mut c, marker).await;

    // No file of the store holds the value; the configmap, not configured, is plain (which
    // also proves the search finds what is there).
    drop(c);
    s.stop_in_place().await;
    let dir = s.data_dir().to_path_buf();
    assert_eq!(
        files_containing(&dir, marker.as_bytes()),
        Vec::<PathBuf>::new(),
        "plaintext secret in the store's files"
    );
    assert!(!files_containing(&dir, cm_marker.as_bytes()).is_empty());
    assert_all_prefixed(&raw_values(&dir).await, "k8s:enc:aescbc:v1:key1:");

    // Rotation step 1: the new key second; step 2: the new key first. Values read, still
    // stored with the old key until rewritten.
    let v2 = config(conf.path(), "v2", &(aescbc_key1() + &aesgcm_key2()));
    s.restart_with(|c| c.encryption_provider_config = Some(v2.clone()))
        .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;
    let v3 = config(conf.path(), "v3", &(aesgcm_key2() + &aescbc_key1()));
    drop(c);
    s.restart_with(|c| c.encryption_provider_config = Some(v3.clone()))
        .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;

    // `kubectl replace` of an unchanged secret rewrites it with the new key...
    let s0 = get(&mut c, "secrets", "default", "s0").await.unwrap();
    let replaced = update(&mut c, s0.clone(), "").await.unwrap();
    assert_ne!(
        replaced.meta().resource_version,
        s0.meta().resource_version,
        "an unchanged object stored with an old key must be written again"
    );
    // ...and once current, an unchanged replace writes nothing again.
    let again = update(&mut c, replaced.clone(), "").await.unwrap();
    assert_eq!(
        again.meta().resource_version,
        replaced.meta().resource_version
    );
    drop(c);
    s.stop_in_place().await;
    let raw = raw_values(&dir).await;
    let by_key = |k: &str| raw.iter().find(|(key, _)| key.ends_with(k)).unwrap();
    assert!(by_key("/s0").1.starts_with(b"k8s:enc:aesgcm:v1:key2:"));
    assert!(by_key("/s1").1.starts_with(b"k8s:enc:aescbc:v1:key1:"));

    // Step 3: the rest rewritten by the apiserver itself.
    s.restart_with(|c| c.rewrite_encrypted_resources = true)
        .await;
    s.stop_in_place().await;
    assert_all_prefixed(&raw_values(&dir).await, "k8s:enc:aesgcm:v1:key2:");

    // Step 4: the old key dropped: everything still reads, through the API and a watch.
    let v4 = config(conf.path(), "v4", &aesgcm_key2());
    s.restart_with(|c| {
        c.encryption_provider_config = Some(v4.clone());
        c.rewrite_encrypted_resources = false;
    })
    .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;
    let now = get(&mut c, "secrets", "default", "s1").await.unwrap();
    // A watch resuming from before the rewrite would replay events whose previous values
    // only the dropped key could read: it is told to relist, as for a compacted revision.
    let mut old_watch = watch_secrets(&mut c, now.meta().resource_version.clone()).await;
    let first = tokio::time::timeout(Duration::from_secs(5), old_watch.next())
        .await
        .unwrap()
        .unwrap();
    let e = err(first.expect_err("events the old key wrote cannot be replayed"));
    assert_eq!(e.reason, proto::Reason::Expired, "{e:?}");
    drop(old_watch);
    // A client that relists watches from the list's revision, and its events decrypt.
    let relisted = secrets_revision(&mut c).await;
    let mut watch = watch_secrets(&mut c, relisted).await;
    let mut changed = now.clone();
    if let Some(object::Kind::Secret(x)) = &mut changed.kind {
        x.data.insert("password".into(), b"changed".to_vec());
    }
    update(&mut c, changed, "").await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.r#type, "MODIFIED");
    assert_eq!(secret_data(&ev.object.unwrap()), b"changed");
    drop(watch);
    drop(c);

    // Values under the old key are still in sled's files (history, stale pages) until a
    // compaction; with the rewrite in the same start, nothing of key1 is left.
    s.stop_in_place().await;
    let old_prefix = b"k8s:enc:aescbc:v1:key1:";
    assert!(!files_containing(&dir, old_prefix).is_empty());
    s.restart_with(|c| {
        c.rewrite_encrypted_resources = true;
        c.compact_store = true;
    })
    .await;
    let mut c = connect(&s).await;
    let s1 = get(&mut c, "secrets", "default", "s1").await.unwrap();
    assert_eq!(secret_data(&s1), b"changed");
    read_some(&mut c, marker, 2..SECRETS).await;
    drop(c);
    s.stop_in_place().await;
    assert_eq!(files_containing(&dir, old_prefix), Vec::<PathBuf>::new());
    assert!(!files_containing(&dir, b"k8s:enc:aesgcm:v1:key2:").is_empty());
    s.stop().await;
}

async fn read_some(c: &mut Client, marker: &str, range: std::ops::Range<usize>) {
    for i in range {
        let name = format!("s{i}");
        let o = get(c, "secrets", "default", &name)
            .await
            .expect("get secret");
        assert_eq!(secret_data(&o), format!("{marker}-{name}").into_bytes());
    }
}

async fn delete_secret(c: &mut Client, name: &str) {
    c.delete(DeleteRequest {
        resource: "secrets".into(),
        namespace: "default".into(),
        name: name.into(),
        ..Default::default()
    })
    .await
    .expect("delete secret");
}

/// Encryption turned on over existing plain Secrets (`aesgcm` then `identity`, as
/// Kubernetes documents): they read, the rewrite encrypts their records, sled's files still
/// hold the old plain text (see docs/security.md) until `--compact-store`.
#[tokio::test]
async fn encryption_turned_on_later_needs_rewrite_then_compaction_to_leave_no_plain_text() {
    let marker = "encryption-later-marker-b82e41";
    let conf = tempfile::Builder::new()
        .prefix("encryption-later-conf-")
        .tempdir()
        .unwrap();
    let mut s = TestServer::start().await;
    let mut c = connect(&s).await;
    for i in 0..SECRETS {
        create(&mut c, secret(&format!("s{i}"), marker))
            .await
            .unwrap();
    }
    drop(c);
    let with_identity = config(
        conf.path(),
        "later",
        &(aesgcm_key2() + "      - identity: {}\n"),
    );
    s.restart_with(|c| {
        c.encryption_provider_config = Some(with_identity.clone());
        c.rewrite_encrypted_resources = true;
    })
    .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;
    drop(c);
    s.stop_in_place().await;
    let dir = s.data_dir().to_path_buf();
    assert_all_prefixed(&raw_values(&dir).await, "k8s:enc:aesgcm:v1:key2:");
    // The history keeps the creates and the rewrites' previous values: still plain.
    let stale = files_containing(&dir, marker.as_bytes());
    assert!(
        !stale.is_empty(),
        "plain text written before encryption is expected in the history after a rewrite"
    );
    // The event history holds the plain values (the creates, and the rewrites' previous
    // values), and sled's log keeps older page images until it reuses their segments:
    // --compact-store rebuilds the files from the live, now encrypted, objects.
    s.restart_with(|c| {
        c.rewrite_encrypted_resources = false;
        c.compact_store = true;
    })
    .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;
    // The history went with it: a watch from before relists...
    let e = c
        .watch(WatchRequest {
            resource: "secrets".into(),
            namespace: "default".into(),
            resource_version: "1".into(),
            ..Default::default()
        })
        .await;
    let expired = match e {
        Err(status) => err(status),
        Ok(stream) => err(stream
            .into_inner()
            .next()
            .await
            .expect("an item")
            .expect_err("expired")),
    };
    assert_eq!(expired.reason, proto::Reason::Expired, "{expired:?}");
    // ...and writes go on from the revision the store had.
    let last = get(&mut c, "secrets", "default", "s0").await.unwrap();
    let next = create(&mut c, secret("after-compaction", marker))
        .await
        .unwrap();
    assert!(
        next.meta().resource_version.parse::<u64>().unwrap()
            > last.meta().resource_version.parse::<u64>().unwrap()
    );
    delete_secret(&mut c, "after-compaction").await;
    drop(c);
    s.stop_in_place().await;
    assert_eq!(
        files_containing(&dir, marker.as_bytes()),
        Vec::<PathBuf>::new(),
        "plain text left in the store's files after --compact-store"
    );
    assert!(!dir.with_file_name("data.compacting").exists());
    assert!(!dir.with_file_name("data.before-compaction").exists());

    // Without identity the old plain records would not have been readable at all: a
    // config with only the new key reads the rewritten ones.
    let only_key2 = config(conf.path(), "only", &aesgcm_key2());
    s.restart_with(|c| {
        c.encryption_provider_config = Some(only_key2.clone());
        c.compact_store = false;
    })
    .await;
    let mut c = connect(&s).await;
    read_all(&mut c, marker).await;
    drop(c);
    s.stop().await;
}

#[tokio::test]
async fn bad_encryption_config_refuses_to_start_with_one_line() {
    let tmp = tempfile::Builder::new()
        .prefix("encryption-bad-config-")
        .tempdir()
        .unwrap();
    let short_key = config(
        tmp.path(),
        "short",
        "      - aesgcm:\n          keys:\n            - name: k\n              secret: c2hvcnQ=\n",
    );
    let unknown = config(tmp.path(), "unknown", "      - rot13: {}\n");
    let cases = [
        (tmp.path().join("missing.yaml"), "cannot read"),
        (short_key, "secret is not of the expected length, got 5"),
        (unknown, "unknown field `rot13`"),
    ];
    for (path, want) in cases {
        let data_dir = tmp.path().join("data");
        let mut config =
            apiserver::Config::for_dir(data_dir.clone(), "127.0.0.1:0".parse().unwrap());
        config.encryption_provider_config = Some(path.clone());
        let err = match apiserver::start(config).await {
            Ok(_) => panic!("started with {}", path.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.starts_with("--encryption-provider-config: ") && err.contains(want),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(
            !data_dir.exists(),
            "a refused start must not touch the data dir"
        );
    }
}

/// The binary itself: exits non-zero with the reason on stderr.
#[test]
fn binary_refuses_a_missing_config() {
    let tmp = tempfile::Builder::new()
        .prefix("encryption-bad-binary-")
        .tempdir()
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiserver"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("--encryption-provider-config")
        .arg(tmp.path().join("nope.yaml"))
        .output()
        .expect("run apiserver");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--encryption-provider-config: cannot read"),
        "{stderr}"
    );
}

#[tokio::test]
async fn data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start().await;
    let mode = std::fs::metadata(s.data_dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
    s.stop().await;
}
