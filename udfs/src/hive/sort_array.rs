//! `sort_array(array [, ascending])`: sorts the elements of each array, as Hive does: NULLs
//! first in ascending order, last in descending order. Elements of any comparable type sort,
//! structs (field by field) and arrays included.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array};
use datafusion::arrow::compute::{SortOptions, take};
use datafusion::arrow::datatypes::{ArrowNativeType, DataType, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{hive_arg_error, hive_doc};

/// `sort_array(array [, ascending = true])` → the same array type, sorted.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SortArrayFunc {
    signature: Signature,
}

impl Default for SortArrayFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SortArrayFunc {
    /// Creates the `sort_array` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "Sorts the elements of array in ascending order (NULLs first), or in descending order \
         (NULLs last) when ascending is false. ascending must be a constant.",
        "sort_array(array [, ascending])",
        "SELECT sort_array(array(3, NULL, 1)), sort_array(array(3, NULL, 1), false);\n\
         -- [NULL, 1, 3], [3, 1, NULL]",
    )
});

/// Sorts every list of `lists` (a `List` array) in the given direction.
fn sort_lists(lists: &ArrayRef, ascending: bool) -> Result<ArrayRef> {
    let Some(lists) = lists.as_list_opt::<i32>() else {
        return exec_err!("sort_array: argument 1 must be an array");
    };
    let elements = lists.values();
    let options = SortOptions {
        descending: !ascending,
        nulls_first: ascending,
    };
    let converter = RowConverter::new(vec![SortField::new_with_options(
        elements.data_type().clone(),
        options,
    )])?;
    let rows = converter.convert_columns(std::slice::from_ref(elements))?;
    let offsets = lists.value_offsets();
    let mut order: Vec<u32> = Vec::with_capacity(elements.len());
    for row in 0..lists.len() {
        let start = order.len();
        for j in offsets[row].as_usize()..offsets[row + 1].as_usize() {
            order.push(
                u32::try_from(j)
                    .map_err(|_| hive_arg_error("sort_array", "too many elements in one batch"))?,
            );
        }
        order[start..].sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    }
    // The sorted elements are contiguous, starting at 0: rebase the offsets.
    let first = offsets.first().copied().unwrap_or(0);
    let rebased: Vec<i32> = offsets.iter().map(|o| o - first).collect();
    let sorted = take(elements.as_ref(), &UInt32Array::from(order), None)?;
    let field = match lists.data_type() {
        DataType::List(field) => Arc::clone(field),
        other => return exec_err!("sort_array: argument 1 must be an array, got {other}"),
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        datafusion::arrow::buffer::OffsetBuffer::new(rebased.into()),
        sorted,
        lists.nulls().cloned(),
    )?))
}

/// The `ascending` argument: a constant boolean (true when absent).
fn ascending_argument(args: &[ColumnarValue]) -> Result<bool> {
    match args.get(1) {
        None => Ok(true),
        Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(ascending)))) => Ok(*ascending),
        Some(_) => exec_err!("sort_array: the second argument must be a constant boolean"),
    }
}

impl ScalarUDFImpl for SortArrayFunc {
    fn name(&self) -> &str {
        "sort_array"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (array, rest) = match arg_types {
            [array] => (array, None),
            [array, ascending] => (array, Some(ascending)),
            _ => {
                return Err(hive_arg_error(
                    self.name(),
                    format!(
                        "takes 1 or 2 arguments (array, ascending), got {}",
                        arg_types.len()
                    ),
                ));
            }
        };
        let list = match array {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                DataType::new_list(f.data_type().clone(), true)
            }
            DataType::Null => DataType::new_list(DataType::Null, true),
            other => {
                return Err(hive_arg_error(
                    self.name(),
                    format!("argument 1 must be an array, got {other}"),
                ));
            }
        };
        match rest {
            None => Ok(vec![list]),
            Some(DataType::Boolean) => Ok(vec![list, DataType::Boolean]),
            Some(other) => Err(hive_arg_error(
                self.name(),
                format!("the second argument must be a constant boolean, got {other}"),
            )),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(list @ DataType::List(_)) => Ok(list.clone()),
            _ => Err(hive_arg_error(self.name(), "argument 1 must be an array")),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.len() == 2
            && !matches!(
                args.scalar_arguments.get(1),
                Some(Some(ScalarValue::Boolean(Some(_))))
            )
        {
            return Err(hive_arg_error(
                self.name(),
                "the second argument must be a constant boolean (true or false)",
            ));
        }
        let Some(array) = args.arg_fields.first() else {
            return Err(hive_arg_error(self.name(), "argument 1 must be an array"));
        };
        let data_type = self.return_type(&[array.data_type().clone()])?;
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            data_type,
            array.is_nullable(),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ascending = ascending_argument(&args.args)?;
        match args.args.first() {
            Some(ColumnarValue::Array(lists)) => {
                Ok(ColumnarValue::Array(sort_lists(lists, ascending)?))
            }
            Some(ColumnarValue::Scalar(list)) => {
                let sorted = sort_lists(&list.to_array_of_size(1)?, ascending)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &sorted, 0,
                )?))
            }
            None => exec_err!("sort_array: takes 1 or 2 arguments"),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn int_rows(array: &ArrayRef) -> Vec<Option<Vec<Option<i32>>>> {
        let lists = array.as_list::<i32>();
        (0..lists.len())
            .map(|i| {
                lists
                    .is_valid(i)
                    .then(|| lists.value(i).as_primitive::<Int32Type>().iter().collect())
            })
            .collect()
    }

    fn sample() -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(3), None, Some(1), Some(2)]),
            None,
            Some(vec![]),
            Some(vec![Some(5), Some(-1)]),
        ]))
    }

    #[test]
    fn ascending_puts_nulls_first() {
        let sorted = sort_lists(&sample(), true).unwrap();
        assert_eq!(
            int_rows(&sorted),
            vec![
                Some(vec![None, Some(1), Some(2), Some(3)]),
                None,
                Some(vec![]),
                Some(vec![Some(-1), Some(5)]),
            ]
        );
    }

    #[test]
    fn descending_puts_nulls_last() {
        let sorted = sort_lists(&sample(), false).unwrap();
        assert_eq!(
            int_rows(&sorted)[0],
            Some(vec![Some(3), Some(2), Some(1), None])
        );
    }

    #[test]
    fn sliced_input_and_strings() {
        let sliced = sample().slice(3, 1);
        let sorted = sort_lists(&sliced, true).unwrap();
        assert_eq!(int_rows(&sorted), vec![Some(vec![Some(-1), Some(5)])]);

        let mut builder = ListBuilder::new(StringBuilder::new());
        for s in ["b", "a", "B"] {
            builder.values().append_value(s);
        }
        builder.append(true);
        let strings: ArrayRef = Arc::new(builder.finish());
        let sorted = sort_lists(&strings, true).unwrap();
        let first = sorted.as_list::<i32>().value(0);
        let first: Vec<_> = first.as_string::<i32>().iter().flatten().collect();
        assert_eq!(first, ["B", "a", "b"]);
    }

    #[test]
    fn the_direction_must_be_boolean() {
        let f = SortArrayFunc::new();
        let list = DataType::new_list(DataType::Int32, true);
        assert!(f.coerce_types(&[list.clone(), DataType::Utf8]).is_err());
        assert!(f.coerce_types(&[DataType::Int32]).is_err());
        assert_eq!(
            f.coerce_types(std::slice::from_ref(&list)).unwrap(),
            vec![list]
        );
    }
}
