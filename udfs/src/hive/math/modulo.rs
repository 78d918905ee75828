//! Hive's `pmod(a, b)` (the positive remainder, `((a % b) + b) % b`) and `mod(a, b)` (`a % b`,
//! the sign of a): the common numeric type of a and b, NULL when b is 0.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::binary::BinaryTypeCoercer;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Operator, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::is_numeric_or_string;

/// `pmod(a, b)` or `mod(a, b)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ModFunc {
    positive: bool,
    signature: Signature,
    doc: Documentation,
}

impl ModFunc {
    /// `pmod(a, b)`.
    pub(super) fn pmod() -> Self {
        Self {
            positive: true,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(
                DOC_SECTION_MATH,
                "pmod(a, b) - Returns the positive value of a mod b (NULL when b is 0)",
                "pmod(a, b)",
                "SELECT pmod(-7, 3), pmod(7, -3); -- 2, -2",
            ),
        }
    }

    /// `mod(a, b)`.
    pub(super) fn modulo() -> Self {
        Self {
            positive: false,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(
                DOC_SECTION_MATH,
                "mod(a, b) - Returns the remainder of a / b, with the sign of a (NULL when b is 0)",
                "mod(a, b)",
                "SELECT mod(7, 3), mod(-7, 3); -- 1, -1",
            ),
        }
    }
}

/// The type both operands are computed in: a bigint for integers, a decimal for decimals
/// (mixed with integers), else a double.
fn common_type(a: &DataType, b: &DataType) -> DataType {
    let (a, b) = (plain(a), plain(b));
    if a.is_integer() && b.is_integer() {
        return DataType::Int64;
    }
    let decimal = matches!(a, DataType::Decimal128(..)) || matches!(b, DataType::Decimal128(..));
    if decimal
        && let Ok((l, r)) = BinaryTypeCoercer::new(&a, &Operator::Modulo, &b).get_input_types()
        && l == r
        && matches!(l, DataType::Decimal128(..))
    {
        return l;
    }
    DataType::Float64
}

fn plain(t: &DataType) -> DataType {
    match t {
        DataType::Null => DataType::Int32,
        DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
        t if t.is_numeric() => t.clone(),
        _ => DataType::Float64,
    }
}

/// The result type for operands of `a` and `b`: ints stay as narrow as Hive keeps them.
fn result_type(a: &DataType, b: &DataType) -> DataType {
    let (a, b) = (plain(a), plain(b));
    if a.is_integer() && b.is_integer() {
        let width = |t: &DataType| t.primitive_width().unwrap_or(8);
        let wide = if width(&a) >= width(&b) { a } else { b };
        return match wide {
            DataType::UInt8 => DataType::Int16,
            DataType::UInt16 => DataType::Int32,
            DataType::UInt32 | DataType::UInt64 => DataType::Int64,
            w => w,
        };
    }
    common_type(&a, &b)
}

impl ScalarUDFImpl for ModFunc {
    fn name(&self) -> &str {
        if self.positive { "pmod" } else { "mod" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if is_numeric_or_string(a) && is_numeric_or_string(b) => {
                let t = result_type(a, b);
                Ok(vec![t.clone(), t])
            }
            [_, _] => Err(hive_arg_error(self.name(), "takes two numbers")),
            _ => Err(hive_arg_error(
                self.name(),
                "takes exactly 2 arguments (a, b)",
            )),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [a, _] => Ok(a.clone()),
            _ => Err(hive_arg_error(
                self.name(),
                "takes exactly 2 arguments (a, b)",
            )),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let positive = self.positive;
        let narrow = args.return_field.data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            let wide = common_type(arrays[0].data_type(), arrays[1].data_type());
            let a = &cast(arrays[0].as_ref(), &wide)?;
            let b = &cast(arrays[1].as_ref(), &wide)?;
            let out: ArrayRef = match a.data_type() {
                DataType::Int64 => {
                    let (a, b) = (a.as_primitive::<Int64Type>(), b.as_primitive::<Int64Type>());
                    Arc::new(
                        a.iter()
                            .zip(b.iter())
                            .map(|(a, b)| {
                                let (a, b) = (a?, b?);
                                if b == 0 {
                                    return None;
                                }
                                let r = a.wrapping_rem(b);
                                Some(if positive {
                                    r.wrapping_add(b).wrapping_rem(b)
                                } else {
                                    r
                                })
                            })
                            .collect::<Int64Array>(),
                    )
                }
                DataType::Decimal128(p, s) => {
                    let (a, b) = (
                        a.as_primitive::<Decimal128Type>(),
                        b.as_primitive::<Decimal128Type>(),
                    );
                    Arc::new(
                        a.iter()
                            .zip(b.iter())
                            .map(|(a, b)| {
                                let (a, b) = (a?, b?);
                                if b == 0 {
                                    return None;
                                }
                                let r = a % b;
                                Some(if positive { (r + b) % b } else { r })
                            })
                            .collect::<Decimal128Array>()
                            .with_precision_and_scale(*p, *s)?,
                    )
                }
                _ => {
                    let (a, b) = (
                        a.as_primitive::<Float64Type>(),
                        b.as_primitive::<Float64Type>(),
                    );
                    Arc::new(
                        a.iter()
                            .zip(b.iter())
                            .map(|(a, b)| {
                                let (a, b) = (a?, b?);
                                if b == 0.0 {
                                    return None;
                                }
                                let r = a % b;
                                Some(if positive { (r + b) % b } else { r })
                            })
                            .collect::<Float64Array>(),
                    )
                }
            };
            Ok(if narrow != *out.data_type() && narrow.is_integer() {
                cast(out.as_ref() as &dyn Array, &narrow)?
            } else {
                out
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
