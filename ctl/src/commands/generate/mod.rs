//! `ctl create namespace|deployment|service|configmap|secret|job|cronjob|serviceaccount`:
//! objects made from flags, as kubectl 1.33's generators make them. Each kind's module
//! builds its object with a pure function (tested against kubectl's own
//! `--dry-run=client -o yaml`); `emit` sends it and reports it.

mod data;
pub(crate) mod doc;
mod ingress;
mod rbac;
mod service;
mod simple;
mod workload;

#[cfg(test)]
mod component_tests;

pub use data::{ConfigMapArgs, SecretCommand};
pub use ingress::IngressArgs;
pub use rbac::{ClusterRoleArgs, ClusterRoleBindingArgs, RoleArgs, RoleBindingArgs};
pub use service::ServiceCommand;
pub use simple::{NameArgs, QuotaArgs};
pub use workload::{CronJobArgs, DeploymentArgs, JobArgs};

use super::Ctx;
use crate::api::Unreachable;
use crate::args::DryRun;
use crate::kinds::object_name_of;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use proto::k8s::Object;

#[derive(Subcommand, Debug, Clone)]
pub enum Generate {
    /// Create a namespace with the specified name
    #[command(visible_alias = "ns")]
    Namespace(NameArgs),
    /// Create a service account with the specified name
    #[command(name = "serviceaccount", visible_alias = "sa")]
    ServiceAccount(NameArgs),
    /// Create a deployment with the specified name: `--image=I [--replicas=N] [-- COMMAND]`
    #[command(visible_alias = "deploy")]
    Deployment(DeploymentArgs),
    /// Create a service: `clusterip|nodeport|loadbalancer|externalname NAME --tcp=P:T`
    #[command(visible_alias = "svc", subcommand)]
    Service(ServiceCommand),
    /// Create a config map from files, directories, env files or literal values
    #[command(name = "configmap", visible_alias = "cm")]
    ConfigMap(ConfigMapArgs),
    /// Create a secret: `generic|tls|docker-registry NAME ...`
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Create a job: `--image=I [-- COMMAND]`, or `--from=cronjob/NAME`
    Job(JobArgs),
    /// Create a cron job: `--image=I --schedule='*/1 * * * *' [-- COMMAND]`
    #[command(name = "cronjob", visible_alias = "cj")]
    CronJob(CronJobArgs),
    /// Create a role with a single rule: `--verb=get,list --resource=pods`
    Role(RoleArgs),
    /// Create a cluster role: `--verb=... --resource=...`, `--non-resource-url`, or
    /// `--aggregation-rule`
    #[command(name = "clusterrole")]
    ClusterRole(ClusterRoleArgs),
    /// Create a role binding for a Role or ClusterRole
    #[command(name = "rolebinding")]
    RoleBinding(RoleBindingArgs),
    /// Create a cluster role binding for a ClusterRole
    #[command(name = "clusterrolebinding")]
    ClusterRoleBinding(ClusterRoleBindingArgs),
    /// Create a resource quota: `--hard=cpu=1,pods=2 [--scopes=BestEffort]`
    #[command(visible_alias = "resourcequota")]
    Quota(QuotaArgs),
    /// Create an ingress: `--rule=host/path=service:port[,tls[=secret]]`
    #[command(visible_alias = "ing")]
    Ingress(IngressArgs),
}

pub async fn create(ctx: &Ctx, g: &Generate) -> Result<()> {
    // kubectl writes the namespace into the object only when -n names one.
    let ns = ctx.ns.explicit.as_deref();
    let (object, failure) = match g {
        Generate::Namespace(a) => (simple::namespace(&a.name)?, String::new()),
        Generate::ServiceAccount(a) => (
            simple::service_account(&a.name, ns)?,
            "failed to create serviceaccount: ".into(),
        ),
        Generate::Deployment(a) => (
            workload::deployment(a, ns, &mut doc::random_suffix)?,
            "failed to create deployment: ".into(),
        ),
        Generate::Service(s) => {
            let (object, kind) = service::build(s, ns)?;
            (object, format!("failed to create {kind} service: "))
        }
        Generate::ConfigMap(a) => (
            data::config_map(a, ns)?,
            "failed to create configmap: ".into(),
        ),
        Generate::Secret(s) => (data::secret(s, ns)?, "failed to create secret ".into()),
        Generate::Job(a) => (
            Box::pin(workload::job(ctx, a, ns)).await?,
            "failed to create job: ".into(),
        ),
        Generate::CronJob(a) => (
            workload::cron_job(a, ns)?,
            "failed to create cronjob: ".into(),
        ),
        Generate::Role(a) => (warn(rbac::role(a, ns)?), String::new()),
        Generate::ClusterRole(a) => (warn(rbac::cluster_role(a)?), String::new()),
        Generate::RoleBinding(a) => (
            rbac::role_binding(a, ns)?,
            "failed to create rolebinding: ".into(),
        ),
        Generate::ClusterRoleBinding(a) => (
            rbac::cluster_role_binding(a)?,
            "failed to create clusterrolebinding: ".into(),
        ),
        Generate::Quota(a) => (simple::quota(a, ns)?, "failed to create quota: ".into()),
        Generate::Ingress(a) => (
            ingress::ingress(a, ns)?,
            "failed to create ingress: ".into(),
        ),
    };
    // Boxed: an object and its request held across the await make a large future.
    Box::pin(emit(ctx, object, &failure)).await
}

/// Prints a generator's warnings (on stderr, before anything is sent, as kubectl does).
fn warn((object, warnings): (Object, Vec<String>)) -> Object {
    for w in warnings {
        eprintln!("{w}");
    }
    object
}

/// Sends what a generator built (unless `--dry-run=client`, which shows it as built) and
/// reports it as kubectl does: `deployment.apps/web created`, or the object in the `-o`
/// form. `failure` prefixes the server's refusal, in kubectl's words for that kind.
pub(crate) async fn emit(ctx: &Ctx, object: Object, failure: &str) -> Result<()> {
    let shown = send(ctx, object)
        .await
        .map_err(|e| wrap_failure(e, failure))?;
    print_outcome(ctx, &shown, "created")
}

/// Creates `object` in its namespace (else -n, else the context's), honouring --dry-run.
pub(crate) async fn send(ctx: &Ctx, mut object: Object) -> Result<Object> {
    if ctx.dry_run() == DryRun::Client {
        return Ok(object);
    }
    let info = object
        .info()
        .ok_or_else(|| anyhow!("a generator built an empty object"))?;
    if info.namespaced && object.meta().namespace.is_empty() {
        object.meta_mut().namespace = ctx.ns.effective().to_string();
    }
    ctx.api().await?.create(object).await
}

fn wrap_failure(e: anyhow::Error, prefix: &str) -> anyhow::Error {
    // An unreachable server reads the same for every command.
    if prefix.is_empty() || e.downcast_ref::<Unreachable>().is_some() {
        return e;
    }
    anyhow!("{prefix}{e}")
}

/// `-o` prints the object; otherwise `KIND/NAME <verb>` (+ ` (dry run)`).
pub(crate) fn print_outcome(ctx: &Ctx, object: &Object, verb: &str) -> Result<()> {
    if let Some(format) = ctx.output()
        && let Some(text) = crate::printers::render_objects(&format, std::slice::from_ref(object))?
    {
        print!("{text}");
        return Ok(());
    }
    println!("{}", outcome_line(object, verb, ctx.dry_run_suffix()));
    Ok(())
}

pub(crate) fn outcome_line(object: &Object, verb: &str, suffix: &str) -> String {
    let subject = object_name_of(object);
    format!("{subject} {verb}{suffix}")
}
