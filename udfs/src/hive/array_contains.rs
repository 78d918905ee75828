//! `array_contains(array, value)`: whether an array has an element equal to value.
//!
//! DataFusion's `array_contains` is an alias of `array_has`, which returns NULL when the
//! value is NULL. Here, as in Hive, NULL elements never match and a NULL value gives false;
//! a NULL array gives false (Hive checks the list's size, -1 for NULL). Elements of any
//! comparable type match, structs and arrays included (floating point values compare by
//! their total order: NaN equals NaN).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{ArrowNativeType, DataType};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::binary::type_union_resolution;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `array_contains(array, value)` → `boolean`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayContainsFunc {
    signature: Signature,
}

impl Default for ArrayContainsFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ArrayContainsFunc {
    /// Creates the `array_contains` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "Returns true if array has an element equal to value. NULL elements never match and \
         a NULL value or a NULL array gives false.",
        "array_contains(array, value)",
        "SELECT array_contains(array(1, 2, 3), 2), array_contains(array('a'), 'b');\n-- true, false",
    )
});

/// Row `i` of the result: does `lists[i]` contain `needles[i]`?
fn contains(lists: &ArrayRef, needles: &ArrayRef) -> Result<ArrayRef> {
    let Some(lists) = lists.as_list_opt::<i32>() else {
        return exec_err!("array_contains: argument 1 must be an array");
    };
    let elements = lists.values();
    let needles = cast(needles, elements.data_type())?;
    let converter = RowConverter::new(vec![SortField::new(elements.data_type().clone())])?;
    let element_rows = converter.convert_columns(std::slice::from_ref(elements))?;
    let needle_rows = converter.convert_columns(std::slice::from_ref(&needles))?;
    let offsets = lists.value_offsets();
    // Logical nulls: an array of the Null type has no null buffer, yet every value is NULL.
    let element_nulls = elements.logical_nulls();
    let needle_nulls = needles.logical_nulls();
    let found: BooleanArray = (0..lists.len())
        .map(|row| {
            if lists.is_null(row) {
                return Some(false);
            }
            if needle_nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                return Some(false);
            }
            let needle = needle_rows.row(row);
            let mut range = offsets[row].as_usize()..offsets[row + 1].as_usize();
            Some(range.any(|j| {
                element_nulls.as_ref().is_none_or(|n| n.is_valid(j))
                    && element_rows.row(j) == needle
            }))
        })
        .collect();
    Ok(Arc::new(found))
}

impl ScalarUDFImpl for ArrayContainsFunc {
    fn name(&self) -> &str {
        "array_contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [array, value] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!("takes 2 arguments (array, value), got {}", arg_types.len()),
            ));
        };
        let element = match array {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                f.data_type().clone()
            }
            DataType::Null => value.clone(),
            other => {
                return Err(hive_arg_error(
                    self.name(),
                    format!("argument 1 must be an array, got {other}"),
                ));
            }
        };
        let common = type_union_resolution(&[element.clone(), value.clone()]).ok_or_else(|| {
            hive_arg_error(
                self.name(),
                format!("cannot look for a value of type {value} in an array of {element}"),
            )
        })?;
        Ok(vec![DataType::new_list(common.clone(), true), common])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |columns| match columns {
            [lists, needles] => contains(lists, needles),
            _ => exec_err!("array_contains: takes 2 arguments"),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{Float64Array, Int32Array, ListArray};
    use datafusion::arrow::datatypes::{Float64Type, Int32Type};

    use super::*;

    #[test]
    fn hive_null_rules() {
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            Some(vec![Some(1), None]),
            None,
            Some(vec![None]),
            Some(vec![]),
        ]));
        let needles: ArrayRef = Arc::new(Int32Array::from(vec![
            Some(3),
            Some(2),
            Some(1),
            None,
            Some(1),
        ]));
        let out = contains(&lists, &needles).unwrap();
        assert_eq!(
            out.as_boolean().iter().collect::<Vec<_>>(),
            vec![
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
    }

    #[test]
    fn nan_matches_nan() {
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(f64::NAN), Some(1.5)]),
        ]));
        let needles: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN]));
        let out = contains(&lists, &needles).unwrap();
        assert!(out.as_boolean().value(0));
    }

    #[test]
    fn coercion_and_type_errors() {
        let f = ArrayContainsFunc::new();
        let list = DataType::new_list(DataType::Int32, true);
        let types = f.coerce_types(&[list, DataType::Int64]).unwrap();
        assert_eq!(
            types,
            vec![DataType::new_list(DataType::Int64, true), DataType::Int64]
        );
        let err = f
            .coerce_types(&[DataType::Int32, DataType::Int32])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("array_contains: argument 1 must be an array"),
            "{err}"
        );
    }
}
