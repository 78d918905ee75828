//! Spark's `sequence(start, stop[, step])` (the issue asks for it; Hive has none): the integers
//! from start to stop inclusive, by step (default 1, or -1 when start > stop); NULL when any
//! argument is NULL; an error when step goes away from stop. Its result is bounded: a call that
//! would build more than [`crate::memory_bound::MAX_RESULT_BYTES`] is refused (and the session
//! wraps `sequence` to reserve its size from the memory pool, as for `range`).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, ListBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use crate::memory_bound::MAX_RESULT_BYTES;

/// `sequence(start, stop[, step])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SequenceFunc {
    signature: Signature,
}

impl Default for SequenceFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "sequence(start, stop[, step]) - Generates an array of integers from start to stop \
         (inclusive), incrementing by step (Spark's; step defaults to 1, or -1 when start > stop)",
        "sequence(start, stop[, step])",
        "SELECT sequence(1, 5), sequence(5, 1), sequence(1, 10, 3); -- [1..5], [5..1], [1, 4, 7, 10]",
    )
});

/// The number of elements of `start..=stop` by `step`, or an error for a step that never gets
/// there.
fn count(start: i64, stop: i64, step: i64) -> Result<u128> {
    let ok =
        (step > 0 && start <= stop) || (step < 0 && start >= stop) || (step == 0 && start == stop);
    if !ok {
        return exec_err!("sequence: illegal sequence boundaries: {start} to {stop} by {step}");
    }
    if step == 0 {
        return Ok(1);
    }
    Ok((i128::from(stop) - i128::from(start)).unsigned_abs() / i128::from(step).unsigned_abs() + 1)
}

impl ScalarUDFImpl for SequenceFunc {
    fn name(&self) -> &str {
        "sequence"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return Err(hive_arg_error(
                self.name(),
                "takes 2 or 3 arguments (start, stop[, step])",
            ));
        }
        if let Some(t) = arg_types.iter().find(|t| !(t.is_integer() || t.is_null())) {
            return Err(hive_arg_error(
                self.name(),
                format!("takes integers (dates and timestamps are not supported), got {t}"),
            ));
        }
        Ok(vec![DataType::Int64; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Int64, true))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let columns = arrays
                .iter()
                .map(|a| cast(a.as_ref(), &DataType::Int64))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let column = |i: usize| columns.get(i).map(|c| c.as_primitive::<Int64Type>());
            let (Some(start), Some(stop)) = (column(0), column(1)) else {
                return exec_err!("sequence: takes start and stop");
            };
            let step = column(2);
            let rows = start.len();
            let mut plans = Vec::with_capacity(rows);
            let mut total: u128 = 0;
            for row in 0..rows {
                if start.is_null(row) || stop.is_null(row) || step.is_some_and(|s| s.is_null(row)) {
                    plans.push(None);
                    continue;
                }
                let (a, b) = (start.value(row), stop.value(row));
                let by = step.map_or(if a <= b { 1 } else { -1 }, |s| s.value(row));
                let n = count(a, b, by)?;
                total = total.saturating_add(n);
                if total.saturating_mul(8) > MAX_RESULT_BYTES as u128 {
                    return exec_err!(
                        "sequence: the result would hold more than {} elements",
                        MAX_RESULT_BYTES / 8
                    );
                }
                plans.push(Some((a, by, n as usize)));
            }
            let mut out = ListBuilder::new(Int64Builder::with_capacity(total as usize));
            for plan in plans {
                match plan {
                    None => out.append_null(),
                    Some((a, by, n)) => {
                        let mut v = a;
                        for _ in 0..n {
                            out.values().append_value(v);
                            v = v.wrapping_add(by);
                        }
                        out.append(true);
                    }
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_and_boundaries() {
        assert_eq!(count(1, 5, 1).ok(), Some(5));
        assert_eq!(count(5, 1, -1).ok(), Some(5));
        assert_eq!(count(1, 10, 3).ok(), Some(4));
        assert!(count(1, 5, -1).is_err());
        assert_eq!(count(3, 3, 0).ok(), Some(1));
    }
}
