//! Hive's type conversions: `CAST` as Hive casts (NULL for what does not convert, integer wrap-around, seconds for timestamps, `VARCHAR(n)`/`CHAR(n)`), and the conversion functions named after types.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
