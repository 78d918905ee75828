//! Hive's `upper`/`ucase`, `lower`/`lcase` (Java's `toUpperCase`/`toLowerCase`) and
//! `initcap` (commons-lang `WordUtils.capitalizeFully`: words split at whitespace only).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{Arg, Out, Ret, RowFn, Val};

fn upper(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.to_uppercase())))
}

fn lower(args: &[Val<'_>]) -> Result<Out> {
    Ok(args[0]
        .str()
        .map_or(Out::Null, |s| Out::S(s.to_lowercase())))
}

/// Java's `Character.toTitleCase` for the characters whose upper case is one character; the
/// others (`ß`) stay as they are.
fn title_case(c: char, out: &mut String) {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => out.push(u),
        _ => out.push(c),
    }
}

fn initcap(args: &[Val<'_>]) -> Result<Out> {
    let Some(s) = args[0].str() else {
        return Ok(Out::Null);
    };
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            out.push(c);
            word_start = true;
        } else if word_start {
            title_case(c, &mut out);
            word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Ok(Out::S(out))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new("upper", &[Arg::Str], (1, 1), Ret::Str, upper)
            .aliases(&["ucase"])
            .doc(
                "str with all characters changed to upper case.",
                "upper(str)",
                "SELECT upper('Facebook');\n-- FACEBOOK",
            )
            .udf(),
        RowFn::new("lower", &[Arg::Str], (1, 1), Ret::Str, lower)
            .aliases(&["lcase"])
            .doc(
                "str with all characters changed to lower case.",
                "lower(str)",
                "SELECT lower('Facebook');\n-- facebook",
            )
            .udf(),
        RowFn::new("initcap", &[Arg::Str], (1, 1), Ret::Str, initcap)
            .doc(
                "str with the first letter of each whitespace-separated word in upper case and \
                 all other letters in lower case.",
                "initcap(str)",
                "SELECT initcap('tHe soap');\n-- The Soap",
            )
            .udf(),
    ]
}
