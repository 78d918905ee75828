//! Hive's conditional functions: `if`, `nvl`, `isnull`, `isnotnull`, `assert_true`, `istrue`,
//! `isfalse`, `isnottrue`, `isnotfalse`. (`coalesce`, `nullif` are DataFusion's, which answer as
//! Hive's; `CASE`, `IN`, `BETWEEN` are syntax.)
//!
//! Hive evaluates only the branch it returns (`if(x = 0, 0, 1 / x)` never divides by zero),
//! so `if` and `nvl` simplify to `CASE` expressions, which DataFusion evaluates lazily; the
//! eager `invoke` is only a fallback for plans that skip simplification. DataFusion's own
//! `nvl` accepts a fixed list of primitive types only; Hive's takes any type.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{is_not_null, is_null, prep_null_mask_filter};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_CONDITIONAL;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Case, ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, Volatility,
};

use super::array::hive_common_type;
use super::{evaluate_rowwise, hive_arg_error, hive_doc};

/// The common type of two branches, or a plan error naming the function.
fn branch_type(name: &str, a: &DataType, b: &DataType) -> Result<DataType> {
    hive_common_type(&[a.clone(), b.clone()]).ok_or_else(|| {
        hive_arg_error(
            name,
            format!("the two values have no common type: {a} and {b}"),
        )
    })
}

/// `if(condition, value_if_true, value_if_false)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IfFunc {
    signature: Signature,
}

impl Default for IfFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IfFunc {
    /// Creates the `if` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static IF_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns value_if_true when condition is true, otherwise (false or NULL) \
         value_if_false. Only the returned value is evaluated.",
        "if(condition, value_if_true, value_if_false)",
        "SELECT if(1 < 2, 'yes', 'no'), if(NULL, 'yes', 'no');\n-- yes, no",
    )
});

/// Evaluates `if` eagerly: `values[0]` is the condition.
fn if_columns(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let [condition, when_true, when_false] = columns else {
        return exec_err!("if: takes 3 arguments");
    };
    let mask = match condition.data_type() {
        DataType::Boolean if condition.null_count() > 0 => {
            prep_null_mask_filter(condition.as_boolean())
        }
        DataType::Boolean => condition.as_boolean().clone(),
        DataType::Null => BooleanArray::from(vec![false; condition.len()]),
        other => return exec_err!("if: the condition must be a boolean, got {other}"),
    };
    Ok(zip(&mask, when_true, when_false)?)
}

impl ScalarUDFImpl for IfFunc {
    fn name(&self) -> &str {
        "if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [condition, a, b] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "takes 3 arguments (condition, value_if_true, value_if_false), got {}",
                    arg_types.len()
                ),
            ));
        };
        if !matches!(condition, DataType::Boolean | DataType::Null) {
            return Err(hive_arg_error(
                self.name(),
                format!("the condition must be a boolean, got {condition}"),
            ));
        }
        let common = branch_type(self.name(), a, b)?;
        Ok(vec![DataType::Boolean, common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [_, a, b] => branch_type(self.name(), a, b),
            _ => Err(hive_arg_error(self.name(), "takes 3 arguments")),
        }
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([condition, when_true, when_false]) = <[Expr; 3]>::try_from(args) else {
            return exec_err!("if: takes 3 arguments");
        };
        Ok(ExprSimplifyResult::Simplified(Expr::Case(Case::new(
            None,
            vec![(Box::new(condition), Box::new(when_true))],
            Some(Box::new(when_false)),
        ))))
    }

    fn short_circuits(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, if_columns)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&IF_DOC)
    }
}

/// `nvl(value, default_value)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NvlFunc {
    signature: Signature,
}

impl Default for NvlFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NvlFunc {
    /// Creates the `nvl` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static NVL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns value unless it is NULL, in which case default_value (evaluated only then). \
         Works for values of any type.",
        "nvl(value, default_value)",
        "SELECT nvl(NULL, 'x'), nvl(array(1), array(2));\n-- x, [1]",
    )
});

fn nvl_columns(columns: &[ArrayRef]) -> Result<ArrayRef> {
    let [value, default_value] = columns else {
        return exec_err!("nvl: takes 2 arguments");
    };
    Ok(zip(&is_not_null(value)?, value, default_value)?)
}

impl ScalarUDFImpl for NvlFunc {
    fn name(&self) -> &str {
        "nvl"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = arg_types else {
            return Err(hive_arg_error(
                self.name(),
                format!(
                    "takes 2 arguments (value, default_value), got {}",
                    arg_types.len()
                ),
            ));
        };
        let common = branch_type(self.name(), a, b)?;
        Ok(vec![common.clone(), common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [a, b] => branch_type(self.name(), a, b),
            _ => Err(hive_arg_error(self.name(), "takes 2 arguments")),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [a, b] = args.arg_fields else {
            return Err(hive_arg_error(self.name(), "takes 2 arguments"));
        };
        let data_type = branch_type(self.name(), a.data_type(), b.data_type())?;
        let nullable = a.is_nullable() && b.is_nullable();
        Ok(Arc::new(Field::new(self.name(), data_type, nullable)))
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([value, default_value]) = <[Expr; 2]>::try_from(args) else {
            return exec_err!("nvl: takes 2 arguments");
        };
        Ok(ExprSimplifyResult::Simplified(Expr::Case(Case::new(
            None,
            vec![(Box::new(value.clone().is_not_null()), Box::new(value))],
            Some(Box::new(default_value)),
        ))))
    }

    fn short_circuits(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, nvl_columns)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&NVL_DOC)
    }
}

/// `isnull(value)` and `isnotnull(value)`: the `IS NULL` / `IS NOT NULL` tests as functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NullTestFunc {
    signature: Signature,
    negated: bool,
}

impl NullTestFunc {
    fn with_negation(negated: bool) -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
            negated,
        }
    }

    /// Creates `isnull`.
    pub fn is_null() -> Self {
        Self::with_negation(false)
    }

    /// Creates `isnotnull`.
    pub fn is_not_null() -> Self {
        Self::with_negation(true)
    }
}

static ISNULL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if value is NULL, false otherwise (the same as value IS NULL).",
        "isnull(value)",
        "SELECT isnull(NULL), isnull(1);\n-- true, false",
    )
});

static ISNOTNULL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if value is not NULL, false otherwise (the same as value IS NOT NULL).",
        "isnotnull(value)",
        "SELECT isnotnull(NULL), isnotnull(1);\n-- false, true",
    )
});

impl ScalarUDFImpl for NullTestFunc {
    fn name(&self) -> &str {
        if self.negated { "isnotnull" } else { "isnull" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Boolean, false)))
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([value]) = <[Expr; 1]>::try_from(args) else {
            return exec_err!("{}: takes 1 argument", self.name());
        };
        Ok(ExprSimplifyResult::Simplified(if self.negated {
            value.is_not_null()
        } else {
            value.is_null()
        }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let negated = self.negated;
        evaluate_rowwise(&args.args, |columns| match columns {
            [value] => {
                let tested = if negated {
                    is_not_null(value)?
                } else {
                    is_null(value)?
                };
                Ok(Arc::new(tested) as ArrayRef)
            }
            _ => exec_err!("isnull: takes 1 argument"),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(if self.negated {
            &ISNOTNULL_DOC
        } else {
            &ISNULL_DOC
        })
    }
}

/// Which `IS [NOT] TRUE/FALSE` test a [`TruthTestFunc`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::enum_variant_names)] // Named after the SQL tests they are.
enum Truth {
    IsTrue,
    IsFalse,
    IsNotTrue,
    IsNotFalse,
}

/// `istrue(a)`, `isfalse(a)`, `isnottrue(a)`, `isnotfalse(a)` (Hive 3): `a IS [NOT] TRUE/FALSE`
/// as functions; never NULL. Numbers count as booleans (non-zero is true), as Hive converts
/// them.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TruthTestFunc {
    truth: Truth,
    signature: Signature,
}

impl TruthTestFunc {
    fn new(truth: Truth) -> Self {
        Self {
            truth,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

static ISTRUE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if a is TRUE and false otherwise (NULL too).",
        "istrue(a)",
        "SELECT istrue(1 < 2), istrue(NULL);\n-- true, false",
    )
});

static ISFALSE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if a is FALSE and false otherwise (NULL too).",
        "isfalse(a)",
        "SELECT isfalse(1 > 2), isfalse(NULL);\n-- true, false",
    )
});

static ISNOTTRUE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if a is FALSE or NULL and false otherwise.",
        "isnottrue(a)",
        "SELECT isnottrue(1 > 2), isnottrue(NULL);\n-- true, true",
    )
});

static ISNOTFALSE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Returns true if a is TRUE or NULL and false otherwise.",
        "isnotfalse(a)",
        "SELECT isnotfalse(1 < 2), isnotfalse(NULL);\n-- true, true",
    )
});

/// The boolean type a condition is taken as: booleans, NULL and numbers (non-zero is true).
fn condition_type(name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t] if matches!(t, DataType::Boolean | DataType::Null) || t.is_numeric() => {
            Ok(vec![DataType::Boolean])
        }
        [t] => Err(hive_arg_error(
            name,
            format!("the argument must be a boolean, got {t}"),
        )),
        _ => Err(hive_arg_error(
            name,
            format!("takes 1 argument, got {}", arg_types.len()),
        )),
    }
}

impl ScalarUDFImpl for TruthTestFunc {
    fn name(&self) -> &str {
        match self.truth {
            Truth::IsTrue => "istrue",
            Truth::IsFalse => "isfalse",
            Truth::IsNotTrue => "isnottrue",
            Truth::IsNotFalse => "isnotfalse",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        condition_type(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Boolean, false)))
    }

    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([value]) = <[Expr; 1]>::try_from(args) else {
            return exec_err!("{}: takes 1 argument", self.name());
        };
        Ok(ExprSimplifyResult::Simplified(match self.truth {
            Truth::IsTrue => value.is_true(),
            Truth::IsFalse => value.is_false(),
            Truth::IsNotTrue => value.is_not_true(),
            Truth::IsNotFalse => value.is_not_false(),
        }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let truth = self.truth;
        evaluate_rowwise(&args.args, |columns| {
            let [value] = columns else {
                return exec_err!("istrue: takes 1 argument");
            };
            let value = datafusion::arrow::compute::cast(value, &DataType::Boolean)?;
            let value = value.as_boolean();
            let out: BooleanArray = (0..value.len())
                .map(|i| {
                    let v = (!value.is_null(i)).then(|| value.value(i));
                    Some(match truth {
                        Truth::IsTrue => v == Some(true),
                        Truth::IsFalse => v == Some(false),
                        Truth::IsNotTrue => v != Some(true),
                        Truth::IsNotFalse => v != Some(false),
                    })
                })
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.truth {
            Truth::IsTrue => &ISTRUE_DOC,
            Truth::IsFalse => &ISFALSE_DOC,
            Truth::IsNotTrue => &ISNOTTRUE_DOC,
            Truth::IsNotFalse => &ISNOTFALSE_DOC,
        })
    }
}

/// `assert_true(condition)`: NULL when the condition is true; otherwise (false or NULL) the
/// query fails with Hive's message `ASSERT_TRUE(): assertion failed.`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AssertTrueFunc {
    signature: Signature,
}

impl Default for AssertTrueFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Volatile),
        }
    }
}

static ASSERT_TRUE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_CONDITIONAL,
        "Throws an exception if condition is not true (false or NULL); otherwise returns NULL.",
        "assert_true(condition)",
        "SELECT assert_true(x >= 0) FROM src LIMIT 1;\n-- NULL",
    )
});

impl ScalarUDFImpl for AssertTrueFunc {
    fn name(&self) -> &str {
        "assert_true"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        condition_type(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Null)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        evaluate_rowwise(&args.args, |columns| {
            let [condition] = columns else {
                return exec_err!("assert_true: takes 1 argument");
            };
            let condition = datafusion::arrow::compute::cast(condition, &DataType::Boolean)?;
            let condition = condition.as_boolean();
            if condition.null_count() > 0 || condition.false_count() > 0 {
                return exec_err!("ASSERT_TRUE(): assertion failed.");
            }
            Ok(datafusion::arrow::array::new_null_array(
                &DataType::Null,
                condition.len(),
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&ASSERT_TRUE_DOC)
    }
}

/// The conditional functions added with Hive's function families.
pub(crate) fn scalar_functions() -> Vec<Arc<datafusion::logical_expr::ScalarUDF>> {
    use datafusion::logical_expr::ScalarUDF;
    vec![
        Arc::new(ScalarUDF::from(AssertTrueFunc::default())),
        Arc::new(ScalarUDF::from(TruthTestFunc::new(Truth::IsTrue))),
        Arc::new(ScalarUDF::from(TruthTestFunc::new(Truth::IsFalse))),
        Arc::new(ScalarUDF::from(TruthTestFunc::new(Truth::IsNotTrue))),
        Arc::new(ScalarUDF::from(TruthTestFunc::new(Truth::IsNotFalse))),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn if_takes_the_false_branch_for_null_conditions() {
        let condition: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)]));
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30]));
        let out = if_columns(&[condition, a, b]).unwrap();
        assert_eq!(
            out.as_primitive::<Int64Type>().values().to_vec(),
            [1, 20, 30]
        );
    }

    #[test]
    fn nvl_replaces_nulls_only() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("d"), Some("d")]));
        let out = nvl_columns(&[a, b]).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some("x"), Some("d")]);
    }

    #[test]
    fn if_checks_types_at_planning() {
        let f = IfFunc::new();
        let err = f
            .coerce_types(&[DataType::Int32, DataType::Int32, DataType::Int32])
            .unwrap_err()
            .to_string();
        assert!(err.contains("if: the condition must be a boolean"), "{err}");
        let ok = f
            .coerce_types(&[DataType::Null, DataType::Int32, DataType::Int64])
            .unwrap();
        assert_eq!(
            ok,
            vec![DataType::Boolean, DataType::Int64, DataType::Int64]
        );
        assert!(
            f.coerce_types(&[DataType::Boolean, DataType::Int32])
                .is_err()
        );
    }

    #[test]
    fn null_tests_never_return_null() {
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        let out = evaluate_rowwise(&[ColumnarValue::Array(values)], |c| {
            Ok(Arc::new(is_null(&c[0])?) as ArrayRef)
        })
        .unwrap();
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array");
        };
        assert_eq!(
            out.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true)]
        );
        assert_eq!(NullTestFunc::is_not_null().name(), "isnotnull");
    }
}
