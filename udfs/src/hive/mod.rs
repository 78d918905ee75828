//! Hive built-in functions, with Hive's semantics where DataFusion's differ.
//!
//! Each file holds one function family. Functions DataFusion already implements the Hive way
//! (`named_struct`) are not redefined here; the ones below either do not exist in DataFusion
//! under the Hive name or behave differently, and registering them replaces DataFusion's
//! function of the same name (`struct`, `map`, `nvl`, `concat_ws`, `array_contains`,
//! `map_keys`, `map_values`).
//!
//! Two Hive constructors cannot be reached through the function registry alone, because
//! DataFusion's SQL planner rewrites them before it looks functions up: `map(k1, v1, …)` and
//! (in dialects that parse `STRUCT(...)` as a literal) `struct(v1, …)`. [`HiveExprPlanner`]
//! routes those to the Hive versions; the engine must install it *before* DataFusion's default
//! expression planners.

pub mod catalog;

mod aggregate;
mod array;
mod array_contains;
mod collect;
mod collection;
mod concat;
mod concat_ws;
mod conditional;
mod conversion;
mod current_database;
mod date;
mod div;
mod get_json_object;
mod java_split;
mod map;
mod map_keys_values;
mod masking;
mod math;
mod misc;
mod planner;
mod regex_cache;
mod size;
mod sort_array;
mod split;
mod str_to_map;
pub(crate) mod string;
mod r#struct;
mod substr;

#[cfg(test)]
mod sql_tests;

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, DocSection, Documentation, ScalarUDF};

pub use array::ArrayFunc;
pub use array_contains::ArrayContainsFunc;
pub use collect::{CollectListFunc, CollectSetFunc};
pub use concat::ConcatFunc;
pub use concat_ws::ConcatWsFunc;
pub use conditional::{IfFunc, NullTestFunc, NvlFunc};
pub use current_database::CurrentDatabaseFunc;
pub use div::DivFunc;
pub use get_json_object::GetJsonObjectFunc;
pub use map::MapFunc;
pub use map_keys_values::MapPartFunc;
pub use planner::HiveExprPlanner;
pub use size::SizeFunc;
pub use sort_array::SortArrayFunc;
pub use split::SplitFunc;
pub use str_to_map::StrToMapFunc;
pub use r#struct::StructFunc;
pub use substr::SubstrFunc;

/// Hive's scalar built-ins that DataFusion lacks or defines differently.
pub fn all_scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let families = [
        date::scalar_functions(),
        string::scalar_functions(),
        masking::scalar_functions(),
        misc::scalar_functions(),
        conditional::scalar_functions(),
        math::scalar_functions(),
        conversion::scalar_functions(),
        collection::scalar_functions(),
        aggregate::scalar_functions(),
    ];
    let earlier = vec![
        Arc::new(ScalarUDF::from(ArrayFunc::new())),
        Arc::new(ScalarUDF::from(MapFunc::new())),
        Arc::new(ScalarUDF::from(MapPartFunc::keys())),
        Arc::new(ScalarUDF::from(MapPartFunc::values())),
        Arc::new(ScalarUDF::from(StructFunc::new())),
        Arc::new(ScalarUDF::from(SplitFunc::new())),
        Arc::new(ScalarUDF::from(SizeFunc::new())),
        Arc::new(ScalarUDF::from(StrToMapFunc::new())),
        Arc::new(ScalarUDF::from(GetJsonObjectFunc::new())),
        Arc::new(ScalarUDF::from(ConcatFunc::default())),
        Arc::new(ScalarUDF::from(SubstrFunc::default())),
        Arc::new(ScalarUDF::from(ConcatWsFunc::new())),
        Arc::new(ScalarUDF::from(NvlFunc::new())),
        Arc::new(ScalarUDF::from(IfFunc::new())),
        Arc::new(ScalarUDF::from(NullTestFunc::is_null())),
        Arc::new(ScalarUDF::from(NullTestFunc::is_not_null())),
        Arc::new(ScalarUDF::from(ArrayContainsFunc::new())),
        Arc::new(ScalarUDF::from(SortArrayFunc::new())),
        Arc::new(ScalarUDF::from(CurrentDatabaseFunc::default())),
        Arc::new(ScalarUDF::from(DivFunc::default())),
    ];
    earlier
        .into_iter()
        .chain(families.into_iter().flatten())
        .collect()
}

/// A function for each Hive function Apiary refuses on purpose: a call fails saying why.
/// Register them before the others, so that a real function of the same name wins.
pub fn refused_functions() -> Vec<Arc<ScalarUDF>> {
    catalog::refused_functions()
}

/// Hive's aggregate built-ins that DataFusion lacks or defines differently.
pub fn all_aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        Arc::new(AggregateUDF::from(CollectListFunc::new())),
        Arc::new(AggregateUDF::from(CollectSetFunc::new())),
    ]
    .into_iter()
    .chain(aggregate::aggregate_functions())
    .collect()
}

/// The expression planner that sends `map(k1, v1, …)` and unnamed struct literals to the
/// Hive functions of this module. Install it ahead of DataFusion's default planners.
pub fn expr_planner() -> Arc<dyn datafusion::logical_expr::planner::ExprPlanner> {
    Arc::new(HiveExprPlanner)
}

/// The `Documentation` of a Hive function: what it does, its call syntax and an example.
pub(crate) fn hive_doc(
    section: DocSection,
    description: &str,
    syntax: &str,
    example: &str,
) -> Documentation {
    Documentation::builder(section, description, syntax)
        .with_sql_example(example)
        .build()
}

/// The error for a function called with arguments it cannot take, naming the function.
pub(crate) fn hive_arg_error(name: &str, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("{name}: {message}"))
}

/// Whether a type is one of Hive's string types (string, char, varchar: `Utf8` in any of
/// Arrow's layouts) or an untyped NULL, for functions that, like Hive's, refuse the rest.
pub(crate) fn is_string_or_null(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, value) => is_string_or_null(value),
        _ => false,
    }
}

/// Runs `kernel` on the first argument as an array, leaving the others as they are (so that
/// a constant pattern is compiled once); when every argument is a scalar, so is the result.
pub(crate) fn evaluate_on_first(
    args: &[ColumnarValue],
    number_rows: usize,
    kernel: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let Some(first) = args.first() else {
        return datafusion::common::exec_err!("no arguments");
    };
    let result = kernel(&first.to_array(if all_scalar { 1 } else { number_rows })?)?;
    if all_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Runs a row-wise `kernel` on the arguments: scalars are expanded to arrays first, and
/// when every argument is a scalar the result is a scalar too.
pub(crate) fn evaluate_rowwise(
    args: &[ColumnarValue],
    kernel: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let result = kernel(&arrays)?;
    if all_scalar && result.len() == 1 {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}
