//! Hive's data masking functions: `mask`, `mask_first_n`, `mask_last_n`, `mask_show_first_n`, `mask_show_last_n`, `mask_hash`.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
