//! Hive's `floor(x)` and `ceil(x)` / `ceiling`: a bigint (a double out of range saturates,
//! as Java's `(long)` does), or `decimal(p - s + 1, 0)` for a `decimal(p, s)`. DataFusion's
//! return a double.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Decimal128Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::{as_doubles, is_numeric_or_string};

/// `floor(x)` or `ceil(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct FloorCeilFunc {
    up: bool,
    signature: Signature,
    aliases: Vec<String>,
    doc: Documentation,
}

impl FloorCeilFunc {
    /// `floor(x)`.
    pub(super) fn floor() -> Self {
        Self {
            up: false,
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec![],
            doc: hive_doc(
                DOC_SECTION_MATH,
                "floor(x) - Find the largest integer not greater than x",
                "floor(x)",
                "SELECT floor(-0.1), floor(5); -- -1, 5",
            ),
        }
    }

    /// `ceil(x)` (alias `ceiling`).
    pub(super) fn ceil() -> Self {
        Self {
            up: true,
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["ceiling".to_string()],
            doc: hive_doc(
                DOC_SECTION_MATH,
                "ceil(x) - Find the smallest integer not smaller than x",
                "ceil(x)",
                "SELECT ceil(-0.1), ceil(5); -- 0, 5",
            ),
        }
    }
}

/// The whole number of `v` (scaled by 10^`scale`), rounded down or up.
fn round_decimal(v: i128, scale: i8, up: bool) -> i128 {
    if scale <= 0 {
        return v;
    }
    let unit = 10i128.pow(scale as u32);
    let q = v.div_euclid(unit);
    if up && v.rem_euclid(unit) != 0 {
        q + 1
    } else {
        q
    }
}

impl ScalarUDFImpl for FloorCeilFunc {
    fn name(&self) -> &str {
        if self.up { "ceil" } else { "floor" }
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t @ DataType::Decimal128(_, _)] => Ok(vec![t.clone()]),
            [DataType::Decimal256(p, s)] => Ok(vec![DataType::Decimal128((*p).min(38), *s)]),
            [t] if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
            [t] if is_numeric_or_string(t) => Ok(vec![DataType::Float64]),
            [t] => Err(hive_arg_error(
                self.name(),
                format!("takes a number, got {t}"),
            )),
            _ => Err(hive_arg_error(self.name(), "takes exactly one argument")),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types.first() {
            Some(DataType::Decimal128(p, s)) => {
                DataType::Decimal128((*p as i16 - *s as i16 + 1).clamp(1, 38) as u8, 0)
            }
            _ => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let up = self.up;
        let target = args.return_field.data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            let x = &arrays[0];
            Ok(match (x.data_type(), &target) {
                (DataType::Decimal128(_, scale), DataType::Decimal128(p, _)) => {
                    let scale = *scale;
                    Arc::new(
                        x.as_primitive::<Decimal128Type>()
                            .iter()
                            .map(|v| v.map(|v| round_decimal(v, scale, up)))
                            .collect::<Decimal128Array>()
                            .with_precision_and_scale(*p, 0)?,
                    ) as ArrayRef
                }
                (DataType::Int64, _) => Arc::clone(x),
                (t, _) if t.is_integer() => cast(x.as_ref(), &DataType::Int64)?,
                _ => Arc::new(
                    as_doubles(x)?
                        .iter()
                        .map(|v| {
                            v.map(|v| {
                                if up {
                                    v.ceil() as i64
                                } else {
                                    v.floor() as i64
                                }
                            })
                        })
                        .collect::<Int64Array>(),
                ),
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::round_decimal;

    #[test]
    fn decimals() {
        assert_eq!(round_decimal(1250, 2, false), 12);
        assert_eq!(round_decimal(1250, 2, true), 13);
        assert_eq!(round_decimal(-10, 2, false), -1);
        assert_eq!(round_decimal(-10, 2, true), 0);
    }
}
