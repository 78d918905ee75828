//! Hive 4's `array_distinct`, `array_union`, `array_intersect`, `array_except` and
//! `array_remove`: elements compared by value (NULL equal to NULL, as Java's `equals` in a
//! list), first occurrences kept in order. A NULL array (either one) is NULL; `array_remove`
//! with a NULL element is NULL. DataFusion's functions of these names differ (they sort, or
//! remove only the first occurrence, or answer NULL otherwise).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use datafusion::common::Result;
use datafusion::logical_expr::binary::type_union_resolution;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_ARRAY;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::super::{evaluate_rowwise, hive_arg_error, hive_doc};
use super::list_util::{as_list, build_list, element_type, range};

/// Which set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SetOp {
    Distinct,
    Union,
    Intersect,
    Except,
    Remove,
}

/// One of the set-like array functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ArraySetFunc {
    op: SetOp,
    signature: Signature,
    doc: Documentation,
}

/// The five functions.
pub(super) fn all() -> Vec<Arc<ScalarUDF>> {
    [
        (
            SetOp::Distinct,
            "array_distinct(array(obj1, obj2,...)) - The function returns an array of the same type as the input array with distinct values.",
            "SELECT array_distinct(array('b', 'd', 'd', 'a')); -- [b, d, a]",
        ),
        (
            SetOp::Union,
            "array_union(array1, array2) - Returns an array of the elements in the union of array1 and array2 without duplicates.",
            "SELECT array_union(array(1, 2, 2, 4), array(2, 3)); -- [1, 2, 4, 3]",
        ),
        (
            SetOp::Intersect,
            "array_intersect(array1, array2) - Returns an array of the elements in the intersection of array1 and array2, without duplicates.",
            "SELECT array_intersect(array(1, 2, 3, 4), array(1, 2, 3)); -- [1, 2, 3]",
        ),
        (
            SetOp::Except,
            "array_except(array1, array2) - Returns an array of the elements in array1 but not in array2.",
            "SELECT array_except(array(1, 2, 3, 4), array(2, 3)); -- [1, 4]",
        ),
        (
            SetOp::Remove,
            "array_remove(array, element) - Removes all occurrences of element from array.",
            "SELECT array_remove(array(1, 2, 3, 4, 2), 2); -- [1, 3, 4]",
        ),
    ]
    .into_iter()
    .map(|(op, description, example)| {
        let syntax = description.split(" - ").next().unwrap_or(description);
        Arc::new(ScalarUDF::from(ArraySetFunc {
            op,
            signature: Signature::user_defined(Volatility::Immutable),
            doc: hive_doc(DOC_SECTION_ARRAY, description, syntax, example),
        }))
    })
    .collect()
}

impl SetOp {
    fn name(self) -> &'static str {
        match self {
            SetOp::Distinct => "array_distinct",
            SetOp::Union => "array_union",
            SetOp::Intersect => "array_intersect",
            SetOp::Except => "array_except",
            SetOp::Remove => "array_remove",
        }
    }

    fn arity(self) -> usize {
        if self == SetOp::Distinct { 1 } else { 2 }
    }
}

fn rows_of(converter: &RowConverter, values: &ArrayRef) -> Result<Rows> {
    Ok(converter.convert_columns(std::slice::from_ref(values))?)
}

impl ScalarUDFImpl for ArraySetFunc {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        if arg_types.len() != self.op.arity() {
            return Err(hive_arg_error(
                name,
                format!(
                    "takes {} argument(s), got {}",
                    self.op.arity(),
                    arg_types.len()
                ),
            ));
        }
        let first = element_type(name, &arg_types[0], 1)?;
        let element = match (self.op, arg_types.get(1)) {
            (SetOp::Distinct, _) | (_, None) => first,
            (SetOp::Remove, Some(value)) => type_union_resolution(&[first.clone(), value.clone()])
                .ok_or_else(|| {
                    hive_arg_error(
                        name,
                        format!("cannot compare {value} with elements of {first}"),
                    )
                })?,
            (_, Some(other)) => {
                let second = element_type(name, other, 2)?;
                type_union_resolution(&[first.clone(), second.clone()]).ok_or_else(|| {
                    hive_arg_error(
                        name,
                        format!("input arrays are not comparable: {first} and {second}"),
                    )
                })?
            }
        };
        let list = DataType::new_list(element.clone(), true);
        Ok(match self.op {
            SetOp::Distinct => vec![list],
            SetOp::Remove => vec![list, element],
            _ => vec![list.clone(), list],
        })
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        let element = match args.return_field.data_type() {
            DataType::List(f) => f.data_type().clone(),
            _ => DataType::Null,
        };
        evaluate_rowwise(&args.args, |arrays| {
            let first = as_list(&arrays[0], &element)?;
            let converter = RowConverter::new(vec![SortField::new(element.clone())])?;
            let first_rows = rows_of(&converter, first.values())?;
            let (second, second_rows) = match op {
                SetOp::Distinct => (None, None),
                SetOp::Remove => {
                    let needles = cast(arrays[1].as_ref(), &element)?;
                    let rows = rows_of(&converter, &needles)?;
                    (Some(needles), Some(rows))
                }
                _ => {
                    let list = as_list(&arrays[1], &element)?;
                    let rows = rows_of(&converter, list.values())?;
                    (Some(Arc::new(list) as ArrayRef), Some(rows))
                }
            };
            let second_list = second.as_ref().and_then(|s| {
                s.as_any()
                    .downcast_ref::<datafusion::arrow::array::ListArray>()
                    .cloned()
            });
            let mut picks = Vec::with_capacity(first.len());
            for row in 0..first.len() {
                // A NULL second array, or (array_remove) a NULL element: NULL.
                let second_null = second
                    .as_ref()
                    .is_some_and(|s| s.logical_nulls().is_some_and(|n| n.is_null(row)));
                if first.is_null(row) || second_null {
                    picks.push(None);
                    continue;
                }
                let mut seen: HashSet<OwnedRow> = HashSet::new();
                let mut kept = Vec::new();
                let mut others: HashSet<OwnedRow> = HashSet::new();
                if let (Some(list), Some(rows)) = (&second_list, &second_rows) {
                    for j in range(list, row) {
                        others.insert(rows.row(j).owned());
                    }
                }
                let needle = match (op, &second_rows) {
                    (SetOp::Remove, Some(rows)) => Some(rows.row(row).owned()),
                    _ => None,
                };
                for j in range(&first, row) {
                    let value = first_rows.row(j).owned();
                    let keep = match op {
                        SetOp::Remove => needle.as_ref() != Some(&value),
                        SetOp::Intersect => others.contains(&value),
                        SetOp::Except => !others.contains(&value),
                        SetOp::Distinct | SetOp::Union => true,
                    };
                    if keep && (op == SetOp::Remove || seen.insert(value)) {
                        kept.push((0, j));
                    }
                }
                if op == SetOp::Union
                    && let (Some(list), Some(rows)) = (&second_list, &second_rows)
                {
                    for j in range(list, row) {
                        if seen.insert(rows.row(j).owned()) {
                            kept.push((1, j));
                        }
                    }
                }
                picks.push(Some(kept));
            }
            let mut sources: Vec<&dyn Array> = vec![first.values().as_ref()];
            if let Some(list) = &second_list {
                sources.push(list.values().as_ref());
            }
            build_list(&element, &sources, picks)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}
