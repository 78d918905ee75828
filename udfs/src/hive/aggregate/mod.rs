//! Hive's aggregate functions (`stddev` as the population deviation, `percentile`,
//! `percentile_approx`, `histogram_numeric`, `ngrams`, `context_ngrams`, ...).
//!
//! Names DataFusion also defines are replaced where its meaning differs from Hive's:
//! `stddev` (DataFusion: sample deviation; Hive: population), `var_samp` and `stddev_samp`
//! (DataFusion: NULL for one value; Hive: 0), `corr`, `covar_*` and `regr_*` (Hive's running
//! sums: the last digits differ otherwise), `percentile_cont` (DataFusion keeps the input
//! type; Hive answers a double). `count`, `sum`, `avg`, `min`, `max` are DataFusion's,
//! checked against Hive in the slt files.

mod args;
mod binary_stats;
mod histogram;
mod histogram_numeric;
mod ngrams;
mod percentile;
mod percentile_approx;
mod variance;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use binary_stats::{PairStat, PairStatFunc};
pub use histogram_numeric::HistogramNumericFunc;
pub use ngrams::NGramsFunc;
pub use percentile::PercentileFunc;
pub use percentile_approx::PercentileApproxFunc;
pub use variance::VarianceFunc;

/// This family's scalar functions (helpers of the aggregates, if any).
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}

/// This family's aggregate functions, registered over DataFusion's of the same names.
pub(crate) fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let pairs = PairStat::ALL
        .into_iter()
        .map(|s| Arc::new(AggregateUDF::from(PairStatFunc::new(s))));
    let others = vec![
        Arc::new(AggregateUDF::from(VarianceFunc::var_pop())),
        Arc::new(AggregateUDF::from(VarianceFunc::var_samp())),
        Arc::new(AggregateUDF::from(VarianceFunc::stddev_pop())),
        Arc::new(AggregateUDF::from(VarianceFunc::stddev())),
        Arc::new(AggregateUDF::from(VarianceFunc::std())),
        Arc::new(AggregateUDF::from(VarianceFunc::stddev_samp())),
        Arc::new(AggregateUDF::from(PercentileFunc::percentile())),
        Arc::new(AggregateUDF::from(PercentileFunc::cont())),
        Arc::new(AggregateUDF::from(PercentileFunc::disc())),
        Arc::new(AggregateUDF::from(PercentileApproxFunc::new())),
        Arc::new(AggregateUDF::from(HistogramNumericFunc::new())),
        Arc::new(AggregateUDF::from(NGramsFunc::ngrams())),
        Arc::new(AggregateUDF::from(NGramsFunc::context_ngrams())),
    ];
    others.into_iter().chain(pairs).collect()
}
