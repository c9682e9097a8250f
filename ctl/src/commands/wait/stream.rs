//! A list, then a watch from the list's resourceVersion (client-go's ListWatch, without the
//! cache): `wait` and `events -w` read changes through it. The stream is opened again from
//! the last version seen when the server ends it; an expired version lists again and hands
//! the new list to the caller, who compares it with what it knew.

use crate::api::{Api, convert, reason_of};
use anyhow::Result;
use futures::StreamExt;
use proto::Reason;
use proto::k8s::{ListRequest, ListResponse, Object, WatchEvent, WatchRequest};
use std::time::Duration;

/// What the watch brought.
pub enum Change {
    /// ADDED, MODIFIED or DELETED, with the object.
    Event(String, Box<Object>),
    /// The version expired: the current list, from which the watch continues.
    Relisted(Vec<Object>),
}

pub struct ListWatch<'a> {
    api: &'a Api,
    list: ListRequest,
    resource_version: String,
    stream: Option<tonic::Streaming<WatchEvent>>,
}

impl<'a> ListWatch<'a> {
    /// Lists what `list` selects; the watch continues from that list.
    pub async fn start(api: &'a Api, list: ListRequest) -> Result<(ListWatch<'a>, ListResponse)> {
        let resp = api.list(list.clone()).await?;
        let lw = ListWatch {
            api,
            list,
            resource_version: resp.resource_version.clone(),
            stream: None,
        };
        Ok((lw, resp))
    }

    /// The next change (waits for it; the caller bounds the wait).
    pub async fn next(&mut self) -> Result<Change> {
        loop {
            let stream = match &mut self.stream {
                Some(s) => s,
                None => {
                    let req = WatchRequest {
                        resource: self.list.resource.clone(),
                        namespace: self.list.namespace.clone(),
                        label_selector: self.list.label_selector.clone(),
                        field_selector: self.list.field_selector.clone(),
                        resource_version: self.resource_version.clone(),
                        allow_watch_bookmarks: true,
                    };
                    self.stream.insert(self.api.watch(req).await?)
                }
            };
            match stream.next().await {
                Some(Ok(ev)) => {
                    if !ev.resource_version.is_empty() {
                        self.resource_version = ev.resource_version.clone();
                    } else if let Some(o) = &ev.object
                        && !o.meta().resource_version.is_empty()
                    {
                        self.resource_version = o.meta().resource_version.clone();
                    }
                    if ev.r#type == "BOOKMARK" {
                        continue;
                    }
                    if let Some(o) = ev.object {
                        return Ok(Change::Event(ev.r#type, Box::new(o)));
                    }
                }
                Some(Err(status)) => {
                    self.stream = None;
                    let e = convert(self.api.server(), proto::ApiError::from_status(&status));
                    if reason_of(&e) != Some(Reason::Expired) {
                        return Err(e);
                    }
                    let resp = self.api.list(self.list.clone()).await?;
                    self.resource_version = resp.resource_version;
                    return Ok(Change::Relisted(resp.items));
                }
                None => {
                    // The server ended the stream (a restart, a slow-watcher cut): go on
                    // from the last version seen, as client-go's reflector does.
                    self.stream = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}
