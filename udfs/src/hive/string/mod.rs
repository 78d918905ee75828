//! Hive's string functions (`regexp_replace`, `regexp_extract`, `locate`, `instr`, `translate`, `format_number`, `printf`, `sentences`, ...) with Java's regular expressions and formats.

mod case;
mod codec;
mod format_number;
pub(crate) mod java_regex;
pub(crate) mod java_url;
mod like;
mod measure;
mod parse_url;
mod printf;
mod regexp;
mod row_fn;
mod search;
mod sentences;
mod shape;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    [
        regexp::functions(),
        case::functions(),
        search::functions(),
        shape::functions(),
        measure::functions(),
        codec::functions(),
        format_number::functions(),
        printf::functions(),
        parse_url::functions(),
        like::functions(),
        sentences::functions(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
