//! `ctl create token SA [-n NS] [--duration D] [--audience A]...`: a TokenRequest for the
//! ServiceAccount, printing the token (kubectl create token).

use super::Ctx;
use crate::args::{CreateTokenArgs, parse_duration};
use anyhow::{Result, anyhow, bail};
use proto::k8s::{ObjectMeta, TokenRequest, TokenRequestSpec};

/// The request kubectl sends: the ServiceAccount in metadata, audiences and lifetime in spec.
pub fn token_request(namespace: &str, args: &CreateTokenArgs) -> Result<TokenRequest> {
    if args.service_account.is_empty() {
        bail!("a ServiceAccount name is required");
    }
    let expiration_seconds = match args.duration.as_deref() {
        None => None,
        Some(d) => {
            let d = parse_duration(d).map_err(|e| anyhow!("--duration: {e}"))?;
            if d.is_zero() {
                None
            } else {
                Some(i64::try_from(d.as_secs()).map_err(|_| anyhow!("--duration is too long"))?)
            }
        }
    };
    Ok(TokenRequest {
        api_version: "authentication.k8s.io/v1".into(),
        kind: "TokenRequest".into(),
        metadata: Some(ObjectMeta {
            name: args.service_account.clone(),
            namespace: namespace.to_string(),
            ..Default::default()
        }),
        spec: Some(TokenRequestSpec {
            audiences: args.audiences.clone(),
            expiration_seconds,
            ..Default::default()
        }),
        ..Default::default()
    })
}

pub async fn create_token(ctx: &Ctx, args: &CreateTokenArgs) -> Result<()> {
    println!("{}", request_token(ctx, args).await?);
    Ok(())
}

/// The token the server issued.
pub async fn request_token(ctx: &Ctx, args: &CreateTokenArgs) -> Result<String> {
    let req = token_request(ctx.ns.effective(), args)?;
    let api = ctx.api().await?;
    let resp = api.call(api.client().create_token(req)).await?;
    let token = resp.status.map(|s| s.token).unwrap_or_default();
    if token.is_empty() {
        bail!("the server returned no token");
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_names_the_service_account() {
        let args = CreateTokenArgs {
            service_account: "bot".into(),
            duration: Some("10m".into()),
            audiences: vec!["vault".into()],
        };
        let r = token_request("ci", &args).unwrap();
        let m = r.metadata.unwrap();
        assert_eq!((m.name.as_str(), m.namespace.as_str()), ("bot", "ci"));
        let spec = r.spec.unwrap();
        assert_eq!(spec.expiration_seconds, Some(600));
        assert_eq!(spec.audiences, ["vault"]);
        let plain = CreateTokenArgs {
            duration: None,
            audiences: vec![],
            ..args.clone()
        };
        assert_eq!(
            token_request("d", &plain)
                .unwrap()
                .spec
                .unwrap()
                .expiration_seconds,
            None
        );
        let bad = CreateTokenArgs {
            duration: Some("soon".into()),
            ..args
        };
        assert!(
            token_request("d", &bad)
                .unwrap_err()
                .to_string()
                .starts_with("--duration")
        );
    }
}
