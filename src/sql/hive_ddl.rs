//! Token-level translation of Hive's `CREATE EXTERNAL TABLE` clauses into DataFusion's.
//!
//! `ROW FORMAT DELIMITED FIELDS TERMINATED BY ','` and `STORED AS TEXTFILE | JSONFILE` become
//! `STORED AS CSV | JSON` with `OPTIONS ('format.delimiter' ',', 'format.has_header' 'false')`
//! (Hive text files have no header; their default field delimiter is `\u0001`). Known gap: an
//! empty field reads as NULL (DataFusion's CSV reader), where Hive reads an empty string. Table-level
//! `COMMENT '...'` and `TBLPROPERTIES (...)` are accepted and dropped.

use datafusion::common::{DataFusionError, Result};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace, Word};

fn is_kw(t: &Token, k: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none())
}

fn is_word(t: &Token, text: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(text))
}

fn significant(tokens: &[TokenWithSpan]) -> Vec<usize> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_)))
        .map(|(i, _)| i)
        .collect()
}

fn plain(token: Token, like: &TokenWithSpan) -> TokenWithSpan {
    TokenWithSpan {
        token,
        span: like.span,
    }
}

fn word(value: &str) -> Token {
    Token::Word(Word {
        value: value.to_string(),
        quote_style: None,
        keyword: Keyword::NoKeyword,
    })
}

/// Rewrites a Hive `CREATE [EXTERNAL] TABLE` with Hive storage clauses; other statements are
/// returned unchanged.
pub fn rewrite_hive_ddl(tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>> {
    let sig = significant(&tokens);
    let tok = |k: usize| sig.get(k).map(|&i| &tokens[i].token);
    // CREATE [EXTERNAL] TABLE
    if !tok(0).is_some_and(|t| is_kw(t, Keyword::CREATE)) {
        return Ok(tokens);
    }
    let mut k = 1;
    if tok(k).is_some_and(|t| is_kw(t, Keyword::EXTERNAL)) {
        k += 1;
    }
    if !tok(k).is_some_and(|t| is_kw(t, Keyword::TABLE)) {
        return Ok(tokens);
    }
    let mut drop = vec![false; tokens.len()];
    let mut delimiter: Option<String> = None;
    let mut text_format: Option<&'static str> = None;
    let mut has_options = false;
    let mut depth = 0usize;
    let mut k = k + 1;
    while let Some(t) = tok(k) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 || matches!(t, Token::LParen | Token::RParen) {
            k += 1;
            continue;
        }
        if is_kw(t, Keyword::OPTIONS) {
            has_options = true;
        }
        // ROW FORMAT DELIMITED [FIELDS TERMINATED BY 'c'] [other Hive delimiters ...]
        if is_kw(t, Keyword::ROW) && tok(k + 1).is_some_and(|t| is_kw(t, Keyword::FORMAT)) {
            let start = k;
            k += 2;
            if tok(k).is_some_and(|t| is_word(t, "SERDE")) {
                return Err(DataFusionError::Plan(
                    "ROW FORMAT SERDE is not supported; use ROW FORMAT DELIMITED or STORED AS PARQUET"
                        .into(),
                ));
            }
            if tok(k).is_some_and(|t| is_word(t, "DELIMITED")) {
                k += 1;
            }
            loop {
                let lead = tok(k);
                let terminated_at =
                    if lead.is_some_and(|t| is_word(t, "FIELDS") || is_word(t, "LINES")) {
                        Some(k + 1)
                    } else if lead.is_some_and(|t| is_word(t, "COLLECTION") || is_word(t, "MAP")) {
                        Some(k + 2)
                    } else {
                        None
                    };
                if let Some(at) = terminated_at
                    && tok(at).is_some_and(|t| is_word(t, "TERMINATED"))
                    && tok(at + 1).is_some_and(|t| is_kw(t, Keyword::BY))
                {
                    if let Some(Token::SingleQuotedString(s)) = tok(at + 2)
                        && lead.is_some_and(|t| is_word(t, "FIELDS"))
                    {
                        delimiter = Some(unescape(s));
                    }
                    k = at + 3;
                    if tok(k).is_some_and(|t| is_word(t, "ESCAPED")) {
                        k += 3;
                    }
                    continue;
                }
                if lead.is_some_and(|t| is_kw(t, Keyword::NULL))
                    && tok(k + 1).is_some_and(|t| is_word(t, "DEFINED"))
                {
                    k += 4;
                    continue;
                }
                break;
            }
            for &i in &sig[start..k.min(sig.len())] {
                drop[i] = true;
            }
            continue;
        }
        // STORED AS TEXTFILE | JSONFILE
        if is_kw(t, Keyword::STORED)
            && tok(k + 1).is_some_and(|t| is_kw(t, Keyword::AS))
            && let Some(Token::Word(w)) = tok(k + 2)
        {
            match w.value.to_ascii_uppercase().as_str() {
                "TEXTFILE" => text_format = Some("CSV"),
                "JSONFILE" => text_format = Some("JSON"),
                "SEQUENCEFILE" | "ORC" | "RCFILE" | "AVRO" => {
                    return Err(DataFusionError::Plan(format!(
                        "STORED AS {} is not supported; use PARQUET, TEXTFILE, JSONFILE, CSV or JSON",
                        w.value
                    )));
                }
                _ => {}
            }
            k += 3;
            continue;
        }
        // COMMENT 'text' and TBLPROPERTIES (...) at table level.
        if is_kw(t, Keyword::COMMENT) && matches!(tok(k + 1), Some(Token::SingleQuotedString(_))) {
            drop[sig[k]] = true;
            drop[sig[k + 1]] = true;
            k += 2;
            continue;
        }
        if is_kw(t, Keyword::TBLPROPERTIES) {
            drop[sig[k]] = true;
            let mut d = 0usize;
            k += 1;
            while let Some(t) = tok(k) {
                drop[sig[k]] = true;
                match t {
                    Token::LParen => d += 1,
                    Token::RParen => {
                        d -= 1;
                        if d == 0 {
                            k += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            continue;
        }
        k += 1;
    }
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len() + 16);
    let mut replaced_format = false;
    for (i, t) in tokens.iter().enumerate() {
        if drop[i] {
            continue;
        }
        if let (Some(format), Token::Word(w)) = (text_format, &t.token)
            && !replaced_format
            && matches!(
                w.value.to_ascii_uppercase().as_str(),
                "TEXTFILE" | "JSONFILE"
            )
        {
            out.push(plain(word(format), t));
            replaced_format = true;
            continue;
        }
        out.push(t.clone());
    }
    if text_format == Some("CSV") && !has_options {
        let like = tokens
            .last()
            .cloned()
            .unwrap_or_else(|| plain(Token::EOF, &tokens[0]));
        let delimiter = delimiter.unwrap_or_else(|| "\u{1}".to_string());
        let items = [
            Token::Whitespace(Whitespace::Space),
            Token::Word(Word {
                value: "OPTIONS".into(),
                quote_style: None,
                keyword: Keyword::OPTIONS,
            }),
            Token::LParen,
            Token::SingleQuotedString("format.delimiter".into()),
            Token::SingleQuotedString(delimiter),
            Token::Comma,
            Token::SingleQuotedString("format.has_header".into()),
            Token::SingleQuotedString("false".into()),
            Token::RParen,
        ];
        // Before a trailing `;`, if any.
        let at = out
            .iter()
            .rposition(|t| {
                !matches!(
                    t.token,
                    Token::Whitespace(_) | Token::EOF | Token::SemiColon
                )
            })
            .map_or(out.len(), |p| p + 1);
        let tail = out.split_off(at);
        out.extend(items.into_iter().map(|t| plain(t, &like)));
        out.extend(tail);
    }
    Ok(out)
}

/// Hive delimiter literals: `'\t'`, `'\001'`, `'\u0001'`, or the character itself.
fn unescape(s: &str) -> String {
    // The tokenizer already turned `\0` into NUL: `'\001'` arrives as NUL, '0', '1'.
    if let Some(rest) = s.strip_prefix('\0')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
        && let Ok(v) = u32::from_str_radix(&format!("0{rest}"), 8)
        && let Some(c) = char::from_u32(v)
    {
        return c.to_string();
    }
    match s {
        "\\t" => "\t".into(),
        "\\n" => "\n".into(),
        _ => {
            if let Some(octal) = s.strip_prefix('\\')
                && let Ok(v) = u32::from_str_radix(octal, 8)
                && let Some(c) = char::from_u32(v)
            {
                return c.to_string();
            }
            if let Some(hex) = s.strip_prefix("\\u")
                && let Ok(v) = u32::from_str_radix(hex, 16)
                && let Some(c) = char::from_u32(v)
            {
                return c.to_string();
            }
            s.to_string()
        }
    }
}
