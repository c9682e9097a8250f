//! Reading Kubernetes-style JSON documents by path: shared with the apiserver's tables.

pub use proto::printers::jv::*;
