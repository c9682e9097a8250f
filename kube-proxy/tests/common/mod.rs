//! Objects the tests write through the API, as the endpoints controller would.
#![allow(dead_code)]

pub mod topology;

use kube_proxy::daemon::SyncStatus;
use kube_proxy::iptables::Ruleset;
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, Service, ServicePort,
    ServiceSpec,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub fn service(name: &str, ty: &str, port: i32, node_port: i32) -> Service {
    Service {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        spec: Some(ServiceSpec {
            r#type: ty.into(),
            ports: vec![ServicePort {
                name: "http".into(),
                protocol: "TCP".into(),
                port,
                node_port,
                target_port: "8080".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn endpoints(name: &str, ready: &[&str], not_ready: &[&str], port: i32) -> Endpoints {
    let addr = |ip: &&str| EndpointAddress {
        ip: ip.to_string(),
        ..Default::default()
    };
    Endpoints {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        subsets: vec![EndpointSubset {
            addresses: ready.iter().map(addr).collect(),
            not_ready_addresses: not_ready.iter().map(addr).collect(),
            ports: vec![EndpointPort {
                name: "http".into(),
                port,
                protocol: "TCP".into(),
                ..Default::default()
            }],
        }],
        ..Default::default()
    }
}

/// Waits until the live ruleset satisfies `pred`; panics with the last error after `timeout`.
pub async fn wait_applied(
    status: &mut watch::Receiver<SyncStatus>,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&Ruleset) -> bool,
) -> Arc<Ruleset> {
    let res = tokio::time::timeout(timeout, async {
        loop {
            {
                let s = status.borrow_and_update();
                if let Some(r) = s.applied.as_ref().filter(|r| pred(r)) {
                    return r.clone();
                }
            }
            if status.changed().await.is_err() {
                panic!("daemon stopped while waiting for {what}");
            }
        }
    })
    .await;
    match res {
        Ok(r) => r,
        Err(_) => panic!(
            "timed out waiting for {what}; last error: {:?}",
            status.borrow().last_error
        ),
    }
}

/// True when the nat table DNATs to `ip:port` somewhere.
pub fn dnats_to(r: &Ruleset, target: &str) -> bool {
    let needle = format!("--to-destination {target}");
    r.services
        .values()
        .flat_map(|s| s.chains.iter())
        .flat_map(|(_, rules)| rules.iter())
        .any(|rule| rule.ends_with(&needle))
}

/// `wait_applied` for nftables mode: until the live table contents satisfy `pred`.
pub async fn wait_nft_applied(
    status: &mut watch::Receiver<SyncStatus>,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&kube_proxy::nftables::NftRuleset) -> bool,
) -> Arc<kube_proxy::nftables::NftRuleset> {
    let res = tokio::time::timeout(timeout, async {
        loop {
            {
                let s = status.borrow_and_update();
                if let Some(r) = s.nft_applied.as_ref().filter(|r| pred(r)) {
                    return r.clone();
                }
            }
            if status.changed().await.is_err() {
                panic!("daemon stopped while waiting for {what}");
            }
        }
    })
    .await;
    match res {
        Ok(r) => r,
        Err(_) => panic!(
            "timed out waiting for {what}; last error: {:?}",
            status.borrow().last_error
        ),
    }
}
