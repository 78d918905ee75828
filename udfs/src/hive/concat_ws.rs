//! `concat_ws(sep, s1 | array1, …)`: Hive's concat_ws, which also takes arrays of strings
//! (their elements are joined too). DataFusion's version takes strings only.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, GenericStringArray, StringBuilder};
use datafusion::arrow::datatypes::{ArrowNativeType, DataType};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRING;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc, is_string_or_null};

/// `concat_ws(sep, str_or_array, …)` → `string`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ConcatWsFunc {
    signature: Signature,
}

impl Default for ConcatWsFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ConcatWsFunc {
    /// Creates the `concat_ws` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRING,
        "Joins the strings, and the elements of the arrays of strings, with the separator \
         sep. NULL strings are skipped; a NULL element of an array is the text null (as in \
         Hive); a NULL separator gives NULL. Arguments of other types (numbers, booleans, \
         arrays of numbers) are refused.",
        "concat_ws(sep, str_or_array1, str_or_array2, ...)",
        "SELECT concat_ws('-', 'a', array('b', NULL, 'c'), NULL, 'd');\n-- a-b-null-c-d",
    )
});

/// Joins one batch; `columns[0]` is the separator, the rest strings or lists of strings.
fn concat_ws_columns(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let Some((separators, parts)) = columns.split_first() else {
        return exec_err!("concat_ws: missing the separator");
    };
    let Some(separators) = separators.as_string_opt::<i32>() else {
        return exec_err!("concat_ws: the separator must be a string");
    };
    enum Part<'a> {
        Strings(&'a GenericStringArray<i32>),
        Lists {
            lists: &'a datafusion::arrow::array::ListArray,
            strings: &'a GenericStringArray<i32>,
        },
    }
    let parts = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if let Some(strings) = part.as_string_opt::<i32>() {
                return Ok(Part::Strings(strings));
            }
            if let Some(lists) = part.as_list_opt::<i32>()
                && let Some(strings) = lists.values().as_string_opt::<i32>()
            {
                return Ok(Part::Lists { lists, strings });
            }
            exec_err!(
                "concat_ws: argument {} must be a string or an array of strings, got {}",
                i + 2,
                part.data_type()
            )
        })
        .collect::<Result<Vec<_>>>()?;

    let mut builder = StringBuilder::with_capacity(separators.len(), 0);
    let mut joined = String::new();
    for row in 0..separators.len() {
        if separators.is_null(row) {
            builder.append_null();
            continue;
        }
        let separator = separators.value(row);
        joined.clear();
        let mut first = true;
        for part in &parts {
            // Hive (GenericUDFConcatWS): every non-NULL argument adds a separator, an empty
            // array too; the elements of an array are joined with it, a NULL element as the
            // text `null`.
            match part {
                Part::Strings(strings) => {
                    if strings.is_valid(row) {
                        if !first {
                            joined.push_str(separator);
                        }
                        first = false;
                        joined.push_str(strings.value(row));
                    }
                }
                Part::Lists { lists, strings } => {
                    if lists.is_valid(row) {
                        if !first {
                            joined.push_str(separator);
                        }
                        first = false;
                        let offsets = lists.value_offsets();
                        let range = offsets[row].as_usize()..offsets[row + 1].as_usize();
                        for (k, j) in range.enumerate() {
                            if k > 0 {
                                joined.push_str(separator);
                            }
                            if strings.is_valid(j) {
                                joined.push_str(strings.value(j));
                            } else {
                                joined.push_str("null");
                            }
                        }
                    }
                }
            }
        }
        builder.append_value(&joined);
    }
    Ok(Arc::new(builder.finish()))
}

impl ScalarUDFImpl for ConcatWsFunc {
    fn name(&self) -> &str {
        "concat_ws"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "needs a separator and at least one string or array, got {} argument(s)",
                    arg_types.len()
                ),
            ));
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
                    if i > 0 && is_string_or_null(f.data_type()) =>
                {
                    Ok(DataType::new_list(DataType::Utf8, true))
                }
                t if is_string_or_null(t) => Ok(DataType::Utf8),
                other => Err(hive_arg_error(
                    self.name(),
                    format!(
                        "argument {} must be a string or an array of strings, got {other}",
                        i + 1
                    ),
                )),
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, concat_ws_columns)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{ListBuilder, StringArray};

    use super::*;

    fn strings(values: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringArray::from(values))
    }

    #[test]
    fn joins_strings_and_array_elements_as_hive_does() {
        let mut lists = ListBuilder::new(StringBuilder::new());
        lists.values().append_value("b");
        lists.values().append_null();
        lists.values().append_value("c");
        lists.append(true);
        lists.append(false);
        lists.append(true);
        let lists: ArrayRef = Arc::new(lists.finish());
        let out = concat_ws_columns(&[
            strings(vec![Some("-"), Some("-"), None]),
            strings(vec![Some("a"), None, Some("a")]),
            lists,
            strings(vec![Some("d"), Some("d"), Some("d")]),
        ])
        .unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some("a-b-null-c-d"), Some("d"), None]
        );
    }

    #[test]
    fn nothing_to_join_is_an_empty_string() {
        let out = concat_ws_columns(&[strings(vec![Some(",")]), strings(vec![None])]).unwrap();
        assert_eq!(out.as_string::<i32>().value(0), "");
    }

    #[test]
    fn types_are_checked_at_planning() {
        let f = ConcatWsFunc::new();
        assert!(f.coerce_types(&[DataType::Utf8]).is_err());
        let ok = f
            .coerce_types(&[DataType::Utf8, DataType::new_list(DataType::Utf8View, true)])
            .unwrap();
        assert_eq!(ok[1], DataType::new_list(DataType::Utf8, true));
        let nested = DataType::new_list(DataType::new_list(DataType::Utf8, true), true);
        assert!(f.coerce_types(&[DataType::Utf8, nested]).is_err());
    }

    #[test]
    fn only_strings_and_arrays_of_strings_are_taken() {
        let f = ConcatWsFunc::new();
        let ok = f
            .coerce_types(&[
                DataType::Utf8View,
                DataType::LargeUtf8,
                DataType::Null,
                DataType::new_list(DataType::Utf8, true),
                DataType::new_large_list(DataType::Null, true),
            ])
            .unwrap();
        assert_eq!(ok[..3], [DataType::Utf8, DataType::Utf8, DataType::Utf8]);
        assert_eq!(ok[4], DataType::new_list(DataType::Utf8, true));

        let err = f
            .coerce_types(&[DataType::Utf8, DataType::Utf8, DataType::Int64])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "concat_ws: argument 3 must be a string or an array of strings, got Int64"
            ),
            "{err}"
        );
        let err = f
            .coerce_types(&[DataType::Utf8, DataType::new_list(DataType::Int32, true)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("argument 2 must be a string or an array of strings"),
            "{err}"
        );
        assert!(
            f.coerce_types(&[DataType::Utf8, DataType::Boolean])
                .is_err()
        );
        let separator_list = DataType::new_list(DataType::Utf8, true);
        assert!(f.coerce_types(&[separator_list, DataType::Utf8]).is_err());
    }
}
