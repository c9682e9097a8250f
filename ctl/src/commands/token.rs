//! Bootstrap tokens, as `kubeadm token create|list|delete`: Secrets of type
//! `bootstrap.kubernetes.io/token` in kube-system that let a new kubelet ask for its
//! client certificate. `--print-join-command` prints the kubelet's flags to join with one.

use super::Ctx;
use crate::args::{TokenArgs, TokenCommand, TokenCreateArgs, parse_duration};
use crate::printers::age::human_duration;
use crate::printers::table::{Table, render};
use anyhow::{Context, Result, anyhow, bail};
use proto::bootstrap_token::{self as bt, BootstrapToken};
use proto::k8s::{DeleteRequest, ListRequest, Secret};
use proto::{Reason, Resource};
use std::time::SystemTime;

pub async fn token(ctx: &Ctx, args: &TokenArgs) -> Result<()> {
    match &args.command {
        TokenCommand::Create(a) => create(ctx, a).await,
        TokenCommand::List => list(ctx).await,
        TokenCommand::Delete { tokens } => delete(ctx, tokens).await,
    }
}

async fn create(ctx: &Ctx, args: &TokenCreateArgs) -> Result<()> {
    let (token, join) = create_token(ctx, args).await?;
    match join {
        Some(line) => println!("{line}"),
        None => println!("{token}"),
    }
    Ok(())
}

/// Writes the token's Secret; the join command too when asked for.
pub async fn create_token(
    ctx: &Ctx,
    args: &TokenCreateArgs,
) -> Result<(BootstrapToken, Option<String>)> {
    let token = match &args.token {
        Some(t) => bt::parse(t).map_err(|e| anyhow!("{e}"))?,
        None => bt::generate(),
    };
    let ttl = parse_duration(&args.ttl).map_err(|e| anyhow!("--ttl: {e}"))?;
    // kubeadm: a ttl of 0 means the token never expires.
    let ttl = (!ttl.is_zero()).then_some(ttl);
    // The join command needs the CA before anything is written.
    let join = if args.print_join_command {
        Some(join_command(&ctx.connection, &token)?)
    } else {
        None
    };
    let secret = bt::secret_for(
        &token,
        ttl,
        SystemTime::now(),
        args.description.as_deref().unwrap_or(""),
    );
    let api = ctx.api().await?;
    api.create(secret.into_object()).await?;
    Ok((token, join))
}

/// `kubelet --server https://... --bootstrap-token ID.SECRET --ca-cert-hash sha256:...`:
/// the CA is the one this connection trusts, so the joining kubelet pins the same one.
pub fn join_command(
    connection: &client::ConnectionConfig,
    token: &BootstrapToken,
) -> Result<String> {
    let ca = match &connection.trust {
        Some(pki::tls::ServerTrust::Ca(pem)) => pem,
        _ => bail!(
            "--print-join-command needs a TLS connection whose CA is known (a kubeconfig with certificate-authority), to print --ca-cert-hash"
        ),
    };
    let hash = pki::hash::ca_cert_hash(ca).context("the CA of the kubeconfig")?;
    Ok(format!(
        "kubelet --server {} --bootstrap-token {token} --ca-cert-hash {hash}",
        connection.server
    ))
}

async fn list(ctx: &Ctx) -> Result<()> {
    let table = list_table(ctx).await?;
    if !table.rows.is_empty() {
        print!("{}", render(&table, true));
    }
    Ok(())
}

pub async fn list_table(ctx: &Ctx) -> Result<Table> {
    let api = ctx.api().await?;
    let resp = api
        .list(ListRequest {
            resource: "secrets".into(),
            namespace: bt::NAMESPACE.into(),
            ..Default::default()
        })
        .await?;
    let secrets: Vec<Secret> = resp
        .items
        .into_iter()
        .filter_map(|o| Secret::try_from_object(o).ok())
        .collect();
    Ok(token_table(&secrets, SystemTime::now()))
}

fn data<'a>(s: &'a Secret, key: &str) -> &'a str {
    s.data
        .get(key)
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("")
}

/// kubeadm's `token list` table: TOKEN, TTL, EXPIRES, USAGES, DESCRIPTION, EXTRA GROUPS.
pub fn token_table(secrets: &[Secret], now: SystemTime) -> Table {
    let mut rows = Vec::new();
    for s in secrets.iter().filter(|s| s.r#type == bt::SECRET_TYPE) {
        let id = data(s, bt::KEY_TOKEN_ID);
        let secret = data(s, bt::KEY_TOKEN_SECRET);
        let Ok(token) = bt::parse(&format!("{id}.{secret}")) else {
            continue;
        };
        let (ttl, expires) = match bt::expiration(s) {
            Ok(None) => ("<forever>".to_string(), "<never>".to_string()),
            Ok(Some(t)) => {
                let left = match t.duration_since(now) {
                    Ok(d) => human_duration(d.as_secs() as i64),
                    Err(_) => "<invalid>".to_string(),
                };
                (left, data(s, bt::KEY_EXPIRATION).to_string())
            }
            Err(_) => (
                "<invalid>".to_string(),
                data(s, bt::KEY_EXPIRATION).to_string(),
            ),
        };
        let usages: Vec<&str> = [
            (bt::KEY_USAGE_AUTHENTICATION, "authentication"),
            (bt::KEY_USAGE_SIGNING, "signing"),
        ]
        .into_iter()
        .filter(|(k, _)| data(s, k) == "true")
        .map(|(_, u)| u)
        .collect();
        let or_none = |v: &str| {
            if v.is_empty() {
                "<none>".to_string()
            } else {
                v.to_string()
            }
        };
        rows.push(vec![
            token.to_string(),
            ttl,
            expires,
            or_none(&usages.join(",")),
            or_none(data(s, bt::KEY_DESCRIPTION)),
            or_none(data(s, bt::KEY_AUTH_EXTRA_GROUPS)),
        ]);
    }
    Table {
        headers: [
            "TOKEN",
            "TTL",
            "EXPIRES",
            "USAGES",
            "DESCRIPTION",
            "EXTRA GROUPS",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// The token id of `ID` or `ID.SECRET`, as kubeadm accepts either.
pub fn token_id(arg: &str) -> Result<String> {
    let id = arg.split_once('.').map_or(arg, |(id, _)| id);
    if id.len() != 6
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        bail!(
            "given token {arg:?} didn't match pattern \"[a-z0-9]{{6}}\" or \"[a-z0-9]{{6}}.[a-z0-9]{{16}}\""
        );
    }
    Ok(id.to_string())
}

async fn delete(ctx: &Ctx, tokens: &[String]) -> Result<()> {
    let api = ctx.api().await?;
    let mut failures = 0;
    for t in tokens {
        let res = async {
            let id = token_id(t)?;
            let req = DeleteRequest {
                resource: "secrets".into(),
                namespace: bt::NAMESPACE.into(),
                name: bt::secret_name(&id),
                ..Default::default()
            };
            match api.delete(req).await {
                Ok(_) => Ok(id),
                Err(e) if crate::api::reason_of(&e) == Some(Reason::NotFound) => {
                    Err(anyhow!("bootstrap token {id:?} not found"))
                }
                Err(e) => Err(e),
            }
        }
        .await;
        match res {
            Ok(id) => println!("bootstrap token {id:?} deleted"),
            Err(e) => super::report(&mut failures, &e),
        }
    }
    super::finish(failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn list_shows_tokens_like_kubeadm() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let t = bt::parse("abcdef.0123456789abcdef").unwrap();
        let mut forever = bt::secret_for(
            &bt::parse("zzzzzz.0123456789abcdef").unwrap(),
            None,
            now,
            "",
        );
        forever.data.remove(bt::KEY_USAGE_SIGNING);
        let day = bt::secret_for(&t, Some(Duration::from_secs(24 * 3600)), now, "for node-1");
        let other = Secret {
            r#type: "Opaque".into(),
            ..Default::default()
        };
        let table = token_table(&[day, forever, other], now);
        assert_eq!(table.headers[0], "TOKEN");
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][0], "abcdef.0123456789abcdef");
        assert_eq!(table.rows[0][1], "24h");
        assert_eq!(table.rows[0][3], "authentication,signing");
        assert_eq!(table.rows[0][4], "for node-1");
        assert_eq!(table.rows[0][5], bt::DEFAULT_NODE_GROUP);
        assert_eq!(
            &table.rows[1][1..5],
            ["<forever>", "<never>", "authentication", "<none>"]
        );
        let later = token_table(
            &[bt::secret_for(&t, Some(Duration::from_secs(60)), now, "")],
            now + Duration::from_secs(120),
        );
        assert_eq!(later.rows[0][1], "<invalid>");
    }

    #[test]
    fn ids_and_join_command() {
        assert_eq!(token_id("abcdef").unwrap(), "abcdef");
        assert_eq!(token_id("abcdef.0123456789abcdef").unwrap(), "abcdef");
        assert!(token_id("ABCDEF").is_err());
        let token = bt::parse("abcdef.0123456789abcdef").unwrap();
        let plain = client::ConnectionConfig::plaintext("http://127.0.0.1:6443");
        assert!(join_command(&plain, &token).is_err());
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let tls = client::ConnectionConfig {
            trust: Some(pki::tls::ServerTrust::Ca(ca.cert_pem().to_string())),
            ..client::ConnectionConfig::plaintext("https://10.0.0.1:6443")
        };
        let line = join_command(&tls, &token).unwrap();
        let hash = pki::hash::ca_cert_hash(ca.cert_pem()).unwrap();
        assert_eq!(
            line,
            format!(
                "kubelet --server https://10.0.0.1:6443 --bootstrap-token abcdef.0123456789abcdef --ca-cert-hash {hash}"
            )
        );
    }
}
