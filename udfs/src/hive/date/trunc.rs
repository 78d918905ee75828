//! Hive's `trunc`, one name for two functions: `trunc(date, fmt)` cuts a date, timestamp or
//! string down to the first day of its year (`YEAR`/`YYYY`/`YY`), quarter (`QUARTER`/`Q`) or
//! month (`MONTH`/`MON`/`MM`), as a `yyyy-MM-dd` string (NULL for any other format);
//! `trunc(number[, scale])` (Hive 3) cuts a number towards zero to `scale` decimal places
//! (negative: to tens, hundreds, ...), keeping its type.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, dates};
use super::udf::{DateFunc, Doc};

/// The first day of the year, quarter or month `fmt` names, of `date`.
fn truncate_date(date: NaiveDate, fmt: &str) -> Option<NaiveDate> {
    let month = match fmt {
        "YEAR" | "YYYY" | "YY" => 1,
        "QUARTER" | "Q" => date.month0() / 3 * 3 + 1,
        "MONTH" | "MON" | "MM" => date.month(),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(date.year(), month, 1)
}

/// `value` cut towards zero to `scale` decimal places, on its shortest decimal form (as
/// Hive's `BigDecimal.valueOf(d).setScale(scale, DOWN)`).
fn truncate_double(value: f64, scale: i64) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let text = format!("{}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let cut = if scale >= 0 {
        let keep = (scale as usize).min(fraction.len());
        format!("{whole}.{}0", &fraction[..keep])
    } else {
        let zeros = (-scale) as usize;
        if zeros >= whole.len() {
            "0".to_string()
        } else {
            format!("{}{}", &whole[..whole.len() - zeros], "0".repeat(zeros))
        }
    };
    cut.parse::<f64>().unwrap_or(value.abs()).copysign(value)
}

/// `value` cut towards zero to a multiple of 10^-scale (whole numbers are left alone for
/// scales of 0 and up).
fn truncate_integer(value: i64, scale: i64) -> i64 {
    if scale >= 0 {
        return value;
    }
    match 10_i64.checked_pow((-scale) as u32) {
        Some(unit) => value / unit * unit,
        None => 0,
    }
}

/// An unscaled decimal of `scale` cut to `digits` decimal places.
fn truncate_decimal(value: i128, scale: i8, digits: i64) -> i128 {
    let drop = scale as i64 - digits;
    if drop <= 0 {
        return value;
    }
    match 10_i128.checked_pow(drop as u32) {
        Some(unit) => value / unit * unit,
        None => 0,
    }
}

fn coerce(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let first = &types[0];
    if first.is_numeric() {
        let number = match first {
            t if t.is_integer() => DataType::Int64,
            DataType::Decimal128(_, _) => first.clone(),
            _ => DataType::Float64,
        };
        let mut out = vec![number];
        if let Some(scale) = types.get(1) {
            if !(scale.is_integer() || scale == &DataType::Null) {
                return Err(hive_arg_error(
                    name,
                    "the scale (argument 2) must be an integer",
                ));
            }
            out.push(DataType::Int64);
        }
        return Ok(out);
    }
    if types.len() != 2 {
        return Err(hive_arg_error(
            name,
            "takes a date and a format (trunc(date, fmt)) or a number and an optional scale \
             (trunc(number[, scale]))",
        ));
    }
    if !is_string_or_null(&types[1]) {
        return Err(hive_arg_error(
            name,
            "the format (argument 2) must be a string",
        ));
    }
    Ok(vec![coerce_temporal(name, 1, first)?, DataType::Utf8])
}

fn returns(types: &[DataType]) -> Result<DataType> {
    Ok(match &types[0] {
        t if t.is_numeric() => t.clone(),
        _ => DataType::Utf8,
    })
}

fn kernel(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let first = &arrays[0];
    let scales = match arrays.get(1) {
        Some(a) if first.data_type().is_numeric() => {
            let a = cast(a, &DataType::Int64)?;
            a.as_primitive::<Int64Type>().iter().collect::<Vec<_>>()
        }
        _ => vec![Some(0); rows],
    };
    match first.data_type() {
        DataType::Int64 => {
            let values = first.as_primitive::<Int64Type>();
            let out: Int64Array = values
                .iter()
                .zip(&scales)
                .map(|(v, s)| Some(truncate_integer(v?, (*s)?)))
                .collect();
            Ok(Arc::new(out))
        }
        DataType::Float64 => {
            let values = first.as_primitive::<Float64Type>();
            let out: Float64Array = values
                .iter()
                .zip(&scales)
                .map(|(v, s)| Some(truncate_double(v?, (*s)?)))
                .collect();
            Ok(Arc::new(out))
        }
        DataType::Decimal128(precision, scale) => {
            let values = first.as_primitive::<Decimal128Type>();
            let out: Decimal128Array = values
                .iter()
                .zip(&scales)
                .map(|(v, s)| Some(truncate_decimal(v?, *scale, (*s)?)))
                .collect();
            Ok(Arc::new(out.with_precision_and_scale(*precision, *scale)?))
        }
        _ => {
            let days = dates(first)?;
            let formats = arrays[1].as_string::<i32>();
            let out: StringArray = days
                .iter()
                .zip(formats.iter())
                .map(|(d, f)| truncate_date((*d)?, f?).map(|d| d.format("%Y-%m-%d").to_string()))
                .collect();
            Ok(Arc::new(out))
        }
    }
}

/// `trunc`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![DateFunc::new(
        "trunc",
        (1, 2),
        coerce,
        returns,
        kernel,
        Doc {
            description: "trunc(date, fmt): the first day of the year (YEAR, YYYY, YY), quarter \
                          (QUARTER, Q) or month (MONTH, MON, MM) of date, as 'yyyy-MM-dd'. \
                          trunc(number[, scale]): number cut towards zero to scale decimal \
                          places (0 without scale; negative scales cut to tens, hundreds, ...).",
            syntax: "trunc(date, fmt) / trunc(number[, scale])",
            example: "SELECT trunc('2009-02-12', 'MM'), trunc(1234567891.1234567891, 4)",
        },
    )
    .udf()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_cut_towards_zero() {
        assert_eq!(truncate_double(1234567891.1234567, 4), 1234567891.1234);
        assert_eq!(truncate_double(1234567891.1234567, -4), 1234560000.0);
        assert_eq!(truncate_double(-1.99, 1), -1.9);
        assert_eq!(truncate_double(0.3, 5), 0.3);
        assert_eq!(truncate_double(12.0, -3), 0.0);
        assert_eq!(truncate_integer(1234, -2), 1200);
        assert_eq!(truncate_integer(-1234, -2), -1200);
        assert_eq!(truncate_integer(1234, 2), 1234);
        assert_eq!(truncate_decimal(12345678, 4, 2), 12345600);
        assert_eq!(truncate_decimal(12345678, 4, -2), 12000000);
    }

    #[test]
    fn dates_are_cut_to_year_quarter_month() {
        let d = NaiveDate::from_ymd_opt(2015, 10, 27).unwrap_or_default();
        assert_eq!(truncate_date(d, "YY"), NaiveDate::from_ymd_opt(2015, 1, 1));
        assert_eq!(truncate_date(d, "Q"), NaiveDate::from_ymd_opt(2015, 10, 1));
        assert_eq!(
            truncate_date(d, "MON"),
            NaiveDate::from_ymd_opt(2015, 10, 1)
        );
        assert_eq!(truncate_date(d, "DD"), None);
    }
}
