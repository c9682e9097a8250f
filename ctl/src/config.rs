//! Where the apiserver is: `--server`, then `$CTL_SERVER`, then the config file
//! (`$CTL_CONFIG` or `~/.config/ctl/config`), then the default address.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// The sources of a server address, read from the environment by `gather`, so that the
/// precedence itself (`resolve_server`) is a pure function.
#[derive(Debug, Default)]
pub struct ServerSources {
    pub flag: Option<String>,
    pub env: Option<String>,
    /// The config file's path and text, when one was found.
    pub config: Option<(PathBuf, String)>,
}

impl ServerSources {
    pub fn gather(flag: Option<String>) -> Result<ServerSources> {
        let env = std::env::var("CTL_SERVER").ok();
        let config = match std::env::var_os("CTL_CONFIG") {
            // A config named explicitly must exist: a typo should not silently fall back.
            Some(p) => {
                let path = PathBuf::from(p);
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("cannot read config file {} ($CTL_CONFIG)", path.display())
                })?;
                Some((path, text))
            }
            None => default_config_path()
                .and_then(|path| std::fs::read_to_string(&path).ok().map(|text| (path, text))),
        };
        Ok(ServerSources { flag, env, config })
    }
}

fn default_config_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".config/ctl/config"))
}

/// The first address given, in precedence order. Empty values count as absent.
pub fn resolve_server(sources: &ServerSources) -> Result<String> {
    let nonempty = |s: &Option<String>| {
        s.as_ref()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(s) = nonempty(&sources.flag) {
        return Ok(s);
    }
    if let Some(s) = nonempty(&sources.env) {
        return Ok(s);
    }
    if let Some((path, text)) = &sources.config
        && let Some(s) =
            parse_config_server(text).with_context(|| format!("config file {}", path.display()))?
    {
        return Ok(s);
    }
    Ok(client::DEFAULT_SERVER.to_string())
}

/// The config file: YAML with a top-level `server: URL`. Other top-level keys are ignored
/// so the file can grow; a `server:` nested under another key is not the server.
#[derive(Debug, Default, serde::Deserialize)]
struct FileConfig {
    /// Outer `None`: no `server` key; inner `None`: `server:` with no value.
    #[serde(default, deserialize_with = "present")]
    server: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The `server` of a config file: YAML (`server: URL`), or the older `server=URL` lines.
pub fn parse_config_server(text: &str) -> Result<Option<String>> {
    let server = match serde_saphyr::from_str::<Option<FileConfig>>(text) {
        Ok(file) => file.unwrap_or_default().server,
        Err(yaml) => match parse_key_equals_value(text)? {
            Some(server) => server,
            None => bail!("{}", one_line_yaml_message(&yaml)),
        },
    };
    match server {
        None => Ok(None),
        Some(value) => {
            let value = value.unwrap_or_default();
            let value = value.trim();
            if value.is_empty() {
                bail!("`server` has no value");
            }
            Ok(Some(value.to_string()))
        }
    }
}

/// The `key=value` form ctl read before the file was YAML: `Ok(None)` when the text is not
/// in that form (so the YAML error is the one to report), an error naming the line when
/// it mixes forms.
fn parse_key_equals_value(text: &str) -> Result<Option<Option<Option<String>>>> {
    let mut server = None;
    let mut any = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line == "---" {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            if any {
                bail!("line {}: expected `key=value`, got {line:?}", i + 1);
            }
            // Neither YAML nor `key=value`: say which line, as the YAML error may not.
            bail!(
                "line {}: expected `key: value` or `key=value`, got {line:?}",
                i + 1
            );
        };
        any = true;
        if key.trim() == "server" && server.is_none() {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            server = Some(Some(value.to_string()));
        }
    }
    Ok(any.then_some(server))
}

/// serde-saphyr renders a source snippet over several lines; keep the one-line cause.
fn one_line_yaml_message(e: &serde_saphyr::Error) -> String {
    let rendered = e.without_snippet().to_string();
    rendered.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(flag: Option<&str>, env: Option<&str>, config: Option<&str>) -> ServerSources {
        ServerSources {
            flag: flag.map(String::from),
            env: env.map(String::from),
            config: config.map(|t| (PathBuf::from("/cfg"), t.to_string())),
        }
    }

    #[test]
    fn precedence_flag_env_config_default() {
        let cfg = Some("server: http://cfg:1");
        assert_eq!(
            resolve_server(&sources(Some("http://flag:1"), Some("http://env:1"), cfg)).unwrap(),
            "http://flag:1"
        );
        assert_eq!(
            resolve_server(&sources(None, Some("http://env:1"), cfg)).unwrap(),
            "http://env:1"
        );
        assert_eq!(
            resolve_server(&sources(None, Some(""), cfg)).unwrap(),
            "http://cfg:1"
        );
        assert_eq!(
            resolve_server(&sources(None, None, cfg)).unwrap(),
            "http://cfg:1"
        );
        assert_eq!(
            resolve_server(&sources(None, None, Some("# nothing\n"))).unwrap(),
            "http://127.0.0.1:6443"
        );
        assert_eq!(
            resolve_server(&sources(None, None, None)).unwrap(),
            "http://127.0.0.1:6443"
        );
    }

    #[test]
    fn config_forms() {
        assert_eq!(
            parse_config_server("server: http://a:1\n")
                .unwrap()
                .as_deref(),
            Some("http://a:1")
        );
        assert_eq!(
            parse_config_server("server=http://a:1").unwrap().as_deref(),
            Some("http://a:1")
        );
        assert_eq!(
            parse_config_server("# c\nother: x\nserver: \"http://a:1\"")
                .unwrap()
                .as_deref(),
            Some("http://a:1")
        );
        assert_eq!(parse_config_server("").unwrap(), None);
        let err = parse_config_server("garbage line").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert!(parse_config_server("server:").is_err());
    }

    #[test]
    fn config_is_yaml_read_with_serde() {
        let server = |t: &str| parse_config_server(t).unwrap();
        // Other top-level keys, comments and a document marker are fine.
        assert_eq!(
            server("---\n# ctl\nnamespace: dev\nserver: 'http://a:1'\nextra: {x: [1]}\n")
                .as_deref(),
            Some("http://a:1")
        );
        // A `server:` under another key is not the server (it used to be matched).
        assert_eq!(
            server("clusters:\n  prod:\n    server: http://nested:1\n"),
            None
        );
        assert_eq!(
            server("clusters:\n  prod:\n    server: http://nested:1\nserver: http://top:1\n")
                .as_deref(),
            Some("http://top:1")
        );
        assert_eq!(server("# only a comment\n"), None);
    }

    #[test]
    fn a_malformed_config_is_one_line_naming_the_file() {
        for text in ["server: [unclosed\n", "server: {a: 1}\n", "- a\n- b\n"] {
            assert!(parse_config_server(text).is_err(), "{text:?}");
            let e = resolve_server(&sources(None, None, Some(text))).unwrap_err();
            let line = format!("{e:#}");
            assert!(line.starts_with("config file /cfg: "), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
