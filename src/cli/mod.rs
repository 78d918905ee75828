//! The `apiary` command: arguments, the REPL, scripts, result printing, benchmarks.

pub mod args;
pub mod bench;
pub mod print;
pub mod repl;
pub mod runner;

use std::path::{Path, PathBuf};
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
    runner.limits = config.limits;
    // Every script is read before anything runs: one that cannot be read is a usage error.
    let Some(init) = read_scripts(&config.init) else {
        return Ok(EXIT_USAGE);
    };
    let files = match &config.mode {
        Mode::Files(files) => match read_scripts(files) {
            Some(f) => f,
            None => return Ok(EXIT_USAGE),
        },
        Mode::Repl | Mode::Execute(_) => vec![],
    };
    for (path, text) in &init {
        if let Some(code) = report(run_script_file(&mut runner, path, text).await) {
            return Ok(code);
        }
    }
    let outcome = match &config.mode {
        // SQL piped on standard input is a script, as with -f.
        Mode::Repl if !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                eprintln!("apiary: cannot read the standard input: {e}");
                return Ok(EXIT_USAGE);
            }
            runner.run_script(&text, "<stdin>", None).await
        }
        Mode::Repl => return repl::run(runner).await.map(|()| EXIT_OK),
        Mode::Execute(sql) => runner.run_script(sql, "-e", None).await,
        Mode::Files(_) => {
            let mut outcome = Ok(());
            for (path, text) in &files {
                outcome = run_script_file(&mut runner, path, text).await;
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

/// The text of each script, or `None` (the reason printed) when one cannot be read.
fn read_scripts(paths: &[PathBuf]) -> Option<Vec<(PathBuf, String)>> {
    let mut scripts = Vec::with_capacity(paths.len());
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => scripts.push((path.clone(), text)),
            Err(e) => {
                eprintln!("apiary: cannot read the script {}: {e}", path.display());
                return None;
            }
        }
    }
    Some(scripts)
}

/// Runs a script file's text, `SOURCE` resolved against its directory.
async fn run_script_file(
    runner: &mut Runner,
    path: &Path,
    text: &str,
) -> std::result::Result<(), RunError> {
    let dir = path.parent().map(Path::to_path_buf);
    runner
        .run_script(text, &path.display().to_string(), dir.as_deref())
        .await
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
