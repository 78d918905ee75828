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
    let code = runtime.block_on(apiary::cli::run(args));
    // Work still running now (a query a stopping server cancelled, a blocking read) must not
    // hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}
