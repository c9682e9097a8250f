//! Encryption at rest between the codec and the store (Kubernetes' value.Transformer): values
//! of the configured resources are encrypted on their way into the inner store and
//! decrypted on their way out (reads, deletes, watch events and their previous values), so
//! the inner store, its event history and its files only ever hold ciphertext for them.
//! Keys are left as they are: the storage key is the authenticated data of `aesgcm`.

use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use tracing::{info, warn};

use super::{Error, Event, KeyValue, ListResult, Result, Revision, Store, WatchStream};
use crate::encryption::{self, Encryption};

pub struct EncryptedStore<S> {
    inner: S,
    encryption: Arc<Encryption>,
}

impl<S: Store> EncryptedStore<S> {
    pub fn new(inner: S, encryption: Encryption) -> Self {
        EncryptedStore {
            inner,
            encryption: Arc::new(encryption),
        }
    }

    /// The store beneath, holding what is really written (ciphertext for encrypted keys).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn encryption(&self) -> &Encryption {
        &self.encryption
    }

    fn seal(&self, key: &str, value: Bytes) -> Result<Bytes> {
        match self.encryption.for_key(key) {
            None => Ok(value),
            Some(t) => t
                .to_storage(key, &value)
                .map(Bytes::from)
                .map_err(|e| transform_error(key, e)),
        }
    }
}

fn open(encryption: &Encryption, key: &str, value: Bytes) -> Result<Bytes> {
    match encryption.for_key(key) {
        None => Ok(value),
        Some(t) => t
            .from_storage(key, &value)
            .map(|p| Bytes::from(p.value))
            .map_err(|e| transform_error(key, e)),
    }
}

/// Kubernetes' wording: `unable to transform key "/registry/secrets/ns/name": ...`.
fn transform_error(key: &str, e: encryption::Error) -> Error {
    Error::Backend(format!("unable to transform key {key:?}: {e}"))
}

fn open_kv(encryption: &Encryption, mut kv: KeyValue) -> Result<KeyValue> {
    kv.value = open(encryption, &kv.key, kv.value)?;
    Ok(kv)
}

/// A watch event decrypted; an event that no configured key can read any more (its key
/// was dropped after a rewrite, while the event is still in the store's history) ends the
/// watch as Expired, so the client relists instead of retrying the same event for ever.
fn open_event(encryption: &Encryption, mut ev: Event) -> Result<Event> {
    let revision = ev.revision;
    let key = ev.key.clone();
    let expired = |e: Error| {
        warn!(key = %key, revision, error = %e, "watch event cannot be decrypted; ending the watch as expired");
        Error::Expired {
            requested: revision,
            oldest: revision + 1,
        }
    };
    ev.value = open(encryption, &ev.key, ev.value).map_err(expired)?;
    if let Some(prev) = ev.prev_value.take() {
        ev.prev_value = Some(open(encryption, &ev.key, prev).map_err(expired)?);
    }
    Ok(ev)
}

impl<S: Store> Store for EncryptedStore<S> {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        match self.inner.get(key).await? {
            Some(kv) => Ok(Some(open_kv(&self.encryption, kv)?)),
            None => Ok(None),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        let mut res = self.inner.list(prefix, start_after, limit).await?;
        if !self.encryption.is_empty() {
            res.items = res
                .items
                .into_iter()
                .map(|kv| open_kv(&self.encryption, kv))
                .collect::<Result<_>>()?;
        }
        Ok(res)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        let value = self.seal(key, value)?;
        self.inner.create(key, value).await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        let value = self.seal(key, value)?;
        self.inner.update(key, value, expected).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let (rev, kv) = self.inner.delete(key, expected).await?;
        Ok((rev, open_kv(&self.encryption, kv)?))
    }

    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream> {
        let stream = self.inner.watch(prefix, from)?;
        if self.encryption.is_empty() {
            return Ok(stream);
        }
        let encryption = self.encryption.clone();
        Ok(Box::pin(stream.map(move |item| {
            item.and_then(|ev| open_event(&encryption, ev))
        })))
    }

    fn current_revision(&self) -> Revision {
        self.inner.current_revision()
    }

    fn oldest_revision(&self) -> Revision {
        self.inner.oldest_revision()
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }

    async fn needs_rewrite(&self, key: &str, revision: Revision) -> Result<bool> {
        let Some(t) = self.encryption.for_key(key) else {
            return Ok(false);
        };
        Ok(match self.inner.get(key).await? {
            Some(kv) => kv.mod_revision == revision && t.is_stale(&kv.value),
            None => false,
        })
    }
}

/// What `rewrite_stale` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RewriteReport {
    /// Objects of the configured resources looked at.
    pub checked: usize,
    /// Of those, rewritten with the current write key.
    pub rewritten: usize,
}

/// Objects listed per page while rewriting.
const REWRITE_PAGE: usize = 500;

/// Rewrites every object of the configured resources that is not stored with the current
/// write key (plain text, or an older key), unchanged but for that; a rewrite is an
/// ordinary update, with a new resourceVersion and a MODIFIED watch event, like
/// `kubectl replace` in Kubernetes' rotation procedure. Objects already current are left
/// alone, so running it again costs only a read of each.
pub async fn rewrite_stale<S: Store>(store: &EncryptedStore<S>) -> Result<RewriteReport> {
    let mut report = RewriteReport::default();
    for plural in store.encryption().resources() {
        let before = report.clone();
        let prefix = format!("/registry/{plural}/");
        let mut after: Option<String> = None;
        loop {
            let page = store
                .inner()
                .list(&prefix, after.as_deref(), REWRITE_PAGE)
                .await?;
            for kv in &page.items {
                report.checked += 1;
                let Some(t) = store.encryption().for_key(&kv.key) else {
                    continue;
                };
                if !t.is_stale(&kv.value) {
                    continue;
                }
                let plain = t
                    .from_storage(&kv.key, &kv.value)
                    .map_err(|e| transform_error(&kv.key, e))?;
                match store
                    .update(&kv.key, Bytes::from(plain.value), kv.mod_revision)
                    .await
                {
                    Ok(_) => report.rewritten += 1,
                    // Written or deleted meanwhile: any write since used the current key.
                    Err(Error::Conflict { .. } | Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.items.last() {
                Some(last) if page.more => after = Some(last.key.clone()),
                _ => break,
            }
        }
        if report.checked > before.checked {
            info!(
                resource = plural,
                checked = report.checked - before.checked,
                rewritten = report.rewritten - before.rewritten,
                "rewrote what was not stored with the current write key"
            );
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{Limits, store_conformance};
    use crate::store::sled_store::{SledOptions, SledStore};
    use tempfile::TempDir;

    /// Every kind encrypted (the conformance suite writes pods), with aesgcm.
    fn everything() -> Encryption {
        let config = crate::encryption::parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: ['*.*']\n    providers:\n      - aesgcm:\n          keys:\n            - name: k\n              secret: MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=\n",
        )
        .unwrap();
        Encryption::resolve(&config, proto::resource::ALL_KINDS)
    }

    fn make(limits: Limits) -> (EncryptedStore<SledStore>, TempDir) {
        let dir = tempfile::Builder::new()
            .prefix("encrypted-store-test-")
            .tempdir()
            .unwrap();
        let options = SledOptions {
            cache_capacity_bytes: 8 << 20,
            history_limit: limits.history_limit,
            watch_buffer: limits.watch_buffer,
        };
        let inner = SledStore::open(dir.path(), options).unwrap();
        (EncryptedStore::new(inner, everything()), dir)
    }

    // The wrapper keeps every promise of the store it wraps.
    store_conformance!(make);

    #[tokio::test]
    async fn the_inner_store_and_its_history_hold_ciphertext_only() {
        let (s, _dir) = make(Limits {
            history_limit: 100,
            watch_buffer: 100,
        });
        let key = "/registry/pods/default/a";
        s.create(key, Bytes::from_static(b"first-plain"))
            .await
            .unwrap();
        let rev = s.current_revision();
        s.update(key, Bytes::from_static(b"second-plain"), rev)
            .await
            .unwrap();
        let raw = s.inner().get(key).await.unwrap().unwrap();
        assert!(raw.value.starts_with(b"k8s:enc:aesgcm:v1:k:"));
        let mut raw_events = s.inner().watch("/registry/", 0).unwrap();
        let mut events = s.watch("/registry/", 0).unwrap();
        for want in [&b"first-plain"[..], b"second-plain"] {
            let raw = raw_events.next().await.unwrap().unwrap();
            assert!(raw.value.starts_with(b"k8s:enc:"));
            assert!(raw.prev_value.iter().all(|p| p.starts_with(b"k8s:enc:")));
            let ev = events.next().await.unwrap().unwrap();
            assert_eq!(&ev.value[..], want);
        }
        assert_eq!(
            s.get(key).await.unwrap().unwrap().value,
            &b"second-plain"[..]
        );
        // Keys of no configured resource pass as they are.
        s.create("/other/x", Bytes::from_static(b"plain"))
            .await
            .unwrap();
        assert_eq!(
            s.inner().get("/other/x").await.unwrap().unwrap().value,
            &b"plain"[..]
        );
    }
}
