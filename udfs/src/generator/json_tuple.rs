//! `json_tuple(json, k1, ..., kn)`: several top-level keys of a JSON object in one pass.

use std::sync::LazyLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, generator_doc, string_tuple_arguments,
    string_tuple_fields, string_tuple_generate,
};

/// `json_tuple(json, k1, ..., kn)` → `c0 ... c(n-1)` strings, one row per input row.
#[derive(Debug, Default)]
pub struct JsonTuple;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Reads the top-level keys k1..kn of a JSON object as strings c0, c1, ...: exactly one \
         row per input row, all NULL for NULL or invalid JSON; nested values as JSON text.",
        "json_tuple(json_string, k1, ..., kn)",
        "SELECT j.* FROM events LATERAL VIEW json_tuple(payload, 'user', 'page') j AS user, page",
    )
});

impl Generator for JsonTuple {
    fn name(&self) -> &str {
        "json_tuple"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        string_tuple_arguments("json_tuple", "json, key1, ...", args)
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
            |text| serde_json::from_str::<serde_json::Value>(text).ok(),
            |json, key| match json {
                serde_json::Value::Object(map) => match map.get(key)? {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                },
                _ => None,
            },
        )
    }
}
