//! Helpers shared by the aggregates of this family: constant arguments, double lists.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;

use crate::hive::hive_arg_error;

/// The value of a constant argument (a literal, or a call on literals), or an error naming
/// the function and the argument when it is not constant.
pub(crate) fn constant_arg(
    name: &str,
    exprs: &[Arc<dyn PhysicalExpr>],
    index: usize,
) -> Result<ScalarValue> {
    let Some(expr) = exprs.get(index) else {
        return Err(hive_arg_error(
            name,
            format!("argument {} is missing", index + 1),
        ));
    };
    let batch = RecordBatch::new_empty(Arc::new(Schema::empty()));
    match expr.evaluate(&batch) {
        Ok(ColumnarValue::Scalar(s)) => Ok(s),
        _ => Err(hive_arg_error(
            name,
            format!("argument {} must be a constant", index + 1),
        )),
    }
}

/// A constant argument as f64 values: one for a number, each element for an array. NULL
/// elements are errors.
pub(crate) fn constant_doubles(name: &str, value: &ScalarValue) -> Result<Vec<f64>> {
    let one = |v: &ScalarValue| -> Result<f64> {
        match v.cast_to(&DataType::Float64) {
            Ok(ScalarValue::Float64(Some(f))) => Ok(f),
            _ => Err(hive_arg_error(
                name,
                format!("expected a number or an array of numbers, got {v}"),
            )),
        }
    };
    match value {
        ScalarValue::List(list) if list.len() == 1 && list.is_valid(0) => {
            let values = list.value(0);
            (0..values.len())
                .map(|i| one(&ScalarValue::try_from_array(&values, i)?))
                .collect()
        }
        other => Ok(vec![one(other)?]),
    }
}

/// Whether a percentile argument's type is an array (the result is then an array too).
pub(crate) fn is_array(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

/// `array<double>`.
pub(crate) fn double_list_type() -> DataType {
    DataType::new_list(DataType::Float64, true)
}

/// A one-row `array<double>` scalar.
pub(crate) fn double_list(values: Vec<f64>) -> ScalarValue {
    let values = Float64Array::from(values);
    let list = ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        OffsetBuffer::from_lengths([values.len()]),
        Arc::new(values),
        None,
    );
    ScalarValue::List(Arc::new(list))
}

/// The f64 values of each valid row of a state column of type `array<double>`.
pub(crate) fn double_list_rows(state: &ArrayRef) -> Result<Vec<Vec<f64>>> {
    let Some(lists) = state.as_list_opt::<i32>() else {
        return Err(hive_arg_error("aggregate", "malformed aggregate state"));
    };
    let mut out = Vec::with_capacity(lists.len());
    for i in 0..lists.len() {
        if lists.is_valid(i) {
            let values = lists.value(i);
            let values = values.as_primitive::<Float64Type>();
            out.push(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect());
        }
    }
    Ok(out)
}
