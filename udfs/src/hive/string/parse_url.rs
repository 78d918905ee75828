//! Hive's `parse_url(url, part[, key])`, with Java's `URL` rules (see [`super::java_url`]).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::java_url::JavaUrl;
use super::row_fn::{Arg, Out, Ret, RowFn, Val};

fn parse_url(args: &[Val<'_>]) -> Result<Out> {
    let (Some(url), Some(part)) = (args[0].str(), args[1].str()) else {
        return Ok(Out::Null);
    };
    let Some(url) = JavaUrl::parse(url) else {
        return Ok(Out::Null);
    };
    let value = match args.get(2) {
        None => url.part(part),
        Some(key) => match (part, key.str()) {
            ("QUERY", Some(key)) => url.query_value("parse_url", key)?,
            _ => None,
        },
    };
    Ok(value.map_or(Out::Null, Out::S))
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        RowFn::new("parse_url", &[Arg::Str], (2, 3), Ret::Str, parse_url)
            .sees_nulls()
            .doc(
                "The part of the URL named by partToExtract (HOST, PATH, QUERY, REF, PROTOCOL, \
                 AUTHORITY, FILE, USERINFO), or with QUERY and a key the value of that key in \
                 the query; NULL for a URL Java's URL class rejects.",
                "parse_url(url, partToExtract[, key])",
                "SELECT parse_url('http://facebook.com/path/p1.php?query=1', 'HOST');\n-- facebook.com",
            )
            .udf(),
    ]
}
