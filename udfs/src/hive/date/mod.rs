//! Hive's date functions (`year` … `second`, `date_add`, `datediff`, `unix_timestamp`, `from_unixtime`, `date_format` with Java `SimpleDateFormat` patterns, ...).
//!
//! They read strings as Hive 4 does (an unreadable one is NULL), DATE and TIMESTAMP values
//! without a time zone (the session's is UTC). Most are a [`udf::DateFunc`]: a name, an
//! argument coercion, a return type and a row-wise kernel.

mod current;
mod days;
mod epoch_milli;
mod fields;
mod floor;
mod format;
mod input;
mod last_next;
mod months;
mod pattern;
mod trunc;
mod udf;
mod unix;
mod utc;

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::ScalarUDF;

/// A type as Hive would name it in an error message.
pub(crate) fn hive_type(t: &DataType) -> String {
    match t {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Null => "void".into(),
        other => other.to_string(),
    }
}

/// This family's scalar functions, registered over DataFusion's of the same names.
pub(crate) fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    [
        fields::functions(),
        days::functions(),
        months::functions(),
        last_next::functions(),
        trunc::functions(),
        unix::functions(),
        format::functions(),
        utc::functions(),
        floor::functions(),
        current::functions(),
        epoch_milli::functions(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
