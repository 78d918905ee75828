//! Hive 4's `array_join(array, delimiter[, null_replacement])`: the elements as strings joined
//! by delimiter; NULL elements are skipped, or replaced when a replacement is given; an empty
//! or NULL array is NULL.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, element_type, range};

/// `array_join(array, delimiter[, null_replacement])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ArrayJoinFunc {
    signature: Signature,
}

impl Default for ArrayJoinFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "array_join(array, delimiter, replaceNull) - concatenate the elements of an array with \
         a specified delimiter",
        "array_join(array, delimiter[, replaceNull])",
        "SELECT array_join(array(1, 2, NULL, 4), ',', ':'); -- 1,2,:,4",
    )
});

impl ScalarUDFImpl for ArrayJoinFunc {
    fn name(&self) -> &str {
        "array_join"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return Err(hive_arg_error(
                self.name(),
                "takes 2 or 3 arguments (array, delimiter[, replaceNull])",
            ));
        }
        element_type(self.name(), &arg_types[0], 1)?;
        let mut out = vec![DataType::new_list(DataType::Utf8, true)];
        out.extend(std::iter::repeat_n(DataType::Utf8, arg_types.len() - 1));
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays| {
            let list = as_list(&arrays[0], &DataType::Utf8)?;
            let values = list.values().as_string::<i32>();
            let sep = cast(arrays[1].as_ref(), &DataType::Utf8)?;
            let sep = sep.as_string::<i32>();
            let replace = match arrays.get(2) {
                Some(r) => Some(cast(r.as_ref(), &DataType::Utf8)?),
                None => None,
            };
            let replace = replace.as_ref().map(|r| r.as_string::<i32>());
            let mut out = StringBuilder::new();
            for row in 0..list.len() {
                let elements = range(&list, row);
                if list.is_null(row) || elements.is_empty() || sep.is_null(row) {
                    out.append_null();
                    continue;
                }
                let filler = replace.and_then(|r| (!r.is_null(row)).then(|| r.value(row)));
                let parts: Vec<&str> = elements
                    .filter_map(|j| {
                        if values.is_null(j) {
                            filler
                        } else {
                            Some(values.value(j))
                        }
                    })
                    .collect();
                out.append_value(parts.join(sep.value(row)));
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
