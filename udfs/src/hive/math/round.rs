//! Hive's `round(x[, d])` (HALF_UP) and `bround(x[, d])` (HALF_EVEN, banker's rounding).
//!
//! As Hive: a double is rounded as the decimal Java prints for it (`BigDecimal.valueOf`, so
//! `round(1.005, 2)` is 1.01 and `round(2.675, 2)` is 2.68); integers stay integers of their
//! type (wrapping around as Java's do) and round to tens with a negative d; a
//! `decimal(p, s)` becomes `decimal(p - s + 1 + max(d, 0), max(d, 0))`. d must be a constant.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Decimal128Array, Float32Array, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, FieldRef, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type,
};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_on_first, hive_arg_error, hive_doc};
use super::is_numeric_or_string;

/// `round(x[, d])` or `bround(x[, d])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct RoundFunc {
    even: bool,
    signature: Signature,
    doc: Documentation,
}

impl RoundFunc {
    /// `round(x[, d])`, HALF_UP.
    pub(super) fn round() -> Self {
        Self::new(
            false,
            "round(x[, d]) - round x to d decimal places (HALF_UP)",
            "SELECT round(12.3456, 1), round(2.5); -- 12.3, 3",
        )
    }

    /// `bround(x[, d])`, HALF_EVEN.
    pub(super) fn bround() -> Self {
        Self::new(
            true,
            "bround(x[, d]) - round x to d decimal places using HALF_EVEN rounding mode",
            "SELECT bround(2.5, 0), bround(8.25, 1); -- 2, 8.2",
        )
    }

    fn new(even: bool, description: &str, example: &str) -> Self {
        let syntax = if even {
            "bround(x[, d])"
        } else {
            "round(x[, d])"
        };
        Self {
            even,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_MATH, description, syntax, example),
        }
    }
}

/// `m` (an unscaled integer) rounded by dividing it by 10^k, HALF_UP or HALF_EVEN; the
/// quotient. Works on magnitudes, so HALF_UP rounds half away from zero (Java's HALF_UP).
fn div_round(m: i128, k: u32, even: bool) -> i128 {
    if k == 0 {
        return m;
    }
    if k > 38 {
        return 0;
    }
    let unit = 10i128.pow(k);
    let (q, r) = (
        m.unsigned_abs() / unit as u128,
        m.unsigned_abs() % unit as u128,
    );
    let twice = r * 2;
    let up = twice > unit as u128 || (twice == unit as u128 && (!even || q % 2 == 1));
    let q = (q + u128::from(up)) as i128;
    if m < 0 { -q } else { q }
}

/// A double rounded as Hive does: as the shortest decimal that prints it, to `d` places.
fn round_double(x: f64, d: i32, even: bool) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // The shortest digits of x, as Java's Double.toString (and BigDecimal.valueOf) has them.
    let text = format!("{:e}", x);
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return x;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return x;
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let Ok(m) = digits.parse::<i128>() else {
        return x;
    };
    // x = m * 10^scale10
    let scale10 = exponent - (digits.len() as i32 - 1);
    let drop = -scale10 - d;
    if drop <= 0 {
        return x;
    }
    let q = div_round(m, drop as u32, even);
    let q = if negative { -q } else { q };
    format!("{q}e{}", -d).parse::<f64>().unwrap_or(x)
}

/// An integer rounded to `d` places (d < 0: tens, hundreds, ...).
fn round_integer(v: i64, d: i32, even: bool) -> i64 {
    if d >= 0 {
        return v;
    }
    let k = (-d) as u32;
    if k > 19 {
        return 0;
    }
    let q = div_round(i128::from(v), k, even);
    (q * 10i128.pow(k)) as i64
}

/// The type Hive gives the result for an argument of type `t` rounded to `d` places.
fn result_type(t: &DataType, d: i32) -> DataType {
    match t {
        DataType::Decimal128(p, s) => {
            let scale = d.clamp(0, 38);
            let precision = (i32::from(*p) - i32::from(*s) + 1 + scale).clamp(1, 38);
            DataType::Decimal128(precision as u8, scale as i8)
        }
        t => t.clone(),
    }
}

impl RoundFunc {
    fn places(&self, scalar: Option<&ScalarValue>, given: bool) -> Result<i32> {
        if !given {
            return Ok(0);
        }
        match scalar.map(|s| s.cast_to(&DataType::Int32)) {
            Some(Ok(ScalarValue::Int32(Some(d)))) => Ok(d),
            Some(Ok(ScalarValue::Int32(None))) => Ok(0),
            _ => Err(hive_arg_error(
                self.name(),
                "the number of decimal places must be an integer constant",
            )),
        }
    }
}

impl ScalarUDFImpl for RoundFunc {
    fn name(&self) -> &str {
        if self.even { "bround" } else { "round" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let x = match arg_types.first() {
            Some(t @ (DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64)) => {
                t.clone()
            }
            Some(DataType::UInt8) => DataType::Int16,
            Some(DataType::UInt16) => DataType::Int32,
            Some(DataType::UInt32 | DataType::UInt64) => DataType::Int64,
            Some(DataType::Null) => DataType::Int32,
            Some(t @ (DataType::Float32 | DataType::Decimal128(..))) => t.clone(),
            Some(DataType::Decimal256(p, s)) => DataType::Decimal128((*p).min(38), *s),
            Some(t) if is_numeric_or_string(t) => DataType::Float64,
            Some(t) => {
                return Err(hive_arg_error(
                    self.name(),
                    format!("takes a number, got {t}"),
                ));
            }
            None => {
                return Err(hive_arg_error(
                    self.name(),
                    "takes 1 or 2 arguments (x[, d])",
                ));
            }
        };
        match arg_types.len() {
            1 => Ok(vec![x]),
            // An integer `d` keeps its type: a cast would hide the literal from
            // `return_field_from_args`, which needs its value for a decimal's scale.
            2 => Ok(vec![
                x,
                match &arg_types[1] {
                    t if t.is_integer() => t.clone(),
                    _ => DataType::Int32,
                },
            ]),
            _ => Err(hive_arg_error(
                self.name(),
                "takes 1 or 2 arguments (x[, d])",
            )),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type(
            arg_types.first().unwrap_or(&DataType::Float64),
            0,
        ))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let Some(x) = args.arg_fields.first() else {
            return Err(hive_arg_error(
                self.name(),
                "takes 1 or 2 arguments (x[, d])",
            ));
        };
        let d = self.places(
            args.scalar_arguments.get(1).copied().flatten(),
            args.arg_fields.len() > 1,
        )?;
        Ok(Arc::new(Field::new(
            self.name(),
            result_type(x.data_type(), d),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let d = match args.args.get(1) {
            None => 0,
            Some(ColumnarValue::Scalar(s)) => self.places(Some(s), true)?,
            Some(ColumnarValue::Array(_)) => {
                return Err(hive_arg_error(
                    self.name(),
                    "the number of decimal places must be an integer constant",
                ));
            }
        };
        let even = self.even;
        let target = args.return_field.data_type().clone();
        evaluate_on_first(&args.args, args.number_rows, |x| {
            macro_rules! ints {
                ($t:ty) => {
                    Arc::new(
                        x.as_primitive::<$t>()
                            .unary::<_, $t>(|v| round_integer(i64::from(v), d, even) as _),
                    ) as ArrayRef
                };
            }
            Ok(match (x.data_type(), &target) {
                (DataType::Int8, _) => ints!(Int8Type),
                (DataType::Int16, _) => ints!(Int16Type),
                (DataType::Int32, _) => ints!(Int32Type),
                (DataType::Int64, _) => ints!(Int64Type),
                (DataType::Float32, _) => Arc::new(
                    x.as_primitive::<Float32Type>()
                        .iter()
                        .map(|v| v.map(|v| round_double(f64::from(v), d, even) as f32))
                        .collect::<Float32Array>(),
                ),
                (DataType::Decimal128(_, s), DataType::Decimal128(p, out_scale)) => {
                    let (s, out_scale) = (i32::from(*s), i32::from(*out_scale));
                    Arc::new(
                        x.as_primitive::<Decimal128Type>()
                            .iter()
                            .map(|v| {
                                v.map(|v| {
                                    if d >= s {
                                        v * 10i128.pow((out_scale - s) as u32)
                                    } else {
                                        let q = div_round(v, (s - d) as u32, even);
                                        if d < 0 {
                                            q * 10i128.pow((-d) as u32)
                                        } else {
                                            q
                                        }
                                    }
                                })
                            })
                            .collect::<Decimal128Array>()
                            .with_precision_and_scale(*p, out_scale as i8)?,
                    )
                }
                _ => {
                    let x = cast(x.as_ref(), &DataType::Float64)?;
                    Arc::new(
                        x.as_primitive::<Float64Type>()
                            .iter()
                            .map(|v| v.map(|v| round_double(v, d, even)))
                            .collect::<Float64Array>(),
                    )
                }
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::{round_double, round_integer};

    #[test]
    fn doubles_round_as_java_prints_them() {
        assert_eq!(round_double(1.005, 2, false), 1.01);
        assert_eq!(round_double(2.675, 2, false), 2.68);
        assert_eq!(round_double(2.5, 0, false), 3.0);
        assert_eq!(round_double(-2.5, 0, false), -3.0);
        assert_eq!(round_double(-0.5, 0, false), -1.0);
        assert_eq!(round_double(2.5, 0, true), 2.0);
        assert_eq!(round_double(0.125, 2, true), 0.12);
        assert_eq!(round_double(1e300, 2, false), 1e300);
        assert_eq!(round_double(1234.0, -2, false), 1200.0);
    }

    #[test]
    fn integers_wrap() {
        assert_eq!(round_integer(125, -1, false) as i8, -126);
        assert_eq!(round_integer(15, -1, true), 20);
        assert_eq!(round_integer(25, -1, true), 20);
        assert_eq!(round_integer(-15, -1, false), -20);
        assert_eq!(
            round_integer(2_147_483_647, -1, false) as i32,
            -2_147_483_646
        );
    }
}
