//! Hive's `printf(format, args...)`: Java's `Formatter` (`String.format`), with Java's types:
//! an integer argument keeps its width (`%x` of a negative `tinyint` is two hex digits), a
//! floating conversion of an integer or an integer conversion of a string is an error, as in
//! Hive, and `%f`/`%e`/`%g` round half-up on the shortest decimal form of a double.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// One argument value, as the Java object Hive would pass.
#[derive(Debug, Clone)]
enum JavaArg {
    Null,
    Bool(bool),
    /// An integer and its width in bits (8, 16, 32 or 64).
    Int(i64, u32),
    /// A double (`float` arguments are widened; `is_float` keeps Float.toString for `%s`).
    Double(f64, bool),
    /// A decimal, as its exact text.
    Decimal(String),
    Str(String),
}

/// Java's `Double.toString`.
pub(crate) fn java_double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

fn java_float_to_string(x: f64) -> String {
    let f = x as f32;
    if !f.is_finite() || f == 0.0 {
        return java_double_to_string(f64::from(f));
    }
    let a = f.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// A number's decimal digits `d1 d2 ...` and exponent `e`: the value is `0.d1d2... × 10^e`.
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    fn from_text(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut digits: Vec<u8> = int
            .bytes()
            .chain(frac.bytes())
            .map(|b| b.is_ascii_digit().then_some(b - b'0'))
            .collect::<Option<_>>()?;
        let mut exponent = int.len() as i64 + exp;
        while digits.first() == Some(&0) {
            digits.remove(0);
            exponent -= 1;
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            exponent = 1;
        }
        Some(Self {
            negative,
            digits,
            exponent,
        })
    }

    /// The shortest digits that read back as the double (what Java's formatter starts from).
    fn from_double(x: f64) -> Option<Self> {
        let mut d = Self::from_text(&format!("{:e}", x.abs()))?;
        d.negative = x.is_sign_negative();
        Some(d)
    }

    /// Keeps `n` digits (n may be 0 or negative: all rounded away), rounding half-up.
    fn round_to_digits(&mut self, n: i64) {
        let n_usize = usize::try_from(n.max(0)).unwrap_or(0);
        if self.digits.len() <= n_usize {
            return;
        }
        let up = self.digits[n_usize] >= 5;
        self.digits.truncate(n_usize);
        if up {
            let mut i = self.digits.len();
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    self.exponent += 1;
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.exponent = 1;
        }
    }

    fn digit(&self, i: i64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Fixed notation with `precision` decimals: (integer digits, fraction digits).
    fn fixed(mut self, precision: usize) -> (String, String) {
        self.round_to_digits(self.exponent + precision as i64);
        let int: String = if self.exponent <= 0 {
            "0".to_owned()
        } else {
            (0..self.exponent)
                .map(|i| char::from(b'0' + self.digit(i)))
                .collect()
        };
        let frac: String = (0..precision as i64)
            .map(|i| char::from(b'0' + self.digit(self.exponent + i)))
            .collect();
        (int, frac)
    }

    /// Scientific notation with `precision` decimals: (mantissa, exponent).
    fn scientific(mut self, precision: usize) -> (String, i64) {
        let zero = self.digits.is_empty();
        self.round_to_digits(precision as i64 + 1);
        let mut m = String::new();
        m.push(char::from(b'0' + self.digit(0)));
        if precision > 0 {
            m.push('.');
            for i in 1..=precision as i64 {
                m.push(char::from(b'0' + self.digit(i)));
            }
        }
        (m, if zero { 0 } else { self.exponent - 1 })
    }
}

/// One `%` specifier.
#[derive(Debug, Default)]
struct Spec {
    index: Option<usize>,
    previous: bool,
    left: bool,
    alternate: bool,
    plus: bool,
    space: bool,
    zero: bool,
    group: bool,
    paren: bool,
    width: Option<usize>,
    precision: Option<usize>,
    conversion: char,
}

fn group_thousands(int: &str) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Spec {
    fn pad(&self, body: String) -> String {
        let n = body.chars().count();
        match self.width {
            Some(w) if w > n => {
                let fill = " ".repeat(w - n);
                if self.left {
                    body + &fill
                } else {
                    fill + &body
                }
            }
            _ => body,
        }
    }

    /// Sign, grouping, zero padding and width for a number's magnitude text.
    fn number(&self, negative: bool, magnitude: String) -> String {
        let (prefix, suffix) = if negative {
            if self.paren { ("(", ")") } else { ("-", "") }
        } else if self.plus {
            ("+", "")
        } else if self.space {
            (" ", "")
        } else {
            ("", "")
        };
        let mut body = magnitude;
        if self.zero
            && let Some(w) = self.width
        {
            let used = prefix.len() + suffix.len() + body.chars().count();
            if w > used {
                body = "0".repeat(w - used) + &body;
            }
        }
        self.pad(format!("{prefix}{body}{suffix}"))
    }

    fn upper(&self, s: String) -> String {
        if self.conversion.is_ascii_uppercase() {
            s.to_uppercase()
        } else {
            s
        }
    }

    fn format(&self, arg: &JavaArg) -> Result<String> {
        let c = self.conversion.to_ascii_lowercase();
        let wrong = |arg: &JavaArg| {
            let class = match arg {
                JavaArg::Bool(_) => "java.lang.Boolean",
                JavaArg::Int(..) => "java.lang.Integer/Long",
                JavaArg::Double(..) => "java.lang.Double",
                JavaArg::Decimal(_) => "java.math.BigDecimal",
                JavaArg::Str(_) => "java.lang.String",
                JavaArg::Null => "null",
            };
            exec_err!("printf: %{} cannot format a {class}", self.conversion)
        };
        Ok(match c {
            'b' => {
                let v = match arg {
                    JavaArg::Null => false,
                    JavaArg::Bool(b) => *b,
                    _ => true,
                };
                let mut s = v.to_string();
                if let Some(p) = self.precision {
                    s = s.chars().take(p).collect();
                }
                self.pad(self.upper(s))
            }
            's' => {
                let mut s = match arg {
                    JavaArg::Null => "null".to_owned(),
                    JavaArg::Bool(b) => b.to_string(),
                    JavaArg::Int(i, _) => i.to_string(),
                    JavaArg::Double(x, false) => java_double_to_string(*x),
                    JavaArg::Double(x, true) => java_float_to_string(*x),
                    JavaArg::Decimal(d) | JavaArg::Str(d) => d.clone(),
                };
                if let Some(p) = self.precision {
                    s = s.chars().take(p).collect();
                }
                self.pad(self.upper(s))
            }
            'c' => match arg {
                JavaArg::Null => self.pad("null".to_owned()),
                JavaArg::Int(i, _) => match u32::try_from(*i).ok().and_then(char::from_u32) {
                    Some(ch) => self.pad(self.upper(ch.to_string())),
                    None => return exec_err!("printf: {i} is not a character code"),
                },
                other => return wrong(other),
            },
            'd' => match arg {
                JavaArg::Null => self.pad("null".to_owned()),
                JavaArg::Int(i, _) => {
                    let mut m = i.unsigned_abs().to_string();
                    if self.group {
                        m = group_thousands(&m);
                    }
                    self.number(*i < 0, m)
                }
                other => return wrong(other),
            },
            'o' | 'x' => match arg {
                JavaArg::Null => self.pad("null".to_owned()),
                JavaArg::Int(i, bits) => {
                    let v = if *bits >= 64 {
                        *i as u64
                    } else {
                        (*i as u64) & ((1u64 << bits) - 1)
                    };
                    let (digits, prefix) = if c == 'o' {
                        (format!("{v:o}"), "0")
                    } else {
                        (format!("{v:x}"), "0x")
                    };
                    let mut body = digits;
                    let prefix = if self.alternate { prefix } else { "" };
                    if self.zero
                        && let Some(w) = self.width
                        && w > body.len() + prefix.len()
                    {
                        body = "0".repeat(w - body.len() - prefix.len()) + &body;
                    }
                    self.pad(self.upper(format!("{prefix}{body}")))
                }
                other => return wrong(other),
            },
            'e' | 'f' | 'g' => {
                let decimal = match arg {
                    JavaArg::Null => return Ok(self.pad("null".to_owned())),
                    JavaArg::Double(x, _) if x.is_nan() => {
                        return Ok(self.pad(self.upper("NaN".to_owned())));
                    }
                    JavaArg::Double(x, _) if x.is_infinite() => {
                        let s = if *x > 0.0 {
                            if self.plus { "+Infinity" } else { "Infinity" }
                        } else if self.paren {
                            "(Infinity)"
                        } else {
                            "-Infinity"
                        };
                        return Ok(self.pad(self.upper(s.to_owned())));
                    }
                    JavaArg::Double(x, _) => Decimal::from_double(*x),
                    JavaArg::Decimal(d) => Decimal::from_text(d),
                    other => return wrong(other),
                };
                let Some(decimal) = decimal else {
                    return exec_err!("printf: cannot read the number");
                };
                let negative = decimal.negative;
                let precision = self.precision.unwrap_or(6);
                let fixed = |d: Decimal, precision: usize| {
                    let (int, frac) = d.fixed(precision);
                    let int = if self.group {
                        group_thousands(&int)
                    } else {
                        int
                    };
                    if frac.is_empty() && !self.alternate {
                        int
                    } else {
                        format!("{int}.{frac}")
                    }
                };
                let scientific = |d: Decimal, precision: usize| {
                    let (m, e) = d.scientific(precision);
                    let sign = if e < 0 { '-' } else { '+' };
                    self.upper(format!("{m}e{sign}{:02}", e.abs()))
                };
                let body = match c {
                    'f' => fixed(decimal, precision),
                    'e' => scientific(decimal, precision),
                    _ => {
                        let precision = precision.max(1);
                        // Java: fixed when 10^-4 <= rounded value < 10^precision.
                        let mut probe = Decimal {
                            negative: false,
                            digits: decimal.digits.clone(),
                            exponent: decimal.exponent,
                        };
                        probe.round_to_digits(precision as i64);
                        let zero = probe.digits.is_empty();
                        if zero || (probe.exponent > -4 && probe.exponent <= precision as i64) {
                            let decimals = if zero {
                                precision - 1
                            } else {
                                usize::try_from(precision as i64 - probe.exponent).unwrap_or(0)
                            };
                            fixed(decimal, decimals)
                        } else {
                            scientific(decimal, precision - 1)
                        }
                    }
                };
                self.number(negative, body)
            }
            other => {
                return exec_err!(
                    "printf: the conversion %{other} is not supported (Apiary follows Java's \
                     b, s, c, d, o, x, e, f, g, n and %)"
                );
            }
        })
    }
}

/// Formats one row.
fn printf_row(format: &str, args: &[JavaArg]) -> Result<String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::with_capacity(format.len() + 16);
    let mut next_arg = 0usize;
    let mut last_arg: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let begin = i;
        i += 1;
        let mut spec = Spec::default();
        // argument index: digits followed by '$', or '<'
        let digits_end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len());
        if digits_end > i && chars.get(digits_end) == Some(&'$') {
            let n: String = chars[i..digits_end].iter().collect();
            spec.index = n.parse::<usize>().ok();
            i = digits_end + 1;
        } else if chars.get(i) == Some(&'<') {
            spec.previous = true;
            i += 1;
        }
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.left = true,
                '#' => spec.alternate = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                ',' => spec.group = true,
                '(' => spec.paren = true,
                _ => break,
            }
            i += 1;
        }
        let width_end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len());
        if width_end > i {
            let w: String = chars[i..width_end].iter().collect();
            spec.width = w.parse().ok();
            i = width_end;
        }
        if chars.get(i) == Some(&'.') {
            let p_end = (i + 1..chars.len())
                .find(|&j| !chars[j].is_ascii_digit())
                .unwrap_or(chars.len());
            let p: String = chars[i + 1..p_end].iter().collect();
            if p.is_empty() {
                let spec_text: String = chars[begin..p_end].iter().collect();
                return exec_err!("printf: illegal precision in '{spec_text}'");
            }
            spec.precision = p.parse().ok();
            i = p_end;
        }
        let Some(&conversion) = chars.get(i) else {
            let spec_text: String = chars[begin..].iter().collect();
            return exec_err!("printf: the format specifier '{spec_text}' is incomplete");
        };
        i += 1;
        spec.conversion = conversion;
        let spec_text: String = chars[begin..i].iter().collect();
        if (spec.left || spec.zero) && spec.width.is_none() && conversion != '%' {
            return exec_err!("printf: '{spec_text}' needs a width");
        }
        match conversion {
            '%' => {
                out.push_str(&spec.pad("%".to_owned()));
                continue;
            }
            'n' => {
                out.push('\n');
                continue;
            }
            't' | 'T' | 'a' | 'A' | 'h' | 'H' => {
                return exec_err!(
                    "printf: the conversion in '{spec_text}' is not supported (Apiary follows \
                     Java's b, s, c, d, o, x, e, f, g, n and %)"
                );
            }
            _ => {}
        }
        let position = if spec.previous {
            match last_arg {
                Some(p) => p,
                None => return exec_err!("printf: '{spec_text}' has no previous argument"),
            }
        } else if let Some(index) = spec.index {
            index.saturating_sub(1)
        } else {
            next_arg += 1;
            next_arg - 1
        };
        let Some(arg) = args.get(position) else {
            return exec_err!("printf: no argument for the format specifier '{spec_text}'");
        };
        last_arg = Some(position);
        out.push_str(&spec.format(arg)?);
    }
    Ok(out)
}

fn java_arg(array: &ArrayRef, row: usize) -> Result<JavaArg> {
    if array.is_null(row) {
        return Ok(JavaArg::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => JavaArg::Null,
        DataType::Boolean => JavaArg::Bool(array.as_boolean().value(row)),
        DataType::Int8 => JavaArg::Int(i64::from(array.as_primitive::<Int8Type>().value(row)), 8),
        DataType::Int16 => {
            JavaArg::Int(i64::from(array.as_primitive::<Int16Type>().value(row)), 16)
        }
        DataType::Int32 => {
            JavaArg::Int(i64::from(array.as_primitive::<Int32Type>().value(row)), 32)
        }
        DataType::Int64 => JavaArg::Int(array.as_primitive::<Int64Type>().value(row), 64),
        DataType::Float32 => JavaArg::Double(
            f64::from(array.as_primitive::<Float32Type>().value(row)),
            true,
        ),
        DataType::Float64 => JavaArg::Double(array.as_primitive::<Float64Type>().value(row), false),
        DataType::Decimal128(..) | DataType::Decimal256(..) => {
            JavaArg::Decimal(ScalarValue::try_from_array(array, row)?.to_string())
        }
        DataType::Utf8 => JavaArg::Str(array.as_string::<i32>().value(row).to_owned()),
        other => return exec_err!("printf: unexpected argument type {other}"),
    })
}

fn printf_columns(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let Some((formats, rest)) = columns.split_first() else {
        return exec_err!("printf: missing the format");
    };
    let Some(formats) = formats.as_string_opt::<i32>() else {
        return exec_err!("printf: the format must be a string");
    };
    let mut builder = StringBuilder::with_capacity(formats.len(), formats.len() * 16);
    let mut args = Vec::with_capacity(rest.len());
    for row in 0..formats.len() {
        if formats.is_null(row) {
            builder.append_null();
            continue;
        }
        args.clear();
        for c in rest {
            args.push(java_arg(c, row)?);
        }
        builder.append_value(printf_row(formats.value(row), &args)?);
    }
    Ok(Arc::new(builder.finish()))
}

/// `printf(format, args...)` → `string`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PrintfFunc {
    signature: Signature,
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "The arguments formatted with the Java Formatter format string (%s %d %f %e %g %x %o \
         %c %b %% with flags, width and precision).",
        "printf(format, args...)",
        "SELECT printf('Hello World %d %s', 100, 'days');\n-- Hello World 100 days",
    )
});

impl ScalarUDFImpl for PrintfFunc {
    fn name(&self) -> &str {
        "printf"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return Err(hive_arg_error(
                "printf",
                "takes a format and arguments, got none",
            ));
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(match t {
                    _ if i == 0 => DataType::Utf8,
                    DataType::Null
                    | DataType::Boolean
                    | DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Float32
                    | DataType::Float64
                    | DataType::Decimal128(..)
                    | DataType::Decimal256(..) => t.clone(),
                    DataType::UInt8 => DataType::Int16,
                    DataType::UInt16 => DataType::Int32,
                    DataType::UInt32 | DataType::UInt64 => DataType::Int64,
                    DataType::Float16 => DataType::Float32,
                    DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::Map(..)
                    | DataType::Struct(_)
                    | DataType::Binary
                    | DataType::LargeBinary
                    | DataType::BinaryView => {
                        return Err(hive_arg_error(
                            "printf",
                            format!("argument {} cannot be of type {t}", i + 1),
                        ));
                    }
                    _ => DataType::Utf8,
                })
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, printf_columns)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

/// This file's functions.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(PrintfFunc {
        signature: Signature::user_defined(Volatility::Immutable),
    }))]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn p(format: &str, args: &[JavaArg]) -> String {
        printf_row(format, args).unwrap()
    }

    #[test]
    #[allow(clippy::approx_constant)] // Java's documented example formats 3.14159.
    fn follows_java_formatter() {
        use JavaArg::*;
        assert_eq!(
            p("Hello World %d %s", &[Int(100, 32), Str("days".into())]),
            "Hello World 100 days"
        );
        assert_eq!(
            p(
                "%5.2f|%x|%o|%e|%,d|%-10s|%%",
                &[
                    Double(3.14159, false),
                    Int(255, 32),
                    Int(8, 32),
                    Double(12345.678, false),
                    Int(1234567, 32),
                    Str("ab".into())
                ]
            ),
            " 3.14|ff|10|1.234568e+04|1,234,567|ab        |%"
        );
        assert_eq!(p("%08.3f", &[Double(-3.5, false)]), "-003.500");
        assert_eq!(
            p("%X %b %c", &[Int(255, 32), Bool(true), Int(65, 32)]),
            "FF true A"
        );
        assert_eq!(
            p("%10d|%-5d|%+d", &[Int(42, 32), Int(42, 32), Int(42, 32)]),
            "        42|42   |+42"
        );
        assert_eq!(p("%s", &[Double(1e20, false)]), "1.0E20");
        assert_eq!(p("%.3s", &[Str("abcdef".into())]), "abc");
        assert_eq!(p("%s %d", &[Null, Null]), "null null");
        assert_eq!(p("%x", &[Int(-1, 8)]), "ff");
        assert_eq!(p("%.2f", &[Double(0.125, false)]), "0.13");
        assert_eq!(p("%g", &[Double(0.0001234, false)]), "0.000123400");
        assert_eq!(p("%2$s %1$s", &[Str("a".into()), Str("b".into())]), "b a");
        assert!(printf_row("%d", &[Str("x".into())]).is_err());
        assert!(printf_row("%d", &[]).is_err());
        assert!(printf_row("%f", &[Int(1, 32)]).is_err());
    }
}
