//! Spark's `bin`, `hex` and `unhex` (datafusion-spark), which answer as Hive's, behind Hive's
//! argument rules: a NULL argument is NULL (Spark's fail on an untyped NULL), numbers are read
//! as bigints, and anything else is refused while planning.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion_spark::function::math::{bin::SparkBin, hex::SparkHex, unhex::SparkUnhex};

use super::super::{hive_arg_error, is_string_or_null};

/// Which argument types a wrapped function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Takes {
    /// `bin`: a bigint.
    Number,
    /// `hex`: a bigint, a string or a binary.
    NumberStringOrBinary,
    /// `unhex`: a string.
    String,
}

/// A datafusion-spark function with Hive's argument rules.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SparkWrapped {
    inner: ScalarUDF,
    takes: Takes,
    signature: Signature,
}

/// `bin`, `hex` and `unhex`.
pub(super) fn all() -> Vec<Arc<ScalarUDF>> {
    [
        (ScalarUDF::from(SparkBin::new()), Takes::Number),
        (
            ScalarUDF::from(SparkHex::new()),
            Takes::NumberStringOrBinary,
        ),
        (ScalarUDF::from(SparkUnhex::new()), Takes::String),
    ]
    .into_iter()
    .map(|(inner, takes)| {
        Arc::new(ScalarUDF::from(SparkWrapped {
            inner,
            takes,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

impl ScalarUDFImpl for SparkWrapped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = arg_types else {
            return Err(hive_arg_error(self.name(), "takes exactly one argument"));
        };
        let binary = matches!(
            t,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
        );
        let coerced = match self.takes {
            Takes::String if is_string_or_null(t) => DataType::Utf8,
            Takes::NumberStringOrBinary if t.is_null() => DataType::Int64,
            Takes::NumberStringOrBinary if is_string_or_null(t) => DataType::Utf8,
            Takes::NumberStringOrBinary if binary => DataType::Binary,
            Takes::Number | Takes::NumberStringOrBinary if t.is_numeric() || t.is_null() => {
                DataType::Int64
            }
            _ => {
                return Err(hive_arg_error(
                    self.name(),
                    format!("cannot take an argument of type {t}"),
                ));
            }
        };
        Ok(vec![coerced])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}
