//! Loading Kubernetes-style manifests (YAML or JSON, multi-document) into `Object`s.
