//! Hive's `index(array, i)` and `index(map, key)`: what `a[i]` and `m[key]` call — the element
//! at the 0-based i (NULL out of range), or the value of key (NULL when absent).

use std::sync::LazyLock;

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, element_type, range};

/// `index(array | map, i | key)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct IndexFunc {
    signature: Signature,
}

impl Default for IndexFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "index(a, n) - Returns the n-th element of a (0-based), or the value of key n of a map",
        "index(a, n)",
        "SELECT index(array(1, 2, 3), 1), index(map('a', 1), 'a'); -- 2, 1",
    )
});

impl ScalarUDFImpl for IndexFunc {
    fn name(&self) -> &str {
        "index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [collection, key] = arg_types else {
            return Err(hive_arg_error(self.name(), "takes 2 arguments (a, n)"));
        };
        match collection {
            DataType::Map(entries, _) => {
                let key_type = match entries.data_type() {
                    DataType::Struct(fields) if fields.len() == 2 => fields[0].data_type().clone(),
                    _ => key.clone(),
                };
                Ok(vec![collection.clone(), key_type])
            }
            other => {
                let element = element_type(self.name(), other, 1)?;
                if !(key.is_integer() || key.is_null()) {
                    return Err(hive_arg_error(
                        self.name(),
                        format!("an array index must be an integer, got {key}"),
                    ));
                }
                Ok(vec![DataType::new_list(element, true), DataType::Int64])
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Map(entries, _)) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => Ok(fields[1].data_type().clone()),
                other => Err(hive_arg_error(
                    self.name(),
                    format!("unexpected map layout {other}"),
                )),
            },
            Some(t) => element_type(self.name(), t, 1),
            None => Err(hive_arg_error(self.name(), "takes 2 arguments (a, n)")),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let result = args.return_field.data_type().clone();
        evaluate_rowwise(&args.args, |arrays| {
            if let Some(maps) = arrays[0].as_map_opt() {
                let keys = maps.keys();
                let wanted = cast(arrays[1].as_ref(), keys.data_type())?;
                let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
                let key_rows = converter.convert_columns(std::slice::from_ref(keys))?;
                let wanted_rows = converter.convert_columns(std::slice::from_ref(&wanted))?;
                let offsets = maps.value_offsets();
                let picks: UInt32Array = (0..maps.len())
                    .map(|row| {
                        if maps.is_null(row) || wanted.is_null(row) {
                            return None;
                        }
                        (offsets[row] as usize..offsets[row + 1] as usize)
                            .find(|&j| key_rows.row(j) == wanted_rows.row(row))
                            .map(|j| j as u32)
                    })
                    .collect();
                return Ok(take(maps.values().as_ref(), &picks, None)?);
            }
            let list = as_list(&arrays[0], &result)?;
            let at = cast(arrays[1].as_ref(), &DataType::Int64)?;
            let at = at.as_primitive::<Int64Type>();
            let picks: UInt32Array = (0..list.len())
                .map(|row| {
                    if list.is_null(row) || at.is_null(row) {
                        return None;
                    }
                    let elements = range(&list, row);
                    let i = usize::try_from(at.value(row)).ok()?;
                    (i < elements.len()).then(|| (elements.start + i) as u32)
                })
                .collect();
            Ok(take(list.values().as_ref(), &picks, None)?)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
