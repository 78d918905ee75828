//! Hive's `sort_array_by(array(struct), 'f1'[, 'f2', ...][, 'ASC'|'DESC'])`: an array of
//! structs sorted by the named fields (Hive's natural order: NULL first when ascending),
//! ascending unless the last argument is 'DESC'.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::super::{evaluate_on_first, hive_arg_error, hive_doc};
use super::list_util::{as_list, build_list, element_type, range};

/// `sort_array_by(array, field...[, order])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SortArrayByFunc {
    signature: Signature,
}

impl Default for SortArrayByFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_ARRAY,
        "sort_array_by(array(obj1, obj2,...),'f1','f2',...,['ASC','DESC']) - Sorts the input \
         array in ascending or descending order according to the natural ordering of the \
         specified object fields.",
        "sort_array_by(array, 'f1'[, 'f2', ...][, 'ASC'|'DESC'])",
        "SELECT sort_array_by(array(named_struct('n', 'b', 'a', 2), named_struct('n', 'a', 'a', 1)), 'a')",
    )
});

impl SortArrayByFunc {
    /// The field names and whether the order is descending, from the constant arguments.
    fn keys(&self, args: &[ColumnarValue]) -> Result<(Vec<String>, bool)> {
        let mut names = Vec::new();
        for a in &args[1..] {
            match a {
                ColumnarValue::Scalar(
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::LargeUtf8(Some(s))
                    | ScalarValue::Utf8View(Some(s)),
                ) => names.push(s.clone()),
                _ => {
                    return Err(hive_arg_error(
                        "sort_array_by",
                        "the field names and the order must be string constants",
                    ));
                }
            }
        }
        let mut descending = false;
        if let Some(last) = names.last()
            && (last.eq_ignore_ascii_case("asc") || last.eq_ignore_ascii_case("desc"))
        {
            descending = last.eq_ignore_ascii_case("desc");
            names.pop();
        }
        if names.is_empty() {
            return Err(hive_arg_error(
                "sort_array_by",
                "needs at least one field name",
            ));
        }
        Ok((names, descending))
    }
}

impl ScalarUDFImpl for SortArrayByFunc {
    fn name(&self) -> &str {
        "sort_array_by"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let Some(array) = arg_types.first() else {
            return Err(hive_arg_error(
                self.name(),
                "takes an array and field names",
            ));
        };
        match element_type(self.name(), array, 1)? {
            element @ (DataType::Struct(_) | DataType::Null) => {
                Ok(DataType::new_list(element, true))
            }
            other => Err(hive_arg_error(
                self.name(),
                format!("sorts an array of structs, got an array of {other}"),
            )),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (names, descending) = self.keys(&args.args)?;
        let element = match args.return_field.data_type() {
            DataType::List(f) => f.data_type().clone(),
            _ => DataType::Null,
        };
        evaluate_on_first(&args.args, args.number_rows, |x| {
            let list = as_list(x, &element)?;
            let picks: Vec<Option<Vec<(usize, usize)>>> = match list.values().as_struct_opt() {
                None => (0..list.len())
                    .map(|row| {
                        (!list.is_null(row)).then(|| range(&list, row).map(|j| (0, j)).collect())
                    })
                    .collect(),
                Some(structs) => {
                    let mut columns = Vec::new();
                    let mut fields = Vec::new();
                    for name in &names {
                        let Some(i) = structs
                            .fields()
                            .iter()
                            .position(|f| f.name().eq_ignore_ascii_case(name))
                        else {
                            return Err(hive_arg_error(
                                "sort_array_by",
                                format!("the structs have no field '{name}'"),
                            ));
                        };
                        columns.push(Arc::clone(structs.column(i)));
                        fields.push(SortField::new_with_options(
                            structs.column(i).data_type().clone(),
                            SortOptions {
                                descending,
                                nulls_first: !descending,
                            },
                        ));
                    }
                    let converter = RowConverter::new(fields)?;
                    let rows = converter.convert_columns(&columns)?;
                    (0..list.len())
                        .map(|row| {
                            (!list.is_null(row)).then(|| {
                                let mut order: Vec<usize> = range(&list, row).collect();
                                order.sort_by(|&a, &b| rows.row(a).cmp(&rows.row(b)));
                                order.into_iter().map(|j| (0, j)).collect()
                            })
                        })
                        .collect()
                }
            };
            build_list(&element, &[list.values().as_ref()], picks)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
