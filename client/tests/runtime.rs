//! The controller runtime against a real in-process apiserver: keys reconciled with the
//! cached object (None once deleted), owned objects enqueue their controller, errors retried
//! with back-off, and a stopped controller leaves no handler on the shared informers.

mod common;

use apiserver::testing::TestServer;
use client::runtime::{Action, Controller, ReconcileError, Request, backoff};
use client::{Api, DeleteParams, Informer, InformerConfig};
use common::{config_map, connect, eventually, namespace};
use proto::Resource;
use proto::k8s::{ConfigMap, OwnerReference, Secret};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;
impl ReconcileError for Boom {}

#[derive(Default)]
struct Seen {
    /// (key, object present) per reconcile, in order.
    calls: Mutex<Vec<(String, bool)>>,
}

impl Seen {
    fn count(&self, key: &str, present: bool) -> usize {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(k, p)| k == key && *p == present)
            .count()
    }
}

async fn reconcile(req: Request<ConfigMap>, seen: Arc<Seen>) -> Result<Action, Boom> {
    let n = {
        let mut calls = seen.calls.lock().unwrap();
        calls.push((req.key.clone(), req.object.is_some()));
        calls.iter().filter(|(k, _)| *k == req.key).count()
    };
    if req.key == "rt/flaky" && n < 3 {
        return Err(Boom);
    }
    Ok(Action::Done)
}

#[tokio::test]
async fn reconciles_owners_retries_errors_sees_deletes_and_cleans_up() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "rt").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "rt");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "rt");
    let owner = cms.create(&config_map("owner", &[])).await.unwrap();

    let cm_informer = Arc::new(Informer::new(cms.clone(), InformerConfig::default()));
    let secret_informer = Arc::new(Informer::new(secrets.clone(), InformerConfig::default()));
    cm_informer.start();
    secret_informer.start();
    let seen = Arc::new(Seen::default());
    let cancel = CancellationToken::new();
    let controller = Controller::new("test", cm_informer.clone())
        .owns(secret_informer.clone())
        .workers(2);
    let task = tokio::spawn(controller.run(reconcile, backoff, seen.clone(), cancel.clone()));

    eventually(WAIT, "the cached owner reconciled", || {
        seen.count("rt/owner", true) == 1
    })
    .await;
    assert_eq!(cm_informer.handler_count(), 1);
    assert_eq!(secret_informer.handler_count(), 1);

    // An owned Secret enqueues its controller (uid-checked).
    let mut secret = Secret::default();
    secret.meta_mut().name = "owned".into();
    secret.meta_mut().owner_references.push(OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner.meta().uid.clone(),
        controller: Some(true),
        ..Default::default()
    });
    secrets.create(&secret).await.unwrap();
    eventually(WAIT, "the owner reconciled for its Secret", || {
        seen.count("rt/owner", true) == 2
    })
    .await;

    // Errors come back with back-off until the reconcile succeeds.
    cms.create(&config_map("flaky", &[])).await.unwrap();
    eventually(WAIT, "a failing key retried until it succeeds", || {
        seen.count("rt/flaky", true) == 3
    })
    .await;

    // A deleted object's key is reconciled with no object.
    cms.delete("flaky", &DeleteParams::default()).await.unwrap();
    eventually(WAIT, "the deleted key reconciled as gone", || {
        seen.count("rt/flaky", false) == 1
    })
    .await;

    cancel.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("run returns after cancel")
        .unwrap();
    assert_eq!(cm_informer.handler_count(), 0, "handlers taken off");
    assert_eq!(secret_informer.handler_count(), 0, "handlers taken off");
}

#[tokio::test]
async fn a_controller_cancelled_before_its_caches_sync_returns_and_cleans_up() {
    // Nothing listens here: the informer never syncs.
    let client = client::Client::lazy("http://127.0.0.1:1").unwrap();
    let informer = Arc::new(Informer::new(
        Api::<ConfigMap>::all(client),
        InformerConfig::default(),
    ));
    informer.start();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(Controller::new("test", informer.clone()).run(
        reconcile,
        backoff,
        Arc::new(Seen::default()),
        cancel.clone(),
    ));
    eventually(WAIT, "the controller's handler on", || {
        informer.handler_count() == 1
    })
    .await;
    cancel.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the sync wait gives way to cancellation")
        .unwrap();
    assert_eq!(informer.handler_count(), 0);
    informer.stop();
}
