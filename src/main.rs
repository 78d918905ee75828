//! The `apiary` binary: see `apiary --help`.

use std::process::ExitCode;

use apiary::exec::STATEMENT_STACK_SIZE;
use clap::Parser;

fn main() -> ExitCode {
    let args = apiary::cli::args::Args::parse();
    // Statements parse, plan and run on the runtime's threads and on the thread that drives
    // the command: every one of them gets the statement stack (the main thread's 8 MiB and
    // tokio's 2 MiB are too small for deep statements; see STATEMENT_STACK_SIZE).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STATEMENT_STACK_SIZE)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apiary: cannot start the async runtime: {e}");
            return ExitCode::from(apiary::cli::EXIT_STATEMENT_FAILED);
        }
    };
    let handle = runtime.handle().clone();
    let driver = std::thread::Builder::new()
        .name("apiary-main".into())
        .stack_size(STATEMENT_STACK_SIZE)
        .spawn(move || handle.block_on(apiary::cli::run(args)));
    let code = match driver.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            // The panic hook already printed the panic.
            eprintln!("apiary: internal error");
            ExitCode::from(apiary::cli::EXIT_STATEMENT_FAILED)
        }
        Err(e) => {
            eprintln!("apiary: cannot start the main thread: {e}");
            ExitCode::from(apiary::cli::EXIT_STATEMENT_FAILED)
        }
    };
    // Work still running now (a query a stopping server cancelled, a blocking read) must not
    // hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}
