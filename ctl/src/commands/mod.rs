//! One module per command; `run` dispatches. Commands print their results on stdout and
//! per-object failures on stderr, and return `Reported` when they did so, so that `main`
//! exits non-zero without printing twice.

pub mod apply;
pub mod auth;
pub mod certificate;
pub mod completion;
pub mod container;
pub mod cp;
pub mod delete;
pub mod describe;
pub mod diff;
pub mod edit;
pub mod events;
pub mod explain;
pub mod expose;
pub mod generate;
pub mod get;
pub mod kubeconfig;
pub mod meta;
pub mod node;
pub mod outcome;
pub mod patch;
pub mod port_forward;
pub mod resources;
pub mod rollout;
pub mod run;
pub mod sa_token;
pub mod scale;
pub mod set;
pub mod token;
pub mod top;
pub mod version;
pub mod wait;

#[cfg(test)]
mod component_tests;
#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod secure_tests;
#[cfg(test)]
mod workload_tests;

use crate::api::Api;
use crate::args::{
    AuthCommand, Cli, Command, CreateCommand, DryRun, GlobalArgs, OutputFormat, parse_duration,
};
use crate::connection::Resolved;
use crate::errors::render_error;
use crate::kinds::Namespaces;
use anyhow::{Result, anyhow};
use proto::KindInfo;
use proto::k8s::ListRequest;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Failures were already printed; exit 1 quietly.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("errors were reported")
    }
}

impl std::error::Error for Reported {}

/// What every command needs: the flags, and a connection made on first use (so commands
/// that need no server, and bad arguments, do not wait for one).
pub struct Ctx {
    pub global: GlobalArgs,
    pub ns: Namespaces,
    /// Server, trust and credentials (from the kubeconfig, or plaintext).
    pub connection: client::ConnectionConfig,
    timeout: Option<Duration>,
    api: OnceCell<Api>,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Result<Ctx> {
        let resolved = Resolved::gather(&global)?;
        let timeout = parse_duration(&global.request_timeout)
            .map_err(|e| anyhow!("--request-timeout: {e}"))?;
        let timeout = (!timeout.is_zero()).then_some(timeout);
        let ns = Namespaces {
            explicit: global.namespace.clone().filter(|n| !n.is_empty()),
            all: global.all_namespaces,
            context_default: resolved.namespace,
        };
        Ok(Ctx {
            global,
            ns,
            connection: resolved.connection,
            timeout,
            api: OnceCell::new(),
        })
    }

    /// A context for tests: this server, `-n` as given, default flags otherwise.
    #[cfg(test)]
    pub fn for_test(server: &str, namespace: Option<&str>) -> Ctx {
        let global = GlobalArgs {
            namespace: namespace.map(String::from),
            request_timeout: "10s".into(),
            ..GlobalArgs::default()
        };
        Ctx {
            ns: Namespaces {
                explicit: global.namespace.clone(),
                all: false,
                context_default: None,
            },
            global,
            connection: client::ConnectionConfig::plaintext(server),
            timeout: Some(Duration::from_secs(10)),
            api: OnceCell::new(),
        }
    }

    /// A context for tests that connect with `connection` (TLS, credentials).
    #[cfg(test)]
    pub fn for_test_connection(
        connection: client::ConnectionConfig,
        namespace: Option<&str>,
    ) -> Ctx {
        let mut ctx = Self::for_test(&connection.server, namespace);
        ctx.connection = connection;
        ctx
    }

    /// The connection, made on first use; its mutations honour `--dry-run`.
    pub async fn api(&self) -> Result<&Api> {
        self.api
            .get_or_try_init(|| async {
                let api = Api::connect(&self.connection, self.timeout).await?;
                Ok::<_, anyhow::Error>(api.with_dry_run(self.global.dry_run))
            })
            .await
    }

    pub fn output(&self) -> Option<OutputFormat> {
        self.global.output.clone()
    }

    pub fn dry_run(&self) -> DryRun {
        self.global.dry_run
    }

    /// What kubectl adds to "created", "configured", "deleted" ... under `--dry-run`.
    pub fn dry_run_suffix(&self) -> &'static str {
        match self.global.dry_run {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }

    pub fn label_selector(&self) -> String {
        self.global.selector.clone().unwrap_or_default()
    }

    pub fn field_selector(&self) -> String {
        self.global.field_selector.clone().unwrap_or_default()
    }

    /// Lists `kind` in the namespaces and with the selectors the command line asks for.
    pub fn list_request(&self, kind: &KindInfo) -> ListRequest {
        ListRequest {
            resource: kind.plural.to_string(),
            namespace: self.ns.for_list(kind),
            label_selector: self.label_selector(),
            field_selector: self.field_selector(),
            ..Default::default()
        }
    }
}

/// Prints one failure of several and counts it.
pub fn report(failures: &mut usize, e: &anyhow::Error) {
    *failures += 1;
    eprintln!("{}", render_error(e));
}

pub fn finish(failures: usize) -> Result<()> {
    if failures > 0 {
        Err(Reported.into())
    } else {
        Ok(())
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    // The kubeconfig is shown even when it names no usable connection.
    if let Command::Config(a) = &cli.command {
        return kubeconfig::config(&cli.global, a);
    }
    // So is the completion script: a shell's startup must not depend on the kubeconfig.
    if let Command::Completion(a) = &cli.command {
        return completion::completion(a);
    }
    let ctx = Ctx::new(cli.global)?;
    match cli.command {
        Command::Apply(a) => apply::apply(&ctx, &a).await,
        Command::Create(a) => match &a.command {
            Some(CreateCommand::Token(t)) => sa_token::create_token(&ctx, t).await,
            Some(CreateCommand::Generated(g)) => generate::create(&ctx, g).await,
            None => apply::create(&ctx, &a.files).await,
        },
        Command::Replace(a) => apply::replace(&ctx, &a).await,
        Command::Delete(a) => delete::delete(&ctx, &a).await,
        Command::Get(a) => get::get(&ctx, &a).await,
        Command::Describe(a) => describe::describe(&ctx, &a).await,
        Command::Label(a) => meta::label(&ctx, &a, meta::Field::Labels).await,
        Command::Annotate(a) => meta::label(&ctx, &a, meta::Field::Annotations).await,
        Command::Scale(a) => scale::scale(&ctx, &a).await,
        Command::Rollout(a) => rollout::rollout(&ctx, &a).await,
        Command::Set(a) => set::set(&ctx, &a).await,
        Command::Cordon(a) => node::cordon(&ctx, &a, true).await,
        Command::Uncordon(a) => node::cordon(&ctx, &a, false).await,
        Command::Drain(a) => node::drain(&ctx, &a).await,
        Command::ApiResources(a) => resources::api_resources(&ctx, &a),
        Command::Version(a) => version::version(&ctx, &a).await,
        Command::Edit(a) => edit::edit(&ctx, &a).await,
        Command::Patch(a) => patch::patch(&ctx, &a).await,
        Command::Diff(a) => diff::diff(&ctx, &a).await,
        Command::Expose(a) => expose::expose(&ctx, &a).await,
        Command::Run(a) => run::run(&ctx, &a).await,
        Command::Wait(a) => wait::wait(&ctx, &a).await,
        Command::Events(a) => events::events(&ctx, &a).await,
        Command::Explain(a) => explain::explain(&ctx, &a).await,
        Command::PortForward(a) => port_forward::port_forward(&ctx, &a).await,
        Command::Cp(a) => cp::cp(&ctx, &a).await,
        Command::Completion(a) => completion::completion(&a),
        Command::Logs(a) => container::logs(&ctx, &a).await,
        Command::Exec(a) => container::exec(&ctx, &a).await,
        Command::Top(a) => top::top(&ctx, &a).await,
        Command::Config(_) => unreachable!("handled before connecting"),
        Command::Auth(a) => match &a.command {
            AuthCommand::CanI(c) => auth::can_i(&ctx, c).await,
            AuthCommand::Whoami => auth::whoami(&ctx).await,
        },
        Command::Token(a) => token::token(&ctx, &a).await,
        Command::Certificate(a) => certificate::certificate(&ctx, &a).await,
    }
}
