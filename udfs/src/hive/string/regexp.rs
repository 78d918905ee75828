//! Hive's regular-expression functions, with Java's patterns (see [`super::java_regex`]):
//! `regexp_replace` (every match), `regexp_extract` (group 1 by default) and
//! `rlike` / `regexp` (a match anywhere, as Java's `find()`; also the infix operators).

use std::sync::Arc;

use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::java_regex::{append_replacement, captures_at, compile, next_start};
use super::row_fn::{Arg, Out, Ret, RowFn, Val};

fn regexp_replace(args: &[Val<'_>]) -> Result<Out> {
    let (Some(text), Some(pattern), Some(replacement)) =
        (args[0].str(), args[1].str(), args[2].str())
    else {
        return Ok(Out::Null);
    };
    let compiled = compile("regexp_replace", pattern)?;
    let re = compiled.for_text("regexp_replace", text)?;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut start = 0;
    while let Some(caps) = captures_at(re, text, start) {
        let Some(m) = caps.get(0) else { break };
        out.push_str(&text[copied..m.start()]);
        append_replacement("regexp_replace", re, &caps, replacement, &mut out)?;
        copied = m.end();
        start = next_start(text, m.start(), m.end());
    }
    out.push_str(&text[copied..]);
    Ok(Out::S(out))
}

fn regexp_extract(args: &[Val<'_>]) -> Result<Out> {
    let (Some(text), Some(pattern)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    let index = match args.get(2) {
        None => 1,
        Some(Val::I(i)) => *i,
        Some(_) => {
            return exec_err!("regexp_extract: the group index must not be NULL");
        }
    };
    let compiled = compile("regexp_extract", pattern)?;
    let re = compiled.for_text("regexp_extract", text)?;
    let Some(caps) = captures_at(re, text, 0) else {
        return Ok(Out::S(String::new()));
    };
    let groups = caps.len() - 1;
    let Some(group) = usize::try_from(index).ok().filter(|&g| g <= groups) else {
        return exec_err!(
            "regexp_extract: no group {index} in '{pattern}' (it has {groups} group(s))"
        );
    };
    Ok(caps
        .get(group)
        .map_or(Out::Null, |m| Out::S(m.as_str().to_owned())))
}

fn rlike(args: &[Val<'_>]) -> Result<Out> {
    let (Some(text), Some(pattern)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    if pattern.is_empty() {
        return Ok(Out::Bool(false));
    }
    let compiled = compile("rlike", pattern)?;
    Ok(Out::Bool(compiled.for_text("rlike", text)?.is_match(text)))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new(
            "regexp_replace",
            &[Arg::Str],
            (3, 3),
            Ret::Str,
            regexp_replace,
        )
        .doc(
            "Replaces every substring of str that matches the Java regular expression \
                 regexp with rep ($n refers to group n, \\$ is a dollar sign).",
            "regexp_replace(str, regexp, rep)",
            "SELECT regexp_replace('100-200', '(\\\\d+)', 'num');\n-- num-num",
        )
        .udf(),
        RowFn::new(
            "regexp_extract",
            &[Arg::Str, Arg::Str, Arg::Int],
            (2, 3),
            Ret::Str,
            regexp_extract,
        )
        .sees_nulls()
        .doc(
            "The group idx (1 by default, 0 for the whole match) of the first match of the \
             Java regular expression regexp in str; '' when nothing matches.",
            "regexp_extract(str, regexp[, idx])",
            "SELECT regexp_extract('foothebar', 'foo(.*?)(bar)', 2);\n-- bar",
        )
        .udf(),
        RowFn::new("rlike", &[Arg::Str], (2, 2), Ret::Bool, rlike)
            .aliases(&["regexp"])
            .doc(
                "True if some substring of str matches the Java regular expression regexp \
                 (also written str RLIKE regexp, str REGEXP regexp).",
                "rlike(str, regexp)",
                "SELECT 'fb' RLIKE '.*';\n-- true",
            )
            .udf(),
    ]
}
