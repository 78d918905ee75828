//! Hive's `abs(x)`: an int for tinyint/smallint/int, a bigint for bigint (Java's
//! `Math.abs`: the smallest value stays negative), a decimal for a decimal, else a double.
//! DataFusion's keeps the argument's type and fails on `abs(CAST(-128 AS TINYINT))`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, AsArray, Decimal128Array, Float64Array, Int32Array, Int64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int32Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::{as_doubles, is_numeric_or_string};

/// `abs(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct AbsFunc {
    signature: Signature,
}

impl Default for AbsFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "abs(x) - returns the absolute value of x",
        "abs(x)",
        "SELECT abs(0), abs(-5); -- 0, 5",
    )
});

/// The type Hive gives `abs` of a value of type `t`.
fn result_type(t: &DataType) -> DataType {
    match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            DataType::Int32
        }
        DataType::Null => DataType::Int32,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Decimal128(_, _) => t.clone(),
        DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
        _ => DataType::Float64,
    }
}

impl ScalarUDFImpl for AbsFunc {
    fn name(&self) -> &str {
        "abs"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_numeric_or_string(t) && *t != DataType::Boolean => Ok(vec![result_type(t)]),
            [t] => Err(hive_arg_error("abs", format!("takes a number, got {t}"))),
            _ => Err(hive_arg_error("abs", "takes exactly one argument")),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types
            .first()
            .map(result_type)
            .unwrap_or(DataType::Int32))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            let x = cast(arrays[0].as_ref(), &target)?;
            Ok(match &target {
                DataType::Int32 => Arc::new(
                    x.as_primitive::<Int32Type>()
                        .iter()
                        .map(|v| v.map(i32::wrapping_abs))
                        .collect::<Int32Array>(),
                ) as ArrayRef,
                DataType::Int64 => Arc::new(
                    x.as_primitive::<Int64Type>()
                        .iter()
                        .map(|v| v.map(i64::wrapping_abs))
                        .collect::<Int64Array>(),
                ),
                DataType::Decimal128(p, s) => Arc::new(
                    x.as_primitive::<Decimal128Type>()
                        .iter()
                        .map(|v| v.map(i128::wrapping_abs))
                        .collect::<Decimal128Array>()
                        .with_precision_and_scale(*p, *s)?,
                ),
                _ => Arc::new(
                    as_doubles(&x)?
                        .iter()
                        .map(|v| v.map(f64::abs))
                        .collect::<Float64Array>(),
                ),
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
