//! `replicate_rows(n, v1, ..., vk)`: Hive 3's UDTF that repeats its arguments n times.

use std::sync::LazyLock;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::{GenerateCursor, GeneratedRows, Generator, GeneratorArg, arg_error, generator_doc};

/// `replicate_rows(n, v1, ..., vk)` → columns `col0` (n) and `col1 ... colk` (the values),
/// n rows per input row.
#[derive(Debug, Default)]
pub struct ReplicateRows;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Turns one row into n rows: each is (n, v1, ..., vk), as columns col0, col1, ... \
         A NULL, zero or negative n gives no rows.",
        "replicate_rows(n, v1, ..., vk)",
        "SELECT * FROM replicate_rows(2, 'a', 1)",
    )
});

impl Generator for ReplicateRows {
    fn name(&self) -> &str {
        "replicate_rows"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        if args.len() < 2 {
            return Err(arg_error(
                "replicate_rows",
                format!(
                    "takes at least 2 arguments (n, v1, ...), got {}",
                    args.len()
                ),
            ));
        }
        let n = args[0].data_type();
        if !(n.is_integer() || n == &DataType::Null) {
            return Err(arg_error(
                "replicate_rows",
                format!("the first argument (the number of rows) must be an integer, got {n}"),
            ));
        }
        let mut types = vec![DataType::Int64];
        types.extend(args[1..].iter().map(|a| a.data_type().clone()));
        Ok(types)
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        Ok(args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let data_type = if i == 0 {
                    DataType::Int64
                } else {
                    a.data_type().clone()
                };
                Field::new(format!("col{i}"), data_type, true)
            })
            .collect())
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let Some(first) = args.first() else {
            return Err(arg_error("replicate_rows", "no arguments"));
        };
        let counts = cast(first, &DataType::Int64)?;
        let counts = counts.as_primitive::<Int64Type>();
        let max_rows = max_rows.max(1);
        let mut ids: Vec<u32> = Vec::new();
        while cursor.row < num_rows && ids.len() < max_rows {
            let n = if counts.is_valid(cursor.row) {
                usize::try_from(counts.value(cursor.row)).unwrap_or(0)
            } else {
                0
            };
            let left = n.saturating_sub(cursor.offset);
            let now = left.min(max_rows - ids.len());
            let row = u32::try_from(cursor.row)
                .map_err(|_| arg_error("replicate_rows", "batch too large"))?;
            ids.extend(std::iter::repeat_n(row, now));
            if now == left {
                cursor.row += 1;
                cursor.offset = 0;
            } else {
                cursor.offset += now;
            }
        }
        let row_ids = UInt32Array::from(ids);
        let mut columns = Vec::with_capacity(args.len());
        columns.push(take(counts, &row_ids, None)?);
        for a in &args[1..] {
            columns.push(take(a.as_ref(), &row_ids, None)?);
        }
        Ok(GeneratedRows { row_ids, columns })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};

    use super::*;

    #[test]
    fn repeats_each_row_n_times_in_bounded_chunks() {
        let args: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![
                Some(3),
                None,
                Some(0),
                Some(-1),
                Some(2),
            ])),
            Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"])),
        ];
        let mut cursor = GenerateCursor::default();
        let mut ids = Vec::new();
        let mut words = Vec::new();
        while cursor.row < 5 {
            let chunk = ReplicateRows.generate(&args, 5, &mut cursor, 2).unwrap();
            assert!(chunk.row_ids.len() <= 2);
            ids.extend(chunk.row_ids.values().iter().copied());
            let col1 = chunk.columns[1].as_string::<i32>();
            words.extend(col1.iter().map(|w| w.unwrap().to_string()));
        }
        assert_eq!(ids, [0, 0, 0, 4, 4]);
        assert_eq!(words, ["a", "a", "a", "e", "e"]);
    }
}
