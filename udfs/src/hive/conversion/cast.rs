//! Hive's conversion of a value to another type, as `CAST` and the functions named after types
//! do it: what does not convert is NULL (never an error), integers wrap around, a string
//! becomes an integer only when it is one (`'1.9'` is 1: the fraction is dropped; `' 12'` and
//! `'1e3'` are NULL), a double becomes an integer as Java's `(int)` does, a timestamp is its
//! seconds (floored) as a number and an integer is milliseconds as a timestamp
//! (`hive.int.timestamp.conversion.in.seconds` is false by default), `true` prints as `TRUE`,
//! a double prints as Java's `Double.toString` (`1.0E10`), and only the empty string is false.
//! Every other conversion is Arrow's, with NULL where Arrow fails.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray, new_null_array,
};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int64Type, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::arrow::util::display::FormatOptions;
use datafusion::common::Result;

const SAFE: CastOptions<'static> = CastOptions {
    safe: true,
    format_options: FormatOptions::new(),
};

/// Arrow's cast, NULL where it fails.
fn arrow_cast(values: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    Ok(cast_with_options(values.as_ref(), to, &SAFE)?)
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// `values` converted to `to` as Hive converts.
pub(crate) fn hive_cast(values: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let from = values.data_type();
    if from == to {
        return Ok(Arc::clone(values));
    }
    if from.is_null() {
        return Ok(new_null_array(to, values.len()));
    }
    match to {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let longs = to_longs(values, to)?;
            // Narrowing a long wraps around, as Java's (byte)/(short)/(int) do.
            Ok(Arc::new(wrap(&longs, to)?))
        }
        DataType::Float64 | DataType::Float32 => {
            let doubles: Float64Array = if is_string(from) {
                let text = arrow_cast(values, &DataType::Utf8)?;
                text.as_string::<i32>()
                    .iter()
                    .map(|s| s.and_then(parse_java_double))
                    .collect()
            } else if let DataType::Timestamp(_, _) = from {
                let nanos = arrow_cast(values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
                nanos
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .map(|v| v.map(|n| n as f64 / 1e9))
                    .collect()
            } else {
                arrow_cast(values, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone()
            };
            arrow_cast(&(Arc::new(doubles) as ArrayRef), to)
        }
        DataType::Boolean => Ok(Arc::new(to_booleans(values)?)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = to_strings(values)?;
            arrow_cast(&text, to)
        }
        DataType::Timestamp(unit, tz) if from.is_integer() || *from == DataType::Boolean => {
            let millis = arrow_cast(&arrow_cast(values, &DataType::Int64)?, &DataType::Int64)?;
            let nanos: Int64Array = millis
                .as_primitive::<Int64Type>()
                .iter()
                .map(|m| m.and_then(|m| m.checked_mul(1_000_000)))
                .collect();
            let ts = arrow_cast(
                &(Arc::new(nanos) as ArrayRef),
                &DataType::Timestamp(TimeUnit::Nanosecond, None),
            )?;
            arrow_cast(&ts, &DataType::Timestamp(*unit, tz.clone()))
        }
        DataType::Timestamp(unit, tz)
            if from.is_floating() || matches!(from, DataType::Decimal128(..)) =>
        {
            let seconds = arrow_cast(values, &DataType::Float64)?;
            let nanos: Int64Array = seconds
                .as_primitive::<Float64Type>()
                .iter()
                .map(|s| {
                    s.filter(|s| s.is_finite() && s.abs() < 9.2e9)
                        .map(|s| (s * 1e9).round() as i64)
                })
                .collect();
            let ts = arrow_cast(
                &(Arc::new(nanos) as ArrayRef),
                &DataType::Timestamp(TimeUnit::Nanosecond, None),
            )?;
            arrow_cast(&ts, &DataType::Timestamp(*unit, tz.clone()))
        }
        DataType::Timestamp(_, _) | DataType::Decimal128(..) if is_string(from) => {
            let text = arrow_cast(values, &DataType::Utf8)?;
            let trimmed: StringArray = text
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(|s| s.trim_matches(|c: char| c <= ' ')))
                .collect();
            arrow_cast(&(Arc::new(trimmed) as ArrayRef), to)
        }
        DataType::Date32 if is_string(from) => {
            let text = arrow_cast(values, &DataType::Utf8)?;
            let days: datafusion::arrow::array::Date32Array = text
                .as_string::<i32>()
                .iter()
                .map(|s| s.and_then(parse_hive_date))
                .collect();
            Ok(Arc::new(days))
        }
        DataType::Date32 if from.is_numeric() || *from == DataType::Boolean => {
            // Hive has no conversion from a number to a date.
            Ok(new_null_array(to, values.len()))
        }
        _ => arrow_cast(values, to),
    }
}

/// Each value as a Java long (before narrowing), Hive's way for each source type.
fn to_longs(values: &ArrayRef, to: &DataType) -> Result<Int64Array> {
    let from = values.data_type();
    Ok(if is_string(from) {
        let text = arrow_cast(values, &DataType::Utf8)?;
        text.as_string::<i32>()
            .iter()
            .map(|s| s.and_then(|s| parse_hive_integer(s, to)))
            .collect()
    } else if from.is_floating() {
        let doubles = arrow_cast(values, &DataType::Float64)?;
        doubles
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| {
                v.map(|v| match to {
                    // Java: (long) d saturates; (int)/(short)/(byte) d go through int.
                    DataType::Int64 => v as i64,
                    _ => i64::from(v as i32),
                })
            })
            .collect()
    } else if let DataType::Decimal128(_, scale) = from {
        let unit = 10i128.pow(u32::from(scale.unsigned_abs()));
        let (lo, hi) = range_of(to);
        values
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| {
                let whole = if *scale >= 0 { v? / unit } else { v? * unit };
                // Hive: a decimal out of the target's range is NULL.
                (i128::from(lo)..=i128::from(hi))
                    .contains(&whole)
                    .then_some(whole as i64)
            })
            .collect()
    } else if let DataType::Timestamp(_, _) = from {
        let nanos = arrow_cast(values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        nanos
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|v| v.map(|n| n.div_euclid(1_000_000_000)))
            .collect()
    } else if let DataType::Date32 = from {
        // Hive has no conversion from a date to a number.
        std::iter::repeat_n(None::<i64>, values.len()).collect()
    } else {
        let longs = arrow_cast(values, &DataType::Int64)?;
        longs.as_primitive::<Int64Type>().clone()
    })
}

fn range_of(t: &DataType) -> (i64, i64) {
    match t {
        DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
        DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
        DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

/// Longs narrowed to `to` with Java's wrap-around.
fn wrap(longs: &Int64Array, to: &DataType) -> Result<ArrayRef> {
    use datafusion::arrow::array::{Int8Array, Int16Array, Int32Array};
    Ok(match to {
        DataType::Int8 => Arc::new(
            longs
                .iter()
                .map(|v| v.map(|v| v as i8))
                .collect::<Int8Array>(),
        ),
        DataType::Int16 => Arc::new(
            longs
                .iter()
                .map(|v| v.map(|v| v as i16))
                .collect::<Int16Array>(),
        ),
        DataType::Int32 => Arc::new(
            longs
                .iter()
                .map(|v| v.map(|v| v as i32))
                .collect::<Int32Array>(),
        ),
        _ => Arc::new(longs.clone()),
    })
}

/// A string as Hive reads an integer of type `to` (`LazyLong`): an optional sign, digits, and
/// optionally a '.' and more digits (dropped); nothing else, not even spaces. Out of the
/// type's range is NULL.
pub(crate) fn parse_hive_integer(s: &str, to: &DataType) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    if whole.is_empty() && fraction.is_none_or(str::is_empty) {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut value: i128 = 0;
    for b in whole.bytes() {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    let (lo, hi) = range_of(to);
    (i128::from(lo)..=i128::from(hi))
        .contains(&value)
        .then_some(value as i64)
}

/// A string as Java's `Double.parseDouble` reads it (surrounding whitespace allowed, `NaN`,
/// `Infinity`, a trailing `d`/`f`); NULL where Java throws.
pub(crate) fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    match unsigned {
        "NaN" => return Some(f64::NAN),
        "Infinity" => {
            return Some(if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        _ => {}
    }
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    body.parse::<f64>().ok()
}

/// A string as Hive reads a date: trimmed, up to the first space, `y-M-d` with 1-4, 1-2 and
/// 1-2 digits, leniently (`2020-02-30` is March 1st, as Hive's LENIENT resolver has it).
pub(crate) fn parse_hive_date(s: &str) -> Option<i32> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let t = t.split(' ').next()?;
    let mut parts = t.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |p: &str, max: usize| -> Option<i64> {
        (!p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (y, m, d) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
    // LENIENT: months and days past their ends roll over.
    let months = y * 12 + (m - 1);
    let days = days_from_civil(months.div_euclid(12), months.rem_euclid(12) + 1, 1) + d - 1;
    i32::try_from(days).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `yyyy-MM-dd` of a day number (days since 1970-01-01).
fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn to_booleans(values: &ArrayRef) -> Result<BooleanArray> {
    let from = values.data_type();
    Ok(if is_string(from) {
        let text = arrow_cast(values, &DataType::Utf8)?;
        text.as_string::<i32>()
            .iter()
            .map(|s| s.map(|s| !s.is_empty()))
            .collect()
    } else if let DataType::Timestamp(_, _) = from {
        let nanos = arrow_cast(values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        nanos
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|v| v.map(|n| n != 0))
            .collect()
    } else if let DataType::Date32 = from {
        std::iter::repeat_n(None::<bool>, values.len()).collect()
    } else if from.is_numeric() {
        let doubles = arrow_cast(values, &DataType::Float64)?;
        doubles
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| v != 0.0))
            .collect()
    } else {
        arrow_cast(values, &DataType::Boolean)?.as_boolean().clone()
    })
}

fn to_strings(values: &ArrayRef) -> Result<ArrayRef> {
    let from = values.data_type();
    Ok(match from {
        DataType::Boolean => Arc::new(
            values
                .as_boolean()
                .iter()
                .map(|v| v.map(|v| if v { "TRUE" } else { "FALSE" }))
                .collect::<StringArray>(),
        ),
        DataType::Float64 => Arc::new(
            values
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map(|v| java_double_string(v, false)))
                .collect::<StringArray>(),
        ),
        DataType::Float32 => Arc::new(
            values
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(java_float_string))
                .collect::<StringArray>(),
        ),
        DataType::Timestamp(_, None) => {
            let nanos = arrow_cast(values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
            Arc::new(
                nanos
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .map(|v| v.and_then(hive_timestamp_string))
                    .collect::<StringArray>(),
            )
        }
        DataType::Date32 => Arc::new(
            values
                .as_primitive::<Date32Type>()
                .iter()
                .map(|v| v.map(|d| civil_from_days(i64::from(d))))
                .collect::<StringArray>(),
        ),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = arrow_cast(values, &DataType::Binary)?;
            Arc::new(
                bytes
                    .as_binary::<i32>()
                    .iter()
                    .map(|b| b.map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect::<StringArray>(),
            )
        }
        _ => arrow_cast(values, &DataType::Utf8)?,
    })
}

/// A timestamp as Hive prints it: `yyyy-MM-dd HH:mm:ss`, then the fraction of a second without
/// trailing zeros when there is one.
fn hive_timestamp_string(nanos: i64) -> Option<String> {
    let seconds = nanos.div_euclid(1_000_000_000);
    let of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{} {:02}:{:02}:{:02}",
        civil_from_days(seconds.div_euclid(86_400)),
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    let fraction = nanos.rem_euclid(1_000_000_000);
    if fraction != 0 {
        let digits = format!("{fraction:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    Some(text)
}

/// Java's `Double.toString` (`1.0`, `1.0E10`, `1.0E-4`), given the shortest digits.
fn java_format(negative: bool, digits: &str, exponent: i32) -> String {
    let sign = if negative { "-" } else { "" };
    if (-3..7).contains(&exponent) {
        let (int_part, frac_part) = if exponent >= 0 {
            let e = exponent as usize;
            if digits.len() > e + 1 {
                (digits[..=e].to_string(), digits[e + 1..].to_string())
            } else {
                (format!("{digits:0<width$}", width = e + 1), String::new())
            }
        } else {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat((-exponent - 1) as usize)),
            )
        };
        let frac_part = if frac_part.is_empty() {
            "0".to_string()
        } else {
            frac_part
        };
        format!("{sign}{int_part}.{frac_part}")
    } else {
        let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{rest}E{exponent}", &digits[..1])
    }
}

fn java_special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else if v == 0.0 {
        Some(if v.is_sign_negative() { "-0.0" } else { "0.0" }.into())
    } else {
        None
    }
}

fn split_scientific(text: &str) -> (bool, String, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exponent.parse().unwrap_or(0))
}

/// Java's `Double.toString(v)`.
pub(crate) fn java_double_string(v: f64, _float: bool) -> String {
    if let Some(s) = java_special(v) {
        return s;
    }
    let (negative, digits, exponent) = split_scientific(&format!("{v:e}"));
    java_format(negative, &digits, exponent)
}

/// Java's `Float.toString(v)`.
pub(crate) fn java_float_string(v: f32) -> String {
    if let Some(s) = java_special(f64::from(v)) {
        return s;
    }
    let (negative, digits, exponent) = split_scientific(&format!("{v:e}"));
    java_format(negative, &digits, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_text() {
        assert_eq!(java_double_string(1e10, false), "1.0E10");
        assert_eq!(java_double_string(1.0, false), "1.0");
        assert_eq!(java_double_string(0.0001, false), "1.0E-4");
        assert_eq!(java_double_string(1234567.0, false), "1234567.0");
        assert_eq!(java_double_string(12345678.0, false), "1.2345678E7");
        assert_eq!(java_double_string(0.001, false), "0.001");
        assert_eq!(java_double_string(-1.5, false), "-1.5");
        assert_eq!(java_float_string(0.1), "0.1");
        assert_eq!(java_double_string(100.25, false), "100.25");
    }

    #[test]
    fn hive_integers() {
        let int = |s| parse_hive_integer(s, &DataType::Int32);
        assert_eq!(int("abc"), None);
        assert_eq!(int(" 12 "), None);
        assert_eq!(int("1.9"), Some(1));
        assert_eq!(int("-1.9"), Some(-1));
        assert_eq!(int("+5"), Some(5));
        assert_eq!(int("1e3"), None);
        assert_eq!(int(""), None);
        assert_eq!(int("2147483648"), None);
        assert_eq!(int(".5"), Some(0));
        assert_eq!(int("5."), Some(5));
        assert_eq!(int("-"), None);
        assert_eq!(parse_hive_integer("128", &DataType::Int8), None);
        assert_eq!(parse_hive_integer("-128", &DataType::Int8), Some(-128));
        assert_eq!(
            parse_hive_integer("-9223372036854775808", &DataType::Int64),
            Some(i64::MIN)
        );
        assert_eq!(
            parse_hive_integer("9223372036854775808", &DataType::Int64),
            None
        );
    }

    #[test]
    fn java_doubles_and_hive_dates() {
        assert_eq!(parse_java_double(" 1.5 "), Some(1.5));
        assert_eq!(parse_java_double("1.5d"), Some(1.5));
        assert_eq!(parse_java_double("inf"), None);
        assert_eq!(parse_java_double("0x10"), None);
        assert_eq!(parse_java_double("abc"), None);
        assert_eq!(parse_hive_date("1970-01-02"), Some(1));
        assert_eq!(parse_hive_date("1970-1-2 10:00:00"), Some(1));
        assert_eq!(parse_hive_date("2020-02-30"), parse_hive_date("2020-03-01"));
        assert_eq!(parse_hive_date("abc"), None);
        assert_eq!(civil_from_days(18_262), "2020-01-01");
        assert_eq!(days_from_civil(2020, 1, 1), 18_262);
        assert_eq!(
            hive_timestamp_string(1_500_000_000).as_deref(),
            Some("1970-01-01 00:00:01.5")
        );
        assert_eq!(
            hive_timestamp_string(-1_000_000_000).as_deref(),
            Some("1969-12-31 23:59:59")
        );
    }
}
