//! `get`: tables, documents or names; `-w` streams changes after the first listing.

use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::{GetArgs, OutputFormat};
use crate::kinds::{Namespaces, Selection, object_name, object_name_of, parse_selection};
use crate::printers::table::{TableOptions, build_table, render_with};
use crate::printers::{json, list_document, render_template_with, yaml};
use anyhow::{Result, bail};
use futures::StreamExt;
use proto::k8s::Object;
use proto::k8s::{ListRequest, WatchRequest};
use proto::manifest::{to_json_pretty, to_yaml};
use proto::{KindInfo, Reason};
use serde_json::Value;
use std::borrow::Cow;
use std::time::SystemTime;

/// The objects found for one kind, in the order they are shown.
pub struct Found {
    pub kind: &'static KindInfo,
    pub objects: Vec<proto::k8s::Object>,
    /// The list's resourceVersion, where a watch continues.
    pub resource_version: String,
}

pub async fn get(ctx: &Ctx, args: &GetArgs) -> Result<()> {
    let selection = parse_selection(&args.args)?;
    if ctx.ns.all && matches!(selection, Selection::Named(_)) {
        bail!("a resource cannot be retrieved by name across all namespaces");
    }
    if args.watch && selection.several_kinds() {
        bail!("you may only specify a single resource type when watching");
    }
    let format = ctx.output();
    check_flags(args, format.as_ref())?;
    if args.watch && args.sort_by.is_some() {
        eprintln!(
            "warning: --watch requested, --sort-by will be ignored for watch events received"
        );
    }
    let mut failures = 0;
    let mut found = fetch(ctx, &selection, &mut failures).await?;
    if args.watch {
        if failures > 0 {
            return finish(failures);
        }
        return watch(ctx, args, &selection, found).await;
    }
    let several = selection.several_kinds();
    let single_named = matches!(&selection, Selection::Named(p) if p.len() == 1);
    let total: usize = found.iter().map(|f| f.objects.len()).sum();

    match &format {
        None | Some(OutputFormat::Wide) => {
            if let (Some(field), Selection::All(_)) = (&args.sort_by, &selection) {
                for f in &mut found {
                    sort_by(&mut f.objects, |o| o.to_json(), field)?;
                }
            }
            let opts = table_options(ctx, args, several);
            let mut first = true;
            for f in found.iter().filter(|f| !f.objects.is_empty()) {
                // kubectl: a blank line between the tables of two kinds, unless headerless.
                if !first && !args.no_headers {
                    println!();
                }
                first = false;
                let values: Vec<Value> = f.objects.iter().map(|o| o.to_json()).collect();
                let mut widths = Vec::new();
                print!(
                    "{}",
                    render_with(
                        &build_table(f.kind, &values, &opts),
                        !args.no_headers,
                        &mut widths
                    )
                );
            }
            if total == 0 && failures == 0 && matches!(selection, Selection::All(_)) {
                eprintln!(
                    "{}",
                    no_resources_message(
                        &ctx.ns,
                        &found.iter().map(|f| f.kind).collect::<Vec<_>>()
                    )
                );
            }
        }
        Some(format) => {
            // kubectl's printGeneric: one object named alone is printed as itself, anything
            // else (also nothing) as a List; a failed single name prints nothing more.
            if single_named && total == 1 {
                let obj = &found[0].objects[0];
                print!("{}", render_one(format, obj, args)?);
            } else if !(single_named && failures > 0) {
                // Each document with its `-o name` line, sorted together.
                let mut pairs: Vec<(Value, String)> = found
                    .iter()
                    .flat_map(|f| {
                        f.objects.iter().map(|o| {
                            (
                                proto::manifest::to_document(o),
                                object_name(f.kind, &o.meta().name),
                            )
                        })
                    })
                    .collect();
                if let Some(field) = &args.sort_by {
                    sort_by(&mut pairs, |p| p.0.clone(), field)?;
                }
                let (items, names): (Vec<Value>, Vec<String>) = pairs.into_iter().unzip();
                print!("{}", render_list(format, items, &names, args)?);
            }
        }
    }
    finish(failures)
}

/// kubectl's checks of flags that only some printers use.
fn check_flags(args: &GetArgs, format: Option<&OutputFormat>) -> Result<()> {
    let Some(format) = format else { return Ok(()) };
    if args.show_labels && *format != OutputFormat::Wide {
        bail!(
            "--show-labels option cannot be used with {} printer",
            output_text(format)
        );
    }
    if !args.label_columns.is_empty()
        && matches!(
            format,
            OutputFormat::CustomColumns(_) | OutputFormat::CustomColumnsFile(_)
        )
    {
        bail!(
            "--label-columns option cannot be used with {} printer",
            output_text(format)
        );
    }
    Ok(())
}

/// The `-o` value as the user wrote it (kubectl's messages quote it).
fn output_text(format: &OutputFormat) -> String {
    match format {
        OutputFormat::Wide => "wide".into(),
        OutputFormat::Yaml => "yaml".into(),
        OutputFormat::Json => "json".into(),
        OutputFormat::Name => "name".into(),
        OutputFormat::JsonPath(t) => format!("jsonpath={t}"),
        OutputFormat::JsonPathFile(p) => format!("jsonpath-file={}", p.display()),
        OutputFormat::JsonPathAsJson(t) => format!("jsonpath-as-json={t}"),
        OutputFormat::CustomColumns(t) => format!("custom-columns={t}"),
        OutputFormat::CustomColumnsFile(p) => format!("custom-columns-file={}", p.display()),
        OutputFormat::GoTemplate(t) => format!("go-template={t}"),
        OutputFormat::GoTemplateFile(p) => format!("go-template-file={}", p.display()),
    }
}

/// One object in a document form of `-o`.
fn render_one(format: &OutputFormat, obj: &Object, args: &GetArgs) -> Result<String> {
    Ok(match format {
        OutputFormat::Yaml => with_newline(to_yaml(&shown(obj, args.show_managed_fields))),
        OutputFormat::Json => with_newline(to_json_pretty(&shown(obj, args.show_managed_fields))),
        OutputFormat::Name => format!("{}\n", object_name_of(obj)),
        template => render_template_with(
            template,
            &proto::manifest::to_document(obj),
            args.no_headers,
            args.allow_missing_template_keys,
        )?
        .unwrap_or_default(),
    })
}

/// Several objects (or none) as kubectl's `List`; `names` are the items' `-o name` lines.
fn render_list(
    format: &OutputFormat,
    mut items: Vec<Value>,
    names: &[String],
    args: &GetArgs,
) -> Result<String> {
    if matches!(format, OutputFormat::Yaml | OutputFormat::Json) && !args.show_managed_fields {
        for doc in &mut items {
            hide_managed_fields(doc);
        }
    }
    let doc = list_document(items);
    Ok(match format {
        OutputFormat::Yaml => yaml(&doc)?,
        OutputFormat::Json => json(&doc)?,
        OutputFormat::Name => names.iter().map(|n| format!("{n}\n")).collect(),
        template => render_template_with(
            template,
            &doc,
            args.no_headers,
            args.allow_missing_template_keys,
        )?
        .unwrap_or_default(),
    })
}

/// `--sort-by` over items whose documents `doc` gives.
fn sort_by<T, D: std::borrow::Borrow<Value>>(
    items: &mut [T],
    doc: impl Fn(&T) -> D,
    field: &str,
) -> Result<()> {
    crate::printers::sort::sort_by(items, doc, field).map_err(anyhow::Error::msg)
}

/// Removes `metadata.managedFields` from a document; true when there were some.
fn hide_managed_fields(doc: &mut Value) -> bool {
    doc.get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("managedFields"))
        .is_some()
}

/// The object as `-o yaml|json` shows it: without `metadata.managedFields` unless asked, as
/// kubectl (`--show-managed-fields`); they are bookkeeping of server-side apply.
fn shown(obj: &Object, show_managed_fields: bool) -> Cow<'_, Object> {
    if show_managed_fields {
        return Cow::Borrowed(obj);
    }
    let mut doc = obj.to_json();
    if !hide_managed_fields(&mut doc) {
        return Cow::Borrowed(obj);
    }
    // The serde form read back into its own type: nothing else changes.
    match obj.info().map(|info| Object::from_json_as(info, doc)) {
        Some(Ok(stripped)) => Cow::Owned(stripped),
        _ => Cow::Borrowed(obj),
    }
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn table_options(ctx: &Ctx, args: &GetArgs, several: bool) -> TableOptions {
    TableOptions {
        wide: ctx.output() == Some(OutputFormat::Wide),
        namespace_column: ctx.ns.all,
        kind_prefix: several,
        show_labels: args.show_labels,
        label_columns: args.label_columns.clone(),
        now: SystemTime::now(),
    }
}

/// kubectl's message when nothing matched.
pub fn no_resources_message(ns: &Namespaces, kinds: &[&KindInfo]) -> String {
    if ns.all || !kinds.iter().any(|k| k.namespaced) {
        "No resources found".to_string()
    } else {
        format!("No resources found in {} namespace.", ns.effective())
    }
}

/// Lists or gets what the selection names. Per-object failures (NotFound) are printed
/// and counted; a failure of the connection ends the command.
pub async fn fetch(ctx: &Ctx, selection: &Selection, failures: &mut usize) -> Result<Vec<Found>> {
    let api = ctx.api().await?;
    let mut out: Vec<Found> = Vec::new();
    match selection {
        Selection::All(kinds) => {
            for kind in kinds {
                let req = ctx.list_request(kind);
                match api.list(req).await {
                    Ok(resp) => out.push(Found {
                        kind,
                        objects: resp.items,
                        resource_version: resp.resource_version,
                    }),
                    Err(e) if reason_of(&e).is_some() => report(failures, &e),
                    Err(e) => return Err(e),
                }
            }
        }
        Selection::Named(pairs) => {
            for (kind, name) in pairs {
                match api.get(kind.plural, &ctx.ns.for_object(kind), name).await {
                    Ok(obj) => match out.iter_mut().find(|f| std::ptr::eq(f.kind, *kind)) {
                        Some(f) => f.objects.push(obj),
                        None => out.push(Found {
                            kind,
                            objects: vec![obj],
                            resource_version: String::new(),
                        }),
                    },
                    Err(e) if reason_of(&e).is_some() => report(failures, &e),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(out)
}

/// Streams changes after the listing, one row (or document) per event, until the server
/// closes the stream or the user interrupts. An expired version relists silently.
async fn watch(ctx: &Ctx, args: &GetArgs, selection: &Selection, found: Vec<Found>) -> Result<()> {
    let api = ctx.api().await?;
    let (kind, names): (&'static KindInfo, Vec<String>) = match selection {
        Selection::All(kinds) => (kinds[0], vec![]),
        Selection::Named(pairs) => (pairs[0].0, pairs.iter().map(|(_, n)| n.clone()).collect()),
    };
    if names.len() > 1 {
        bail!("watching several objects by name is not supported: use a label selector");
    }
    let mut field_selector = ctx.field_selector();
    if let Some(n) = names.first() {
        let by_name = format!("metadata.name={n}");
        field_selector = if field_selector.is_empty() {
            by_name
        } else {
            format!("{field_selector},{by_name}")
        };
    }
    let namespace = ctx.ns.for_list(kind);
    // Where the watch starts, and where it starts again after Expired.
    let relist = ListRequest {
        resource: kind.plural.to_string(),
        namespace: namespace.clone(),
        label_selector: ctx.label_selector(),
        field_selector: field_selector.clone(),
        ..Default::default()
    };
    let mut resource_version = found
        .first()
        .map(|f| f.resource_version.clone())
        .unwrap_or_default();
    if resource_version.is_empty() {
        // A get by name has no list version: list to learn where to start.
        let resp = api.list(relist.clone()).await?;
        resource_version = resp.resource_version;
    }
    let mut printer = StreamPrinter::new(ctx, args, kind)?;
    let initial: Vec<&Object> = found.iter().flat_map(|f| f.objects.iter()).collect();
    print!("{}", printer.print(&initial)?);
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    loop {
        let req = WatchRequest {
            resource: kind.plural.to_string(),
            namespace: namespace.clone(),
            label_selector: ctx.label_selector(),
            field_selector: field_selector.clone(),
            resource_version: resource_version.clone(),
            allow_watch_bookmarks: true,
        };
        let mut stream = api.watch(req).await?;
        let mut expired = false;
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(ev) => ev,
                Err(status) => {
                    let e =
                        crate::api::convert(api.server(), proto::ApiError::from_status(&status));
                    if reason_of(&e) == Some(Reason::Expired) {
                        expired = true;
                        break;
                    }
                    return Err(e);
                }
            };
            if !event.resource_version.is_empty() {
                resource_version = event.resource_version.clone();
            } else if let Some(o) = &event.object
                && !o.meta().resource_version.is_empty()
            {
                resource_version = o.meta().resource_version.clone();
            }
            let Some(obj) = event.object else { continue };
            if event.r#type == "BOOKMARK" {
                continue;
            }
            print!("{}", printer.print(&[&obj])?);
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        if !expired {
            // The server ended the stream (a restart, a slow-watcher cut): continue from
            // the last version seen, as kubectl does. An unreachable server fails above.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            continue;
        }
        let resp = api.list(relist.clone()).await?;
        resource_version = resp.resource_version;
    }
}

/// Prints objects one at a time, as kubectl's watch does: each object in its own document
/// (`---` between YAML documents), table and custom-columns rows aligned with those before
/// and headed once.
struct StreamPrinter {
    format: Option<OutputFormat>,
    kind: &'static KindInfo,
    opts: TableOptions,
    columns: Option<Vec<crate::printers::custom_columns::Column>>,
    no_headers: bool,
    show_managed_fields: bool,
    allow_missing_keys: bool,
    widths: Vec<usize>,
    header_shown: bool,
    printed: usize,
}

impl StreamPrinter {
    fn new(ctx: &Ctx, args: &GetArgs, kind: &'static KindInfo) -> Result<StreamPrinter> {
        use crate::printers::custom_columns::{from_spec, from_template};
        let format = ctx.output();
        let columns = match &format {
            Some(OutputFormat::CustomColumns(spec)) => {
                Some(from_spec(spec).map_err(anyhow::Error::msg)?)
            }
            Some(OutputFormat::CustomColumnsFile(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("error reading template {}, {e}", path.display())
                })?;
                Some(from_template(&text).map_err(anyhow::Error::msg)?)
            }
            _ => None,
        };
        // A columns file always has its header, as kubectl's.
        let no_headers =
            args.no_headers && !matches!(format, Some(OutputFormat::CustomColumnsFile(_)));
        Ok(StreamPrinter {
            format,
            kind,
            opts: table_options(ctx, args, false),
            columns,
            no_headers,
            show_managed_fields: args.show_managed_fields,
            allow_missing_keys: args.allow_missing_template_keys,
            widths: Vec::new(),
            header_shown: false,
            printed: 0,
        })
    }

    fn print(&mut self, objects: &[&Object]) -> Result<String> {
        if objects.is_empty() {
            return Ok(String::new());
        }
        let mut out = String::new();
        let table = match (&self.format, &self.columns) {
            (_, Some(cols)) => {
                let docs: Vec<Value> = objects.iter().map(|o| o.to_json()).collect();
                Some(
                    crate::printers::custom_columns::build(cols, &docs)
                        .map_err(anyhow::Error::msg)?,
                )
            }
            (None | Some(OutputFormat::Wide), None) => {
                let docs: Vec<Value> = objects.iter().map(|o| o.to_json()).collect();
                Some(build_table(self.kind, &docs, &self.opts))
            }
            _ => None,
        };
        if let Some(t) = table {
            let header = !self.header_shown && !self.no_headers;
            self.header_shown = true;
            self.printed += objects.len();
            return Ok(render_with(&t, header, &mut self.widths));
        }
        for obj in objects {
            let text = match &self.format {
                Some(OutputFormat::Yaml) => {
                    let doc = with_newline(to_yaml(&shown(obj, self.show_managed_fields)));
                    if self.printed > 0 {
                        format!("---\n{doc}")
                    } else {
                        doc
                    }
                }
                Some(OutputFormat::Json) => {
                    with_newline(to_json_pretty(&shown(obj, self.show_managed_fields)))
                }
                Some(OutputFormat::Name) => {
                    format!("{}\n", object_name(self.kind, &obj.meta().name))
                }
                Some(template) => render_template_with(
                    template,
                    &proto::manifest::to_document(obj),
                    self.no_headers,
                    self.allow_missing_keys,
                )?
                .unwrap_or_default(),
                None => String::new(),
            };
            self.printed += 1;
            out.push_str(&text);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::find_kind;

    #[test]
    fn managed_fields_are_hidden_unless_asked() {
        let mut doc = serde_json::json!({"kind": "Pod", "metadata": {"name": "p",
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}]}});
        assert!(hide_managed_fields(&mut doc));
        assert_eq!(
            doc,
            serde_json::json!({"kind": "Pod", "metadata": {"name": "p"}})
        );
        assert!(!hide_managed_fields(&mut doc));

        use proto::Resource;
        let pod: Object = proto::k8s::Pod {
            metadata: Some(proto::k8s::ObjectMeta {
                name: "p".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
        .into_object();
        // Nothing to hide: the object itself.
        assert!(matches!(shown(&pod, false), Cow::Borrowed(_)));
        assert!(matches!(shown(&pod, true), Cow::Borrowed(_)));
    }

    #[test]
    fn empty_messages() {
        let pods = find_kind("po").unwrap();
        let nodes = find_kind("no").unwrap();
        let ns = Namespaces::default();
        assert_eq!(
            no_resources_message(&ns, &[pods]),
            "No resources found in default namespace."
        );
        let prod = Namespaces {
            explicit: Some("prod".into()),
            all: false,
            ..Default::default()
        };
        assert_eq!(
            no_resources_message(&prod, &[pods]),
            "No resources found in prod namespace."
        );
        assert_eq!(no_resources_message(&ns, &[nodes]), "No resources found");
        let all = Namespaces {
            explicit: None,
            all: true,
            ..Default::default()
        };
        assert_eq!(no_resources_message(&all, &[pods]), "No resources found");
    }
}
