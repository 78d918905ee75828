//! The token cursor the warehouse and model statement parsers share.

use datafusion::common::Result;
use datafusion::sql::sqlparser::ast::Query;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::hive_statements::{ColumnDef, PartitionSpec, TableName, from_parser, syntax};
use super::hive_types::parse_hive_type;

/// A token cursor over one statement, with the small grammar pieces warehouse and model
/// statements share (names, strings, literals, partition specs, column lists, properties).
pub(crate) struct Cursor<'a> {
    pub(crate) parser: Parser<'a>,
}

impl<'a> Cursor<'a> {
    pub(crate) fn peek_is(&self, word: &str) -> bool {
        matches!(&self.parser.peek_token().token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
    }

    pub(crate) fn peek_nth_is(&self, n: usize, word: &str) -> bool {
        matches!(&self.parser.peek_nth_token(n).token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
    }

    pub(crate) fn eat(&mut self, word: &str) -> bool {
        if self.peek_is(word) {
            self.parser.next_token();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_all(&mut self, words: &[&str]) -> bool {
        if words
            .iter()
            .enumerate()
            .all(|(i, w)| self.peek_nth_is(i, w))
        {
            for _ in words {
                self.parser.next_token();
            }
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, word: &str) -> Result<()> {
        if self.eat(word) {
            Ok(())
        } else {
            self.parser
                .expected(word, self.parser.peek_token())
                .map_err(from_parser)
        }
    }

    pub(crate) fn expect_token(&mut self, token: &Token) -> Result<()> {
        self.parser
            .expect_token(token)
            .map(|_| ())
            .map_err(from_parser)
    }

    pub(crate) fn ident(&mut self) -> Result<String> {
        let ident = self.parser.parse_identifier().map_err(from_parser)?;
        Ok(ident.value.to_ascii_lowercase())
    }

    pub(crate) fn table_name(&mut self) -> Result<TableName> {
        let first = self.ident()?;
        if self.parser.consume_token(&Token::Period) {
            let name = self.ident()?;
            Ok(TableName {
                db: Some(first),
                name,
            })
        } else {
            Ok(TableName {
                db: None,
                name: first,
            })
        }
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        self.parser.parse_literal_string().map_err(from_parser)
    }

    pub(crate) fn end(&mut self) -> Result<()> {
        while self.parser.consume_token(&Token::SemiColon) {}
        match self.parser.peek_token().token {
            Token::EOF => Ok(()),
            _ => self
                .parser
                .expected("end of statement", self.parser.peek_token())
                .map_err(from_parser),
        }
    }

    /// `LIKE 'pattern'` or a bare `'pattern'`.
    pub(crate) fn like_pattern(&mut self) -> Result<Option<String>> {
        self.eat("LIKE");
        match self.parser.peek_token().token {
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => Ok(Some(self.string()?)),
            _ => Ok(None),
        }
    }

    /// A partition value literal: a string, a number, TRUE/FALSE, or NULL.
    pub(crate) fn literal(&mut self) -> Result<Option<String>> {
        let t = self.parser.next_token();
        match &t.token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(Some(s.clone())),
            Token::Number(n, _) => Ok(Some(n.clone())),
            Token::Minus => match self.parser.next_token().token {
                Token::Number(n, _) => Ok(Some(format!("-{n}"))),
                _ => Err(syntax(
                    "expected a number after '-' in a partition value".into(),
                )),
            },
            Token::Word(w) if w.keyword == Keyword::NULL => Ok(None),
            Token::Word(w) if w.keyword == Keyword::TRUE || w.keyword == Keyword::FALSE => {
                Ok(Some(w.value.to_ascii_lowercase()))
            }
            _ => self
                .parser
                .expected("a partition value", t)
                .map_err(from_parser),
        }
    }

    /// `PARTITION (p='v', q)`; `allow_dynamic` permits names without values.
    pub(crate) fn partition_spec(&mut self, allow_dynamic: bool) -> Result<PartitionSpec> {
        self.expect_token(&Token::LParen)?;
        let mut spec = Vec::new();
        loop {
            let name = self.ident()?;
            let value = if self.parser.consume_token(&Token::Eq) {
                match self.literal()? {
                    Some(v) => Some(v),
                    None => {
                        return Err(syntax(format!(
                            "partition column '{name}' cannot be NULL in a PARTITION clause"
                        )));
                    }
                }
            } else if allow_dynamic {
                None
            } else {
                return Err(syntax(format!(
                    "partition column '{name}' needs a value (PARTITION ({name}='...'))"
                )));
            };
            spec.push((name, value));
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(spec)
    }

    /// The text of a type, up to the `,`/`)` ending its column or a COMMENT.
    pub(crate) fn type_text(&mut self) -> Result<String> {
        let mut depth = 0i32;
        let mut parts = Vec::new();
        loop {
            let t = self.parser.peek_token();
            match &t.token {
                Token::EOF => break,
                Token::Comma | Token::RParen if depth == 0 => break,
                Token::Word(w) if depth == 0 && w.value.eq_ignore_ascii_case("COMMENT") => break,
                Token::Lt | Token::LParen => depth += 1,
                Token::Gt | Token::RParen => depth -= 1,
                Token::ShiftRight => depth -= 2,
                _ => {}
            }
            // Words keep a space between them (`DOUBLE PRECISION`); punctuation does not.
            let text = t.token.to_string();
            if matches!(t.token, Token::Word(_))
                && parts
                    .last()
                    .is_some_and(|p: &String| p.ends_with(|c: char| c.is_alphanumeric()))
            {
                parts.push(" ".into());
            }
            parts.push(text);
            self.parser.next_token();
        }
        if parts.is_empty() {
            return self
                .parser
                .expected("a column type", self.parser.peek_token())
                .map_err(from_parser);
        }
        Ok(parts.concat())
    }

    /// `(name type [COMMENT '...'], ...)`; with `types_optional`, `(name, ...)` is accepted.
    pub(crate) fn column_defs(&mut self, types_optional: bool) -> Result<Vec<ColumnDef>> {
        self.expect_token(&Token::LParen)?;
        let mut columns = Vec::new();
        loop {
            let name = self.ident()?;
            let mut char_length = None;
            let data_type = if types_optional
                && matches!(self.parser.peek_token().token, Token::Comma | Token::RParen)
            {
                None
            } else {
                let text = self.type_text()?;
                char_length = super::hive_statements::CharLength::of_type_text(&text);
                Some(
                    parse_hive_type(&text)
                        .map_err(|e| syntax(format!("column '{name}': {}", e.strip_backtrace())))?,
                )
            };
            let comment = if self.eat("COMMENT") {
                Some(self.string()?)
            } else {
                None
            };
            columns.push(ColumnDef {
                name,
                data_type,
                char_length,
                comment,
            });
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(columns)
    }

    /// `('k'='v', ...)`.
    pub(crate) fn properties(&mut self) -> Result<Vec<(String, String)>> {
        self.expect_token(&Token::LParen)?;
        let mut props = Vec::new();
        if self.parser.consume_token(&Token::RParen) {
            return Ok(props);
        }
        loop {
            let k = self.string()?;
            self.expect_token(&Token::Eq)?;
            let v = self.string()?;
            props.push((k, v));
            if !self.parser.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(props)
    }

    pub(crate) fn query(&mut self) -> Result<Box<Query>> {
        self.parser.parse_query().map_err(from_parser)
    }
}
