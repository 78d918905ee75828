//! The `apiary` binary: see `apiary --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = apiary::cli::args::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apiary: cannot start the async runtime: {e}");
            return ExitCode::from(apiary::cli::EXIT_STATEMENT_FAILED);
        }
    };
    runtime.block_on(apiary::cli::run(args))
}
