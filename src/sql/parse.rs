//! Parsing one statement with the Hive dialect, then Apiary's rewrites.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::parser::{DFParserBuilder, ParserInput, Statement as DFStatement};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};

use super::dialect::ApiaryDialect;
use datafusion::sql::sqlparser::tokenizer::Tokenizer;

use super::hive_ddl::rewrite_hive_ddl;
use super::lateral::rewrite_tokens;
use super::rewrite::{FunctionKinds, rewrite_statement};

/// Parses `text` (one or more statements) into DataFusion statements, with LATERAL VIEW and
/// generator forms rewritten for [`crate::plan::LateralViewPlanner`].
///
/// The Hive dialect comes first. A few forms DataFusion users rely on (`FROM (VALUES (..),
/// (..))`, some type names) only parse in sqlparser's generic dialect: when the Hive dialect
/// rejects a statement, the generic one gets a try, and the Hive error is reported if both fail.
pub fn parse_statements(text: &str, kinds: &dyn FunctionKinds) -> Result<Vec<DFStatement>> {
    let mut statements = match parse_with(&ApiaryDialect::default(), text) {
        Ok(s) => s,
        Err(hive_error) => parse_with(&GenericDialect {}, text)
            .map_err(|_| locate_end_of_input(hive_error, text))?,
    };
    for s in statements.iter_mut() {
        rewrite_statement(s, kinds)?;
    }
    Ok(statements)
}

fn parse_with(dialect: &dyn Dialect, text: &str) -> Result<Vec<DFStatement>> {
    let tokens = Tokenizer::new(dialect, text)
        .tokenize_with_location()
        .map_err(|e| DataFusionError::SQL(Box::new(e.into()), None))?;
    let tokens = rewrite_tokens(rewrite_hive_ddl(tokens)?)?;
    let mut parser = DFParserBuilder::new(ParserInput::Tokens(tokens))
        .with_dialect(dialect)
        .build()?;
    Ok(parser.parse_statements()?.into_iter().collect())
}

/// sqlparser reports "found: EOF" without a position: add the end of the statement's.
fn locate_end_of_input(error: DataFusionError, text: &str) -> DataFusionError {
    let message = error.to_string();
    if !message.contains("found: EOF") || message.contains("Line:") {
        return error;
    }
    let trimmed = text.trim_end();
    let line = trimmed.lines().count().max(1);
    let column = trimmed.lines().last().map_or(0, |l| l.chars().count()) + 1;
    match error {
        DataFusionError::SQL(e, _) => {
            use datafusion::sql::sqlparser::parser::ParserError;
            let inner = match *e {
                ParserError::ParserError(m) => m,
                other => other.to_string(),
            };
            DataFusionError::SQL(
                Box::new(ParserError::ParserError(format!(
                    "{inner} at Line: {line}, Column: {column} (end of input)"
                ))),
                None,
            )
        }
        other => other,
    }
}
