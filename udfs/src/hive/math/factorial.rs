//! Hive's `factorial(n)`: n! as a bigint for n in 0..=20, NULL otherwise.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `factorial(int)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct FactorialFunc {
    signature: Signature,
}

impl Default for FactorialFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "factorial(int a) - Returns the factorial of a; a must be in [0..20], else NULL",
        "factorial(int a)",
        "SELECT factorial(5); -- 120",
    )
});

/// n! for n in 0..=20.
fn factorial(n: i64) -> Option<i64> {
    if !(0..=20).contains(&n) {
        return None;
    }
    Some((1..=n).product())
}

impl ScalarUDFImpl for FactorialFunc {
    fn name(&self) -> &str {
        "factorial"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
            [t] => Err(hive_arg_error(
                "factorial",
                format!("takes an integer, got {t}"),
            )),
            _ => Err(hive_arg_error("factorial", "takes exactly one argument")),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let n = cast(arrays[0].as_ref(), &DataType::Int64)?;
            let out: Int64Array = n
                .as_primitive::<Int64Type>()
                .iter()
                .map(|n| n.and_then(factorial))
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::factorial;

    #[test]
    fn range() {
        assert_eq!(factorial(0), Some(1));
        assert_eq!(factorial(20), Some(2_432_902_008_176_640_000));
        assert_eq!(factorial(21), None);
        assert_eq!(factorial(-1), None);
    }
}
