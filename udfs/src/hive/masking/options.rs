//! The replacement characters and values of Hive's `mask*` functions, read from their constant
//! arguments as Hive reads them, and the rule that masks one character.

use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;

/// Hive's "keep the original" value for a replacement argument.
pub(super) const UNMASKED: i32 = -1;

/// What the `mask*` functions replace each kind of character, digit and date field with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MaskOptions {
    /// Replacement for upper-case letters (a code point, or [`UNMASKED`]).
    pub upper: i32,
    /// Replacement for lower-case letters.
    pub lower: i32,
    /// Replacement for digits.
    pub digit: i32,
    /// Replacement for every other character.
    pub other: i32,
    /// The digit (0-9) that replaces digits of numbers.
    pub number: i64,
    /// The day of month (1-31) a date gets, or [`UNMASKED`].
    pub day: i32,
    /// The month (0-11, January is 0) a date gets, or [`UNMASKED`].
    pub month: i32,
    /// The year a date gets, or [`UNMASKED`].
    pub year: i32,
}

impl MaskOptions {
    /// Reads the options from `args[start..]` in Hive's order (upperChar, lowerChar, digitChar,
    /// otherChar, numberChar, dayValue, monthValue, yearValue). As in Hive, only constants
    /// count: a missing, NULL, empty or non-constant argument takes the default.
    pub(super) fn from_args(name: &str, args: &[ColumnarValue], start: usize) -> Result<Self> {
        let arg = |i: usize| match args.get(start + i) {
            Some(ColumnarValue::Scalar(value)) if !value.is_null() => Some(value),
            _ => None,
        };
        let mut options = MaskOptions {
            upper: char_arg(arg(0), 'X' as i32),
            lower: char_arg(arg(1), 'x' as i32),
            digit: char_arg(arg(2), 'n' as i32),
            other: char_arg(arg(3), UNMASKED),
            number: int_arg(name, arg(4), 1)?.into(),
            day: int_arg(name, arg(5), 1)?,
            month: int_arg(name, arg(6), 0)?,
            year: int_arg(name, arg(7), 0)?,
        };
        if !(0..=9).contains(&options.number) {
            options.number = 1;
        }
        if options.day != UNMASKED && !(1..=31).contains(&options.day) {
            options.day = 1;
        }
        if options.month != UNMASKED && !(0..=11).contains(&options.month) {
            options.month = 0;
        }
        Ok(options)
    }

    /// The masked form of one UTF-16 code unit, as Hive's `transformChar` (which looks at
    /// Java `char`s: each half of a surrogate pair counts as an "other" character).
    pub(super) fn mask_unit(&self, unit: u16) -> u32 {
        let replacement = match char::from_u32(u32::from(unit)) {
            Some(c) if is_upper_letter(c) => self.upper,
            Some(c) if is_lower_letter(c) => self.lower,
            Some(c) if is_decimal_digit(c) => self.digit,
            _ => self.other,
        };
        if replacement == UNMASKED {
            u32::from(unit)
        } else {
            replacement as u32
        }
    }
}

/// The character count of the `_n` variants from `args[index]` (default 4; negative is 0).
pub(super) fn count_from_args(name: &str, args: &[ColumnarValue], index: usize) -> Result<usize> {
    let value = match args.get(index) {
        Some(ColumnarValue::Scalar(value)) if !value.is_null() => Some(value),
        _ => None,
    };
    Ok(usize::try_from(int_arg(name, value, 4)?).unwrap_or(0))
}

/// A replacement character argument: an integer is a code point (-1 keeps the original), a
/// string gives its first character; anything else the default.
fn char_arg(value: Option<&ScalarValue>, default: i32) -> i32 {
    let Some(value) = value else {
        return default;
    };
    if let Some(n) = integer(value) {
        return n as i32;
    }
    match value.try_as_str().flatten() {
        Some(s) => s.encode_utf16().next().map_or(default, i32::from),
        None => default,
    }
}

/// An integer argument: an integer, or a string holding one (Hive's `Integer.parseInt`).
fn int_arg(name: &str, value: Option<&ScalarValue>, default: i32) -> Result<i32> {
    let Some(value) = value else {
        return Ok(default);
    };
    if let Some(n) = integer(value) {
        return Ok(n as i32);
    }
    match value.try_as_str().flatten() {
        Some("") | None => Ok(default),
        Some(s) => match s.parse::<i32>() {
            Ok(n) => Ok(n),
            Err(_) => exec_err!("{name}: '{s}' is not an integer"),
        },
    }
}

fn integer(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(n)) => Some(i64::from(*n)),
        ScalarValue::Int16(Some(n)) => Some(i64::from(*n)),
        ScalarValue::Int32(Some(n)) => Some(i64::from(*n)),
        ScalarValue::Int64(Some(n)) => Some(*n),
        _ => None,
    }
}

/// Characters that Rust counts as upper case but Java's `Character.getType` does not call
/// `UPPERCASE_LETTER` (Unicode's Other_Uppercase in the BMP: Roman numerals, circled letters).
const OTHER_UPPERCASE: &[(u32, u32)] = &[(0x2160, 0x216F), (0x24B6, 0x24CF)];

/// The same for lower case (Unicode's Other_Lowercase in the BMP: modifier letters, ordinal
/// indicators, small Roman numerals, circled letters, ...).
const OTHER_LOWERCASE: &[(u32, u32)] = &[
    (0x00AA, 0x00AA),
    (0x00BA, 0x00BA),
    (0x02B0, 0x02B8),
    (0x02C0, 0x02C1),
    (0x02E0, 0x02E4),
    (0x0345, 0x0345),
    (0x037A, 0x037A),
    (0x10FC, 0x10FC),
    (0x1D2C, 0x1D6A),
    (0x1D78, 0x1D78),
    (0x1D9B, 0x1DBF),
    (0x2071, 0x2071),
    (0x207F, 0x207F),
    (0x2090, 0x209C),
    (0x2170, 0x217F),
    (0x24D0, 0x24E9),
    (0x2C7C, 0x2C7D),
    (0xA69C, 0xA69D),
    (0xA770, 0xA770),
    (0xA7F2, 0xA7F4),
    (0xA7F8, 0xA7F9),
    (0xAB5C, 0xAB5F),
    (0xAB69, 0xAB69),
];

/// The first code point (the zero) of each run of ten decimal digits (general category Nd) in
/// the BMP.
const DIGIT_ZEROS: &[u32] = &[
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = u32::from(c);
    ranges.iter().any(|&(a, b)| (a..=b).contains(&c))
}

/// Java's `Character.UPPERCASE_LETTER` (Unicode general category Lu).
fn is_upper_letter(c: char) -> bool {
    c.is_uppercase() && !in_ranges(c, OTHER_UPPERCASE)
}

/// Java's `Character.LOWERCASE_LETTER` (Unicode general category Ll).
fn is_lower_letter(c: char) -> bool {
    c.is_lowercase() && !in_ranges(c, OTHER_LOWERCASE)
}

/// Java's `Character.DECIMAL_DIGIT_NUMBER` (Unicode general category Nd).
fn is_decimal_digit(c: char) -> bool {
    let c = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .any(|&zero| (zero..zero + 10).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(v: ScalarValue) -> ColumnarValue {
        ColumnarValue::Scalar(v)
    }

    #[test]
    fn defaults_and_constants_as_hive_reads_them() {
        let args = [
            scalar(ScalarValue::Utf8(Some("v".into()))),
            scalar(ScalarValue::Utf8(Some("UU".into()))),
            scalar(ScalarValue::Utf8(Some(String::new()))),
            scalar(ScalarValue::Int64(Some(35))),
            scalar(ScalarValue::Int64(Some(-1))),
            scalar(ScalarValue::Utf8(Some("12".into()))),
        ];
        let o = MaskOptions::from_args("mask", &args, 1).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (o.upper, o.lower, o.digit),
            ('U' as i32, 'x' as i32, '#' as i32)
        );
        assert_eq!((o.other, o.number), (UNMASKED, 1));
        assert_eq!((o.day, o.month, o.year), (1, 0, 0));
        let bad = [
            scalar(ScalarValue::Utf8(Some("v".into()))),
            scalar(ScalarValue::Null),
        ];
        assert!(MaskOptions::from_args("mask", &bad, 1).is_ok());
        let not_int = [
            scalar(ScalarValue::Utf8(Some("v".into()))),
            scalar(ScalarValue::Utf8(Some("abc".into()))),
        ];
        assert!(count_from_args("mask_first_n", &not_int, 1).is_err());
        assert_eq!(count_from_args("mask_first_n", &not_int, 2).ok(), Some(4));
    }

    #[test]
    fn character_classes_follow_java() {
        assert!(is_upper_letter('É') && !is_upper_letter('Ⅳ') && !is_upper_letter('ǅ'));
        assert!(is_lower_letter('ß') && !is_lower_letter('ª'));
        assert!(is_decimal_digit('7') && is_decimal_digit('٣') && !is_decimal_digit('²'));
    }
}
