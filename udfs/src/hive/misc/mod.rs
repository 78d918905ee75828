//! Hive's miscellaneous functions: hashes and digests (`hash`, `crc32`, `md5`, `sha1`, `sha2`), `aes_encrypt`/`aes_decrypt`, `xpath`, session information.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    Vec::new()
}
