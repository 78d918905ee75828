//! `parse_url_tuple(url, p1, ..., pn)`: several parts of a URL in one pass.

use std::sync::LazyLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;
use url::Url;

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
        string_tuple_generate(
            args,
            num_rows,
            cursor,
            max_rows,
            |text| Url::parse(text).ok(),
            url_part,
        )
    }
}

/// One part of a URL, as Java's `java.net.URL` getters (which Hive uses) return it.
pub fn url_part(url: &Url, part: &str) -> Option<String> {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match part {
        "HOST" => url.host_str().map(str::to_string),
        "PATH" => Some(url.path().to_string()),
        "QUERY" => url.query().map(str::to_string),
        "REF" => url.fragment().map(str::to_string),
        "PROTOCOL" => Some(url.scheme().to_string()),
        "FILE" => Some(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }),
        "USERINFO" => {
            let user = url.username();
            match url.password() {
                Some(p) => Some(format!("{user}:{p}")),
                None => non_empty(user),
            }
        }
        "AUTHORITY" => {
            let host = url.host_str()?;
            let mut authority = String::new();
            if let Some(info) = url_part(url, "USERINFO") {
                authority.push_str(&info);
                authority.push('@');
            }
            authority.push_str(host);
            if let Some(port) = url.port() {
                authority.push_str(&format!(":{port}"));
            }
            Some(authority)
        }
        other => {
            let key = other.strip_prefix("QUERY:")?;
            // Hive returns the raw (still percent-encoded) value of the first match.
            url.query()?.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == key).then(|| v.to_string())
            })
        }
    }
}
