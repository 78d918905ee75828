//! Hive's data masking functions: `mask`, `mask_first_n`, `mask_last_n`, `mask_show_first_n`,
//! `mask_show_last_n`, `mask_hash`.

mod apply;
mod mask;
mod mask_hash;
mod options;
mod transform;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub(crate) use mask_hash::hex_lower;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(mask::MaskFunc::mask())),
        Arc::new(ScalarUDF::from(mask::MaskFunc::first_n())),
        Arc::new(ScalarUDF::from(mask::MaskFunc::last_n())),
        Arc::new(ScalarUDF::from(mask::MaskFunc::show_first_n())),
        Arc::new(ScalarUDF::from(mask::MaskFunc::show_last_n())),
        Arc::new(ScalarUDF::from(mask_hash::MaskHashFunc::default())),
    ]
}
