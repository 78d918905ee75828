//! Apiary's integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod ddl;
mod functions;
mod fuzz_regressions;
mod generators;
mod limits;
mod models;
mod planning;
mod position;
mod readme;
mod security;
mod server;
mod server_hardening;
mod slt;
mod warehouse;

use std::process::{Command, Output};

/// The `apiary` binary, with its REPL history kept out of the user's home and its default
/// warehouse out of the working directory (tests that need their own pass `--warehouse`).
fn apiary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apiary"));
    cmd.env(
        "APIARY_HISTORY",
        std::env::temp_dir().join("apiary-test-history"),
    );
    cmd.env(
        "APIARY_WAREHOUSE",
        std::env::temp_dir().join("apiary-test-warehouse"),
    );
    cmd
}

/// A finished process's standard output, as text.
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished process's standard error, as text.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
