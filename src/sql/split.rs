//! Splitting a script into statements at `;`, aware of quotes and comments.

/// One statement of a script, with where it starts (1-based line) for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    /// The statement text, without the terminating `;`.
    pub text: String,
    /// The line on which the statement's first token stands.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Quoted(char),
    LineComment,
    BlockComment,
}

/// The result of scanning a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitScript {
    /// The complete statements, in order; statements holding only comments are dropped.
    pub statements: Vec<ScriptStatement>,
    /// Text after the last `;` that holds more than whitespace and comments.
    pub rest: Option<ScriptStatement>,
    /// True when the text ends inside a quote or a block comment.
    pub unterminated: bool,
}

/// Splits `text` at every `;` that is outside quotes (`'...'`, `"..."`, `` `...` ``, with
/// backslash escapes as in Hive) and comments (`-- ...`, `/* ... */`).
pub fn split_script(text: &str) -> SplitScript {
    let mut statements = Vec::new();
    let mut state = State::Code;
    let mut start = 0usize; // byte offset of the current statement
    let mut first_code_line: Option<usize> = None;
    let mut line = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match state {
            State::Code => match c {
                ';' => {
                    if let Some(l) = first_code_line.take() {
                        statements.push(ScriptStatement {
                            text: text[start..i].trim().to_string(),
                            line: l,
                        });
                    }
                    start = i + 1;
                }
                '\'' | '"' | '`' => {
                    first_code_line.get_or_insert(line);
                    state = State::Quoted(c);
                }
                '-' if chars.peek().map(|p| p.1) == Some('-') => {
                    chars.next();
                    state = State::LineComment;
                }
                '/' if chars.peek().map(|p| p.1) == Some('*') => {
                    chars.next();
                    state = State::BlockComment;
                }
                c if c.is_whitespace() => {}
                _ => {
                    first_code_line.get_or_insert(line);
                }
            },
            State::Quoted(q) => {
                if c == '\\' && q != '`' {
                    if let Some((_, n)) = chars.next()
                        && n == '\n'
                    {
                        line += 1;
                    }
                } else if c == q {
                    // A doubled quote ('it''s') is an escaped quote: the next char re-opens.
                    state = State::Code;
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if c == '*' && chars.peek().map(|p| p.1) == Some('/') {
                    chars.next();
                    state = State::Code;
                }
            }
        }
        if c == '\n' {
            line += 1;
        }
    }
    let rest = first_code_line.map(|l| ScriptStatement {
        text: text[start..].trim().to_string(),
        line: l,
    });
    SplitScript {
        statements,
        rest,
        unterminated: matches!(state, State::Quoted(_) | State::BlockComment),
    }
}

/// True when `text` ends with a complete statement (a `;` outside quotes and comments,
/// followed by nothing but whitespace and comments) — what the REPL waits for.
pub fn is_complete(text: &str) -> bool {
    let split = split_script(text);
    !split.unterminated && split.rest.is_none() && !split.statements.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let s = split_script(
            "SELECT ';' AS a; -- a comment; with a semicolon\nSELECT \"x;y\" /* ; */ ;\n\n  SELECT 3",
        );
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.statements[0].text, "SELECT ';' AS a");
        assert_eq!(s.statements[1].line, 2);
        assert_eq!(s.rest.as_ref().map(|r| r.line), Some(4));
        assert!(!s.unterminated);
    }

    #[test]
    fn comment_only_statements_vanish() {
        let s = split_script("-- nothing here;\n/* nor ; here */;\n");
        assert!(s.statements.is_empty() && s.rest.is_none());
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let s = split_script("SELECT 'it\\'s; fine'; SELECT 'a''b;'");
        assert_eq!(s.statements.len(), 1);
        assert_eq!(s.rest.map(|r| r.text), Some("SELECT 'a''b;'".to_string()));
        assert!(is_complete("SELECT 1;\n -- done"));
        assert!(!is_complete("SELECT 'unterminated;"));
        assert!(!is_complete("SELECT 1"));
    }
}
