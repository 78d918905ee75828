//! Hive's miscellaneous functions: hashes and digests (`hash`, `murmur_hash`, `crc32`, `md5`,
//! `sha1`, `sha2`), `aes_encrypt`/`aes_decrypt`, session information (`version`,
//! `current_user`, `logged_in_user`), the XPath functions (`xpath`, `xpath_string`, ...).
//! `current_database` and `uuid` exist elsewhere (the former
//! in `hive::current_database`, the latter is DataFusion's, a random version-4 UUID as Hive's).

mod aes;
mod digest;
mod hash;
mod java_hash;
mod murmur3;
mod murmur_hash;
mod session_info;
mod sha2;
mod xpath;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut functions = vec![
        Arc::new(ScalarUDF::from(hash::HashFunc::java())),
        Arc::new(ScalarUDF::from(hash::HashFunc::murmur())),
        Arc::new(ScalarUDF::from(digest::DigestFunc::md5())),
        Arc::new(ScalarUDF::from(digest::DigestFunc::sha1())),
        Arc::new(ScalarUDF::from(digest::DigestFunc::crc32())),
        Arc::new(ScalarUDF::from(sha2::Sha2Func::default())),
        Arc::new(ScalarUDF::from(aes::AesFunc::encrypt())),
        Arc::new(ScalarUDF::from(aes::AesFunc::decrypt())),
        Arc::new(ScalarUDF::from(session_info::SessionInfoFunc::version())),
        Arc::new(ScalarUDF::from(
            session_info::SessionInfoFunc::current_user(),
        )),
        Arc::new(ScalarUDF::from(
            session_info::SessionInfoFunc::logged_in_user(),
        )),
    ];
    functions.extend(
        xpath::XPathFunc::all()
            .into_iter()
            .map(|f| Arc::new(ScalarUDF::from(f))),
    );
    functions
}
