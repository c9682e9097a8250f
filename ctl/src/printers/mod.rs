//! Output: tables (`table`), ages (`age`), and the document forms (`-o yaml|json|name`).

pub mod age;
pub mod table;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// kubectl's wrapper for several objects.
pub fn list_document(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
}

pub fn yaml(v: &Value) -> Result<String> {
    let mut s = serde_saphyr::to_string(v).context("cannot render YAML")?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

pub fn json(v: &Value) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v).context("cannot render JSON")?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        let obj = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1"}}});
        let y = yaml(&obj).unwrap();
        assert!(y.contains("kind: Pod\n"), "{y}");
        assert!(y.contains("  name: p\n"), "{y}");
        let back: Value = serde_saphyr::from_str(&y).unwrap();
        assert_eq!(back, obj);
        let list = list_document(vec![obj.clone(), obj]);
        let j = json(&list).unwrap();
        let back: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["kind"], "List");
        assert_eq!(back["items"].as_array().unwrap().len(), 2);
    }
}
