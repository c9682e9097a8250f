//! Warnings for the client, collected while a request is served (Kubernetes'
//! `warning.AddWarning(ctx, ...)`): admission adds them wherever it runs, the gRPC service
//! sends them back as `warning` response metadata, one value per warning, and `ctl` prints
//! them as `Warning: ...` lines the way kubectl prints the HTTP `Warning` header.

use std::cell::RefCell;
use std::future::Future;

use tonic::metadata::{MetadataMap, MetadataValue};

/// The response metadata key; one value per warning.
pub const METADATA_KEY: &str = "warning";

/// Kubernetes truncates each warning to 4 KiB and stops adding after 128 KiB in all.
const MAX_WARNING_BYTES: usize = 4 * 1024;
const MAX_TOTAL_BYTES: usize = 128 * 1024;

tokio::task_local! {
    static WARNINGS: RefCell<Vec<String>>;
}

/// Adds a warning to the request being served; outside a request (bootstrap, tests calling
/// the registry directly) it goes nowhere.
pub fn add(warning: impl Into<String>) {
    let warning = warning.into();
    let _ = WARNINGS.try_with(|w| {
        let mut w = w.borrow_mut();
        // The same warning twice says nothing new.
        if !w.contains(&warning) {
            w.push(warning);
        }
    });
}

/// Runs `f` with a fresh warning list and returns what it produced together with the
/// warnings added meanwhile.
pub async fn collect<F: Future>(f: F) -> (F::Output, Vec<String>) {
    WARNINGS
        .scope(RefCell::new(Vec::new()), async {
            let out = f.await;
            let warnings = WARNINGS.with(|w| w.take());
            (out, warnings)
        })
        .await
}

/// Makes a warning fit an HTTP/2 header value: printable ASCII only, everything else
/// escaped as `\u{..}`, cut to Kubernetes' 4 KiB limit.
pub fn header_safe(warning: &str) -> String {
    let mut out = String::with_capacity(warning.len());
    for c in warning.chars() {
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.push_str(&c.escape_unicode().to_string());
        }
        if out.len() >= MAX_WARNING_BYTES {
            out.truncate(MAX_WARNING_BYTES);
            break;
        }
    }
    out
}

/// Appends the warnings to response metadata, within Kubernetes' total size limit.
pub fn attach(metadata: &mut MetadataMap, warnings: &[String]) {
    let mut total = 0;
    for w in warnings {
        let value = header_safe(w);
        total += value.len();
        if total > MAX_TOTAL_BYTES {
            tracing::debug!("more warnings than fit in one response; the rest are dropped");
            break;
        }
        // header_safe leaves only printable ASCII, which always parses.
        if let Ok(v) = MetadataValue::try_from(value.as_str()) {
            metadata.append(METADATA_KEY, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn warnings_reach_the_collector_once_each_and_only_inside_it() {
        add("outside: dropped");
        let ((), w) = collect(async {
            add("a");
            tokio::task::yield_now().await;
            add("a");
            add("b");
        })
        .await;
        assert_eq!(w, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn header_values_are_printable_ascii() {
        assert_eq!(header_safe("ok \"x\""), "ok \"x\"");
        assert_eq!(header_safe("tab\there é"), "tab\\u{9}here \\u{e9}");
        let long = "x".repeat(10_000);
        assert_eq!(header_safe(&long).len(), 4096);
        let mut md = MetadataMap::new();
        attach(&mut md, &["one".to_string(), "two\n".to_string()]);
        let got: Vec<_> = md
            .get_all(METADATA_KEY)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(got, vec!["one", "two\\u{a}"]);
    }
}
