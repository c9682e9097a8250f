//! kubectl's AGE column (`5s`, `3m20s`, `4h`, `2d`): shared with the apiserver's tables.

pub use proto::printers::age::*;
