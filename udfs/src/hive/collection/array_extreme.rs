//! Hive 4's `array_max(array)` and `array_min(array)`: the largest (smallest) non-NULL
//! element; NULL for a NULL or empty array (or one of NULLs only).

use datafusion::arrow::array::{Array, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, element_type, range};

/// `array_max(array)` or `array_min(array)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ArrayExtremeFunc {
    largest: bool,
    signature: Signature,
    doc: Documentation,
}

impl ArrayExtremeFunc {
    /// `array_max(array)`.
    pub(super) fn max() -> Self {
        Self::new(
            true,
            "array_max(array(obj1, obj2,...)) - The function returns the maximum value in array with elements for which order is supported",
            "SELECT array_max(array(1, 3, 0, NULL)); -- 3",
        )
    }

    /// `array_min(array)`.
    pub(super) fn min() -> Self {
        Self::new(
            false,
            "array_min(array(obj1, obj2,...)) - The function returns the minimum value in array with elements for which order is supported",
            "SELECT array_min(array(1, 3, 0, NULL)); -- 0",
        )
    }

    fn new(largest: bool, description: &str, example: &str) -> Self {
        let syntax = if largest {
            "array_max(array)"
        } else {
            "array_min(array)"
        };
        Self {
            largest,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_ARRAY, description, syntax, example),
        }
    }
}

impl ScalarUDFImpl for ArrayExtremeFunc {
    fn name(&self) -> &str {
        if self.largest {
            "array_max"
        } else {
            "array_min"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [array] = arg_types else {
            return Err(hive_arg_error(self.name(), "takes exactly one argument"));
        };
        let element = element_type(self.name(), array, 1)?;
        Ok(vec![DataType::new_list(element, true)])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        element_type(self.name(), arg_types.first().unwrap_or(&DataType::Null), 1)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let largest = self.largest;
        let element = args.return_field.data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            let list = as_list(&arrays[0], &element)?;
            let values = list.values();
            let converter = RowConverter::new(vec![SortField::new(element.clone())])?;
            let rows = converter.convert_columns(std::slice::from_ref(values))?;
            let nulls = values.logical_nulls();
            let picks: UInt32Array = (0..list.len())
                .map(|row| {
                    if list.is_null(row) {
                        return None;
                    }
                    let valid =
                        range(&list, row).filter(|&j| nulls.as_ref().is_none_or(|n| n.is_valid(j)));
                    let best = if largest {
                        valid.max_by(|&a, &b| rows.row(a).cmp(&rows.row(b)))
                    } else {
                        valid.min_by(|&a, &b| rows.row(a).cmp(&rows.row(b)))
                    };
                    best.map(|j| j as u32)
                })
                .collect();
            Ok(take(values.as_ref(), &picks, None)?)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
