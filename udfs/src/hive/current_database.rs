//! `current_database()`: the database `USE` selected (the session's default schema).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::hive_doc;

/// `current_database()` → `string`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CurrentDatabaseFunc {
    signature: Signature,
}

impl Default for CurrentDatabaseFunc {
    fn default() -> Self {
        Self {
            signature: Signature::nullary(Volatility::Stable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Returns the current database (the one USE selected; `default` at start).",
        "current_database()",
        "USE sales;\nSELECT current_database();\n-- sales",
    )
});

impl ScalarUDFImpl for CurrentDatabaseFunc {
    fn name(&self) -> &str {
        "current_database"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            args.config_options.catalog.default_schema.clone(),
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
