//! `ctl version`: kubectl's `version`. The client's version, and the server's from its
//! `GET /version` (read over the same connection, `client::Client::server_version`);
//! `-o yaml|json` prints kubectl's `clientVersion`/`serverVersion` document. An
//! unreachable server: the client's version, then the error, exit 1, as kubectl.

use super::Ctx;
use crate::args::OutputFormat;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug, Clone, Default)]
pub struct VersionArgs {
    /// Only the client's version (no server needed)
    #[arg(long)]
    pub client: bool,
}

/// The Kubernetes minor release whose API ctl speaks; the apiserver reports the same one
/// (`apiserver::http::health::KUBERNETES_MINOR`; a component test compares them).
pub const KUBERNETES_MINOR: &str = "33";

/// kubectl's `version.Info` for ctl itself, in the apiserver's scheme
/// (`v1.33.0-rkube.<crate version>`).
pub fn client_info() -> Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "major": "1",
        "minor": KUBERNETES_MINOR,
        "gitVersion": format!("v1.{KUBERNETES_MINOR}.0-rkube.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{arch}", std::env::consts::OS),
    })
}

/// What is printed, for the formats kubectl has: lines, or the document.
pub fn render(
    format: Option<&OutputFormat>,
    client: &Value,
    server: Option<&Value>,
) -> Result<String> {
    let git = |v: &Value| v["gitVersion"].as_str().unwrap_or("").to_string();
    match format {
        None => {
            let mut s = format!("Client Version: {}\n", git(client));
            if let Some(sv) = server {
                s.push_str(&format!("Server Version: {}\n", git(sv)));
            }
            Ok(s)
        }
        Some(f @ (OutputFormat::Yaml | OutputFormat::Json)) => {
            let mut doc = json!({"clientVersion": client});
            if let Some(sv) = server {
                doc["serverVersion"] = sv.clone();
            }
            if *f == OutputFormat::Yaml {
                // kubectl marshals through JSON into YAML: keys sorted, then a blank line.
                Ok(format!("{}\n", crate::printers::yaml(&sorted(&doc))?))
            } else {
                Ok(json_in_kubectl_order(client, server))
            }
        }
        Some(_) => bail!("--output must be 'yaml' or 'json'"),
    }
}

/// `version.Info`'s fields in Go's struct order, which kubectl's JSON keeps.
const INFO_ORDER: &[&str] = &[
    "major",
    "minor",
    "emulationMajor",
    "emulationMinor",
    "minCompatibilityMajor",
    "minCompatibilityMinor",
    "gitVersion",
    "gitCommit",
    "gitTreeState",
    "buildDate",
    "goVersion",
    "compiler",
    "platform",
];

/// kubectl's `-o json` (two-space indent, struct order; serde_json's maps are sorted).
fn json_in_kubectl_order(client: &Value, server: Option<&Value>) -> String {
    let info = |v: &Value| -> String {
        let Some(m) = v.as_object() else {
            return "{}".into();
        };
        let mut keys: Vec<&str> = INFO_ORDER
            .iter()
            .copied()
            .filter(|k| m.contains_key(*k))
            .collect();
        keys.extend(
            m.keys()
                .map(String::as_str)
                .filter(|k| !INFO_ORDER.contains(k)),
        );
        let lines: Vec<String> = keys
            .iter()
            .map(|k| format!("    {}: {}", Value::from(*k), m[*k]))
            .collect();
        format!("{{\n{}\n  }}", lines.join(",\n"))
    };
    let mut parts = vec![format!("  \"clientVersion\": {}", info(client))];
    if let Some(sv) = server {
        parts.push(format!("  \"serverVersion\": {}", info(sv)));
    }
    format!("{{\n{}\n}}\n", parts.join(",\n"))
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// kubectl's skew warning: more than one minor release apart.
pub fn skew_warning(client: &Value, server: &Value) -> Option<String> {
    let minor = |v: &Value| {
        v["minor"]
            .as_str()?
            .trim_end_matches('+')
            .parse::<i64>()
            .ok()
    };
    let (c, s) = (minor(client)?, minor(server)?);
    ((c - s).abs() > 1).then(|| {
        format!(
            "WARNING: version difference between client (1.{c}) and server (1.{s}) exceeds the supported minor version skew of +/-1"
        )
    })
}

pub async fn version(ctx: &Ctx, args: &VersionArgs) -> Result<()> {
    let format = ctx.output();
    if let Some(f) = &format
        && !matches!(f, OutputFormat::Yaml | OutputFormat::Json)
    {
        bail!("--output must be 'yaml' or 'json'");
    }
    let client = client_info();
    if args.client {
        print!("{}", render(format.as_ref(), &client, None)?);
        return Ok(());
    }
    let server = match ctx.api().await {
        Ok(api) => api.call(api.client().server_version()).await,
        Err(e) => Err(e),
    };
    match server {
        Ok(sv) => {
            print!("{}", render(format.as_ref(), &client, Some(&sv))?);
            if let Some(w) = skew_warning(&client, &sv) {
                eprintln!("{w}");
            }
            Ok(())
        }
        Err(e) => {
            print!("{}", render(format.as_ref(), &client, None)?);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_documents() {
        let client = client_info();
        let server = json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-rkube.0.1.0"});
        let text = render(None, &client, Some(&server)).unwrap();
        let want = format!(
            "Client Version: v1.33.0-rkube.{}\nServer Version: v1.33.0-rkube.0.1.0\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(text, want);
        assert_eq!(
            render(None, &client, None).unwrap().lines().count(),
            1,
            "client only"
        );
        let j: Value = serde_json::from_str(
            &render(Some(&OutputFormat::Json), &client, Some(&server)).unwrap(),
        )
        .unwrap();
        assert_eq!(j["clientVersion"]["major"], "1");
        assert_eq!(j["serverVersion"]["gitVersion"], "v1.33.0-rkube.0.1.0");
        let text = render(Some(&OutputFormat::Json), &client, Some(&server)).unwrap();
        assert!(
            text.starts_with("{\n  \"clientVersion\": {\n    \"major\": \"1\",\n    \"minor\": \"33\",\n    \"gitVersion\": "),
            "{text}"
        );
        let y = render(Some(&OutputFormat::Yaml), &client, None).unwrap();
        assert!(
            y.starts_with("clientVersion:\n  buildDate: \"\"\n")
                || y.starts_with("clientVersion:\n  buildDate: ''\n"),
            "{y}"
        );
        assert!(!y.contains("serverVersion"), "{y}");
        assert!(render(Some(&OutputFormat::Name), &client, None).is_err());
    }

    #[test]
    fn skew() {
        let v = |m: &str| json!({"minor": m});
        assert_eq!(skew_warning(&v("33"), &v("32")), None);
        assert_eq!(
            skew_warning(&v("33"), &v("30+")).unwrap(),
            "WARNING: version difference between client (1.33) and server (1.30) exceeds the supported minor version skew of +/-1"
        );
    }

    #[tokio::test]
    async fn the_server_reports_the_release_ctl_speaks_and_an_unreachable_one_fails() {
        let server = apiserver::testing::TestServer::start().await;
        let ctx = Ctx::for_test(&server.url, None);
        let api = ctx.api().await.unwrap();
        let sv = api.call(api.client().server_version()).await.unwrap();
        assert_eq!(sv["minor"], KUBERNETES_MINOR, "{sv}");
        assert_eq!(skew_warning(&client_info(), &sv), None);
        version(&ctx, &VersionArgs::default()).await.unwrap();
        let gone = Ctx::for_test("http://127.0.0.1:1", None);
        let err = version(&gone, &VersionArgs::default()).await.unwrap_err();
        assert!(
            crate::errors::render_error(&err).starts_with("error: unable to connect to the server"),
            "{err:#}"
        );
        version(&gone, &VersionArgs { client: true }).await.unwrap();
    }
}
