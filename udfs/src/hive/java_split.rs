//! Java's `String.split(regex, limit)`, which Hive's `split` and `str_to_map` are built on.
//!
//! The rules that differ from `regex::Regex::split`: a zero-width match at the very start
//! never yields a leading empty string; `limit > 0` caps the number of pieces (the last one
//! holds the rest of the input); `limit == 0` drops trailing empty strings; `limit < 0`
//! keeps everything. Input without any match yields the input itself.

use regex::Regex;

/// Splits `text` around matches of `pattern` with the semantics of Java's
/// `text.split(pattern, limit)`.
pub(crate) fn java_split<'t>(text: &'t str, pattern: &Regex, limit: i32) -> Vec<&'t str> {
    let max_pieces = usize::try_from(limit).ok().filter(|&n| n > 0);
    let mut pieces = Vec::new();
    let mut last = 0;
    for found in pattern.find_iter(text) {
        if max_pieces.is_some_and(|max| pieces.len() + 1 >= max) {
            break;
        }
        if found.end() == 0 {
            // A zero-width match at the beginning: Java yields no leading empty string.
            continue;
        }
        pieces.push(&text[last..found.start()]);
        last = found.end();
    }
    pieces.push(&text[last..]);
    if limit == 0 {
        while pieces.len() > 1 && pieces.last().is_some_and(|p| p.is_empty()) {
            pieces.pop();
        }
        // Java returns an empty array when every piece is empty, but the input itself when
        // there was no match at all ("".split(",") is [""]).
        if pieces.len() == 1 && pieces[0].is_empty() && !text.is_empty() {
            pieces.clear();
        }
    }
    pieces
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn split(text: &str, pattern: &str, limit: i32) -> Vec<String> {
        let re = Regex::new(pattern).unwrap();
        java_split(text, &re, limit)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn negative_limit_keeps_trailing_empty_strings() {
        assert_eq!(split("a,b,,", ",", -1), ["a", "b", "", ""]);
        assert_eq!(split(",a", ",", -1), ["", "a"]);
        assert_eq!(split("", ",", -1), [""]);
        assert_eq!(split("abc", ",", -1), ["abc"]);
    }

    #[test]
    fn zero_limit_drops_trailing_empty_strings() {
        assert_eq!(split("a,b,,", ",", 0), ["a", "b"]);
        assert_eq!(split(",,", ",", 0), Vec::<String>::new());
        assert_eq!(split("", ",", 0), [""]);
        assert_eq!(split(",a", ",", 0), ["", "a"]);
    }

    #[test]
    fn positive_limit_caps_the_pieces() {
        assert_eq!(split("k:v:w", ":", 2), ["k", "v:w"]);
        assert_eq!(split("k", ":", 2), ["k"]);
        assert_eq!(split("k:", ":", 2), ["k", ""]);
    }

    #[test]
    fn empty_pattern_splits_characters_without_a_leading_empty_string() {
        assert_eq!(split("abc", "", -1), ["a", "b", "c", ""]);
        assert_eq!(split("abc", "", 0), ["a", "b", "c"]);
        assert_eq!(split("héllo", "", 0), ["h", "é", "l", "l", "o"]);
    }

    #[test]
    fn regex_patterns() {
        assert_eq!(split("a1b22c", "[0-9]+", -1), ["a", "b", "c"]);
        assert_eq!(split("one  two three", "\\s+", -1), ["one", "two", "three"]);
        assert_eq!(split("a.b", "\\.", -1), ["a", "b"]);
    }
}
