//! A small JSONPath evaluator for `wait --for=jsonpath=`: `{.a.b}`, `[n]`, `[*]`,
//! `[?(@.field=="value")]` (also `!=`). Stands in until the printers' full JSONPath lands;
//! `super::jsonpath_values` is the one switch point. Missing keys match nothing, as
//! kubectl's wait allows (AllowMissingKeys).

use anyhow::{Result, bail};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    All,
    Filter {
        path: Vec<String>,
        equal: bool,
        value: String,
    },
}

fn parse(expr: &str) -> Result<Vec<Step>> {
    let inner = expr
        .trim()
        .strip_prefix('{')
        .and_then(|e| e.strip_suffix('}'))
        .unwrap_or(expr)
        .trim();
    let inner = inner.strip_prefix('$').unwrap_or(inner);
    let mut steps = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                let key = &inner[start..j];
                match key {
                    "" => {}
                    "*" => steps.push(Step::All),
                    k => steps.push(Step::Key(k.to_string())),
                }
                i = j;
            }
            b'[' => {
                let Some(end) = closing(inner, i) else {
                    bail!("unclosed [ in jsonpath {expr}");
                };
                steps.push(bracket(&inner[i + 1..end], expr)?);
                i = end + 1;
            }
            _ => bail!(
                "unsupported jsonpath {expr}: expected . or [ at {:?}",
                &inner[i..]
            ),
        }
    }
    Ok(steps)
}

/// The `]` closing the `[` at `open`, skipping quoted text.
fn closing(s: &str, open: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (k, c) in s[open + 1..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, ']') => return Some(open + 1 + k),
            _ => {}
        }
    }
    None
}

fn bracket(body: &str, expr: &str) -> Result<Step> {
    let body = body.trim();
    if body == "*" {
        return Ok(Step::All);
    }
    if let Ok(n) = body.parse::<i64>() {
        return Ok(Step::Index(n));
    }
    if let Some(key) = body
        .strip_prefix('\'')
        .and_then(|b| b.strip_suffix('\''))
        .or_else(|| body.strip_prefix('"').and_then(|b| b.strip_suffix('"')))
    {
        return Ok(Step::Key(key.to_string()));
    }
    if let Some(f) = body.strip_prefix("?(").and_then(|b| b.strip_suffix(')')) {
        let (lhs, rhs, equal) = match (f.split_once("=="), f.split_once("!=")) {
            (Some((l, r)), _) => (l, r, true),
            (None, Some((l, r))) => (l, r, false),
            _ => bail!("unsupported filter in jsonpath {expr}"),
        };
        let Some(path) = lhs.trim().strip_prefix("@.") else {
            bail!("unsupported filter in jsonpath {expr}");
        };
        let value = rhs
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        return Ok(Step::Filter {
            path: path.split('.').map(String::from).collect(),
            equal,
            value,
        });
    }
    bail!("unsupported jsonpath {expr}: [{body}]")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The values `expr` selects in `obj`.
pub fn values(expr: &str, obj: &Value) -> Result<Vec<Value>> {
    let mut cur: Vec<&Value> = vec![obj];
    for step in parse(expr)? {
        let mut next = Vec::new();
        for v in cur {
            match &step {
                Step::Key(k) => next.extend(v.get(k.as_str())),
                Step::Index(n) => {
                    if let Some(a) = v.as_array() {
                        let i = if *n < 0 { a.len() as i64 + n } else { *n };
                        if i >= 0 {
                            next.extend(a.get(i as usize));
                        }
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Filter { path, equal, value } => {
                    for item in v.as_array().into_iter().flatten() {
                        let got = path.iter().try_fold(item, |acc, k| acc.get(k.as_str()));
                        let same = got.is_some_and(|g| text(g) == *value);
                        if got.is_some() && same == *equal {
                            next.push(item);
                        }
                    }
                }
            }
        }
        cur = next;
    }
    Ok(cur.into_iter().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let o = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}}});
        assert_eq!(
            values("{.spec.containers[1].name}", &o).unwrap(),
            [json!("b")]
        );
        assert_eq!(
            values(".spec.containers[-1].image", &o).unwrap(),
            [json!("y")]
        );
        assert_eq!(
            values("{.spec.containers[*].name}", &o).unwrap(),
            [json!("a"), json!("b")]
        );
        assert_eq!(
            values(r#"{.spec.containers[?(@.name=="b")].image}"#, &o).unwrap(),
            [json!("y")]
        );
        assert_eq!(
            values(r#"{.spec.containers[?(@.name!="b")].image}"#, &o).unwrap(),
            [json!("x")]
        );
        assert_eq!(
            values("{.metadata.labels['app.kubernetes.io/name']}", &o).unwrap(),
            [json!("web")]
        );
        assert!(values("{.spec.missing.deeper}", &o).unwrap().is_empty());
        assert!(values("{.spec.containers[", &o).is_err());
    }
}
