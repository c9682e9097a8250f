//! What `wait --for=...` waits for, and whether an object satisfies it (pure).

use anyhow::{Result, bail};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum For {
    Delete,
    Create,
    /// `condition=Ready[=false]`: compared without regard to case.
    Condition {
        name: String,
        status: String,
    },
    /// `jsonpath={.status.phase}[=Running]`: None matches any value the path has.
    JsonPath {
        path: String,
        value: Option<String>,
    },
}

/// kubectl's `--for` grammar and messages.
pub fn parse_for(s: &str) -> Result<For> {
    let lower = s.to_ascii_lowercase();
    if lower == "delete" {
        return Ok(For::Delete);
    }
    if lower == "create" {
        return Ok(For::Create);
    }
    if let Some(rest) = s.strip_prefix("condition=") {
        let (name, status) = match rest.split_once('=') {
            Some((n, v)) => (n, v),
            None => (rest, "true"),
        };
        return Ok(For::Condition {
            name: name.to_string(),
            status: status.to_string(),
        });
    }
    if let Some(rest) = s.strip_prefix("jsonpath=") {
        let parts = split_jsonpath_input(rest);
        if parts.is_empty() || parts.len() > 2 {
            bail!(
                "jsonpath wait format must be --for=jsonpath='{{.status.readyReplicas}}'=3 or --for=jsonpath='{{.status.readyReplicas}}'"
            );
        }
        let path = relaxed(&parts[0])?;
        let value = match parts.get(1) {
            None => None,
            Some(v) => {
                let v = v.trim_matches(|c| c == '\'' || c == '"');
                if v.is_empty() {
                    bail!(
                        "jsonpath wait has to have a value after equal sign, like --for=jsonpath='{{.status.readyReplicas}}'=3"
                    );
                }
                Some(v.to_string())
            }
        };
        return Ok(For::JsonPath { path, value });
    }
    bail!("unrecognized condition: {s:?}")
}

/// Splits on single `=`; `==` (inside a filter) stays.
fn split_jsonpath_input(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            if chars.peek() == Some(&'=') {
                chars.next();
                cur.push_str("==");
                continue;
            }
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// kubectl's RelaxedJSONPathExpression: `.a.b`, `a.b` and `{.a.b}` all mean `{.a.b}`.
fn relaxed(expr: &str) -> Result<String> {
    let e = expr.trim().trim_matches('\'');
    if e.is_empty() {
        bail!("jsonpath expression cannot be empty");
    }
    let inner = e
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(e);
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    Ok(format!("{{.{inner}}}"))
}

impl For {
    /// Whether `obj` (as JSON) satisfies a condition or jsonpath wait; Err for a path that
    /// cannot be compared (more than one value, a nested object).
    pub fn met_by(&self, obj: &Value) -> Result<bool> {
        match self {
            For::Delete | For::Create => Ok(true),
            For::Condition { name, status } => Ok(condition_met(obj, name, status)),
            For::JsonPath { path, value } => {
                let found = super::jsonpath_values(path, obj)?;
                match found.as_slice() {
                    [] => Ok(false),
                    [one] => match value {
                        None => Ok(true),
                        Some(want) => {
                            if one.is_object() || one.is_array() {
                                bail!(
                                    "jsonpath leads to a nested object or list which is not supported"
                                );
                            }
                            Ok(scalar(one).trim() == want.trim())
                        }
                    },
                    _ => bail!("given jsonpath expression matches more than one value"),
                }
            }
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// kubectl's checkCondition: the condition of that type (any case) has that status (any
/// case), and was observed at the object's current generation when that is known.
pub fn condition_met(obj: &Value, name: &str, status: &str) -> bool {
    let Some(conds) = obj.pointer("/status/conditions").and_then(Value::as_array) else {
        return false;
    };
    for c in conds {
        let Some(t) = c.get("type").and_then(Value::as_str) else {
            continue;
        };
        if !t.eq_ignore_ascii_case(name) {
            continue;
        }
        let Some(s) = c.get("status").and_then(Value::as_str) else {
            continue;
        };
        if let Some(generation) = obj.pointer("/metadata/generation").and_then(Value::as_i64) {
            let observed = c
                .get("observedGeneration")
                .and_then(Value::as_i64)
                .or_else(|| {
                    obj.pointer("/status/observedGeneration")
                        .and_then(Value::as_i64)
                });
            if observed.is_some_and(|o| o < generation) {
                return false;
            }
        }
        return s.to_lowercase() == status.to_lowercase();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn for_grammar() {
        assert_eq!(parse_for("delete").unwrap(), For::Delete);
        assert_eq!(parse_for("Create").unwrap(), For::Create);
        assert_eq!(
            parse_for("condition=Ready").unwrap(),
            For::Condition {
                name: "Ready".into(),
                status: "true".into()
            }
        );
        assert_eq!(
            parse_for("condition=Available=False").unwrap(),
            For::Condition {
                name: "Available".into(),
                status: "False".into()
            }
        );
        assert_eq!(
            parse_for("jsonpath={.status.phase}=Running").unwrap(),
            For::JsonPath {
                path: "{.status.phase}".into(),
                value: Some("Running".into())
            }
        );
        assert_eq!(
            parse_for("jsonpath='{.status.phase}'='Running'").unwrap(),
            For::JsonPath {
                path: "{.status.phase}".into(),
                value: Some("Running".into())
            }
        );
        assert_eq!(
            parse_for("jsonpath=.status.loadBalancer.ingress").unwrap(),
            For::JsonPath {
                path: "{.status.loadBalancer.ingress}".into(),
                value: None
            }
        );
        assert_eq!(
            parse_for(r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}=True"#).unwrap(),
            For::JsonPath {
                path: r#"{.status.conditions[?(@.type=="Ready")].status}"#.into(),
                value: Some("True".into())
            }
        );
        let err = |s: &str| parse_for(s).unwrap_err().to_string();
        assert_eq!(err("ready"), "unrecognized condition: \"ready\"");
        assert_eq!(err(""), "unrecognized condition: \"\"");
        assert!(err("jsonpath={.a}=").contains("has to have a value after equal sign"));
        assert!(err("jsonpath={.a}=b=c").starts_with("jsonpath wait format must be"));
        assert_eq!(err("jsonpath="), "jsonpath expression cannot be empty");
    }

    #[test]
    fn conditions_compare_without_case_and_respect_generation() {
        let pod = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(condition_met(&pod, "ready", "true"));
        assert!(!condition_met(&pod, "Ready", "false"));
        assert!(!condition_met(&pod, "Initialized", "true"));
        assert!(!condition_met(&json!({}), "Ready", "true"));
        let stale = json!({"metadata": {"generation": 3},
            "status": {"observedGeneration": 2, "conditions": [{"type": "Available", "status": "True"}]}});
        assert!(!condition_met(&stale, "Available", "True"));
        let current = json!({"metadata": {"generation": 3},
            "status": {"observedGeneration": 3, "conditions": [{"type": "Available", "status": "True"}]}});
        assert!(condition_met(&current, "Available", "True"));
    }

    #[test]
    fn jsonpath_waits() {
        let pod = json!({"status": {"phase": "Running", "replicas": 3,
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}});
        let f = |s: &str| parse_for(s).unwrap();
        assert!(f("jsonpath={.status.phase}=Running").met_by(&pod).unwrap());
        assert!(!f("jsonpath={.status.phase}=Pending").met_by(&pod).unwrap());
        assert!(f("jsonpath={.status.replicas}=3").met_by(&pod).unwrap());
        assert!(f("jsonpath={.status.phase}").met_by(&pod).unwrap());
        assert!(!f("jsonpath={.status.podIP}").met_by(&pod).unwrap());
        assert!(
            f(r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}=True"#)
                .met_by(&pod)
                .unwrap()
        );
        let e = f("jsonpath={.status}=x")
            .met_by(&pod)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nested object"), "{e}");
        let e = f("jsonpath={.status.conditions[*].status}=True")
            .met_by(&pod)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than one value"), "{e}");
    }
}
