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

/// Reads `server: URL` (YAML style) or `server=URL`; other keys are ignored so the file can
/// grow, comments (`#`) and blank lines are skipped.
pub fn parse_config_server(text: &str) -> Result<Option<String>> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line == "---" {
            continue;
        }
        let Some((key, value)) = split_key_value(line) else {
            bail!(
                "line {}: expected `key: value` or `key=value`, got {line:?}",
                i + 1
            );
        };
        if key == "server" {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            if value.is_empty() {
                bail!("line {}: `server` has no value", i + 1);
            }
            return Ok(Some(value.to_string()));
        }
    }
    Ok(None)
}

/// Splits at the first `=` or at the first `: ` / trailing `:` (not the `:` of `http://`).
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let colon = line
        .find(':')
        .filter(|&i| line[i + 1..].starts_with(' ') || i + 1 == line.len());
    let equals = line.find('=');
    let at = match (colon, equals) {
        (Some(c), Some(e)) => c.min(e),
        (Some(c), None) => c,
        (None, Some(e)) => e,
        (None, None) => return None,
    };
    Some((line[..at].trim(), &line[at + 1..]))
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
}
