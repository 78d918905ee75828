//! Parsing statements with the Hive dialect, then Apiary's rewrites.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::parser::{DFParserBuilder, ParserInput, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Query, Statement};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::dialect::ApiaryDialect;
use super::hive_statements::{HiveStatement, parse_hive_statement, view_query_mut};
use super::lateral::rewrite_tokens;
use super::model_statements::{ModelStatement, parse_model_statement};
use super::nesting;
use super::rewrite::{FunctionKinds, rewrite_statement};
use super::string_literals::hive_string_literals;

/// One parsed statement.
#[derive(Debug, Clone)]
pub enum ParsedStatement {
    /// A statement DataFusion plans (queries, views, EXPLAIN, COPY, ...).
    Sql(DFStatement),
    /// A warehouse statement Apiary runs itself (Hive DDL and DML).
    Hive(HiveStatement),
    /// A model statement (`CREATE MODEL`, `SHOW MODELS`, `DESCRIBE MODEL`, `DROP MODEL`).
    Model(ModelStatement),
}

/// Parses `text` (one or more statements), with LATERAL VIEW and generator forms rewritten for
/// [`crate::plan::LateralViewPlanner`] and Hive's warehouse statements recognised.
///
/// The Hive dialect comes first. A few forms DataFusion users rely on (`FROM (VALUES (..),
/// (..))`, some type names) only parse in sqlparser's generic dialect: when the Hive dialect
/// rejects a statement, the generic one gets a try, and the Hive error is reported if both fail.
///
/// Every statement's nesting is checked ([`super::nesting`]) before the rewrites or anything
/// else walks it.
pub fn parse_statements(text: &str, kinds: &dyn FunctionKinds) -> Result<Vec<ParsedStatement>> {
    let dialect = ApiaryDialect::default();
    let tokens = tokenize(&dialect, text)?;
    let tokens = hive_string_literals(&dialect, text, tokens)?;
    let tokens = rewrite_tokens(tokens)?;
    let mut out = Vec::new();
    for mut group in split_tokens(tokens) {
        number_question_marks(&mut group);
        nesting::check_type_depth(&group)?;
        nesting::check_name_parts(&group)?;
        for statement in parse_group_on_enough_stack(group, text)? {
            out.push(match statement {
                ParsedStatement::Model(mut model) => {
                    if let ModelStatement::Create { query, .. } = &mut model {
                        rewrite_query(query, kinds)?;
                    }
                    ParsedStatement::Model(model)
                }
                ParsedStatement::Hive(mut hive) => {
                    rewrite_queries(&mut hive, kinds)?;
                    ParsedStatement::Hive(hive)
                }
                ParsedStatement::Sql(mut s) => {
                    rewrite_statement(&mut s, kinds)?;
                    ParsedStatement::Sql(s)
                }
            });
        }
    }
    Ok(out)
}

/// Statements of up to this many tokens parse on the caller's stack.
const TOKENS_ON_CALLER_STACK: usize = 2_000;

/// Stack per token for a statement parsed on its own thread. sqlparser builds operator and
/// set-operation chains in loops, as deep as the statement is long, and a tree is dropped by
/// recursion (when parsing fails, or when the nesting check refuses it): one level per token
/// at most, each a few hundred bytes of drop frames (debug builds included).
const STACK_PER_TOKEN: usize = 1 << 10;

/// [`parse_group`], on a thread whose stack fits a tree as deep as the statement is long
/// when the statement is long: dropping such a tree recurses once per level, and nothing
/// bounds the depth before the nesting check has seen the tree.
fn parse_group_on_enough_stack(
    group: Vec<TokenWithSpan>,
    source: &str,
) -> Result<Vec<ParsedStatement>> {
    let tokens = group
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .count();
    if tokens <= TOKENS_ON_CALLER_STACK {
        return parse_group(group, source);
    }
    let stack = tokens
        .saturating_mul(STACK_PER_TOKEN)
        .saturating_add(crate::exec::STATEMENT_STACK_SIZE);
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("apiary-parse".into())
            .stack_size(stack)
            .spawn_scoped(scope, move || parse_group(group, source))
            .map_err(|e| {
                DataFusionError::Plan(format!(
                    "statement too large to parse ({tokens} tokens): cannot start a thread \
                     with a {} MiB stack for it: {e}",
                    stack >> 20
                ))
            })?;
        parser.join().map_err(|_| {
            DataFusionError::Internal(format!(
                "the parser failed on a statement of {tokens} tokens"
            ))
        })?
    })
}

/// Parses one statement's tokens (a model, warehouse or SQL statement) and checks its
/// nesting; no rewrites yet. `source` is the text the tokens' spans point into.
fn parse_group(group: Vec<TokenWithSpan>, source: &str) -> Result<Vec<ParsedStatement>> {
    let dialect = ApiaryDialect::default();
    let statement_text: String = group.iter().map(|t| t.token.to_string()).collect();
    if let Some(mut model) = parse_model_statement(&dialect, group.clone())? {
        if let ModelStatement::Create { query, .. } = &mut model {
            nesting::check_query(query)?;
        }
        return Ok(vec![ParsedStatement::Model(model)]);
    }
    let group_end = group
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| t.span.end)
        .max();
    let hive = match parse_hive_statement(&dialect, group.clone()) {
        Ok(mut h) => {
            if let Some(view) = h.as_mut().and_then(view_query_mut) {
                view.fill_text(source, group_end);
            }
            h
        }
        // The query inside may need the generic dialect, as below (its spans point into the
        // statement's text as the tokens print it).
        Err(hive_error) => {
            let mut h = parse_with_tokens(&GenericDialect {}, &statement_text, |d, t| {
                parse_hive_statement(d, t)
            })
            .ok()
            .flatten()
            .ok_or_else(|| locate_end_of_input(hive_error, &statement_text))?;
            if let Some(view) = view_query_mut(&mut h) {
                view.fill_text(&statement_text, None);
            }
            Some(h)
        }
    };
    if let Some(mut hive) = hive {
        for q in super::params::hive_queries_mut(&mut hive) {
            nesting::check_query(q)?;
        }
        return Ok(vec![ParsedStatement::Hive(hive)]);
    }
    let statements = match parse_tokens(&dialect, group) {
        Ok(s) => s,
        Err(hive_error) => parse_with(&GenericDialect {}, &statement_text)
            .map_err(|_| locate_end_of_input(hive_error, &statement_text))?,
    };
    let mut out = Vec::with_capacity(statements.len());
    for mut s in statements {
        nesting::check_statement(&mut s)?;
        out.push(ParsedStatement::Sql(s));
    }
    Ok(out)
}

fn tokenize(dialect: &dyn Dialect, text: &str) -> Result<Vec<TokenWithSpan>> {
    Tokenizer::new(dialect, text)
        .tokenize_with_location()
        .map_err(|e| DataFusionError::SQL(Box::new(e.into()), None))
}

/// JDBC/ODBC's positional `?` placeholders become `$1`, `$2`, ... in order (DataFusion binds
/// parameters by those names).
fn number_question_marks(tokens: &mut [TokenWithSpan]) {
    let mut n = 0;
    for t in tokens.iter_mut() {
        if matches!(&t.token, Token::Placeholder(p) if p == "?") {
            n += 1;
            t.token = Token::Placeholder(format!("${n}"));
        }
    }
}

/// Splits a token stream into statements at `;` (strings and comments are single tokens).
fn split_tokens(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut groups = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        match t.token {
            Token::SemiColon => groups.push(std::mem::take(&mut current)),
            Token::EOF => {}
            _ => current.push(t),
        }
    }
    groups.push(current);
    groups
        .into_iter()
        .filter(|g| g.iter().any(|t| !matches!(t.token, Token::Whitespace(_))))
        .collect()
}

fn parse_tokens(dialect: &dyn Dialect, tokens: Vec<TokenWithSpan>) -> Result<Vec<DFStatement>> {
    let mut parser = DFParserBuilder::new(ParserInput::Tokens(tokens))
        .with_dialect(dialect)
        .build()?;
    Ok(parser.parse_statements()?.into_iter().collect())
}

fn parse_with(dialect: &dyn Dialect, text: &str) -> Result<Vec<DFStatement>> {
    parse_with_tokens(dialect, text, parse_tokens)
}

fn parse_with_tokens<T>(
    dialect: &dyn Dialect,
    text: &str,
    parse: impl FnOnce(&dyn Dialect, Vec<TokenWithSpan>) -> Result<T>,
) -> Result<T> {
    let tokens = rewrite_tokens(tokenize(dialect, text)?)?;
    parse(dialect, tokens)
}

/// Applies the AST rewrites to the queries inside a warehouse statement.
fn rewrite_queries(statement: &mut HiveStatement, kinds: &dyn FunctionKinds) -> Result<()> {
    for q in super::params::hive_queries_mut(statement) {
        rewrite_query(q, kinds)?;
    }
    Ok(())
}

/// Apiary's rewrites of a query inside a statement Apiary runs itself.
fn rewrite_query(query: &mut Box<Query>, kinds: &dyn FunctionKinds) -> Result<()> {
    let mut wrapped = DFStatement::Statement(Box::new(Statement::Query(query.clone())));
    rewrite_statement(&mut wrapped, kinds)?;
    if let DFStatement::Statement(s) = wrapped
        && let Statement::Query(rewritten) = *s
    {
        *query = rewritten;
    }
    Ok(())
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
