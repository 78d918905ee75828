//! Hive's epoch-second functions: `unix_timestamp()` (now; volatile),
//! `unix_timestamp(x[, pattern])` and `to_unix_timestamp(x[, pattern])` (a string read with a
//! `SimpleDateFormat` pattern, default `yyyy-MM-dd HH:mm:ss`, or a date or timestamp, as
//! BIGINT seconds; NULL where the string does not parse), and `from_unixtime(seconds[,
//! pattern])` (a string written with the pattern, default `yyyy-MM-dd HH:mm:ss`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, timestamps};
use super::pattern::JavaPattern;
use super::udf::{DateFunc, Doc};

/// The pattern both directions use without one.
const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

/// The patterns of a pattern column, compiled once per distinct value; an illegal pattern
/// is an error naming the function, as Java's `applyPattern` throws in Hive.
struct Patterns {
    function: &'static str,
    last: Option<(String, JavaPattern)>,
}

impl Patterns {
    fn new(function: &'static str) -> Self {
        Self {
            function,
            last: None,
        }
    }

    fn get(&mut self, text: &str) -> Result<&JavaPattern> {
        if self.last.as_ref().is_none_or(|(t, _)| t != text) {
            let pattern = JavaPattern::compile(text)
                .map_err(|e| hive_arg_error(self.function, format!("bad pattern: {e}")))?;
            self.last = Some((text.to_string(), pattern));
        }
        match &self.last {
            Some((_, p)) => Ok(p),
            None => Err(hive_arg_error(self.function, "no pattern")),
        }
    }
}

fn seconds_of(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

fn coerce_to_unix(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = Vec::new();
    if let Some(t) = types.first() {
        out.push(coerce_temporal(name, 1, t)?);
    }
    if let Some(t) = types.get(1) {
        if !is_string_or_null(t) {
            return Err(hive_arg_error(
                name,
                "the pattern (argument 2) must be a string",
            ));
        }
        out.push(DataType::Utf8);
    }
    Ok(out)
}

fn to_unix(function: &'static str, arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let Some(first) = arrays.first() else {
        let now = chrono::Utc::now().timestamp();
        return Ok(Arc::new(Int64Array::from(vec![now; rows])));
    };
    if first.data_type() != &DataType::Utf8 {
        // A date or timestamp: its seconds (the pattern is not used).
        let out: Int64Array = timestamps(first)?
            .into_iter()
            .map(|t| t.map(seconds_of))
            .collect();
        return Ok(Arc::new(out));
    }
    let texts = first.as_string::<i32>();
    let patterns = arrays.get(1).map(|p| p.as_string::<i32>());
    let mut compiled = Patterns::new(function);
    let mut out = Vec::with_capacity(texts.len());
    for row in 0..texts.len() {
        let pattern = match patterns {
            None => DEFAULT_PATTERN,
            Some(p) if p.is_null(row) => {
                out.push(None);
                continue;
            }
            Some(p) => p.value(row),
        };
        if texts.is_null(row) {
            out.push(None);
            continue;
        }
        let pattern = compiled.get(pattern)?;
        out.push(pattern.parse(texts.value(row)).map(seconds_of));
    }
    Ok(Arc::new(Int64Array::from(out)))
}

fn coerce_from_unixtime(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    if !(types[0].is_integer() || types[0] == DataType::Null) {
        return Err(hive_arg_error(
            name,
            format!(
                "argument 1 must be an int or bigint (seconds since 1970-01-01 UTC), got {}",
                super::hive_type(&types[0])
            ),
        ));
    }
    let mut out = vec![DataType::Int64];
    if let Some(t) = types.get(1) {
        if !is_string_or_null(t) {
            return Err(hive_arg_error(
                name,
                "the pattern (argument 2) must be a string",
            ));
        }
        out.push(DataType::Utf8);
    }
    Ok(out)
}

fn from_unixtime(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let seconds = cast(&arrays[0], &DataType::Int64)?;
    let seconds = seconds.as_primitive::<Int64Type>();
    let patterns = arrays.get(1).map(|p| p.as_string::<i32>());
    let mut compiled = Patterns::new("from_unixtime");
    let mut out = Vec::with_capacity(seconds.len());
    for row in 0..seconds.len() {
        let pattern = match patterns {
            None => DEFAULT_PATTERN,
            Some(p) if p.is_null(row) => {
                out.push(None);
                continue;
            }
            Some(p) => p.value(row),
        };
        if seconds.is_null(row) {
            out.push(None);
            continue;
        }
        let pattern = compiled.get(pattern)?;
        out.push(
            DateTime::from_timestamp(seconds.value(row), 0).map(|t| pattern.format(&t.naive_utc())),
        );
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// `unix_timestamp`, `to_unix_timestamp`, `from_unixtime`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "unix_timestamp",
            (0, 2),
            coerce_to_unix,
            |_| Ok(DataType::Int64),
            |a, rows| to_unix("unix_timestamp", a, rows),
            Doc {
                description: "Without arguments the current time in seconds since 1970-01-01 \
                              00:00:00 UTC; else those seconds of a date, a timestamp or a \
                              string read with the SimpleDateFormat pattern (default \
                              'yyyy-MM-dd HH:mm:ss'); NULL if the string does not parse.",
                syntax: "unix_timestamp([date[, pattern]])",
                example: "SELECT unix_timestamp('2009-03-20 11:30:01')",
            },
        )
        .volatile()
        .udf(),
        DateFunc::new(
            "to_unix_timestamp",
            (1, 2),
            coerce_to_unix,
            |_| Ok(DataType::Int64),
            |a, rows| to_unix("to_unix_timestamp", a, rows),
            Doc {
                description: "The seconds since 1970-01-01 00:00:00 UTC of a date, a timestamp \
                              or a string read with the SimpleDateFormat pattern (default \
                              'yyyy-MM-dd HH:mm:ss'); NULL if the string does not parse.",
                syntax: "to_unix_timestamp(date[, pattern])",
                example: "SELECT to_unix_timestamp('2009-03-20 11:30:01')",
            },
        )
        .udf(),
        DateFunc::new(
            "from_unixtime",
            (1, 2),
            coerce_from_unixtime,
            |_| Ok(DataType::Utf8),
            |a, _| from_unixtime(a),
            Doc {
                description: "The time unix_time seconds after 1970-01-01 00:00:00 UTC, written \
                              with the SimpleDateFormat pattern (default 'yyyy-MM-dd HH:mm:ss').",
                syntax: "from_unixtime(unix_time[, pattern])",
                example: "SELECT from_unixtime(0, 'yyyy-MM-dd HH:mm:ss')",
            },
        )
        .udf(),
    ]
}
