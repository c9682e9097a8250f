//! The controller runtime (kube-rs' `kube-runtime`, client-go's controller pattern): what
//! every controller needs and none should write again.
//!
//! - `Controller`: event handlers that only enqueue keys, a wait for the caches raced with
//!   cancellation, N workers over one `WorkQueue` (one key at a time, per-key exponential
//!   back-off), every handler taken off the shared informers when it stops.
//! - `Expectations`: a controller's own creates and deletes, awaited in the cache before it
//!   acts for the same owner again.
//! - `owner`: controllerRef resolution through an informer's cache, uid-checked.
//! - `status`: write the status subresource only when it differs.
//! - `observe`: finished reconciles counted per key, for tests that assert nothing happened.
//!
//! See docs/controller-manager.md, "How to write a controller".

pub mod controller;
pub mod expectations;
pub mod observe;
pub mod owner;
pub mod status;

pub use controller::{Action, Controller, NoObject, ReconcileError, Request, backoff};
pub use expectations::{EXPECTATIONS_TIMEOUT, Expectations};
pub use observe::ReconcileObserver;
pub use owner::{controller_ref, resolve_controller_ref};
pub use status::{HasStatus, OnConflict, update_status_if_changed, write_status};
