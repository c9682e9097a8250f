//! Moved to `client::runtime::expectations`; kept as a path for callers not yet moved.

pub use client::runtime::expectations::*;
