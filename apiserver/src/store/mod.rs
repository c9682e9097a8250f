//! Storage behind the API: the shape of Kubernetes' storage.Interface over plain keys and
//! bytes. The apiserver encodes objects; a `Store` only orders, guards and remembers writes.
//!
//! Contract every implementation honours (checked by `conformance`):
//! - Every successful write gets the next global revision (1, 2, 3, ... with no gaps) and
//!   is durable on disk before its call returns.
//! - `update` and `delete` with an expected revision fail with `Conflict` unless the key's
//!   current `mod_revision` equals it; nothing is overwritten blindly.
//! - `list` returns exactly the state at the revision it reports.
//! - `watch(prefix, from)` delivers every event with revision > `from` under `prefix`, in
//!   revision order, with no gaps and no duplicates, first from the retained history, then
//!   live; `from` older than the retained history fails with `Expired`. Events are
//!   delivered only once durable. A watcher that falls too far behind is ended with
//!   `Error::Expired`/`Error::TooSlow` in its stream rather than stalling writers.

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;

pub mod compact;
pub mod encrypted;
pub mod sled_store;

#[cfg(test)]
pub mod conformance;

pub type Revision = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created the key (for the current incarnation).
    pub create_revision: Revision,
    /// Revision of the key's last write: what `resourceVersion` reports.
    pub mod_revision: Revision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub revision: Revision,
    pub kind: EventType,
    pub key: String,
    /// The new value; for `Deleted`, the value just before deletion.
    pub value: Bytes,
    /// The value before this write; `None` for `Created`.
    pub prev_value: Option<Bytes>,
    /// The trace context of the request that wrote it (the span current when the write
    /// was submitted), when the apiserver exports traces; watch events carry it on. Not
    /// stored: an event replayed from disk has none.
    pub trace_parent: Option<telemetry::trace::TraceParent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    pub items: Vec<KeyValue>,
    /// The revision the items reflect.
    pub revision: Revision,
    /// True when `limit` cut the list short.
    pub more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("key {0} already exists")]
    AlreadyExists(String),
    #[error("key {0} not found")]
    NotFound(String),
    #[error("key {key} was modified: expected revision {expected}, current {current}")]
    Conflict {
        key: String,
        expected: Revision,
        current: Revision,
    },
    #[error("revision {requested} is compacted: oldest retained is {oldest}")]
    Expired {
        requested: Revision,
        oldest: Revision,
    },
    #[error("watcher fell too far behind and was cut off")]
    TooSlow,
    #[error("store is closed")]
    Closed,
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// A live watch: events in revision order; ends with an `Err` when cut off.
pub type WatchStream = Pin<Box<dyn futures::Stream<Item = Result<Event>> + Send>>;

pub trait Store: Send + Sync + 'static {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<KeyValue>>> + Send;

    /// Keys under `prefix` in key order, starting strictly after `start_after` when given,
    /// at most `limit` items when `limit > 0`.
    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<ListResult>> + Send;

    /// Fails with `AlreadyExists` when the key is present.
    fn create(&self, key: &str, value: Bytes) -> impl Future<Output = Result<Revision>> + Send;

    /// Fails with `NotFound` when absent, `Conflict` when `expected` is not current.
    fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> impl Future<Output = Result<Revision>> + Send;

    /// Deletes when `expected` is `None` or current; returns the deletion's revision and the
    /// value deleted.
    fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> impl Future<Output = Result<(Revision, KeyValue)>> + Send;

    /// Every event under `prefix` after revision `from`.
    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream>;

    /// The revision of the last durable write. Advances only after that write's event has
    /// been handed to every live watch, so a watcher that has taken everything its stream
    /// holds has seen every event up to this revision.
    fn current_revision(&self) -> Revision;

    /// The oldest revision a watch may start from (`from >= oldest_revision() - 1`).
    fn oldest_revision(&self) -> Revision;

    /// Makes every acknowledged write durable and stops accepting new ones.
    fn close(&self) -> impl Future<Output = Result<()>> + Send;

    /// True when the value of `key` at `revision` is stored in a form that an update should
    /// rewrite even if the object is unchanged: encrypted with a key that is no longer the
    /// write key, or not encrypted where it should be (Kubernetes' transformer "stale").
    fn needs_rewrite(
        &self,
        _key: &str,
        _revision: Revision,
    ) -> impl Future<Output = Result<bool>> + Send {
        async { Ok(false) }
    }
}
