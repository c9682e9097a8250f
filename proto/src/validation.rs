//! Generic validation with Kubernetes' rules and messages (apimachinery's
//! `util/validation` and `api/validation/objectmeta.go`), so users see the same errors they
//! know from Kubernetes. Kind-specific rules live in `kind_validation.rs` and reuse
//! [`FieldError`] from here.
//!
//! The `is_*` checks return the list of problems (empty = valid) rather than a bool, as
//! Kubernetes does, so every broken rule of a value can be reported at once.

use std::collections::BTreeMap;
use std::fmt;

use crate::k8s::{ObjectMeta, OwnerReference};

/// One broken rule at one field path. `message` holds Kubernetes' error body, e.g.
/// `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must ...`, so that
/// `Display` (`path: message`) reads exactly like a Kubernetes field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// `path: Invalid value: <value>: detail`. Strings are quoted by `Debug`, numbers are
    /// not, which matches how Kubernetes prints the bad value.
    pub fn invalid(
        path: impl Into<String>,
        value: impl fmt::Debug,
        detail: impl AsRef<str>,
    ) -> Self {
        Self::new(
            path,
            format!("Invalid value: {value:?}: {}", detail.as_ref()),
        )
    }

    /// `path: Required value` (with `: detail` when a detail is given).
    pub fn required(path: impl Into<String>, detail: impl AsRef<str>) -> Self {
        Self::new(path, with_detail("Required value", detail.as_ref()))
    }

    /// `path: Forbidden: detail`.
    pub fn forbidden(path: impl Into<String>, detail: impl AsRef<str>) -> Self {
        Self::new(path, with_detail("Forbidden", detail.as_ref()))
    }

    /// `path: Too long: must have at most N bytes`.
    pub fn too_long(path: impl Into<String>, max_bytes: usize) -> Self {
        Self::new(
            path,
            format!("Too long: must have at most {max_bytes} bytes"),
        )
    }

    /// `path: Duplicate value: <value>`.
    pub fn duplicate(path: impl Into<String>, value: impl fmt::Debug) -> Self {
        Self::new(path, format!("Duplicate value: {value:?}"))
    }

    /// `path: Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(
        path: impl Into<String>,
        value: impl fmt::Debug,
        supported: &[&str],
    ) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Self::new(
            path,
            format!(
                "Unsupported value: {value:?}: supported values: {}",
                list.join(", ")
            ),
        )
    }
}

fn with_detail(kind: &str, detail: &str) -> String {
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An error about the whole object has no path; Kubernetes prints `[]` there.
        let path = if self.path.is_empty() {
            "[]"
        } else {
            self.path.as_str()
        };
        write!(f, "{path}: {}", self.message)
    }
}

impl std::error::Error for FieldError {}

/// All errors on one line, `; `-separated, for an Invalid API error's message.
pub fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Kubernetes' TotalAnnotationSizeLimitB: keys plus values of all annotations.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Kubernetes' RegexError: the rule, examples, and the regex it is checked against.
fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{regex}')");
    }
    let ex: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{regex}')",
        ex.join("or ")
    )
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

const EMPTY_ERROR: &str = "must be non-empty";

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (or with a leading letter for DNS-1035).
fn matches_dns_label(s: &str, first_must_be_letter: bool) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    let first_ok = if first_must_be_letter {
        first.is_ascii_lowercase()
    } else {
        is_lower_alnum(first)
    };
    first_ok && is_lower_alnum(last) && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// RFC 1123 label: at most 63 characters, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns_label(value, false) {
        errs.push(regex_error(
            DNS1123_LABEL_ERR,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// RFC 1123 subdomain: at most 253 characters, dot-separated RFC 1123 labels.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    // Per-part label length is not limited here, exactly as Kubernetes' regex does not.
    if !value.split('.').all(|part| matches_dns_label(part, false)) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// RFC 1035 label (Service names): at most 63 characters, starts with a letter.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns_label(value, true) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Label and annotation keys: an optional DNS-1123 subdomain prefix and `/`, then a name
/// of at most 63 characters matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {EMPTY_ERROR}"));
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {EMPTY_ERROR}"));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Label values: empty, or at most 63 characters of the qualified-name charset.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Which rule a kind's `metadata.name` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds: Pod, Deployment, ConfigMap, Node, ...).
    Dns1123Subdomain,
    /// RFC 1123 label (Namespace).
    Dns1123Label,
    /// RFC 1035 label (Service: its name becomes a DNS label that must not start with a digit).
    Dns1035Label,
    /// Any string usable as a URL path segment (RBAC kinds, whose names carry colons:
    /// `system:node-proxier`; and CertificateSigningRequests).
    PathSegment,
}

impl NameRule {
    pub fn check(self, name: &str) -> Vec<String> {
        match self {
            NameRule::Dns1123Subdomain => is_dns1123_subdomain(name),
            NameRule::Dns1123Label => is_dns1123_label(name),
            NameRule::Dns1035Label => is_dns1035_label(name),
            NameRule::PathSegment => is_valid_path_segment_name(name),
        }
    }
}

/// The name rule Kubernetes applies to `kind` (the Kind name, e.g. "Service").
pub fn name_rule_for(kind: &str) -> NameRule {
    match kind {
        "Namespace" => NameRule::Dns1123Label,
        "Service" => NameRule::Dns1035Label,
        "Role"
        | "ClusterRole"
        | "RoleBinding"
        | "ClusterRoleBinding"
        | "CertificateSigningRequest" => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

/// Kubernetes' `path.IsValidPathSegmentName`: the name becomes one segment of a URL path.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name == "." || name == ".." {
        errs.push(format!("may not be '{name}'"));
    }
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// Labels: every key a qualified name, every value a valid label value.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(
            is_qualified_name(k)
                .into_iter()
                .map(|m| FieldError::invalid(path, k, m)),
        );
        errs.extend(
            is_valid_label_value(v)
                .into_iter()
                .map(|m| FieldError::invalid(path, v, m)),
        );
    }
    errs
}

/// Annotations: keys are qualified names ignoring case, and keys plus values together stay
/// within 256 KiB.
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (k, v) in annotations {
        // Kubernetes lowercases first: annotation keys may use upper case freely.
        let lower = k.to_ascii_lowercase();
        errs.extend(
            is_qualified_name(&lower)
                .into_iter()
                .map(|m| FieldError::invalid(path, k, m)),
        );
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errs.push(FieldError::too_long(
            path,
            TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
        ));
    }
    errs
}

const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";

/// Finalizers: qualified names; `orphan` and `foregroundDeletion` are exclusive.
pub fn validate_finalizers(finalizers: &[String], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in finalizers {
        errs.extend(
            is_qualified_name(f)
                .into_iter()
                .map(|m| FieldError::invalid(path, f, m)),
        );
    }
    let has = |name: &str| finalizers.iter().any(|f| f == name);
    if has(FINALIZER_ORPHAN_DEPENDENTS) && has(FINALIZER_DELETE_DEPENDENTS) {
        errs.push(FieldError::invalid(
            path,
            finalizers,
            format!(
                "finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set"
            ),
        ));
    }
    errs
}

/// Owner references: apiVersion (with a version), kind, name and uid present; at most one
/// controller. Unlike Kubernetes the path carries the index, to say which reference is bad.
pub fn validate_owner_references(refs: &[OwnerReference], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut controller: Option<&str> = None;
    for (i, r) in refs.iter().enumerate() {
        let p = format!("{path}[{i}]");
        // "v1" or "group/version": the version is what follows the last '/'.
        let version = r.api_version.rsplit('/').next().unwrap_or_default();
        if version.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.apiVersion"),
                &r.api_version,
                "version must not be empty",
            ));
        }
        for (field, value) in [("kind", &r.kind), ("name", &r.name), ("uid", &r.uid)] {
            if value.is_empty() {
                errs.push(FieldError::invalid(
                    format!("{p}.{field}"),
                    value,
                    "must not be empty",
                ));
            }
        }
        if r.controller == Some(true) {
            match controller {
                Some(first) => errs.push(FieldError::invalid(
                    path,
                    &r.name,
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {}",
                        r.name
                    ),
                )),
                None => controller = Some(&r.name),
            }
        }
    }
    errs
}

/// Kubernetes' maskTrailingDash: a generateName prefix may end in '-' because random
/// characters follow it, so check it as if the dash were a letter.
fn mask_trailing_dash(name: &str) -> String {
    match name.strip_suffix('-') {
        Some(head) if !head.is_empty() => format!("{head}a"),
        _ => name.to_string(),
    }
}

/// The generic `metadata` checks of Kubernetes' ValidateObjectMeta.
///
/// An empty name is accepted when generateName is set: the apiserver fills the name in
/// before it stores the object (Kubernetes generates it before validating).
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !meta.generate_name.is_empty() {
        let masked = mask_trailing_dash(&meta.generate_name);
        errs.extend(
            name_rule
                .check(&masked)
                .into_iter()
                .map(|m| FieldError::invalid("metadata.generateName", &meta.generate_name, m)),
        );
    }
    if meta.name.is_empty() {
        if meta.generate_name.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        errs.extend(
            name_rule
                .check(&meta.name)
                .into_iter()
                .map(|m| FieldError::invalid("metadata.name", &meta.name, m)),
        );
    }
    if namespaced {
        if meta.namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            errs.extend(
                is_dns1123_label(&meta.namespace)
                    .into_iter()
                    .map(|m| FieldError::invalid("metadata.namespace", &meta.namespace, m)),
            );
        }
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    if meta.generation < 0 {
        errs.push(FieldError::invalid(
            "metadata.generation",
            meta.generation,
            "must be greater than or equal to 0",
        ));
    }
    errs.extend(validate_labels(&meta.labels, "metadata.labels"));
    errs.extend(validate_annotations(
        &meta.annotations,
        "metadata.annotations",
    ));
    errs.extend(validate_owner_references(
        &meta.owner_references,
        "metadata.ownerReferences",
    ));
    errs.extend(validate_finalizers(&meta.finalizers, "metadata.finalizers"));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn dns1123_subdomain_table() {
        let long_ok = format!("{}.{}", "a".repeat(126), "b".repeat(126)); // 253
        let too_long = format!("{long_ok}c");
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("example.com", true),
            ("my-pod-1", true),
            ("0", true),
            ("a.b.c", true),
            (&long_ok, true),
            ("", false),
            ("Bad_Name", false),
            ("UPPER", false),
            ("-leading", false),
            ("trailing-", false),
            ("a..b", false),
            (".a", false),
            ("a.", false),
            ("a_b", false),
            (&too_long, false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_dns1123_subdomain(input).is_empty(), *ok, "{input:?}");
        }
        assert_eq!(
            is_dns1123_subdomain("Bad_Name"),
            vec![SUBDOMAIN_MSG.to_string()]
        );
        assert_eq!(
            is_dns1123_subdomain(&too_long)[0],
            "must be no more than 253 characters"
        );
    }

    #[test]
    fn dns1123_label_table() {
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("abc-123", true),
            ("123", true),
            (&"a".repeat(63), true),
            (&"a".repeat(64), false),
            ("a.b", false),
            ("", false),
            ("-a", false),
            ("a-", false),
            ("A", false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_dns1123_label(input).is_empty(), *ok, "{input:?}");
        }
    }

    #[test]
    fn dns1035_label_table() {
        let cases: &[(&str, bool)] = &[
            ("my-svc", true),
            ("a1", true),
            (&"a".repeat(63), true),
            (&"a".repeat(64), false),
            ("1abc", false),
            ("-abc", false),
            ("abc-", false),
            ("a.b", false),
            ("Abc", false),
            ("", false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_dns1035_label(input).is_empty(), *ok, "{input:?}");
        }
        assert!(is_dns1035_label("1abc")[0].starts_with("a DNS-1035 label must consist"));
    }

    #[test]
    fn qualified_name_table() {
        let cases: &[(&str, bool)] = &[
            ("app", true),
            ("App_Name.v-1", true),
            ("example.com/app", true),
            ("kubernetes.io/hostname", true),
            ("a/b", true),
            ("1", true),
            (&"a".repeat(63), true),
            (&format!("{}/x", "a".repeat(253)), true),
            (&"a".repeat(64), false),
            (&format!("{}/x", "a".repeat(254)), false),
            ("a/b/c", false),
            ("/a", false),
            ("a/", false),
            ("", false),
            ("-a", false),
            ("a-", false),
            ("Example.com/a", false),
            ("a b", false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_qualified_name(input).is_empty(), *ok, "{input:?}");
        }
        assert_eq!(
            is_qualified_name("/a"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert!(is_qualified_name("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(is_qualified_name("a/b/c")[0].ends_with("(e.g. 'example.com/MyName')"));
        let errs = is_qualified_name("");
        assert_eq!(errs[0], "name part must be non-empty");
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_string()]
        );
    }

    #[test]
    fn label_value_table() {
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("web", true),
            ("My_Value.1-2", true),
            (&"v".repeat(63), true),
            (&"v".repeat(64), false),
            ("-v", false),
            ("v-", false),
            ("a/b", false),
            ("a b", false),
            ("é", false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_valid_label_value(input).is_empty(), *ok, "{input:?}");
        }
        assert_eq!(
            is_valid_label_value(&"v".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
    }

    fn meta(name: &str, ns: &str) -> ObjectMeta {
        ObjectMeta {
            name: name.into(),
            namespace: ns.into(),
            ..Default::default()
        }
    }

    #[test]
    fn object_meta_name_and_namespace() {
        assert!(
            validate_object_meta(&meta("web", "default"), true, NameRule::Dns1123Subdomain)
                .is_empty()
        );

        let errs = validate_object_meta(
            &meta("Bad_Name", "default"),
            true,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            join(&errs),
            format!("metadata.name: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}")
        );

        let errs = validate_object_meta(&meta("", "default"), true, NameRule::Dns1123Subdomain);
        assert_eq!(
            join(&errs),
            "metadata.name: Required value: name or generateName is required"
        );

        let mut m = meta("", "default");
        m.generate_name = "web-".into();
        assert!(validate_object_meta(&m, true, NameRule::Dns1123Subdomain).is_empty());
        m.generate_name = "Web-".into();
        assert_eq!(
            validate_object_meta(&m, true, NameRule::Dns1123Subdomain)[0].path,
            "metadata.generateName"
        );

        let errs = validate_object_meta(&meta("web", ""), true, NameRule::Dns1123Subdomain);
        assert_eq!(join(&errs), "metadata.namespace: Required value");
        let errs = validate_object_meta(
            &meta("node-1", "default"),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            join(&errs),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
        let errs = validate_object_meta(&meta("web", "Bad.NS"), true, NameRule::Dns1123Subdomain);
        assert_eq!(errs[0].path, "metadata.namespace");

        // Dots are fine in a Pod name, not in a Namespace or Service name.
        assert!(validate_object_meta(&meta("a.b", "ns"), true, name_rule_for("Pod")).is_empty());
        assert!(
            !validate_object_meta(&meta("a.b", ""), false, name_rule_for("Namespace")).is_empty()
        );
        assert!(
            !validate_object_meta(&meta("1svc", "ns"), true, name_rule_for("Service")).is_empty()
        );
        assert!(validate_object_meta(&meta("1pod", "ns"), true, name_rule_for("Pod")).is_empty());
        let rbac = name_rule_for("ClusterRole");
        assert!(validate_object_meta(&meta("system:node-proxier", ""), false, rbac).is_empty());
        assert_eq!(
            join(&validate_object_meta(&meta("a/b", ""), false, rbac)),
            "metadata.name: Invalid value: \"a/b\": may not contain '/'"
        );
    }

    #[test]
    fn object_meta_labels_annotations() {
        let mut m = meta("web", "default");
        m.labels.insert("app".into(), "web".into());
        m.labels.insert("a/b/c".into(), "x".into());
        m.labels.insert("tier".into(), "-bad".into());
        let errs = validate_object_meta(&m, true, NameRule::Dns1123Subdomain);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().all(|e| e.path == "metadata.labels"));
        assert!(
            errs[0]
                .message
                .starts_with("Invalid value: \"a/b/c\": a qualified name")
        );
        assert!(
            errs[1]
                .message
                .starts_with("Invalid value: \"-bad\": a valid label")
        );

        let mut m = meta("web", "default");
        m.annotations.insert("Example.COM/Key".into(), "x".into());
        assert!(validate_object_meta(&m, true, NameRule::Dns1123Subdomain).is_empty());
        m.annotations.insert("bad key".into(), "x".into());
        assert_eq!(
            validate_object_meta(&m, true, NameRule::Dns1123Subdomain).len(),
            1
        );

        // The limit counts keys and values: exactly 262144 bytes passes, one more fails.
        let mut m = meta("web", "default");
        m.annotations.insert(
            "k".into(),
            "v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES - 1),
        );
        assert!(validate_object_meta(&m, true, NameRule::Dns1123Subdomain).is_empty());
        m.annotations.insert("k2".into(), String::new());
        assert_eq!(
            join(&validate_object_meta(&m, true, NameRule::Dns1123Subdomain)),
            "metadata.annotations: Too long: must have at most 262144 bytes"
        );
    }

    #[test]
    fn object_meta_finalizers_owner_refs() {
        let mut m = meta("web", "default");
        m.finalizers = vec![
            "kubernetes.io/pv-protection".into(),
            "bad/fin/alizer".into(),
        ];
        let errs = validate_object_meta(&m, true, NameRule::Dns1123Subdomain);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "metadata.finalizers");
        m.finalizers = vec!["orphan".into(), "foregroundDeletion".into()];
        assert_eq!(
            validate_object_meta(&m, true, NameRule::Dns1123Subdomain).len(),
            1
        );

        let good = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs".into(),
            uid: "u1".into(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let mut m = meta("web", "default");
        m.owner_references = vec![good.clone()];
        assert!(validate_object_meta(&m, true, NameRule::Dns1123Subdomain).is_empty());
        m.owner_references.push(OwnerReference {
            api_version: "apps/".into(),
            uid: String::new(),
            ..good.clone()
        });
        let errs = validate_object_meta(&m, true, NameRule::Dns1123Subdomain);
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "metadata.ownerReferences[1].apiVersion",
                "metadata.ownerReferences[1].uid",
                "metadata.ownerReferences"
            ]
        );
        assert!(
            errs[2]
                .message
                .contains("Only one reference can have Controller set to true")
        );
    }

    #[test]
    fn field_error_formats() {
        assert_eq!(
            FieldError::invalid("spec.replicas", -1i64, "must be >= 0").to_string(),
            "spec.replicas: Invalid value: -1: must be >= 0"
        );
        assert_eq!(
            FieldError::duplicate("spec.ports[1].name", "http").to_string(),
            "spec.ports[1].name: Duplicate value: \"http\""
        );
        assert_eq!(
            FieldError::not_supported("spec.restartPolicy", "Sometimes", &["Always", "Never"])
                .to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\""
        );
        assert_eq!(join(&[]), "");
        let two = [
            FieldError::required("a", ""),
            FieldError::forbidden("b", "no"),
        ];
        assert_eq!(join(&two), "a: Required value; b: Forbidden: no");
    }
}
