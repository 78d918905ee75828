//! Hive's `e()`: Euler's number (DataFusion has `pi()` but no `e()`).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::hive_doc;

/// `e()`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct EFunc {
    signature: Signature,
}

impl Default for EFunc {
    fn default() -> Self {
        Self {
            signature: Signature::nullary(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> =
    LazyLock::new(|| hive_doc(DOC_SECTION_MATH, "e() - returns E", "e()", "SELECT e()"));

impl ScalarUDFImpl for EFunc {
    fn name(&self) -> &str {
        "e"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(
            std::f64::consts::E,
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
