//! Hive's names for Arrow types, as `DESCRIBE` shows them, and the parser of Hive type names
//! (`STRING`, `DECIMAL(10,2)`, `ARRAY<MAP<STRING,INT>>`, `STRUCT<a:INT,b:STRING>`, ...) that the
//! warehouse uses for DDL and for the types it stores in its metastore.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use datafusion::common::{DataFusionError, Result};

/// Parses a Hive type name into the Arrow type Apiary stores it as. Case-insensitive;
/// whitespace is ignored. `VARCHAR(n)`/`CHAR(n)` are strings; `DECIMAL` is `DECIMAL(10,0)`.
pub fn parse_hive_type(text: &str) -> Result<DataType> {
    let tokens = type_tokens(text);
    let mut pos = 0;
    let data_type = parse_type(&tokens, &mut pos, text)?;
    if pos != tokens.len() {
        return Err(type_error(text, "unexpected text after the type"));
    }
    Ok(data_type)
}

fn type_error(text: &str, why: &str) -> DataFusionError {
    DataFusionError::Plan(format!("invalid Hive type '{}': {why}", text.trim()))
}

fn type_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() && c != '`' {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

fn expect(tokens: &[String], pos: &mut usize, what: &str, text: &str) -> Result<()> {
    if tokens.get(*pos).map(String::as_str) == Some(what) {
        *pos += 1;
        Ok(())
    } else {
        Err(type_error(text, &format!("expected '{what}'")))
    }
}

fn number(tokens: &[String], pos: &mut usize, text: &str) -> Result<u32> {
    let n = tokens
        .get(*pos)
        .and_then(|t| t.parse::<u32>().ok())
        .ok_or_else(|| type_error(text, "expected a number"))?;
    *pos += 1;
    Ok(n)
}

/// Optional `(n)` or `(p, s)` after a type name.
fn type_args(tokens: &[String], pos: &mut usize, text: &str) -> Result<Vec<u32>> {
    let mut args = Vec::new();
    if tokens.get(*pos).map(String::as_str) == Some("(") {
        *pos += 1;
        args.push(number(tokens, pos, text)?);
        while tokens.get(*pos).map(String::as_str) == Some(",") {
            *pos += 1;
            args.push(number(tokens, pos, text)?);
        }
        expect(tokens, pos, ")", text)?;
    }
    Ok(args)
}

fn parse_type(tokens: &[String], pos: &mut usize, text: &str) -> Result<DataType> {
    let name = tokens
        .get(*pos)
        .ok_or_else(|| type_error(text, "missing type name"))?
        .to_ascii_lowercase();
    *pos += 1;
    let simple = match name.as_str() {
        "string" => Some(DataType::Utf8),
        "boolean" | "bool" => Some(DataType::Boolean),
        "tinyint" => Some(DataType::Int8),
        "smallint" => Some(DataType::Int16),
        "int" | "integer" => Some(DataType::Int32),
        "bigint" => Some(DataType::Int64),
        "uint8" => Some(DataType::UInt8),
        "uint16" => Some(DataType::UInt16),
        "uint32" => Some(DataType::UInt32),
        "uint64" => Some(DataType::UInt64),
        "float" | "real" => Some(DataType::Float32),
        "date" => Some(DataType::Date32),
        "binary" => Some(DataType::Binary),
        _ => None,
    };
    if let Some(t) = simple {
        return Ok(t);
    }
    match name.as_str() {
        "double" => {
            if tokens
                .get(*pos)
                .is_some_and(|t| t.eq_ignore_ascii_case("precision"))
            {
                *pos += 1;
            }
            Ok(DataType::Float64)
        }
        "varchar" | "char" => {
            type_args(tokens, pos, text)?;
            Ok(DataType::Utf8)
        }
        "timestamp" => {
            // `timestamp with local time zone`, as DESCRIBE prints zoned timestamps.
            if tokens
                .get(*pos)
                .is_some_and(|t| t.eq_ignore_ascii_case("with"))
            {
                for word in ["with", "local", "time", "zone"] {
                    if !tokens
                        .get(*pos)
                        .is_some_and(|t| t.eq_ignore_ascii_case(word))
                    {
                        return Err(type_error(text, "expected WITH LOCAL TIME ZONE"));
                    }
                    *pos += 1;
                }
                return Ok(DataType::Timestamp(
                    TimeUnit::Nanosecond,
                    Some("UTC".into()),
                ));
            }
            Ok(DataType::Timestamp(TimeUnit::Nanosecond, None))
        }
        "decimal" | "numeric" => {
            let args = type_args(tokens, pos, text)?;
            let (p, s) = match args.as_slice() {
                [] => (10, 0),
                [p] => (*p, 0),
                [p, s] => (*p, *s),
                _ => return Err(type_error(text, "DECIMAL takes (precision, scale)")),
            };
            if !(1..=38).contains(&p) || s > p {
                return Err(type_error(
                    text,
                    "DECIMAL precision must be 1..38 and scale at most the precision",
                ));
            }
            Ok(DataType::Decimal128(p as u8, s as i8))
        }
        "array" => {
            expect(tokens, pos, "<", text)?;
            let item = parse_type(tokens, pos, text)?;
            expect(tokens, pos, ">", text)?;
            Ok(DataType::List(Arc::new(Field::new("item", item, true))))
        }
        "map" => {
            expect(tokens, pos, "<", text)?;
            let key = parse_type(tokens, pos, text)?;
            if tokens.get(*pos).map(String::as_str) != Some(",") {
                return Err(type_error(text, "MAP takes a key type and a value type"));
            }
            *pos += 1;
            let value = parse_type(tokens, pos, text)?;
            expect(tokens, pos, ">", text)?;
            let entries = Fields::from(vec![
                Field::new("key", key, false),
                Field::new("value", value, true),
            ]);
            Ok(DataType::Map(
                Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                false,
            ))
        }
        "struct" => {
            expect(tokens, pos, "<", text)?;
            let mut fields = Vec::new();
            loop {
                let field = tokens
                    .get(*pos)
                    .ok_or_else(|| type_error(text, "expected a field name"))?
                    .clone();
                *pos += 1;
                expect(tokens, pos, ":", text)?;
                let t = parse_type(tokens, pos, text)?;
                fields.push(Field::new(field, t, true));
                if tokens.get(*pos).map(String::as_str) == Some(",") {
                    *pos += 1;
                    continue;
                }
                break;
            }
            expect(tokens, pos, ">", text)?;
            Ok(DataType::Struct(Fields::from(fields)))
        }
        _ => Err(type_error(text, &format!("unknown type '{name}'"))),
    }
}

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

    #[test]
    fn hive_type_names_parse_and_round_trip() {
        for name in [
            "string",
            "int",
            "bigint",
            "double",
            "boolean",
            "date",
            "timestamp",
            "decimal(10,2)",
            "array<int>",
            "map<string,int>",
            "struct<x:int,y:string>",
            "array<map<string,array<double>>>",
            "struct<a:struct<b:bigint>,c:array<string>>",
        ] {
            let t = parse_hive_type(name).unwrap_or(DataType::Null);
            assert_eq!(hive_type_name(&t), name, "{name}");
        }
        assert_eq!(parse_hive_type("VARCHAR(20)").ok(), Some(DataType::Utf8));
        assert_eq!(
            parse_hive_type("DECIMAL").ok(),
            Some(DataType::Decimal128(10, 0))
        );
        for bad in ["strin", "array<int", "map<int>", "decimal(40,2)", "int int"] {
            let e = parse_hive_type(bad).err().map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.contains("invalid Hive type")),
                "{bad}: {e:?}"
            );
        }
    }
}
