//! Which kubeconfig ctl reads, and the connection it gives: `--kubeconfig`, then
//! `$KUBECONFIG` (a `:`-separated list, merged first-wins; files that do not exist are
//! skipped, as kubectl does), then `~/.kube/config` if it exists. Without any, inside a
//! pod (`KUBERNETES_SERVICE_HOST` set and a mounted ServiceAccount token): the in-cluster
//! config, the pod's namespace as default. Else the older plaintext path of `config.rs`:
//! `--server`, `$CTL_SERVER`, `~/.config/ctl/config`.
//! `--server` overrides the kubeconfig's server; `--context` picks another context.

use crate::args::GlobalArgs;
use crate::config::{ServerSources, resolve_server};
use anyhow::Result;
use client::{ConnectionConfig, Kubeconfig};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The kubeconfig files to read, in precedence order; empty: none (the plaintext path).
pub fn choose_kubeconfig(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
    exists: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    if let Some(f) = flag.filter(|f| !f.as_os_str().is_empty()) {
        // Named explicitly: it must exist, and loading it says so if not.
        return vec![f.to_path_buf()];
    }
    if let Some(env) = env.filter(|e| !e.is_empty()) {
        let listed: Vec<PathBuf> = std::env::split_paths(env)
            .filter(|p| !p.as_os_str().is_empty() && exists(p))
            .collect();
        if !listed.is_empty() {
            return listed;
        }
    }
    if let Some(h) = home {
        let default = h.join(".kube/config");
        if exists(&default) {
            return vec![default];
        }
    }
    Vec::new()
}

/// What the command line and the environment resolve to.
pub struct Resolved {
    pub connection: ConnectionConfig,
    /// The context's namespace, the default when `-n` is not given.
    pub namespace: Option<String>,
}

impl Resolved {
    /// Reads the environment and the files the precedence names.
    pub fn gather(global: &GlobalArgs) -> Result<Resolved> {
        let env = std::env::var_os("KUBECONFIG");
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let files = choose_kubeconfig(
            global.kubeconfig.as_deref(),
            env.as_deref(),
            home.as_deref(),
            Path::exists,
        );
        if files.is_empty() && in_cluster_available() {
            let mut connection = ConnectionConfig::in_cluster()?;
            if let Some(s) = server_flag(global) {
                connection.server = s.to_string();
            }
            let namespace = std::fs::read_to_string(
                Path::new(client::connection::SERVICE_ACCOUNT_DIR).join("namespace"),
            )
            .ok()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
            return Ok(Resolved {
                connection,
                namespace,
            });
        }
        if files.is_empty() {
            let server = resolve_server(&ServerSources::gather(global.server.clone())?)?;
            return Ok(Resolved {
                connection: ConnectionConfig::plaintext(&server),
                namespace: None,
            });
        }
        let kubeconfig = Kubeconfig::load_all(&files)?;
        Self::from_kubeconfig(kubeconfig, global)
    }

    /// The connection of the chosen context, with `--server` applied.
    pub fn from_kubeconfig(kubeconfig: Kubeconfig, global: &GlobalArgs) -> Result<Resolved> {
        let context = global.context.as_deref();
        // A kubeconfig with no context to use (empty, or `KUBECONFIG=/dev/null`) and a
        // `--server`: kubectl then talks to that server without credentials.
        if context.is_none()
            && kubeconfig.current_context.is_empty()
            && let Some(s) = server_flag(global)
        {
            return Ok(Resolved {
                connection: ConnectionConfig::plaintext(s),
                namespace: None,
            });
        }
        let mut connection = kubeconfig.connection(context)?;
        if let Some(s) = server_flag(global) {
            connection.server = s.to_string();
        }
        Ok(Resolved {
            connection,
            namespace: kubeconfig.namespace(context),
        })
    }
}

fn server_flag(global: &GlobalArgs) -> Option<&str> {
    global
        .server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Inside a pod: the apiserver's Service in the environment and a token mounted.
fn in_cluster_available() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty())
        && Path::new(client::connection::SERVICE_ACCOUNT_DIR)
            .join("token")
            .exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_env_home_none() {
        let all = |_: &Path| true;
        let none = |_: &Path| false;
        let home = Path::new("/home/u");
        let env = OsStr::new("/a:/b");
        assert_eq!(
            choose_kubeconfig(Some(Path::new("/f")), Some(env), Some(home), none),
            [PathBuf::from("/f")],
            "an explicit flag wins and is not checked here"
        );
        assert_eq!(
            choose_kubeconfig(None, Some(env), Some(home), all),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        let only_b = |p: &Path| p == Path::new("/b");
        assert_eq!(
            choose_kubeconfig(None, Some(env), Some(home), only_b),
            [PathBuf::from("/b")]
        );
        assert_eq!(
            choose_kubeconfig(
                None,
                Some(OsStr::new("/missing")),
                Some(home),
                |p: &Path| p == Path::new("/home/u/.kube/config")
            ),
            [PathBuf::from("/home/u/.kube/config")]
        );
        assert_eq!(
            choose_kubeconfig(None, Some(OsStr::new("")), Some(home), all),
            [PathBuf::from("/home/u/.kube/config")]
        );
        assert!(choose_kubeconfig(None, None, Some(home), none).is_empty());
        assert!(choose_kubeconfig(None, None, None, all).is_empty());
    }

    #[test]
    fn an_empty_kubeconfig_with_a_server_flag_is_that_server() {
        let global = GlobalArgs {
            server: Some("http://127.0.0.1:9".into()),
            ..GlobalArgs::default()
        };
        let r = Resolved::from_kubeconfig(Kubeconfig::default(), &global).unwrap();
        assert_eq!(r.connection.server, "http://127.0.0.1:9");
        assert!(Resolved::from_kubeconfig(Kubeconfig::default(), &GlobalArgs::default()).is_err());
    }

    #[test]
    fn server_flag_overrides_the_kubeconfig_and_context_namespace_is_the_default() {
        let mut kc = Kubeconfig::for_user(
            "kubernetes",
            "https://10.0.0.1:6443",
            "CA",
            "admin",
            &client::Credentials::Token("t".into()),
        );
        kc.contexts[0].context.namespace = Some("dev".into());
        let r = Resolved::from_kubeconfig(kc.clone(), &GlobalArgs::default()).unwrap();
        assert_eq!(r.connection.server, "https://10.0.0.1:6443");
        assert_eq!(r.namespace.as_deref(), Some("dev"));
        let global = GlobalArgs {
            server: Some("https://10.0.0.9:6443".into()),
            ..GlobalArgs::default()
        };
        let r = Resolved::from_kubeconfig(kc.clone(), &global).unwrap();
        assert_eq!(r.connection.server, "https://10.0.0.9:6443");
        assert!(r.connection.trust.is_some());
        let global = GlobalArgs {
            context: Some("other".into()),
            ..GlobalArgs::default()
        };
        let e = Resolved::from_kubeconfig(kc, &global).err().unwrap();
        assert!(e.to_string().contains("context \"other\" not found"), "{e}");
    }
}
