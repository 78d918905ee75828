//! Hive's `log([base,] x)`: the natural logarithm of x, or its logarithm to `base`; NULL when
//! x <= 0, base <= 0 or base = 1 (DataFusion's `log(x)` is base 10 and gives -Infinity/NaN).

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

/// `log([base,] x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct LogFunc {
    signature: Signature,
}

impl Default for LogFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_MATH,
        "log([b], x) - Returns the logarithm of x with base b (the natural logarithm without b); \
         NULL when x <= 0, b <= 0 or b = 1",
        "log([b], x)",
        "SELECT log(13, 13), log(2.718281828459045), log(0)",
    )
});

/// The logarithm of `x` to `base` (natural without one), Hive's NULLs.
fn log(base: Option<f64>, x: f64) -> Option<f64> {
    if x <= 0.0 {
        return None;
    }
    match base {
        None => Some(x.ln()),
        Some(b) if b <= 0.0 || b == 1.0 => None,
        Some(b) => Some(x.ln() / b.ln()),
    }
}

impl ScalarUDFImpl for LogFunc {
    fn name(&self) -> &str {
        "log"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&arg_types.len()) {
            return Err(hive_arg_error("log", "takes 1 or 2 arguments ([base,] x)"));
        }
        if let Some(t) = arg_types.iter().find(|t| !is_numeric_or_string(t)) {
            return Err(hive_arg_error("log", format!("takes numbers, got {t}")));
        }
        Ok(vec![DataType::Float64; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let out: Float64Array = match arrays {
                [x] => as_doubles(x)?
                    .iter()
                    .map(|x| x.and_then(|x| log(None, x)))
                    .collect(),
                [b, x] => as_doubles(b)?
                    .iter()
                    .zip(as_doubles(x)?.iter())
                    .map(|(b, x)| match (b, x) {
                        (Some(b), Some(x)) => log(Some(b), x),
                        _ => None,
                    })
                    .collect(),
                _ => return Err(hive_arg_error("log", "takes 1 or 2 arguments")),
            };
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::log;

    #[test]
    fn hive_nulls() {
        assert_eq!(log(Some(10.0), 100.0), Some(2.0));
        assert_eq!(log(Some(2.0), 0.0), None);
        assert_eq!(log(Some(1.0), 5.0), None);
        assert_eq!(log(Some(-2.0), 8.0), None);
        assert_eq!(log(None, 1.0), Some(0.0));
    }
}
