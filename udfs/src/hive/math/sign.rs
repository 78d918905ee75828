//! Hive's `sign(x)` (and `signum`): -1.0, 0.0 or 1.0 as a double; an int for a decimal.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, Int32Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::{as_doubles, is_numeric_or_string};

/// `sign(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SignFunc {
    signature: Signature,
    aliases: Vec<String>,
}

impl Default for SignFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["signum".to_string()],
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "sign(x) - returns the sign of x: -1.0, 0.0 or 1.0 (an int -1, 0 or 1 for a decimal)",
        "sign(x)",
        "SELECT sign(40), sign(-5.5); -- 1.0, -1",
    )
});

impl ScalarUDFImpl for SignFunc {
    fn name(&self) -> &str {
        "sign"
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
            [t] if is_numeric_or_string(t) => Ok(vec![DataType::Float64]),
            [t] => Err(hive_arg_error("sign", format!("takes a number, got {t}"))),
            _ => Err(hive_arg_error("sign", "takes exactly one argument")),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types.first() {
            Some(DataType::Decimal128(_, _)) => DataType::Int32,
            _ => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let x = &arrays[0];
            if let DataType::Decimal128(_, _) = x.data_type() {
                let out: Int32Array = x
                    .as_primitive::<Decimal128Type>()
                    .iter()
                    .map(|v| v.map(|v| v.signum() as i32))
                    .collect();
                return Ok(Arc::new(out) as ArrayRef);
            }
            let out: Float64Array = as_doubles(x)?
                .iter()
                .map(|v| {
                    v.map(|v| {
                        if v.is_nan() || v == 0.0 {
                            v * 0.0
                        } else {
                            v.signum()
                        }
                    })
                })
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
