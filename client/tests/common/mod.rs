//! Shared by the component tests: each test runs the apiserver in-process on a temp sled dir.
#![allow(dead_code)]

use client::{Api, Client};
use proto::Resource;
use proto::k8s::{ConfigMap, Namespace};
use std::time::Duration;

pub async fn connect(url: &str) -> Client {
    Client::connect(url)
        .await
        .expect("connect to the test apiserver")
}

pub async fn namespace(client: &Client, name: &str) {
    let mut ns = Namespace::default();
    ns.meta_mut().name = name.to_string();
    Api::<Namespace>::all(client.clone())
        .create(&ns)
        .await
        .expect("create namespace");
}

pub fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.meta_mut().name = name.to_string();
    cm.meta_mut().labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    cm.data.insert("k".into(), "v".into());
    cm
}

/// Polls `f` until it holds, failing the test after `within`.
pub async fn eventually(within: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
