//! The auth commands against an in-process apiserver that serves TLS with its own PKI and
//! authorizes with Node,RBAC: ctl connects with the admin kubeconfig the server wrote, as
//! a user would.

use super::Ctx;
use super::auth::{answer_line, ask, self_subject_review};
use super::certificate::{Decision, decide_one};
use super::sa_token::request_token;
use super::token::{create_token, list_table};
use crate::args::{CanIArgs, CreateTokenArgs, TokenCreateArgs};
use crate::errors::render_error;
use apiserver::testing::TestServer;
use client::{ConnectionConfig, Credentials, Kubeconfig};
use proto::Resource;
use proto::k8s::{CertificateSigningRequest, CertificateSigningRequestSpec, ServiceAccount};

async fn secure_server() -> TestServer {
    TestServer::start_with(|c| {
        c.insecure_plaintext = false;
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
    })
    .await
}

/// The admin kubeconfig's connection, dialling the loopback address the test server
/// listens on (the file names the advertise address), as `--server` would override it.
fn admin(server: &TestServer) -> ConnectionConfig {
    let path = server.data_dir().join("admin.kubeconfig");
    let mut conn = Kubeconfig::load(&path).unwrap().connection(None).unwrap();
    conn.server = format!("https://{}", server.addr());
    conn
}

fn can_i(verb: &str, resource: &str, as_user: Option<&str>) -> CanIArgs {
    CanIArgs {
        verb: verb.into(),
        resource: resource.into(),
        subresource: None,
        as_user: as_user.map(String::from),
        as_groups: vec![],
        quiet: false,
    }
}

#[tokio::test]
async fn whoami_can_i_and_tokens_over_tls() {
    let server = secure_server().await;
    let conn = admin(&server);
    assert!(conn.server.starts_with("https://"), "{}", conn.server);
    let ctx = Ctx::for_test_connection(conn.clone(), None);

    let me = self_subject_review(&ctx).await.unwrap();
    let user = me.status.unwrap().user_info.unwrap();
    assert_eq!(user.username, "kubernetes-admin");
    assert!(
        user.groups.contains(&"system:masters".to_string()),
        "{:?}",
        user.groups
    );

    let yes = ask(&ctx, &can_i("delete", "nodes", None)).await.unwrap();
    assert_eq!(answer_line(&yes), "yes");
    let no = ask(&ctx, &can_i("get", "secrets", Some("alice")))
        .await
        .unwrap();
    assert!(answer_line(&no).starts_with("no"), "{}", answer_line(&no));

    // A ServiceAccount token from `create token`, used as a credential.
    let api = ctx.api().await.unwrap();
    let mut sa = ServiceAccount::default();
    sa.meta_mut().name = "bot".into();
    sa.meta_mut().namespace = "default".into();
    api.create(sa.into_object()).await.unwrap();
    let token = request_token(
        &ctx,
        &CreateTokenArgs {
            service_account: "bot".into(),
            duration: Some("10m".into()),
            audiences: vec![],
        },
    )
    .await
    .unwrap();
    let bot = Ctx::for_test_connection(
        ConnectionConfig {
            credentials: Credentials::Token(token),
            ..conn.clone()
        },
        None,
    );
    let who = self_subject_review(&bot).await.unwrap();
    assert_eq!(
        who.status.unwrap().user_info.unwrap().username,
        "system:serviceaccount:default:bot"
    );
    let denied = ask(&bot, &can_i("list", "secrets", None)).await.unwrap();
    assert!(!denied.allowed);
    // Asking about others is itself a permission the bot lacks.
    let e = ask(&bot, &can_i("list", "secrets", Some("alice")))
        .await
        .unwrap_err();
    assert!(
        render_error(&e).starts_with("Error from server (Forbidden): "),
        "{}",
        render_error(&e)
    );

    // Bootstrap tokens: create with a join command, list, delete.
    let (t, join) = create_token(
        &ctx,
        &TokenCreateArgs {
            token: None,
            ttl: "1h".into(),
            description: Some("for node-1".into()),
            print_join_command: true,
        },
    )
    .await
    .unwrap();
    let ca = match &conn.trust {
        Some(pki::tls::ServerTrust::Ca(pem)) => pem.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        join.unwrap(),
        format!(
            "kubelet --server {} --bootstrap-token {t} --ca-cert-hash {}",
            conn.server,
            pki::hash::ca_cert_hash(&ca).unwrap()
        )
    );
    let table = list_table(&ctx).await.unwrap();
    let row = table
        .rows
        .iter()
        .find(|r| r[0] == t.to_string())
        .expect("the new token is listed");
    assert_eq!(row[4], "for node-1");
    super::token::token(
        &ctx,
        &crate::args::TokenArgs {
            command: crate::args::TokenCommand::Delete {
                tokens: vec![t.id.clone()],
            },
        },
    )
    .await
    .unwrap();
    assert!(
        list_table(&ctx)
            .await
            .unwrap()
            .rows
            .iter()
            .all(|r| r[0] != t.to_string())
    );
}

#[tokio::test]
async fn certificate_approve_then_deny_is_refused() {
    let server = secure_server().await;
    let ctx = Ctx::for_test_connection(admin(&server), None);
    let (csr_pem, _key) = pki::csr::generate("alice", &["devs".to_string()], &[], &[]).unwrap();
    let mut csr = CertificateSigningRequest::default();
    csr.meta_mut().name = "alice-csr".into();
    csr.spec = Some(CertificateSigningRequestSpec {
        request: csr_pem.into_bytes(),
        signer_name: "kubernetes.io/kube-apiserver-client".into(),
        usages: vec!["digital signature".into(), "client auth".into()],
        ..Default::default()
    });
    let api = ctx.api().await.unwrap();
    api.create(csr.into_object()).await.unwrap();

    decide_one(&ctx, "alice-csr", Decision::Approve, false)
        .await
        .unwrap();
    let stored = CertificateSigningRequest::try_from_object(
        api.get("certificatesigningrequests", "", "alice-csr")
            .await
            .unwrap(),
    )
    .unwrap();
    let conds = stored.status.unwrap().conditions;
    assert_eq!(conds.len(), 1);
    assert_eq!(
        (conds[0].r#type.as_str(), conds[0].reason.as_str()),
        ("Approved", "KubectlApprove")
    );
    // Approving again changes nothing; denying an approved request is refused.
    decide_one(&ctx, "alice-csr", Decision::Approve, false)
        .await
        .unwrap();
    let e = decide_one(&ctx, "alice-csr", Decision::Deny, false)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "certificate signing request \"alice-csr\" is already approved"
    );
    let e = decide_one(&ctx, "nope", Decision::Approve, false)
        .await
        .unwrap_err();
    assert!(
        render_error(&e).starts_with("Error from server (NotFound): "),
        "{}",
        render_error(&e)
    );
}
