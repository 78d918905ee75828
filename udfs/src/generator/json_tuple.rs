//! `json_tuple(json, k1, ..., kn)`: several top-level keys of a JSON object in one pass.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::Documentation;

use super::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, generator_doc, one_row_each,
    string_tuple_arguments, string_tuple_fields, utf8,
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
        let (row_ids, rows) = one_row_each(num_rows, cursor, max_rows);
        let args = args.iter().map(utf8).collect::<Result<Vec<_>>>()?;
        let json = as_string_array(&args[0])?;
        let keys = args[1..]
            .iter()
            .map(|a| as_string_array(a))
            .collect::<Result<Vec<_>>>()?;
        let mut builders: Vec<StringBuilder> = keys.iter().map(|_| StringBuilder::new()).collect();
        for r in rows {
            let parsed = if json.is_valid(r) {
                serde_json::from_str::<serde_json::Value>(json.value(r)).ok()
            } else {
                None
            };
            for (b, k) in builders.iter_mut().zip(&keys) {
                let value = match (&parsed, k.is_valid(r)) {
                    (Some(serde_json::Value::Object(map)), true) => map.get(k.value(r)),
                    _ => None,
                };
                match value {
                    None | Some(serde_json::Value::Null) => b.append_null(),
                    Some(serde_json::Value::String(s)) => b.append_value(s),
                    Some(other) => b.append_value(other.to_string()),
                }
            }
        }
        Ok(GeneratedRows {
            row_ids,
            columns: builders
                .into_iter()
                .map(|mut b| Arc::new(b.finish()) as ArrayRef)
                .collect(),
        })
    }
}
