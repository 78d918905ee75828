//! `inline(array<struct>)`: one row per struct, one column per struct field.

use std::sync::LazyLock;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::Documentation;

use super::{
    Explode, GenerateCursor, GeneratedRows, Generator, GeneratorArg, arg_error, generator_doc,
};

/// `inline(array<struct>)` → the struct's fields as columns.
#[derive(Debug, Default)]
pub struct Inline;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Explodes an array of structs into one row per struct and one column per field \
         (the fields' own names; `struct(...)` names them col1, col2, ...).",
        "inline(array<struct>)",
        "SELECT * FROM inline(array(named_struct('a', 1, 'b', 'x'), named_struct('a', 2, 'b', 'y')))",
    )
});

impl Generator for Inline {
    fn name(&self) -> &str {
        "inline"
    }

    fn documentation(&self) -> &Documentation {
        &DOC
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        let [arg] = args else {
            return Err(arg_error(
                "inline",
                format!(
                    "takes exactly one argument (an array of structs), got {}",
                    args.len()
                ),
            ));
        };
        let element = match arg.data_type() {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                f.data_type().clone()
            }
            other => {
                return Err(arg_error(
                    "inline",
                    format!("argument 1 must be an array of structs, got {other}"),
                ));
            }
        };
        match element {
            DataType::Struct(fields) => Ok(fields
                .iter()
                .map(|f| Field::new(f.name(), f.data_type().clone(), true))
                .collect()),
            other => Err(arg_error(
                "inline",
                format!("argument 1 must be an array of structs, got an array of {other}"),
            )),
        }
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let exploded = Explode.generate(args, num_rows, cursor, max_rows)?;
        let Some(structs) = exploded.columns.first() else {
            return exec_err!("inline: no struct column produced");
        };
        let structs = structs.as_struct();
        // A NULL struct element yields a row of NULL fields (as in Hive).
        let columns = match structs.nulls() {
            None => structs.columns().to_vec(),
            Some(nulls) => structs
                .columns()
                .iter()
                .map(|c| with_extra_nulls(c, nulls))
                .collect::<Result<_>>()?,
        };
        Ok(GeneratedRows {
            row_ids: exploded.row_ids,
            columns,
        })
    }
}

fn with_extra_nulls(
    column: &ArrayRef,
    nulls: &datafusion::arrow::buffer::NullBuffer,
) -> Result<ArrayRef> {
    let mask = datafusion::arrow::array::BooleanArray::new(nulls.inner().clone(), None);
    Ok(datafusion::arrow::compute::nullif(
        column.as_ref(),
        &datafusion::arrow::compute::not(&mask)?,
    )?)
}
