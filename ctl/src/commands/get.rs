//! `get`: tables, documents or names; `-w` streams changes after the first listing.

use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::{GetArgs, OutputFormat};
use crate::kinds::{Namespaces, Selection, object_name, parse_selection};
use crate::printers::table::{Table, TableOptions, build_table, render_with};
use crate::printers::{json, list_document, yaml};
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
    let mut failures = 0;
    let found = fetch(ctx, &selection, &mut failures).await?;
    let several = selection.several_kinds();
    let single_named = matches!(&selection, Selection::Named(p) if p.len() == 1);
    let total: usize = found.iter().map(|f| f.objects.len()).sum();

    match ctx.output() {
        Some(OutputFormat::Yaml | OutputFormat::Json) => {
            if single_named && total == 1 {
                let obj = shown(&found[0].objects[0], args.show_managed_fields);
                let obj = obj.as_ref();
                let text = if ctx.output() == Some(OutputFormat::Yaml) {
                    to_yaml(obj)
                } else {
                    to_json_pretty(obj)
                };
                print!("{}", with_newline(text));
            } else if !(single_named && failures > 0) {
                let items: Vec<Value> = found
                    .iter()
                    .flat_map(|f| f.objects.iter().map(proto::manifest::to_document))
                    .map(|mut doc| {
                        if !args.show_managed_fields {
                            hide_managed_fields(&mut doc);
                        }
                        doc
                    })
                    .collect();
                let doc = list_document(items);
                let text = if ctx.output() == Some(OutputFormat::Yaml) {
                    yaml(&doc)?
                } else {
                    json(&doc)?
                };
                print!("{text}");
            }
        }
        Some(OutputFormat::Name) => {
            for f in &found {
                for o in &f.objects {
                    println!("{}", object_name(f.kind, &o.meta().name));
                }
            }
        }
        _ => {
            let opts = table_options(ctx, args, several);
            let mut first = true;
            for f in found.iter().filter(|f| !f.objects.is_empty()) {
                if !first {
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
        }
    }
    if total == 0 && failures == 0 && !args.watch && matches!(selection, Selection::All(_)) {
        eprintln!(
            "{}",
            no_resources_message(&ctx.ns, &found.iter().map(|f| f.kind).collect::<Vec<_>>())
        );
    }
    if args.watch && failures == 0 {
        return watch(ctx, args, &selection, found).await;
    }
    finish(failures)
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
    let mut widths = Vec::new();
    let mut header_shown = found.iter().any(|f| !f.objects.is_empty());
    if header_shown {
        // Align event rows with the table already printed.
        let opts = table_options(ctx, args, false);
        let values: Vec<Value> = found
            .iter()
            .flat_map(|f| f.objects.iter().map(proto::manifest::to_document))
            .collect();
        render_with(&build_table(kind, &values, &opts), true, &mut widths);
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
            match ctx.output() {
                Some(OutputFormat::Yaml) => print!(
                    "---\n{}",
                    with_newline(to_yaml(&shown(&obj, args.show_managed_fields)))
                ),
                Some(OutputFormat::Json) => print!(
                    "{}",
                    with_newline(to_json_pretty(&shown(&obj, args.show_managed_fields)))
                ),
                Some(OutputFormat::Name) => println!("{}", object_name(kind, &obj.meta().name)),
                _ => {
                    let opts = table_options(ctx, args, false);
                    let table: Table = build_table(kind, &[obj.to_json()], &opts);
                    print!(
                        "{}",
                        render_with(&table, !header_shown && !args.no_headers, &mut widths)
                    );
                    header_shown = true;
                }
            }
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
