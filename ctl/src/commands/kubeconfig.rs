//! `ctl config view [--raw]` and `ctl config current-context`: the kubeconfig ctl reads
//! (the merge of the files `connection::choose_kubeconfig` names), as kubectl shows it.

use crate::args::{ConfigArgs, ConfigCommand, GlobalArgs, OutputFormat};
use crate::connection::choose_kubeconfig;
use anyhow::{Result, bail};
use client::Kubeconfig;
use std::path::{Path, PathBuf};

/// Runs without a connection: the kubeconfig may name a server that is down.
pub fn config(global: &GlobalArgs, args: &ConfigArgs) -> Result<()> {
    let files = choose_kubeconfig(
        global.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").map(PathBuf::from).as_deref(),
        Path::exists,
    );
    let kubeconfig = if files.is_empty() {
        Kubeconfig::empty()
    } else {
        Kubeconfig::load_all(&files)?
    };
    match &args.command {
        ConfigCommand::View { raw } => {
            print!("{}", view(&kubeconfig, *raw, global.output.clone())?);
            Ok(())
        }
        ConfigCommand::CurrentContext => {
            println!("{}", current_context(&kubeconfig)?);
            Ok(())
        }
    }
}

/// The YAML (or `-o json`) of `kubeconfig`, keys and tokens hidden unless `raw`.
pub fn view(kubeconfig: &Kubeconfig, raw: bool, output: Option<OutputFormat>) -> Result<String> {
    let shown = if raw {
        kubeconfig.clone()
    } else {
        kubeconfig.redacted()
    };
    match output {
        None | Some(OutputFormat::Yaml) => {
            let mut y = shown.to_yaml();
            if !y.ends_with('\n') {
                y.push('\n');
            }
            Ok(y)
        }
        Some(OutputFormat::Json) => crate::printers::json(&serde_json::to_value(&shown)?),
        Some(other) => bail!("--output {other:?} is not supported by `config view` (yaml, json)"),
    }
}

pub fn current_context(kubeconfig: &Kubeconfig) -> Result<&str> {
    if kubeconfig.current_context.is_empty() {
        bail!("current-context is not set");
    }
    Ok(&kubeconfig.current_context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_hides_secrets_unless_raw() {
        let kc = Kubeconfig::for_user(
            "kubernetes",
            "https://10.0.0.1:6443",
            "CA PEM",
            "kubernetes-admin",
            &client::Credentials::ClientCert {
                cert_pem: "CERT PEM".into(),
                key_pem: "KEY PEM".into(),
            },
        );
        let shown = view(&kc, false, None).unwrap();
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
        let raw = view(&kc, true, None).unwrap();
        assert_eq!(Kubeconfig::from_yaml(&raw).unwrap(), kc);
        let json = view(&kc, false, Some(OutputFormat::Json)).unwrap();
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
}
