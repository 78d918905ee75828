//! How each `mask*` function transforms a string, a number and a date (Hive's
//! `MaskTransformer` and its `FirstN`/`LastN`/`ShowFirstN`/`ShowLastN` variants).

use datafusion::common::{Result, exec_err};

use super::options::{MaskOptions, UNMASKED};

/// Which part of a value a `mask*` function masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum MaskKind {
    /// `mask`: everything.
    All,
    /// `mask_first_n`: the first n characters (digits of a number: the leading n).
    FirstN,
    /// `mask_last_n`: the last n.
    LastN,
    /// `mask_show_first_n`: all but the first n.
    ShowFirstN,
    /// `mask_show_last_n`: all but the last n.
    ShowLastN,
}

impl MaskKind {
    /// The SQL name of the function.
    pub(super) fn name(self) -> &'static str {
        match self {
            MaskKind::All => "mask",
            MaskKind::FirstN => "mask_first_n",
            MaskKind::LastN => "mask_last_n",
            MaskKind::ShowFirstN => "mask_show_first_n",
            MaskKind::ShowLastN => "mask_show_last_n",
        }
    }

    /// Whether the function takes a character count as its second argument.
    pub(super) fn takes_count(self) -> bool {
        self != MaskKind::All
    }

    /// Whether position `i` of `len` (UTF-16 units from the start) is masked.
    fn masks_char(self, i: usize, len: usize, count: usize) -> bool {
        match self {
            MaskKind::All => true,
            MaskKind::FirstN => i < count,
            MaskKind::LastN => i + count >= len,
            MaskKind::ShowFirstN => len > count && i >= count,
            MaskKind::ShowLastN => len > count && i + count < len,
        }
    }

    /// Whether digit `i` (0 is the least significant) of a number of `digits` digits is masked.
    fn masks_digit(self, i: usize, digits: usize, count: usize) -> bool {
        match self {
            MaskKind::All => true,
            MaskKind::FirstN => i + count >= digits,
            MaskKind::LastN => i < count,
            MaskKind::ShowFirstN => i + count < digits,
            MaskKind::ShowLastN => i >= count,
        }
    }

    /// What a zero becomes.
    fn zero(self, count: usize, number: i64) -> i64 {
        let masked = match self {
            MaskKind::All => true,
            MaskKind::FirstN | MaskKind::LastN => count > 0,
            MaskKind::ShowFirstN | MaskKind::ShowLastN => count == 0,
        };
        if masked { number } else { 0 }
    }
}

/// A `mask*` function's settings: its kind, character count and replacements.
#[derive(Debug, Clone)]
pub(super) struct Masker {
    /// Which part is masked.
    pub kind: MaskKind,
    /// The n of the `_n` variants (negative counts as 0).
    pub count: usize,
    /// The replacements.
    pub options: MaskOptions,
}

impl Masker {
    /// The masked string (Hive works on UTF-16 code units).
    pub(super) fn string(&self, value: &str) -> Result<String> {
        let units: Vec<u16> = value.encode_utf16().collect();
        let len = units.len();
        let mut out = String::with_capacity(value.len());
        let mut kept: Vec<u16> = Vec::new();
        for (i, &unit) in units.iter().enumerate() {
            let code = if self.kind.masks_char(i, len, self.count) {
                self.options.mask_unit(unit)
            } else {
                u32::from(unit)
            };
            // Kept surrogate halves are gathered and decoded together, as Java's
            // appendCodePoint puts the pair back together.
            if let Ok(unit) = u16::try_from(code)
                && (0xD800..0xE000).contains(&unit)
            {
                kept.push(unit);
                continue;
            }
            out.extend(char::decode_utf16(kept.drain(..)).map(|c| c.unwrap_or('\u{FFFD}')));
            match char::from_u32(code) {
                Some(c) => out.push(c),
                None => return exec_err!("{}: {code} is not a character", self.kind.name()),
            }
        }
        out.extend(char::decode_utf16(kept.drain(..)).map(|c| c.unwrap_or('\u{FFFD}')));
        Ok(out)
    }

    /// The masked integer of a `bits`-bit type, computed with Java's wrapping arithmetic.
    pub(super) fn integer(&self, value: i64, bits: u32) -> i64 {
        let wrap = |x: i64| -> i64 {
            let shift = 64 - bits;
            x.wrapping_shl(shift).wrapping_shr(shift)
        };
        let number = self.options.number;
        if value == 0 {
            return self.kind.zero(self.count, number);
        }
        let mut val = if value < 0 {
            wrap(value.wrapping_neg())
        } else {
            value
        };
        let mut digits = 0;
        let mut v = val;
        while v != 0 {
            digits += 1;
            v /= 10;
        }
        let count = self.count;
        if matches!(self.kind, MaskKind::ShowFirstN | MaskKind::ShowLastN) && digits <= count {
            return value;
        }
        let mut ret: i64 = 0;
        let mut pos: i64 = 1;
        let mut i = 0;
        while val != 0 {
            let digit = if self.kind.masks_digit(i, digits, count) {
                number
            } else {
                val % 10
            };
            ret = wrap(ret.wrapping_add(digit.wrapping_mul(pos)));
            val /= 10;
            pos = pos.wrapping_mul(10);
            i += 1;
        }
        if value < 0 {
            wrap(ret.wrapping_neg())
        } else {
            ret
        }
    }

    /// The masked date (days since the epoch): each of day, month and year replaced unless
    /// its option is -1. The `_n` variants mask dates whole, as Hive's do.
    pub(super) fn date(&self, days: i32) -> Result<i32> {
        let (y, m, d) = civil_from_days(i64::from(days));
        let o = &self.options;
        let year = if o.year == UNMASKED {
            y
        } else {
            i64::from(o.year)
        };
        let month = if o.month == UNMASKED {
            m
        } else {
            i64::from(o.month) + 1
        };
        let day = if o.day == UNMASKED {
            d
        } else {
            i64::from(o.day)
        };
        if day > days_in_month(year, month) {
            return exec_err!(
                "{}: {year:04}-{month:02}-{day:02} is not a valid date",
                self.kind.name()
            );
        }
        match i32::try_from(days_from_civil(year, month, day)) {
            Ok(days) => Ok(days),
            Err(_) => exec_err!("{}: year {year} is out of range", self.kind.name()),
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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

/// The proleptic Gregorian (year, month, day) of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(kind: MaskKind, count: usize) -> Masker {
        let options =
            MaskOptions::from_args("mask", &[], 0).unwrap_or_else(|e| unreachable!("{e}"));
        Masker {
            kind,
            count,
            options,
        }
    }

    #[test]
    fn numbers_as_hive_masks_them() {
        // Values from Hive 2.3's GenericUDFMask* classes (the oracle).
        assert_eq!(masker(MaskKind::All, 0).integer(-123, 32), -111);
        assert_eq!(masker(MaskKind::LastN, 2).integer(12345, 32), 12311);
        assert_eq!(masker(MaskKind::FirstN, 2).integer(-12345, 32), -11345);
        assert_eq!(masker(MaskKind::ShowFirstN, 2).integer(12345, 32), 12111);
        assert_eq!(masker(MaskKind::ShowLastN, 2).integer(-12345, 32), -11145);
        assert_eq!(masker(MaskKind::ShowLastN, 9).integer(12345, 32), 12345);
        assert_eq!(masker(MaskKind::FirstN, 0).integer(0, 32), 0);
    }

    #[test]
    fn strings_count_utf16_units() {
        let m = masker(MaskKind::All, 0);
        assert_eq!(m.string("aB3-é😀").unwrap_or_default(), "xXn-x😀");
        assert_eq!(
            masker(MaskKind::ShowLastN, 4)
                .string("1234-5678")
                .unwrap_or_default(),
            "nnnn-5678"
        );
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_528, -1, 0, 17_897, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(17_897), (2019, 1, 1));
        assert_eq!(
            masker(MaskKind::All, 0).date(18_255).unwrap_or_default(),
            -719_528
        );
    }
}
