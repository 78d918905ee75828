//! `struct(v1, …)`: Hive's struct constructor, with fields named `col1`, `col2`, ….
//!
//! DataFusion's `struct` names them `c0`, `c1`, …; `named_struct` is the same in both and is
//! left to DataFusion.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_STRUCT;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// `struct(v1, v2, …)` → `struct<col1: T1, col2: T2, …>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StructFunc {
    signature: Signature,
}

impl Default for StructFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl StructFunc {
    /// Creates the `struct` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_STRUCT,
        "Returns a struct of the given values, with fields named col1, col2, ... \
         (use named_struct to choose the names).",
        "struct(value1, value2, ...)",
        "SELECT struct(1, 'a');\n-- {col1: 1, col2: a}",
    )
});

/// The fields `col1: T1, col2: T2, …` of a Hive struct over values of these types.
fn hive_struct_fields(arg_types: &[DataType]) -> Fields {
    arg_types
        .iter()
        .enumerate()
        .map(|(i, t)| Field::new(format!("col{}", i + 1), t.clone(), true))
        .collect()
}

impl ScalarUDFImpl for StructFunc {
    fn name(&self) -> &str {
        "struct"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.is_empty() {
            return Err(hive_arg_error(self.name(), "needs at least one argument"));
        }
        Ok(DataType::Struct(hive_struct_fields(arg_types)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |arrays: &[ArrayRef]| {
            let types: Vec<DataType> = arrays.iter().map(|a| a.data_type().clone()).collect();
            let array = StructArray::try_new(hive_struct_fields(&types), arrays.to_vec(), None)?;
            Ok(Arc::new(array) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray};
    use datafusion::common::ScalarValue;

    use super::*;

    #[test]
    fn fields_are_named_col1_col2() {
        let args = vec![
            ColumnarValue::Array(Arc::new(Int64Array::from(vec![1, 2]))),
            ColumnarValue::Scalar(ScalarValue::from("x")),
        ];
        let result = evaluate_rowwise(&args, |arrays| {
            let types: Vec<DataType> = arrays.iter().map(|a| a.data_type().clone()).collect();
            Ok(Arc::new(StructArray::try_new(
                hive_struct_fields(&types),
                arrays.to_vec(),
                None,
            )?) as ArrayRef)
        })
        .unwrap();
        let ColumnarValue::Array(array) = result else {
            panic!("expected an array");
        };
        let structs = array.as_struct();
        assert_eq!(structs.column_names(), vec!["col1", "col2"]);
        assert_eq!(structs.len(), 2);
        let second = structs
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(second.value(1), "x");
    }

    #[test]
    fn no_arguments_is_a_plan_error() {
        let err = StructFunc::new().return_type(&[]).unwrap_err().to_string();
        assert!(err.contains("struct: needs at least one argument"), "{err}");
    }
}
