//! Hive's functions that reshape a string: `lpad`, `rpad`, `ltrim`, `rtrim`, `trim` (spaces
//! only), `space`, `repeat`, `reverse`, `replace`, `translate` and `quote`.

use std::sync::Arc;

use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{Arg, Out, Ret, RowFn, Val};

/// The longest string `space` and `repeat` build (Hive's strings hold at most 2 GiB; a larger
/// answer is refused rather than exhausting memory).
const MAX_BUILT: usize = 1 << 30;

fn pad(args: &[Val<'_>], left: bool) -> Result<Out> {
    let (Some(s), Some(len), Some(fill)) = (args[0].str(), args[1].int(), args[2].str()) else {
        return Ok(Out::Null);
    };
    if fill.is_empty() {
        return Ok(Out::Null);
    }
    let name = if left { "lpad" } else { "rpad" };
    let Ok(len) = usize::try_from(len) else {
        return exec_err!("{name}: the length {len} is negative");
    };
    if len > MAX_BUILT {
        return exec_err!("{name}: the length {len} is too large");
    }
    let chars = s.chars().count();
    if len <= chars {
        return Ok(Out::S(s.chars().take(len).collect()));
    }
    let padding: String = fill.chars().cycle().take(len - chars).collect();
    Ok(Out::S(if left {
        padding + s
    } else {
        s.to_owned() + &padding
    }))
}

fn lpad(args: &[Val<'_>]) -> Result<Out> {
    pad(args, true)
}

fn rpad(args: &[Val<'_>]) -> Result<Out> {
    pad(args, false)
}

fn ltrim(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.trim_start_matches(' ').to_owned())))
}

fn rtrim(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.trim_end_matches(' ').to_owned())))
}

fn trim(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.trim_matches(' ').to_owned())))
}

fn space(args: &[Val<'_>]) -> Result<Out> {
    let Some(n) = args[0].int() else {
        return Ok(Out::Null);
    };
    let n = usize::try_from(n).unwrap_or(0);
    if n > MAX_BUILT {
        return exec_err!("space: {n} characters is too many");
    }
    Ok(Out::S(" ".repeat(n)))
}

fn repeat(args: &[Val<'_>]) -> Result<Out> {
    let (Some(s), Some(n)) = (args[0].str(), args[1].int()) else {
        return Ok(Out::Null);
    };
    let n = usize::try_from(n).unwrap_or(0);
    if s.len().saturating_mul(n) > MAX_BUILT {
        return exec_err!("repeat: the answer would be longer than {MAX_BUILT} bytes");
    }
    Ok(Out::S(s.repeat(n)))
}

fn reverse(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.chars().rev().collect())))
}

fn replace(args: &[Val<'_>]) -> Result<Out> {
    let (Some(s), Some(from), Some(to)) = (args[0].str(), args[1].str(), args[2].str()) else {
        return Ok(Out::Null);
    };
    Ok(Out::S(s.replace(from, to)))
}

fn translate(args: &[Val<'_>]) -> Result<Out> {
    let (Some(s), Some(from), Some(to)) = (args[0].str(), args[1].str(), args[2].str()) else {
        return Ok(Out::Null);
    };
    // The first mapping of a character wins; characters of `from` past the end of `to` are
    // deleted.
    let mut map: Vec<(char, Option<char>)> = Vec::new();
    let mut to_chars = to.chars();
    for c in from.chars() {
        let target = to_chars.next();
        if !map.iter().any(|(k, _)| *k == c) {
            map.push((c, target));
        }
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match map.iter().find(|(k, _)| *k == c) {
            Some((_, Some(t))) => out.push(*t),
            Some((_, None)) => {}
            None => out.push(c),
        }
    }
    Ok(Out::S(out))
}

fn quote(args: &[Val<'_>]) -> Result<Out> {
    let Some(s) = args[0].str() else {
        return Ok(Out::Null);
    };
    Ok(Out::S(format!("'{}'", s.replace('\'', "\\'"))))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new(
            "lpad",
            &[Arg::Str, Arg::Int, Arg::Str],
            (3, 3),
            Ret::Str,
            lpad,
        )
        .doc(
            "str left-padded with pad to len characters (cut to len when longer); NULL \
                 when pad is empty.",
            "lpad(str, len, pad)",
            "SELECT lpad('hi', 5, '??');\n-- ???hi",
        )
        .udf(),
        RowFn::new(
            "rpad",
            &[Arg::Str, Arg::Int, Arg::Str],
            (3, 3),
            Ret::Str,
            rpad,
        )
        .doc(
            "str right-padded with pad to len characters (cut to len when longer); NULL \
                 when pad is empty.",
            "rpad(str, len, pad)",
            "SELECT rpad('hi', 5, '??');\n-- hi???",
        )
        .udf(),
        RowFn::new("ltrim", &[Arg::Str], (1, 1), Ret::Str, ltrim)
            .doc(
                "str without its leading spaces (only spaces).",
                "ltrim(str)",
                "SELECT ltrim('   facebook  ');\n-- 'facebook  '",
            )
            .udf(),
        RowFn::new("rtrim", &[Arg::Str], (1, 1), Ret::Str, rtrim)
            .doc(
                "str without its trailing spaces (only spaces).",
                "rtrim(str)",
                "SELECT rtrim('   facebook  ');\n-- '   facebook'",
            )
            .udf(),
        RowFn::new("trim", &[Arg::Str], (1, 1), Ret::Str, trim)
            .doc(
                "str without its leading and trailing spaces (only spaces).",
                "trim(str)",
                "SELECT trim('   facebook  ');\n-- facebook",
            )
            .udf(),
        RowFn::new("space", &[Arg::Int], (1, 1), Ret::Str, space)
            .doc(
                "A string of n spaces ('' when n < 1).",
                "space(n)",
                "SELECT space(2);\n-- '  '",
            )
            .udf(),
        RowFn::new("repeat", &[Arg::Str, Arg::Int], (2, 2), Ret::Str, repeat)
            .doc(
                "str repeated n times ('' when n < 1).",
                "repeat(str, n)",
                "SELECT repeat('123', 2);\n-- 123123",
            )
            .udf(),
        RowFn::new("reverse", &[Arg::Str], (1, 1), Ret::Str, reverse)
            .doc(
                "str with its characters in reverse order.",
                "reverse(str)",
                "SELECT reverse('Facebook');\n-- koobecaF",
            )
            .udf(),
        RowFn::new("replace", &[Arg::Str], (3, 3), Ret::Str, replace)
            .doc(
                "str with every occurrence of search replaced by replacement (no patterns).",
                "replace(str, search, replacement)",
                "SELECT replace('Hack and Hue', 'H', 'BL');\n-- BLack and BLue",
            )
            .udf(),
        RowFn::new("translate", &[Arg::Str], (3, 3), Ret::Str, translate)
            .doc(
                "input with each character of from replaced by the character at the same \
                 position in to, or deleted when to is shorter.",
                "translate(input, from, to)",
                "SELECT translate('abcdef', 'adc', '19');\n-- 1b9ef",
            )
            .udf(),
        RowFn::new("quote", &[Arg::Str], (1, 1), Ret::Str, quote)
            .doc(
                "str in single quotes, its single quotes escaped with a backslash.",
                "quote(str)",
                "SELECT quote('Don''t');\n-- 'Don\\'t'",
            )
            .udf(),
    ]
}
