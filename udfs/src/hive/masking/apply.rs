//! Applying a masking transformation to a column of any of the types Hive's `BaseMaskUDF`
//! takes: strings, `tinyint` to `bigint` and dates are transformed; any other primitive type
//! gives NULL of that type; nested types are refused.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, PrimitiveArray, StringArray, new_null_array,
};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::Result;

use crate::hive::hive_arg_error;

/// One masking rule, as it applies to each kind of value.
pub(super) trait ValueMasker {
    /// The masked string, or `None` for NULL.
    fn string(&self, value: &str) -> Result<Option<String>>;
    /// The masked integer of a `bits`-bit type, or `None` for NULL.
    fn integer(&self, value: i64, bits: u32) -> Option<i64>;
    /// The masked date (days since the epoch), or `None` for NULL.
    fn date(&self, days: i32) -> Result<Option<i32>>;
}

/// The type a `mask*` function takes its first argument as: strings as `Utf8`, the rest as
/// they are; nested types are refused.
pub(super) fn coerce_value_type(name: &str, data_type: &DataType) -> Result<DataType> {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(DataType::Utf8),
        DataType::Dictionary(_, value) => coerce_value_type(name, value),
        t if t.is_nested() => Err(hive_arg_error(
            name,
            format!("the value to mask must be of a primitive type, got {t}"),
        )),
        t => Ok(t.clone()),
    }
}

fn integers<T>(array: &ArrayRef, bits: u32, masker: &dyn ValueMasker) -> Result<ArrayRef>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64> + TryFrom<i64>,
{
    let values = array.as_primitive::<T>();
    let out: PrimitiveArray<T> = values
        .iter()
        .map(|v| {
            v.and_then(|v| masker.integer(v.into(), bits))
                .and_then(|m| T::Native::try_from(m).ok())
        })
        .collect();
    Ok(Arc::new(out))
}

/// Masks every value of `array` (already of its coerced type).
pub(super) fn mask_array(masker: &dyn ValueMasker, array: &ArrayRef) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Utf8 => {
            let values = array.as_string::<i32>();
            let out = values
                .iter()
                .map(|v| v.map(|s| masker.string(s)).transpose().map(Option::flatten))
                .collect::<Result<StringArray>>()?;
            Ok(Arc::new(out))
        }
        DataType::Int8 => integers::<Int8Type>(array, 8, masker),
        DataType::Int16 => integers::<Int16Type>(array, 16, masker),
        DataType::Int32 => integers::<Int32Type>(array, 32, masker),
        DataType::Int64 => integers::<Int64Type>(array, 64, masker),
        DataType::Date32 => {
            let values = array.as_primitive::<Date32Type>();
            let out = values
                .iter()
                .map(|v| v.map(|d| masker.date(d)).transpose().map(Option::flatten))
                .collect::<Result<Date32Array>>()?;
            Ok(Arc::new(out))
        }
        other => Ok(new_null_array(other, array.len())),
    }
}
