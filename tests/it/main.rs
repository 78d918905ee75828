//! Apiary's integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod ddl;
mod generators;
mod planning;
mod slt;
