//! Hive's `floor_year`, `floor_quarter`, `floor_month`, `floor_week` (to Monday),
//! `floor_day`, `floor_hour`, `floor_minute`, `floor_second`: a timestamp cut down to the
//! start of its period (UTC), a TIMESTAMP.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::arrow::array::{ArrayRef, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::input::{coerce_temporal, nanos_of, timestamps};
use super::udf::{DateFunc, Doc, Kernel};

fn coerce_one(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![coerce_temporal(name, 1, &types[0])?])
}

fn floor(arrays: &[ArrayRef], cut: fn(NaiveDateTime) -> Option<NaiveDateTime>) -> Result<ArrayRef> {
    let out: TimestampNanosecondArray = timestamps(&arrays[0])?
        .into_iter()
        .map(|t| t.and_then(cut).and_then(nanos_of))
        .collect();
    Ok(Arc::new(out))
}

fn first_of(t: NaiveDateTime, month: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(t.year(), month, 1).map(|d| d.and_time(NaiveTime::MIN))
}

/// The periods: name, what the period is, and how a time is cut to its start.
const PERIODS: [(&str, &str, Kernel); 8] = [
    ("floor_year", "year", |a, _| floor(a, |t| first_of(t, 1))),
    ("floor_quarter", "quarter", |a, _| {
        floor(a, |t| first_of(t, t.month0() / 3 * 3 + 1))
    }),
    ("floor_month", "month", |a, _| {
        floor(a, |t| first_of(t, t.month()))
    }),
    ("floor_week", "week (from Monday)", |a, _| {
        floor(a, |t| {
            let monday = t.date() - Duration::days(t.weekday().num_days_from_monday() as i64);
            Some(monday.and_time(NaiveTime::MIN))
        })
    }),
    ("floor_day", "day", |a, _| {
        floor(a, |t| Some(t.date().and_time(NaiveTime::MIN)))
    }),
    ("floor_hour", "hour", |a, _| {
        floor(a, |t| t.date().and_hms_opt(t.hour(), 0, 0))
    }),
    ("floor_minute", "minute", |a, _| {
        floor(a, |t| t.date().and_hms_opt(t.hour(), t.minute(), 0))
    }),
    ("floor_second", "second", |a, _| {
        floor(a, |t| {
            t.date().and_hms_opt(t.hour(), t.minute(), t.second())
        })
    }),
];

/// `floor_year` … `floor_second`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    PERIODS
        .iter()
        .map(|(name, period, kernel)| {
            let description = format!("The timestamp cut down to the start of its {period}.");
            let syntax = format!("{name}(param)");
            let example = format!("SELECT {name}(CAST('2009-07-30 12:58:59' AS TIMESTAMP))");
            DateFunc::new(
                name,
                (1, 1),
                coerce_one,
                |_| Ok(DataType::Timestamp(TimeUnit::Nanosecond, None)),
                *kernel,
                Doc {
                    description: &description,
                    syntax: &syntax,
                    example: &example,
                },
            )
            .udf()
        })
        .collect()
}
