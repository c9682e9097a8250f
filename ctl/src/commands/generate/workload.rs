//! `create deployment`, `create job` (from an image or `--from=cronjob/NAME`) and
//! `create cronjob`, as kubectl 1.33 builds them.

use super::doc::{container, labels, metadata, to_object};
use crate::commands::Ctx;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use proto::k8s::{CronJob, Object};
use proto::resource::{Resource, find_kind, info};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Args, Debug, Clone)]
pub struct DeploymentArgs {
    pub name: String,
    /// Image names to run (repeatable or comma-separated): one container each
    #[arg(long = "image", value_delimiter = ',', required = true)]
    pub images: Vec<String>,
    /// The containerPort that this deployment exposes
    #[arg(long, allow_negative_numbers = true)]
    pub port: Option<i32>,
    /// Number of replicas to create
    #[arg(short = 'r', long, default_value_t = 1)]
    pub replicas: i32,
    /// The command of the container(s), after `--`
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    pub name: String,
    /// Image name to run
    #[arg(long)]
    pub image: Option<String>,
    /// The name of the resource to create a Job from (only cronjob is supported)
    #[arg(long)]
    pub from: Option<String>,
    /// The command, after `--`
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct CronJobArgs {
    pub name: String,
    /// Image name to run
    #[arg(long, required = true)]
    pub image: String,
    /// A schedule in the Cron format the job should be run with
    #[arg(long, required = true)]
    pub schedule: String,
    /// The job's restart policy: OnFailure (default) or Never
    #[arg(long, default_value = "OnFailure")]
    pub restart: String,
    /// The command, after `--`
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// A container's name from its image: the last path segment without tag or digest; `_`
/// and `.` (not allowed in a name) become `-`, and then a random suffix keeps two such
/// names apart, as kubectl does.
pub fn container_name(image: &str, suffix: &mut dyn FnMut() -> String) -> String {
    let mut name = image.rsplit('/').next().unwrap_or(image);
    if let Some((n, _)) = name.split_once(':') {
        name = n;
    }
    if let Some((n, _)) = name.split_once('@') {
        name = n;
    }
    if name.contains(['_', '.']) {
        format!("{}-{}", name.replace(['_', '.'], "-"), suffix())
    } else {
        name.to_string()
    }
}

pub fn deployment(
    a: &DeploymentArgs,
    namespace: Option<&str>,
    suffix: &mut dyn FnMut() -> String,
) -> Result<Object> {
    if a.images.len() > 1 && !a.command.is_empty() {
        bail!("cannot specify multiple --image options and command");
    }
    let app = labels(&[("app", &a.name)]);
    let mut containers: Vec<Value> = a
        .images
        .iter()
        .map(|image| Value::Object(container(&container_name(image, suffix), image, &a.command)))
        .collect();
    if let (Some(port), Some(Value::Object(first))) = (a.port, containers.first_mut())
        && port >= 0
    {
        first.insert("ports".into(), json!([{"containerPort": port}]));
    }
    let none = BTreeMap::new();
    to_object(
        &info::Deployment,
        json!({
            "metadata": metadata(&a.name, namespace, &app, &none),
            "spec": {
                "replicas": a.replicas,
                "selector": {"matchLabels": app},
                // Go prints the empty strategy struct.
                "strategy": {},
                "template": {
                    "metadata": {"labels": app},
                    "spec": {"containers": containers},
                },
            },
            "status": {},
        }),
    )
}

/// The job `create job` makes: from the image, or (with --from) from a CronJob read from
/// the server.
pub async fn job(ctx: &Ctx, a: &JobArgs, namespace: Option<&str>) -> Result<Object> {
    validate_job(a)?;
    if let Some(image) = &a.image {
        return image_job(&a.name, image, &a.command, namespace);
    }
    let from = a.from.as_deref().unwrap_or_default();
    let (kind, name) = from
        .split_once('/')
        .ok_or_else(|| anyhow!("from must be an existing cronjob"))?;
    let info = find_kind(kind)
        .ok_or_else(|| anyhow!("the server doesn't have a resource type \"{kind}\""))?;
    let live = ctx
        .api()
        .await?
        .get(info.plural, ctx.ns.effective(), name)
        .await?;
    let cron = CronJob::try_from_object(live)
        .map_err(|o| anyhow!("unknown object type *{}.{}", info.version, kind_of(&o)))?;
    job_from_cron_job(&a.name, &cron, namespace)
}

fn kind_of(o: &Object) -> &'static str {
    o.info().map(|i| i.kind).unwrap_or("Unknown")
}

pub fn validate_job(a: &JobArgs) -> Result<()> {
    if a.image.is_some() == a.from.is_some() {
        bail!("either --image or --from must be specified");
    }
    if !a.command.is_empty() && a.from.is_some() {
        bail!("cannot specify --from and command");
    }
    Ok(())
}

pub fn image_job(
    name: &str,
    image: &str,
    command: &[String],
    namespace: Option<&str>,
) -> Result<Object> {
    let none = BTreeMap::new();
    to_object(
        &info::Job,
        json!({
            "metadata": metadata(name, namespace, &none, &none),
            "spec": {"template": {
                "metadata": {},
                "spec": {"containers": [container(name, image, command)], "restartPolicy": "Never"},
            }},
            "status": {},
        }),
    )
}

/// A Job run by hand from a CronJob's template: the template's labels and annotations,
/// `cronjob.kubernetes.io/instantiate: manual`, and the CronJob as controlling owner (so
/// deleting the CronJob deletes it, and the CronJob's history counts it).
pub fn job_from_cron_job(name: &str, cron: &CronJob, namespace: Option<&str>) -> Result<Object> {
    let template = cron
        .spec
        .as_ref()
        .and_then(|s| s.job_template.as_deref())
        .cloned()
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut annotations = BTreeMap::from([(
        "cronjob.kubernetes.io/instantiate".to_string(),
        "manual".to_string(),
    )]);
    annotations.extend(template_meta.annotations);
    let mut meta = metadata(name, namespace, &template_meta.labels, &annotations);
    meta["ownerReferences"] = json!([{
        "apiVersion": info::CronJob.api_version,
        "kind": "CronJob",
        "name": cron.meta().name,
        "uid": cron.meta().uid,
        "controller": true,
    }]);
    let spec = serde_json::to_value(template.spec.unwrap_or_default())?;
    to_object(
        &info::Job,
        json!({"metadata": meta, "spec": spec, "status": {}}),
    )
}

pub fn cron_job(a: &CronJobArgs, namespace: Option<&str>) -> Result<Object> {
    let none = BTreeMap::new();
    to_object(
        &info::CronJob,
        json!({
            "metadata": metadata(&a.name, namespace, &none, &none),
            "spec": {
                "schedule": a.schedule,
                "jobTemplate": {
                    "metadata": {"name": a.name},
                    "spec": {"template": {
                        "metadata": {},
                        "spec": {
                            "containers": [container(&a.name, &a.image, &a.command)],
                            "restartPolicy": a.restart,
                        },
                    }},
                },
            },
            "status": {},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::doc::testing::AsDoc;
    use super::super::doc::testing::assert_same_as_kubectl;
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn deploy_args(images: &[&str], command: &[&str]) -> DeploymentArgs {
        DeploymentArgs {
            name: "web".into(),
            images: strings(images),
            port: None,
            replicas: 1,
            command: strings(command),
        }
    }

    #[test]
    fn deployment_is_kubectls() {
        // kubectl create deploy web --image=nginx --dry-run=client -o yaml
        let d = deployment(&deploy_args(&["nginx"], &[]), None, &mut || "x".into()).unwrap();
        assert_same_as_kubectl(
            &d,
            "apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
",
        );
    }

    #[test]
    fn deployment_port_replicas_command_and_namespace() {
        let mut a = deploy_args(&["reg.io:5000/team/my_app.v2:1.0"], &["sleep", "10"]);
        a.port = Some(8080);
        a.replicas = 3;
        let d = deployment(&a, Some("apps"), &mut || "abcde".into())
            .unwrap()
            .doc();
        assert_eq!(d["metadata"]["namespace"], "apps");
        assert_eq!(d["spec"]["replicas"], 3);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["name"], "my-app-v2-abcde", "sanitized and made unique");
        assert_eq!(c["command"], json!(["sleep", "10"]));
        assert_eq!(c["ports"], json!([{"containerPort": 8080}]));
        // --port=-1 is kubectl's "none".
        a.port = Some(-1);
        let d = deployment(&a, None, &mut || "x".into()).unwrap().doc();
        assert!(d["spec"]["template"]["spec"]["containers"][0]["ports"].is_null());
    }

    #[test]
    fn several_images_make_several_containers_but_refuse_a_command() {
        let d = deployment(
            &deploy_args(&["nginx", "busybox@sha256:ab"], &[]),
            None,
            &mut || "x".into(),
        )
        .unwrap()
        .doc();
        let names: Vec<&str> = d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["nginx", "busybox"]);
        let e = deployment(&deploy_args(&["a", "b"], &["sleep"]), None, &mut || {
            "x".into()
        });
        assert_eq!(
            e.unwrap_err().to_string(),
            "cannot specify multiple --image options and command"
        );
    }

    #[test]
    fn job_is_kubectls() {
        // kubectl create job j --image=busybox --dry-run=client -o yaml -- echo hi
        assert_same_as_kubectl(
            &image_job("j", "busybox", &strings(&["echo", "hi"]), None).unwrap(),
            "apiVersion: batch/v1
kind: Job
metadata:
  creationTimestamp: null
  name: j
spec:
  template:
    metadata:
      creationTimestamp: null
    spec:
      containers:
      - command:
        - echo
        - hi
        image: busybox
        name: j
        resources: {}
      restartPolicy: Never
status: {}
",
        );
    }

    #[test]
    fn job_flags_are_checked_as_kubectl() {
        let mut a = JobArgs {
            name: "j".into(),
            image: None,
            from: None,
            command: vec![],
        };
        let msg = |a: &JobArgs| validate_job(a).unwrap_err().to_string();
        assert_eq!(msg(&a), "either --image or --from must be specified");
        a.image = Some("i".into());
        a.from = Some("cronjob/c".into());
        assert_eq!(msg(&a), "either --image or --from must be specified");
        a.image = None;
        a.command = strings(&["date"]);
        assert_eq!(msg(&a), "cannot specify --from and command");
    }

    #[test]
    fn cron_job_is_kubectls() {
        // kubectl create cj c --image=busybox --schedule='*/1 * * * *' --dry-run=client -o yaml -- date
        let a = CronJobArgs {
            name: "c".into(),
            image: "busybox".into(),
            schedule: "*/1 * * * *".into(),
            restart: "OnFailure".into(),
            command: strings(&["date"]),
        };
        assert_same_as_kubectl(
            &cron_job(&a, None).unwrap(),
            "apiVersion: batch/v1
kind: CronJob
metadata:
  creationTimestamp: null
  name: c
spec:
  jobTemplate:
    metadata:
      creationTimestamp: null
      name: c
    spec:
      template:
        metadata:
          creationTimestamp: null
        spec:
          containers:
          - command:
            - date
            image: busybox
            name: c
            resources: {}
          restartPolicy: OnFailure
  schedule: '*/1 * * * *'
status: {}
",
        );
    }

    #[test]
    fn a_job_from_a_cron_job_copies_its_template_and_is_owned_by_it() {
        let a = CronJobArgs {
            name: "nightly".into(),
            image: "busybox".into(),
            schedule: "0 0 * * *".into(),
            restart: "Never".into(),
            command: vec![],
        };
        let mut cron = CronJob::try_from_object(cron_job(&a, Some("apps")).unwrap()).unwrap();
        cron.meta_mut().uid = "u-1".into();
        let tm = cron
            .spec
            .as_mut()
            .unwrap()
            .job_template
            .as_mut()
            .unwrap()
            .metadata
            .as_mut()
            .unwrap();
        tm.labels.insert("team".into(), "x".into());
        tm.annotations.insert("note".into(), "y".into());
        let job = job_from_cron_job("by-hand", &cron, None).unwrap().doc();
        assert_eq!(job["metadata"]["name"], "by-hand");
        assert!(job["metadata"]["namespace"].is_null());
        assert_eq!(job["metadata"]["labels"], json!({"team": "x"}));
        assert_eq!(
            job["metadata"]["annotations"],
            json!({"cronjob.kubernetes.io/instantiate": "manual", "note": "y"})
        );
        assert_eq!(
            job["metadata"]["ownerReferences"],
            json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "u-1", "controller": true}])
        );
        let c = &job["spec"]["template"]["spec"];
        assert_eq!(c["restartPolicy"], "Never");
        assert_eq!(c["containers"][0]["image"], "busybox");
    }
}
