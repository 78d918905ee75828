//! `size(array | map)`: the number of elements, -1 for NULL (DataFusion's `cardinality`
//! returns an unsigned count and NULL for NULL).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `size(array | map)` → `int`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SizeFunc {
    signature: Signature,
}

impl Default for SizeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SizeFunc {
    /// Creates the `size` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "Returns the number of elements of an array or entries of a map, or -1 if it is NULL.",
        "size(array | map)",
        "SELECT size(array(1, 2, 3)), size(map('a', 1)), size(CAST(NULL AS INT[]));\n-- 3, 1, -1",
    )
});

/// Element counts of a list-like or map column, -1 for NULL rows.
fn sizes(collection: &ArrayRef) -> Result<ArrayRef> {
    let counts: Int32Array = match collection.data_type() {
        DataType::List(_) => {
            let lists = collection.as_list::<i32>();
            (0..lists.len())
                .map(|i| {
                    Some(if lists.is_null(i) {
                        -1
                    } else {
                        lists.value_length(i)
                    })
                })
                .collect()
        }
        DataType::LargeList(_) => {
            let lists = collection.as_list::<i64>();
            (0..lists.len())
                .map(|i| {
                    if lists.is_null(i) {
                        Ok(Some(-1))
                    } else {
                        i32::try_from(lists.value_length(i))
                            .map(Some)
                            .map_err(|_| hive_arg_error("size", "array too large"))
                    }
                })
                .collect::<Result<_>>()?
        }
        DataType::FixedSizeList(_, width) => {
            let lists = collection.as_fixed_size_list();
            (0..lists.len())
                .map(|i| Some(if lists.is_null(i) { -1 } else { *width }))
                .collect()
        }
        DataType::Map(_, _) => {
            let maps = collection.as_map();
            let offsets = maps.value_offsets();
            (0..maps.len())
                .map(|i| {
                    Some(if maps.is_null(i) {
                        -1
                    } else {
                        offsets[i + 1] - offsets[i]
                    })
                })
                .collect()
        }
        DataType::Null => std::iter::repeat_n(Some(-1), collection.len()).collect(),
        other => return exec_err!("size: argument must be an array or a map, got {other}"),
    };
    Ok(Arc::new(counts))
}

impl ScalarUDFImpl for SizeFunc {
    fn name(&self) -> &str {
        "size"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [arg] = args.arg_fields else {
            return Err(hive_arg_error(self.name(), "takes exactly one argument"));
        };
        match arg.data_type() {
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Map(_, _)
            | DataType::Null => Ok(Arc::new(Field::new(self.name(), DataType::Int32, false))),
            other => Err(hive_arg_error(
                self.name(),
                format!("argument must be an array or a map, got {other}"),
            )),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| match arrays {
            [collection] => sizes(collection),
            _ => Err(hive_arg_error("size", "takes exactly one argument")),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{ListArray, MapBuilder, NullArray, StringBuilder};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn values(array: ArrayRef) -> Vec<i32> {
        array.as_primitive::<Int32Type>().values().to_vec()
    }

    #[test]
    fn arrays_count_elements_and_null_is_minus_one() {
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
            Some(vec![]),
        ]));
        assert_eq!(values(sizes(&lists).unwrap()), [3, -1, 0]);
    }

    #[test]
    fn maps_count_entries() {
        let mut builder = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        builder.keys().append_value("a");
        builder.values().append_value("1");
        builder.keys().append_value("b");
        builder.values().append_null();
        builder.append(true).unwrap();
        builder.append(false).unwrap();
        let maps: ArrayRef = Arc::new(builder.finish());
        assert_eq!(values(sizes(&maps).unwrap()), [2, -1]);
    }

    #[test]
    fn bare_null_and_wrong_types() {
        let nulls: ArrayRef = Arc::new(NullArray::new(2));
        assert_eq!(values(sizes(&nulls).unwrap()), [-1, -1]);
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        let err = sizes(&ints).unwrap_err().to_string();
        assert!(
            err.contains("size: argument must be an array or a map"),
            "{err}"
        );
    }
}
