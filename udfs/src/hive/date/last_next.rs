//! Hive's `last_day(date)` (the last day of its month) and `next_day(start, day_of_week)`
//! (the first such day after start; the day as 'TU', 'Tue' or 'Tuesday', any case), both
//! strings `yyyy-MM-dd`.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, dates};
use super::months::days_in_month;
use super::udf::{DateFunc, Doc};

/// The weekday Hive's `next_day` reads from a name: two letters, three, or the whole name.
fn weekday(name: &str) -> Option<Weekday> {
    let upper = name.trim().to_ascii_uppercase();
    let days = [
        ("MO", "MON", "MONDAY", Weekday::Mon),
        ("TU", "TUE", "TUESDAY", Weekday::Tue),
        ("WE", "WED", "WEDNESDAY", Weekday::Wed),
        ("TH", "THU", "THURSDAY", Weekday::Thu),
        ("FR", "FRI", "FRIDAY", Weekday::Fri),
        ("SA", "SAT", "SATURDAY", Weekday::Sat),
        ("SU", "SUN", "SUNDAY", Weekday::Sun),
    ];
    days.iter()
        .find(|(two, three, full, _)| upper == *two || upper == *three || upper == *full)
        .map(|(_, _, _, day)| *day)
}

/// The first `day` strictly after `start`.
fn next(start: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let ahead = (day.num_days_from_monday() as i64 - start.weekday().num_days_from_monday() as i64)
        .rem_euclid(7);
    start.checked_add_signed(Duration::days(if ahead == 0 { 7 } else { ahead }))
}

fn text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn coerce_one(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![coerce_temporal(name, 1, &types[0])?])
}

fn coerce_next_day(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    if !is_string_or_null(&types[1]) {
        return Err(hive_arg_error(
            name,
            "argument 2 (day_of_week) must be a string",
        ));
    }
    Ok(vec![coerce_temporal(name, 1, &types[0])?, DataType::Utf8])
}

fn last_day_kernel(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let out: Vec<Option<String>> = dates(&arrays[0])?
        .into_iter()
        .map(|d| d.and_then(|d| d.with_day(days_in_month(d))).map(text))
        .collect();
    Ok(Arc::new(StringArray::from(out)))
}

fn next_day_kernel(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let starts = dates(&arrays[0])?;
    let names = arrays[1].as_string::<i32>();
    let out: Vec<Option<String>> = starts
        .into_iter()
        .zip(names.iter())
        .map(|(start, name)| next(start?, weekday(name?)?).map(text))
        .collect();
    Ok(Arc::new(StringArray::from(out)))
}

/// `last_day`, `next_day`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "last_day",
            (1, 1),
            coerce_one,
            |_| Ok(DataType::Utf8),
            |a, _| last_day_kernel(a),
            Doc {
                description: "The last day of the month of date (a date, timestamp or string), \
                              as 'yyyy-MM-dd'.",
                syntax: "last_day(date)",
                example: "SELECT last_day('2009-01-12')",
            },
        )
        .udf(),
        DateFunc::new(
            "next_day",
            (2, 2),
            coerce_next_day,
            |_| Ok(DataType::Utf8),
            |a, _| next_day_kernel(a),
            Doc {
                description: "The first date after start_date that is day_of_week ('MO', 'Mon' \
                              or 'Monday', any case), as 'yyyy-MM-dd'.",
                syntax: "next_day(start_date, day_of_week)",
                example: "SELECT next_day('2015-01-14', 'TU')",
            },
        )
        .udf(),
    ]
}
