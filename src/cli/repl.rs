//! The interactive shell: multi-line statements ended by `;`, history, completion of
//! keywords, tables, columns and functions; Ctrl-C cancels a running query, Ctrl-D exits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter};

use crate::cli::runner::{RunError, Runner};
use crate::error::{ApiaryError, Result};
use crate::sql::is_complete;

const PROMPT: &str = "apiary> ";
/// The prompt of a statement's second and later lines.
const CONTINUATION: &str = "    -> ";

/// Keywords offered by tab completion.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "LATERAL VIEW",
    "LATERAL VIEW OUTER",
    "AS",
    "JOIN",
    "LEFT JOIN",
    "RIGHT JOIN",
    "FULL JOIN",
    "CROSS JOIN",
    "ON",
    "USING",
    "UNION ALL",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "DISTINCT",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS NULL",
    "IS NOT NULL",
    "IN",
    "BETWEEN",
    "LIKE",
    "RLIKE",
    "CAST",
    "CREATE",
    "EXTERNAL",
    "TABLE",
    "VIEW",
    "TEMPORARY",
    "STORED AS",
    "PARQUET",
    "CSV",
    "JSON",
    "TEXTFILE",
    "LOCATION",
    "DROP",
    "INSERT INTO",
    "VALUES",
    "COPY",
    "TO",
    "EXPLAIN",
    "DESCRIBE",
    "DESCRIBE FUNCTION",
    "SHOW TABLES",
    "SHOW FUNCTIONS",
    "SET",
    "SOURCE",
    "OVER",
    "PARTITION BY",
    "ROWS",
    "ASC",
    "DESC",
    "NULLS FIRST",
    "NULLS LAST",
    "TRUE",
    "FALSE",
    "quit",
    "exit",
];

/// The rustyline helper: name completion.
#[derive(Helper, Hinter, Highlighter)]
pub struct ApiaryHelper {
    names: Arc<Mutex<Vec<String>>>,
}

impl Completer for ApiaryHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, vec![]));
        }
        // After a qualifier (`t.`), complete the part after the dot.
        let (offset, prefix) = match word.rfind('.') {
            Some(dot) => (start + dot + 1, &word[dot + 1..]),
            None => (start, word),
        };
        let lower = prefix.to_ascii_lowercase();
        let upper_case = prefix.chars().next().is_some_and(char::is_uppercase);
        let mut out: Vec<Pair> = Vec::new();
        for k in KEYWORDS {
            if k.to_ascii_lowercase().starts_with(&lower) {
                let text = if upper_case {
                    k.to_string()
                } else {
                    k.to_ascii_lowercase()
                };
                out.push(Pair {
                    display: text.clone(),
                    replacement: text,
                });
            }
        }
        if let Ok(names) = self.names.lock() {
            for n in names.iter() {
                if n.to_ascii_lowercase().starts_with(&lower)
                    && !out.iter().any(|p| &p.replacement == n)
                {
                    out.push(Pair {
                        display: n.clone(),
                        replacement: n.clone(),
                    });
                }
            }
        }
        Ok((offset, out))
    }
}

/// Each line is read on its own (a statement's later lines under [`CONTINUATION`]): the
/// shell, not the editor, decides where a statement ends.
impl Validator for ApiaryHelper {}

fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("APIARY_HISTORY") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".apiary_history"))
}

/// Table, column and function names for completion.
fn completion_names(runner: &Runner) -> Vec<String> {
    let ctx = &runner.ctx;
    let mut names = ctx.table_names();
    let state = ctx.session().state();
    let options = state.config_options();
    if let Some(schema) = ctx
        .session()
        .catalog(&options.catalog.default_catalog)
        .and_then(|c| c.schema(&options.catalog.default_schema))
    {
        for t in ctx.table_names() {
            // Only tables already in memory: completion must never block on I/O.
            if let Ok(Some(table)) = futures::executor::block_on(schema.table(&t)) {
                names.extend(table.schema().fields().iter().map(|f| f.name().clone()));
            }
        }
    }
    names.extend(ctx.function_names());
    names.sort();
    names.dedup();
    names
}

const HELP: &str = "Statements end with ';' and may span lines. Ctrl-C cancels a running query, \
Ctrl-D or 'quit' exits.\nSHOW TABLES; SHOW FUNCTIONS [LIKE 'ex*']; DESCRIBE t; DESCRIBE FUNCTION f; \
SET k=v; SOURCE file.sql;";

/// Runs the shell until Ctrl-D or `quit`.
pub async fn run(mut runner: Runner) -> Result<()> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)
        .map_err(|e| ApiaryError::Usage(e.to_string()))?
        .build();
    let mut editor: Editor<ApiaryHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| ApiaryError::Usage(format!("cannot start the shell: {e}")))?;
    let names = Arc::new(Mutex::new(completion_names(&runner)));
    editor.set_helper(Some(ApiaryHelper {
        names: Arc::clone(&names),
    }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    if !runner.silent {
        eprintln!(
            "Apiary {} — Hive SQL on DataFusion. Statements end with ';'. 'help' for help, Ctrl-D to exit.",
            env!("CARGO_PKG_VERSION")
        );
    }
    // The lines of a statement not yet ended by `;`.
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if pending.is_empty() {
                    let trimmed = line.trim();
                    if trimmed.is_empty() {
                        continue;
                    }
                    let command = trimmed.trim_end_matches(';').trim().to_ascii_lowercase();
                    if matches!(command.as_str(), "quit" | "exit" | "\\q") {
                        break;
                    }
                    if matches!(command.as_str(), "help" | "\\?") {
                        println!("{HELP}");
                        continue;
                    }
                } else {
                    pending.push('\n');
                }
                pending.push_str(&line);
                if !is_complete(&pending) {
                    continue;
                }
                let input = std::mem::take(&mut pending);
                // History is written before the statement runs: a crash keeps it.
                let _ = editor.add_history_entry(input.trim());
                if let Some(h) = &history {
                    let _ = editor.save_history(h);
                }
                let run = runner.run_script(&input, "<stdin>", None);
                tokio::select! {
                    outcome = run => match outcome {
                        Ok(()) => {}
                        // One input, no script: the statement's number only when there are
                        // several, no `<stdin>`.
                        Err(RunError::Statement(e)) if e.statement > 1 => {
                            eprintln!("error in statement {}: {}", e.statement, e.error);
                        }
                        Err(RunError::Statement(e)) => eprintln!("error: {}", e.error),
                        Err(RunError::BrokenPipe) => break,
                    },
                    _ = tokio::signal::ctrl_c() => eprintln!("Query cancelled."),
                }
                if let Ok(mut n) = names.lock() {
                    *n = completion_names(&runner);
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C at the prompt drops the statement being typed, as in most shells.
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("apiary: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
