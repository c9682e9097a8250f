//! Levels, policy versions and a namespace's policy from its labels, as Kubernetes'
//! pod-security-admission `api` package defines them.

use std::collections::BTreeMap;
use std::fmt;

use proto::validation::FieldError;

pub const ENFORCE_LEVEL_LABEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL_LABEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL_LABEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kubernetes' ParseLevel: an unknown level reads as `restricted` (the safe side) and is an
/// error.
pub fn parse_level(s: &str) -> Result<Level, String> {
    match s {
        "privileged" => Ok(Level::Privileged),
        "baseline" => Ok(Level::Baseline),
        "restricted" => Ok(Level::Restricted),
        _ => Err("must be one of privileged, baseline, restricted".to_string()),
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        parse_level(s)
    }
}

/// A policy version: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    Minor(u32),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

/// Kubernetes' ParseVersion: `latest` or `v1.N` (no leading zeros); anything else reads as
/// `latest` and is an error.
pub fn parse_version(s: &str) -> Result<Version, String> {
    let bad = || "must be \"latest\" or \"v1.x\"".to_string();
    if s == "latest" {
        return Ok(Version::Latest);
    }
    let minor = s.strip_prefix("v1.").ok_or_else(bad)?;
    let well_formed = minor == "0"
        || (!minor.is_empty()
            && !minor.starts_with('0')
            && minor.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(bad());
    }
    minor.parse().map(Version::Minor).map_err(|_| bad())
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Version, String> {
        parse_version(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub const fn latest(level: Level) -> LevelVersion {
        LevelVersion {
            level,
            version: Version::Latest,
        }
    }
}

/// `baseline:latest`, as in Kubernetes' messages.
impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// What a namespace enforces, audits and warns about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Default for Policy {
    /// Kubernetes' defaults without an AdmissionConfiguration: privileged everywhere.
    fn default() -> Self {
        Policy {
            enforce: LevelVersion::latest(Level::Privileged),
            audit: LevelVersion::latest(Level::Privileged),
            warn: LevelVersion::latest(Level::Privileged),
        }
    }
}

fn label_error(label: &str, value: &str, message: String) -> FieldError {
    FieldError {
        path: format!("metadata.labels[{label}]"),
        message: format!("Invalid value: {value:?}: {message}"),
    }
}

/// Kubernetes' PolicyToEvaluate: the namespace's labels over the cluster defaults. Always
/// returns a usable policy; a label that does not parse is reported and read as
/// `restricted` / `latest` (warn falls back to privileged, so one bad label does not double
/// every message).
pub fn policy_from_labels(
    labels: &BTreeMap<String, String>,
    defaults: Policy,
) -> (Policy, Vec<FieldError>) {
    let mut p = defaults;
    let mut errors = Vec::new();
    let level = |label: &str, errors: &mut Vec<FieldError>| -> Option<Result<Level, ()>> {
        let value = labels.get(label)?;
        Some(parse_level(value).map_err(|m| errors.push(label_error(label, value, m))))
    };
    let enforce_level = level(ENFORCE_LEVEL_LABEL, &mut errors);
    if let Some(l) = enforce_level {
        p.enforce.level = l.unwrap_or(Level::Restricted);
    }
    let has_enforce_level = matches!(enforce_level, Some(Ok(_)));
    if let Some(l) = level(AUDIT_LEVEL_LABEL, &mut errors) {
        p.audit.level = l.unwrap_or(Level::Restricted);
    }
    let warn_level = level(WARN_LEVEL_LABEL, &mut errors);
    if let Some(l) = warn_level {
        p.warn.level = l.unwrap_or(Level::Privileged);
    }
    let version = |label: &str, errors: &mut Vec<FieldError>| -> Option<Version> {
        let value = labels.get(label)?;
        Some(parse_version(value).unwrap_or_else(|m| {
            errors.push(label_error(label, value, m));
            Version::Latest
        }))
    };
    if let Some(v) = version(ENFORCE_VERSION_LABEL, &mut errors) {
        p.enforce.version = v;
    }
    if let Some(v) = version(AUDIT_VERSION_LABEL, &mut errors) {
        p.audit.version = v;
    }
    let warn_version = version(WARN_VERSION_LABEL, &mut errors);
    if let Some(v) = warn_version {
        p.warn.version = v;
    }
    // An explicit enforce level stricter than the warn level warns too, so users see what
    // will be refused before it is.
    if warn_level.is_none() && has_enforce_level && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if warn_version.is_none() {
            p.warn.version = p.enforce.version;
        }
    }
    // Kubernetes reports label errors in the order enforce, enforce-version, audit, ...
    errors.sort_by_key(|e| label_rank(&e.path));
    (p, errors)
}

fn label_rank(path: &str) -> usize {
    [
        ENFORCE_LEVEL_LABEL,
        ENFORCE_VERSION_LABEL,
        AUDIT_LEVEL_LABEL,
        AUDIT_VERSION_LABEL,
        WARN_LEVEL_LABEL,
        WARN_VERSION_LABEL,
    ]
    .iter()
    .position(|l| path == format!("metadata.labels[{l}]"))
    .unwrap_or(usize::MAX)
}
