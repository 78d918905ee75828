//! `hive_cast(x, typed_null[, type_name])`: x converted to the type of its second argument as
//! Hive's `CAST` converts (see [`super::cast`]); what an explicit `CAST(x AS t)` is rewritten
//! into. The type's name, when given, only names the expression.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::super::{evaluate_on_first, hive_arg_error, hive_doc};
use super::cast::hive_cast;

/// The name of the function explicit casts are rewritten into.
pub(super) const HIVE_CAST: &str = "hive_cast";

/// `hive_cast(x, typed_null)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct HiveCastFunc {
    signature: Signature,
}

impl Default for HiveCastFunc {
    fn default() -> Self {
        Self {
            signature: Signature::one_of(
                vec![TypeSignature::Any(2), TypeSignature::Any(3)],
                Volatility::Immutable,
            ),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "cast(expr AS type) - converts expr to type as Hive does: NULL when it does not \
         convert, integers wrap around, timestamps are seconds as numbers",
        "cast(expr AS type)",
        "SELECT CAST('abc' AS INT), CAST(300 AS TINYINT), CAST(true AS STRING); -- NULL, 44, TRUE",
    )
});

impl ScalarUDFImpl for HiveCastFunc {
    fn name(&self) -> &str {
        HIVE_CAST
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arg_types
            .get(1)
            .cloned()
            .ok_or_else(|| hive_arg_error(HIVE_CAST, "takes 2 arguments (x, typed_null)"))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [_, target, ..] = args.arg_fields else {
            return Err(hive_arg_error(
                HIVE_CAST,
                "takes 2 arguments (x, typed_null)",
            ));
        };
        Ok(Arc::new(Field::new(
            HIVE_CAST,
            target.data_type().clone(),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        evaluate_on_first(&args.args, args.number_rows, |x| hive_cast(x, &target))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
