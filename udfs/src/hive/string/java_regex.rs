//! Java's regular expressions (`java.util.regex`, which Hive's regexp functions use) on the
//! `regex` crate: a pattern is translated so that it matches what Java's would, or refused
//! with an error naming the Java feature the crate lacks; never silently different.
//!
//! Translated: `\d \w \s \D \W \S \h \v \R` and the POSIX `\p{Alpha}`-style classes are
//! ASCII, as in Java; `.` does not match `\r`, `\u0085`, `\u2028`, `\u2029` (nor `\n`) unless
//! `(?s)`; `\Q...\E` quotes; `\<` `\>` are the characters; `[[:x:]]` in a class is the
//! characters `:x:`; `~` in a class is literal. Refused: back-references, look-around,
//! atomic groups, possessive quantifiers, `\G`, `\Z`, the `(?U)` flag.
//!
//! [`find_at`] follows `Matcher.find()`: after an empty match the next search starts one
//! character later, and an empty match right after a non-empty one is found.
//! [`append_replacement`] follows `Matcher.appendReplacement`: `$n` and `${name}` refer to
//! groups, `\x` is `x`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::common::{Result, exec_err};
use regex::{Captures, Regex};

/// How many distinct patterns are kept compiled.
const CAPACITY: usize = 256;

static COMPILED: LazyLock<Mutex<HashMap<String, Arc<JavaRegex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

static COMPILED_RUST: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The compiled form of a pattern already in the `regex` crate's syntax.
pub(crate) fn compile_rust(function: &str, pattern: &str) -> Result<Arc<Regex>> {
    let key = pattern.to_owned();
    if let Ok(compiled) = COMPILED_RUST.lock()
        && let Some(re) = compiled.get(&key)
    {
        return Ok(Arc::clone(re));
    }
    let re = match Regex::new(pattern) {
        Ok(re) => Arc::new(re),
        Err(e) => return exec_err!("{function}: cannot compile '{pattern}': {e}"),
    };
    if let Ok(mut compiled) = COMPILED_RUST.lock() {
        if compiled.len() >= CAPACITY {
            compiled.clear();
        }
        compiled.insert(key, Arc::clone(&re));
    }
    Ok(re)
}

/// A compiled Java pattern.
///
/// Java's `$` (outside multi-line mode) matches at the end and also before a line terminator
/// that ends the input; the crate's only at the end. For a text ending with one line
/// terminator (and holding no other), a variant whose `$` is the crate's multi-line `$` (with
/// CR/LF as terminators) answers as Java does; other texts ending with a line terminator are
/// refused when the pattern has a `$`.
#[derive(Debug)]
pub(crate) struct JavaRegex {
    re: Regex,
    eol: Option<Regex>,
}

impl JavaRegex {
    /// The regex that matches as Java's pattern does on `text`.
    pub(crate) fn for_text(&self, function: &str, text: &str) -> Result<&Regex> {
        let Some(eol) = &self.eol else {
            return Ok(&self.re);
        };
        let body = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .or_else(|| text.strip_suffix('\r'));
        let terminators = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];
        match body {
            None if !text.ends_with(terminators) => Ok(&self.re),
            Some(body) if !body.contains(terminators) => Ok(eol),
            _ => exec_err!(
                "{function}: a pattern with '$' on a text that ends with a line terminator and \
                 holds others is not supported (Java's '$' also matches before the final line \
                 terminator); use \\z or (?m)"
            ),
        }
    }
}

/// The compiled form of Java pattern `pattern`; `function` names the caller in errors.
pub(crate) fn compile(function: &str, pattern: &str) -> Result<Arc<JavaRegex>> {
    if let Ok(compiled) = COMPILED.lock()
        && let Some(re) = compiled.get(pattern)
    {
        return Ok(Arc::clone(re));
    }
    let build = |translated: &str| match Regex::new(translated) {
        Ok(re) => Ok(re),
        Err(e) => {
            let e = e.to_string();
            let why = if e.contains("look-around") {
                "uses look-around, which Apiary's regular expressions do not support".to_owned()
            } else if e.contains("backreference") {
                "uses a back-reference, which Apiary's regular expressions do not support"
                    .to_owned()
            } else {
                format!("is not valid: {e}")
            };
            exec_err!("{function}: regular expression '{pattern}' {why}")
        }
    };
    let (translated, has_dollar) = match translate_with(pattern, "$") {
        Ok(t) => t,
        Err(why) => {
            return exec_err!("{function}: regular expression '{pattern}' {why}");
        }
    };
    let re = build(&translated)?;
    let eol = if has_dollar {
        match translate_with(pattern, "(?mR:$)") {
            Ok((t, _)) => Some(build(&t)?),
            Err(why) => return exec_err!("{function}: regular expression '{pattern}' {why}"),
        }
    } else {
        None
    };
    let compiled = Arc::new(JavaRegex { re, eol });
    if let Ok(mut cache) = COMPILED.lock() {
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), Arc::clone(&compiled));
    }
    Ok(compiled)
}

const UNSUPPORTED: &str = "which Apiary's regular expressions do not support";

/// The ASCII class (the inside of `[...]`) Java gives a POSIX `\p{Name}`.
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "Lower" => "a-z",
        "Upper" => "A-Z",
        "ASCII" => "\\x00-\\x7F",
        "Alpha" => "a-zA-Z",
        "Digit" => "0-9",
        "Alnum" => "a-zA-Z0-9",
        "Punct" => "!-/:-@\\[-`{-~",
        "Graph" => "!-~",
        "Print" => " -~",
        "Blank" => " \\t",
        "Cntrl" => "\\x00-\\x1F\\x7F",
        "XDigit" => "0-9a-fA-F",
        "Space" => "\\t\\n\\x0B\\f\\r ",
        _ => return None,
    })
}

/// The class body of a Java shorthand escape (`d` → `0-9`), and whether it is negated.
fn shorthand(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("a-zA-Z_0-9", false),
        'W' => ("a-zA-Z_0-9", true),
        's' => ("\\t\\n\\x0B\\f\\r ", false),
        'S' => ("\\t\\n\\x0B\\f\\r ", true),
        'h' => (
            " \\t\\xA0\\x{1680}\\x{180e}\\x{2000}-\\x{200a}\\x{202f}\\x{205f}\\x{3000}",
            false,
        ),
        'H' => (
            " \\t\\xA0\\x{1680}\\x{180e}\\x{2000}-\\x{200a}\\x{202f}\\x{205f}\\x{3000}",
            true,
        ),
        'v' => ("\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}", false),
        'V' => ("\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}", true),
        _ => return None,
    })
}

fn class(body: &str, negated: bool) -> String {
    if negated {
        format!("[^{body}]")
    } else {
        format!("[{body}]")
    }
}

/// Translates a Java pattern to the `regex` crate's syntax, or says which Java feature it uses
/// that the crate lacks.
pub(crate) fn translate(pattern: &str) -> std::result::Result<String, String> {
    translate_with(pattern, "$").map(|(t, _)| t)
}

/// [`translate`], writing `dollar` for each `$` anchor outside multi-line mode; also says
/// whether there was one.
fn translate_with(pattern: &str, dollar: &str) -> std::result::Result<(String, bool), String> {
    let mut has_dollar = false;
    let mut multiline = false;
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut depth = 0usize; // nesting of character classes
    let mut dotall = false;
    let mut unix_lines = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err("ends with an unescaped backslash".to_owned());
                };
                i += 2;
                if let Some((body, negated)) = shorthand(e) {
                    if depth > 0 && !negated {
                        out.push_str(body);
                    } else {
                        out.push_str(&class(body, negated));
                    }
                    continue;
                }
                match e {
                    '1'..='9' | 'k' => {
                        return Err(format!("uses a back-reference, {UNSUPPORTED}"));
                    }
                    'G' | 'Z' | 'X' | 'N' => {
                        return Err(format!("uses \\{e}, {UNSUPPORTED}"));
                    }
                    'R' if depth == 0 => {
                        out.push_str("(?:\\r\\n|[\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}])");
                    }
                    '<' | '>' => out.push(e),
                    'e' => out.push_str("\\x1B"),
                    '0' => {
                        let mut value = 0u32;
                        let mut digits = 0;
                        while digits < 3
                            && let Some(d) = chars.get(i).and_then(|d| d.to_digit(8))
                            && value * 8 + d <= 0o377
                        {
                            value = value * 8 + d;
                            i += 1;
                            digits += 1;
                        }
                        if digits == 0 {
                            return Err("has an illegal octal escape \\0".to_owned());
                        }
                        out.push_str(&format!("\\x{{{value:x}}}"));
                    }
                    'c' => {
                        let Some(&x) = chars.get(i) else {
                            return Err("ends with \\c".to_owned());
                        };
                        i += 1;
                        out.push_str(&format!("\\x{{{:x}}}", u32::from(x) ^ 64));
                    }
                    'Q' => {
                        let mut literal = String::new();
                        while i < chars.len()
                            && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E'))
                        {
                            literal.push(chars[i]);
                            i += 1;
                        }
                        if i < chars.len() {
                            i += 2;
                        }
                        out.push_str(&regex::escape(&literal));
                    }
                    'p' | 'P' if chars.get(i) == Some(&'{') => {
                        let close = chars[i..].iter().position(|&x| x == '}').map(|p| p + i);
                        let Some(close) = close else {
                            return Err("has an unclosed \\p{".to_owned());
                        };
                        let name: String = chars[i + 1..close].iter().collect();
                        let name = name.strip_prefix("Is").unwrap_or(&name).to_owned();
                        i = close + 1;
                        let negated = e == 'P';
                        match posix_class(&name) {
                            Some(body) if depth > 0 && !negated => out.push_str(body),
                            Some(body) => out.push_str(&class(body, negated)),
                            None if name.starts_with("java") => {
                                return Err(format!("uses \\p{{{name}}}, {UNSUPPORTED}"));
                            }
                            None => out.push_str(&format!("\\{e}{{{name}}}")),
                        }
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            '[' => {
                if depth > 0 && chars.get(i + 1) == Some(&':') {
                    // Java: a nested class of the characters ':' ...; the crate: a POSIX class.
                    out.push_str("[\\:");
                    i += 2;
                    depth += 1;
                    continue;
                }
                depth += 1;
                out.push('[');
                i += 1;
                // A leading '^' and a ']' right after the opening are taken as in the crate.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                continue;
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(']');
            }
            '~' if depth > 0 => out.push_str("\\~"),
            '-' if depth > 0 && chars.get(i + 1) == Some(&'-') => {
                return Err(
                    "has '--' in a character class, which Java and Apiary read differently"
                        .to_owned(),
                );
            }
            '.' if depth == 0 => {
                if dotall {
                    out.push_str("(?s:.)");
                } else if unix_lines {
                    out.push_str("[^\\n]");
                } else {
                    out.push_str("[^\\n\\r\\x{85}\\x{2028}\\x{2029}]");
                }
            }
            '(' if depth == 0 && chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                {
                    return Err(format!("uses look-around, {UNSUPPORTED}"));
                }
                if rest.starts_with('>') {
                    return Err(format!("uses an atomic group, {UNSUPPORTED}"));
                }
                // Inline flags: (?idmsux-idmsux) or (?flags:...).
                let mut j = i + 2;
                let mut on = true;
                let mut flags = String::new();
                while let Some(&f) = chars.get(j) {
                    match f {
                        '-' => on = false,
                        's' => dotall = on,
                        'm' => multiline = on,
                        'd' => {
                            unix_lines = on;
                            j += 1;
                            continue;
                        }
                        'U' => return Err(format!("uses the flag (?U), {UNSUPPORTED}")),
                        'i' | 'u' | 'x' => {}
                        _ => break,
                    }
                    flags.push(f);
                    j += 1;
                }
                if matches!(chars.get(j), Some(')') | Some(':')) {
                    let flags = flags.trim_end_matches('-');
                    if flags.is_empty() {
                        out.push_str(if chars[j] == ':' { "(?:" } else { "" });
                    } else {
                        out.push_str("(?");
                        out.push_str(flags);
                        out.push(chars[j]);
                    }
                    i = j + 1;
                    continue;
                }
                out.push('(');
            }
            '$' if depth == 0 && !multiline => {
                has_dollar = true;
                out.push_str(dollar);
            }
            '*' | '+' | '?' | '}' if depth == 0 && chars.get(i + 1) == Some(&'+') => {
                return Err(format!("uses a possessive quantifier, {UNSUPPORTED}"));
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok((out, has_dollar))
}

/// The next match at or after byte `start`, with its groups.
pub(crate) fn captures_at<'t>(re: &Regex, text: &'t str, start: usize) -> Option<Captures<'t>> {
    if start > text.len() {
        return None;
    }
    re.captures_at(text, start)
}

/// Where `Matcher.find()` searches next after a match from `start` to `end`.
pub(crate) fn next_start(text: &str, start: usize, end: usize) -> usize {
    if start == end {
        end + text[end..].chars().next().map_or(1, char::len_utf8)
    } else {
        end
    }
}

/// Appends `replacement` for the match `caps` as `Matcher.appendReplacement` does.
pub(crate) fn append_replacement(
    function: &str,
    re: &Regex,
    caps: &Captures<'_>,
    replacement: &str,
    out: &mut String,
) -> Result<()> {
    let group_count = caps.len() - 1;
    let mut chars = replacement.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => {
                    return exec_err!(
                        "{function}: the replacement '{replacement}' ends with a backslash \
                         (character to be escaped is missing)"
                    );
                }
            },
            '$' => {
                let Some(&(_, next)) = chars.peek() else {
                    return exec_err!(
                        "{function}: illegal group reference in '{replacement}': group index is \
                         missing"
                    );
                };
                if next == '{' {
                    chars.next();
                    let mut name = String::new();
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                        name.push(c);
                    }
                    match caps.name(&name) {
                        Some(m) => out.push_str(m.as_str()),
                        None if re.capture_names().any(|n| n == Some(name.as_str())) => {}
                        None => {
                            return exec_err!("{function}: no group with name {{{name}}}");
                        }
                    }
                    continue;
                }
                let Some(first) = next.to_digit(10) else {
                    return exec_err!(
                        "{function}: illegal group reference in '{replacement}' ('$' must be \
                         followed by a group number or {{name}}; write \\$ for a dollar sign)"
                    );
                };
                chars.next();
                let mut group = first as usize;
                if group > group_count {
                    return exec_err!("{function}: no group {group} in the regular expression");
                }
                while let Some(&(_, d)) = chars.peek() {
                    let Some(d) = d.to_digit(10) else { break };
                    let longer = group * 10 + d as usize;
                    if longer > group_count {
                        break;
                    }
                    group = longer;
                    chars.next();
                }
                if let Some(m) = caps.get(group) {
                    out.push_str(m.as_str());
                }
            }
            c => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        let re = compile("t", pattern).unwrap();
        re.for_text("t", text).unwrap().is_match(text)
    }

    #[test]
    fn java_classes_are_ascii_and_refusals_are_named() {
        assert!(m("\\d+", "12"));
        assert!(!m("\\d+", "٣"));
        assert!(
            compile("t", "(a)\\1")
                .unwrap_err()
                .to_string()
                .contains("back-reference")
        );
        assert!(
            compile("t", "a(?=b)")
                .unwrap_err()
                .to_string()
                .contains("look-around")
        );
        assert!(
            compile("t", "a*+")
                .unwrap_err()
                .to_string()
                .contains("possessive")
        );
        assert!(m("\\Qa.b\\E", "a.b"));
        assert!(!m("\\Qa.b\\E", "axb"));
        assert!(!m("a.b", "a\rb"));
        assert!(m("(?s)a.b", "a\rb"));
        assert!(m("[[:alpha:]]", ":"));
        assert!(m("\\p{Alpha}", "a"));
        assert!(!m("\\p{Alpha}", "é"));
        assert!(m("[\\D]", "x"));
    }

    #[test]
    fn dollar_also_matches_before_a_final_line_terminator() {
        assert!(m("b$", "ab\n"));
        assert!(m("b$", "ab\r\n"));
        assert!(!m("b$", "ab\nc"));
        assert!(m("b$", "ab"));
        assert!(!m("[$]", "ab\n"));
        let re = compile("t", "b$").unwrap();
        assert!(re.for_text("t", "b\nab\n").is_err());
    }
}
