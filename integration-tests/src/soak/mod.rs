//! The chaos soak's decisions (`benches/soak.rs` does the I/O): the ledger of acknowledged
//! writes and its verdict, the leak finders over a node's rules, containers and address
//! allocations, the RSS series and its growth flag, and the seeded random source. Pure
//! functions, unit-tested here; the bench binary only gathers what they judge.

pub mod leaks;
pub mod ledger;
pub mod rng;
pub mod rss;
