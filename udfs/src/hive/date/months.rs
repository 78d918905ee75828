//! Hive's month arithmetic: `add_months(start, n[, fmt])` (the last day of a month stays the
//! last day; a day past the end of the new month becomes its last day; a string, written
//! with `fmt` when given) and `months_between(d1, d2[, roundOff])` (whole months when the days
//! of month match or both are month ends, else a fraction of 31-day months, rounded to 8
//! decimal places unless roundOff is false).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, timestamps};
use super::pattern::JavaPattern;
use super::udf::{DateFunc, Doc};

/// The number of days in the month of `date`.
pub(crate) fn days_in_month(date: NaiveDate) -> u32 {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|next| next.pred_opt())
        .map_or(31, |last| last.day())
}

/// `date` moved by `months`, as Hive's `add_months` moves it.
pub(crate) fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let was_last = date.day() == days_in_month(date);
    let total = date.year() as i64 * 12 + date.month0() as i64 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let first = NaiveDate::from_ymd_opt(year, total.rem_euclid(12) as u32 + 1, 1)?;
    let last = days_in_month(first);
    let day = if was_last { last } else { date.day().min(last) };
    first.with_day(day)
}

fn coerce_add_months(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = vec![coerce_temporal(name, 1, &types[0])?];
    if types[1].is_numeric() || types[1] == DataType::Null {
        out.push(DataType::Int64);
    } else {
        return Err(hive_arg_error(
            name,
            format!(
                "argument 2 must be a number, got {}",
                super::hive_type(&types[1])
            ),
        ));
    }
    if let Some(t) = types.get(2) {
        if !is_string_or_null(t) {
            return Err(hive_arg_error(
                name,
                "argument 3 (the output format) must be a string",
            ));
        }
        out.push(DataType::Utf8);
    }
    Ok(out)
}

fn add_months_kernel(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let starts = timestamps(&arrays[0])?;
    let counts = cast(&arrays[1], &DataType::Int64)?;
    let counts = counts.as_primitive::<Int64Type>();
    let formats = arrays.get(2).map(|a| a.as_string::<i32>());
    let default = JavaPattern::compile("yyyy-MM-dd").ok();
    let mut cached: Option<(String, Option<JavaPattern>)> = None;
    let mut out = Vec::with_capacity(starts.len());
    for (row, start) in starts.iter().enumerate() {
        let pattern = match formats {
            None => default.as_ref(),
            Some(f) if f.is_null(row) => None,
            Some(f) => {
                let text = f.value(row);
                if cached.as_ref().is_none_or(|(p, _)| p != text) {
                    cached = Some((text.to_string(), JavaPattern::compile(text).ok()));
                }
                cached.as_ref().and_then(|(_, p)| p.as_ref())
            }
        };
        let value = match (start, counts.is_null(row), pattern) {
            (Some(start), false, Some(pattern)) => add_months(start.date(), counts.value(row))
                .map(|d| pattern.format(&d.and_time(start.time()))),
            _ => None,
        };
        out.push(value);
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// `x` rounded half up to 8 decimal places, as Hive does it through `BigDecimal.valueOf`:
/// on the shortest decimal form of the double.
fn round8(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = format!("{}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if fraction.len() <= 8 {
        return x;
    }
    let kept = format!("{whole}{}", &fraction[..8]);
    let mut digits: Vec<u8> = kept.bytes().map(|b| b - b'0').collect();
    if fraction.as_bytes()[8] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 8;
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let rounded: f64 = format!("{}.{}", &text[..split], &text[split..])
        .parse()
        .unwrap_or(x.abs());
    rounded.copysign(x)
}

/// Hive's `months_between` of two wall times.
pub(crate) fn months_between(a: NaiveDateTime, b: NaiveDateTime, round: bool) -> f64 {
    let months = (a.year() as i64 - b.year() as i64) * 12 + a.month() as i64 - b.month() as i64;
    let both_last = a.day() == days_in_month(a.date()) && b.day() == days_in_month(b.date());
    if a.day() == b.day() || both_last {
        return months as f64;
    }
    let seconds = |t: NaiveDateTime| t.day() as i64 * 86_400 + t.num_seconds_from_midnight() as i64;
    let value = months as f64 + (seconds(a) - seconds(b)) as f64 / 2_678_400.0;
    if round { round8(value) } else { value }
}

fn coerce_months_between(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let mut out = vec![
        coerce_temporal(name, 1, &types[0])?,
        coerce_temporal(name, 2, &types[1])?,
    ];
    if let Some(t) = types.get(2) {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return Err(hive_arg_error(
                name,
                "argument 3 (roundOff) must be a boolean",
            ));
        }
        out.push(DataType::Boolean);
    }
    Ok(out)
}

fn months_between_kernel(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let a = timestamps(&arrays[0])?;
    let b = timestamps(&arrays[1])?;
    let round: Option<&BooleanArray> = arrays.get(2).map(|r| r.as_boolean());
    let out: Vec<Option<f64>> = a
        .iter()
        .zip(&b)
        .enumerate()
        .map(|(row, (a, b))| {
            // Without roundOff Hive rounds; a NULL roundOff does not (as Hive 2.3 answers).
            let round = round.is_none_or(|r| !r.is_null(row) && r.value(row));
            Some(months_between((*a)?, (*b)?, round))
        })
        .collect();
    Ok(Arc::new(Float64Array::from(out)))
}

/// `add_months`, `months_between`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "add_months",
            (2, 3),
            coerce_add_months,
            |_| Ok(DataType::Utf8),
            |a, _| add_months_kernel(a),
            Doc {
                description: "The date num_months after start_date. The last day of a month \
                              gives the last day of the new month, a day past its end its last \
                              day. Written as 'yyyy-MM-dd', or with the SimpleDateFormat \
                              output_date_format (keeping the time of day).",
                syntax: "add_months(start_date, num_months[, output_date_format])",
                example: "SELECT add_months('2009-08-31', 1)",
            },
        )
        .udf(),
        DateFunc::new(
            "months_between",
            (2, 3),
            coerce_months_between,
            |_| Ok(DataType::Float64),
            |a, _| months_between_kernel(a),
            Doc {
                description: "The number of months between date1 and date2: whole when both \
                              are the same day of month or both month ends, else with a \
                              fraction of 31-day months that counts the time of day; rounded \
                              to 8 decimal places unless roundOff is false.",
                syntax: "months_between(date1, date2[, roundOff])",
                example: "SELECT months_between('1997-02-28 10:30:00', '1996-10-30')",
            },
        )
        .udf(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn last_day_rule() {
        assert_eq!(add_months(d(2009, 8, 31), 1), Some(d(2009, 9, 30)));
        assert_eq!(add_months(d(2009, 2, 28), 1), Some(d(2009, 3, 31)));
        assert_eq!(add_months(d(2009, 1, 30), 1), Some(d(2009, 2, 28)));
        assert_eq!(add_months(d(2009, 1, 15), -13), Some(d(2007, 12, 15)));
        assert_eq!(add_months(d(2016, 2, 29), 12), Some(d(2017, 2, 28)));
    }

    #[test]
    fn rounding_is_half_up_on_the_shortest_decimal() {
        assert_eq!(round8(3.9495967741935485), 3.94959677);
        assert_eq!(round8(-0.123456785), -0.12345679);
        assert_eq!(round8(0.999999995), 1.0);
        assert_eq!(round8(2.5), 2.5);
    }
}
