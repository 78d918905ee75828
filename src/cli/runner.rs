//! Runs statements from scripts, `-e` and the REPL, and prints their results.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::print::{OutputFormat, TableLimits, print_stream_limited};
use crate::error::{ApiaryError, Result};
use crate::session::{ApiaryContext, StatementOutput};
use crate::sql::parse::ParsedStatement;
use crate::sql::split_script;
use datafusion::sql::parser::Statement as DFStatement;

/// How deep `SOURCE` may nest before Apiary assumes a cycle.
const MAX_SOURCE_DEPTH: usize = 32;

/// Where a failed statement stands, for `error in <file> statement N (line L): <message>`.
#[derive(Debug)]
pub struct StatementError {
    /// The script (`-e` for the command line, `<stdin>` for the REPL).
    pub source: String,
    /// 1-based statement number within the script.
    pub statement: usize,
    /// 1-based line of the statement's start.
    pub line: usize,
    /// What went wrong.
    pub error: ApiaryError,
}

impl std::fmt::Display for StatementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error in {} statement {} (line {}): {}",
            self.source, self.statement, self.line, self.error
        )
    }
}

/// The outcome of running a script.
#[derive(Debug)]
pub enum RunError {
    /// A statement failed (already reported when `continue_on_error`).
    Statement(StatementError),
    /// Writing results failed because the reader went away: stop quietly.
    BrokenPipe,
}

/// Runs statements against one session and prints results.
pub struct Runner {
    /// The session.
    pub ctx: ApiaryContext,
    /// Result format.
    pub format: OutputFormat,
    /// How much of a result the table format draws.
    pub limits: TableLimits,
    /// No chatter.
    pub silent: bool,
    /// Go on after a failed statement.
    pub continue_on_error: bool,
    /// Statements that failed (with `continue_on_error`).
    pub failures: usize,
    depth: usize,
}

fn is_broken_pipe(e: &ApiaryError) -> bool {
    match e {
        ApiaryError::Io { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
        ApiaryError::DataFusion(d) => {
            let text = d.to_string();
            text.contains("Broken pipe") || text.contains("os error 32")
        }
        ApiaryError::Usage(_) => false,
    }
}

impl Runner {
    /// A runner over `ctx`.
    pub fn new(
        ctx: ApiaryContext,
        format: OutputFormat,
        silent: bool,
        continue_on_error: bool,
    ) -> Self {
        Self {
            ctx,
            format,
            limits: TableLimits::default(),
            silent,
            continue_on_error,
            failures: 0,
            depth: 0,
        }
    }

    /// Runs every statement of `text`; `source` names it in errors, `dir` resolves `SOURCE`.
    pub async fn run_script(
        &mut self,
        text: &str,
        source: &str,
        dir: Option<&Path>,
    ) -> Result<(), RunError> {
        let split = split_script(text);
        let statements = split.statements.into_iter().chain(split.rest);
        for (i, statement) in statements.enumerate() {
            if let Err(error) = self.run_statement(&statement.text, dir).await {
                if is_broken_pipe(&error) {
                    return Err(RunError::BrokenPipe);
                }
                let failure = StatementError {
                    source: source.to_string(),
                    statement: i + 1,
                    line: statement.line,
                    error,
                };
                if self.continue_on_error {
                    eprintln!("{failure}");
                    self.failures += 1;
                } else {
                    return Err(RunError::Statement(failure));
                }
            }
        }
        Ok(())
    }

    /// Runs a script file.
    pub async fn run_file(&mut self, path: &Path) -> Result<(), RunError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            RunError::Statement(StatementError {
                source: path.display().to_string(),
                statement: 0,
                line: 0,
                error: ApiaryError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            })
        })?;
        let dir = path.parent().map(Path::to_path_buf);
        Box::pin(self.run_script(&text, &path.display().to_string(), dir.as_deref())).await
    }

    /// Runs one statement and prints its result. A `COPY` that fails removes the file it
    /// was writing, unless that file was there before.
    pub async fn run_statement(&mut self, text: &str, dir: Option<&Path>) -> Result<()> {
        let new_copy_target = self.copy_target(text).filter(|p| !p.exists());
        let outcome = self.run_and_print(text, dir).await;
        if outcome.is_err()
            && let Some(target) = new_copy_target
        {
            // What the failed COPY left: a file, or a directory of partial files.
            let _ = if target.is_dir() {
                std::fs::remove_dir_all(&target)
            } else {
                std::fs::remove_file(&target)
            };
        }
        outcome
    }

    /// The local file a `COPY ... TO` statement writes, if `text` is one.
    fn copy_target(&self, text: &str) -> Option<PathBuf> {
        if !first_keyword(text).eq_ignore_ascii_case("COPY") {
            return None;
        }
        let text = self.ctx.substitute(text).ok()?;
        match self.ctx.parse(&text).ok()?.as_slice() {
            [ParsedStatement::Sql(DFStatement::CopyTo(copy))] => {
                crate::security::guard::local_path(&copy.target)
            }
            _ => None,
        }
    }

    async fn run_and_print(&mut self, text: &str, dir: Option<&Path>) -> Result<()> {
        let started = Instant::now();
        // EXPLAIN and DESCRIBE output is never cut.
        let mut limits = self.limits;
        if matches!(
            first_keyword(text).to_ascii_uppercase().as_str(),
            "EXPLAIN" | "DESCRIBE" | "DESC"
        ) {
            limits.max_width = 0;
        }
        match self.ctx.execute(text).await? {
            StatementOutput::Rows(stream) => {
                let mut out = std::io::BufWriter::new(std::io::stdout());
                let rows = print_stream_limited(&mut out, stream, self.format, limits).await?;
                out.flush().map_err(|source| ApiaryError::Io {
                    path: PathBuf::from("<stdout>"),
                    source,
                })?;
                if !self.silent {
                    eprintln!(
                        "{rows} row{} in set ({:.3} s)",
                        if rows == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            StatementOutput::Done => {
                if !self.silent && self.format == OutputFormat::Table {
                    eprintln!("OK ({:.3} s)", started.elapsed().as_secs_f64());
                }
            }
            StatementOutput::Affected(rows) => {
                if !self.silent && self.format == OutputFormat::Table {
                    eprintln!(
                        "{rows} row{} written ({:.3} s)",
                        if rows == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            StatementOutput::Source(path) => self.source(&path, dir).await?,
        }
        Ok(())
    }

    async fn source(&mut self, path: &Path, dir: Option<&Path>) -> Result<()> {
        if self.depth >= MAX_SOURCE_DEPTH {
            return Err(ApiaryError::Usage(format!(
                "SOURCE nested more than {MAX_SOURCE_DEPTH} deep at {}: is a script sourcing itself?",
                path.display()
            )));
        }
        // Relative to the working directory, as in Hive; failing that, to the calling script.
        let resolved = match dir {
            Some(d) if !path.exists() && path.is_relative() && d.join(path).exists() => {
                d.join(path)
            }
            _ => path.to_path_buf(),
        };
        if self.ctx.file_access().is_confined() {
            self.ctx.file_access().check(&resolved, "SOURCE")?;
        }
        self.depth += 1;
        let outcome = Box::pin(self.run_file(&resolved)).await;
        self.depth -= 1;
        match outcome {
            Ok(()) => Ok(()),
            Err(RunError::BrokenPipe) => Err(ApiaryError::Io {
                path: PathBuf::from("<stdout>"),
                source: std::io::Error::from(std::io::ErrorKind::BrokenPipe),
            }),
            Err(RunError::Statement(e)) => Err(ApiaryError::Usage(e.to_string())),
        }
    }
}

/// The first word of a statement, after blank space and comments.
fn first_keyword(text: &str) -> &str {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::first_keyword;

    #[test]
    fn first_keywords_skip_comments() {
        assert_eq!(first_keyword("  -- c\n/* d */ explain SELECT 1"), "explain");
        assert_eq!(first_keyword("COPY(SELECT 1) TO 'x'"), "COPY");
        assert_eq!(first_keyword("-- only"), "");
    }
}
