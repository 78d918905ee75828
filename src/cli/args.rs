//! Command-line arguments (clap) and the validated configuration built from them.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cli::print::{DEFAULT_MAX_ROWS, DEFAULT_MAX_WIDTH, OutputFormat, TableLimits};
use crate::error::{ApiaryError, Result};
use crate::sql::vars::{Variables, parse_assignment};

/// Apiary: Hive SQL on Apache DataFusion, with generative models queried like tables.
#[derive(Debug, Parser)]
#[command(name = "apiary", version, about, long_about = None)]
pub struct Args {
    /// Run these statements (separated by `;`) and exit.
    #[arg(
        short = 'e',
        long = "execute",
        value_name = "SQL",
        conflicts_with = "files",
        allow_hyphen_values = true
    )]
    pub execute: Option<String>,

    /// Run the statements of these script files, in order, and exit.
    #[arg(short = 'f', long = "file", value_name = "FILE", num_args = 1..)]
    pub files: Vec<PathBuf>,

    /// Run this script first (before -e, -f or the REPL).
    #[arg(short = 'i', long = "init", value_name = "FILE")]
    pub init: Vec<PathBuf>,

    /// Output format [default: table in a terminal, csv when piped].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,

    /// The table format draws at most this many rows (the rest are counted); 0 draws all.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ROWS)]
    pub max_rows: usize,

    /// The table format cuts cells wider than this many characters (never EXPLAIN or
    /// DESCRIBE output); 0 cuts nothing.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_WIDTH)]
    pub max_width: usize,

    /// Print only results: no row counts, timings or banners.
    #[arg(short = 'S', long)]
    pub silent: bool,

    /// In scripts, report a failed statement and go on with the next one.
    #[arg(long)]
    pub continue_on_error: bool,

    /// Define a variable for `${name}` / `${hivevar:name}` (repeatable).
    #[arg(long = "hivevar", value_name = "NAME=VALUE")]
    pub hivevar: Vec<String>,

    /// Same as --hivevar.
    #[arg(short = 'd', long = "define", value_name = "NAME=VALUE")]
    pub define: Vec<String>,

    /// The warehouse directory (databases, tables, metastore); created on first use.
    #[arg(
        long,
        value_name = "DIR",
        env = "APIARY_WAREHOUSE",
        global = true,
        default_value = crate::warehouse::DEFAULT_WAREHOUSE_DIR
    )]
    pub warehouse: PathBuf,

    /// Confine statements to the warehouse and these directories (repeatable): COPY TO,
    /// LOCATION, external tables and SOURCE outside them are refused.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,

    /// Set a configuration variable, as `SET name=value` (repeatable).
    #[arg(long = "hiveconf", value_name = "NAME=VALUE")]
    pub hiveconf: Vec<String>,

    /// A subcommand instead of the SQL shell.
    #[command(subcommand)]
    pub command: Option<ApiaryCommand>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiaryCommand {
    /// Benchmarks, each against a baseline in the same run: lateral (the default), warehouse,
    /// flight, models, position, sequences (`apiary bench --help` lists them).
    Bench(crate::cli::bench::BenchArgs),
    /// Serve the engine over Arrow Flight SQL (ADBC, JDBC, pyarrow clients).
    Serve(crate::server::ServeArgs),
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The interactive shell.
    Repl,
    /// `-e "SQL"`.
    Execute(String),
    /// `-f a.sql b.sql`.
    Files(Vec<PathBuf>),
}

/// The validated configuration of one `apiary` run.
#[derive(Debug, Clone)]
pub struct Config {
    /// What to run.
    pub mode: Mode,
    /// Scripts to run first.
    pub init: Vec<PathBuf>,
    /// How results are printed.
    pub format: OutputFormat,
    /// How much of a result the table format draws.
    pub limits: TableLimits,
    /// No chatter.
    pub silent: bool,
    /// Scripts go on after a failed statement.
    pub continue_on_error: bool,
    /// Variables from the command line.
    pub variables: Variables,
    /// `--hiveconf` assignments, applied like `SET` (DataFusion keys included).
    pub settings: Vec<(String, String)>,
    /// The warehouse directory.
    pub warehouse: PathBuf,
    /// `--allow-path` directories: when given, statements are confined to the warehouse and
    /// them.
    pub allow_path: Vec<PathBuf>,
}

fn assignments(flag: &str, values: &[String]) -> Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| {
            parse_assignment(v)
                .ok_or_else(|| ApiaryError::Usage(format!("{flag} expects NAME=VALUE, got '{v}'")))
        })
        .collect()
}

impl Config {
    /// Validates `args`.
    pub fn from_args(args: &Args) -> Result<Self> {
        let mode = match (&args.execute, args.files.is_empty()) {
            (Some(sql), _) => Mode::Execute(sql.clone()),
            (None, false) => Mode::Files(args.files.clone()),
            (None, true) => Mode::Repl,
        };
        let mut variables = Variables::default();
        for (k, v) in assignments("--hivevar", &args.hivevar)?
            .into_iter()
            .chain(assignments("--define", &args.define)?)
        {
            variables.hivevar.insert(k, v);
        }
        let settings = assignments("--hiveconf", &args.hiveconf)?;
        let format = args.format.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                OutputFormat::Table
            } else {
                OutputFormat::Csv
            }
        });
        Ok(Self {
            mode,
            init: args.init.clone(),
            format,
            limits: TableLimits {
                max_rows: args.max_rows,
                max_width: args.max_width,
            },
            silent: args.silent,
            continue_on_error: args.continue_on_error,
            variables,
            settings,
            warehouse: args.warehouse.clone(),
            allow_path: args.allow_path.clone(),
        })
    }
}
