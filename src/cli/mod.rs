//! The `apiary` command: arguments, the REPL, scripts, result printing, benchmarks.

pub mod args;
pub mod bench;
pub mod print;
pub mod repl;
pub mod runner;

use std::process::ExitCode;
use std::sync::Arc;

use datafusion::prelude::SessionConfig;

use crate::cli::args::{ApiaryCommand, Args, Config, Mode};
use crate::cli::runner::{RunError, Runner};
use crate::error::Result;
use crate::security::{Confinement, FileAccess};
use crate::session::{ApiaryContext, SessionOptions};
use crate::warehouse::Warehouse;

/// Exit code of a run whose statements all succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit code of a run in which a statement failed.
pub const EXIT_STATEMENT_FAILED: u8 = 1;
/// Exit code of a usage error (bad flags).
pub const EXIT_USAGE: u8 = 2;

/// Runs `apiary` with parsed arguments; returns the process exit code.
pub async fn run(args: Args) -> ExitCode {
    match &args.command {
        Some(ApiaryCommand::Bench(bench)) => {
            return match bench::run(bench).await {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) => {
                    eprintln!("apiary bench: {e}");
                    ExitCode::from(EXIT_STATEMENT_FAILED)
                }
            };
        }
        Some(ApiaryCommand::Serve(serve)) => {
            return match crate::server::run(serve, &args.warehouse).await {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) => {
                    eprintln!("apiary serve: {e}");
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
        None => {}
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("apiary: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run_config(config).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("apiary: {e}");
            ExitCode::from(EXIT_STATEMENT_FAILED)
        }
    }
}

async fn run_config(config: Config) -> Result<u8> {
    let warehouse = Arc::new(Warehouse::open(&config.warehouse)?);
    // --allow-path confines the session; without it the user's own files are theirs to use.
    let file_access = if config.allow_path.is_empty() {
        FileAccess::unrestricted(warehouse.root(), &[])?
    } else {
        FileAccess::confined(warehouse.root(), &config.allow_path, Confinement::Cli)?
    };
    let mut ctx = ApiaryContext::open(
        warehouse,
        SessionOptions {
            config: SessionConfig::new(),
            file_access: Some(file_access),
            ..SessionOptions::default()
        },
    )
    .await?;
    *ctx.variables_mut() = config.variables.clone();
    // CREATE MODEL draws its progress on a terminal, unless -S asked for results only.
    ctx.set_progress_bar(!config.silent && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    for (k, v) in &config.settings {
        ctx.execute(&format!("SET {k}={v}")).await?;
    }
    let mut runner = Runner::new(ctx, config.format, config.silent, config.continue_on_error);
    for init in &config.init {
        if let Some(code) = report(runner.run_file(init).await) {
            return Ok(code);
        }
    }
    let outcome = match &config.mode {
        Mode::Repl => return repl::run(runner).await.map(|()| EXIT_OK),
        Mode::Execute(sql) => runner.run_script(sql, "-e", None).await,
        Mode::Files(files) => {
            let mut outcome = Ok(());
            for f in files {
                outcome = runner.run_file(f).await;
                if outcome.is_err() {
                    break;
                }
            }
            outcome
        }
    };
    if let Some(code) = report(outcome) {
        return Ok(code);
    }
    Ok(if runner.failures > 0 {
        EXIT_STATEMENT_FAILED
    } else {
        EXIT_OK
    })
}

/// Prints a failed run's error; the exit code to stop with, if the run failed.
fn report(outcome: std::result::Result<(), RunError>) -> Option<u8> {
    match outcome {
        Ok(()) => None,
        Err(RunError::BrokenPipe) => Some(EXIT_OK),
        Err(RunError::Statement(e)) => {
            eprintln!("{e}");
            Some(EXIT_STATEMENT_FAILED)
        }
    }
}
