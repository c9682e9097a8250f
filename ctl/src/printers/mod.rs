//! Output: tables (`table`), ages (`age`), and the document forms (`-o yaml|json|name`,
//! the templates). `render_objects` is the one place a command turns objects into `-o`
//! output, so every command prints every format the same way.

pub mod age;
pub mod custom_columns;
pub mod go_template;
pub mod jsonpath;
pub mod sort;
pub mod table;

use crate::args::OutputFormat;
use crate::kinds::object_name_of;
use anyhow::{Context, Result};
use proto::k8s::Object;
use serde_json::{Value, json};

/// The objects in a document form of `-o`: one object as itself, several as a `List`
/// (templates see the same document kubectl's do). `None` for the forms that are not
/// documents (no `-o`, `-o wide`): the caller prints its table or message.
pub fn render_objects(format: &OutputFormat, objects: &[Object]) -> Result<Option<String>> {
    let docs: Vec<Value> = objects.iter().map(proto::manifest::to_document).collect();
    let doc = || match docs.as_slice() {
        [one] => one.clone(),
        _ => list_document(docs.clone()),
    };
    let text = match format {
        OutputFormat::Wide => return Ok(None),
        OutputFormat::Yaml => yaml(&doc())?,
        OutputFormat::Json => json(&doc())?,
        OutputFormat::Name => objects
            .iter()
            .map(|o| format!("{}\n", object_name_of(o)))
            .collect(),
        template => return render_template(template, &doc(), false),
    };
    Ok(Some(text))
}

/// The template forms of `-o` (jsonpath, custom columns) applied to one document: an object,
/// or a `List` whose items custom columns print one per row. `None` for the other forms.
/// `no_headers` leaves out the custom-columns header (not that of a columns file: kubectl's
/// file printer always prints it).
pub fn render_template(
    format: &OutputFormat,
    doc: &Value,
    no_headers: bool,
) -> Result<Option<String>> {
    render_template_with(format, doc, no_headers, true)
}

/// As `render_template`; `allow_missing_keys` false (`--allow-missing-template-keys=false`)
/// makes a key a jsonpath or go-template names but the object lacks an error.
pub fn render_template_with(
    format: &OutputFormat,
    doc: &Value,
    no_headers: bool,
    allow_missing_keys: bool,
) -> Result<Option<String>> {
    use jsonpath::JsonPath;
    let jsonpath = |template: &str, as_json: bool| -> Result<String> {
        let path = JsonPath::parse(template)
            .map_err(|e| anyhow::anyhow!("error parsing jsonpath {template}, {e}"))?
            .allow_missing_keys(allow_missing_keys)
            .json_output(as_json);
        path.execute(doc).map_err(|e| {
            anyhow::anyhow!("error executing jsonpath {template:?}: Error executing template: {e}")
        })
    };
    let columns = |cols: Vec<custom_columns::Column>, headers: bool| -> Result<String> {
        let items: Vec<Value> = match doc.get("items").and_then(Value::as_array) {
            Some(items) => items.clone(),
            None => vec![doc.clone()],
        };
        let t = custom_columns::build(&cols, &items).map_err(anyhow::Error::msg)?;
        Ok(table::render(&t, headers))
    };
    let go_template = |template: &str| -> Result<String> {
        let t = go_template::GoTemplate::parse(template)
            .map_err(|e| anyhow::anyhow!("error parsing template {template}, {e}"))?
            .missing_key_error(!allow_missing_keys);
        t.execute(doc)
            .map_err(|e| anyhow::anyhow!("error executing template {template:?}: {e}"))
    };
    let text = match format {
        OutputFormat::JsonPath(t) => jsonpath(t, false)?,
        OutputFormat::JsonPathAsJson(t) => jsonpath(t, true)?,
        OutputFormat::JsonPathFile(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("error reading --template {}", path.display()))?;
            jsonpath(&t, false)?
        }
        OutputFormat::CustomColumns(spec) => columns(
            custom_columns::from_spec(spec).map_err(anyhow::Error::msg)?,
            !no_headers,
        )?,
        OutputFormat::CustomColumnsFile(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("error reading template {}", path.display()))?;
            columns(
                custom_columns::from_template(&t).map_err(anyhow::Error::msg)?,
                true,
            )?
        }
        OutputFormat::GoTemplate(t) => go_template(t)?,
        OutputFormat::GoTemplateFile(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("error reading --template {}", path.display()))?;
            go_template(&t)?
        }
        _ => return Ok(None),
    };
    Ok(Some(text))
}

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
