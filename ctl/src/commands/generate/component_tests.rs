//! The generators against an in-process apiserver: what they build is accepted, and
//! `create job --from=cronjob/X` copies what the server holds.

use super::doc::testing::AsDoc;
use super::*;
use crate::api::reason_of;
use apiserver::testing::TestServer;
use proto::Reason;
use serde_json::json;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn live(ctx: &Ctx, plural: &str, ns: &str, name: &str) -> serde_json::Value {
    ctx.api()
        .await
        .unwrap()
        .get(plural, ns, name)
        .await
        .unwrap()
        .doc()
}

#[tokio::test]
async fn generated_objects_are_accepted_by_the_server() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    create(
        &ctx,
        &Generate::Namespace(NameArgs {
            name: "apps".into(),
        }),
    )
    .await
    .unwrap();
    let in_apps = Ctx::for_test(&server.url, Some("apps"));
    let deploy = DeploymentArgs {
        name: "web".into(),
        images: strings(&["nginx:1.27"]),
        port: Some(80),
        replicas: 2,
        command: vec![],
    };
    create(&in_apps, &Generate::Deployment(deploy))
        .await
        .unwrap();
    let d = live(&ctx, "deployments", "apps", "web").await;
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["selector"]["matchLabels"], json!({"app": "web"}));
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        80
    );

    // Without -n the object goes to the context's namespace ("default" here).
    let svc = ServiceCommand::NodePort(service::NodePortArgs {
        ports: service::TcpArgs {
            name: "web".into(),
            tcp: strings(&["80:8080"]),
        },
        node_port: 0,
    });
    create(&ctx, &Generate::Service(svc)).await.unwrap();
    let s = live(&ctx, "services", "default", "web").await;
    assert_eq!(s["spec"]["type"], "NodePort");
    assert_eq!(s["spec"]["ports"][0]["targetPort"], 8080);

    let cm = ConfigMapArgs {
        name: "cfg".into(),
        sources: data::Sources {
            from_literal: strings(&["a=1", "b=two"]),
            ..Default::default()
        },
    };
    create(&ctx, &Generate::ConfigMap(cm)).await.unwrap();
    let c = live(&ctx, "configmaps", "default", "cfg").await;
    assert_eq!(c["data"], json!({"a": "1", "b": "two"}));

    create(
        &ctx,
        &Generate::ServiceAccount(NameArgs { name: "bot".into() }),
    )
    .await
    .unwrap();
    live(&ctx, "serviceaccounts", "default", "bot").await;

    // A second create is refused with kubectl's prefix, the server's reason kept in the text.
    let e = create(
        &ctx,
        &Generate::ServiceAccount(NameArgs { name: "bot".into() }),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("failed to create serviceaccount: "),
        "{e}"
    );
    // The namespace error is the server's own.
    let e = create(
        &ctx,
        &Generate::Namespace(NameArgs {
            name: "apps".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(reason_of(&e), Some(Reason::AlreadyExists), "{e}");
}

#[tokio::test]
async fn a_job_from_a_cron_job_copies_the_template_and_is_owned() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    let cj = CronJobArgs {
        name: "nightly".into(),
        image: "busybox".into(),
        schedule: "0 0 * * *".into(),
        restart: "OnFailure".into(),
        command: strings(&["echo", "hi"]),
    };
    create(&ctx, &Generate::CronJob(cj)).await.unwrap();
    let cron = live(&ctx, "cronjobs", "default", "nightly").await;

    let job = JobArgs {
        name: "by-hand".into(),
        image: None,
        from: Some("cj/nightly".into()),
        command: vec![],
    };
    create(&ctx, &Generate::Job(job)).await.unwrap();
    let j = live(&ctx, "jobs", "default", "by-hand").await;
    assert_eq!(
        j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    let owner = &j["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["uid"], cron["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
    let c = &j["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "busybox");
    assert_eq!(c["command"], json!(["echo", "hi"]));
    assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");

    // --from names something that is not a CronJob: kubectl's words.
    let deploy = DeploymentArgs {
        name: "web".into(),
        images: strings(&["nginx"]),
        port: None,
        replicas: 1,
        command: vec![],
    };
    create(&ctx, &Generate::Deployment(deploy)).await.unwrap();
    let wrong = JobArgs {
        name: "x".into(),
        image: None,
        from: Some("deployment/web".into()),
        command: vec![],
    };
    let e = create(&ctx, &Generate::Job(wrong)).await.unwrap_err();
    assert_eq!(e.to_string(), "unknown object type *v1.Deployment");
}

#[tokio::test]
async fn rbac_objects_and_quotas_are_accepted_by_the_server() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    let role = RoleArgs {
        name: "reader".into(),
        verbs: strings(&["get", "list"]),
        resources: strings(&["pods", "deploy.apps"]),
        resource_names: vec![],
    };
    create(&ctx, &Generate::Role(role)).await.unwrap();
    let r = live(&ctx, "roles", "default", "reader").await;
    assert_eq!(r["rules"][1]["apiGroups"], json!(["apps"]));
    assert_eq!(r["rules"][1]["resources"], json!(["deployments"]));

    let binding = RoleBindingArgs {
        name: "read".into(),
        clusterrole: None,
        role: Some("reader".into()),
        subjects: rbac::BindingSubjects {
            users: strings(&["jane"]),
            groups: vec![],
            service_accounts: strings(&["default:bot"]),
        },
    };
    create(&ctx, &Generate::RoleBinding(binding)).await.unwrap();
    let b = live(&ctx, "rolebindings", "default", "read").await;
    assert_eq!(b["subjects"][1]["kind"], "ServiceAccount");

    let quota = QuotaArgs {
        name: "q".into(),
        hard: Some("pods=2,cpu=500m".into()),
        scopes: None,
    };
    create(&ctx, &Generate::Quota(quota)).await.unwrap();
    let q = live(&ctx, "resourcequotas", "default", "q").await;
    assert_eq!(q["spec"]["hard"], json!({"cpu": "500m", "pods": "2"}));
}

/// Flags of one command, parsed as the command line would be.
fn parse<T: clap::Args>(line: &[&str]) -> T {
    #[derive(clap::Parser)]
    struct Wrap<U: clap::Args> {
        #[command(flatten)]
        inner: U,
    }
    let mut argv = vec!["ctl"];
    argv.extend_from_slice(line);
    <Wrap<T> as clap::Parser>::try_parse_from(argv)
        .unwrap()
        .inner
}

#[tokio::test]
async fn run_and_expose_create_what_the_server_accepts() {
    use crate::commands::{expose, run};
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    let a: run::RunArgs = parse(&[
        "web",
        "--image=nginx",
        "--port=80",
        "--expose",
        "--env=A=1",
        "--overrides",
        r#"{"spec": {"nodeName": "n1"}}"#,
    ]);
    run::run(&ctx, &a).await.unwrap();
    let pod = live(&ctx, "pods", "default", "web").await;
    assert_eq!(pod["metadata"]["labels"], json!({"run": "web"}));
    assert_eq!(pod["spec"]["nodeName"], "n1", "--overrides merged");
    assert_eq!(pod["spec"]["containers"][0]["env"][0]["value"], "1");
    let svc = live(&ctx, "services", "default", "web").await;
    assert_eq!(svc["spec"]["selector"], json!({"run": "web"}));

    let deploy = DeploymentArgs {
        name: "api".into(),
        images: strings(&["nginx"]),
        port: Some(8080),
        replicas: 1,
        command: vec![],
    };
    create(&ctx, &Generate::Deployment(deploy)).await.unwrap();
    let e: expose::ExposeArgs = parse(&["deployment", "api", "--type=NodePort", "--name=api-np"]);
    expose::expose(&ctx, &e).await.unwrap();
    let svc = live(&ctx, "services", "default", "api-np").await;
    assert_eq!(svc["spec"]["selector"], json!({"app": "api"}));
    assert_eq!(svc["spec"]["type"], "NodePort");
    assert_eq!(
        svc["spec"]["ports"][0]["port"], 8080,
        "the container's port"
    );
    assert!(svc["spec"]["ports"][0]["nodePort"].is_number(), "allocated");

    // -f: the object as the manifest has it (kubectl's builder reads it, not the server).
    let dir = tempfile::Builder::new()
        .prefix("run_and_expose_create_what_the_server_accepts")
        .tempdir()
        .unwrap();
    let manifest = dir.path().join("pod.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db, labels: {app: db}}\nspec:\n  containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]\n",
    )
    .unwrap();
    let f = manifest.display().to_string();
    let e: expose::ExposeArgs = parse(&["-f", &f, "--target-port=pg"]);
    expose::expose(&ctx, &e).await.unwrap();
    let svc = live(&ctx, "services", "default", "db").await;
    assert_eq!(svc["spec"]["selector"], json!({"app": "db"}));
    assert_eq!(svc["spec"]["ports"][0]["port"], 5432);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "pg");
}
