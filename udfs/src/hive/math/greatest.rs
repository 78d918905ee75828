//! Hive's `greatest(v1, v2, ...)` and `least(...)`: the largest (smallest) value in the
//! arguments' common type, and NULL when any argument is NULL (Hive 2 and later; DataFusion's
//! skip NULLs).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, make_array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::kernels::cmp::{gt, lt};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::binary::type_union_resolution;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_MATH;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `greatest(...)` or `least(...)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct GreatestFunc {
    largest: bool,
    signature: Signature,
    doc: Documentation,
}

impl GreatestFunc {
    /// `greatest(v1, v2, ...)`.
    pub(super) fn greatest() -> Self {
        Self::new(
            true,
            "greatest(v1, v2, ...) - Returns the greatest value in a list of values (NULL if any is NULL)",
            "SELECT greatest(2, 3, 1), greatest(1, NULL, 3); -- 3, NULL",
        )
    }

    /// `least(v1, v2, ...)`.
    pub(super) fn least() -> Self {
        Self::new(
            false,
            "least(v1, v2, ...) - Returns the least value in a list of values (NULL if any is NULL)",
            "SELECT least(2, 3, 1), least(1, NULL, 3); -- 1, NULL",
        )
    }

    fn new(largest: bool, description: &str, example: &str) -> Self {
        let syntax = if largest {
            "greatest(v1, v2, ...)"
        } else {
            "least(v1, v2, ...)"
        };
        Self {
            largest,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_MATH, description, syntax, example),
        }
    }
}

/// The largest (smallest) of `values` row by row, NULL where any is NULL.
fn extreme(values: &[ArrayRef], largest: bool) -> Result<ArrayRef> {
    let Some(first) = values.first() else {
        return Err(hive_arg_error("greatest", "takes at least 2 arguments"));
    };
    let mut best = Arc::clone(first);
    let mut nulls = first.logical_nulls();
    for next in &values[1..] {
        let better = if largest {
            gt(next, &best)?
        } else {
            lt(next, &best)?
        };
        best = zip(&better, next, &best)?;
        nulls = NullBuffer::union(nulls.as_ref(), next.logical_nulls().as_ref());
    }
    let data = best.to_data().into_builder().nulls(nulls).build()?;
    Ok(make_array(data))
}

impl ScalarUDFImpl for GreatestFunc {
    fn name(&self) -> &str {
        if self.largest { "greatest" } else { "least" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 {
            return Err(hive_arg_error(self.name(), "takes at least 2 arguments"));
        }
        let common = type_union_resolution(arg_types).ok_or_else(|| {
            hive_arg_error(
                self.name(),
                format!("cannot compare values of types {arg_types:?}"),
            )
        })?;
        Ok(vec![common; arg_types.len()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let largest = self.largest;
        evaluate_rowwise(&args.args, |arrays| extreme(arrays, largest))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
