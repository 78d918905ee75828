//! Hive's collection functions (`array_slice`, `array_remove`, the `array_*` of Hive 4,
//! `sort_array_by`, `index`, ...) and Spark's `sequence`. `size`, `array_contains`,
//! `sort_array`, `map_keys`, `map_values` and the constructors are flat files of `hive/`.

mod array_extreme;
mod array_join;
mod array_position;
mod array_set;
mod array_slice;
mod index;
mod list_util;
mod sequence;
mod sort_array_by;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut out = vec![
        Arc::new(ScalarUDF::from(array_extreme::ArrayExtremeFunc::max())),
        Arc::new(ScalarUDF::from(array_extreme::ArrayExtremeFunc::min())),
        Arc::new(ScalarUDF::from(array_join::ArrayJoinFunc::default())),
        Arc::new(ScalarUDF::from(array_position::ArrayPositionFunc::default())),
        Arc::new(ScalarUDF::from(array_slice::ArraySliceFunc::default())),
        Arc::new(ScalarUDF::from(index::IndexFunc::default())),
        Arc::new(ScalarUDF::from(sequence::SequenceFunc::default())),
        Arc::new(ScalarUDF::from(sort_array_by::SortArrayByFunc::default())),
    ];
    out.extend(array_set::all());
    out
}
