//! Hive's string functions (`regexp_replace`, `regexp_extract`, `locate`, `instr`, `translate`, `format_number`, `printf`, `sentences`, ...) with Java's regular expressions and formats.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
