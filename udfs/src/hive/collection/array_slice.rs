//! Hive 4's `array_slice(array, start, length)`: `length` elements from the 0-based `start`;
//! empty when `start + length` is past the end (DataFusion's takes 1-based inclusive bounds).

use std::sync::LazyLock;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, build_list, element_type, range};

/// `array_slice(array, start, length)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ArraySliceFunc {
    signature: Signature,
}

impl Default for ArraySliceFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "array_slice(array, start, length) - Returns the subset or range of elements from an \
         array (subarray); start is 0-based",
        "array_slice(array, start, length)",
        "SELECT array_slice(array(1, 2, 3, 4), 2, 2); -- [3, 4]",
    )
});

impl ScalarUDFImpl for ArraySliceFunc {
    fn name(&self) -> &str {
        "array_slice"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [array, start, length] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                "takes 3 arguments (array, start, length)",
            ));
        };
        let element = element_type(self.name(), array, 1)?;
        for t in [start, length] {
            if !(t.is_integer() || t.is_null()) {
                return Err(hive_arg_error(
                    self.name(),
                    format!("start and length must be integers, got {t}"),
                ));
            }
        }
        Ok(vec![
            DataType::new_list(element, true),
            DataType::Int64,
            DataType::Int64,
        ])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let element = match args.return_field.data_type() {
            DataType::List(f) => f.data_type().clone(),
            _ => DataType::Null,
        };
        evaluate_rowwise(&args.args, |arrays| {
            let list = as_list(&arrays[0], &element)?;
            let start = cast(arrays[1].as_ref(), &DataType::Int64)?;
            let start = start.as_primitive::<Int64Type>();
            let length = cast(arrays[2].as_ref(), &DataType::Int64)?;
            let length = length.as_primitive::<Int64Type>();
            let mut picks = Vec::with_capacity(list.len());
            for row in 0..list.len() {
                if list.is_null(row) || start.is_null(row) || length.is_null(row) {
                    picks.push(None);
                    continue;
                }
                let elements = range(&list, row);
                let (s, n) = (start.value(row), length.value(row));
                if elements.is_empty() {
                    picks.push(Some(vec![]));
                    continue;
                }
                if s < 0 || n < 0 {
                    return exec_err!(
                        "array_slice: start ({s}) and length ({n}) must not be negative"
                    );
                }
                if s + n > elements.len() as i64 {
                    picks.push(Some(vec![]));
                    continue;
                }
                let first = elements.start + s as usize;
                picks.push(Some((first..first + n as usize).map(|j| (0, j)).collect()));
            }
            build_list(&element, &[list.values().as_ref()], picks)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
