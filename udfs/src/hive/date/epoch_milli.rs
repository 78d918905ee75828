//! Hive 4's `to_epoch_milli(timestamp)`: the milliseconds since 1970-01-01 00:00:00 UTC
//! of a timestamp (a BIGINT).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::input::{coerce_temporal, timestamps};
use super::udf::{DateFunc, Doc};

fn coerce_one(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(vec![coerce_temporal(name, 1, &types[0])?])
}

fn kernel(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let out: Int64Array = timestamps(&arrays[0])?
        .into_iter()
        .map(|t| t.map(|t| t.and_utc().timestamp_millis()))
        .collect();
    Ok(Arc::new(out))
}

/// `to_epoch_milli`.
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        DateFunc::new(
            "to_epoch_milli",
            (1, 1),
            coerce_one,
            |_| Ok(DataType::Int64),
            |a, _| kernel(a),
            Doc {
                description: "The milliseconds since 1970-01-01 00:00:00 UTC of a timestamp.",
                syntax: "to_epoch_milli(timestamp)",
                example: "SELECT to_epoch_milli(CAST('2009-07-30 04:17:52.5' AS TIMESTAMP))",
            },
        )
        .udf(),
    ]
}
