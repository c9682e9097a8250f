//! `-o custom-columns=NAME:.metadata.name,...` and `-o custom-columns-file=FILE`, as kubectl
//! (k8s.io/kubectl/pkg/cmd/get/customcolumn.go): each column a JSONPath with kubectl's
//! relaxed spelling (`metadata.name`, `.metadata.name`, `{.metadata.name}`), several results
//! joined by commas, `<none>` when nothing is found, values printed as Go prints them.

use super::jsonpath::{JsonPath, go_sprint};
use super::table::Table;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    /// The expression in its full form (`{.metadata.name}`): what the tests (and Debug) read.
    #[allow(dead_code)]
    pub field_spec: String,
    path: JsonPath,
}

impl Column {
    fn new(header: &str, spec: &str) -> Result<Column, String> {
        let field_spec = relaxed_jsonpath(spec)?;
        let path = JsonPath::parse(&field_spec)?.allow_missing_keys(true);
        Ok(Column {
            header: header.to_string(),
            field_spec,
            path,
        })
    }

    /// The cell of one object.
    pub fn cell(&self, obj: &Value) -> Result<String, String> {
        let results = self.path.find_results(obj)?;
        let values: Vec<String> = results
            .iter()
            .flatten()
            .map(|v| escape_terminal(&go_sprint(v)))
            .collect();
        if values.is_empty() {
            return Ok("<none>".to_string());
        }
        Ok(values.join(","))
    }
}

/// kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all become
/// `{.a.b}`.
pub fn relaxed_jsonpath(expr: &str) -> Result<String, String> {
    if expr.is_empty() {
        return Ok(String::new());
    }
    let unexpected = || {
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
            .to_string()
    };
    let no_braces = |s: &str| !s.is_empty() && !s.contains(['{', '}']);
    // `\.?([^{}]+)`: the dot is optional, so a lone "." is the field spec itself.
    let field = |s: &str| -> Option<String> {
        match s.strip_prefix('.') {
            Some(rest) if no_braces(rest) => Some(rest.to_string()),
            _ if no_braces(s) => Some(s.to_string()),
            _ => None,
        }
    };
    let inner = match expr.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
        Some(inside) => field(inside),
        None => None,
    };
    let spec = inner.or_else(|| field(expr)).ok_or_else(unexpected)?;
    Ok(format!("{{.{spec}}}"))
}

/// `NAME:.metadata.name,IMAGE:.spec.containers[*].image`.
pub fn from_spec(spec: &str) -> Result<Vec<Column>, String> {
    if spec.is_empty() {
        return Err("custom-columns format specified but no custom columns given".into());
    }
    spec.split(',')
        .map(|part| match part.split_once(':') {
            Some((header, path)) => Column::new(header, path),
            None => Err(format!(
                "unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )),
        })
        .collect()
}

/// A custom-columns file: a line of headers, then a line of expressions, split at
/// whitespace.
pub fn from_template(text: &str) -> Result<Vec<Column>, String> {
    let mut lines = text.lines();
    let expected = "Expected format is one line of space separated headers, one line of space separated column specs.";
    let headers: Vec<&str> = lines
        .next()
        .ok_or_else(|| format!("invalid template, missing header line. {expected}"))?
        .split_whitespace()
        .collect();
    let specs: Vec<&str> = lines
        .next()
        .ok_or_else(|| format!("invalid template, missing spec line. {expected}"))?
        .split_whitespace()
        .collect();
    if headers.len() != specs.len() {
        return Err(format!(
            "number of headers ({}) and field specifications ({}) don't match",
            headers.len(),
            specs.len()
        ));
    }
    headers
        .iter()
        .zip(&specs)
        .map(|(h, s)| Column::new(h, s))
        .collect()
}

/// The table of `objects` (headers as written, not upper-cased).
pub fn build(columns: &[Column], objects: &[Value]) -> Result<Table, String> {
    let rows = objects
        .iter()
        .map(|obj| columns.iter().map(|c| c.cell(obj)).collect())
        .collect::<Result<Vec<Vec<String>>, String>>()?;
    Ok(Table {
        headers: columns.iter().map(|c| c.header.clone()).collect(),
        rows,
    })
}

/// kubectl's EscapeTerminal: no terminal escape sequences from object data.
pub fn escape_terminal(s: &str) -> String {
    s.replace('\x1b', "^[").replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::table::render;
    use serde_json::json;

    #[test]
    fn relaxed_expressions() {
        for (input, want) in [
            ("foo.bar", "{.foo.bar}"),
            ("{foo.bar}", "{.foo.bar}"),
            (".foo.bar", "{.foo.bar}"),
            ("{.foo.bar}", "{.foo.bar}"),
            ("", ""),
        ] {
            assert_eq!(relaxed_jsonpath(input).unwrap(), want, "{input}");
        }
        for bad in ["{foo.bar", "foo.bar}", "{foo.bar}}", "{{foo.bar}"] {
            assert!(relaxed_jsonpath(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn specs() {
        for bad in ["", "invalid", "invalid=foobar", "invalid,foobar:blah"] {
            assert!(from_spec(bad).is_err(), "{bad:?}");
        }
        let cols = from_spec("NAME:metadata.name,API_VERSION:apiVersion").unwrap();
        let got: Vec<(&str, &str)> = cols
            .iter()
            .map(|c| (c.header.as_str(), c.field_spec.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("NAME", "{.metadata.name}"),
                ("API_VERSION", "{.apiVersion}")
            ]
        );
        for template in [
            "NAME               API_VERSION\n{metadata.name}    {apiVersion}",
            "NAME               \t\tAPI_VERSION\n\t\t\t\t\t\t\t{metadata.name}    {apiVersion}",
        ] {
            let cols = from_template(template).unwrap();
            assert_eq!(cols[1].field_spec, "{.apiVersion}");
        }
        for bad in ["", "invalid", "invalid=foobar", "invalid,foobar:blah"] {
            assert!(from_template(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn column_print() {
        let pod = json!({"apiVersion": "baz", "kind": "Pod", "metadata": {"name": "foo"}});
        let t = |spec: &str, objs: &[Value]| {
            render(&build(&from_spec(spec).unwrap(), objs).unwrap(), true)
        };
        assert_eq!(
            t("NAME:.metadata.name", std::slice::from_ref(&pod)),
            "NAME\nfoo\n"
        );
        let bar = json!({"metadata": {"name": "bar"}});
        assert_eq!(
            t("NAME:.metadata.name", &[pod.clone(), bar]),
            "NAME\nfoo\nbar\n"
        );
        assert_eq!(
            t(
                "NAME:.metadata.name,API_VERSION:.apiVersion",
                std::slice::from_ref(&pod)
            ),
            "NAME   API_VERSION\nfoo    baz\n"
        );
        assert_eq!(
            t(
                "NAME:.metadata.name,API_VERSION:.apiVersion,NOT_FOUND:.notFound",
                std::slice::from_ref(&pod)
            ),
            "NAME   API_VERSION   NOT_FOUND\nfoo    baz           <none>\n"
        );
        let evil = json!({"metadata": {"name": "\x1b \r"}});
        assert_eq!(t("NAME:.metadata.name", &[evil]), "NAME\n^[ \\r\n");
        let labelled =
            |n: &str| json!({"metadata": {"name": n, "labels": {"label1": n, "label2": n}}});
        assert_eq!(
            t(
                "NAME:.metadata.name,LONG COLUMN NAME:.metadata.labels.label1,LABEL 2:.metadata.labels.label2",
                &[labelled("foo"), labelled("bar")]
            ),
            "NAME   LONG COLUMN NAME   LABEL 2\nfoo    foo                foo\nbar    bar                bar\n"
        );
        // Maps print as Go prints them.
        assert_eq!(
            t("L:.metadata.labels", &[labelled("x")]),
            "L\nmap[label1:x label2:x]\n"
        );
    }

    #[test]
    fn slice_columns() {
        let containers: Vec<Value> = (0..4)
            .map(|i| json!({"name": format!("fake{i}")}))
            .collect();
        let pod = json!({"metadata": {"name": "fake-name", "namespace": "fake-namespace"},
            "spec": {"containers": containers}});
        let t = |spec: &str| {
            build(
                &from_spec(&format!("CONTAINER:{spec}")).unwrap(),
                std::slice::from_ref(&pod),
            )
            .map(|t| render(&t, true))
        };
        for (spec, want) in [
            (".spec.containers[0].name", Some("fake0")),
            (".spec.containers[3].name", Some("fake3")),
            (".spec.containers[5].name", None),
            (".spec.containers[-1].name", Some("fake3")),
            (".spec.containers[-2].name", Some("fake2")),
            (".spec.containers[-4].name", Some("fake0")),
            (".spec.containers[-5].name", None),
            (".spec.containers[0:0].name", Some("<none>")),
            (".spec.containers[0:3].name", Some("fake0,fake1,fake2")),
            (".spec.containers[1:].name", Some("fake1,fake2,fake3")),
            (".spec.containers[3:1].name", None),
            (".spec.containers[0:-1].name", Some("fake0,fake1,fake2")),
            (".spec.containers[-1:].name", Some("fake3")),
        ] {
            match want {
                Some(w) => assert_eq!(t(spec).unwrap(), format!("CONTAINER\n{w}\n"), "{spec}"),
                None => assert!(t(spec).is_err(), "{spec}"),
            }
        }
    }
}
