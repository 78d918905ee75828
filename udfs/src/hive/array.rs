//! `array(v1, …)`: Hive's array constructor.
//!
//! DataFusion spells it `make_array`; Hive also allows `array()`, an empty `array<string>`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, ListArray, new_empty_array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::binary::type_union_resolution;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `array(v1, v2, …)` → `array<T>` where `T` is the common type of the values.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayFunc {
    signature: Signature,
}

impl Default for ArrayFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ArrayFunc {
    /// Creates the `array` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "Returns an array of the given values, coerced to their common type. \
         NULL values become NULL elements; `array()` is an empty array of strings.",
        "array(value1, value2, ...)",
        "SELECT array(1, 2, NULL);\n-- [1, 2, NULL]",
    )
});

/// The type that values of these types are converted to when they meet in one array, map
/// or conditional. As in Hive, primitive values that meet a string become strings
/// (`array(1, 'a')` is `["1", "a"]`; DataFusion would try to turn 'a' into a number);
/// otherwise DataFusion's union coercion decides.
pub(crate) fn hive_common_type(arg_types: &[DataType]) -> Option<DataType> {
    let is_string =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let mixes_strings =
        arg_types.iter().any(is_string) && arg_types.iter().any(|t| !is_string(t) && !t.is_null());
    if mixes_strings && arg_types.iter().all(|t| !t.is_nested()) {
        return Some(DataType::Utf8);
    }
    type_union_resolution(arg_types)
}

/// The element type of `array(...)` over arguments of these types.
pub(crate) fn common_element_type(name: &str, arg_types: &[DataType]) -> Result<DataType> {
    if arg_types.is_empty() {
        return Ok(DataType::Utf8);
    }
    hive_common_type(arg_types).ok_or_else(|| {
        let listed: Vec<String> = arg_types.iter().map(|t| t.to_string()).collect();
        hive_arg_error(
            name,
            format!("arguments have no common type: {}", listed.join(", ")),
        )
    })
}

/// Builds a list array whose row `i` holds `columns[0][i], columns[1][i], …`.
/// All columns must have the same type and length (at least one column).
pub(crate) fn zip_into_lists(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let Some(first) = columns.first() else {
        return Err(hive_arg_error("array", "needs at least one column to zip"));
    };
    let rows = first.len();
    let width = columns.len();
    let indices: Vec<(usize, usize)> = (0..rows)
        .flat_map(|row| (0..width).map(move |col| (col, row)))
        .collect();
    let sources: Vec<&dyn Array> = columns.iter().map(|c| c.as_ref()).collect();
    let values = interleave(&sources, &indices)?;
    let field = Arc::new(Field::new_list_field(first.data_type().clone(), true));
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(width, rows));
    Ok(Arc::new(ListArray::try_new(field, offsets, values, None)?))
}

impl ScalarUDFImpl for ArrayFunc {
    fn name(&self) -> &str {
        "array"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return Ok(vec![]);
        }
        let common = common_element_type(self.name(), arg_types)?;
        Ok(vec![common; arg_types.len()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let element = common_element_type(self.name(), arg_types)?;
        Ok(DataType::new_list(element, true))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.is_empty() {
            let empty = new_empty_array(&DataType::Utf8);
            return Ok(ColumnarValue::Scalar(ScalarValue::List(Arc::new(
                ListArray::try_new(
                    Arc::new(Field::new_list_field(DataType::Utf8, true)),
                    OffsetBuffer::from_lengths([0]),
                    empty,
                    None,
                )?,
            ))));
        }
        evaluate_rowwise(&args.args, zip_into_lists)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn zips_columns_row_by_row() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(10), Some(20), None]));
        let lists = zip_into_lists(&[a, b]).unwrap();
        let lists = lists.as_list::<i32>();
        assert_eq!(lists.len(), 3);
        let row1 = lists.value(1);
        let row1 = row1.as_primitive::<Int64Type>();
        assert!(row1.is_null(0));
        assert_eq!(row1.value(1), 20);
        assert_eq!(lists.value(2).len(), 2);
    }

    #[test]
    fn strings_and_nulls_share_a_type() {
        let types = [DataType::Utf8, DataType::Null];
        assert_eq!(
            common_element_type("array", &types).unwrap(),
            DataType::Utf8
        );
        let types = [DataType::Int64, DataType::Utf8];
        assert_eq!(
            common_element_type("array", &types).unwrap(),
            DataType::Utf8
        );
        assert_eq!(common_element_type("array", &[]).unwrap(), DataType::Utf8);
        let s: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let lists = zip_into_lists(&[s.clone(), s]).unwrap();
        assert_eq!(lists.as_list::<i32>().value(0).len(), 2);
    }

    #[test]
    fn mixed_categories_are_a_plan_error() {
        let err = common_element_type("array", &[DataType::Int64, DataType::Boolean])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("array: arguments have no common type"),
            "{err}"
        );
    }
}
