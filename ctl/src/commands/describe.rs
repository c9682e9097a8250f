//! `describe`: the object, its events (listed by field selector), and for services their
//! endpoints.

use super::{Ctx, finish, report};
use crate::api::reason_of;
use crate::args::DescribeArgs;
use crate::describe::{Related, describe as render, events_selector};
use crate::kinds::{Selection, parse_selection};
use anyhow::Result;
use proto::KindInfo;
use proto::k8s::ListRequest;
use std::time::SystemTime;

pub async fn describe(ctx: &Ctx, args: &DescribeArgs) -> Result<()> {
    let api = ctx.api().await?;
    let mut failures = 0;
    let objects: Vec<(&'static KindInfo, proto::k8s::Object)> = match parse_selection(&args.args)? {
        Selection::Named(pairs) => {
            let mut out = Vec::new();
            for (kind, name) in pairs {
                match api.get(kind.plural, &ctx.ns.for_object(kind), &name).await {
                    Ok(o) => out.push((kind, o)),
                    Err(e) if reason_of(&e).is_some() => report(&mut failures, &e),
                    Err(e) => return Err(e),
                }
            }
            out
        }
        Selection::All(kinds) => {
            let mut out = Vec::new();
            for kind in kinds {
                let resp = api.list(ctx.list_request(kind)).await?;
                out.extend(resp.items.into_iter().map(|o| (kind, o)));
            }
            out
        }
    };
    let mut first = true;
    for (kind, obj) in objects {
        let meta = obj.meta();
        let events = api
            .list(ListRequest {
                resource: "events".into(),
                namespace: if kind.namespaced {
                    meta.namespace.clone()
                } else {
                    String::new()
                },
                field_selector: events_selector(kind, &meta.name, &meta.namespace),
                ..Default::default()
            })
            .await
            .map(|r| r.items.iter().map(|e| e.to_json()).collect())
            .map_err(|e| crate::errors::render_error(&e));
        let endpoints = if kind.kind == "Service" {
            api.get("endpoints", &meta.namespace, &meta.name)
                .await
                .ok()
                .map(|e| e.to_json())
        } else {
            None
        };
        let owned = owned(ctx, kind, &obj).await;
        if !first {
            println!("\n");
        }
        first = false;
        print!(
            "{}",
            render(
                kind,
                &obj.to_json(),
                &Related {
                    events,
                    endpoints,
                    owned
                },
                SystemTime::now()
            )
        );
    }
    finish(failures)
}

/// What `obj` controls (by owner uid): a deployment's replicasets, a workload's pods.
/// Best effort: a failure to list shows as nothing owned.
async fn owned(ctx: &Ctx, kind: &KindInfo, obj: &proto::k8s::Object) -> Vec<serde_json::Value> {
    let resource = match kind.kind {
        "Deployment" => "replicasets",
        "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => "pods",
        _ => return Vec::new(),
    };
    let Ok(api) = ctx.api().await else {
        return Vec::new();
    };
    let uid = &obj.meta().uid;
    let req = ListRequest {
        resource: resource.into(),
        namespace: obj.meta().namespace.clone(),
        ..Default::default()
    };
    match api.list(req).await {
        Ok(resp) => resp
            .items
            .into_iter()
            .filter(|o| o.meta().owner_references.iter().any(|r| &r.uid == uid))
            .map(|o| o.to_json())
            .collect(),
        Err(_) => Vec::new(),
    }
}
