//! Test-only helpers every test suite of the workspace shares (a dev-dependency, never a
//! dependency of a daemon).
//!
//! [`require`] decides whether a test that needs something from the machine (root, a
//! Docker engine, busybox-static, a tool, network namespaces, a kernel feature) can run.
//! Outside CI a missing prerequisite skips the test with one `SKIPPED <test>: <why>` line
//! on stderr; under `CI=true` it panics, because CI machines are set up to have everything
//! (`scripts/setup.sh`) and a test that silently passes there proves nothing.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

/// Something a test needs from the machine it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prereq {
    /// Running as uid 0 (mounts, namespaces, iptables).
    Root,
    /// A Docker engine that answers `docker info`.
    Docker,
    /// `/bin/busybox`, the static busybox the tests bind into containers.
    Busybox,
    /// An executable of this name on `PATH`.
    Tool(&'static str),
    /// A network namespace can be made, and this tool runs inside it.
    NetnsTool(&'static str),
    /// A kernel with IP Virtual Server support (`/proc/net/ip_vs`).
    Ipvs,
    /// A kernel without IP Virtual Server support: for tests of what happens then.
    NoIpvs,
}

impl Prereq {
    /// Ok when this machine has it; otherwise what is missing, in a few words.
    pub fn check(self) -> Result<(), String> {
        match self {
            Prereq::Root => match std::fs::metadata("/proc/self") {
                Ok(m) if m.uid() == 0 => Ok(()),
                _ => Err("root".into()),
            },
            Prereq::Docker => {
                let ok = Command::new("docker")
                    .args(["info", "--format", "{{.ServerVersion}}"])
                    .output()
                    .is_ok_and(|o| o.status.success());
                if ok {
                    Ok(())
                } else {
                    Err("a Docker engine (docker info failed)".into())
                }
            }
            Prereq::Busybox => {
                if Path::new("/bin/busybox").exists() {
                    Ok(())
                } else {
                    Err("/bin/busybox (busybox-static)".into())
                }
            }
            Prereq::Tool(name) => {
                if on_path(name) {
                    Ok(())
                } else {
                    Err(format!("{name} on PATH"))
                }
            }
            Prereq::NetnsTool(tool) => netns_tool(tool),
            Prereq::Ipvs => {
                if ipvs_kernel() {
                    Ok(())
                } else {
                    Err("a kernel with IP_VS (/proc/net/ip_vs)".into())
                }
            }
            Prereq::NoIpvs => {
                if ipvs_kernel() {
                    Err("a kernel without IP_VS (this one has /proc/net/ip_vs)".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Whether `test` can run here: true when every prerequisite is met. Otherwise prints
/// `SKIPPED <test>: needs <what>` and returns false, or panics under `CI=true`.
pub fn require(test: &str, prereqs: &[Prereq]) -> bool {
    let missing: Vec<String> = prereqs.iter().filter_map(|p| p.check().err()).collect();
    if missing.is_empty() {
        return true;
    }
    unmet(test, &format!("needs {}", missing.join(", ")))
}

/// For a prerequisite only the test itself can probe (connecting a Docker client, making
/// its own namespace): always false outside CI, after printing `SKIPPED <test>: <why>`;
/// panics under `CI=true`.
pub fn unmet(test: &str, why: &str) -> bool {
    skip_or_fail(in_ci(), test, why)
}

fn skip_or_fail(ci: bool, test: &str, why: &str) -> bool {
    if ci {
        panic!("{test}: {why}; CI must have it (scripts/setup.sh installs the tools)");
    }
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// `CI=true`, as CI services set it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
    })
}

fn ipvs_kernel() -> bool {
    Path::new("/proc/net/ip_vs").exists()
}

/// Makes a throw-away namespace and runs `tool --version` in it.
fn netns_tool(tool: &str) -> Result<(), String> {
    let probe = format!("testkit-probe-{}", std::process::id());
    let run = |args: &[&str]| -> Result<(), String> {
        let out = Command::new(args[0])
            .args(&args[1..])
            .output()
            .map_err(|e| format!("{}: {e}", args.join(" ")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    run(&["ip", "netns", "add", &probe])?;
    let r = run(&["ip", "netns", "exec", &probe, tool, "--version"]);
    let _ = run(&["ip", "netns", "del", &probe]);
    r.map_err(|e| format!("a network namespace running {tool} ({e})"))
}

/// Splits a command line as a shell would (single and double quotes, no expansions), so
/// that tests write command lines as users type them.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => out.extend(cur.take()),
            (None, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_keep_quoted_spaces() {
        assert_eq!(
            shell_words("get pods -o 'jsonpath={.a} {.b}' \"\" x"),
            ["get", "pods", "-o", "jsonpath={.a} {.b}", "", "x"]
        );
    }

    #[test]
    fn met_prerequisites_run_the_test() {
        assert!(require("met", &[]));
        assert!(Prereq::Tool("sh").check().is_ok());
    }

    #[test]
    fn a_missing_tool_is_named() {
        let err = Prereq::Tool("no-such-tool-testkit").check().unwrap_err();
        assert!(err.contains("no-such-tool-testkit"), "{err}");
    }

    #[test]
    fn outside_ci_an_unmet_prerequisite_skips() {
        assert!(!skip_or_fail(false, "t", "needs nothing in particular"));
    }

    #[test]
    #[should_panic(expected = "t: needs root; CI must have it")]
    fn under_ci_an_unmet_prerequisite_fails() {
        skip_or_fail(true, "t", "needs root");
    }

    #[test]
    fn ipvs_and_no_ipvs_are_exclusive() {
        assert_ne!(Prereq::Ipvs.check().is_ok(), Prereq::NoIpvs.check().is_ok());
    }
}
