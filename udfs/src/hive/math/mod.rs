//! Hive's mathematical functions (`ln`, `log`, `greatest`/`least`, `pmod`, `conv`, `bround`, ...).

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
