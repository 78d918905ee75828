//! Hive's integer division `a DIV b` (the function `div(a, b)`): the quotient truncated
//! toward zero, as a bigint; NULL when b is 0.
//!
//! Hive takes only integers (Java's `long` division, so `-9223372036854775808 DIV -1`
//! wraps); Spark also takes decimals, doubles and numeric strings, dividing exactly and then
//! truncating (`7.5 DIV 2` is 3). Apiary accepts what Spark accepts, with Spark's answer.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `div(a, b)`, Hive's `a DIV b`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DivFunc {
    signature: Signature,
}

impl Default for DivFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "Divides a by b and truncates the quotient toward zero (a bigint); NULL when b is 0.",
        "div(a, b), written a DIV b",
        "SELECT 7 DIV 2, -7 DIV 2, 7 DIV 0",
    )
});

/// Whether a type divides as Java's `long`.
fn is_integer(data_type: &DataType) -> bool {
    data_type.is_integer() || matches!(data_type, DataType::Null)
}

impl ScalarUDFImpl for DivFunc {
    fn name(&self) -> &str {
        "div"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = args else {
            return Err(hive_arg_error("div", "takes two arguments: a DIV b"));
        };
        for t in [a, b] {
            let numeric = t.is_numeric() || is_integer(t);
            let text = matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
            if !numeric && !text {
                return Err(hive_arg_error("div", format!("DIV takes numbers, not {t}")));
            }
        }
        let target = if is_integer(a) && is_integer(b) {
            DataType::Int64
        } else {
            DataType::Float64
        };
        Ok(vec![target.clone(), target])
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let [a, b] = arrays else {
                return Err(hive_arg_error("div", "takes two arguments: a DIV b"));
            };
            let quotients: Int64Array = if a.data_type() == &DataType::Int64 {
                let (a, b) = (a.as_primitive::<Int64Type>(), b.as_primitive::<Int64Type>());
                a.iter()
                    .zip(b.iter())
                    .map(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) if b != 0 => Some(a.wrapping_div(b)),
                        _ => None,
                    })
                    .collect()
            } else {
                let a = cast(a, &DataType::Float64)?;
                let b = cast(b, &DataType::Float64)?;
                let (a, b) = (
                    a.as_primitive::<Float64Type>(),
                    b.as_primitive::<Float64Type>(),
                );
                a.iter()
                    .zip(b.iter())
                    .map(|(a, b)| match (a, b) {
                        // `as` truncates toward zero and saturates, as Java's (long) does.
                        (Some(a), Some(b)) if b != 0.0 => Some((a / b) as i64),
                        _ => None,
                    })
                    .collect()
            };
            Ok(Arc::new(quotients) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
