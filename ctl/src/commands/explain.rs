//! `ctl explain RESOURCE[.FIELD...] [--recursive]`: kubectl's explain (its plaintext
//! template over OpenAPI v3) from the schema compiled into `proto` (the one the apiserver
//! serves as OpenAPI): KIND/VERSION, the field and its type, its description wrapped as
//! kubectl wraps it, and the fields below it (`--recursive`: the whole tree, types only).
//! Needs no server.

use super::Ctx;
use crate::kinds::resolve_kind;
use anyhow::{Result, bail};
use clap::Args;
use proto::KindInfo;
use proto::schema::{self, FieldKind, FieldSchema, MessageSchema, Special};
use std::fmt::Write;

#[derive(Args, Debug, Clone, Default)]
pub struct ExplainArgs {
    /// `RESOURCE` or `RESOURCE.FIELD.FIELD` (`pods.spec.containers`)
    pub resource: Option<String>,
    /// Every field below, as a tree of names and types
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub recursive: Option<bool>,
    /// The API group/version to explain (`apps/v1`)
    #[arg(long, value_name = "GROUP/VERSION")]
    pub api_version: Option<String>,
}

pub async fn explain(_ctx: &Ctx, args: &ExplainArgs) -> Result<()> {
    let Some(spec) = args.resource.as_deref().filter(|s| !s.is_empty()) else {
        bail!(
            "You must specify the type of resource to explain. Use \"ctl api-resources\" for a complete list of supported resources."
        );
    };
    print!(
        "{}",
        render(
            spec,
            args.api_version.as_deref(),
            args.recursive.unwrap_or(false)
        )?
    );
    Ok(())
}

/// The whole explanation of `spec` (`pods.spec.containers`).
pub fn render(spec: &str, api_version: Option<&str>, recursive: bool) -> Result<String> {
    let mut parts = spec.split('.');
    let resource = parts.next().unwrap_or_default();
    let path: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();
    let kind = resolve_kind(resource)?;
    if let Some(v) = api_version
        && v != kind.api_version
        && !(kind.group.is_empty() && v == format!("/{}", kind.version))
    {
        bail!(
            "couldn't find resource for \"{v}, Resource={}\"",
            kind.plural
        );
    }
    let mut out = header(kind);
    let top = schema::kind_message(kind);
    if path.is_empty() {
        description(&mut out, &message_description(top, kind));
        fields(&mut out, top, recursive);
    } else {
        let (owner, field) = walk(top, &path)?;
        let _ = write!(
            out,
            "FIELD: {} <{}>\n\n\n",
            field.json_name,
            type_name(owner, field)
        );
        let mut text = String::new();
        let d = field_description(field);
        if !d.is_empty() {
            text.push_str(&d);
            text.push('\n');
        }
        let nested = nested_message(field);
        if let Some(m) = nested {
            let md = m.description.trim();
            if !md.is_empty() {
                text.push_str(md);
                text.push('\n');
            }
        }
        description(&mut out, &text);
        if let Some(m) = nested {
            fields(&mut out, m, recursive);
        }
    }
    out.push('\n');
    Ok(out)
}

fn header(kind: &KindInfo) -> String {
    let mut s = String::new();
    if !kind.group.is_empty() {
        let _ = writeln!(s, "GROUP:      {}", kind.group);
    }
    let _ = writeln!(s, "KIND:       {}", kind.kind);
    let _ = writeln!(s, "VERSION:    {}", kind.version);
    s.push('\n');
    s
}

/// Follows `path` from `top`: the message holding the last field, and that field.
fn walk(
    top: &'static MessageSchema,
    path: &[&str],
) -> Result<(&'static MessageSchema, &'static FieldSchema)> {
    let mut msg = top;
    for (i, name) in path.iter().enumerate() {
        let Some(f) = msg.field(name) else {
            bail!("field \"{name}\" does not exist");
        };
        if i + 1 == path.len() {
            return Ok((msg, f));
        }
        match nested_message(f) {
            Some(m) => msg = m,
            None => bail!("field \"{}\" does not exist", path[i + 1]),
        }
    }
    bail!("field path is empty")
}

/// The message a field holds (itself, each list item or each map value).
fn nested_message(f: &FieldSchema) -> Option<&'static MessageSchema> {
    let kind = match &f.kind {
        FieldKind::Map(inner) => inner.as_ref(),
        k => k,
    };
    match kind {
        FieldKind::Message(name) if !is_opaque(name) => schema::message(name),
        _ => None,
    }
}

/// Messages explain does not look into: their JSON is not their fields.
fn is_opaque(name: &str) -> bool {
    matches!(name, "k8s.ExtraValue" | "k8s.FieldsV1" | "k8s.RawExtension")
}

/// kubectl's typeGuess: `string`, `integer`, `boolean`, `Container`, `[]Container`,
/// `map[string]string`, `IntOrString`, `Quantity`, `Object`.
pub fn type_name(owner: &MessageSchema, f: &FieldSchema) -> String {
    let special = schema::special(&owner.full_name, &f.json_name);
    match &f.kind {
        FieldKind::Map(inner) => format!("map[string]{}", base_type(inner, special)),
        k if f.repeated => format!("[]{}", base_type(k, special)),
        k => base_type(k, special),
    }
}

fn base_type(kind: &FieldKind, special: Option<Special>) -> String {
    match (kind, special) {
        (_, Some(Special::IntOrString)) => "IntOrString".into(),
        (_, Some(Special::Quantity)) => "Quantity".into(),
        (_, Some(Special::Time | Special::MicroTime)) => "string".into(),
        (FieldKind::String | FieldKind::Bytes, None) => "string".into(),
        (FieldKind::Bool, None) => "boolean".into(),
        (FieldKind::Int32 | FieldKind::Int64 | FieldKind::UInt64, None) => "integer".into(),
        (FieldKind::Double, None) => "number".into(),
        (FieldKind::Message(name), None) if name == "k8s.ExtraValue" => "[]string".into(),
        (FieldKind::Message(name), None) => match schema::message(name) {
            Some(m) => short_name(m),
            None => "Object".into(),
        },
        (FieldKind::Map(inner), None) => format!("map[string]{}", base_type(inner, None)),
    }
}

/// The last part of the OpenAPI definition name (`io.k8s.api.core.v1.Container`).
fn short_name(m: &MessageSchema) -> String {
    match m.definition_name() {
        Some(d) => d.rsplit('.').next().unwrap_or(d).to_string(),
        None => m
            .full_name
            .strip_prefix("k8s.")
            .unwrap_or(&m.full_name)
            .to_string(),
    }
}

/// The field's description, with the apiserver's wording for the common fields the proto
/// leaves undocumented (apiserver/src/http/openapi.rs).
fn field_description(f: &FieldSchema) -> String {
    if !f.description.trim().is_empty() {
        return f.description.trim().to_string();
    }
    match f.json_name.as_str() {
        "apiVersion" => {
            "APIVersion defines the versioned schema of this representation of an object."
        }
        "kind" => "Kind is a string value representing the REST resource this object represents.",
        "metadata" => "Standard object's metadata.",
        "spec" => "The desired behavior of this object.",
        "status" => {
            "The most recently observed status of this object. Read-only: written by the system."
        }
        _ => "",
    }
    .to_string()
}

fn message_description(m: &MessageSchema, kind: &KindInfo) -> String {
    match m.description.trim() {
        "" => format!("{} ({}).\n", kind.kind, kind.api_version),
        d => format!("{d}\n"),
    }
}

/// `DESCRIPTION:` and the text wrapped at 76 columns, indented 4 (an empty last line kept,
/// as kubectl's template prints it).
fn description(out: &mut String, text: &str) {
    out.push_str("DESCRIPTION:\n");
    let text = if text.is_empty() { "<empty>" } else { text };
    out.push_str(&indent(&wrap(text, 76), 4));
    out.push('\n');
}

fn fields(out: &mut String, m: &'static MessageSchema, recursive: bool) {
    let mut list = String::new();
    let mut seen = vec![m.full_name.as_str()];
    field_list(&mut list, m, 1, recursive, &mut seen);
    if !list.is_empty() {
        out.push_str("FIELDS:\n");
        out.push_str(&list);
    }
}

/// kubectl's fieldList: fields sorted by name; `recursive` prints the tree (cycles cut).
fn field_list(
    out: &mut String,
    m: &'static MessageSchema,
    level: usize,
    recursive: bool,
    seen: &mut Vec<&'static str>,
) {
    let mut sorted: Vec<&FieldSchema> = m.fields.iter().collect();
    sorted.sort_by(|a, b| a.json_name.cmp(&b.json_name));
    let required = m.required();
    let pad = level * 2;
    for f in sorted {
        let _ = write!(
            out,
            "{}{}\t<{}>",
            " ".repeat(pad),
            f.json_name,
            type_name(m, f)
        );
        if required.contains(&f.json_name.as_str()) {
            out.push_str(" -required-");
        }
        out.push('\n');
        if recursive {
            if let Some(n) = nested_message(f)
                && !seen.contains(&n.full_name.as_str())
            {
                seen.push(n.full_name.as_str());
                field_list(out, n, level + 1, recursive, seen);
                seen.pop();
            }
        } else {
            let d = field_description(f);
            let d = if d.is_empty() {
                "<no description>".to_string()
            } else {
                d
            };
            out.push_str(&indent(&wrap(&d, 78 - pad), pad + 2));
            out.push_str("\n\n");
        }
    }
}

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// go-wordwrap's WrapString (what kubectl's explain wraps with): breaks at spaces so lines
/// stay within `limit` where words allow, keeps the text's own line breaks, never splits a
/// word.
pub fn wrap(s: &str, limit: usize) -> String {
    let mut buf = String::with_capacity(s.len());
    let (mut current, mut word_len, mut space_len) = (0usize, 0usize, 0usize);
    let (mut word, mut space) = (String::new(), String::new());
    for c in s.chars() {
        if c == '\n' {
            if word.is_empty() {
                if current + space_len <= limit {
                    buf.push_str(&space);
                }
            } else {
                buf.push_str(&space);
                buf.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.clear();
            space_len = 0;
            buf.push('\n');
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                buf.push_str(&space);
                buf.push_str(&word);
                space.clear();
                space_len = 0;
                word.clear();
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > limit && word_len < limit {
                buf.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= limit {
            buf.push_str(&space);
        }
    } else {
        buf.push_str(&space);
        buf.push_str(&word);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_as_go_wordwrap() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("aaa bbb ccc", 6), "aaa\nbbb\nccc");
        assert_eq!(wrap("one\ntwo three", 5), "one\ntwo\nthree");
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            "averyveryverylongword\nx"
        );
        assert_eq!(wrap("end\n", 76), "end\n");
        assert_eq!(indent("a\nb\n", 4), "    a\n    b\n    ");
    }

    #[test]
    fn a_field_with_its_type_description_and_fields() {
        let text = render("pods.spec.containers", None, false).unwrap();
        assert!(
            text.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n\n\nDESCRIPTION:\n    "),
            "{text}"
        );
        assert!(
            text.contains("\nFIELDS:\n  args\t<[]string>\n    "),
            "{text}"
        );
        assert!(text.contains("\n  name\t<string> -required-\n"), "{text}");
        assert!(
            text.contains("\n  resources\t<ResourceRequirements>\n"),
            "{text}"
        );
        // Descriptions wrapped within 80 columns (a long word may pass).
        for l in text.lines() {
            assert!(l.len() <= 80 || !l.trim().contains(' '), "too long: {l:?}");
        }
        // The field's description, then its type's, then a line of four spaces.
        let desc = text.split("DESCRIPTION:\n").nth(1).unwrap();
        let desc = desc.split("FIELDS:\n").next().unwrap();
        assert!(desc.ends_with("\n    \n"), "{desc:?}");
    }

    #[test]
    fn groups_types_and_errors() {
        let text = render("deployments.spec.strategy.rollingUpdate", None, false).unwrap();
        assert!(
            text.starts_with("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n"),
            "{text}"
        );
        assert!(
            text.contains("FIELD: rollingUpdate <RollingUpdateDeployment>\n"),
            "{text}"
        );
        assert!(text.contains("\n  maxSurge\t<IntOrString>\n"), "{text}");
        let limits = render("pods.spec.containers.resources", None, false).unwrap();
        assert!(
            limits.contains("\n  limits\t<map[string]Quantity>\n"),
            "{limits}"
        );
        let meta = render("pods.metadata", None, false).unwrap();
        assert!(meta.contains("\n  creationTimestamp\t<string>\n"), "{meta}");
        assert!(meta.contains("\n  labels\t<map[string]string>\n"), "{meta}");
        let top = render("pods", Some("v1"), false).unwrap();
        assert!(
            top.starts_with("KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n"),
            "{top}"
        );
        assert!(top.contains("FIELDS:\n  apiVersion\t<string>\n"), "{top}");
        let err = |s: &str, v: Option<&str>| render(s, v, false).unwrap_err().to_string();
        assert_eq!(err("pods.spec.nope", None), "field \"nope\" does not exist");
        assert_eq!(
            err("pods.spec.hostname.x", None),
            "field \"x\" does not exist"
        );
        assert!(err("nope", None).contains("doesn't have a resource type"));
        assert!(err("deployments", Some("apps/v2")).contains("apps/v2"));
    }

    #[test]
    fn recursive_is_a_tree_of_names_and_types() {
        let text = render("deployments.spec.strategy", None, true).unwrap();
        let fields = text.split("FIELDS:\n").nth(1).unwrap();
        assert_eq!(
            fields,
            "  rollingUpdate\t<RollingUpdateDeployment>\n    maxSurge\t<IntOrString>\n    maxUnavailable\t<IntOrString>\n  type\t<string>\n\n"
        );
        // A tree with cycles ends.
        let pods = render("pods", None, true).unwrap();
        assert!(
            pods.contains("\n  spec\t<PodSpec>\n    activeDeadlineSeconds\t<integer>\n"),
            "{pods}"
        );
        assert!(
            pods.contains("\n    containers\t<[]Container> -required-\n"),
            "{pods}"
        );
    }
}
