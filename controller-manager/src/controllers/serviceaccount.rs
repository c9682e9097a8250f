//! ServiceAccounts and their tokens.
//!
//! - `serviceaccount` (Kubernetes' serviceaccounts-controller): every active namespace has a
//!   `default` ServiceAccount; one deleted is made again.
//! - `serviceaccount-token` (Kubernetes' legacy tokens-controller): every ServiceAccount
//!   references a Secret of type `kubernetes.io/service-account-token` whose `token` is a
//!   JWT signed by this controller's key ([`proto::satoken`]), with `namespace` beside it.
//!   A token that no longer verifies with the key (the key changed) is signed again; the
//!   Secrets of a deleted ServiceAccount are deleted.

use crate::context::Context;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::{make_key, split_key};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{Namespace, ObjectMeta, ObjectReference, Secret, ServiceAccount};
use proto::satoken::{self, ANNOTATION_SA_NAME, ANNOTATION_SA_UID, Claims, SECRET_TYPE};
use proto::{Reason, Resource};
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "serviceaccount";
pub const TOKEN_NAME: &str = "serviceaccount-token";
pub const DEFAULT_SA: &str = "default";

/// True for a namespace that should have its default ServiceAccount.
pub fn namespace_active(ns: &Namespace) -> bool {
    ns.meta().deletion_timestamp.is_empty()
        && ns.status.as_ref().is_none_or(|s| s.phase != "Terminating")
}

// ---------------------------------------------------------------------------------------
// default ServiceAccount

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run_default(ctx, cancel).boxed()
}

async fn run_default(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let sas = ctx.informer::<ServiceAccount>();
    let controller = Controller::new_with(NAME, ctx.informer::<Namespace>(), |ev, q| {
        if !matches!(ev, InformerEvent::Deleted(_)) {
            q.add(ev.key());
        }
    })
    .watches_with(sas.clone(), |ev: &InformerEvent<ServiceAccount>, q| {
        if let InformerEvent::Deleted(sa) = ev
            && sa.meta().name == DEFAULT_SA
        {
            q.add(sa.meta().namespace.clone());
        }
    })
    .workers(ctx.config.concurrent_workers);
    let c = Arc::new(DefaultAccounts {
        ctx,
        sas: sas.store(),
    });
    controller.run(reconcile_default, backoff, c, cancel).await;
    Ok(())
}

struct DefaultAccounts {
    ctx: Arc<Context>,
    sas: client::Store<ServiceAccount>,
}

async fn reconcile_default(
    req: Request<Namespace>,
    c: Arc<DefaultAccounts>,
) -> Result<Action, Error> {
    let key = req.key;
    let Some(ns) = req.object else {
        return Ok(Action::Done);
    };
    if !namespace_active(&ns) || c.sas.get_in(&key, DEFAULT_SA).is_some() {
        return Ok(Action::Done);
    }
    let sa = ServiceAccount {
        metadata: Some(ObjectMeta {
            name: DEFAULT_SA.into(),
            namespace: key.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match c.ctx.api_in::<ServiceAccount>(&key).create(&sa).await {
        Ok(_) => tracing::info!("default serviceaccount created"),
        // Exists (the cache lags), or the namespace started terminating meanwhile.
        Err(e) if e.is(Reason::AlreadyExists) || e.is(Reason::Forbidden) => {}
        Err(e) if e.is(Reason::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::Done)
}

// ---------------------------------------------------------------------------------------
// tokens

/// Loads the signing key from `path`; a missing file gets a new key (mode 0600) and the
/// public key beside it as `<path>.pub` (for the apiserver). No path: a key for this process
/// only (tokens are re-signed after a restart).
pub fn load_or_create_key(path: Option<&Path>) -> Result<satoken::PrivateKey, Error> {
    let fresh = || satoken::private_key_from_seed(rand::random::<[u8; 32]>());
    let Some(path) = path else {
        tracing::warn!(
            "no --service-account-private-key-file: tokens are signed with a key for this process only"
        );
        return Ok(fresh());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            tighten_key_file(path)?;
            satoken::decode_private_key(&text).map_err(|e| {
                Error::Config(format!(
                    "--service-account-private-key-file {}: {e}",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = fresh();
            write_key_files(path, &key).map_err(|e| {
                Error::Config(format!(
                    "--service-account-private-key-file {}: cannot create it: {e}",
                    path.display()
                ))
            })?;
            tracing::info!(path = %path.display(), "service account signing key created");
            Ok(key)
        }
        Err(e) => Err(Error::Config(format!(
            "--service-account-private-key-file {}: {e}",
            path.display()
        ))),
    }
}

/// A signing key others can read is made owner-only (0600), with a log line saying so.
fn tighten_key_file(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| {
        Error::Config(format!(
            "--service-account-private-key-file {}: {e}",
            path.display()
        ))
    };
    let mode = std::fs::metadata(path).map_err(fail)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        tracing::warn!(path = %path.display(), from = format!("{mode:o}"), "service account signing key was readable by others; now 0600");
    }
    Ok(())
}

fn write_key_files(path: &Path, key: &satoken::PrivateKey) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::DirBuilderExt;
    use std::os::unix::fs::OpenOptionsExt;
    // A directory made for the key is private too (the scripts keep the key in the
    // apiserver's data dir, which the apiserver makes 0700 itself).
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(satoken::encode_key(&key.to_bytes()).as_bytes())?;
    f.sync_all()?;
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    std::fs::write(
        pub_path,
        satoken::encode_key(key.verifying_key().as_bytes()),
    )
}

/// True for a Secret that holds a valid token of `sa` signed by `key`.
pub fn secret_holds_token(secret: &Secret, sa: &ServiceAccount, key: &satoken::PublicKey) -> bool {
    let m = secret.meta();
    if secret.r#type != SECRET_TYPE
        || m.annotations.get(ANNOTATION_SA_NAME) != Some(&sa.meta().name)
        || m.annotations.get(ANNOTATION_SA_UID) != Some(&sa.meta().uid)
        || !m.deletion_timestamp.is_empty()
    {
        return false;
    }
    let Some(token) = secret.data.get("token") else {
        return false;
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return false;
    };
    satoken::verify(token, std::slice::from_ref(key)).is_ok_and(|c| {
        c.service_account_uid == sa.meta().uid
            && c.namespace == sa.meta().namespace
            && c.service_account_name == sa.meta().name
    })
}

/// The Secret carrying a token for `sa`, named `secret_name`.
pub fn token_secret(sa: &ServiceAccount, secret_name: &str, key: &satoken::PrivateKey) -> Secret {
    let m = sa.meta();
    let token = satoken::sign(
        &Claims::legacy(&m.namespace, &m.name, &m.uid, secret_name),
        key,
    );
    Secret {
        metadata: Some(ObjectMeta {
            name: secret_name.into(),
            namespace: m.namespace.clone(),
            annotations: [
                (ANNOTATION_SA_NAME.to_string(), m.name.clone()),
                (ANNOTATION_SA_UID.to_string(), m.uid.clone()),
            ]
            .into(),
            ..Default::default()
        }),
        data: [
            ("token".to_string(), token.into_bytes()),
            ("namespace".to_string(), m.namespace.clone().into_bytes()),
        ]
        .into(),
        r#type: SECRET_TYPE.into(),
        ..Default::default()
    }
}

/// What the token controller does for one ServiceAccount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlan {
    /// A referenced Secret holds a valid token.
    Nothing,
    /// A Secret of ours with a valid token exists but is not referenced: reference it.
    Reference(String),
    /// This referenced (or ours, unreferenced) Secret has no valid token: sign one into it.
    Refresh(String),
    /// Make a new Secret and reference it.
    Create,
}

/// Decides from the account and the Secrets of its namespace.
pub fn plan_token(sa: &ServiceAccount, secrets: &[&Secret], key: &satoken::PublicKey) -> TokenPlan {
    let referenced = |name: &str| sa.secrets.iter().any(|r| r.name == name);
    let ours = |s: &&&Secret| {
        s.r#type == SECRET_TYPE
            && s.meta().annotations.get(ANNOTATION_SA_NAME) == Some(&sa.meta().name)
            && s.meta().annotations.get(ANNOTATION_SA_UID) == Some(&sa.meta().uid)
            && s.meta().deletion_timestamp.is_empty()
    };
    let mut mine: Vec<&&Secret> = secrets.iter().filter(ours).collect();
    mine.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    if mine
        .iter()
        .any(|s| referenced(&s.meta().name) && secret_holds_token(s, sa, key))
    {
        return TokenPlan::Nothing;
    }
    if let Some(s) = mine.iter().find(|s| secret_holds_token(s, sa, key)) {
        return TokenPlan::Reference(s.meta().name.clone());
    }
    // Prefer refreshing a referenced one, then any of ours.
    if let Some(s) = mine
        .iter()
        .find(|s| referenced(&s.meta().name))
        .or(mine.first())
    {
        return TokenPlan::Refresh(s.meta().name.clone());
    }
    TokenPlan::Create
}

/// `<sa>-token-xxxxx`, with Kubernetes' generateName alphabet.
fn secret_name_for(sa: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let prefix: String = format!("{sa}-token-").chars().take(57).collect();
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{suffix}")
}

pub fn start_tokens(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run_tokens(ctx, cancel).boxed()
}

async fn run_tokens(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let key = load_or_create_key(ctx.config.service_account_private_key_file.as_deref())?;
    let secrets = ctx.informer::<Secret>();
    let controller = Controller::new(TOKEN_NAME, ctx.informer::<ServiceAccount>())
        .watches_with(secrets.clone(), |ev: &InformerEvent<Secret>, q| {
            let s = ev.object();
            if s.r#type == SECRET_TYPE
                && let Some(sa) = s.meta().annotations.get(ANNOTATION_SA_NAME)
            {
                q.add(make_key(&s.meta().namespace, sa));
            }
        })
        .workers(ctx.config.concurrent_workers);
    let c = Arc::new(Tokens {
        ctx,
        key,
        secrets: secrets.store(),
    });
    controller.run(reconcile_token, backoff, c, cancel).await;
    Ok(())
}

struct Tokens {
    ctx: Arc<Context>,
    key: satoken::PrivateKey,
    secrets: client::Store<Secret>,
}

async fn reconcile_token(req: Request<ServiceAccount>, c: Arc<Tokens>) -> Result<Action, Error> {
    let (ctx, key, secrets) = (&c.ctx, &c.key, &c.secrets);
    let (ns, name) = split_key(&req.key);
    let secret_api = ctx.api_in::<Secret>(ns);
    let Some(sa) = req.object else {
        // The account is gone: so are its tokens.
        for s in secrets.by_namespace(ns) {
            let m = s.meta();
            if s.r#type == SECRET_TYPE
                && m.annotations.get(ANNOTATION_SA_NAME).map(String::as_str) == Some(name)
                && m.deletion_timestamp.is_empty()
            {
                let params = client::DeleteParams {
                    preconditions: Some(client::DeletePreconditions {
                        uid: m.uid.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                match secret_api.delete(&m.name, &params).await {
                    Ok(_) => {
                        tracing::info!(secret = %m.name, "serviceaccount gone: token secret deleted")
                    }
                    Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        return Ok(Action::Done);
    };
    if !sa.meta().deletion_timestamp.is_empty() {
        return Ok(Action::Done);
    }
    let public = key.verifying_key();
    // The cache may lag behind a Secret this controller just made: decide on a live list
    // before creating, so a retry never makes a second one.
    let cached = secrets.by_namespace(ns);
    let cached_refs: Vec<&Secret> = cached.iter().map(|s| s.as_ref()).collect();
    let mut plan = plan_token(&sa, &cached_refs, &public);
    if plan == TokenPlan::Create {
        let live = secret_api.list(&Default::default()).await?.items;
        let live_refs: Vec<&Secret> = live.iter().collect();
        plan = plan_token(&sa, &live_refs, &public);
    }
    let secret_name = match plan {
        TokenPlan::Nothing => return Ok(Action::Done),
        TokenPlan::Reference(n) => n,
        TokenPlan::Refresh(n) => {
            let mut cur = secret_api.get(&n).await?;
            let fresh = token_secret(&sa, &n, key);
            cur.data.extend(fresh.data);
            cur.meta_mut()
                .annotations
                .extend(fresh.metadata.unwrap_or_default().annotations);
            secret_api.update(&cur).await?;
            tracing::info!(secret = %n, "token signed again");
            n
        }
        TokenPlan::Create => {
            let n = secret_name_for(name);
            match secret_api.create(&token_secret(&sa, &n, key)).await {
                Ok(_) => tracing::info!(secret = %n, "token secret created"),
                Err(e) if e.is(Reason::Forbidden) => return Ok(Action::Done), // terminating ns
                Err(e) => return Err(e.into()),
            }
            n
        }
    };
    if sa.secrets.iter().any(|r| r.name == secret_name) {
        return Ok(Action::Done);
    }
    let mut next = (*sa).clone();
    next.secrets.push(ObjectReference {
        name: secret_name.clone(),
        ..Default::default()
    });
    ctx.api_in::<ServiceAccount>(ns).update(&next).await?;
    tracing::debug!(secret = %secret_name, "serviceaccount references its token");
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(name: &str, uid: &str, refs: &[&str]) -> ServiceAccount {
        ServiceAccount {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "ns".into(),
                uid: uid.into(),
                ..Default::default()
            }),
            secrets: refs
                .iter()
                .map(|r| ObjectReference {
                    name: r.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn token_secret_verifies_and_names_the_account() {
        let key = satoken::private_key_from_seed([3; 32]);
        let a = sa("default", "u1", &[]);
        let s = token_secret(&a, "default-token-abcde", &key);
        assert_eq!(s.r#type, SECRET_TYPE);
        assert_eq!(s.data["namespace"], b"ns");
        let token = std::str::from_utf8(&s.data["token"]).unwrap();
        let claims = satoken::verify(token, &[key.verifying_key()]).unwrap();
        assert_eq!(claims.sub, "system:serviceaccount:ns:default");
        assert_eq!(claims.secret_name, "default-token-abcde");
        assert!(secret_holds_token(&s, &a, &key.verifying_key()));
        // Another account with the same name (recreated: new uid) does not own it.
        assert!(!secret_holds_token(
            &s,
            &sa("default", "u2", &[]),
            &key.verifying_key()
        ));
        // A rotated key makes it invalid.
        let other = satoken::private_key_from_seed([4; 32]);
        assert!(!secret_holds_token(&s, &a, &other.verifying_key()));
    }

    #[test]
    fn plans() {
        let key = satoken::private_key_from_seed([5; 32]);
        let public = key.verifying_key();
        let other_key = satoken::private_key_from_seed([6; 32]);
        let a = sa("build", "u1", &[]);
        let good = token_secret(&a, "build-token-aaaaa", &key);
        let stale = token_secret(&a, "build-token-bbbbb", &other_key);
        let foreign = token_secret(&sa("other", "u9", &[]), "other-token-ccccc", &key);
        let mut empty = good.clone();
        empty.meta_mut().name = "build-token-ddddd".into();
        empty.data.clear();
        let cases: Vec<(&str, ServiceAccount, Vec<&Secret>, TokenPlan)> = vec![
            ("nothing yet", a.clone(), vec![&foreign], TokenPlan::Create),
            (
                "referenced and valid",
                sa("build", "u1", &["build-token-aaaaa"]),
                vec![&good, &foreign],
                TokenPlan::Nothing,
            ),
            (
                "valid but unreferenced (crash between create and reference)",
                a.clone(),
                vec![&good],
                TokenPlan::Reference("build-token-aaaaa".into()),
            ),
            (
                "referenced but signed with another key",
                sa("build", "u1", &["build-token-bbbbb"]),
                vec![&stale],
                TokenPlan::Refresh("build-token-bbbbb".into()),
            ),
            (
                "a secret of the type without token data gets one",
                a.clone(),
                vec![&empty],
                TokenPlan::Refresh("build-token-ddddd".into()),
            ),
            (
                "the account was recreated (new uid): old secrets are not its",
                sa("build", "u2", &["build-token-aaaaa"]),
                vec![&good],
                TokenPlan::Create,
            ),
        ];
        for (name, account, secrets, want) in cases {
            assert_eq!(plan_token(&account, &secrets, &public), want, "{name}");
        }
    }

    #[test]
    fn secret_names_look_like_kubernetes() {
        let n = secret_name_for("default");
        assert!(
            n.starts_with("default-token-") && n.len() == "default-token-".len() + 5,
            "{n}"
        );
        let long = secret_name_for(&"x".repeat(80));
        assert!(long.len() <= 63 - 1 + 5 && long.ends_with(|c: char| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/sa.key");
        let k1 = load_or_create_key(Some(&path)).unwrap();
        let k2 = load_or_create_key(Some(&path)).unwrap();
        assert_eq!(k1.to_bytes(), k2.to_bytes());
        let pub_text = std::fs::read_to_string(dir.path().join("keys/sa.key.pub")).unwrap();
        assert_eq!(
            satoken::decode_public_key(&pub_text).unwrap(),
            k1.verifying_key()
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private key readable by owner only");
        let dir_mode = std::fs::metadata(dir.path().join("keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            dir_mode & 0o777,
            0o700,
            "a directory made for the key is private"
        );
        // A key file others can read is tightened when loaded.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let k3 = load_or_create_key(Some(&path)).unwrap();
        assert_eq!(k3.to_bytes(), k1.to_bytes());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "garbage").unwrap();
        assert!(load_or_create_key(Some(&path)).is_err());
    }
}
