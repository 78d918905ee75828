//! Token-level rewrite of Hive's `LATERAL VIEW` into `CROSS APPLY` / `OUTER APPLY`.
//!
//! sqlparser parses `LATERAL VIEW` itself, but reads the clause keyword that follows a
//! view without `AS` columns (`... LATERAL VIEW explode(x) v ORDER BY 1`) as a column alias.
//! Rewriting the tokens first gives one AST shape for every form:
//! `LATERAL VIEW [OUTER] g(args) v [AS] a, b` → `CROSS|OUTER APPLY g(args) AS v(a, b)`.
//! The same pass turns a select item's multi-column alias `g(x) AS (a, b)`, which sqlparser
//! cannot parse, into one marked alias that the AST rewrite splits again; and a double-quoted
//! word becomes a string literal, as in Hive.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace, Word};

/// Separator inside a marked multi-column alias (a character no identifier contains).
pub const MULTI_ALIAS_SEPARATOR: char = '\u{1}';

/// Keywords that end a LATERAL VIEW clause instead of naming a column.
const CLAUSE_KEYWORDS: &[Keyword] = &[
    Keyword::WHERE,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::FETCH,
    Keyword::UNION,
    Keyword::INTERSECT,
    Keyword::EXCEPT,
    Keyword::MINUS,
    Keyword::WINDOW,
    Keyword::QUALIFY,
    Keyword::CLUSTER,
    Keyword::DISTRIBUTE,
    Keyword::SORT,
    Keyword::LATERAL,
    Keyword::JOIN,
    Keyword::INNER,
    Keyword::LEFT,
    Keyword::RIGHT,
    Keyword::FULL,
    Keyword::CROSS,
    Keyword::OUTER,
    Keyword::NATURAL,
    Keyword::ON,
    Keyword::USING,
    Keyword::INSERT,
    Keyword::SELECT,
    Keyword::FROM,
];

fn word(value: &str) -> Token {
    Token::Word(Word {
        value: value.to_string(),
        quote_style: None,
        keyword: match value {
            "CROSS" => Keyword::CROSS,
            "OUTER" => Keyword::OUTER,
            "APPLY" => Keyword::APPLY,
            "AS" => Keyword::AS,
            _ => Keyword::NoKeyword,
        },
    })
}

fn is_keyword(t: &Token, k: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none())
}

/// A column or view name: a word that is not a clause keyword (quoted words always are names).
fn is_name(t: &Token) -> bool {
    match t {
        Token::Word(w) => w.quote_style.is_some() || !CLAUSE_KEYWORDS.contains(&w.keyword),
        _ => false,
    }
}

struct Cursor {
    tokens: Vec<TokenWithSpan>,
}

impl Cursor {
    /// Index of the first non-whitespace token at or after `i`.
    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.tokens.len() && matches!(self.tokens[i].token, Token::Whitespace(_)) {
            i += 1;
        }
        i
    }

    fn get(&self, i: usize) -> Option<&Token> {
        self.tokens.get(i).map(|t| &t.token)
    }
}

/// Rewrites LATERAL VIEW clauses and multi-column select aliases (see the module docs).
pub fn rewrite_tokens(tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>> {
    let c = Cursor { tokens };
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(c.tokens.len());
    let mut i = 0;
    while i < c.tokens.len() {
        let t = &c.tokens[i].token;
        if is_keyword(t, Keyword::LATERAL) {
            let v = c.skip_ws(i + 1);
            if c.get(v).is_some_and(|t| is_keyword(t, Keyword::VIEW)) {
                let (tokens, next) = lateral_view(&c, i, v + 1)?;
                out.extend(tokens);
                i = next;
                continue;
            }
        }
        // Hive: "text" is a string literal, as 'text' is (`name` quotes identifiers).
        if let Token::Word(w) = t
            && w.quote_style == Some('"')
        {
            out.push(with_span(
                Token::SingleQuotedString(w.value.clone()),
                &c.tokens[i],
            ));
            i += 1;
            continue;
        }
        if is_keyword(t, Keyword::AS)
            && let Some((alias, next)) = multi_alias(&c, &out, i)
        {
            out.push(c.tokens[i].clone());
            out.push(alias);
            i = next;
            continue;
        }
        out.push(c.tokens[i].clone());
        i += 1;
    }
    Ok(out)
}

fn space(like: &TokenWithSpan) -> TokenWithSpan {
    with_span(Token::Whitespace(Whitespace::Space), like)
}

fn with_span(token: Token, like: &TokenWithSpan) -> TokenWithSpan {
    TokenWithSpan {
        token,
        span: like.span,
    }
}

fn lateral_view(
    c: &Cursor,
    start: usize,
    after_view: usize,
) -> Result<(Vec<TokenWithSpan>, usize)> {
    let span_of = &c.tokens[start];
    let err = |msg: &str| {
        DataFusionError::Plan(format!(
            "LATERAL VIEW at line {} column {}: {msg}",
            span_of.span.start.line, span_of.span.start.column
        ))
    };
    let mut i = c.skip_ws(after_view);
    let outer = c.get(i).is_some_and(|t| is_keyword(t, Keyword::OUTER));
    if outer {
        i = c.skip_ws(i + 1);
    }
    // The generator call: name[.name]* ( ... )
    let call_start = i;
    loop {
        match c.get(i) {
            Some(Token::Word(_)) => i = c.skip_ws(i + 1),
            _ => return Err(err("expected a generator call such as explode(...)")),
        }
        if matches!(c.get(i), Some(Token::Period)) {
            i = c.skip_ws(i + 1);
        } else {
            break;
        }
    }
    if !matches!(c.get(i), Some(Token::LParen)) {
        return Err(err("expected '(' after the generator's name"));
    }
    let mut depth = 0usize;
    loop {
        match c.get(i) {
            Some(Token::LParen) => depth += 1,
            Some(Token::RParen) => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(_) => {}
            None => return Err(err("unbalanced parentheses in the generator call")),
        }
        i += 1;
    }
    let call_end = i + 1;
    // The view alias.
    i = c.skip_ws(call_end);
    let view = match c.get(i) {
        Some(t) if is_name(t) && !is_keyword(t, Keyword::AS) => i,
        _ => {
            return Err(err(
                "a table alias is required after the generator call (LATERAL VIEW explode(x) v AS col)",
            ));
        }
    };
    i = c.skip_ws(i + 1);
    // Column aliases: [AS] a, b, ...
    let mut columns = Vec::new();
    let explicit = c.get(i).is_some_and(|t| is_keyword(t, Keyword::AS));
    if explicit {
        i = c.skip_ws(i + 1);
    }
    if explicit || c.get(i).is_some_and(is_name) {
        loop {
            match c.get(i) {
                Some(t @ Token::Word(_)) if explicit && columns.is_empty() || is_name(t) => {
                    columns.push(i);
                    i = c.skip_ws(i + 1);
                }
                _ => return Err(err("expected a column alias")),
            }
            if matches!(c.get(i), Some(Token::Comma))
                && c.get(c.skip_ws(i + 1)).is_some_and(is_name)
            {
                i = c.skip_ws(i + 1);
            } else {
                break;
            }
        }
    }
    let lead = &c.tokens[start];
    let mut out = vec![
        with_span(word(if outer { "OUTER" } else { "CROSS" }), lead),
        space(lead),
        with_span(word("APPLY"), lead),
        space(lead),
    ];
    out.extend(c.tokens[call_start..call_end].iter().cloned());
    out.push(space(lead));
    out.push(with_span(word("AS"), lead));
    out.push(space(lead));
    out.push(c.tokens[view].clone());
    if !columns.is_empty() {
        out.push(with_span(Token::LParen, lead));
        for (k, &col) in columns.iter().enumerate() {
            if k > 0 {
                out.push(with_span(Token::Comma, lead));
            }
            out.push(c.tokens[col].clone());
        }
        out.push(with_span(Token::RParen, lead));
    }
    out.push(space(lead));
    // Continue right after the last consumed token (keep the whitespace that followed it).
    let consumed = columns.last().copied().unwrap_or(view) + 1;
    Ok((out, consumed))
}

/// `) AS (a, b)` after a function call in a select list → one marked alias token.
fn multi_alias(
    c: &Cursor,
    emitted: &[TokenWithSpan],
    as_index: usize,
) -> Option<(TokenWithSpan, usize)> {
    let prev = emitted
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))?;
    if !matches!(prev.token, Token::RParen) {
        return None;
    }
    let mut i = c.skip_ws(as_index + 1);
    if !matches!(c.get(i), Some(Token::LParen)) {
        return None;
    }
    i = c.skip_ws(i + 1);
    let mut names = Vec::new();
    loop {
        match c.get(i) {
            Some(Token::Word(w))
                if w.quote_style.is_some()
                    || !matches!(
                        w.keyword,
                        Keyword::SELECT
                            | Keyword::WITH
                            | Keyword::VALUES
                            | Keyword::FROM
                            | Keyword::TABLE
                    ) =>
            {
                names.push(w.value.clone());
                i = c.skip_ws(i + 1);
            }
            _ => return None,
        }
        match c.get(i) {
            Some(Token::Comma) => i = c.skip_ws(i + 1),
            Some(Token::RParen) => break,
            _ => return None,
        }
    }
    let sep = MULTI_ALIAS_SEPARATOR.to_string();
    let token = Token::Word(Word {
        value: format!("{sep}{}", names.join(&sep)),
        quote_style: Some('`'),
        keyword: Keyword::NoKeyword,
    });
    Some((with_span(token, &c.tokens[as_index]), i + 1))
}
