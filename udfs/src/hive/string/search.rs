//! Hive's string search functions: `locate`, `instr`, `find_in_set`, `field`, `elt` and
//! `substring_index`. Positions are 1-based and count characters; 0 means not found.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{Arg, Out, Ret, RowFn, Val};

/// The 1-based character position of `needle` in `haystack` from character `from` (0-based),
/// 0 when absent.
fn char_position(haystack: &str, needle: &str, from: usize) -> i64 {
    let Some((start, _)) = haystack
        .char_indices()
        .chain(std::iter::once((haystack.len(), ' ')))
        .nth(from)
    else {
        return 0;
    };
    match haystack[start..].find(needle) {
        Some(at) => (from + haystack[start..start + at].chars().count() + 1) as i64,
        None => 0,
    }
}

fn locate(args: &[Val<'_>]) -> Result<Out> {
    let (Some(needle), Some(haystack)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    // Hive: a NULL or a position below 1 gives 0.
    let pos = match args.get(2) {
        None => 1,
        Some(Val::I(p)) => *p,
        Some(_) => 0,
    };
    if pos < 1 {
        return Ok(Out::I(0));
    }
    let from = usize::try_from(pos - 1).unwrap_or(usize::MAX);
    if needle.is_empty() {
        // Hive finds the empty string at position 1, from any start inside the string.
        return Ok(Out::I(i64::from(from <= haystack.chars().count())));
    }
    Ok(Out::I(char_position(haystack, needle, from)))
}

fn instr(args: &[Val<'_>]) -> Result<Out> {
    let (Some(haystack), Some(needle)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    Ok(Out::I(char_position(haystack, needle, 0)))
}

fn find_in_set(args: &[Val<'_>]) -> Result<Out> {
    let (Some(needle), Some(list)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    if needle.contains(',') {
        return Ok(Out::I(0));
    }
    Ok(Out::I(
        list.split(',')
            .position(|item| item == needle)
            .map_or(0, |i| i as i64 + 1),
    ))
}

fn same(a: Val<'_>, b: Val<'_>) -> bool {
    match (a, b) {
        (Val::S(a), Val::S(b)) => a == b,
        (Val::I(a), Val::I(b)) => a == b,
        (Val::F(a), Val::F(b)) => a == b,
        (Val::I(a), Val::F(b)) | (Val::F(b), Val::I(a)) => (a as f64) == b,
        _ => false,
    }
}

fn field(args: &[Val<'_>]) -> Result<Out> {
    let Some((first, rest)) = args.split_first() else {
        return Ok(Out::I(0));
    };
    if first.is_null() {
        return Ok(Out::I(0));
    }
    Ok(Out::I(
        rest.iter()
            .position(|v| same(*first, *v))
            .map_or(0, |i| i as i64 + 1),
    ))
}

fn elt(args: &[Val<'_>]) -> Result<Out> {
    let Some(n) = args[0].int() else {
        return Ok(Out::Null);
    };
    let Some(v) = usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .and_then(|n| args.get(n))
    else {
        return Ok(Out::Null);
    };
    Ok(v.str().map_or(Out::Null, |s| Out::S(s.to_owned())))
}

fn substring_index(args: &[Val<'_>]) -> Result<Out> {
    let (Some(s), Some(delim), Some(count)) = (args[0].str(), args[1].str(), args[2].int()) else {
        return Ok(Out::Null);
    };
    if count == 0 || delim.is_empty() || s.is_empty() {
        return Ok(Out::S(String::new()));
    }
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let out = if count > 0 {
        // commons-lang ordinalIndexOf: matches may not overlap.
        match s.match_indices(delim).nth(wanted - 1) {
            Some((at, _)) => &s[..at],
            None => s,
        }
    } else {
        match s.rmatch_indices(delim).nth(wanted - 1) {
            Some((at, _)) => &s[at + delim.len()..],
            None => s,
        }
    };
    Ok(Out::S(out.to_owned()))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new(
            "locate",
            &[Arg::Str, Arg::Str, Arg::Int],
            (2, 3),
            Ret::Int32,
            locate,
        )
        .sees_nulls()
        .doc(
            "The position of the first occurrence of substr in str after position pos \
                 (1-based); 0 when not found or pos < 1.",
            "locate(substr, str[, pos])",
            "SELECT locate('bar', 'foobarbar', 5);\n-- 7",
        )
        .udf(),
        RowFn::new("instr", &[Arg::Str], (2, 2), Ret::Int32, instr)
            .doc(
                "The position of the first occurrence of substr in str (1-based), 0 when \
                 absent.",
                "instr(str, substr)",
                "SELECT instr('Facebook', 'boo');\n-- 5",
            )
            .udf(),
        RowFn::new("find_in_set", &[Arg::Str], (2, 2), Ret::Int32, find_in_set)
            .doc(
                "The position of str in the comma-delimited list strList (1-based); 0 when \
                 absent or when str contains a comma.",
                "find_in_set(str, strList)",
                "SELECT find_in_set('ab', 'abc,b,ab,c,def');\n-- 3",
            )
            .udf(),
        RowFn::new("field", &[Arg::Any], (1, usize::MAX), Ret::Int32, field)
            .sees_nulls()
            .doc(
                "The index of str in the list str1, str2, ... (1-based); 0 when absent or when \
                 str is NULL.",
                "field(str, str1, str2, ...)",
                "SELECT field('world', 'say', 'hello', 'world');\n-- 3",
            )
            .udf(),
        RowFn::new("elt", &[Arg::Int, Arg::Str], (2, usize::MAX), Ret::Str, elt)
            .sees_nulls()
            .doc(
                "The n-th string of the list (1-based); NULL when n is out of range.",
                "elt(n, str1, str2, ...)",
                "SELECT elt(1, 'face', 'book');\n-- face",
            )
            .udf(),
        RowFn::new(
            "substring_index",
            &[Arg::Str, Arg::Str, Arg::Int],
            (3, 3),
            Ret::Str,
            substring_index,
        )
        .doc(
            "The substring of str before count occurrences of the delimiter delim (after, \
             counting from the right, when count is negative).",
            "substring_index(str, delim, count)",
            "SELECT substring_index('www.apache.org', '.', 2);\n-- www.apache",
        )
        .udf(),
    ]
}
