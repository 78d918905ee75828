//! GetXdbcTypeInfo: the SQL types Apiary's tables take, as JDBC/ODBC clients read them.

use arrow_flight::sql::metadata::{XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder};
use arrow_flight::sql::{Nullable, Searchable, XdbcDataType};

/// One row: a Hive type name, its XDBC type, its size and whether it is numeric.
fn row(
    name: &str,
    data_type: XdbcDataType,
    column_size: Option<i32>,
    numeric: bool,
) -> XdbcTypeInfo {
    let quoted = matches!(
        data_type,
        XdbcDataType::XdbcVarchar | XdbcDataType::XdbcDate | XdbcDataType::XdbcTimestamp
    );
    XdbcTypeInfo {
        type_name: name.to_string(),
        data_type,
        column_size,
        literal_prefix: quoted.then(|| "'".to_string()),
        literal_suffix: quoted.then(|| "'".to_string()),
        create_params: (name == "DECIMAL").then(|| vec!["precision".into(), "scale".into()]),
        nullable: Nullable::NullabilityNullable,
        case_sensitive: data_type == XdbcDataType::XdbcVarchar,
        searchable: Searchable::Full,
        unsigned_attribute: numeric.then_some(false),
        fixed_prec_scale: false,
        auto_increment: numeric.then_some(false),
        local_type_name: Some(name.to_string()),
        minimum_scale: (name == "DECIMAL").then_some(0),
        maximum_scale: (name == "DECIMAL").then_some(38),
        sql_data_type: data_type,
        datetime_subcode: None,
        num_prec_radix: numeric.then_some(10),
        interval_precision: None,
    }
}

/// The type table, built once per server.
pub fn xdbc_type_info() -> Result<XdbcTypeInfoData, arrow_flight::error::FlightError> {
    let mut builder = XdbcTypeInfoDataBuilder::new();
    for info in [
        row("BOOLEAN", XdbcDataType::XdbcBit, Some(1), false),
        row("TINYINT", XdbcDataType::XdbcTinyint, Some(3), true),
        row("SMALLINT", XdbcDataType::XdbcSmallint, Some(5), true),
        row("INT", XdbcDataType::XdbcInteger, Some(10), true),
        row("BIGINT", XdbcDataType::XdbcBigint, Some(19), true),
        row("FLOAT", XdbcDataType::XdbcFloat, Some(7), true),
        row("DOUBLE", XdbcDataType::XdbcDouble, Some(15), true),
        row("DECIMAL", XdbcDataType::XdbcDecimal, Some(38), true),
        row("STRING", XdbcDataType::XdbcVarchar, Some(i32::MAX), false),
        row("BINARY", XdbcDataType::XdbcVarbinary, Some(i32::MAX), false),
        row("DATE", XdbcDataType::XdbcDate, Some(10), false),
        row("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some(29), false),
        row("ARRAY", XdbcDataType::XdbcUnknownType, None, false),
        row("MAP", XdbcDataType::XdbcUnknownType, None, false),
        row("STRUCT", XdbcDataType::XdbcUnknownType, None, false),
    ] {
        builder.append(info);
    }
    builder.build()
}
