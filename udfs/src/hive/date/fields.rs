//! Hive's field functions: `year`, `quarter`, `month`, `day` / `dayofmonth`, `hour`,
//! `minute`, `second`, `weekofyear` (ISO weeks) and `dayofweek` (1 = Sunday), each an INT
//! of a string, date or timestamp; NULL for NULL or a string Hive cannot read.

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::input::{coerce_temporal, parse_timestamp, timestamps};
use super::udf::{DateFunc, Doc};

fn coerce_one(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    types
        .iter()
        .enumerate()
        .map(|(i, t)| coerce_temporal(name, i + 1, t))
        .collect()
}

fn int32(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int32)
}

/// Each row's timestamp; for `hour`, `minute` and `second` a bare `HH:mm:ss` string is read
/// too, as Hive's documentation (and Hive 2.3) have it.
fn times(array: &ArrayRef, time_only: bool) -> Result<Vec<Option<NaiveDateTime>>> {
    if !time_only || array.data_type() != &DataType::Utf8 {
        return timestamps(array);
    }
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|v| {
            v.and_then(|s| {
                parse_timestamp(s).or_else(|| {
                    NaiveTime::parse_from_str(s.trim(), "%H:%M:%S")
                        .ok()
                        .map(|t| NaiveDateTime::default().date().and_time(t))
                })
            })
        })
        .collect())
}

fn field(arrays: &[ArrayRef], time_only: bool, get: fn(&NaiveDateTime) -> i32) -> Result<ArrayRef> {
    let values = times(&arrays[0], time_only)?;
    Ok(Arc::new(Int32Array::from(
        values
            .iter()
            .map(|t| t.as_ref().map(get))
            .collect::<Vec<_>>(),
    )))
}

/// `year`, `quarter`, `month`, `day` (`dayofmonth`), `hour`, `minute`, `second`,
/// `weekofyear`, `dayofweek`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "year",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.year()),
            Doc {
                description: "The year of a date, timestamp or string.",
                syntax: "year(date)",
                example: "SELECT year('2009-07-30')",
            },
        )
        .udf(),
        DateFunc::new(
            "quarter",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.month0() as i32 / 3 + 1),
            Doc {
                description: "The quarter (1 to 4) of a date, timestamp or string.",
                syntax: "quarter(date)",
                example: "SELECT quarter('2015-04-08')",
            },
        )
        .udf(),
        DateFunc::new(
            "month",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.month() as i32),
            Doc {
                description: "The month (1 to 12) of a date, timestamp or string.",
                syntax: "month(date)",
                example: "SELECT month('2009-07-30')",
            },
        )
        .udf(),
        DateFunc::new(
            "day",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.day() as i32),
            Doc {
                description: "The day of the month of a date, timestamp or string.",
                syntax: "day(date)",
                example: "SELECT day('2009-07-30')",
            },
        )
        .with_aliases(&["dayofmonth"])
        .udf(),
        DateFunc::new(
            "hour",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, true, |t| t.hour() as i32),
            Doc {
                description: "The hour of a timestamp or a string ('yyyy-MM-dd HH:mm:ss' or \
                              'HH:mm:ss').",
                syntax: "hour(date)",
                example: "SELECT hour('2009-07-30 12:58:59')",
            },
        )
        .udf(),
        DateFunc::new(
            "minute",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, true, |t| t.minute() as i32),
            Doc {
                description: "The minute of a timestamp or a string ('yyyy-MM-dd HH:mm:ss' or \
                              'HH:mm:ss').",
                syntax: "minute(date)",
                example: "SELECT minute('2009-07-30 12:58:59')",
            },
        )
        .udf(),
        DateFunc::new(
            "second",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, true, |t| t.second() as i32),
            Doc {
                description: "The second of a timestamp or a string ('yyyy-MM-dd HH:mm:ss' or \
                              'HH:mm:ss').",
                syntax: "second(date)",
                example: "SELECT second('2009-07-30 12:58:59')",
            },
        )
        .udf(),
        DateFunc::new(
            "weekofyear",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.iso_week().week() as i32),
            Doc {
                description: "The ISO week of the year of a date: weeks start on Monday and \
                              week 1 is the first with more than 3 days.",
                syntax: "weekofyear(date)",
                example: "SELECT weekofyear('2008-02-20')",
            },
        )
        .udf(),
        DateFunc::new(
            "dayofweek",
            (1, 1),
            coerce_one,
            int32,
            |a, _| field(a, false, |t| t.weekday().number_from_sunday() as i32),
            Doc {
                description: "The day of the week of a date: 1 = Sunday, 2 = Monday, ..., \
                              7 = Saturday.",
                syntax: "dayofweek(date)",
                example: "SELECT dayofweek('2009-07-30')",
            },
        )
        .udf(),
    ]
}
