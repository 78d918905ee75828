//! The conversion functions named after Hive's types — `int(x)`, `bigint(x)`, `string(x)`,
//! `date(x)`, ... — each `CAST(x AS type)` as Hive converts.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_on_first, hive_doc};
use super::cast::hive_cast;

/// A function named after a type: `CAST(x AS type)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TypeFunc {
    name: &'static str,
    target: DataType,
    signature: Signature,
    doc: Documentation,
}

/// `tinyint`, `smallint`, `int`, `bigint`, `float`, `double`, `decimal`, `boolean`, `string`,
/// `binary`, `date` and `timestamp`.
pub(super) fn all() -> Vec<Arc<ScalarUDF>> {
    [
        ("tinyint", DataType::Int8),
        ("smallint", DataType::Int16),
        ("int", DataType::Int32),
        ("bigint", DataType::Int64),
        ("float", DataType::Float32),
        ("double", DataType::Float64),
        ("decimal", DataType::Decimal128(10, 0)),
        ("boolean", DataType::Boolean),
        ("string", DataType::Utf8),
        ("binary", DataType::Binary),
        ("date", DataType::Date32),
        ("timestamp", DataType::Timestamp(TimeUnit::Nanosecond, None)),
    ]
    .into_iter()
    .map(|(name, target)| {
        let type_name = if name == "decimal" {
            "decimal(10,0)"
        } else {
            name
        };
        Arc::new(ScalarUDF::from(TypeFunc {
            name,
            target,
            signature: Signature::any(1, Volatility::Immutable),
            doc: hive_doc(
                DOC_SECTION_OTHER,
                &format!("{name}(x) - CAST(x AS {type_name}), as Hive converts"),
                &format!("{name}(x)"),
                &format!("SELECT {name}('1')"),
            ),
        }))
    })
    .collect()
}

impl ScalarUDFImpl for TypeFunc {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_on_first(&args.args, args.number_rows, |x| hive_cast(x, &self.target))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
