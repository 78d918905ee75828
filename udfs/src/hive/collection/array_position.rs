//! Hive 4's `array_position(array, element)`: the 1-based position of element's first
//! occurrence, 0 when it is not there, NULL for a NULL array or a NULL element.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::logical_expr::binary::type_union_resolution;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, element_type, range};

/// `array_position(array, element)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ArrayPositionFunc {
    signature: Signature,
}

impl Default for ArrayPositionFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "array_position(array, element) - Returns the position of the first occurrence of \
         element in array. Array indexing starts at 1. If the element value is NULL, a NULL is \
         returned.",
        "array_position(array, element)",
        "SELECT array_position(array(1, 2, 3, 4, 2), 2); -- 2",
    )
});

impl ScalarUDFImpl for ArrayPositionFunc {
    fn name(&self) -> &str {
        "array_position"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [array, value] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                "takes 2 arguments (array, element)",
            ));
        };
        let element = element_type(self.name(), array, 1)?;
        let common = type_union_resolution(&[element.clone(), value.clone()]).ok_or_else(|| {
            hive_arg_error(
                self.name(),
                format!("cannot compare {value} with elements of {element}"),
            )
        })?;
        Ok(vec![DataType::new_list(common.clone(), true), common])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let element = args.arg_fields[1].data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            let list = as_list(&arrays[0], &element)?;
            let needles = cast(arrays[1].as_ref(), &element)?;
            let converter = RowConverter::new(vec![SortField::new(element.clone())])?;
            let values = converter.convert_columns(std::slice::from_ref(list.values()))?;
            let wanted = converter.convert_columns(std::slice::from_ref(&needles))?;
            let needle_nulls = needles.logical_nulls();
            let out: Int32Array = (0..list.len())
                .map(|row| {
                    if list.is_null(row) || needle_nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                        return None;
                    }
                    let elements = range(&list, row);
                    let start = elements.start;
                    let found = elements
                        .into_iter()
                        .find(|&j| values.row(j) == wanted.row(row))
                        .map_or(0, |j| (j - start + 1) as i32);
                    Some(found)
                })
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
