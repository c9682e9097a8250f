//! Warnings the apiserver sends with a successful response (Kubernetes' `Warning: 299`
//! headers; here `warning` gRPC metadata, one value per warning). client-go hands them to a
//! `WarningHandler`; so does `Client`: daemons log them, `ctl` prints them as kubectl does.

use std::sync::Arc;

use tonic::metadata::MetadataMap;

/// The response metadata key the apiserver uses.
pub const METADATA_KEY: &str = "warning";

/// What a `Client` does with each warning. Cheap to clone.
#[derive(Clone)]
pub struct WarningHandler(Arc<dyn Fn(&str) + Send + Sync>);

impl WarningHandler {
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> WarningHandler {
        WarningHandler(Arc::new(f))
    }

    pub fn handle(&self, warning: &str) {
        (self.0)(warning)
    }
}

impl Default for WarningHandler {
    /// client-go's default: log them.
    fn default() -> Self {
        WarningHandler::new(|w| tracing::warn!(warning = %w, "the apiserver warned"))
    }
}

impl std::fmt::Debug for WarningHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WarningHandler")
    }
}

/// The warnings carried by response metadata, in order.
pub fn from_metadata(metadata: &MetadataMap) -> Vec<String> {
    metadata
        .get_all(METADATA_KEY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_warning_value_reaches_the_handler_in_order() {
        let mut md = MetadataMap::new();
        md.append(METADATA_KEY, "first".parse().unwrap());
        md.append(METADATA_KEY, "second".parse().unwrap());
        md.append("other", "x".parse().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let h = WarningHandler::new(move |w| s.lock().unwrap().push(w.to_string()));
        for w in from_metadata(&md) {
            h.handle(&w);
        }
        assert_eq!(*seen.lock().unwrap(), vec!["first", "second"]);
    }
}
