//! The apiserver: one generic gRPC service over every kind, validation and defaulting,
//! storage behind the `Store` trait (sled embedded), watch fan-out, subresources.

pub mod store;
