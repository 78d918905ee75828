//! Hive's `concat(s1, s2, ...)`: NULL when any argument is NULL (DataFusion's skips NULLs).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_doc};

/// `concat(s1, s2, ...)` with Hive's NULL rule.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ConcatFunc {
    signature: Signature,
}

impl Default for ConcatFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Concatenates its arguments as strings; NULL when any argument is NULL (Hive's rule).",
        "concat(s1, s2, ...)",
        "SELECT concat('a', 'b', 1)",
    )
});

impl ScalarUDFImpl for ConcatFunc {
    fn name(&self) -> &str {
        "concat"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let strings = arrays
                .iter()
                .map(|a| cast(a.as_ref(), &DataType::Utf8))
                .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
            let columns = strings
                .iter()
                .map(|a| as_string_array(a))
                .collect::<Result<Vec<_>>>()?;
            let rows = columns.first().map_or(1, |c| c.len());
            let mut out = StringBuilder::new();
            let mut buf = String::new();
            for row in 0..rows {
                buf.clear();
                let mut null = false;
                for c in &columns {
                    if c.is_null(row) {
                        null = true;
                        break;
                    }
                    buf.push_str(c.value(row));
                }
                if null {
                    out.append_null();
                } else {
                    out.append_value(&buf);
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
