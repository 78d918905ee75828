//! Parser of the model statements: `CREATE [OR REPLACE] MODEL ... OPTIONS (...) AS SELECT`,
//! `SHOW MODELS`, `DESCRIBE MODEL`, `DROP MODEL`.

use datafusion::common::Result;
use datafusion::sql::sqlparser::ast::Query;
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use super::cursor::Cursor;
use super::hive_statements::{TableName, from_parser, syntax};

/// A model statement.
#[derive(Debug, Clone)]
pub enum ModelStatement {
    /// `CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name OPTIONS (k = v, ...) AS <query>`.
    Create {
        /// The model, `[db.]name`.
        name: TableName,
        /// `OR REPLACE`.
        or_replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// `OPTIONS (...)`, keys lower-cased, values as written (strings unquoted).
        options: Vec<(String, String)>,
        /// The training rows.
        query: Box<Query>,
    },
    /// `SHOW MODELS [IN db] [LIKE 'pattern']`.
    Show {
        /// `IN db`.
        db: Option<String>,
        /// `LIKE 'pattern'`.
        pattern: Option<String>,
    },
    /// `DESCRIBE MODEL name`.
    Describe(TableName),
    /// `DROP MODEL [IF EXISTS] name`.
    Drop {
        /// The model.
        name: TableName,
        /// `IF EXISTS`.
        if_exists: bool,
    },
}

fn words(tokens: &[TokenWithSpan]) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .take(4)
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            _ => String::new(),
        })
        .collect()
}

/// Whether the statement's tokens are a model statement.
pub fn is_model_statement(tokens: &[TokenWithSpan]) -> bool {
    let w = words(tokens);
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        ["CREATE", "MODEL", ..]
            | ["CREATE", "OR", "REPLACE", "MODEL", ..]
            | ["SHOW", "MODELS", ..]
            | ["DESCRIBE" | "DESC", "MODEL", ..]
            | ["DROP", "MODEL", ..]
    )
}

/// Parses one statement's tokens if it is a model statement.
pub fn parse_model_statement(
    dialect: &dyn Dialect,
    tokens: Vec<TokenWithSpan>,
) -> Result<Option<ModelStatement>> {
    if !is_model_statement(&tokens) {
        return Ok(None);
    }
    let mut p = Cursor {
        parser: Parser::new(dialect).with_tokens_with_locations(tokens),
    };
    let statement = parse(&mut p)?;
    p.end()?;
    Ok(Some(statement))
}

fn parse(p: &mut Cursor<'_>) -> Result<ModelStatement> {
    if p.eat("CREATE") {
        let or_replace = p.eat_all(&["OR", "REPLACE"]);
        p.expect("MODEL")?;
        let if_not_exists = p.eat_all(&["IF", "NOT", "EXISTS"]);
        if or_replace && if_not_exists {
            return Err(syntax(
                "CREATE MODEL: OR REPLACE and IF NOT EXISTS cannot be combined".into(),
            ));
        }
        let name = p.table_name()?;
        let options = if p.eat("OPTIONS") {
            options(p)?
        } else {
            vec![]
        };
        p.expect("AS")?;
        let query = p.query()?;
        return Ok(ModelStatement::Create {
            name,
            or_replace,
            if_not_exists,
            options,
            query,
        });
    }
    if p.eat("SHOW") {
        p.expect("MODELS")?;
        let db = if p.eat("IN") || p.eat("FROM") {
            Some(p.ident()?)
        } else {
            None
        };
        return Ok(ModelStatement::Show {
            db,
            pattern: p.like_pattern()?,
        });
    }
    if p.eat("DESCRIBE") || p.eat("DESC") {
        p.expect("MODEL")?;
        return Ok(ModelStatement::Describe(p.table_name()?));
    }
    p.expect("DROP")?;
    p.expect("MODEL")?;
    let if_exists = p.eat_all(&["IF", "EXISTS"]);
    Ok(ModelStatement::Drop {
        name: p.table_name()?,
        if_exists,
    })
}

/// `(key = value, ...)`: a value is a string, a number (signed), or a word.
fn options(p: &mut Cursor<'_>) -> Result<Vec<(String, String)>> {
    p.expect_token(&Token::LParen)?;
    let mut out: Vec<(String, String)> = Vec::new();
    loop {
        let key = p.ident()?;
        p.expect_token(&Token::Eq)?;
        let negative = match p.parser.peek_token().token {
            Token::Minus => {
                p.parser.next_token();
                true
            }
            _ => false,
        };
        let token = p.parser.next_token();
        let value = match &token.token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) if !negative => s.clone(),
            Token::Number(n, _) => {
                if negative {
                    format!("-{n}")
                } else {
                    n.clone()
                }
            }
            Token::Word(w) if !negative => w.value.clone(),
            _ => {
                return p
                    .parser
                    .expected("an option value (a string, number or word)", token)
                    .map_err(from_parser);
            }
        };
        if out.iter().any(|(k, _)| *k == key) {
            return Err(syntax(format!("OPTIONS: '{key}' is given twice")));
        }
        out.push((key, value));
        if p.parser.consume_token(&Token::Comma) {
            continue;
        }
        p.expect_token(&Token::RParen)?;
        return Ok(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::dialect::ApiaryDialect;
    use datafusion::sql::sqlparser::tokenizer::Tokenizer;

    fn parse_text(sql: &str) -> Result<Option<ModelStatement>> {
        let dialect = ApiaryDialect::default();
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .map_err(|e| syntax(e.to_string()))?;
        let tokens = tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::EOF))
            .collect();
        parse_model_statement(&dialect, tokens)
    }

    #[test]
    fn create_model_reads_options_and_query() -> Result<()> {
        let s = parse_text(
            "CREATE OR REPLACE MODEL ml.digits_nade OPTIONS (model_type = 'nade', hidden = 32, \
             learning_rate = 1e-3, weight_decay = -0.5, verbose = true) \
             AS SELECT pixels FROM digits_train",
        )?;
        let Some(ModelStatement::Create {
            name,
            or_replace,
            if_not_exists,
            options,
            query,
        }) = s
        else {
            return Err(syntax(format!("not a CREATE MODEL: {s:?}")));
        };
        assert_eq!(name.to_string(), "ml.digits_nade");
        assert!(or_replace && !if_not_exists);
        let keys: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            keys,
            [
                "model_type=nade",
                "hidden=32",
                "learning_rate=1e-3",
                "weight_decay=-0.5",
                "verbose=true"
            ]
        );
        assert_eq!(query.to_string(), "SELECT pixels FROM digits_train");
        Ok(())
    }

    #[test]
    fn other_model_statements() -> Result<()> {
        assert!(matches!(
            parse_text("SHOW MODELS IN ml LIKE 'd*'")?,
            Some(ModelStatement::Show { db: Some(d), pattern: Some(p) }) if d == "ml" && p == "d*"
        ));
        assert!(matches!(
            parse_text("DESC MODEL m")?,
            Some(ModelStatement::Describe(n)) if n.name == "m"
        ));
        assert!(matches!(
            parse_text("DROP MODEL IF EXISTS a.m")?,
            Some(ModelStatement::Drop { if_exists: true, name }) if name.to_string() == "a.m"
        ));
        assert!(parse_text("SELECT 1")?.is_none());
        assert!(parse_text("DESCRIBE models")?.is_none());
        Ok(())
    }

    #[test]
    fn bad_model_statements_say_what_is_wrong() {
        let err = |sql: &str| {
            parse_text(sql)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("CREATE MODEL m OPTIONS (a = 1, a = 2) AS SELECT 1").contains("twice"));
        assert!(err("CREATE MODEL m OPTIONS (a = ) AS SELECT 1").contains("option value"));
        assert!(err("CREATE MODEL m AS").contains("Expected"));
        assert!(
            err("CREATE OR REPLACE MODEL IF NOT EXISTS m AS SELECT 1")
                .contains("cannot be combined")
        );
    }
}
