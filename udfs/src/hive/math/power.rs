//! Hive's `power(x, p)` / `pow`: always a double (DataFusion's integer `power` fails on a
//! negative exponent).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::{as_doubles, is_numeric_or_string};

/// `power(x, p)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PowerFunc {
    signature: Signature,
    aliases: Vec<String>,
}

impl Default for PowerFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["pow".to_string()],
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "power(x1, x2) - raise x1 to the power of x2 (a double)",
        "power(x1, x2)",
        "SELECT power(2, 3), pow(2, -1); -- 8.0, 0.5",
    )
});

impl ScalarUDFImpl for PowerFunc {
    fn name(&self) -> &str {
        "power"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if is_numeric_or_string(a) && is_numeric_or_string(b) => {
                Ok(vec![DataType::Float64; 2])
            }
            [_, _] => Err(hive_arg_error("power", "takes two numbers")),
            _ => Err(hive_arg_error(
                "power",
                "takes exactly 2 arguments (x1, x2)",
            )),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let out: Float64Array = as_doubles(&arrays[0])?
                .iter()
                .zip(as_doubles(&arrays[1])?.iter())
                .map(|(x, p)| Some(x?.powf(p?)))
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
