//! The date and timestamp arguments of Hive's date functions: strings as Hive 4 reads them
//! (`2009-07-30`, `2009-07-30 04:17:52[.fffffffff]`, also with a `T`), DATE and TIMESTAMP
//! values (no time zone: the session's is UTC). A string Hive cannot read is NULL.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit};
use datafusion::common::Result;
use datafusion::error::DataFusionError;

use super::super::{hive_arg_error, is_string_or_null};

/// The 1970-01-01 the epoch days of a DATE count from.
pub(crate) fn epoch_day() -> NaiveDate {
    NaiveDate::default()
}

/// The type a date or timestamp argument is read as: strings (and NULL) as Utf8, DATE as
/// Date32, any TIMESTAMP as Timestamp(ns) without a zone; anything else is refused.
pub(crate) fn coerce_temporal(function: &str, position: usize, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Date32 | DataType::Date64 => Ok(DataType::Date32),
        DataType::Timestamp(_, _) => Ok(DataType::Timestamp(TimeUnit::Nanosecond, None)),
        t if is_string_or_null(t) => Ok(DataType::Utf8),
        other => Err(hive_arg_error(
            function,
            format!(
                "argument {position} must be a string, date or timestamp, got {}",
                super::hive_type(other)
            ),
        )),
    }
}

/// The type an integer argument (a day or month count) is read as; Hive refuses the rest.
pub(crate) fn coerce_integer(function: &str, position: usize, t: &DataType) -> Result<DataType> {
    if t.is_integer() || t == &DataType::Null {
        Ok(DataType::Int64)
    } else {
        Err(hive_arg_error(
            function,
            format!(
                "argument {position} must be an integer (tinyint, smallint, int), got {}",
                super::hive_type(t)
            ),
        ))
    }
}

/// Reads `yyyy-M-d` (1 to `max_year_digits` year digits) at the start of `s`: the date and
/// the rest of the text. The date must exist (Hive 4 parses dates strictly).
fn date_prefix(s: &str, max_year_digits: usize) -> Option<(NaiveDate, &str)> {
    let (year, rest) = digits(s, max_year_digits)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    Some((date, rest))
}

/// 1 to `max` leading ASCII digits of `s`: their value and the rest.
fn digits(s: &str, max: usize) -> Option<(i64, &str)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// A DATE from a string as Hive 4's `Date.valueOf` reads it: trimmed, `yyyy-M-d`, and
/// whatever follows must not start with a digit (so a time part is dropped).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let (date, rest) = date_prefix(s.trim(), 4)?;
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(date)
}

/// `H:m:s[.fffffffff]` as the whole of `s`.
fn time_of_day(s: &str) -> Option<NaiveTime> {
    let (hour, rest) = digits(s, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (minute, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (second, rest) = digits(rest, 2)?;
    let nanos = match rest.strip_prefix('.') {
        None if rest.is_empty() => 0,
        None => return None,
        Some(fraction) => {
            if fraction.is_empty()
                || fraction.len() > 9
                || !fraction.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            format!("{fraction:0<9}").parse::<u32>().ok()?
        }
    };
    NaiveTime::from_hms_nano_opt(
        u32::try_from(hour).ok()?,
        u32::try_from(minute).ok()?,
        u32::try_from(second).ok()?,
        nanos,
    )
}

/// A TIMESTAMP from a string as Hive 4 reads one: `yyyy-M-d H:m:s[.f]` (or with `T`),
/// else a date (`yyyy-M-d`, anything after it not a digit) at midnight.
pub(crate) fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some((date, rest)) = date_prefix(s, 10) {
        let time = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('T'))
            .and_then(time_of_day);
        if let Some(time) = time {
            return Some(date.and_time(time));
        }
    }
    parse_date(s).map(|d| d.and_time(NaiveTime::MIN))
}

/// A DATE's epoch day as a date.
pub(crate) fn date_from_days(days: i32) -> Option<NaiveDate> {
    epoch_day().checked_add_signed(Duration::days(days as i64))
}

/// A date's epoch day.
pub(crate) fn days_of(date: NaiveDate) -> i32 {
    (date - epoch_day()).num_days() as i32
}

/// Nanoseconds since the epoch as a wall time.
pub(crate) fn timestamp_from_nanos(nanos: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(nanos).naive_utc()
}

/// A wall time's nanoseconds since the epoch (None outside the years 1677 to 2262).
pub(crate) fn nanos_of(t: NaiveDateTime) -> Option<i64> {
    t.and_utc().timestamp_nanos_opt()
}

fn unexpected(t: &DataType) -> DataFusionError {
    DataFusionError::Internal(format!("date argument of unexpected type {t}"))
}

/// Each row of a (coerced) date or timestamp argument as a timestamp: strings as Hive reads
/// them, dates at midnight.
pub(crate) fn timestamps(array: &ArrayRef) -> Result<Vec<Option<NaiveDateTime>>> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, None) => {
            let values = cast(array, &DataType::Int64)?;
            let values = values.as_primitive::<Int64Type>();
            Ok(values.iter().map(|v| v.map(timestamp_from_nanos)).collect())
        }
        DataType::Date32 => Ok(array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| {
                v.and_then(date_from_days)
                    .map(|d| d.and_time(NaiveTime::MIN))
            })
            .collect()),
        DataType::Null => Ok(vec![None; array.len()]),
        DataType::Utf8 => Ok(array
            .as_string::<i32>()
            .iter()
            .map(|v| v.and_then(parse_timestamp))
            .collect()),
        other => {
            if is_string_or_null(other) {
                timestamps(&cast(array, &DataType::Utf8)?)
            } else {
                Err(unexpected(other))
            }
        }
    }
}

/// Each row of a (coerced) date or timestamp argument as a date: strings as Hive reads
/// them, timestamps without their time of day.
pub(crate) fn dates(array: &ArrayRef) -> Result<Vec<Option<NaiveDate>>> {
    match array.data_type() {
        DataType::Date32 => Ok(array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.and_then(date_from_days))
            .collect()),
        DataType::Utf8 => Ok(array
            .as_string::<i32>()
            .iter()
            .map(|v| v.and_then(|s| parse_date(s).or_else(|| parse_timestamp(s).map(|t| t.date()))))
            .collect()),
        _ => Ok(timestamps(array)?
            .into_iter()
            .map(|t| t.map(|t| t.date()))
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<String> {
        parse_timestamp(s).map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
    }

    #[test]
    fn hive_4_strings() {
        assert_eq!(
            parse_date("2009-07-30"),
            NaiveDate::from_ymd_opt(2009, 7, 30)
        );
        assert_eq!(
            parse_date(" 2009-7-3 "),
            NaiveDate::from_ymd_opt(2009, 7, 3)
        );
        assert_eq!(
            parse_date("2009-07-30 04:17:52"),
            NaiveDate::from_ymd_opt(2009, 7, 30)
        );
        assert_eq!(parse_date("2009-07-300"), None);
        assert_eq!(parse_date("2009-02-30"), None);
        assert_eq!(parse_date("x"), None);
        assert_eq!(
            ts("2009-07-30 04:17:52"),
            Some("2009-07-30 04:17:52".into())
        );
        assert_eq!(
            ts("2009-07-30T04:17:52.5"),
            Some("2009-07-30 04:17:52.500".into())
        );
        assert_eq!(
            ts("2009-07-30 04:17:52.123456789"),
            Some("2009-07-30 04:17:52.123456789".into())
        );
        assert_eq!(ts("2009-07-30"), Some("2009-07-30 00:00:00".into()));
        // Without seconds the time is not read, but the date still is.
        assert_eq!(ts("2009-07-30 04:17"), Some("2009-07-30 00:00:00".into()));
        assert_eq!(ts("04:17:52"), None);
        assert_eq!(ts(""), None);
    }
}
