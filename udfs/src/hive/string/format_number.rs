//! Hive's `format_number(x, d | pattern)`: Java's `DecimalFormat` with grouping and `d`
//! decimals (`#,###,##0.00…`), or with a `DecimalFormat` pattern; rounding half-even on the
//! exact value (of the double, or of the decimal).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{hive_arg_error, hive_doc};
use super::row_fn::{Arg, Out, Ret, RowFn, Val};

/// A number as its exact decimal digits: sign, integer digits, fraction digits.
struct Digits {
    negative: bool,
    int: Vec<u8>,
    frac: Vec<u8>,
}

impl Digits {
    /// From a decimal text such as `-12.345` (what a double's exact expansion or a decimal
    /// prints as).
    fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let digits = |s: &str| -> Option<Vec<u8>> {
            s.bytes()
                .map(|b| b.is_ascii_digit().then_some(b - b'0'))
                .collect()
        };
        let mut int = digits(int)?;
        while int.len() > 1 && int[0] == 0 {
            int.remove(0);
        }
        Some(Self {
            negative,
            int,
            frac: digits(frac)?,
        })
    }

    /// Rounds half-even to at most `max` fraction digits.
    fn round(&mut self, max: usize) {
        if self.frac.len() <= max {
            return;
        }
        let rest = self.frac.split_off(max);
        let first = rest[0];
        let beyond = rest[1..].iter().any(|d| *d != 0);
        let last = self.frac.last().or(self.int.last()).copied().unwrap_or(0);
        let up = first > 5 || (first == 5 && (beyond || last % 2 == 1));
        if up {
            let mut carry = true;
            for d in self.frac.iter_mut().rev().chain(self.int.iter_mut().rev()) {
                if *d == 9 {
                    *d = 0;
                } else {
                    *d += 1;
                    carry = false;
                    break;
                }
            }
            if carry {
                self.int.insert(0, 1);
            }
        }
    }

    /// Multiplies by 100 (the `%` suffix).
    fn percent(&mut self) {
        for _ in 0..2 {
            let d = if self.frac.is_empty() {
                0
            } else {
                self.frac.remove(0)
            };
            self.int.push(d);
        }
        while self.int.len() > 1 && self.int[0] == 0 {
            self.int.remove(0);
        }
    }
}

/// The parts of a `DecimalFormat` pattern that Apiary follows.
struct Pattern {
    prefix: String,
    suffix: String,
    grouping: usize,
    min_int: usize,
    min_frac: usize,
    max_frac: usize,
    percent: bool,
}

impl Pattern {
    fn fixed(decimals: usize) -> Self {
        Self {
            prefix: String::new(),
            suffix: String::new(),
            grouping: 3,
            min_int: 1,
            min_frac: decimals,
            max_frac: decimals,
            percent: false,
        }
    }

    fn parse(pattern: &str) -> std::result::Result<Self, String> {
        // The positive part only: a negative subpattern after ';' is not followed.
        if pattern.contains(';') || pattern.contains('\'') || pattern.contains('E') {
            return Err(
                "uses ';', quotes or 'E', which Apiary's format_number does not follow".to_owned(),
            );
        }
        let is_number_char = |c: char| matches!(c, '#' | '0' | ',' | '.');
        let start = pattern.find(is_number_char).unwrap_or(pattern.len());
        let end = pattern
            .rfind(is_number_char)
            .map_or(start, |i| i + 1)
            .max(start);
        let (prefix, body, suffix) = (&pattern[..start], &pattern[start..end], &pattern[end..]);
        if body.chars().any(|c| !is_number_char(c)) {
            return Err(format!("has an unexpected character in '{body}'"));
        }
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if frac.contains(',') || frac.contains('.') {
            return Err("has a misplaced ',' or '.'".to_owned());
        }
        let grouping = int.rfind(',').map_or(0, |i| int.len() - i - 1);
        let percent = prefix.contains('%') || suffix.contains('%');
        Ok(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            grouping,
            min_int: int.chars().filter(|c| *c == '0').count(),
            min_frac: frac.chars().filter(|c| *c == '0').count(),
            max_frac: frac.chars().filter(|c| *c == '0' || *c == '#').count(),
            percent,
        })
    }

    fn format(&self, mut digits: Digits) -> String {
        if self.percent {
            digits.percent();
        }
        digits.round(self.max_frac);
        while digits.frac.len() > self.min_frac && digits.frac.last() == Some(&0) {
            digits.frac.pop();
        }
        while digits.frac.len() < self.min_frac {
            digits.frac.push(0);
        }
        let mut int = digits.int;
        if int == [0] && self.min_int == 0 {
            int.clear();
        }
        while int.len() < self.min_int {
            int.insert(0, 0);
        }
        let mut out = String::new();
        if digits.negative {
            out.push('-');
        }
        out.push_str(&self.prefix);
        for (i, d) in int.iter().enumerate() {
            if self.grouping > 0 && i > 0 && (int.len() - i).is_multiple_of(self.grouping) {
                out.push(',');
            }
            out.push(char::from(b'0' + d));
        }
        if !digits.frac.is_empty() {
            out.push('.');
            out.extend(digits.frac.iter().map(|d| char::from(b'0' + d)));
        }
        if out.is_empty() || out == "-" {
            out.push('0');
        }
        out.push_str(&self.suffix);
        out
    }
}

/// The exact decimal digits of a double (Rust prints its exact binary value with enough
/// digits).
fn double_digits(x: f64) -> Option<Digits> {
    let text = format!("{x:.1074}");
    let text = text.trim_end_matches('0');
    Digits::parse(text.strip_suffix('.').unwrap_or(text))
}

fn format_number(args: &[Val<'_>]) -> Result<Out> {
    let digits = match args[0] {
        Val::I(i) => Digits::parse(&i.to_string()),
        Val::S(decimal) => Digits::parse(decimal),
        Val::F(f) if f.is_nan() => return Ok(Out::S("NaN".to_owned())),
        Val::F(f) if f.is_infinite() => {
            return Ok(Out::S(if f > 0.0 { "∞" } else { "-∞" }.to_owned()));
        }
        Val::F(f) => double_digits(f),
        _ => return Ok(Out::Null),
    };
    let Some(digits) = digits else {
        return exec_err!("format_number: cannot read the number");
    };
    let pattern = match args[1] {
        Val::I(d) if d < 0 => {
            return exec_err!("format_number: argument 2 must be >= 0, but {d} was found");
        }
        Val::I(d) => Pattern::fixed(usize::try_from(d).unwrap_or(usize::MAX).min(340)),
        Val::S("") => return exec_err!("format_number: the pattern is empty"),
        Val::S(p) => match Pattern::parse(p) {
            Ok(p) => p,
            Err(why) => return exec_err!("format_number: the pattern '{p}' {why}"),
        },
        _ => return Ok(Out::Null),
    };
    Ok(Out::S(pattern.format(digits)))
}

/// The number argument: integers as integers, floating numbers as doubles, decimals as their
/// exact text; anything else is refused, as Hive does.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FormatNumberFunc {
    inner: RowFn,
    signature: Signature,
    doc: Documentation,
}

impl ScalarUDFImpl for FormatNumberFunc {
    fn name(&self) -> &str {
        "format_number"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [x, d] = arg_types else {
            return Err(hive_arg_error(
                "format_number",
                format!(
                    "takes 2 arguments (x, d or pattern), got {}",
                    arg_types.len()
                ),
            ));
        };
        let x = match x {
            t if t.is_integer() => DataType::Int64,
            t if t.is_floating() => DataType::Float64,
            DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => DataType::Utf8,
            // A decimal comes back here as its text once coerced (the planner checks the
            // coerced types again); a string argument is read as that text too.
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
            DataType::Null => DataType::Int64,
            other => {
                return Err(hive_arg_error(
                    "format_number",
                    format!("argument 1 must be a number, got {other}"),
                ));
            }
        };
        let d = match d {
            t if t.is_integer() || t.is_null() => DataType::Int64,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
            other => {
                return Err(hive_arg_error(
                    "format_number",
                    format!("argument 2 must be an integer or a pattern string, got {other}"),
                ));
            }
        };
        Ok(vec![x, d])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    let inner = RowFn::new(
        "format_number",
        &[Arg::Any],
        (2, 2),
        Ret::Str,
        format_number,
    );
    vec![Arc::new(ScalarUDF::from(FormatNumberFunc {
        inner,
        signature: Signature::user_defined(Volatility::Immutable),
        doc: hive_doc(
            datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING,
            "x formatted like '#,###,###.##', rounded (half-even) to d decimal places, or \
             formatted with the DecimalFormat pattern given instead of d.",
            "format_number(x, d | pattern)",
            "SELECT format_number(12332.123456, 4);\n-- 12,332.1235",
        ),
    }))]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn fmt(x: Val<'_>, d: Val<'_>) -> String {
        match format_number(&[x, d]).unwrap() {
            Out::S(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rounds_half_even_on_the_exact_value() {
        assert_eq!(fmt(Val::F(12332.123456), Val::I(4)), "12,332.1235");
        assert_eq!(fmt(Val::F(0.125), Val::I(2)), "0.12");
        assert_eq!(fmt(Val::F(2.675), Val::I(2)), "2.67");
        assert_eq!(fmt(Val::S("2.675"), Val::I(2)), "2.68");
        assert_eq!(fmt(Val::F(-0.5), Val::I(0)), "-0");
        assert_eq!(fmt(Val::F(-0.001), Val::I(2)), "-0.00");
        assert_eq!(
            fmt(Val::F(1e20), Val::I(2)),
            "100,000,000,000,000,000,000.00"
        );
        assert_eq!(fmt(Val::I(-7), Val::I(1)), "-7.0");
    }

    #[test]
    fn follows_decimal_format_patterns() {
        assert_eq!(
            fmt(Val::F(12332.1), Val::S("##################.###")),
            "12332.1"
        );
        assert_eq!(fmt(Val::F(1234567.891), Val::S("#,###.#")), "1,234,567.9");
        assert_eq!(fmt(Val::I(12345), Val::S("0000000.00")), "0012345.00");
        assert_eq!(fmt(Val::F(-1234.5), Val::S("#,##0.00")), "-1,234.50");
        assert_eq!(fmt(Val::F(0.5), Val::S("#")), "0");
        assert_eq!(fmt(Val::F(12345.678), Val::S("#.##%")), "1234567.8%");
    }
}
