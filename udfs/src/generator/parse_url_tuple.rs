//! `parse_url_tuple(url, p1, ..., pn)`: several parts of a URL in one pass.

use std::sync::LazyLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use crate::hive::string::java_url::JavaUrl;

use super::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, generator_doc, string_tuple_arguments,
    string_tuple_fields, string_tuple_generate,
};

/// `parse_url_tuple(url, p1, ..., pn)` → `c0 ... c(n-1)` strings, one row per input row.
#[derive(Debug, Default)]
pub struct ParseUrlTuple;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Extracts parts of a URL as strings c0, c1, ...: HOST, PATH, QUERY, QUERY:<key>, REF, \
         PROTOCOL, AUTHORITY, FILE, USERINFO. One row per input row; NULL for a missing part \
         or an invalid URL.",
        "parse_url_tuple(url, part1, ..., partn)",
        "SELECT u.* FROM events LATERAL VIEW parse_url_tuple(url, 'HOST', 'PATH', 'QUERY:id') u AS host, path, id",
    )
});

impl Generator for ParseUrlTuple {
    fn name(&self) -> &str {
        "parse_url_tuple"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        string_tuple_arguments("parse_url_tuple", "url, part1, ...", args)
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        Ok(string_tuple_fields(args))
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        string_tuple_generate(args, num_rows, cursor, max_rows, JavaUrl::parse, url_part)
    }
}

/// One part of a URL, as Java's `java.net.URL` getters (which Hive uses) return it;
/// `QUERY:<key>` is the value of `key` in the query, matched as Hive matches it.
pub fn url_part(url: &JavaUrl, part: &str) -> Option<String> {
    match part.strip_prefix("QUERY:") {
        Some(key) => url.query_value("parse_url_tuple", key).ok().flatten(),
        None => url.part(part),
    }
}
