//! Hive's `date_format(date, fmt)` (a date, timestamp or string written with a Java
//! `SimpleDateFormat` pattern; NULL for an illegal pattern) and `to_date(x)` (the DATE part).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, dates, days_of, timestamps};
use super::pattern::JavaPattern;
use super::udf::{DateFunc, Doc};

fn coerce_date_format(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    if !is_string_or_null(&types[1]) {
        return Err(hive_arg_error(
            name,
            "the format (argument 2) must be a string",
        ));
    }
    Ok(vec![coerce_temporal(name, 1, &types[0])?, DataType::Utf8])
}

fn date_format(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let times = timestamps(&arrays[0])?;
    let formats = arrays[1].as_string::<i32>();
    let mut last: Option<(String, Option<JavaPattern>)> = None;
    let mut out = Vec::with_capacity(times.len());
    for (row, t) in times.iter().enumerate() {
        if formats.is_null(row) {
            out.push(None);
            continue;
        }
        let text = formats.value(row);
        if last.as_ref().is_none_or(|(p, _)| p != text) {
            last = Some((text.to_string(), JavaPattern::compile(text).ok()));
        }
        let pattern = last.as_ref().and_then(|(_, p)| p.as_ref());
        out.push(match (t, pattern) {
            (Some(t), Some(p)) => Some(p.format(t)),
            _ => None,
        });
    }
    Ok(Arc::new(StringArray::from(out)))
}

fn coerce_one(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![coerce_temporal(name, 1, &types[0])?])
}

fn to_date(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let out: Date32Array = dates(&arrays[0])?
        .into_iter()
        .map(|d| d.map(days_of))
        .collect();
    Ok(Arc::new(out))
}

/// `date_format`, `to_date`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "date_format",
            (2, 2),
            coerce_date_format,
            |_| Ok(DataType::Utf8),
            |a, _| date_format(a),
            Doc {
                description: "A date, timestamp or string written with the Java \
                              SimpleDateFormat pattern fmt (NULL for an illegal pattern).",
                syntax: "date_format(date, fmt)",
                example: "SELECT date_format('2015-04-08', 'y')",
            },
        )
        .udf(),
        DateFunc::new(
            "to_date",
            (1, 1),
            coerce_one,
            |_| Ok(DataType::Date32),
            |a, _| to_date(a),
            Doc {
                description: "The date part of a timestamp or a string ('yyyy-MM-dd' or \
                              'yyyy-MM-dd HH:mm:ss').",
                syntax: "to_date(expr)",
                example: "SELECT to_date('2009-07-30 04:17:52')",
            },
        )
        .udf(),
    ]
}
