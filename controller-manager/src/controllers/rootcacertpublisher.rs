//! `root-ca-cert-publisher` (Kubernetes' rootcacertpublisher): every active namespace has a
//! ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster's CA bundle, so pods can
//! verify the apiserver (the ServiceAccount admission mounts it at
//! `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`). One changed or deleted is put
//! back. The bundle is `--root-ca-file`, else the CA this process trusts the apiserver
//! with; with neither the controller is off and says so.

use crate::context::Context;
use crate::controllers::serviceaccount::namespace_active;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{ConfigMap, Namespace, ObjectMeta};
use proto::{Reason, Resource};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "root-ca-cert-publisher";
pub const CONFIG_MAP_NAME: &str = "kube-root-ca.crt";
pub const DATA_KEY: &str = "ca.crt";
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// Kubernetes' wording.
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// What one namespace needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Nothing,
    Create(ConfigMap),
    /// The existing ConfigMap with its data (and description) put right.
    Update(ConfigMap),
}

/// The ConfigMap `namespace` should have, from the one it has.
pub fn plan(namespace: &str, existing: Option<&ConfigMap>, ca: &str) -> Plan {
    let data = [(DATA_KEY.to_string(), ca.to_string())].into();
    match existing {
        None => Plan::Create(ConfigMap {
            metadata: Some(ObjectMeta {
                name: CONFIG_MAP_NAME.into(),
                namespace: namespace.into(),
                annotations: [(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string())].into(),
                ..Default::default()
            }),
            data,
            ..Default::default()
        }),
        Some(cm)
            if cm.data == data
                && cm.binary_data.is_empty()
                && cm
                    .meta()
                    .annotations
                    .get(DESCRIPTION_ANNOTATION)
                    .map(String::as_str)
                    == Some(DESCRIPTION) =>
        {
            Plan::Nothing
        }
        Some(cm) => {
            let mut cm = cm.clone();
            cm.data = data;
            cm.binary_data.clear();
            cm.meta_mut()
                .annotations
                .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
            Plan::Update(cm)
        }
    }
}

/// The bundle to publish: `--root-ca-file`, else the CA of the connection.
fn root_ca(ctx: &Context) -> Result<Option<String>, Error> {
    if let Some(path) = &ctx.config.root_ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("--root-ca-file {}: {e}", path.display())))?;
        if pki::inspect::parse_pem(&pem).map_or(true, |certs| certs.is_empty()) {
            return Err(Error::Config(format!(
                "--root-ca-file {}: no PEM certificate in it",
                path.display()
            )));
        }
        return Ok(Some(pem));
    }
    Ok(match &ctx.client.connection().trust {
        Some(pki::tls::ServerTrust::Ca(pem)) => Some(pem.clone()),
        _ => None,
    })
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Publisher {
    ctx: Arc<Context>,
    ca: String,
    config_maps: client::Store<ConfigMap>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let Some(ca) = root_ca(&ctx)? else {
        tracing::info!(
            "no --root-ca-file and no CA for the apiserver connection: not publishing kube-root-ca.crt"
        );
        return Ok(());
    };
    let config_maps = ctx.informer::<ConfigMap>();
    let controller = Controller::new_with(NAME, ctx.informer::<Namespace>(), |ev, q| {
        if !matches!(ev, InformerEvent::Deleted(_)) {
            q.add(ev.key());
        }
    })
    .watches_with(config_maps.clone(), |ev: &InformerEvent<ConfigMap>, q| {
        // Ours changed or went: its namespace is looked at again.
        if ev.object().meta().name == CONFIG_MAP_NAME {
            q.add(ev.object().meta().namespace.clone());
        }
    })
    .workers(ctx.config.concurrent_workers);
    let p = Arc::new(Publisher {
        ctx: ctx.clone(),
        ca,
        config_maps: config_maps.store(),
    });
    controller.run(reconcile, backoff, p, cancel).await;
    Ok(())
}

async fn reconcile(req: Request<Namespace>, p: Arc<Publisher>) -> Result<Action, Error> {
    let Some(ns) = req.object else {
        return Ok(Action::Done);
    };
    if !namespace_active(&ns) {
        return Ok(Action::Done);
    }
    let namespace = &req.key;
    let existing = p.config_maps.get_in(namespace, CONFIG_MAP_NAME);
    let api = p.ctx.api_in::<ConfigMap>(namespace);
    match plan(namespace, existing.as_deref(), &p.ca) {
        Plan::Nothing => {}
        Plan::Create(cm) => match api.create(&cm).await {
            Ok(_) => tracing::info!(%namespace, "published kube-root-ca.crt"),
            // Exists (the cache lags: its event brings us back), or the namespace started
            // terminating meanwhile.
            Err(e) if e.is(Reason::AlreadyExists) || e.is(Reason::Forbidden) => {}
            Err(e) if e.is(Reason::NotFound) => {}
            Err(e) => return Err(e.into()),
        },
        Plan::Update(cm) => match api.update(&cm).await {
            Ok(_) => tracing::info!(%namespace, "kube-root-ca.crt put back to the cluster CA"),
            Err(e) if e.is(Reason::NotFound) => {}
            Err(e) => return Err(e.into()),
        },
    }
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_keeps_then_repairs() {
        let Plan::Create(cm) = plan("team", None, "PEM") else {
            panic!("expected a create")
        };
        assert_eq!(cm.meta().name, CONFIG_MAP_NAME);
        assert_eq!(cm.meta().namespace, "team");
        assert_eq!(cm.data[DATA_KEY], "PEM");
        assert_eq!(plan("team", Some(&cm), "PEM"), Plan::Nothing);

        let mut edited = cm.clone();
        edited.data.insert(DATA_KEY.into(), "forged".into());
        edited.data.insert("extra".into(), "x".into());
        edited.meta_mut().labels.insert("keep".into(), "me".into());
        let Plan::Update(fixed) = plan("team", Some(&edited), "PEM") else {
            panic!("expected an update")
        };
        assert_eq!(fixed.data, cm.data);
        // Only what the controller owns is put back.
        assert_eq!(fixed.meta().labels["keep"], "me");

        // A new CA (rotation) is published over the old one.
        assert!(
            matches!(plan("team", Some(&cm), "NEW"), Plan::Update(u) if u.data[DATA_KEY] == "NEW")
        );
    }
}

#[cfg(test)]
mod source_tests {
    use super::*;
    use client::{Client, ConnectionConfig, Credentials};

    fn ctx(trust: Option<pki::tls::ServerTrust>, file: Option<std::path::PathBuf>) -> Context {
        let connection = ConnectionConfig {
            server: if trust.is_some() {
                "https://127.0.0.1:1"
            } else {
                "http://127.0.0.1:1"
            }
            .into(),
            trust,
            credentials: Credentials::None,
            tls_server_name: None,
        };
        let client = Client::lazy_with(&connection).expect("lazy client");
        let config = crate::Config {
            root_ca_file: file,
            ..Default::default()
        };
        Context::new(client, Arc::new(config))
    }

    #[tokio::test]
    async fn the_bundle_comes_from_the_flag_else_the_connection() {
        let ca = pki::ca::Ca::generate("kubernetes", std::time::Duration::from_secs(3600)).unwrap();
        let other = pki::ca::Ca::generate("other", std::time::Duration::from_secs(3600)).unwrap();
        let trust = Some(pki::tls::ServerTrust::Ca(ca.cert_pem().to_string()));
        assert_eq!(
            root_ca(&ctx(trust.clone(), None)).unwrap().as_deref(),
            Some(ca.cert_pem())
        );
        // The flag wins over the connection's CA.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.crt");
        std::fs::write(&file, other.cert_pem()).unwrap();
        assert_eq!(
            root_ca(&ctx(trust, Some(file.clone()))).unwrap().as_deref(),
            Some(other.cert_pem())
        );
        // Plaintext and no flag: off. A file without a certificate: refused.
        assert_eq!(root_ca(&ctx(None, None)).unwrap(), None);
        std::fs::write(&file, "not a certificate").unwrap();
        let err = root_ca(&ctx(None, Some(file))).unwrap_err().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
