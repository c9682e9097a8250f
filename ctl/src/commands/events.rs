//! `ctl events`: kubectl's `events`. The events of a namespace (or all, `-A`), of one
//! object (`--for pod/web`), of some types (`--types=Warning`), oldest first, a repeated
//! event as one line `2m (x5 over 10m)`; `-w` goes on with the changes as they come.

pub mod lines;

use super::Ctx;
use super::wait::stream::{Change, ListWatch};
use crate::jv::str_at;
use crate::kinds::resolve_kind;
use crate::printers::render_objects;
use crate::printers::table::{Table, render_with};
use anyhow::{Result, bail};
use clap::Args;
use proto::KindInfo;
use proto::k8s::{ListRequest, Object};
use serde_json::Value;
use std::io::Write;
use std::time::SystemTime;

#[derive(Args, Debug, Clone, Default)]
pub struct EventsArgs {
    /// Only the events about this object (`pod/web`, `deployment.apps/web`)
    #[arg(long = "for", value_name = "TYPE/NAME")]
    pub for_object: Option<String>,
    /// Only events of these types (`Warning`, `Normal`; comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub types: Vec<String>,
    /// After listing, watch for more events
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Without the header line
    #[arg(long)]
    pub no_headers: bool,
    /// Accepted for kubectl's sake: lists are read in pages anyway
    #[arg(long, value_name = "N", hide = true)]
    pub chunk_size: Option<i64>,
}

/// `--for TYPE/NAME` into the kind and the name.
pub fn parse_for(s: &str) -> Result<(&'static KindInfo, String)> {
    let Some((kind, name)) = s.split_once('/') else {
        bail!("--for must be in resource/name form");
    };
    if name.contains('/') {
        bail!("arguments in resource/name form may not have more than one slash");
    }
    if name.is_empty() {
        bail!("--for must be in resource/name form");
    }
    Ok((resolve_kind(kind)?, name.to_string()))
}

/// `--types`: Normal or Warning, any case.
pub fn check_types(types: &[String]) -> Result<()> {
    for t in types {
        if !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning") {
            bail!("valid --types are Normal or Warning");
        }
    }
    Ok(())
}

fn type_wanted(types: &[String], e: &Value) -> bool {
    types.is_empty()
        || types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(str_at(e, "/type")))
}

/// The field selector of `--for`: the involved object's kind, apiVersion and name.
pub fn for_selector(kind: &KindInfo, name: &str) -> String {
    format!(
        "involvedObject.kind={},involvedObject.apiVersion={},involvedObject.name={name}",
        kind.kind, kind.api_version
    )
}

/// kubectl's event lines: `[NAMESPACE] LAST SEEN TYPE REASON OBJECT MESSAGE`, the object
/// as `Kind/name`.
pub fn table(events: &[Value], all_namespaces: bool, now: SystemTime) -> Table {
    let mut headers: Vec<String> = Vec::new();
    if all_namespaces {
        headers.push("NAMESPACE".into());
    }
    headers.extend(
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
            .iter()
            .map(|h| h.to_string()),
    );
    let rows = events
        .iter()
        .map(|e| {
            let mut row = Vec::new();
            if all_namespaces {
                row.push(str_at(e, "/metadata/namespace").to_string());
            }
            row.extend([
                lines::interval(e, now),
                str_at(e, "/type").to_string(),
                str_at(e, "/reason").to_string(),
                format!(
                    "{}/{}",
                    str_at(e, "/involvedObject/kind"),
                    str_at(e, "/involvedObject/name")
                ),
                str_at(e, "/message").trim().to_string(),
            ]);
            row
        })
        .collect();
    Table { headers, rows }
}

/// The events the command line selects, oldest first, and the watch that continues from
/// their list.
async fn listed<'a>(
    ctx: &'a Ctx,
    args: &EventsArgs,
) -> Result<(ListWatch<'a>, Vec<(Object, Value)>)> {
    check_types(&args.types)?;
    let field_selector = match &args.for_object {
        Some(f) => {
            let (kind, name) = parse_for(f)?;
            for_selector(kind, &name)
        }
        None => String::new(),
    };
    let api = ctx.api().await?;
    let list = ListRequest {
        resource: "events".into(),
        namespace: namespace(ctx),
        field_selector,
        ..Default::default()
    };
    let (watch, resp) = ListWatch::start(api, list).await?;
    let mut shown: Vec<(Object, Value)> = resp
        .items
        .into_iter()
        .map(|o| {
            let v = o.to_json();
            (o, v)
        })
        .filter(|(_, v)| type_wanted(&args.types, v))
        .collect();
    shown.sort_by_key(|(_, v)| lines::sort_time(v).unwrap_or(SystemTime::UNIX_EPOCH));
    Ok((watch, shown))
}

fn namespace(ctx: &Ctx) -> String {
    if ctx.ns.all {
        String::new()
    } else {
        ctx.ns.effective().to_string()
    }
}

pub async fn events(ctx: &Ctx, args: &EventsArgs) -> Result<()> {
    let (mut watch, shown) = listed(ctx, args).await?;
    let namespace = namespace(ctx);

    let mut out = Printer {
        args,
        all_namespaces: ctx.ns.all,
        output: ctx.output(),
        widths: Vec::new(),
        header_shown: false,
    };
    if shown.is_empty() && !args.watch {
        if ctx.ns.all {
            eprintln!("No events found.");
        } else {
            eprintln!("No events found in {namespace} namespace.");
        }
        return Ok(());
    }
    let (objects, values): (Vec<Object>, Vec<Value>) = shown.into_iter().unzip();
    if !objects.is_empty() {
        out.print(&objects, &values)?;
    }
    if !args.watch {
        return Ok(());
    }
    loop {
        match watch.next().await? {
            // Events expire after an hour; their deletion is not news.
            Change::Event(kind, _) if kind == "DELETED" => {}
            Change::Event(_, o) => {
                let v = o.to_json();
                if type_wanted(&args.types, &v) {
                    out.print(&[*o], &[v])?;
                }
            }
            Change::Relisted(_) => {}
        }
    }
}

/// Prints lines as they come, aligned with those before.
struct Printer<'a> {
    args: &'a EventsArgs,
    all_namespaces: bool,
    output: Option<crate::args::OutputFormat>,
    widths: Vec<usize>,
    header_shown: bool,
}

impl Printer<'_> {
    fn print(&mut self, objects: &[Object], values: &[Value]) -> Result<()> {
        if let Some(format) = &self.output
            && let Some(text) = render_objects(format, objects)?
        {
            print!("{text}");
        } else {
            let t = table(values, self.all_namespaces, SystemTime::now());
            let header = !self.header_shown && !self.args.no_headers;
            print!("{}", render_with(&t, header, &mut self.widths));
            self.header_shown = true;
        }
        let _ = std::io::stdout().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn for_and_types_are_checked_as_kubectl_does() {
        let (k, n) = parse_for("po/web").unwrap();
        assert_eq!((k.kind, n.as_str()), ("Pod", "web"));
        assert_eq!(
            for_selector(parse_for("deployment.apps/web").unwrap().0, "web"),
            "involvedObject.kind=Deployment,involvedObject.apiVersion=apps/v1,involvedObject.name=web"
        );
        let e = |s: &str| parse_for(s).unwrap_err().to_string();
        assert_eq!(e("web"), "--for must be in resource/name form");
        assert_eq!(
            e("pod/a/b"),
            "arguments in resource/name form may not have more than one slash"
        );
        assert!(e("nope/x").contains("doesn't have a resource type \"nope\""));
        assert!(check_types(&["warning".into(), "Normal".into()]).is_ok());
        assert_eq!(
            check_types(&["Error".into()]).unwrap_err().to_string(),
            "valid --types are Normal or Warning"
        );
        let w = json!({"type": "Warning"});
        assert!(type_wanted(&[], &w));
        assert!(type_wanted(&["WARNING".into()], &w));
        assert!(!type_wanted(&["Normal".into()], &w));
    }

    #[test]
    fn lines_as_kubectl_events_prints_them() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ago = |s: u64| proto::time::format_rfc3339(now - Duration::from_secs(s));
        let events = vec![
            json!({"metadata": {"namespace": "shop"}, "type": "Warning", "reason": "BackOff",
                "message": "Back-off restarting failed container\n", "count": 5,
                "firstTimestamp": ago(600), "lastTimestamp": ago(120),
                "involvedObject": {"kind": "Pod", "name": "web-1"}}),
            json!({"metadata": {"namespace": "shop"}, "type": "Normal", "reason": "Pulled",
                "message": "pulled", "count": 1, "firstTimestamp": ago(30), "lastTimestamp": ago(30),
                "involvedObject": {"kind": "Pod", "name": "web-1"}}),
        ];
        let text = crate::printers::table::render(&table(&events, false, now), true);
        let want = [
            "LAST SEEN          TYPE      REASON    OBJECT      MESSAGE",
            "2m (x5 over 10m)   Warning   BackOff   Pod/web-1   Back-off restarting failed container",
            "30s                Normal    Pulled    Pod/web-1   pulled",
        ];
        assert_eq!(text, want.map(|l| format!("{l}\n")).concat());
        let all = crate::printers::table::render(&table(&events[1..], true, now), false);
        assert_eq!(all, "shop   30s   Normal   Pulled   Pod/web-1   pulled\n");
    }

    #[tokio::test]
    async fn lists_for_an_object_and_types_oldest_first() {
        let server = apiserver::testing::TestServer::start().await;
        let ctx = Ctx::for_test(&server.url, None);
        let api = ctx.api().await.unwrap();
        let now = std::time::SystemTime::now();
        let ago = |s: u64| proto::time::format_rfc3339(now - Duration::from_secs(s));
        for (name, object, kind, last) in [
            ("e1", "web", "Warning", 10),
            ("e2", "web", "Normal", 300),
            ("e3", "db", "Warning", 5),
            ("e4", "web", "Warning", 60),
        ] {
            let doc = json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Pod", "apiVersion": "v1", "name": object, "namespace": "default"},
                "type": kind, "reason": "R", "message": "m", "count": 1,
                "firstTimestamp": ago(last), "lastTimestamp": ago(last)});
            let obj =
                proto::k8s::Object::from_json_as(proto::resource::find_kind("ev").unwrap(), doc)
                    .unwrap();
            api.create(obj).await.unwrap();
        }
        let names = |shown: &[(Object, Value)]| -> Vec<String> {
            shown.iter().map(|(o, _)| o.meta().name.clone()).collect()
        };
        let (_, all) = listed(&ctx, &EventsArgs::default()).await.unwrap();
        assert_eq!(names(&all), ["e2", "e4", "e1", "e3"]);
        let args = EventsArgs {
            for_object: Some("pod/web".into()),
            types: vec!["warning".into()],
            ..Default::default()
        };
        let (_, web) = listed(&ctx, &args).await.unwrap();
        assert_eq!(names(&web), ["e4", "e1"]);
        // Another namespace has none.
        let other = Ctx::for_test(&server.url, Some("other"));
        let (_, none) = listed(&other, &EventsArgs::default()).await.unwrap();
        assert!(none.is_empty());
    }
}
