//! Hive's date functions (`year` … `second`, `date_add`, `datediff`, `unix_timestamp`, `from_unixtime`, `date_format` with Java `SimpleDateFormat` patterns, ...).

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
