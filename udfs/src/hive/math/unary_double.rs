//! `ln`, `log10`, `log2` and `sqrt` as Hive's: a double, NULL where Java's `Math` would give
//! NaN or -Infinity (a logarithm of a non-positive number, the root of a negative one).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::{as_doubles, is_numeric_or_string};

/// Which function of one double.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Ln,
    Log10,
    Log2,
    Sqrt,
}

/// A Hive function of one double that is NULL outside its domain.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct UnaryDoubleFunc {
    op: Op,
    signature: Signature,
    doc: Documentation,
}

/// `ln`, `log10`, `log2` and `sqrt`.
pub(super) fn all() -> Vec<Arc<ScalarUDF>> {
    [
        (
            Op::Ln,
            "ln(x) - Returns the natural logarithm of x (NULL for x <= 0)",
            "SELECT ln(1), ln(0)",
        ),
        (
            Op::Log10,
            "log10(x) - Returns the logarithm of x with base 10 (NULL for x <= 0)",
            "SELECT log10(10), log10(0)",
        ),
        (
            Op::Log2,
            "log2(x) - Returns the logarithm of x with base 2 (NULL for x <= 0)",
            "SELECT log2(2), log2(0)",
        ),
        (
            Op::Sqrt,
            "sqrt(x) - Returns the square root of x (NULL for x < 0)",
            "SELECT sqrt(4), sqrt(-1)",
        ),
    ]
    .into_iter()
    .map(|(op, description, example)| {
        let syntax = description.split(" - ").next().unwrap_or(description);
        Arc::new(ScalarUDF::from(UnaryDoubleFunc {
            op,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_MATH, description, syntax, example),
        }))
    })
    .collect()
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Ln => "ln",
            Op::Log10 => "log10",
            Op::Log2 => "log2",
            Op::Sqrt => "sqrt",
        }
    }

    fn apply(self, x: f64) -> Option<f64> {
        match self {
            Op::Ln if x > 0.0 => Some(x.ln()),
            Op::Log10 if x > 0.0 => Some(x.log10()),
            Op::Log2 if x > 0.0 => Some(x.ln() / 2f64.ln()),
            Op::Sqrt if x >= 0.0 => Some(x.sqrt()),
            _ if x.is_nan() => Some(x),
            _ => None,
        }
    }
}

impl ScalarUDFImpl for UnaryDoubleFunc {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_numeric_or_string(t) => Ok(vec![DataType::Float64]),
            [t] => Err(hive_arg_error(
                self.name(),
                format!("takes a number, got {t}"),
            )),
            _ => Err(hive_arg_error(self.name(), "takes exactly one argument")),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        evaluate_rowwise(&args.args, |arrays| {
            let x = as_doubles(&arrays[0])?;
            let out: Float64Array = x.iter().map(|v| v.and_then(|v| op.apply(v))).collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn outside_the_domain_is_null() {
        assert_eq!(Op::Ln.apply(0.0), None);
        assert_eq!(Op::Ln.apply(-1.0), None);
        assert_eq!(Op::Ln.apply(1.0), Some(0.0));
        assert_eq!(Op::Log2.apply(8.0), Some(3.0));
        assert_eq!(Op::Sqrt.apply(-1.0), None);
        assert_eq!(Op::Sqrt.apply(4.0), Some(2.0));
    }
}
