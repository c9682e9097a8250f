//! The kubelet's connection to the apiserver: plaintext (development), a kubeconfig, or a
//! join by bootstrap token with the CA pinned by hash, ending with a client certificate of
//! its own (`system:node:<name>`) that is rotated before it expires.

pub mod files;
pub mod source;
