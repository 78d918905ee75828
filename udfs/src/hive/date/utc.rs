//! Hive's `from_utc_timestamp(ts, tz)` (a UTC time as the wall time of zone tz) and
//! `to_utc_timestamp(ts, tz)` (the wall time of tz as UTC). Zones are read as Java's
//! `TimeZone.getTimeZone` reads them: region names (`America/Los_Angeles`), `UTC`/`GMT`,
//! custom offsets `GMT+8` / `GMT-08:00`, Java's three-letter ids (`PST`, `CST`, `EST`, ...);
//! anything else, also a bare `+08:00`, is GMT.

use std::sync::Arc;

use chrono::{Duration, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{ArrayRef, AsArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::super::{hive_arg_error, is_string_or_null};
use super::input::{coerce_temporal, nanos_of, timestamps};
use super::udf::{DateFunc, Doc};

/// Java's three-letter zone ids that are not tz database names.
const SHORT_IDS: [(&str, &str); 25] = [
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
];

/// A zone as Java reads it.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Fixed(FixedOffset),
    Region(Tz),
}

/// Java's custom id `GMT[+-]h[h][[:]mm]`: its offset in seconds.
fn custom_offset(id: &str) -> Option<i32> {
    let rest = id.strip_prefix("GMT")?;
    let sign = match rest.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let rest = &rest[1..];
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h, m),
        Some(_) => return None,
        None if rest.len() <= 2 => (rest, "0"),
        None if rest.len() == 4 => (&rest[..2], &rest[2..]),
        None => return None,
    };
    if !hours
        .bytes()
        .chain(minutes.bytes())
        .all(|b| b.is_ascii_digit())
        || hours.is_empty()
    {
        return None;
    }
    let (h, m): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// The zone Java's `TimeZone.getTimeZone(id)` gives.
fn zone(id: &str) -> Zone {
    let utc = Zone::Fixed(FixedOffset::east_opt(0).unwrap_or(chrono::Utc.fix()));
    if let Some(offset) = custom_offset(id) {
        return FixedOffset::east_opt(offset).map_or(utc, Zone::Fixed);
    }
    let name = SHORT_IDS
        .iter()
        .find(|(short, _)| *short == id)
        .map_or(id, |(_, long)| *long);
    // Arrow also reads "+08:00"; Java does not (it falls back to GMT).
    if name.starts_with(['+', '-']) || name.is_empty() {
        return utc;
    }
    name.parse::<Tz>().map_or(utc, Zone::Region)
}

/// The wall time in `zone` of the UTC time `t`.
fn from_utc(t: NaiveDateTime, zone: Zone) -> NaiveDateTime {
    match zone {
        Zone::Fixed(z) => z.from_utc_datetime(&t).naive_local(),
        Zone::Region(z) => z.from_utc_datetime(&t).naive_local(),
    }
}

/// The UTC time of the wall time `t` in `zone` (the earlier of two; in a gap, the offset
/// in force before it).
fn to_utc(t: NaiveDateTime, zone: Zone) -> NaiveDateTime {
    fn convert<Z: TimeZone>(z: &Z, t: NaiveDateTime) -> NaiveDateTime {
        match z.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => x.naive_utc(),
            LocalResult::None => {
                let before = z.offset_from_utc_datetime(&(t - Duration::days(1))).fix();
                t - Duration::seconds(before.local_minus_utc() as i64)
            }
        }
    }
    match zone {
        Zone::Fixed(z) => convert(&z, t),
        Zone::Region(z) => convert(&z, t),
    }
}

fn coerce(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    if !is_string_or_null(&types[1]) {
        return Err(hive_arg_error(
            name,
            "the time zone (argument 2) must be a string",
        ));
    }
    Ok(vec![coerce_temporal(name, 1, &types[0])?, DataType::Utf8])
}

fn kernel(
    arrays: &[ArrayRef],
    convert: fn(NaiveDateTime, Zone) -> NaiveDateTime,
) -> Result<ArrayRef> {
    let times = timestamps(&arrays[0])?;
    let zones = arrays[1].as_string::<i32>();
    let mut last: Option<(String, Zone)> = None;
    let mut out = Vec::with_capacity(times.len());
    for (t, id) in times.into_iter().zip(zones.iter()) {
        let (Some(t), Some(id)) = (t, id) else {
            out.push(None);
            continue;
        };
        let z = match &last {
            Some((name, z)) if name == id => *z,
            _ => {
                let z = zone(id);
                last = Some((id.to_string(), z));
                z
            }
        };
        out.push(nanos_of(convert(t, z)));
    }
    Ok(Arc::new(TimestampNanosecondArray::from(out)))
}

/// `from_utc_timestamp`, `to_utc_timestamp`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "from_utc_timestamp",
            (2, 2),
            coerce,
            |_| Ok(DataType::Timestamp(TimeUnit::Nanosecond, None)),
            |a, _| kernel(a, from_utc),
            Doc {
                description: "The UTC timestamp as the wall time of time zone tz ('Asia/Seoul', \
                              'GMT+8', 'PST'; an unknown zone is GMT).",
                syntax: "from_utc_timestamp(timestamp, tz)",
                example: "SELECT from_utc_timestamp('1970-01-01 08:00:00', 'PST')",
            },
        )
        .udf(),
        DateFunc::new(
            "to_utc_timestamp",
            (2, 2),
            coerce,
            |_| Ok(DataType::Timestamp(TimeUnit::Nanosecond, None)),
            |a, _| kernel(a, to_utc),
            Doc {
                description: "The wall time of time zone tz ('Asia/Seoul', 'GMT+8', 'PST'; an \
                              unknown zone is GMT) as a UTC timestamp.",
                syntax: "to_utc_timestamp(timestamp, tz)",
                example: "SELECT to_utc_timestamp('1970-01-01 00:00:00', 'PST')",
            },
        )
        .udf(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_zone_ids() {
        assert_eq!(custom_offset("GMT+8"), Some(8 * 3600));
        assert_eq!(custom_offset("GMT-08:30"), Some(-(8 * 3600 + 1800)));
        assert_eq!(custom_offset("GMT+0530"), Some(5 * 3600 + 1800));
        assert_eq!(custom_offset("GMT+24"), None);
        assert_eq!(custom_offset("UTC+8"), None);
        assert!(matches!(zone("PST"), Zone::Region(_)));
        assert!(matches!(zone("America/Los_Angeles"), Zone::Region(_)));
        assert!(matches!(zone("+08:00"), Zone::Fixed(z) if z.local_minus_utc() == 0));
        assert!(matches!(zone("bogus"), Zone::Fixed(z) if z.local_minus_utc() == 0));
    }
}
