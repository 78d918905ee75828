//! Java `SimpleDateFormat` patterns, as Hive's `date_format`, `from_unixtime`,
//! `unix_timestamp` and `add_months` use them: formatting a timestamp (in UTC, the session's
//! time zone, on the proleptic Gregorian calendar) and lenient parsing.
//!
//! Letters: `G y Y M L w W D d F E u a H k K h m s S z Z X`; text in single quotes is literal
//! and `''` is one quote; any other ASCII letter is an illegal pattern (Java throws, Hive
//! answers NULL). Week fields follow Java's default (US) locale: weeks start on Sunday and
//! week 1 is the one holding January 1st.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Day names, Sunday first (Java's `Calendar.DAY_OF_WEEK` order).
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One piece of a pattern: literal text or a field letter repeated `count` times.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

/// A compiled `SimpleDateFormat` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaPattern {
    tokens: Vec<Token>,
}

/// Whether `c` is one of `SimpleDateFormat`'s pattern letters.
fn is_field_letter(c: char) -> bool {
    "GyYMLwWDdFEuaHkKhmsSzZX".contains(c)
}

/// `value` in decimal, zero-padded to at least `width` digits (a minus sign leads).
fn padded(value: i64, width: usize) -> String {
    if value < 0 {
        format!("-{:0width$}", -value, width = width)
    } else {
        format!("{value:0width$}")
    }
}

/// Java's US week fields of `date`: (week year, week of year), weeks from Sunday, week 1 the
/// one that holds January 1st.
fn us_week(date: NaiveDate) -> (i32, u32) {
    let sunday_based = date.weekday().num_days_from_sunday() as i64;
    let week_end = date + Duration::days(6 - sunday_based);
    if week_end.year() > date.year() {
        // The week that holds the next January 1st is that year's week 1.
        return (date.year() + 1, 1);
    }
    let jan1 = NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date);
    let offset = jan1.weekday().num_days_from_sunday();
    (date.year(), (date.ordinal0() + offset) / 7 + 1)
}

impl JavaPattern {
    /// Compiles `pattern`, or says why Java would refuse it.
    pub(crate) fn compile(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                // Quoted text up to the closing quote; '' inside is one quote.
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated quote in pattern '{pattern}'")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&q) => {
                            literal.push(q);
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if c.is_ascii_alphabetic() {
                if !is_field_letter(c) {
                    return Err(format!("illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(Token::Field(c, count));
                i += count;
                continue;
            }
            literal.push(c);
            i += 1;
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(Self { tokens })
    }

    /// `t` (a UTC wall time) written out with this pattern.
    pub(crate) fn format(&self, t: &NaiveDateTime) -> String {
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Literal(text) => out.push_str(text),
                Token::Field(c, n) => out.push_str(&format_field(*c, *n, t)),
            }
        }
        out
    }

    /// Parses `text` leniently, as `SimpleDateFormat.parse` does: fields default to
    /// 1970-01-01 00:00:00, out-of-range values roll over, text after the pattern is ignored,
    /// spaces before a field are skipped. Gives the UTC time, or None where Java throws.
    pub(crate) fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        let chars: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let mut fields = Parsed::default();
        for (index, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Literal(lit) => {
                    for l in lit.chars() {
                        if chars.get(pos) != Some(&l) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Token::Field(c, n) => {
                    while matches!(chars.get(pos), Some(' ') | Some('\t')) {
                        pos += 1;
                    }
                    // A numeric field directly followed by another numeric field takes
                    // exactly its width ("yyyyMMdd").
                    let abutting = matches!(
                        self.tokens.get(index + 1),
                        Some(Token::Field(next, m)) if is_numeric(*next, *m)
                    );
                    let width = if abutting { Some(*n) } else { None };
                    pos = parse_field(*c, *n, &chars, pos, width, &mut fields)?;
                }
            }
        }
        fields.resolve()
    }
}

/// Whether the field `c` repeated `n` times is written as a number.
fn is_numeric(c: char, n: usize) -> bool {
    match c {
        'G' | 'E' | 'a' | 'z' | 'Z' | 'X' => false,
        'M' | 'L' => n < 3,
        _ => true,
    }
}

fn format_field(c: char, n: usize, t: &NaiveDateTime) -> String {
    let date = t.date();
    let year_text = |year: i32| {
        // Java prints the year of era; `yy` is its last two digits.
        let era_year = i64::from(if year <= 0 { 1 - year } else { year });
        if n == 2 {
            padded(era_year % 100, 2)
        } else {
            padded(era_year, n)
        }
    };
    match c {
        'G' => String::from(if date.year() <= 0 { "BC" } else { "AD" }),
        'y' => year_text(date.year()),
        'Y' => year_text(us_week(date).0),
        'M' | 'L' => {
            let name = MONTHS[date.month0() as usize];
            match n {
                1 | 2 => padded(date.month() as i64, n),
                3 => name[..3].to_string(),
                _ => name.to_string(),
            }
        }
        'w' => padded(us_week(date).1 as i64, n),
        'W' => {
            let first = date.with_day(1).unwrap_or(date);
            let offset = first.weekday().num_days_from_sunday();
            padded(((date.day0() + offset) / 7 + 1) as i64, n)
        }
        'D' => padded(date.ordinal() as i64, n),
        'd' => padded(date.day() as i64, n),
        'F' => padded((date.day0() / 7 + 1) as i64, n),
        'E' => {
            let name = DAYS[date.weekday().num_days_from_sunday() as usize];
            if n >= 4 {
                name.to_string()
            } else {
                name[..3].to_string()
            }
        }
        'u' => padded(date.weekday().number_from_monday() as i64, n),
        'a' => String::from(if t.hour() < 12 { "AM" } else { "PM" }),
        'H' => padded(t.hour() as i64, n),
        'k' => padded(i64::from(if t.hour() == 0 { 24 } else { t.hour() }), n),
        'K' => padded((t.hour() % 12) as i64, n),
        'h' => padded(
            i64::from(if t.hour().is_multiple_of(12) {
                12
            } else {
                t.hour() % 12
            }),
            n,
        ),
        'm' => padded(t.minute() as i64, n),
        's' => padded(t.second() as i64, n),
        'S' => padded((t.nanosecond() / 1_000_000).min(999) as i64, n),
        'z' => String::from(if n >= 4 {
            "Coordinated Universal Time"
        } else {
            "UTC"
        }),
        'Z' => "+0000".to_string(),
        // 'X' (ISO 8601 zone): UTC is written as Z.
        _ => "Z".to_string(),
    }
}

/// The fields a parse has found so far.
#[derive(Debug, Default)]
struct Parsed {
    bc: bool,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour_of_day: Option<i64>,
    hour_of_half: Option<i64>,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    millis: i64,
    offset_minutes: i64,
}

impl Parsed {
    /// Java's lenient `GregorianCalendar`: every field adds on to 1970-01-01 00:00:00.
    fn resolve(&self) -> Option<NaiveDateTime> {
        let mut year = self.year.unwrap_or(1970);
        if self.bc {
            year = 1 - year;
        }
        let base = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)?;
        let date = if self.day_of_year.is_some() && self.day.is_none() {
            base.checked_add_signed(Duration::days(self.day_of_year.unwrap_or(1) - 1))?
        } else {
            let months = self.month.unwrap_or(1) - 1;
            let first = add_months_to_first(base, months)?;
            first.checked_add_signed(Duration::days(self.day.unwrap_or(1) - 1))?
        };
        let hour = match (self.hour_of_day, self.hour_of_half) {
            (Some(h), _) => h,
            (None, Some(h)) => h + if self.pm == Some(true) { 12 } else { 0 },
            (None, None) => {
                if self.pm == Some(true) {
                    12
                } else {
                    0
                }
            }
        };
        let seconds = hour * 3600 + self.minute * 60 + self.second - self.offset_minutes * 60;
        date.and_hms_opt(0, 0, 0)?
            .checked_add_signed(Duration::seconds(seconds))?
            .checked_add_signed(Duration::milliseconds(self.millis))
    }
}

/// The first of the month `months` after the month `first` starts (any sign, any size).
fn add_months_to_first(first: NaiveDate, months: i64) -> Option<NaiveDate> {
    let total = first.year() as i64 * 12 + first.month0() as i64 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    NaiveDate::from_ymd_opt(year, total.rem_euclid(12) as u32 + 1, 1)
}

/// Reads an unsigned number at `pos` (exactly `width` digits when given, else all digits;
/// a leading sign is allowed): its value, its digit count and where it ends.
fn read_number(chars: &[char], pos: usize, width: Option<usize>) -> Option<(i64, usize, usize)> {
    let mut i = pos;
    let negative = match chars.get(i) {
        Some('-') => {
            i += 1;
            true
        }
        Some('+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut value: i64 = 0;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        if width.is_some_and(|w| i - start >= w) {
            break;
        }
        value = value.checked_mul(10)?.checked_add(d as i64)?;
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if negative { -value } else { value }, i - start, i))
}

/// Matches one of `names` (or its first three letters), ignoring case, longest first:
/// the index and where the match ends.
fn read_name(chars: &[char], pos: usize, names: &[&str]) -> Option<(usize, usize)> {
    let rest: String = chars[pos.min(chars.len())..].iter().collect();
    let rest = rest.to_ascii_lowercase();
    let mut best: Option<(usize, usize)> = None;
    for (index, name) in names.iter().enumerate() {
        for candidate in [name.to_string(), name.chars().take(3).collect()] {
            let lower = candidate.to_ascii_lowercase();
            if rest.starts_with(&lower) && best.is_none_or(|(_, len)| lower.len() > len) {
                best = Some((index, lower.len()));
            }
        }
    }
    best.map(|(index, len)| (index, pos + len))
}

/// Reads a zone: `Z`, `UTC`/`GMT` with an optional offset, or `+hh[:]mm` / `+hh`.
/// Gives the offset east of UTC in minutes and where it ends.
fn read_zone(chars: &[char], pos: usize) -> Option<(i64, usize)> {
    let rest: String = chars[pos.min(chars.len())..].iter().collect();
    if rest.starts_with('Z') {
        return Some((0, pos + 1));
    }
    let mut i = pos;
    for prefix in ["GMT", "UTC"] {
        if rest.starts_with(prefix) {
            i += 3;
            if !matches!(chars.get(i), Some('+') | Some('-')) {
                return Some((0, i));
            }
        }
    }
    let sign = match chars.get(i) {
        Some('+') => 1,
        Some('-') => -1,
        _ => return None,
    };
    i += 1;
    let (hours, digits, mut end) = read_number(chars, i, Some(2))?;
    let mut minutes = 0;
    if chars.get(end) == Some(&':') {
        let (m, _, e) = read_number(chars, end + 1, Some(2))?;
        minutes = m;
        end = e;
    } else if digits == 2
        && let Some((m, 2, e)) = read_number(chars, end, Some(2))
    {
        minutes = m;
        end = e;
    }
    Some((sign * (hours * 60 + minutes), end))
}

/// Parses the field `c` (repeated `n` times) at `pos`, storing it: where it ends.
fn parse_field(
    c: char,
    n: usize,
    chars: &[char],
    pos: usize,
    width: Option<usize>,
    fields: &mut Parsed,
) -> Option<usize> {
    match c {
        'G' => {
            let (index, end) = read_name(chars, pos, &["AD", "BC"])?;
            fields.bc = index == 1;
            Some(end)
        }
        'M' | 'L' if n >= 3 => {
            let (index, end) = read_name(chars, pos, &MONTHS)?;
            fields.month = Some(index as i64 + 1);
            Some(end)
        }
        'E' => read_name(chars, pos, &DAYS).map(|(_, end)| end),
        'a' => {
            let (index, end) = read_name(chars, pos, &["AM", "PM"])?;
            fields.pm = Some(index == 1);
            Some(end)
        }
        'z' | 'Z' | 'X' => {
            let (offset, end) = read_zone(chars, pos)?;
            fields.offset_minutes = offset;
            Some(end)
        }
        _ => {
            let (value, digits, end) = read_number(chars, pos, width)?;
            match c {
                'y' | 'Y' => {
                    // A two-digit year in a short field lands within 80 years before and
                    // 20 years after now, as Java's default century does.
                    let year = if n <= 2 && digits == 2 && value >= 0 {
                        two_digit_year(value)
                    } else {
                        value
                    };
                    fields.year = Some(year);
                }
                'M' | 'L' => fields.month = Some(value),
                'd' => fields.day = Some(value),
                'D' => fields.day_of_year = Some(value),
                'H' => fields.hour_of_day = Some(value),
                'k' => fields.hour_of_day = Some(if value == 24 { 0 } else { value }),
                'K' => fields.hour_of_half = Some(value),
                'h' => fields.hour_of_half = Some(if value == 12 { 0 } else { value }),
                'm' => fields.minute = value,
                's' => fields.second = value,
                'S' => fields.millis = value,
                // w W F u: read, but (as in most of Java's resolutions) not used.
                _ => {}
            }
            Some(end)
        }
    }
}

/// The year Java's `SimpleDateFormat` gives a two-digit year: the one within 80 years before
/// and 20 years after the current date.
fn two_digit_year(two_digits: i64) -> i64 {
    let now = chrono::Utc::now().year() as i64;
    let start = now - 80;
    let mut year = start - start.rem_euclid(100) + two_digits;
    if year < start {
        year += 100;
    }
    year
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn fmt(pattern: &str, t: &str) -> String {
        JavaPattern::compile(pattern)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .format(&at(t))
    }

    fn parse(pattern: &str, text: &str) -> Option<NaiveDateTime> {
        JavaPattern::compile(pattern)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .parse(text)
    }

    #[test]
    fn formats_every_letter_as_java_does() {
        let t = "2015-04-08 10:30:45.123";
        assert_eq!(fmt("yyyy-MM-dd HH:mm", t), "2015-04-08 10:30");
        assert_eq!(fmt("y yy yyy yyyyy", t), "2015 15 2015 02015");
        assert_eq!(fmt("G YYYY M MMM MMMM L", t), "AD 2015 4 Apr April 4");
        assert_eq!(fmt("w W D d F E EEEE u", t), "15 2 98 8 2 Wed Wednesday 3");
        assert_eq!(
            fmt("a H k K h m s S SSS", t),
            "AM 10 10 10 10 30 45 123 123"
        );
        assert_eq!(
            fmt("z zzzz Z X", t),
            "UTC Coordinated Universal Time +0000 Z"
        );
        assert_eq!(fmt("H k K h a", "2015-04-08 00:05:06"), "0 24 0 12 AM");
        assert_eq!(fmt("H k K h a", "2015-04-08 12:05:06"), "12 12 0 12 PM");
        assert_eq!(fmt("SSSS", "2015-04-08 10:30:45.5"), "0500");
    }

    #[test]
    fn quotes_and_literals() {
        let t = "2015-04-08 10:30:45";
        assert_eq!(fmt("'o''clock' h", t), "o'clock 10");
        assert_eq!(fmt("''H''", t), "'10'");
        assert_eq!(fmt("yyyy-MM-dd'T'HH:mm:ssXXX", t), "2015-04-08T10:30:45Z");
        assert_eq!(fmt("[d/M]", t), "[8/4]");
        assert!(JavaPattern::compile("yyyy-bb").is_err());
        assert!(JavaPattern::compile("'open").is_err());
    }

    #[test]
    fn us_weeks_start_on_sunday_and_roll_into_next_year() {
        assert_eq!(fmt("YYYY ww", "2015-12-31 00:00:00"), "2016 01");
        assert_eq!(fmt("YYYY ww", "2016-01-02 00:00:00"), "2016 01");
        assert_eq!(fmt("YYYY ww", "2016-01-03 00:00:00"), "2016 02");
        assert_eq!(fmt("W", "2015-04-05 00:00:00"), "2");
    }

    #[test]
    fn era_and_old_years() {
        assert_eq!(fmt("G yyyy", "0000-06-01 00:00:00"), "BC 0001");
    }

    #[test]
    fn parses_leniently() {
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ss", "2009-03-20 11:30:01"),
            Some(at("2009-03-20 11:30:01"))
        );
        // Text after the pattern is ignored; values roll over.
        assert_eq!(
            parse("yyyy-MM-dd", "2009-03-20abc"),
            Some(at("2009-03-20 00:00:00"))
        );
        assert_eq!(
            parse("yyyy-MM-dd", "2009-13-45"),
            Some(at("2010-02-14 00:00:00"))
        );
        assert_eq!(
            parse("MM/dd/yyyy h:m:s a", "03/20/2009 1:2:3 PM"),
            Some(at("2009-03-20 13:02:03"))
        );
        assert_eq!(
            parse("MMM dd yyyy", "mar 20 2009"),
            Some(at("2009-03-20 00:00:00"))
        );
        assert_eq!(
            parse("yyyyMMdd", "20090320"),
            Some(at("2009-03-20 00:00:00"))
        );
        // A day of year wins over a month without a day of month, as in Java.
        assert_eq!(
            parse("D M yyyy", "1 2 2009"),
            Some(at("2009-01-01 00:00:00"))
        );
        assert_eq!(parse("D yyyy", "32 2009"), Some(at("2009-02-01 00:00:00")));
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ss Z", "2009-03-20 11:30:01 +0800"),
            Some(at("2009-03-20 03:30:01"))
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ss.SSS", "2009-03-20 11:30:01.5"),
            Some(at("2009-03-20 11:30:01.005"))
        );
        assert_eq!(parse("'day' d", "day 5"), Some(at("1970-01-05 00:00:00")));
        assert_eq!(parse("yyyy-MM-dd", "2009/03/20"), None);
        assert_eq!(parse("yyyy-MM-dd", "x"), None);
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss", "2009-03-20"), None);
    }
}
