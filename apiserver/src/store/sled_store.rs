//! sled implementation of `Store` (being written).
