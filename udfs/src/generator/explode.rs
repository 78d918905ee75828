//! `explode` and `posexplode`: one row per element of an array, or per entry of a map.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, UInt32Array, UInt64Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::Documentation;

use super::{GenerateCursor, GeneratedRows, Generator, GeneratorArg, arg_error, generator_doc};

/// `explode(array)` → `col`; `explode(map)` → `key`, `value`.
#[derive(Debug, Default)]
pub struct Explode;

/// `posexplode(array)` → `pos`, `val`; `posexplode(map)` → `pos`, `key`, `value`.
#[derive(Debug, Default)]
pub struct PosExplode;

static EXPLODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Returns one row per element of an array (column `col`) or per entry of a map \
         (columns `key`, `value`). A NULL or empty input yields no rows; NULL elements yield rows.",
        "explode(array | map)",
        "SELECT id, x FROM t LATERAL VIEW explode(array(1, 2, 3)) v AS x",
    )
});

static POSEXPLODE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    generator_doc(
        "Like explode, with the 0-based position of each element first: \
         `pos`, `val` for an array; `pos`, `key`, `value` for a map.",
        "posexplode(array | map)",
        "SELECT pos, val FROM t LATERAL VIEW posexplode(array('a', 'b')) v AS pos, val",
    )
});

/// The fields produced by exploding a collection of this type (without the position).
fn element_fields(name: &str, args: &[GeneratorArg]) -> Result<Vec<Field>> {
    let [arg] = args else {
        return Err(arg_error(
            name,
            format!(
                "takes exactly one argument (an array or a map), got {}",
                args.len()
            ),
        ));
    };
    match arg.data_type() {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(vec![Field::new(
                if name == "posexplode" { "val" } else { "col" },
                f.data_type().clone(),
                true,
            )])
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Ok(vec![
                Field::new("key", kv[0].data_type().clone(), true),
                Field::new("value", kv[1].data_type().clone(), true),
            ]),
            other => exec_err!("{name}: malformed map entries type {other}"),
        },
        other => Err(arg_error(
            name,
            format!("argument 1 must be an array or a map, got {other}"),
        )),
    }
}

impl Generator for Explode {
    fn name(&self) -> &str {
        "explode"
    }

    fn documentation(&self) -> &Documentation {
        &EXPLODE_DOC
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        element_fields("explode", args)
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let spans = Spans::collect(&args[0], num_rows, cursor, max_rows)?;
        let columns = spans.element_columns(&args[0])?;
        Ok(GeneratedRows {
            row_ids: spans.row_ids(),
            columns,
        })
    }
}

impl Generator for PosExplode {
    fn name(&self) -> &str {
        "posexplode"
    }

    fn documentation(&self) -> &Documentation {
        &POSEXPLODE_DOC
    }

    fn output_fields(&self, args: &[GeneratorArg]) -> Result<Vec<Field>> {
        let mut fields = vec![Field::new("pos", DataType::Int32, true)];
        fields.extend(element_fields("posexplode", args)?);
        Ok(fields)
    }

    fn generate(
        &self,
        args: &[ArrayRef],
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<GeneratedRows> {
        let spans = Spans::collect(&args[0], num_rows, cursor, max_rows)?;
        let mut columns = vec![spans.positions()];
        columns.extend(spans.element_columns(&args[0])?);
        Ok(GeneratedRows {
            row_ids: spans.row_ids(),
            columns,
        })
    }
}

/// The element ranges of one chunk: for each input row that contributes, which slice of
/// the collection's child values goes out, and at which position inside the row it starts.
struct Spans {
    /// (input row, first child index, end child index, position of the first element)
    spans: Vec<(u32, usize, usize, usize)>,
    total: usize,
}

impl Spans {
    fn collect(
        array: &ArrayRef,
        num_rows: usize,
        cursor: &mut GenerateCursor,
        max_rows: usize,
    ) -> Result<Self> {
        let bounds: Box<dyn Fn(usize) -> (usize, usize)> = match array.data_type() {
            DataType::List(_) => {
                let offsets = array.as_list::<i32>().offsets().clone();
                Box::new(move |r| (offsets[r] as usize, offsets[r + 1] as usize))
            }
            DataType::LargeList(_) => {
                let offsets = array.as_list::<i64>().offsets().clone();
                Box::new(move |r| (offsets[r] as usize, offsets[r + 1] as usize))
            }
            DataType::FixedSizeList(_, size) => {
                let size = *size as usize;
                let fsl = array.as_fixed_size_list().clone();
                Box::new(move |r| {
                    let start = fsl.value_offset(r) as usize;
                    (start, start + size)
                })
            }
            DataType::Map(_, _) => {
                let offsets = array.as_map().offsets().clone();
                Box::new(move |r| (offsets[r] as usize, offsets[r + 1] as usize))
            }
            DataType::Null => {
                cursor.row = num_rows;
                cursor.offset = 0;
                return Ok(Self {
                    spans: vec![],
                    total: 0,
                });
            }
            other => return exec_err!("explode: cannot explode a value of type {other}"),
        };
        let mut spans = Vec::new();
        let mut total = 0;
        while cursor.row < num_rows && total < max_rows {
            let row = cursor.row;
            if array.is_valid(row) {
                let (start, end) = bounds(row);
                let first = start + cursor.offset;
                let take = (end - first).min(max_rows - total);
                if take > 0 {
                    spans.push((row as u32, first, first + take, cursor.offset));
                    total += take;
                }
                if first + take < end {
                    cursor.offset += take;
                    break;
                }
            }
            cursor.row += 1;
            cursor.offset = 0;
        }
        Ok(Self { spans, total })
    }

    fn row_ids(&self) -> UInt32Array {
        let mut ids = Vec::with_capacity(self.total);
        for &(row, start, end, _) in &self.spans {
            ids.extend(std::iter::repeat_n(row, end - start));
        }
        UInt32Array::from(ids)
    }

    fn positions(&self) -> ArrayRef {
        let mut pos = Vec::with_capacity(self.total);
        for &(_, start, end, first) in &self.spans {
            pos.extend((first..first + (end - start)).map(|p| p as i32));
        }
        Arc::new(Int32Array::from(pos))
    }

    /// The child values of the spans: a zero-copy slice when they are contiguous.
    fn gather(&self, values: &ArrayRef) -> Result<ArrayRef> {
        let contiguous = self.spans.windows(2).all(|w| w[0].2 == w[1].1);
        if contiguous {
            let start = self.spans.first().map_or(0, |s| s.1);
            return Ok(values.slice(start, self.total));
        }
        let mut idx = Vec::with_capacity(self.total);
        for &(_, start, end, _) in &self.spans {
            idx.extend((start..end).map(|i| i as u64));
        }
        Ok(take(values.as_ref(), &UInt64Array::from(idx), None)?)
    }

    fn element_columns(&self, array: &ArrayRef) -> Result<Vec<ArrayRef>> {
        Ok(match array.data_type() {
            DataType::List(_) => vec![self.gather(array.as_list::<i32>().values())?],
            DataType::LargeList(_) => vec![self.gather(array.as_list::<i64>().values())?],
            DataType::FixedSizeList(_, _) => {
                vec![self.gather(array.as_fixed_size_list().values())?]
            }
            DataType::Map(_, _) => {
                let entries = array.as_map().entries();
                vec![
                    self.gather(entries.column(0))?,
                    self.gather(entries.column(1))?,
                ]
            }
            _ => vec![datafusion::arrow::array::new_null_array(&DataType::Null, 0)],
        })
    }
}
