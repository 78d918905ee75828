//! Hive's aggregate functions (`stddev` as the population deviation, `percentile`,
//! `percentile_approx`, `histogram_numeric`, `ngrams`, `context_ngrams`, `regr_*`, ...).

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

/// This family's scalar functions (helpers of the aggregates, if any).
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}

/// This family's aggregate functions, registered over DataFusion's of the same names.
pub(crate) fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    Vec::new()
}
