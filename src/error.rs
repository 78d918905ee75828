//! Apiary's error type.

use std::path::PathBuf;

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// Everything that can go wrong in Apiary, with the context a user needs.
#[derive(Debug, thiserror::Error)]
pub enum ApiaryError {
    /// Planning or execution failed.
    #[error("{}", strip_datafusion_prefix(.0))]
    DataFusion(#[from] DataFusionError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A command-line or statement usage error.
    #[error("{0}")]
    Usage(String),
}

/// Apiary's result type.
pub type Result<T, E = ApiaryError> = std::result::Result<T, E>;

/// DataFusion's message without its wrapping: the innermost error is what the user needs.
fn strip_datafusion_prefix(e: &DataFusionError) -> String {
    let mut e = e;
    loop {
        match e {
            DataFusionError::Context(_, inner) => e = inner,
            DataFusionError::Diagnostic(_, inner) => e = inner,
            DataFusionError::Shared(inner) => e = inner.as_ref(),
            _ => break,
        }
    }
    match e {
        DataFusionError::SQL(parser_error, _) => match parser_error.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
                format!("syntax error: {m}")
            }
            other => format!("syntax error: {other}"),
        },
        _ => collapse_repeated_prefixes(e.to_string()),
    }
}

/// Arrow and Parquet wrap their own errors: "Parquet error: Parquet error: x" says it once.
fn collapse_repeated_prefixes(mut text: String) -> String {
    for prefix in ["Parquet error: ", "Arrow error: ", "External error: "] {
        let doubled = prefix.repeat(2);
        while text.contains(&doubled) {
            text = text.replace(&doubled, prefix);
        }
    }
    text
}
