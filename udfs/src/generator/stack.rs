//! `stack(n, v1, ..., vk)`: k values laid out as n rows of ceil(k/n) columns.

use std::sync::LazyLock;

use datafusion::arrow::array::{ArrayRef, UInt32Array, new_null_array};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Documentation;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;

use super::{GenerateCursor, GeneratedRows, Generator, GeneratorArg, arg_error, generator_doc};

/// `stack(n, v1, ..., vk)` → columns `col0 ... col(ceil(k/n)-1)`, n rows per input row.
#[derive(Debug, Default)]
pub struct Stack;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Splits v1..vk into n rows of ceil(k/n) columns (col0, col1, ...), filling the last \
         row with NULL. n must be a constant integer >= 1.",
        "stack(n, v1, ..., vk)",
        "SELECT * FROM stack(2, 'a', 1, 'b', 2)",
    )
});

/// The constant `n` and the number of columns.
fn shape(args: &[GeneratorArg]) -> Result<(usize, usize)> {
    if args.len() < 2 {
        return Err(arg_error(
            "stack",
            format!(
                "takes at least 2 arguments (n, v1, ...), got {}",
                args.len()
            ),
        ));
    }
    let n = match &args[0].literal {
        Some(
            ScalarValue::Int8(Some(_))
            | ScalarValue::Int16(Some(_))
            | ScalarValue::Int32(Some(_))
            | ScalarValue::Int64(Some(_))
            | ScalarValue::UInt8(Some(_))
            | ScalarValue::UInt16(Some(_))
            | ScalarValue::UInt32(Some(_))
            | ScalarValue::UInt64(Some(_)),
        ) => {
            let v = args[0]
                .literal
                .as_ref()
                .and_then(|s| s.cast_to(&DataType::Int64).ok())
                .and_then(|s| match s {
                    ScalarValue::Int64(Some(v)) => Some(v),
                    _ => None,
                })
                .unwrap_or(0);
            if v < 1 {
                return Err(arg_error(
                    "stack",
                    format!("the number of rows (argument 1) must be at least 1, got {v}"),
                ));
            }
            v as usize
        }
        _ => {
            return Err(arg_error(
                "stack",
                "the number of rows (argument 1) must be a constant integer",
            ));
        }
    };
    let k = args.len() - 1;
    Ok((n, k.div_ceil(n)))
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

impl Generator for Stack {
    fn name(&self) -> &str {
        "stack"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn coerce_arguments(&self, args: &[GeneratorArg]) -> Result<Vec<DataType>> {
        let (_, cols) = shape(args)?;
        let values = &args[1..];
        let mut types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
        for c in 0..cols {
            let mut common = DataType::Null;
            for (i, v) in values.iter().enumerate().skip(c).step_by(cols) {
                // As Hive: the values of one column share a type family; a string never
                // silently becomes a number or the reverse.
                if !matches!(common, DataType::Null)
                    && !matches!(v.data_type(), DataType::Null)
                    && is_string(&common) != is_string(v.data_type())
                {
                    return Err(arg_error(
                        "stack",
                        format!(
                            "argument {} has type {} but column col{c} has type {common}",
                            i + 2,
                            v.data_type()
                        ),
                    ));
                }
                common = comparison_coercion(&common, v.data_type()).ok_or_else(|| {
                    arg_error(
                        "stack",
                        format!(
                            "argument {} has type {} but column col{c} has type {common}",
                            i + 2,
                            v.data_type()
                        ),
                    )
                })?;
            }
            for i in (c..values.len()).step_by(cols) {
                types[i + 1] = common.clone();
            }
        }
        Ok(types)
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        let (_, cols) = shape(args)?;
        Ok((0..cols)
            .map(|c| {
                let dt = args
                    .get(c + 1)
                    .map_or(DataType::Null, |a| a.data_type().clone());
                Field::new(format!("col{c}"), dt, true)
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
        let values = &args[1..];
        let k = values.len();
        // `n` was checked at plan time; read it back from the (constant) first column.
        let n = match ScalarValue::try_from_array(&args[0], 0)?.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(n)) if n >= 1 => n as usize,
            _ => 1,
        };
        let cols = k.div_ceil(n);
        // Output row (input row r, stack row i) takes column c from values[i*cols + c][r].
        let mut row_ids = Vec::new();
        let mut stack_rows = Vec::new();
        while cursor.row < num_rows && row_ids.len() < max_rows {
            row_ids.push(cursor.row as u32);
            stack_rows.push(cursor.offset);
            cursor.offset += 1;
            if cursor.offset == n {
                cursor.row += 1;
                cursor.offset = 0;
            }
        }
        let mut columns = Vec::with_capacity(cols);
        for c in 0..cols {
            let dt = values[c].data_type().clone();
            let padding = new_null_array(&dt, 1);
            let mut sources: Vec<&dyn datafusion::arrow::array::Array> =
                (c..k).step_by(cols).map(|i| values[i].as_ref()).collect();
            let pad_index = sources.len();
            sources.push(padding.as_ref());
            let indices: Vec<(usize, usize)> = row_ids
                .iter()
                .zip(&stack_rows)
                .map(|(&r, &i)| {
                    if i * cols + c < k {
                        (i, r as usize)
                    } else {
                        (pad_index, 0)
                    }
                })
                .collect();
            columns.push(interleave(&sources, &indices)?);
        }
        Ok(GeneratedRows {
            row_ids: UInt32Array::from(row_ids),
            columns,
        })
    }
}
