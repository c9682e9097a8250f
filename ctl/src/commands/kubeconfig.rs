//! `ctl config ...`: shows and changes kubeconfig files as kubectl does, so one file serves
//! both. Reading merges the files `connection::choose_kubeconfig` names (what every other
//! command connects with). Writing follows kubectl's rules: `--kubeconfig`, else the
//! `$KUBECONFIG` list (an entry goes back to the file that holds it; a new one to the first
//! file that exists, else the last of the list), else `~/.kube/config`.
//! The changes themselves are pure functions of a `Kubeconfig`, tested below; `Store` does
//! the reading and writing.

use crate::args::{
    ConfigArgs, ConfigCommand, ConfigViewArgs, GlobalArgs, OutputFormat, SetClusterArgs,
    SetContextArgs, SetCredentialsArgs,
};
use crate::connection::choose_kubeconfig;
use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use client::Kubeconfig;
use client::kubeconfig::{AuthInfo, Cluster, Context, NamedCluster, NamedContext, NamedUser};
use std::path::{Path, PathBuf};

/// Runs without a connection: the kubeconfig may name a server that is down.
pub fn config(global: &GlobalArgs, args: &ConfigArgs) -> Result<()> {
    let output = global.output.clone();
    match &args.command {
        ConfigCommand::View(v) => {
            let kc = load_merged(global)?;
            print!("{}", view(&kc, v, global.context.as_deref(), output)?);
        }
        ConfigCommand::CurrentContext => println!("{}", current_context(&load_merged(global)?)?),
        ConfigCommand::GetContexts { name } => {
            let kc = load_merged(global)?;
            let (text, missing) = get_contexts(&kc, name.as_deref(), output)?;
            print!("{text}");
            if let Some(e) = missing {
                return Err(e);
            }
        }
        ConfigCommand::GetClusters => {
            let kc = load_merged(global)?;
            print!(
                "{}",
                names_table(kc.clusters.iter().map(|c| c.name.as_str()))
            );
        }
        ConfigCommand::GetUsers => {
            let kc = load_merged(global)?;
            print!("{}", names_table(kc.users.iter().map(|u| u.name.as_str())));
        }
        ConfigCommand::UseContext { name } => {
            let mut store = Store::open(global)?;
            if !store.merged().contexts.iter().any(|c| &c.name == name) {
                bail!("no context exists with the name: {name:?}");
            }
            let i = store.current_context_file();
            store.files[i].config.current_context = name.clone();
            store.save(&[i])?;
            println!("Switched to context {name:?}.");
        }
        ConfigCommand::SetContext(a) => {
            let mut store = Store::open(global)?;
            let name = match (&a.name, a.current) {
                (Some(n), false) if !n.is_empty() => n.clone(),
                (None, true) => {
                    let current = store.merged().current_context;
                    if current.is_empty() {
                        bail!("no current context is set");
                    }
                    current
                }
                _ => bail!("you must specify a non-empty context name or --current"),
            };
            let i = store.file_with(|k| k.contexts.iter().any(|c| c.name == name));
            let created = set_context(
                &mut store.files[i].config,
                &name,
                a,
                global.namespace.as_deref(),
            );
            store.save(&[i])?;
            let done = if created { "created" } else { "modified" };
            println!("Context {name:?} {done}.");
        }
        ConfigCommand::SetCluster(a) => {
            let mut store = Store::open(global)?;
            let i = store.file_with(|k| k.clusters.iter().any(|c| c.name == a.name));
            set_cluster(
                &mut store.files[i].config,
                a,
                global.server.as_deref(),
                read_file,
            )?;
            store.save(&[i])?;
            println!("Cluster {:?} set.", a.name);
        }
        ConfigCommand::SetCredentials(a) => {
            let mut store = Store::open(global)?;
            let i = store.file_with(|k| k.users.iter().any(|u| u.name == a.name));
            set_credentials(&mut store.files[i].config, a, read_file)?;
            store.save(&[i])?;
            println!("User {:?} set.", a.name);
        }
        ConfigCommand::DeleteContext { name } => {
            let mut store = Store::open(global)?;
            let was_current = store.merged().current_context == *name;
            let changed = store.remove("context", name, |k, n| {
                remove_named(&mut k.contexts, n, |c| &c.name)
            })?;
            store.save(&changed)?;
            if was_current {
                eprintln!(
                    "warning: this removed your active context, use \"ctl config use-context\" to select a different one"
                );
            }
            println!(
                "deleted context {name} from {}",
                store.default_path().display()
            );
        }
        ConfigCommand::DeleteCluster { name } => {
            let mut store = Store::open(global)?;
            let changed = store.remove("cluster", name, |k, n| {
                remove_named(&mut k.clusters, n, |c| &c.name)
            })?;
            store.save(&changed)?;
            println!(
                "deleted cluster {name} from {}",
                store.default_path().display()
            );
        }
        ConfigCommand::DeleteUser { name } => {
            let mut store = Store::open(global)?;
            let changed = store.remove("user", name, |k, n| {
                remove_named(&mut k.users, n, |u| &u.name)
            })?;
            store.save(&changed)?;
            println!(
                "deleted user {name} from {}",
                store.default_path().display()
            );
        }
        ConfigCommand::RenameContext { old, new } => {
            let mut store = Store::open(global)?;
            let merged = store.merged();
            let file = store.default_path().display().to_string();
            if !merged.contexts.iter().any(|c| &c.name == old) {
                bail!("cannot rename the context {old:?}, it's not in {file}");
            }
            if merged.contexts.iter().any(|c| &c.name == new) {
                bail!(
                    "cannot rename the context {old:?}, the context {new:?} already exists in {file}"
                );
            }
            let mut changed = Vec::new();
            for (i, f) in store.files.iter_mut().enumerate() {
                if rename_context(&mut f.config, old, new) {
                    changed.push(i);
                }
            }
            store.save(&changed)?;
            println!("Context {old:?} renamed to {new:?}.");
        }
    }
    Ok(())
}

/// What every other command reads: the merge of the chosen files (paths made absolute).
fn load_merged(global: &GlobalArgs) -> Result<Kubeconfig> {
    let files = choose_kubeconfig(
        global.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").map(PathBuf::from).as_deref(),
        Path::exists,
    );
    Ok(if files.is_empty() {
        Kubeconfig::empty()
    } else {
        Kubeconfig::load_all(&files)?
    })
}

/// The files a change may be written to, in precedence order: kubectl's loading rules with
/// the files that do not exist kept (one of them may be created).
pub fn write_candidates(
    flag: Option<&Path>,
    env: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    if let Some(f) = flag.filter(|f| !f.as_os_str().is_empty()) {
        return Ok(vec![f.to_path_buf()]);
    }
    if let Some(env) = env {
        let listed: Vec<PathBuf> = std::env::split_paths(env)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !listed.is_empty() {
            return Ok(listed);
        }
    }
    match home {
        Some(h) => Ok(vec![h.join(".kube/config")]),
        None => bail!("no kubeconfig to write: set --kubeconfig, $KUBECONFIG or $HOME"),
    }
}

/// kubectl's default file of a list: the first that exists, else the last.
pub fn default_index(candidates: &[PathBuf], exists: impl Fn(&Path) -> bool) -> usize {
    candidates
        .iter()
        .position(|p| exists(p))
        .unwrap_or(candidates.len().saturating_sub(1))
}

struct StoredFile {
    path: PathBuf,
    /// As written in the file: relative paths stay relative.
    config: Kubeconfig,
}

/// The kubeconfig files a change reads and writes.
struct Store {
    files: Vec<StoredFile>,
    default: usize,
}

impl Store {
    fn open(global: &GlobalArgs) -> Result<Store> {
        let candidates = write_candidates(
            global.kubeconfig.as_deref(),
            std::env::var_os("KUBECONFIG").as_deref(),
            std::env::var_os("HOME").map(PathBuf::from).as_deref(),
        )?;
        let default = default_index(&candidates, Path::exists);
        let mut files = Vec::new();
        for path in candidates {
            let config = match std::fs::read_to_string(&path) {
                Ok(text) => Kubeconfig::from_yaml(&text).map_err(|e| {
                    anyhow!("cannot read kubeconfig {}: {}", path.display(), e.message)
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Kubeconfig::empty(),
                Err(e) => bail!("cannot read kubeconfig {}: {e}", path.display()),
            };
            files.push(StoredFile { path, config });
        }
        Ok(Store { files, default })
    }

    fn default_path(&self) -> &Path {
        &self.files[self.default].path
    }

    fn merged(&self) -> Kubeconfig {
        self.files
            .iter()
            .map(|f| f.config.clone())
            .reduce(Kubeconfig::merge)
            .unwrap_or_else(Kubeconfig::empty)
    }

    /// The first file holding the entry, else the default file (where kubectl adds it).
    fn file_with(&self, holds: impl Fn(&Kubeconfig) -> bool) -> usize {
        self.files
            .iter()
            .position(|f| holds(&f.config))
            .unwrap_or(self.default)
    }

    /// Where current-context is set, else the default file.
    fn current_context_file(&self) -> usize {
        self.file_with(|k| !k.current_context.is_empty())
    }

    /// Removes the entry from every file holding it; an error if none does.
    fn remove(
        &mut self,
        what: &str,
        name: &str,
        remove: impl Fn(&mut Kubeconfig, &str) -> bool,
    ) -> Result<Vec<usize>> {
        let changed: Vec<usize> = (0..self.files.len())
            .filter(|&i| remove(&mut self.files[i].config, name))
            .collect();
        if changed.is_empty() {
            bail!(
                "cannot delete {what} {name}, not in {}",
                self.default_path().display()
            );
        }
        Ok(changed)
    }

    fn save(&mut self, changed: &[usize]) -> Result<()> {
        for &i in changed {
            let f = &mut self.files[i];
            normalize(&mut f.config);
            f.config
                .write(&f.path)
                .with_context(|| format!("cannot write kubeconfig {}", f.path.display()))?;
        }
        Ok(())
    }
}

/// The fields kubectl always writes, so a file ctl created looks like one kubectl created.
fn normalize(k: &mut Kubeconfig) {
    if k.api_version.is_empty() {
        k.api_version = "v1".into();
    }
    if k.kind.is_empty() {
        k.kind = "Config".into();
    }
    if k.preferences.is_none() {
        k.preferences = Some(serde_json::json!({}));
    }
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {path}"))
}

/// A path as kubectl stores it: absolute, so the file means the same read from anywhere.
fn absolute(path: &str) -> String {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// Creates or changes context `name`; true if it was created.
pub fn set_context(
    k: &mut Kubeconfig,
    name: &str,
    a: &SetContextArgs,
    namespace: Option<&str>,
) -> bool {
    let created = !k.contexts.iter().any(|c| c.name == name);
    if created {
        k.contexts.push(NamedContext {
            name: name.into(),
            context: Context::default(),
        });
    }
    let Some(c) = k.contexts.iter_mut().find(|c| c.name == name) else {
        return created;
    };
    if let Some(cluster) = &a.cluster {
        c.context.cluster = cluster.clone();
    }
    if let Some(user) = &a.user {
        c.context.user = user.clone();
    }
    if let Some(ns) = namespace {
        c.context.namespace = (!ns.is_empty()).then(|| ns.to_string());
    }
    created
}

/// kubectl's set-cluster: a CA file or its content (`--embed-certs`); insecure mode and a CA
/// exclude each other, the last one set wins.
pub fn set_cluster(
    k: &mut Kubeconfig,
    a: &SetClusterArgs,
    server: Option<&str>,
    read: impl Fn(&str) -> Result<Vec<u8>>,
) -> Result<()> {
    let embed = a.embed_certs.unwrap_or(false);
    if embed && a.certificate_authority.is_none() {
        bail!("you must specify a --certificate-authority to embed");
    }
    let mut cluster = k
        .clusters
        .iter()
        .find(|c| c.name == a.name)
        .map(|c| c.cluster.clone())
        .unwrap_or_else(Cluster::default);
    if let Some(s) = server {
        cluster.server = s.to_string();
    }
    if let Some(name) = &a.tls_server_name {
        cluster.tls_server_name = (!name.is_empty()).then(|| name.clone());
    }
    if let Some(insecure) = a.insecure_skip_tls_verify {
        cluster.insecure_skip_tls_verify = insecure;
        if insecure {
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = None;
        }
    }
    if let Some(ca) = &a.certificate_authority {
        if embed {
            cluster.certificate_authority_data = Some(B64.encode(read(ca)?));
            cluster.certificate_authority = None;
        } else {
            cluster.certificate_authority = Some(absolute(ca));
            cluster.certificate_authority_data = None;
        }
        cluster.insecure_skip_tls_verify = false;
    }
    match k.clusters.iter_mut().find(|c| c.name == a.name) {
        Some(c) => c.cluster = cluster,
        None => k.clusters.push(NamedCluster {
            name: a.name.clone(),
            cluster,
        }),
    }
    Ok(())
}

/// kubectl's set-credentials: a token, or a client certificate and key (files, or their
/// content with `--embed-certs`).
pub fn set_credentials(
    k: &mut Kubeconfig,
    a: &SetCredentialsArgs,
    read: impl Fn(&str) -> Result<Vec<u8>>,
) -> Result<()> {
    let embed = a.embed_certs.unwrap_or(false);
    let mut user = k
        .users
        .iter()
        .find(|u| u.name == a.name)
        .map(|u| u.user.clone())
        .unwrap_or_else(AuthInfo::default);
    if let Some(t) = &a.token {
        user.token = (!t.is_empty()).then(|| t.clone());
        user.token_file = None;
    }
    let file_or_data =
        |given: &Option<String>, file: &mut Option<String>, data: &mut Option<String>| {
            let Some(path) = given else {
                return Ok::<(), anyhow::Error>(());
            };
            if embed {
                *data = Some(B64.encode(read(path)?));
                *file = None;
            } else {
                *file = Some(absolute(path));
                *data = None;
            }
            Ok(())
        };
    file_or_data(
        &a.client_certificate,
        &mut user.client_certificate,
        &mut user.client_certificate_data,
    )?;
    file_or_data(
        &a.client_key,
        &mut user.client_key,
        &mut user.client_key_data,
    )?;
    match k.users.iter_mut().find(|u| u.name == a.name) {
        Some(u) => u.user = user,
        None => k.users.push(NamedUser {
            name: a.name.clone(),
            user,
        }),
    }
    Ok(())
}

fn remove_named<T>(items: &mut Vec<T>, name: &str, name_of: impl Fn(&T) -> &str) -> bool {
    let before = items.len();
    items.retain(|i| name_of(i) != name);
    items.len() != before
}

/// Renames a context held by `k` (and its current-context if it names it); true if changed.
pub fn rename_context(k: &mut Kubeconfig, old: &str, new: &str) -> bool {
    let mut changed = false;
    for c in k.contexts.iter_mut().filter(|c| c.name == old) {
        c.name = new.to_string();
        changed = true;
    }
    if k.current_context == old {
        k.current_context = new.to_string();
        changed = true;
    }
    changed
}

/// The YAML (or `-o json`) of `kubeconfig`, keys and tokens hidden unless `--raw`; with
/// `--minify` only what the context uses, with `--flatten` files embedded.
pub fn view(
    kubeconfig: &Kubeconfig,
    args: &ConfigViewArgs,
    context: Option<&str>,
    output: Option<OutputFormat>,
) -> Result<String> {
    let mut shown = kubeconfig.clone();
    if args.minify {
        shown = minify(&shown, context)?;
    }
    if args.flatten {
        flatten(&mut shown, read_file)?;
    }
    if !args.raw {
        shown = shown.redacted();
    }
    normalize(&mut shown);
    // Through a JSON value: its keys come out sorted, as kubectl prints them.
    let mut doc = serde_json::to_value(&shown)?;
    // Go's nil slices: kubectl shows an empty list as null.
    for list in ["clusters", "contexts", "users"] {
        if doc[list].as_array().is_some_and(|a| a.is_empty()) {
            doc[list] = serde_json::Value::Null;
        }
    }
    match output {
        None | Some(OutputFormat::Yaml) => crate::printers::yaml(&doc),
        Some(OutputFormat::Json) => crate::printers::json(&doc),
        // jsonpath and custom columns, on what would be shown (redacted unless --raw).
        Some(other) => match crate::printers::render_template(&other, &doc, false)? {
            Some(text) => Ok(text),
            None => bail!(
                "--output {} is not available in ctl config view",
                output_name(&other)
            ),
        },
    }
}

/// Only the context named (or the current one), its cluster and its user.
pub fn minify(k: &Kubeconfig, context: Option<&str>) -> Result<Kubeconfig> {
    let name = match context.filter(|c| !c.is_empty()) {
        Some(c) => c,
        None if !k.current_context.is_empty() => k.current_context.as_str(),
        None => bail!("current-context must exist in order to minify"),
    };
    let ctx = k
        .contexts
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| anyhow!("cannot locate context {name}"))?;
    let mut out = Kubeconfig {
        contexts: vec![ctx.clone()],
        current_context: name.to_string(),
        clusters: k
            .clusters
            .iter()
            .filter(|c| c.name == ctx.context.cluster)
            .cloned()
            .collect(),
        users: k
            .users
            .iter()
            .filter(|u| u.name == ctx.context.user)
            .cloned()
            .collect(),
        ..k.clone()
    };
    out.source = k.source.clone();
    Ok(out)
}

/// Files named by the kubeconfig replaced by their content.
pub fn flatten(k: &mut Kubeconfig, read: impl Fn(&str) -> Result<Vec<u8>>) -> Result<()> {
    let embed = |file: &mut Option<String>, data: &mut Option<String>| -> Result<()> {
        if let Some(path) = file.take().filter(|p| !p.is_empty()) {
            *data = Some(B64.encode(read(&path)?));
        }
        Ok(())
    };
    for c in &mut k.clusters {
        embed(
            &mut c.cluster.certificate_authority,
            &mut c.cluster.certificate_authority_data,
        )?;
    }
    for u in &mut k.users {
        embed(
            &mut u.user.client_certificate,
            &mut u.user.client_certificate_data,
        )?;
        embed(&mut u.user.client_key, &mut u.user.client_key_data)?;
    }
    Ok(())
}

pub fn current_context(kubeconfig: &Kubeconfig) -> Result<&str> {
    if kubeconfig.current_context.is_empty() {
        bail!("current-context is not set");
    }
    Ok(&kubeconfig.current_context)
}

/// kubectl's get-contexts: the table (or `-o name`) and, when the one context asked for is
/// missing, the error to report after printing (kubectl prints the header first).
pub fn get_contexts(
    k: &Kubeconfig,
    name: Option<&str>,
    output: Option<OutputFormat>,
) -> Result<(String, Option<anyhow::Error>)> {
    let mut contexts: Vec<&NamedContext> = k
        .contexts
        .iter()
        .filter(|c| name.is_none_or(|n| c.name == n))
        .collect();
    contexts.sort_by(|a, b| a.name.cmp(&b.name));
    let missing = match name {
        Some(n) if contexts.is_empty() => Some(anyhow!("context {n} not found")),
        _ => None,
    };
    let text = match output {
        Some(OutputFormat::Name) => contexts.iter().map(|c| format!("{}\n", c.name)).collect(),
        None => {
            let table = crate::printers::table::Table {
                headers: ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                    .map(String::from)
                    .to_vec(),
                rows: contexts
                    .iter()
                    .map(|c| {
                        let current = if c.name == k.current_context { "*" } else { "" };
                        vec![
                            current.to_string(),
                            c.name.clone(),
                            c.context.cluster.clone(),
                            c.context.user.clone(),
                            c.context.namespace.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            };
            crate::printers::table::render(&table, true)
        }
        Some(other) => bail!(
            "--output {} is not available in ctl config get-contexts",
            output_name(&other)
        ),
    };
    Ok((text, missing))
}

fn output_name(o: &OutputFormat) -> String {
    match o {
        OutputFormat::Wide => "wide".into(),
        OutputFormat::Yaml => "yaml".into(),
        OutputFormat::Json => "json".into(),
        other => format!("{other:?}"),
    }
}

/// get-clusters, get-users: a NAME column.
pub fn names_table<'a>(names: impl Iterator<Item = &'a str>) -> String {
    std::iter::once("NAME")
        .chain(names)
        .map(|n| format!("{n}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Kubeconfig {
        Kubeconfig::for_user(
            "kubernetes",
            "https://10.0.0.1:6443",
            "CA PEM",
            "kubernetes-admin",
            &client::Credentials::ClientCert {
                cert_pem: "CERT PEM".into(),
                key_pem: "KEY PEM".into(),
            },
        )
    }

    fn fake_read(path: &str) -> Result<Vec<u8>> {
        match path {
            "ca.crt" | "/ca.crt" => Ok(b"CA".to_vec()),
            "c.crt" => Ok(b"CERT".to_vec()),
            "c.key" => Ok(b"KEY".to_vec()),
            _ => bail!("cannot read {path}"),
        }
    }

    #[test]
    fn view_hides_secrets_unless_raw() {
        let kc = admin();
        let plain = ConfigViewArgs::default();
        let shown = view(&kc, &plain, None, None).unwrap();
        assert!(shown.contains("client-key-data: DATA+OMITTED"), "{shown}");
        assert!(
            shown.contains("certificate-authority-data: DATA+OMITTED"),
            "{shown}"
        );
        assert!(shown.contains("server: https://10.0.0.1:6443"), "{shown}");
        assert!(
            shown.contains("current-context: kubernetes-admin@kubernetes"),
            "{shown}"
        );
        // kubectl's order: keys sorted.
        assert!(shown.starts_with("apiVersion: v1\nclusters:"), "{shown}");
        let raw = ConfigViewArgs {
            raw: true,
            ..Default::default()
        };
        let raw = view(&kc, &raw, None, None).unwrap();
        assert_eq!(Kubeconfig::from_yaml(&raw).unwrap(), kc);
        let token = view(
            &kc,
            &plain,
            None,
            Some(OutputFormat::JsonPath(
                "{.users[0].user.client-key-data}".into(),
            )),
        )
        .unwrap();
        assert_eq!(token, "DATA+OMITTED");
        assert!(view(&kc, &plain, None, Some(OutputFormat::Wide)).is_err());
        assert_eq!(
            view(&Kubeconfig::empty(), &plain, None, None).unwrap(),
            "apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n",
            "kubectl's view of no kubeconfig"
        );
        let json = view(&kc, &plain, None, Some(OutputFormat::Json)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["users"][0]["user"]["client-key-data"], "DATA+OMITTED");
        assert_eq!(current_context(&kc).unwrap(), "kubernetes-admin@kubernetes");
        assert_eq!(
            current_context(&Kubeconfig::empty())
                .unwrap_err()
                .to_string(),
            "current-context is not set"
        );
    }

    #[test]
    fn minify_keeps_only_what_the_context_uses() {
        let mut kc = admin();
        set_cluster(
            &mut kc,
            &SetClusterArgs {
                name: "other".into(),
                ..Default::default()
            },
            Some("https://o:1"),
            fake_read,
        )
        .unwrap();
        set_context(
            &mut kc,
            "o",
            &SetContextArgs {
                cluster: Some("other".into()),
                ..Default::default()
            },
            None,
        );
        let m = minify(&kc, None).unwrap();
        assert_eq!(m.clusters.len(), 1);
        assert_eq!(m.clusters[0].name, "kubernetes");
        assert_eq!(m.contexts.len(), 1);
        assert_eq!(m.users.len(), 1);
        let m = minify(&kc, Some("o")).unwrap();
        assert_eq!(
            (m.current_context.as_str(), m.clusters[0].name.as_str()),
            ("o", "other")
        );
        assert!(m.users.is_empty());
        kc.current_context.clear();
        assert_eq!(
            minify(&kc, None).unwrap_err().to_string(),
            "current-context must exist in order to minify"
        );
    }

    #[test]
    fn set_context_creates_then_modifies() {
        let mut kc = Kubeconfig::empty();
        let a = SetContextArgs {
            cluster: Some("c".into()),
            user: Some("u".into()),
            ..Default::default()
        };
        assert!(set_context(&mut kc, "x", &a, Some("dev")));
        assert!(!set_context(
            &mut kc,
            "x",
            &SetContextArgs::default(),
            Some("prod")
        ));
        let c = &kc.contexts[0].context;
        assert_eq!(
            (c.cluster.as_str(), c.user.as_str(), c.namespace.as_deref()),
            ("c", "u", Some("prod")),
            "unset flags leave fields as they were"
        );
    }

    #[test]
    fn set_cluster_embeds_or_names_the_ca_and_insecure_excludes_it() {
        let mut kc = Kubeconfig::empty();
        let mut a = SetClusterArgs {
            name: "c".into(),
            certificate_authority: Some("ca.crt".into()),
            embed_certs: Some(true),
            ..Default::default()
        };
        set_cluster(&mut kc, &a, Some("https://h:1"), fake_read).unwrap();
        let c = &kc.clusters[0].cluster;
        assert_eq!(c.server, "https://h:1");
        assert_eq!(c.certificate_authority_data.as_deref(), Some("Q0E="));
        assert_eq!(c.certificate_authority, None);

        a.embed_certs = None;
        a.certificate_authority = Some("/ca.crt".into());
        set_cluster(&mut kc, &a, None, fake_read).unwrap();
        let c = &kc.clusters[0].cluster;
        assert_eq!(c.server, "https://h:1", "kept");
        assert_eq!(c.certificate_authority.as_deref(), Some("/ca.crt"));
        assert_eq!(c.certificate_authority_data, None);

        let insecure = SetClusterArgs {
            name: "c".into(),
            insecure_skip_tls_verify: Some(true),
            ..Default::default()
        };
        set_cluster(&mut kc, &insecure, None, fake_read).unwrap();
        let c = &kc.clusters[0].cluster;
        assert!(c.insecure_skip_tls_verify && c.certificate_authority.is_none());
        assert_eq!(kc.clusters.len(), 1);

        let embed_nothing = SetClusterArgs {
            name: "c".into(),
            embed_certs: Some(true),
            ..Default::default()
        };
        assert_eq!(
            set_cluster(&mut kc, &embed_nothing, None, fake_read)
                .unwrap_err()
                .to_string(),
            "you must specify a --certificate-authority to embed"
        );
        let missing = SetClusterArgs {
            name: "c".into(),
            certificate_authority: Some("nope".into()),
            embed_certs: Some(true),
            ..Default::default()
        };
        assert!(set_cluster(&mut kc, &missing, None, fake_read).is_err());
    }

    #[test]
    fn set_credentials_token_or_certificates() {
        let mut kc = Kubeconfig::empty();
        let a = SetCredentialsArgs {
            name: "u".into(),
            client_certificate: Some("c.crt".into()),
            client_key: Some("c.key".into()),
            embed_certs: Some(true),
            ..Default::default()
        };
        set_credentials(&mut kc, &a, fake_read).unwrap();
        let t = SetCredentialsArgs {
            name: "u".into(),
            token: Some("abc".into()),
            ..Default::default()
        };
        set_credentials(&mut kc, &t, fake_read).unwrap();
        let u = &kc.users[0].user;
        assert_eq!(u.client_certificate_data.as_deref(), Some("Q0VSVA=="));
        assert_eq!(u.client_key_data.as_deref(), Some("S0VZ"));
        assert_eq!(u.token.as_deref(), Some("abc"));
        assert_eq!(kc.users.len(), 1);
    }

    #[test]
    fn get_contexts_table_and_names() {
        let mut kc = admin();
        set_context(
            &mut kc,
            "a-dev",
            &SetContextArgs {
                cluster: Some("kubernetes".into()),
                ..Default::default()
            },
            Some("dev"),
        );
        // Trailing blanks are the table renderer's business (kubectl's tabwriter pads).
        let trimmed = |t: &str| {
            t.lines()
                .map(|l| format!("{}\n", l.trim_end()))
                .collect::<String>()
        };
        let (t, missing) = get_contexts(&kc, None, None).unwrap();
        assert!(missing.is_none());
        assert_eq!(
            trimmed(&t),
            "CURRENT   NAME                          CLUSTER      AUTHINFO           NAMESPACE\n\
             \x20         a-dev                         kubernetes                      dev\n\
             *         kubernetes-admin@kubernetes   kubernetes   kubernetes-admin\n"
        );
        let (t, _) = get_contexts(&kc, None, Some(OutputFormat::Name)).unwrap();
        assert_eq!(t, "a-dev\nkubernetes-admin@kubernetes\n");
        let (t, missing) = get_contexts(&kc, Some("nope"), None).unwrap();
        assert_eq!(
            trimmed(&t),
            "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE\n"
        );
        assert_eq!(missing.unwrap().to_string(), "context nope not found");
        assert!(get_contexts(&kc, None, Some(OutputFormat::Wide)).is_err());
        assert_eq!(names_table(["a", "b"].into_iter()), "NAME\na\nb\n");
    }

    #[test]
    fn rename_moves_the_current_context_too() {
        let mut kc = admin();
        assert!(rename_context(&mut kc, "kubernetes-admin@kubernetes", "k"));
        assert_eq!(kc.current_context, "k");
        assert_eq!(kc.contexts[0].name, "k");
        assert!(!rename_context(&mut kc, "nope", "z"));
    }

    #[test]
    fn writes_go_where_kubectl_writes_them() {
        let flag = Path::new("/f");
        let home = Path::new("/home/u");
        let env = std::ffi::OsStr::new("/a::/b");
        assert_eq!(
            write_candidates(Some(flag), Some(env), Some(home)).unwrap(),
            [PathBuf::from("/f")]
        );
        let list = write_candidates(None, Some(env), Some(home)).unwrap();
        assert_eq!(list, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(default_index(&list, |p| p == Path::new("/b")), 1);
        assert_eq!(default_index(&list, |_| true), 0);
        assert_eq!(default_index(&list, |_| false), 1, "none exists: the last");
        assert_eq!(
            write_candidates(None, Some(std::ffi::OsStr::new("")), Some(home)).unwrap(),
            [PathBuf::from("/home/u/.kube/config")]
        );
        assert!(write_candidates(None, None, None).is_err());
    }

    #[test]
    fn flatten_embeds_named_files() {
        let mut kc = Kubeconfig::empty();
        set_cluster(
            &mut kc,
            &SetClusterArgs {
                name: "c".into(),
                certificate_authority: Some("/ca.crt".into()),
                ..Default::default()
            },
            Some("https://h:1"),
            fake_read,
        )
        .unwrap();
        flatten(&mut kc, fake_read).unwrap();
        let c = &kc.clusters[0].cluster;
        assert_eq!(
            (
                c.certificate_authority.as_deref(),
                c.certificate_authority_data.as_deref()
            ),
            (None, Some("Q0E="))
        );
    }
}
