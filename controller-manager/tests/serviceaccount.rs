//! ServiceAccounts against an in-process apiserver: every namespace gets a `default`
//! ServiceAccount (made again if deleted), and every ServiceAccount a token Secret whose
//! JWT verifies with the public key the controller wrote beside its private key.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, since_rv, wait_for};
use controller_manager::controllers::serviceaccount::TOKEN_NAME;
use proto::Resource;
use proto::k8s::{Secret, ServiceAccount};
use proto::satoken;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

async fn token_of(secrets: &Api<Secret>, sa: &ServiceAccount) -> Option<(Secret, String)> {
    let r = sa.secrets.first()?;
    let s = secrets.get(&r.name).await.ok()?;
    let token = String::from_utf8(s.data.get("token")?.clone()).ok()?;
    Some((s, token))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_account_and_verifiable_token_per_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sa.key");
    let kf = key_file.clone();
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["serviceaccount", "serviceaccount-token"])
        .configure(move |cfg| cfg.service_account_private_key_file = Some(kf))
        .start()
        .await;
    c.namespace("team").await;
    let sas: Api<ServiceAccount> = c.api("team");
    let secrets: Api<Secret> = c.api("team");
    let sa = wait_for("default serviceaccount with a token", T, || async {
        let sa = sas.get("default").await.ok()?;
        (!sa.secrets.is_empty()).then_some(sa)
    })
    .await;
    // The public key the controller wrote is all the apiserver needs to verify it.
    let public = std::fs::read_to_string(format!("{}.pub", key_file.display())).unwrap();
    let public = satoken::decode_public_key(&public).unwrap();
    let (secret, token) = token_of(&secrets, &sa).await.expect("token secret");
    assert_eq!(secret.r#type, "kubernetes.io/service-account-token");
    assert_eq!(
        secret
            .meta()
            .annotations
            .get("kubernetes.io/service-account.uid"),
        Some(&sa.meta().uid)
    );
    assert_eq!(
        secret.data.get("namespace").map(Vec::as_slice),
        Some(&b"team"[..])
    );
    let claims = satoken::verify(&token, &[public]).expect("token verifies");
    assert_eq!(claims.sub, "system:serviceaccount:team:default");
    assert_eq!(claims.service_account_uid, sa.meta().uid);
    assert_eq!(claims.namespace, "team");
    // Pre-existing namespaces got theirs too.
    let default_ns: Api<ServiceAccount> = c.api("default");
    wait_for("default serviceaccount in 'default'", T, || async {
        default_ns.get_opt("default").await.ok()?.map(|_| ())
    })
    .await;

    // Any other ServiceAccount gets a token too.
    let created: ServiceAccount = c
        .apply_yaml(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: build, namespace: team}\n",
        )
        .await;
    let build = wait_for("token for a user's serviceaccount", T, || async {
        let sa = sas.get("build").await.ok()?;
        (!sa.secrets.is_empty()).then_some(sa)
    })
    .await;
    let (_, t) = token_of(&secrets, &build).await.unwrap();
    assert_eq!(
        satoken::verify(&t, &[public]).unwrap().service_account_name,
        "build"
    );
    assert_eq!(build.meta().uid, created.meta().uid);

    // Deleted: the default account comes back (a new uid, a new token); the old token's
    // Secret is deleted.
    sas.delete("default", &DeleteParams::default())
        .await
        .unwrap();
    let again = wait_for(
        "default serviceaccount made again, with a token",
        T,
        || async {
            let n = sas.get("default").await.ok()?;
            (n.meta().uid != sa.meta().uid && !n.secrets.is_empty()).then_some(n)
        },
    )
    .await;
    let (_, t2) = token_of(&secrets, &again).await.unwrap();
    assert_eq!(
        satoken::verify(&t2, &[public]).unwrap().service_account_uid,
        again.meta().uid
    );
    wait_for("the old token secret deleted", T, || async {
        secrets
            .get_opt(&secret.meta().name)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // Exactly one token per account: no duplicates from retries, once the token
    // controller's cache holds the account with its token and it has gone idle.
    token_settled(&c, &again).await;
    let all = secrets.list(&Default::default()).await.unwrap().items;
    let for_default = all
        .iter()
        .filter(|s| {
            s.meta()
                .annotations
                .get("kubernetes.io/service-account.name")
                .map(String::as_str)
                == Some("default")
        })
        .count();
    assert_eq!(
        for_default,
        1,
        "{:?}",
        all.iter().map(|s| &s.meta().name).collect::<Vec<_>>()
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_cache_makes_no_duplicate_tokens() {
    let c = Cluster::builder()
        .no_kubelet()
        .informer_delay(Duration::from_millis(300))
        .controllers(&["serviceaccount", "serviceaccount-token"])
        .start()
        .await;
    let names = ["a", "b", "c", "d", "e"];
    for n in names {
        c.namespace(n).await;
    }
    let mut with_token = Vec::new();
    for n in names {
        let sas: Api<ServiceAccount> = c.api(n);
        let sa = wait_for("default serviceaccount with a token", T, || async {
            let sa = sas.get("default").await.ok()?;
            (!sa.secrets.is_empty()).then_some(sa)
        })
        .await;
        with_token.push(sa);
    }
    // Every late event has arrived and been handled.
    for sa in &with_token {
        token_settled(&c, sa).await;
    }
    for n in names {
        let secrets: Api<Secret> = c.api(n);
        let all = secrets.list(&Default::default()).await.unwrap().items;
        assert_eq!(
            all.len(),
            1,
            "namespace {n}: {:?}",
            all.iter().map(|s| &s.meta().name).collect::<Vec<_>>()
        );
        let sa = c.api::<ServiceAccount>(n).get("default").await.unwrap();
        assert_eq!(sa.secrets.len(), 1);
        assert_eq!(sa.secrets[0].name, all[0].meta().name);
    }
    c.stop().await;
}

/// Waits until the token controller's caches hold `sa` (this version or later) and its
/// token Secret, and the controller has gone idle: a duplicate token would be made by now.
async fn token_settled(c: &Cluster, sa: &ServiceAccount) {
    let ns = sa.meta().namespace.clone();
    let key = format!("{ns}/{}", sa.meta().name);
    for r in &sa.secrets {
        let secret_key = format!("{ns}/{}", r.name);
        c.settled::<Secret>(TOKEN_NAME, &key, 0, move |s| s.get(&secret_key).is_some())
            .await;
    }
    c.settled(
        TOKEN_NAME,
        &key,
        0,
        since_rv::<ServiceAccount>(&key, &sa.meta().resource_version),
    )
    .await;
}
