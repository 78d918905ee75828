//! What the array functions share: the element type of an array argument, and building a list
//! column from picked elements.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, new_empty_array};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{cast, interleave};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;

use super::super::hive_arg_error;

/// The element type of an array type (`Null` for an untyped NULL), or an error naming `name`.
pub(super) fn element_type(name: &str, t: &DataType, position: usize) -> Result<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(f.data_type().clone())
        }
        DataType::Null => Ok(DataType::Null),
        other => Err(hive_arg_error(
            name,
            format!("argument {position} must be an array, got {other}"),
        )),
    }
}

/// An array column as a `ListArray` (i32 offsets) of `element` values.
pub(super) fn as_list(values: &ArrayRef, element: &DataType) -> Result<ListArray> {
    let target = DataType::new_list(element.clone(), true);
    let list = cast(values.as_ref(), &target)?;
    Ok(list.as_list::<i32>().clone())
}

/// A list column whose row i holds the elements `picks[i]` (each `(source, index)` into
/// `sources`), NULL where `picks[i]` is None.
pub(super) fn build_list(
    element: &DataType,
    sources: &[&dyn Array],
    picks: Vec<Option<Vec<(usize, usize)>>>,
) -> Result<ArrayRef> {
    let mut offsets = Vec::with_capacity(picks.len() + 1);
    offsets.push(0i32);
    let mut all = Vec::new();
    let mut valid = Vec::with_capacity(picks.len());
    for row in picks {
        valid.push(row.is_some());
        if let Some(row) = row {
            all.extend(row);
        }
        let n =
            i32::try_from(all.len()).map_err(|_| hive_arg_error("array", "result too large"))?;
        offsets.push(n);
    }
    let values = if all.is_empty() {
        new_empty_array(element)
    } else {
        interleave(sources, &all)?
    };
    let field = Arc::new(Field::new_list_field(element.clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        values,
        Some(NullBuffer::from(valid)),
    )?))
}

/// The element index range of row `row` of `list`.
pub(super) fn range(list: &ListArray, row: usize) -> std::ops::Range<usize> {
    let offsets = list.value_offsets();
    offsets[row] as usize..offsets[row + 1] as usize
}
