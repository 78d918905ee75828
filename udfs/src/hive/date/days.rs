//! Hive's day arithmetic: `date_add(start, days)`, `date_sub(start, days)` (DATE results)
//! and `datediff(end, start)` (INT: days from start to end, times of day ignored).

use std::sync::Arc;

use chrono::Duration;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::input::{coerce_integer, coerce_temporal, dates, days_of};
use super::udf::{DateFunc, Doc};

fn coerce_date_and_days(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        coerce_temporal(name, 1, &types[0])?,
        coerce_integer(name, 2, &types[1])?,
    ])
}

fn coerce_two_dates(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![
        coerce_temporal(name, 1, &types[0])?,
        coerce_temporal(name, 2, &types[1])?,
    ])
}

/// `start` plus `sign` times the day counts.
fn shift(arrays: &[ArrayRef], sign: i64) -> Result<ArrayRef> {
    let starts = dates(&arrays[0])?;
    let counts = cast(&arrays[1], &DataType::Int64)?;
    let counts = counts.as_primitive::<Int64Type>();
    let out: Vec<Option<i32>> = starts
        .iter()
        .enumerate()
        .map(|(row, start)| {
            let start = (*start)?;
            if counts.is_null(row) {
                return None;
            }
            let days = counts.value(row).checked_mul(sign)?;
            start
                .checked_add_signed(Duration::try_days(days)?)
                .map(days_of)
        })
        .collect();
    Ok(Arc::new(Date32Array::from(out)))
}

fn difference(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let ends = dates(&arrays[0])?;
    let starts = dates(&arrays[1])?;
    let out: Vec<Option<i32>> = ends
        .iter()
        .zip(&starts)
        .map(|(end, start)| Some(days_of((*end)?) - days_of((*start)?)))
        .collect();
    Ok(Arc::new(Int32Array::from(out)))
}

/// `date_add`, `date_sub`, `datediff`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "date_add",
            (2, 2),
            coerce_date_and_days,
            |_| Ok(DataType::Date32),
            |a, _| shift(a, 1),
            Doc {
                description: "The date num_days after start_date (a date, timestamp or string).",
                syntax: "date_add(start_date, num_days)",
                example: "SELECT date_add('2009-07-30', 1)",
            },
        )
        .udf(),
        DateFunc::new(
            "date_sub",
            (2, 2),
            coerce_date_and_days,
            |_| Ok(DataType::Date32),
            |a, _| shift(a, -1),
            Doc {
                description: "The date num_days before start_date (a date, timestamp or string).",
                syntax: "date_sub(start_date, num_days)",
                example: "SELECT date_sub('2009-07-30', 1)",
            },
        )
        .udf(),
        DateFunc::new(
            "datediff",
            (2, 2),
            coerce_two_dates,
            |_| Ok(DataType::Int32),
            |a, _| difference(a),
            Doc {
                description: "The number of days from date2 to date1 (times of day ignored).",
                syntax: "datediff(date1, date2)",
                example: "SELECT datediff('2009-07-30', '2009-07-31')",
            },
        )
        .udf(),
    ]
}
