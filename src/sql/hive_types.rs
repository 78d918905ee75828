//! Hive's names for Arrow types, as `DESCRIBE` shows them.

use datafusion::arrow::datatypes::{DataType, TimeUnit};

/// The Hive type name of `data_type` (`string`, `array<int>`, `map<string,string>`,
/// `struct<a:int,b:string>`, ...); Arrow's own name where Hive has none.
pub fn hive_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            format!("{data_type}").to_ascii_lowercase()
        }
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with local time zone".into(),
        DataType::Time32(_) | DataType::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => {
            "string".into()
        }
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => {
            format!("array<{}>", hive_type_name(f.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                hive_type_name(kv[0].data_type()),
                hive_type_name(kv[1].data_type())
            ),
            other => format!("map<{other}>"),
        },
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Dictionary(_, value) => hive_type_name(value),
        other => format!("{other}").to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, Fields};

    use super::*;

    #[test]
    fn nested_types_read_like_hive() {
        let item = Arc::new(Field::new("item", DataType::Int32, true));
        assert_eq!(hive_type_name(&DataType::List(item)), "array<int>");
        let kv = Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Float64, true),
        ]);
        let entries = Arc::new(Field::new("entries", DataType::Struct(kv), false));
        assert_eq!(
            hive_type_name(&DataType::Map(entries, false)),
            "map<string,double>"
        );
        let st = DataType::Struct(Fields::from(vec![
            Field::new("sku", DataType::Utf8View, true),
            Field::new("qty", DataType::Int64, true),
        ]));
        assert_eq!(hive_type_name(&st), "struct<sku:string,qty:bigint>");
        assert_eq!(
            hive_type_name(&DataType::Decimal128(10, 2)),
            "decimal(10,2)"
        );
    }
}
