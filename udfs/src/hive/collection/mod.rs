//! Hive's collection functions (`array_slice`, `array_remove`, `array_*` of Hive 4, `sort_array_by`, ...).

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
