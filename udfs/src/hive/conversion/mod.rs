//! Hive's type conversions: `CAST` as Hive casts (NULL for what does not convert, integer
//! wrap-around, seconds for timestamps, `VARCHAR(n)`/`CHAR(n)`), and the conversion functions
//! named after types.
//!
//! The engine rewrites an explicit `CAST(x AS t)` into `hive_cast(x, CAST(NULL AS t))` (the
//! NULL carries the target type), and `CAST(x AS VARCHAR(n))` / `CHAR(n)` into
//! `varchar(x, n)` / `char(x, n)`; `TRY_CAST` and implicit coercions stay DataFusion's.

mod cast;
mod cast_func;
mod char_varchar;
mod type_functions;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut out = vec![
        Arc::new(ScalarUDF::from(cast_func::HiveCastFunc::default())),
        Arc::new(ScalarUDF::from(char_varchar::CharFunc::varchar())),
        Arc::new(ScalarUDF::from(char_varchar::CharFunc::char())),
    ];
    out.extend(type_functions::all());
    out
}
