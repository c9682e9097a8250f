//! Value rules shared by the API groups (ports, IPs, quantities, supported values, data
//! keys) and the string rules Kubernetes keeps apart from metadata.

use crate::quantity::Quantity;
use crate::validation::FieldError;
use std::collections::BTreeMap;

type Errors = Vec<FieldError>;

pub(super) const MAX_DATA_SIZE: usize = 1024 * 1024;
pub(super) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
pub(super) const TAINT_EFFECTS: &[&str] = &["NoExecute", "NoSchedule", "PreferNoSchedule"];
pub(super) const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
pub(super) const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

pub(super) fn supported(path: &str, value: &str, allowed: &[&str], e: &mut Errors) {
    if value.is_empty() {
        e.push(FieldError::required(path, ""));
    } else if !allowed.contains(&value) {
        e.push(FieldError::not_supported(path, value, allowed));
    }
}

pub(super) fn non_negative(path: &str, v: Option<i32>, e: &mut Errors) {
    if let Some(v) = v
        && v < 0
    {
        e.push(FieldError::invalid(
            path,
            v,
            "must be greater than or equal to 0",
        ));
    }
}

pub(super) fn port_number(path: &str, port: i32, e: &mut Errors) {
    if !(1..=65535).contains(&port) {
        e.push(FieldError::invalid(path, port, PORT_RANGE_MSG));
    }
}

/// A port given as a number (1-65535) or as a container port name (IANA_SVC_NAME).
pub(super) fn int_or_port_name(path: &str, v: &str, e: &mut Errors) {
    if v.is_empty() {
        e.push(FieldError::required(path, ""));
        return;
    }
    match v.parse::<i64>() {
        Ok(n) if (1..=65535).contains(&n) => {}
        Ok(n) => e.push(FieldError::invalid(path, n, PORT_RANGE_MSG)),
        Err(_) => {
            for msg in is_iana_svc_name(v) {
                e.push(FieldError::invalid(path, v, msg));
            }
        }
    }
}

pub(super) fn ip_address(path: &str, ip: &str, e: &mut Errors) {
    if ip.parse::<std::net::IpAddr>().is_err() {
        e.push(FieldError::invalid(
            path,
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
}

pub(super) fn quantity(path: &str, v: &str, e: &mut Errors) {
    match v.parse::<Quantity>() {
        Err(_) => e.push(FieldError::invalid(
            path,
            v,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
        Ok(q) if q < Quantity::default() => {
            e.push(FieldError::invalid(path, v, "must be greater than or equal to 0"))
        }
        Ok(_) => {}
    }
}

pub(super) fn quantities(path: &str, map: &BTreeMap<String, String>, e: &mut Errors) {
    for (name, v) in map {
        quantity(&format!("{path}[{name}]"), v, e);
    }
}

pub(super) fn data_keys<'a>(path: &str, keys: impl Iterator<Item = &'a String>, e: &mut Errors) {
    for k in keys {
        for msg in is_config_map_key(k) {
            e.push(FieldError::invalid(format!("{path}[{k}]"), k, msg));
        }
    }
}

/// Go's `%#v` of a label map, as Kubernetes prints it in this message.
pub(super) fn go_map(labels: &BTreeMap<String, String>) -> String {
    let body: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

// The string rules below are not in `validation.rs` (which covers metadata): Kubernetes'
// IsValidPortName, IsEnvVarName and IsConfigMapKey, with its messages.

/// IANA_SVC_NAME: at most 15 characters, lowercase alphanumerics and '-', at least one
/// letter, no leading, trailing or double '-'.
pub fn is_iana_svc_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if v.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if v.starts_with('-') || v.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(v: &str) -> Vec<String> {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    let valid = v
        .bytes()
        .next()
        .is_some_and(|b| !b.is_ascii_digit() && ok_char(b))
        && v.bytes().all(ok_char);
    let mut errs = Vec::new();
    if !valid {
        errs.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".to_string());
    }
    if v == "." || v == ".." || v.starts_with("..") {
        errs.push("must not be '.' or '..' or start with '..'".into());
    }
    errs
}

/// `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`/`..`.
pub fn is_config_map_key(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into());
    }
    if v == "." || v == ".." || v.starts_with("..") {
        errs.push("must not be '.' or '..' or start with '..'".into());
    }
    errs
}
