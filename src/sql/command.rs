//! Hive CLI commands that are not SQL: `SET`, `SOURCE`, `SHOW FUNCTIONS`, `DESCRIBE FUNCTION`.
//! Everything else is SQL for the parser (the warehouse's `SHOW TABLES` and `DESCRIBE t`
//! included: see [`crate::sql::hive_statements`]).

/// What a statement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A SQL statement.
    Sql,
    /// `SET;` — list every variable.
    ListVariables,
    /// `SET k;` — show one variable.
    ShowVariable(String),
    /// `SET k=v;`
    SetVariable(String, String),
    /// `SOURCE file;`
    Source(String),
    /// `SHOW FUNCTIONS [LIKE 'pattern']`
    ShowFunctions(Option<String>),
    /// `DESCRIBE FUNCTION [EXTENDED] name`
    DescribeFunction {
        /// The function's name, as written.
        name: String,
        /// Whether `EXTENDED` asks for the examples and notes too.
        extended: bool,
    },
}

fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    let rest = &text[keyword.len()..];
    (head.eq_ignore_ascii_case(keyword)
        && (rest.is_empty() || rest.starts_with(char::is_whitespace)))
    .then(|| rest.trim_start())
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    for q in ['\'', '"', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

/// `[LIKE] 'pattern'` after SHOW FUNCTIONS / SHOW TABLES.
fn like_pattern(rest: &str) -> Option<String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    let rest = strip_keyword(rest, "LIKE").unwrap_or(rest);
    Some(unquote(rest))
}

/// Classifies one statement (without its `;`).
pub fn classify(text: &str) -> Command {
    let text = text.trim();
    if let Some(rest) = strip_keyword(text, "SET") {
        if rest.is_empty() {
            return Command::ListVariables;
        }
        // DataFusion's own `SET x TO y` / `SET TIME ZONE` stay SQL.
        return match rest.split_once('=') {
            Some((k, v)) if !k.trim().contains(char::is_whitespace) => {
                Command::SetVariable(k.trim().to_string(), unquote(v))
            }
            None if !rest.contains(char::is_whitespace) => Command::ShowVariable(rest.to_string()),
            _ => Command::Sql,
        };
    }
    if let Some(rest) = strip_keyword(text, "SOURCE") {
        return Command::Source(unquote(rest));
    }
    if let Some(rest) = strip_keyword(text, "SHOW")
        && let Some(rest) = strip_keyword(rest, "FUNCTIONS")
    {
        return Command::ShowFunctions(like_pattern(rest));
    }
    let describe = strip_keyword(text, "DESCRIBE").or_else(|| strip_keyword(text, "DESC"));
    if let Some(rest) = describe
        && let Some(rest) = strip_keyword(rest, "FUNCTION")
    {
        let extended = strip_keyword(rest, "EXTENDED");
        return Command::DescribeFunction {
            name: unquote(extended.unwrap_or(rest)),
            extended: extended.is_some(),
        };
    }
    Command::Sql
}

/// Hive's `SHOW ... LIKE` pattern: `*` matches anything, `|` separates alternatives;
/// case-insensitive. Linear in the pattern and name lengths, whatever the pattern (no
/// backtracking: see [`glob`]).
pub fn like_matches(pattern: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    pattern
        .split('|')
        .any(|alt| glob(&alt.trim().to_ascii_lowercase(), &name))
}

/// Whether `text` matches `pattern`, in which `*` stands for any run of characters.
///
/// The pieces between stars are literal: the first must start the text, the last must end
/// it, and each one in between is matched at its leftmost place after the one before (the
/// leftmost place leaves the most text for the rest, so if any placement matches, this one
/// does). Each search resumes where the last match ended and `str::find` is linear, so a
/// pattern such as `*****…a` costs one pass, not one branch per star.
fn glob(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let Some(first) = pieces.next() else {
        return text.is_empty();
    };
    let Some(rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = pieces.collect();
    let Some((last, middle)) = middle.split_last() else {
        // No star: the whole text.
        return rest.is_empty();
    };
    let mut rest = rest;
    for piece in middle.iter().filter(|p| !p.is_empty()) {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_hive_commands() {
        assert_eq!(classify("set"), Command::ListVariables);
        assert_eq!(classify("SET x"), Command::ShowVariable("x".into()));
        assert_eq!(
            classify("SET hivevar:t = words"),
            Command::SetVariable("hivevar:t".into(), "words".into())
        );
        assert_eq!(classify("SET TIME ZONE 'UTC'"), Command::Sql);
        assert_eq!(
            classify("source 'a b.sql'"),
            Command::Source("a b.sql".into())
        );
        assert_eq!(
            classify("SHOW FUNCTIONS LIKE 'ex*'"),
            Command::ShowFunctions(Some("ex*".into()))
        );
        assert_eq!(
            classify("desc function extended explode"),
            Command::DescribeFunction {
                name: "explode".into(),
                extended: true
            }
        );
        assert_eq!(
            classify("DESCRIBE FUNCTION size"),
            Command::DescribeFunction {
                name: "size".into(),
                extended: false
            }
        );
        assert_eq!(classify("DESCRIBE words_train"), Command::Sql);
        assert_eq!(classify("SELECT 1"), Command::Sql);
        assert_eq!(classify("SETTLE"), Command::Sql);
    }

    #[test]
    fn hive_like_patterns() {
        assert!(like_matches("ex*", "explode"));
        assert!(like_matches("*explode", "posexplode"));
        assert!(like_matches("size|split", "SPLIT"));
        assert!(!like_matches("ex*", "posexplode"));
        assert!(like_matches("*", "anything"));
        assert!(like_matches("", ""));
        assert!(!like_matches("", "x"));
        assert!(like_matches("a*b*c", "aXbYc"));
        assert!(like_matches("a*b*c", "abc"));
        assert!(!like_matches("a*b*c", "acb"));
        assert!(like_matches("*ab*ab*", "xabyab"));
        assert!(!like_matches("*ab*ab*", "xaby"));
        // The last piece must end the text, even when it also occurs earlier.
        assert!(like_matches("a*a", "aXaYa"));
        assert!(!like_matches("aa*aa", "aaa"));
        assert!(like_matches("aa*aa", "aaaa"));
        assert!(like_matches("**x**", "x"));
        assert!(like_matches("W*ds_T*N", "words_train"));
    }

    /// Stars cost nothing extra: a pattern that made the old backtracking matcher take
    /// exponential time (billions of steps) is answered at once.
    #[test]
    fn many_stars_are_linear() {
        let pattern = format!("{}a", "*".repeat(30));
        let name = "b".repeat(200);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            assert!(!like_matches(&pattern, &name));
        }
        assert!(like_matches(&pattern, &format!("{name}a")));
        let long = format!("{}b", "*a".repeat(5_000));
        assert!(!like_matches(&long, &"a".repeat(20_000)));
        assert!(like_matches(&long, &format!("{}b", "a".repeat(5_000))));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
