//! The controller-manager's side of `client::runtime`: controllers run on
//! `client::runtime::Controller` (handlers only enqueue keys, N workers, one key at a time,
//! per-key back-off, sync wait raced with cancellation, handlers removed on stop); this
//! module only says how this crate's `Error` behaves there. The worker loop and its test
//! live in client/src/runtime/controller.rs.

use crate::error::Error;

pub use client::runtime::Action;

impl client::runtime::ReconcileError for Error {
    /// Conflicts are routine (a stale cache): logged quietly.
    fn is_routine(&self) -> bool {
        self.is_conflict()
    }
}
