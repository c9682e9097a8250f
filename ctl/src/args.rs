//! Command-line grammar (clap derive). Only parsing lives here; meaning is given by the
//! command modules.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "ctl",
    version,
    about = "ctl controls the cluster: the kubectl of this project",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// The kubeconfig to use (else $KUBECONFIG, else ~/.kube/config if it exists; without
    /// one: plaintext to --server, $CTL_SERVER, ~/.config/ctl/config or http://127.0.0.1:6443)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: its current-context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The apiserver address; overrides the kubeconfig's server
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// The namespace to act in (default: "default")
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// List across all namespaces
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Output format: wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=FILE,
    /// jsonpath-as-json=TEMPLATE, custom-columns=SPEC, custom-columns-file=FILE,
    /// go-template=TEMPLATE, go-template-file=FILE
    #[arg(short = 'o', long, global = true, value_parser = parse_output, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Only show what would be done: `client` (nothing sent) or `server` (sent, checked by
    /// the server, not stored); `none` does it. `--dry-run` alone is `client`
    #[arg(long, global = true, value_enum, default_value = "none", num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Label selector (`app=web,tier!=db`, `env in (a,b)`)
    #[arg(short = 'l', long, global = true)]
    pub selector: Option<String>,
    /// Field selector (`metadata.name=web,status.phase=Running`)
    #[arg(long, global = true)]
    pub field_selector: Option<String>,
    /// Time limit of one request to the server (`30s`, `2m`, `0` for none)
    #[arg(long, global = true, default_value = "30s", value_name = "DURATION")]
    pub request_timeout: String,
}

/// `-o`: the simple forms, and the templates kubectl takes after `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFormat {
    Wide,
    Yaml,
    Json,
    Name,
    JsonPath(String),
    JsonPathFile(std::path::PathBuf),
    /// `jsonpath-as-json=`: the template's results as a JSON array.
    JsonPathAsJson(String),
    CustomColumns(String),
    CustomColumnsFile(std::path::PathBuf),
    GoTemplate(String),
    GoTemplateFile(std::path::PathBuf),
}

const OUTPUT_FORMATS: &str = "custom-columns, custom-columns-file, go-template, go-template-file, json, jsonpath, jsonpath-as-json, jsonpath-file, name, wide, yaml";

/// kubectl's `-o` values; `template` and `templatefile` are its aliases of go-template.
pub fn parse_output(s: &str) -> Result<OutputFormat, String> {
    let (format, arg) = match s.split_once('=') {
        Some((f, a)) => (f, Some(a)),
        None => (s, None),
    };
    let need = |a: Option<&str>| -> Result<String, String> {
        match a {
            Some(a) if !a.is_empty() => Ok(a.to_string()),
            _ => Err(format!(
                "{format} output format needs a template: -o {format}=..."
            )),
        }
    };
    Ok(match (format, arg) {
        ("wide", None) => OutputFormat::Wide,
        ("yaml", None) => OutputFormat::Yaml,
        ("json", None) => OutputFormat::Json,
        ("name", None) => OutputFormat::Name,
        ("jsonpath", a) => OutputFormat::JsonPath(need(a)?),
        ("jsonpath-file", a) => OutputFormat::JsonPathFile(need(a)?.into()),
        ("jsonpath-as-json", a) => OutputFormat::JsonPathAsJson(need(a)?),
        ("custom-columns", a) => OutputFormat::CustomColumns(need(a)?),
        ("custom-columns-file", a) => OutputFormat::CustomColumnsFile(need(a)?.into()),
        ("go-template" | "template", a) => OutputFormat::GoTemplate(need(a)?),
        ("go-template-file" | "templatefile", a) => OutputFormat::GoTemplateFile(need(a)?.into()),
        _ => {
            return Err(format!(
                "unable to match a printer suitable for the output format {s:?}, allowed formats are: {OUTPUT_FORMATS}"
            ));
        }
    })
}

/// `--dry-run`: kubectl's three strategies.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create or update resources from manifests (three-way merge, like kubectl apply)
    Apply(FileArgs),
    /// Create resources from manifests (fails if they exist), or a ServiceAccount token
    Create(CreateArgs),
    /// Replace resources with the manifests' content
    Replace(FileArgs),
    /// Delete resources by kind and names, by selector, or from manifests
    Delete(DeleteArgs),
    /// Display resources as tables, YAML, JSON or names
    Get(GetArgs),
    /// Show details of a resource, with its events
    Describe(DescribeArgs),
    /// Add, change or remove labels (`k=v`, `k-`)
    Label(MetaArgs),
    /// Add, change or remove annotations (`k=v`, `k-`)
    Annotate(MetaArgs),
    /// Set the replica count of a deployment, replicaset or statefulset
    Scale(ScaleArgs),
    /// Manage the rollout of a deployment: status, history, undo, restart, pause, resume
    Rollout(RolloutArgs),
    /// Set a feature of a resource: `set image deployment/web web=local/web:2`
    Set(SetArgs),
    /// Mark nodes unschedulable
    Cordon(NodeArgs),
    /// Mark nodes schedulable again
    Uncordon(NodeArgs),
    /// Cordon a node and delete its pods, to prepare it for maintenance
    Drain(DrainArgs),
    /// List the resource kinds the API serves
    ApiResources(ApiResourcesArgs),
    /// Print the client and server versions
    Version(crate::commands::version::VersionArgs),
    /// Edit a resource in $KUBE_EDITOR or $EDITOR and update it with the result
    Edit(crate::commands::edit::EditArgs),
    /// Update fields of a resource with a strategic merge, JSON merge or JSON patch
    Patch(crate::commands::patch::PatchArgs),
    /// Show how the manifests differ from what the server holds (exit 1: differences)
    Diff(crate::commands::diff::DiffArgs),
    /// Expose a deployment, replica set, pod or service as a new Service
    Expose(crate::commands::expose::ExposeArgs),
    /// Run a pod from an image
    Run(crate::commands::run::RunArgs),
    /// Wait for a condition on resources: `--for=condition=Ready`, `--for=delete`,
    /// `--for=jsonpath='{.status.phase}'=Running`
    Wait(crate::commands::wait::WaitArgs),
    /// List events, oldest first (`--for KIND/NAME`, `-w`)
    Events(crate::commands::events::EventsArgs),
    /// Describe the fields of a kind: `explain pods.spec.containers`
    Explain(crate::commands::explain::ExplainArgs),
    /// Forward local ports to a pod: `port-forward pod/web 8080:80`
    PortForward(crate::commands::port_forward::PortForwardArgs),
    /// Copy files between containers and the local disk
    Cp(crate::commands::cp::CpArgs),
    /// Print a shell completion script: `completion bash|zsh|fish`
    Completion(crate::commands::completion::CompletionArgs),
    /// Print a container's logs
    Logs(crate::commands::container::LogsArgs),
    /// Run a command in a container
    Exec(crate::commands::container::ExecArgs),
    /// Show CPU and memory use of pods or nodes
    Top(crate::commands::top::TopArgs),
    /// Show or change the kubeconfig: `config view`, `get-contexts`, `use-context NAME`,
    /// `set-context`, `set-cluster`, `set-credentials`, `delete-context`, ...
    Config(ConfigArgs),
    /// Inspect authorization: `auth can-i VERB RESOURCE[/NAME]`, `auth whoami`
    Auth(AuthArgs),
    /// Manage bootstrap tokens for joining nodes: `token create|list|delete`
    Token(TokenArgs),
    /// Approve or deny certificate signing requests
    Certificate(CertificateArgs),
}

// Not `args_conflicts_with_subcommands`: it counts global flags too, and refused kubectl's
// `create -n x deployment web`. With a subcommand, -f is not read.
#[derive(Args, Debug, Clone)]
#[command(subcommand_negates_reqs = true)]
pub struct CreateArgs {
    #[command(subcommand)]
    pub command: Option<CreateCommand>,
    #[command(flatten)]
    pub files: FileArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CreateCommand {
    /// Request a token for a ServiceAccount (TokenRequest) and print it
    Token(CreateTokenArgs),
    /// Objects made from flags: namespace, deployment, service, configmap, secret, ...
    #[command(flatten)]
    Generated(crate::commands::generate::Generate),
}

#[derive(Args, Debug, Clone)]
pub struct CreateTokenArgs {
    /// The ServiceAccount's name
    pub service_account: String,
    /// The token's lifetime (`10m`, `1h`); the server may shorten it [default: the server's]
    #[arg(long)]
    pub duration: Option<String>,
    /// An intended audience of the token (repeatable) [default: the apiserver's]
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum ConfigCommand {
    /// Print the kubeconfig (keys and tokens hidden unless --raw); `-o yaml|json`
    View(ConfigViewArgs),
    /// Print the current context's name
    CurrentContext,
    /// List the contexts (or one), `*` marking the current one; `-o name` for names only
    GetContexts {
        /// Only this context
        name: Option<String>,
    },
    /// List the clusters' names
    GetClusters,
    /// List the users' names
    GetUsers,
    /// Make a context the current one
    #[command(visible_alias = "use")]
    UseContext {
        /// The context
        name: String,
    },
    /// Create or change a context: `--cluster`, `--user`, `--namespace` (or `-n`)
    SetContext(SetContextArgs),
    /// Create or change a cluster: `--server`, `--certificate-authority`, ...
    SetCluster(SetClusterArgs),
    /// Create or change a user: `--token`, or `--client-certificate` and `--client-key`
    SetCredentials(SetCredentialsArgs),
    /// Remove a context
    DeleteContext {
        /// The context
        name: String,
    },
    /// Remove a cluster
    DeleteCluster {
        /// The cluster
        name: String,
    },
    /// Remove a user
    DeleteUser {
        /// The user
        name: String,
    },
    /// Give a context another name
    RenameContext {
        /// The context's name now
        old: String,
        /// Its new name
        new: String,
    },
}

#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigViewArgs {
    /// Show keys, certificates and tokens
    #[arg(long)]
    pub raw: bool,
    /// Only what the current context (or --context) uses
    #[arg(long)]
    pub minify: bool,
    /// Embed the files the kubeconfig names (certificates, keys) as data
    #[arg(long)]
    pub flatten: bool,
}

#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct SetContextArgs {
    /// The context (default with --current: the current one)
    pub name: Option<String>,
    /// Change the current context
    #[arg(long, conflicts_with = "name")]
    pub current: bool,
    /// The context's cluster
    #[arg(long)]
    pub cluster: Option<String>,
    /// The context's user
    #[arg(long)]
    pub user: Option<String>,
    // The namespace is the global `-n/--namespace`: kubectl spells it the same way.
}

/// `--embed-certs` and `--insecure-skip-tls-verify` are kubectl's optional booleans: alone,
/// or `=true|false`; a separate word is never taken as the value (flags go anywhere).
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct SetClusterArgs {
    /// The cluster
    pub name: String,
    // The server is the global `--server`: kubectl spells it the same way.
    /// A CA certificate file the server's certificate is checked against
    #[arg(long, value_name = "FILE")]
    pub certificate_authority: Option<String>,
    /// Store the CA file's content in the kubeconfig instead of its path
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set)]
    pub embed_certs: Option<bool>,
    /// Do not check the server's certificate
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set)]
    pub insecure_skip_tls_verify: Option<bool>,
    /// The server name its certificate is checked for (default: the server's host)
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct SetCredentialsArgs {
    /// The user
    pub name: String,
    /// A bearer token
    #[arg(long)]
    pub token: Option<String>,
    /// A client certificate file
    #[arg(long, value_name = "FILE")]
    pub client_certificate: Option<String>,
    /// The client certificate's key file
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<String>,
    /// Store the certificate and key files' content instead of their paths
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set)]
    pub embed_certs: Option<bool>,
}

#[derive(Args, Debug, Clone)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum AuthCommand {
    /// Whether an action is allowed: prints yes (exit 0) or no (exit 1)
    CanI(CanIArgs),
    /// Who the server takes you for
    Whoami,
}

#[derive(Args, Debug, Clone)]
pub struct CanIArgs {
    /// The verb (`get`, `list`, `create`, `*`, ...)
    pub verb: String,
    /// TYPE, TYPE/NAME, or a non-resource URL (`/healthz`)
    pub resource: String,
    /// A subresource (`log`, `status`, `scale`, `proxy`)
    #[arg(long)]
    pub subresource: Option<String>,
    /// Ask for this user instead (a SubjectAccessReview)
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Ask for this group too (repeatable; with or without --as)
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_groups: Vec<String>,
    /// Print nothing; the exit code answers
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// Create a bootstrap token and print it (or the kubelet's join command)
    Create(TokenCreateArgs),
    /// List the bootstrap tokens
    List,
    /// Delete bootstrap tokens (ID or ID.SECRET)
    Delete {
        #[arg(required = true, value_name = "TOKEN")]
        tokens: Vec<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct TokenCreateArgs {
    /// The token to create (`[a-z0-9]{6}.[a-z0-9]{16}`) [default: a random one]
    pub token: Option<String>,
    /// How long the token is valid (`0`: for ever)
    #[arg(long, default_value = "24h")]
    pub ttl: String,
    /// A note on what the token is for
    #[arg(long)]
    pub description: Option<String>,
    /// Print the kubelet flags that join a node with this token
    #[arg(long)]
    pub print_join_command: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CertificateArgs {
    #[command(subcommand)]
    pub command: CertificateCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CertificateCommand {
    /// Approve certificate signing requests
    Approve {
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// Also when the request was denied
        #[arg(long)]
        force: bool,
    },
    /// Deny certificate signing requests
    Deny {
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// Also when the request was approved
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct FileArgs {
    /// A manifest file, a directory of manifests, or `-` for stdin
    #[arg(short = 'f', long = "filename", required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Descend into subdirectories of a directory given with -f
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DeleteArgs {
    /// KIND NAME [NAME...], or KIND/NAME ...
    pub args: Vec<String>,
    /// Delete what these manifests name
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Seconds the object gets to terminate (-1: the object's own default)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// Shortcut for --grace-period=1
    #[arg(long)]
    pub now: bool,
    /// Skip graceful termination (--grace-period=0)
    #[arg(long)]
    pub force: bool,
    /// What happens to dependents: background, foreground or orphan
    #[arg(long, default_value = "background", num_args = 0..=1, require_equals = true,
          default_missing_value = "background")]
    pub cascade: String,
    /// Wait until the objects are gone
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub wait: bool,
    /// How long --wait waits (`60s`, `2m`)
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Treat a missing object as deleted
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Delete every object of the kind in the namespace
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// KIND[,KIND] [NAME...], or KIND/NAME ...
    #[arg(required = true)]
    pub args: Vec<String>,
    /// After listing, stream changes
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Add a LABELS column
    #[arg(long)]
    pub show_labels: bool,
    /// Leave out the table header
    #[arg(long)]
    pub no_headers: bool,
    /// Keep metadata.managedFields in -o yaml|json output
    #[arg(long)]
    pub show_managed_fields: bool,
    /// Sort the list by a field given as a JSONPath (`.metadata.name`,
    /// `{.status.containerStatuses[0].restartCount}`): numbers numerically, strings by text
    #[arg(long, value_name = "JSONPATH")]
    pub sort_by: Option<String>,
    /// Add a column for each of these label keys (`-L app -L tier` or `-L app,tier`)
    #[arg(
        short = 'L',
        long = "label-columns",
        value_delimiter = ',',
        value_name = "KEY"
    )]
    pub label_columns: Vec<String>,
    /// Print nothing for a key a jsonpath or go-template names but the object lacks
    /// (`=false`: an error)
    #[arg(
        long,
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub allow_missing_template_keys: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DescribeArgs {
    /// KIND [NAME...], or KIND/NAME
    #[arg(required = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct MetaArgs {
    /// KIND NAME key=value key2- ...
    #[arg(required = true)]
    pub args: Vec<String>,
    /// Allow changing the value of an existing key
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ScaleArgs {
    /// KIND NAME, or KIND/NAME
    #[arg(required = true)]
    pub args: Vec<String>,
    /// The new replica count
    #[arg(long, required = true)]
    pub replicas: i32,
    /// Only scale if the current count is this
    #[arg(long)]
    pub current_replicas: Option<i32>,
}

#[derive(Args, Debug, Clone)]
pub struct SetArgs {
    #[command(subcommand)]
    pub command: SetCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum SetCommand {
    /// Update the image of containers of a pod template (deployment, replicaset,
    /// statefulset, daemonset, job) or pod: TYPE NAME CONTAINER=IMAGE ... (`*` for all)
    Image {
        // Counted by the command, not by clap: a count per occurrence would refuse flags
        // between the arguments (`set image deploy/x -n ns c=img`).
        #[arg(required = true, value_name = "ARGS")]
        args: Vec<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum RolloutCommand {
    /// Wait for the rollout to finish, printing its progress
    Status(RolloutStatusArgs),
    /// List the revisions (or show one with --revision)
    History(RolloutHistoryArgs),
    /// Roll back to the previous revision (or --to-revision N)
    Undo(RolloutUndoArgs),
    /// Restart every pod by a rolling update (sets a restartedAt template annotation)
    Restart(RolloutTarget),
    /// Stop rolling out template changes; scaling still applies (deployments only)
    Pause(RolloutTarget),
    /// Resume rolling out a paused deployment (deployments only)
    Resume(RolloutTarget),
}

#[derive(Args, Debug, Clone)]
pub struct RolloutTarget {
    /// KIND/NAME or KIND NAME: a deployment, daemonset or statefulset
    #[arg(required = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RolloutStatusArgs {
    /// KIND/NAME or KIND NAME: a deployment, daemonset or statefulset
    #[arg(required = true)]
    pub args: Vec<String>,
    /// Keep waiting until the rollout finishes (`--watch=false` prints once)
    #[arg(short = 'w', long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub watch: bool,
    /// Give up after this long (`0`: wait for ever)
    #[arg(long, default_value = "0")]
    pub timeout: String,
}

#[derive(Args, Debug, Clone)]
pub struct RolloutHistoryArgs {
    /// KIND/NAME or KIND NAME: a deployment, daemonset or statefulset
    #[arg(required = true)]
    pub args: Vec<String>,
    /// Show the pod template of this revision
    #[arg(long)]
    pub revision: Option<i64>,
}

#[derive(Args, Debug, Clone)]
pub struct RolloutUndoArgs {
    /// KIND/NAME or KIND NAME: a deployment, daemonset or statefulset
    #[arg(required = true)]
    pub args: Vec<String>,
    /// The revision to roll back to (default: the previous one)
    #[arg(long, default_value_t = 0)]
    pub to_revision: i64,
}

#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Node names
    #[arg(required = true)]
    pub nodes: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DrainArgs {
    /// The node to drain
    pub node: String,
    /// Leave DaemonSet-managed pods (they would be recreated at once anyway)
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Also delete pods no controller manages (they are gone for good)
    #[arg(long)]
    pub force: bool,
    /// Also delete pods using emptyDir volumes (their data is lost)
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Seconds each pod gets to terminate (-1: the pod's own terminationGracePeriodSeconds)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// Give up waiting for the pods to go after this long (`0`: wait for ever)
    #[arg(long, default_value = "0")]
    pub timeout: String,
    /// Delete the pods instead of evicting them, past any PodDisruptionBudget
    #[arg(long)]
    pub disable_eviction: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ApiResourcesArgs {
    /// Only namespaced (true) or only cluster-scoped (false) kinds
    #[arg(long)]
    pub namespaced: Option<bool>,
}

/// The first line of a clap error ("error: ..."), with a pointer to --help.
pub fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    if first.is_empty() {
        return "error: invalid arguments (see 'ctl --help')".into();
    }
    format!("{} (see 'ctl --help')", first.join(" "))
}

/// Go's durations (`30s`, `1m30s`, `500ms`), or plain seconds. `0` means no limit.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    proto::duration::parse_flag_seconds(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("7d").is_err());
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn grammar() {
        let cli =
            Cli::try_parse_from(["ctl", "-n", "x", "get", "po,svc", "a", "-o", "wide"]).unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("x"));
        assert_eq!(cli.global.output, Some(OutputFormat::Wide));
        let Command::Get(g) = cli.command else {
            panic!("not get")
        };
        assert_eq!(g.args, ["po,svc", "a"]);

        let cli = Cli::try_parse_from([
            "ctl",
            "delete",
            "pod",
            "a",
            "--wait=false",
            "--cascade=orphan",
        ])
        .unwrap();
        let Command::Delete(d) = cli.command else {
            panic!("not delete")
        };
        assert!(!d.wait);
        assert_eq!(d.cascade, "orphan");
        assert_eq!(d.args, ["pod", "a"]);

        let cli = Cli::try_parse_from(["ctl", "delete", "pod", "a", "--wait"]).unwrap();
        let Command::Delete(d) = cli.command else {
            panic!("not delete")
        };
        assert!(d.wait);

        let cli =
            Cli::try_parse_from(["ctl", "label", "pod", "a", "x=y", "z-", "--overwrite"]).unwrap();
        let Command::Label(l) = cli.command else {
            panic!("not label")
        };
        assert_eq!(l.args, ["pod", "a", "x=y", "z-"]);
        assert!(l.overwrite);

        assert!(
            Cli::try_parse_from(["ctl", "apply"]).is_err(),
            "apply needs -f"
        );
        assert!(
            Cli::try_parse_from(["ctl", "create"]).is_err(),
            "create needs -f"
        );
        let cli = Cli::try_parse_from(["ctl", "create", "-f", "x.yaml"]).unwrap();
        let Command::Create(c) = cli.command else {
            panic!("not create")
        };
        assert!(c.command.is_none());
        assert_eq!(c.files.files, ["x.yaml"]);
        let cli = Cli::try_parse_from([
            "ctl",
            "create",
            "token",
            "bot",
            "-n",
            "ci",
            "--duration",
            "10m",
            "--audience",
            "a",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("ci"));
        let Command::Create(CreateArgs {
            command: Some(CreateCommand::Token(t)),
            ..
        }) = cli.command
        else {
            panic!("not create token")
        };
        assert_eq!(
            (t.service_account.as_str(), t.duration.as_deref()),
            ("bot", Some("10m"))
        );
        assert_eq!(t.audiences, ["a"]);

        let cli = Cli::try_parse_from([
            "ctl",
            "auth",
            "can-i",
            "get",
            "pods/x",
            "--as",
            "alice",
            "--as-group",
            "devs",
            "-A",
        ])
        .unwrap();
        assert!(cli.global.all_namespaces);
        let Command::Auth(AuthArgs {
            command: AuthCommand::CanI(c),
        }) = cli.command
        else {
            panic!("not can-i")
        };
        assert_eq!((c.verb.as_str(), c.resource.as_str()), ("get", "pods/x"));
        assert_eq!(c.as_user.as_deref(), Some("alice"));
        assert_eq!(c.as_groups, ["devs"]);

        let cli = Cli::try_parse_from([
            "ctl",
            "--kubeconfig",
            "/k",
            "token",
            "create",
            "--ttl",
            "1h",
            "--print-join-command",
        ])
        .unwrap();
        assert_eq!(
            cli.global.kubeconfig.as_deref(),
            Some(std::path::Path::new("/k"))
        );
        let Command::Token(TokenArgs {
            command: TokenCommand::Create(t),
        }) = cli.command
        else {
            panic!("not token create")
        };
        assert!(t.print_join_command && t.token.is_none());
        assert_eq!(t.ttl, "1h");
        assert!(Cli::try_parse_from(["ctl", "certificate", "approve"]).is_err());
        assert!(Cli::try_parse_from(["ctl", "config", "view", "--raw"]).is_ok());
    }

    use testkit::shell_words as words;

    fn parse(line: &str) -> Cli {
        let mut argv = vec!["ctl".to_string()];
        argv.extend(words(line));
        match Cli::try_parse_from(&argv) {
            Ok(cli) => cli,
            Err(e) => panic!("`ctl {line}` does not parse: {}", usage_line(&e)),
        }
    }

    /// Lines a kubectl user types, grouped: every line of a group means the same, whether
    /// flags come before, between or after the arguments, before or after the subcommand,
    /// and however `-o`/`-n` take their value. Compared through `Debug`, which shows every
    /// field of the parsed structure.
    const SAME: &[&[&str]] = &[
        &[
            "get pods web -n shop -o json",
            "-n shop get pods web -o json",
            "get -n shop pods -ojson web",
            "get pods -o=json -n=shop web",
            "get --namespace shop --output json pods web",
            "get pods --output=json web --namespace=shop",
            "--namespace=shop -o json get pods web",
            "get pods -n shop -o json -- web",
        ],
        &[
            "get po -l app=web -oyaml",
            "get -l app=web po -o yaml",
            "-l app=web get po --output=yaml",
            "get po --selector=app=web -o=yaml",
            "get po --selector app=web --output yaml",
        ],
        &[
            "get pods -A -o wide --show-labels",
            "get pods -Aowide --show-labels",
            "get --show-labels -Ao wide pods",
            "-A get pods --show-labels -owide",
            "get pods --all-namespaces --output=wide --show-labels",
        ],
        &[
            "set image deployment/frontend -n shop web=local/busybox:1",
            "-n shop set image deployment/frontend web=local/busybox:1",
            "set image -n shop deployment/frontend web=local/busybox:1",
            "set image deployment/frontend web=local/busybox:1 -n shop",
            "set -n shop image deployment/frontend web=local/busybox:1",
        ],
        &[
            "set image deployment/web web=a:1 side=b:2 --dry-run=server -o yaml",
            "set image --dry-run=server deployment/web web=a:1 -o yaml side=b:2",
            "--dry-run=server -oyaml set image deployment/web web=a:1 side=b:2",
        ],
        &[
            "create -f x.yaml --dry-run",
            "create --dry-run -f x.yaml",
            "--dry-run=client create -f x.yaml",
            "create --dry-run=client --filename=x.yaml",
        ],
        &[
            "delete pod a b -n x --grace-period=0 --force",
            "delete --force pod -n x a --grace-period 0 b",
            "-n x delete pod a --force b --grace-period=0",
        ],
        &[
            "delete deployment web --cascade=orphan --wait=false",
            "delete --wait=false deployment --cascade=orphan web",
        ],
        &[
            "label pod a x=y --overwrite -n ns",
            "label --overwrite -n ns pod a x=y",
            "-n ns label pod --overwrite a x=y",
        ],
        &[
            "annotate deploy/web note=hi -n ns",
            "annotate -n ns deploy/web note=hi",
        ],
        &[
            "scale deployment/web --replicas=3 -n x",
            "scale --replicas=3 -n x deployment/web",
            "-n x scale deployment/web --replicas 3",
        ],
        &[
            "rollout status deployment/web -n x --timeout=30s",
            "rollout status -n x --timeout 30s deployment/web",
            "-n x rollout status deployment/web --timeout=30s",
            "rollout -n x status deployment/web --timeout=30s",
        ],
        &[
            "rollout undo deployment web --to-revision=2",
            "rollout undo --to-revision 2 deployment web",
            "rollout undo deployment --to-revision=2 web",
        ],
        &[
            "exec web -n x -c app -- ls -l",
            "exec -n x web -c app -- ls -l",
            "-n x exec -c app web -- ls -l",
            "exec --namespace=x --container=app web -- ls -l",
        ],
        &[
            "logs web -f -c app -n x --tail=10",
            "logs -f -n x web --tail 10 -c app",
            "-n x logs --follow --container app web --tail=10",
        ],
        &[
            "config use-context x --kubeconfig /k",
            "--kubeconfig /k config use-context x",
            "config --kubeconfig=/k use-context x",
            "config use --kubeconfig=/k x",
        ],
        &[
            "config set-context --current -n dev",
            "config set-context -n dev --current",
            "-n dev config set-context --current",
            "config set-context --current --namespace=dev",
        ],
        &[
            "config set-context x --cluster c --user u -n dev",
            "config set-context --cluster=c x --namespace dev --user=u",
        ],
        &[
            "config set-cluster c --server https://h:1 --embed-certs --certificate-authority ca.crt",
            "config set-cluster --server=https://h:1 c --certificate-authority=ca.crt --embed-certs=true",
            "--server https://h:1 config set-cluster --embed-certs c --certificate-authority ca.crt",
        ],
        &[
            "config set-credentials u --client-certificate=c.crt --client-key=c.key --embed-certs",
            "config set-credentials --embed-certs --client-key c.key u --client-certificate c.crt",
        ],
        &[
            "config view --raw --minify -o json",
            "config view -ojson --minify --raw",
            "-o json config view --raw --minify",
        ],
        &[
            "config get-contexts x -o name",
            "config get-contexts -oname x",
            "-o name config get-contexts x",
        ],
        &[
            "auth can-i get pods --as alice -n x",
            "-n x auth can-i --as=alice get pods",
            "auth can-i get --as alice pods --namespace x",
        ],
        &[
            "drain n1 --ignore-daemonsets --force --grace-period=-1",
            "drain --force n1 --ignore-daemonsets",
        ],
        &[
            "create token bot -n ci --duration 10m",
            "-n ci create token --duration=10m bot",
            "create token --duration 10m bot --namespace=ci",
        ],
        &["top pods -n x --containers", "top --containers -n x pods"],
        &[
            "create deployment web --image=a:1 -n x --replicas=2 -- sleep 10",
            "-n x create deployment --replicas 2 web --image a:1 -- sleep 10",
            "create -n x deployment web -r 2 --image=a:1 -- sleep 10",
        ],
        &[
            "create configmap cm --from-literal=a=b -n x",
            "create -n x configmap --from-literal a=b cm",
        ],
        &[
            "expose deployment web --port=80 --target-port=8080 -n x",
            "-n x expose --port 80 deployment web --target-port 8080",
        ],
        &[
            "patch deployment web -p '{\"spec\":{}}' --type=merge -n x",
            "patch --type merge -n x deployment web -p '{\"spec\":{}}'",
        ],
        &[
            "run web --image=a:1 -n x --restart=Never -- sleep 10",
            "-n x run web --restart Never --image a:1 -- sleep 10",
            "run -n x --image=a:1 web --restart=Never -- sleep 10",
            // As kubectl: without `--`, flags after the command's words are still flags.
            "run web --image=a:1 sleep 10 --restart=Never -n x",
        ],
        &[
            "wait --for=condition=Ready pod/web -n x --timeout=60s",
            "-n x wait pod/web --timeout 60s --for condition=Ready",
        ],
        &["events --for pod/web -n x", "-n x events --for=pod/web"],
        &[
            "port-forward pod/web 8080:80 -n x",
            "-n x port-forward pod/web 8080:80",
        ],
        &["cp x/web:/tmp/a ./a -c app", "cp -c app x/web:/tmp/a ./a"],
        &[
            "explain pods.spec --recursive",
            "explain --recursive pods.spec",
        ],
        &[
            "edit deployment web -n x -o yaml",
            "-n x edit -oyaml deployment web",
        ],
        &["diff -f x.yaml -n x", "-n x diff -f x.yaml"],
        &[
            "logs -l app=web --prefix --tail=5 -n x",
            "-n x logs --tail 5 -l app=web --prefix",
        ],
        &[
            "rollout history daemonset/ds --revision=2 -n x",
            "rollout history --revision 2 -n x daemonset/ds",
        ],
        &[
            "get pods --sort-by=.metadata.name -L app -n x",
            "get -L app pods -n x --sort-by .metadata.name",
        ],
        &[
            "completion bash",
            "completion bash --kubeconfig /k",
            "--kubeconfig=/k completion bash",
        ],
    ];

    #[test]
    fn flags_go_anywhere_as_in_kubectl() {
        for group in SAME {
            let first = format!("{:?}", parse(group[0]));
            for line in &group[1..] {
                // --kubeconfig only appears in some lines of the completion group.
                let mut parsed = parse(line);
                if group[0] == "completion bash" {
                    parsed.global.kubeconfig = None;
                }
                assert_eq!(
                    format!("{parsed:?}"),
                    first,
                    "`ctl {line}` differs from `ctl {}`",
                    group[0]
                );
            }
        }
    }

    #[test]
    fn kubectl_lines_mean_what_kubectl_means() {
        let cli = parse("set image deployment/frontend -n shop web=local/busybox:1");
        assert_eq!(cli.global.namespace.as_deref(), Some("shop"));
        let Command::Set(SetArgs {
            command: SetCommand::Image { args },
        }) = cli.command
        else {
            panic!("not set image")
        };
        assert_eq!(args, ["deployment/frontend", "web=local/busybox:1"]);

        // -o in each spelling.
        for (line, want) in [
            ("get po -o json", OutputFormat::Json),
            ("get po -ojson", OutputFormat::Json),
            ("get po -o=json", OutputFormat::Json),
            ("get po --output json", OutputFormat::Json),
            ("get po -oyaml", OutputFormat::Yaml),
            ("get po -oname", OutputFormat::Name),
            (
                "get po -o jsonpath='{.items[*].metadata.name}'",
                OutputFormat::JsonPath("{.items[*].metadata.name}".into()),
            ),
            (
                "get po -o=custom-columns=NAME:.metadata.name",
                OutputFormat::CustomColumns("NAME:.metadata.name".into()),
            ),
        ] {
            assert_eq!(parse(line).global.output, Some(want), "{line}");
        }

        // --dry-run alone is client; a following word is an argument, never its value.
        for (line, want) in [
            ("delete pod a --dry-run", DryRun::Client),
            ("delete pod a --dry-run=client", DryRun::Client),
            ("delete pod a --dry-run=server", DryRun::Server),
            ("delete pod a --dry-run=none", DryRun::None),
            ("delete pod a", DryRun::None),
        ] {
            assert_eq!(parse(line).global.dry_run, want, "{line}");
        }
        let Command::Delete(d) = parse("delete --dry-run pod a").command else {
            panic!("not delete")
        };
        assert_eq!(d.args, ["pod", "a"]);

        // `--` ends flags: what follows belongs to the command run in the container.
        let cli = parse("exec web -- sh -c 'echo -n x' -n y");
        assert_eq!(cli.global.namespace, None);
        let Command::Exec(e) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(e.pod, "web");
        assert_eq!(e.command, ["sh", "-c", "echo -n x", "-n", "y"]);
        let cli = parse("get pods -- -n");
        assert_eq!(cli.global.namespace, None);
        let Command::Get(g) = cli.command else {
            panic!("not get")
        };
        assert_eq!(g.args, ["pods", "-n"]);

        let Command::Config(ConfigArgs { command: ConfigCommand::SetCluster(c) }) =
            parse("config set-cluster c --server https://h:1 --embed-certs --insecure-skip-tls-verify=false").command
        else {
            panic!("not set-cluster")
        };
        assert_eq!(
            (c.embed_certs, c.insecure_skip_tls_verify),
            (Some(true), Some(false))
        );
        assert!(Cli::try_parse_from(["ctl", "config", "set-context", "x", "--current"]).is_err());
        let Command::Config(ConfigArgs {
            command: ConfigCommand::SetContext(c),
        }) = parse("config set-context --current").command
        else {
            panic!("not set-context")
        };
        assert!(c.current && c.name.is_none());
    }

    /// Settings that stop flags from going anywhere, in every subcommand: a positional that
    /// swallows what follows it (`trailing_var_arg`, `allow_hyphen_values`), that counts its
    /// values per occurrence (`num_args = N..`, which refuses a flag between the values) or
    /// that is only reached after `--` (`last`, right only for a command to run), and a
    /// global flag that is not global.
    fn interleaving_problems() -> Vec<String> {
        use clap::CommandFactory;
        // Commands run in a container or pod: kubectl also takes them only after `--`.
        const AFTER_DASHES: &[&str] = &[
            "ctl exec command",
            "ctl create deployment command",
            "ctl create job command",
            "ctl create cronjob command",
            "ctl debug command",
        ];
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let at = format!("{path} {}", a.get_id());
                if a.is_positional() {
                    let after_dashes = AFTER_DASHES.contains(&at.as_str());
                    if a.is_trailing_var_arg_set() && !after_dashes {
                        out.push(format!("{at}: trailing_var_arg"));
                    }
                    if a.is_allow_hyphen_values_set() && !after_dashes {
                        out.push(format!("{at}: allow_hyphen_values"));
                    }
                    if a.is_last_set() && !after_dashes {
                        out.push(format!("{at}: last"));
                    }
                    if let Some(n) = a.get_num_args()
                        && n.min_values() > 1
                    {
                        out.push(format!("{at}: num_args {n:?}"));
                    }
                } else if a.is_require_equals_set()
                    && a.get_num_args().is_none_or(|n| n.min_values() > 0)
                {
                    // `--flag=value` only: kubectl takes `--flag value` too.
                    out.push(format!(
                        "{at}: require_equals on a flag whose value is not optional"
                    ));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut out = Vec::new();
        for a in Cli::command().get_arguments() {
            if !a.is_global_set()
                && !a.is_positional()
                && a.get_id() != "help"
                && a.get_id() != "version"
            {
                out.push(format!(
                    "ctl {}: a top-level flag not marked global",
                    a.get_id()
                ));
            }
        }
        walk(&cmd, "ctl", &mut out);
        out
    }

    #[test]
    fn no_subcommand_refuses_interleaved_flags() {
        let problems = interleaving_problems();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // The walk sees what it checks: exec's command is reached only after `--`.
        use clap::CommandFactory;
        let cli = Cli::command();
        let exec = cli.find_subcommand("exec").expect("exec");
        assert!(
            exec.get_arguments()
                .any(|a| a.is_positional() && a.is_last_set())
        );
    }
}
