//! Hive's `positive(x)` and `negative(x)`: x or -x in x's own type (integers wrap around as
//! Java's do; a string is read as a double).

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::numeric::neg_wrapping;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::is_numeric_or_string;

/// `positive(x)` or `negative(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SignedFunc {
    negate: bool,
    signature: Signature,
    doc: Documentation,
}

impl SignedFunc {
    /// `positive(x)`: x itself.
    pub(super) fn positive() -> Self {
        Self::new(
            false,
            "positive(a) - Returns a",
            "SELECT positive(-3); -- -3",
        )
    }

    /// `negative(x)`: -x.
    pub(super) fn negative() -> Self {
        Self::new(
            true,
            "negative(a) - Returns -a",
            "SELECT negative(-3); -- 3",
        )
    }

    fn new(negate: bool, description: &str, example: &str) -> Self {
        let syntax = if negate { "negative(a)" } else { "positive(a)" };
        Self {
            negate,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_MATH, description, syntax, example),
        }
    }
}

/// The type Hive gives the result for an argument of `t`.
fn result_type(t: &DataType) -> DataType {
    match t {
        DataType::UInt8 | DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _) => t.clone(),
        DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
        DataType::Null => DataType::Int32,
        _ => DataType::Float64,
    }
}

impl ScalarUDFImpl for SignedFunc {
    fn name(&self) -> &str {
        if self.negate { "negative" } else { "positive" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_numeric_or_string(t) && *t != DataType::Boolean => Ok(vec![result_type(t)]),
            [t] => Err(hive_arg_error(
                self.name(),
                format!("takes a number, got {t}"),
            )),
            _ => Err(hive_arg_error(self.name(), "takes exactly one argument")),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types
            .first()
            .map(result_type)
            .unwrap_or(DataType::Int32))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let negate = self.negate;
        let target = result_type(args.return_field.data_type());
        evaluate_rowwise(&args.args, |arrays| {
            let x = cast(arrays[0].as_ref(), &target)?;
            if negate {
                Ok(neg_wrapping(x.as_ref())?)
            } else {
                Ok(x as ArrayRef)
            }
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
