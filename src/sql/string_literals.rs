//! Hive's string literal sequences: adjacent quoted strings are one string.
//!
//! Hive's lexer reads `'it''s'` as the two literals `'it'` and `'s'`, and its grammar joins a
//! sequence of literals into one: `'it''s'` is `its`, `'a' 'b'` is `ab`. sqlparser reads `''`
//! inside a literal as an escaped quote (`it's`, the SQL standard) and two literals as two
//! tokens. This pass, run on the tokens of the statement text as written, gives each literal
//! Hive's value. A quote inside a Hive string is written `\'`.
//!
//! DataFusion's `OPTIONS ('key' 'value')` (of `CREATE EXTERNAL TABLE` and `COPY`) pairs keys
//! with values by adjacency: literals inside an `OPTIONS (...)` list are left as they are.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// Gives every single-quoted literal of `tokens` (tokenized from `text` with `dialect`) Hive's
/// value, joining adjacent literals.
pub fn hive_string_literals(
    dialect: &dyn Dialect,
    text: &str,
    tokens: Vec<TokenWithSpan>,
) -> Result<Vec<TokenWithSpan>> {
    let lines = LineStarts::new(text);
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    // Depth of parentheses inside an `OPTIONS (...)` list (0: not inside one).
    let mut options_depth = 0usize;
    let mut options_next = false;
    for mut token in tokens {
        match &token.token {
            Token::LParen if options_next || options_depth > 0 => options_depth += 1,
            Token::RParen if options_depth > 0 => options_depth -= 1,
            _ => {}
        }
        if !matches!(token.token, Token::Whitespace(_)) {
            options_next = matches!(&token.token, Token::Word(w) if w.keyword == Keyword::OPTIONS);
        }
        let Token::SingleQuotedString(value) = &token.token else {
            out.push(token);
            continue;
        };
        if let Some(source) = lines.slice(text, token.span.start, token.span.end)
            && has_inner_quote_pair(source)
        {
            token.token = Token::SingleQuotedString(joined_value(dialect, source)?);
        } else {
            token.token = Token::SingleQuotedString(value.clone());
        }
        if options_depth == 0
            && let Some(previous) = previous_literal(&mut out)
            && let (Token::SingleQuotedString(a), Token::SingleQuotedString(b)) =
                (&previous.token, &token.token)
        {
            let joined = format!("{a}{b}");
            previous.token = Token::SingleQuotedString(joined);
            previous.span.end = token.span.end;
            // The whitespace between the two literals goes too.
            while out
                .last()
                .is_some_and(|t| matches!(t.token, Token::Whitespace(_)))
            {
                out.pop();
            }
            continue;
        }
        out.push(token);
    }
    Ok(out)
}

/// The literal before the current token when only whitespace separates them.
fn previous_literal(out: &mut [TokenWithSpan]) -> Option<&mut TokenWithSpan> {
    let index = out
        .iter()
        .rposition(|t| !matches!(t.token, Token::Whitespace(_)))?;
    let candidate = &mut out[index];
    matches!(candidate.token, Token::SingleQuotedString(_)).then_some(candidate)
}

/// Whether a literal as written (`'...'`) holds a `''` that is not escaped by a backslash:
/// the place where Hive's lexer ends one literal and starts the next.
fn has_inner_quote_pair(source: &str) -> bool {
    segments(source).len() > 1
}

/// The quoted segments of a literal as written: `'it''s'` → [`'it'`, `'s'`].
fn segments(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'\'' || bytes[bytes.len() - 1] != b'\'' {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' => {
                // The end of a segment: `'` at the very end, or the first of `''`.
                out.push(&source[start..=i]);
                if i + 1 < bytes.len() && bytes[i + 1] == b'\'' {
                    start = i + 1;
                    i += 2;
                } else {
                    break;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The value of a literal whose segments Hive joins: each segment read as its own literal.
fn joined_value(dialect: &dyn Dialect, source: &str) -> Result<String> {
    let mut value = String::new();
    for segment in segments(source) {
        let tokens = Tokenizer::new(dialect, segment)
            .tokenize()
            .map_err(|e| DataFusionError::SQL(Box::new(e.into()), None))?;
        for t in tokens {
            if let Token::SingleQuotedString(s) = t {
                value.push_str(&s);
            }
        }
    }
    Ok(value)
}

/// Byte offsets of the starts of a text's lines, to find a token's text from its span
/// (1-based lines and columns, columns counted in characters).
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self(starts)
    }

    fn offset(&self, text: &str, at: Location) -> Option<usize> {
        let line_start = *self.0.get(usize::try_from(at.line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(at.column).ok()?.checked_sub(1)?;
        let line = text.get(line_start..)?;
        match line.char_indices().nth(column) {
            Some((i, _)) => Some(line_start + i),
            None => Some(text.len()),
        }
    }

    fn slice<'t>(&self, text: &'t str, start: Location, end: Location) -> Option<&'t str> {
        text.get(self.offset(text, start)?..self.offset(text, end)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::dialect::ApiaryDialect;

    fn literals(text: &str) -> Vec<String> {
        let dialect = ApiaryDialect::default();
        let tokens = Tokenizer::new(&dialect, text)
            .tokenize_with_location()
            .unwrap_or_else(|e| unreachable!("{e}"));
        hive_string_literals(&dialect, text, tokens)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .into_iter()
            .filter_map(|t| match t.token {
                Token::SingleQuotedString(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn adjacent_literals_are_one_string() {
        assert_eq!(literals("SELECT 'it''s'"), ["its"]);
        assert_eq!(literals("SELECT 'a' 'b'\n  'c', 'd'"), ["abc", "d"]);
        assert_eq!(literals("SELECT ''''"), [""]);
        assert_eq!(literals("SELECT 'x', ''"), ["x", ""]);
    }

    #[test]
    fn escapes_stay_escapes() {
        assert_eq!(literals(r"SELECT 'it\'s'"), ["it's"]);
        assert_eq!(literals(r"SELECT 'a\\''b'"), [r"a\b"]);
        assert_eq!(literals("SELECT 'é''è'"), ["éè"]);
        assert_eq!(literals("SELECT 1,\n  'ü''x' AS y"), ["üx"]);
    }

    #[test]
    fn options_pairs_are_left_alone() {
        assert_eq!(
            literals("COPY t TO 'f.csv' OPTIONS ('format.has_header' 'true')"),
            ["f.csv", "format.has_header", "true"]
        );
    }
}
