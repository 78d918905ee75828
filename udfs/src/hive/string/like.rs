//! Hive's `like(str, pattern)` (also `str LIKE pattern`), `likeany` and `likeall` (Hive 4's
//! `str LIKE ANY (p1, ...)` / `LIKE ALL`).
//!
//! Hive's rules: `_` is one character and `%` any run, both matched as Java's `.` (which does
//! not match a line terminator); `\_` and `\%` are the characters, a backslash before anything
//! else is itself. Patterns that are a plain prefix (`abc%`), suffix (`%abc`), infix (`%abc%`)
//! or text are compared as strings, so there a `%` does span line terminators.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::java_regex::compile_rust;
use super::row_fn::{Arg, Out, Ret, RowFn, Val};

/// What a LIKE pattern is, after Hive's `UDFLike.parseSimplePattern`.
enum Shape {
    Begin(String),
    End(String),
    Middle(String),
    Equals(String),
    Complex,
}

fn shape(pattern: &str) -> Shape {
    let chars: Vec<char> = pattern.chars().collect();
    let length = chars.len();
    let mut begin = 0;
    let mut end = length;
    let mut last = 'a';
    let mut text = String::new();
    let mut kind = 0u8; // 0 none, 1 end, 2 begin, 3 middle
    for (i, &n) in chars.iter().enumerate() {
        if n == '_' {
            if last != '\\' {
                return Shape::Complex;
            }
            text.extend(&chars[begin..i - 1]);
            begin = i;
        } else if n == '%' {
            if i == 0 {
                kind = 1;
                begin = 1;
            } else if i < length - 1 {
                if last != '\\' {
                    return Shape::Complex;
                }
                text.extend(&chars[begin..i - 1]);
                begin = i;
            } else if last != '\\' {
                end = length - 1;
                kind = if kind == 1 { 3 } else { 2 };
            } else {
                text.extend(&chars[begin..i - 1]);
                begin = i;
                end = length;
            }
        }
        last = n;
    }
    if begin < end {
        text.extend(&chars[begin..end]);
    }
    match kind {
        1 => Shape::End(text),
        2 => Shape::Begin(text),
        3 => Shape::Middle(text),
        _ => Shape::Equals(text),
    }
}

/// The regular expression Hive's `likePatternToRegExp` makes, in the `regex` crate's syntax.
fn to_regex(pattern: &str) -> String {
    const DOT: &str = "[^\\n\\r\\x{85}\\x{2028}\\x{2029}]";
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("\\A(?:");
    let mut i = 0;
    while i < chars.len() {
        let n = chars[i];
        if n == '\\' && matches!(chars.get(i + 1), Some('_') | Some('%')) {
            out.push_str(&regex::escape(&chars[i + 1].to_string()));
            i += 2;
            continue;
        }
        match n {
            '_' => out.push_str(DOT),
            '%' => {
                out.push_str(DOT);
                out.push('*');
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out.push_str(")\\z");
    out
}

/// Whether `text` is LIKE `pattern` by Hive's rules.
pub(crate) fn hive_like(text: &str, pattern: &str) -> Result<bool> {
    Ok(match shape(pattern) {
        Shape::Begin(p) => text.starts_with(&p),
        Shape::End(p) => text.ends_with(&p),
        Shape::Middle(p) => text.contains(&p),
        Shape::Equals(p) => text == p,
        Shape::Complex => compile_rust("like", &to_regex(pattern))?.is_match(text),
    })
}

fn like(args: &[Val<'_>]) -> Result<Out> {
    let (Some(text), Some(pattern)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    Ok(Out::Bool(hive_like(text, pattern)?))
}

fn like_any(args: &[Val<'_>]) -> Result<Out> {
    let Some(text) = args[0].str() else {
        return Ok(Out::Null);
    };
    let mut found = false;
    for p in &args[1..] {
        let Some(p) = p.str() else {
            return Ok(Out::Null);
        };
        found = found || hive_like(text, p)?;
    }
    Ok(Out::Bool(found))
}

fn like_all(args: &[Val<'_>]) -> Result<Out> {
    let Some(text) = args[0].str() else {
        return Ok(Out::Null);
    };
    let mut all = true;
    for p in &args[1..] {
        let Some(p) = p.str() else {
            return Ok(Out::Null);
        };
        all = all && hive_like(text, p)?;
    }
    Ok(Out::Bool(all))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new("like", &[Arg::Str], (2, 2), Ret::Bool, like)
            .doc(
                "True if str matches the SQL pattern (_ one character, % any characters, \\_ \
                 and \\% themselves); also written str LIKE pattern.",
                "like(str, pattern)",
                "SELECT 'facebook' LIKE '%boo%';\n-- true",
            )
            .udf(),
        RowFn::new("likeany", &[Arg::Str], (2, usize::MAX), Ret::Bool, like_any)
            .sees_nulls()
            .doc(
                "True if str matches any of the patterns; NULL when str or a pattern is NULL \
                 (also written str LIKE ANY (pattern1, ...)).",
                "likeany(str, pattern1, pattern2, ...)",
                "SELECT likeany('abc', 'a%', 'z%');\n-- true",
            )
            .udf(),
        RowFn::new("likeall", &[Arg::Str], (2, usize::MAX), Ret::Bool, like_all)
            .sees_nulls()
            .doc(
                "True if str matches all of the patterns; NULL when str or a pattern is NULL \
                 (also written str LIKE ALL (pattern1, ...)).",
                "likeall(str, pattern1, pattern2, ...)",
                "SELECT likeall('abc', 'a%', '%c');\n-- true",
            )
            .udf(),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn follows_hive_like() {
        let cases = [
            ("abc", "a%", true),
            ("abc", "a_c", true),
            ("a\nc", "a_c", false),
            ("a%c", "a\\%c", true),
            ("abc", "a\\%c", false),
            ("a.c", "a.c", true),
            ("abc", "a.c", false),
            ("a\nb\nc", "a%c", false),
            ("a\nb", "a%", true),
            ("ab", "a\\", false),
            ("a_", "a\\_", true),
            ("aXb", "a\\Xb", false),
            ("a\\Xb", "a\\Xb", true),
            ("", "%", true),
            ("a", "", false),
            ("a(b", "a(b", true),
            ("[ab]", "[ab]", true),
            ("xabcx", "%abc%", true),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                hive_like(text, pattern).unwrap(),
                expected,
                "{text:?} LIKE {pattern:?}"
            );
        }
    }
}
