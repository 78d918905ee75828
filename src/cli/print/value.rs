//! Cell values as the Hive CLI prints them: Java-style floats, Hive timestamps, compact
//! collections with quoted strings.

use super::*;

/// A float as Java's `Double.toString` / `Float.toString` writes it: `1.0`, `0.5`,
/// `1.0E7`, `1.5E-5`, `NaN`, `Infinity`.
pub(super) fn push_java_float<F: std::fmt::Display + std::fmt::LowerExp>(
    buf: &mut String,
    value: F,
    wide: f64,
) {
    if wide.is_nan() {
        buf.push_str("NaN");
    } else if wide.is_infinite() {
        buf.push_str(if wide > 0.0 { "Infinity" } else { "-Infinity" });
    } else if wide == 0.0 {
        buf.push_str(if wide.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        });
    } else if (1e-3..1e7).contains(&wide.abs()) {
        let start = buf.len();
        let _ = write!(buf, "{value}");
        if !buf[start..].contains('.') {
            buf.push_str(".0");
        }
    } else {
        let scientific = format!("{value:e}");
        let (mantissa, exponent) = scientific
            .split_once('e')
            .unwrap_or((scientific.as_str(), "0"));
        buf.push_str(mantissa);
        if !mantissa.contains('.') {
            buf.push_str(".0");
        }
        buf.push('E');
        buf.push_str(exponent);
    }
}

/// Drops trailing zeros of a timestamp's fraction (`05.120` → `05.12`), as Hive does.
pub(super) fn trim_fraction(text: &mut String) {
    let Some(dot) = text.rfind('.') else {
        return;
    };
    let fraction = &text[dot + 1..];
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return;
    }
    let kept = fraction.trim_end_matches('0').len();
    if kept == 0 {
        text.truncate(dot);
    } else {
        text.truncate(dot + 1 + kept);
    }
}

/// One formatter per column of `batch`.
pub(super) fn column_formatters(batch: &RecordBatch) -> Result<Vec<CellFormatter<'_>>> {
    Ok(batch
        .columns()
        .iter()
        .map(|c| CellFormatter::try_new(c.as_ref()))
        .collect::<Result<Vec<_>, ArrowError>>()?)
}

/// Formats the values of one array, built once and used for every row.
pub(super) struct CellFormatter<'a> {
    /// The number of values.
    len: usize,
    /// Logical nulls, for the kinds that do not work them out themselves.
    nulls: Option<NullBuffer>,
    kind: Kind<'a>,
}

/// What a [`CellFormatter`] knows about its array's type.
pub(super) enum Kind<'a> {
    /// The `Null` type: every value is NULL.
    Null,
    /// Integers, decimals and booleans: the text is a JSON literal, never quoted.
    Literal(ArrayFormatter<'a>),
    /// Strings: raw at top level, quoted inside collections and in JSON.
    Str(Strings<'a>),
    /// Other scalars (dates, times, binary, intervals): quoted like strings.
    Text(ArrayFormatter<'a>),
    /// Timestamps: like [`Kind::Text`], with the fraction trimmed.
    Timestamp(ArrayFormatter<'a>),
    /// Half floats, in Java's notation.
    Float16(&'a Float16Array),
    /// Floats, in Java's notation.
    Float32(&'a Float32Array),
    /// Doubles, in Java's notation.
    Float64(&'a Float64Array),
    /// Any list type: `[a,b]`.
    List {
        lists: Lists<'a>,
        items: Box<CellFormatter<'a>>,
    },
    /// A map: `{k:v}`.
    Map {
        map: &'a MapArray,
        keys: Box<CellFormatter<'a>>,
        values: Box<CellFormatter<'a>>,
    },
    /// A struct: `{"field":v}`.
    Struct {
        names: Vec<&'a str>,
        fields: Vec<CellFormatter<'a>>,
    },
    /// A dictionary: its values, looked up through its keys.
    Dictionary {
        keys: &'a dyn Array,
        values: Box<CellFormatter<'a>>,
    },
}

/// The string array types.
pub(super) enum Strings<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl Strings<'_> {
    /// The string at `row`.
    pub(super) fn value(&self, row: usize) -> &str {
        match self {
            Strings::Utf8(a) => a.value(row),
            Strings::LargeUtf8(a) => a.value(row),
            Strings::Utf8View(a) => a.value(row),
        }
    }
}

/// The list array types.
pub(super) enum Lists<'a> {
    List(&'a GenericListArray<i32>),
    LargeList(&'a GenericListArray<i64>),
    FixedSize(&'a FixedSizeListArray),
    ListView(&'a GenericListViewArray<i32>),
    LargeListView(&'a GenericListViewArray<i64>),
}

impl Lists<'_> {
    /// The positions in the child array of the list at `row`.
    pub(super) fn range(&self, row: usize) -> Range<usize> {
        fn span<O: ArrowNativeType>(start: O, len: O) -> Range<usize> {
            let start = start.as_usize();
            start..start + len.as_usize()
        }
        match self {
            Lists::List(a) => {
                let offsets = a.value_offsets();
                offsets[row].as_usize()..offsets[row + 1].as_usize()
            }
            Lists::LargeList(a) => {
                let offsets = a.value_offsets();
                offsets[row].as_usize()..offsets[row + 1].as_usize()
            }
            Lists::FixedSize(a) => span(a.value_offset(row), a.value_length()),
            Lists::ListView(a) => span(a.value_offsets()[row], a.value_sizes()[row]),
            Lists::LargeListView(a) => span(a.value_offsets()[row], a.value_sizes()[row]),
        }
    }
}

/// The error for an array whose layout does not match its declared type.
pub(super) fn layout_error(data_type: &DataType) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "cannot print an array declared as {data_type}: its layout does not match"
    ))
}

impl<'a> CellFormatter<'a> {
    /// A formatter for every row of `array`.
    pub(super) fn try_new(array: &'a dyn Array) -> Result<Self, ArrowError> {
        let data_type = array.data_type();
        let bad = || layout_error(data_type);
        let kind = match data_type {
            DataType::Null => Kind::Null,
            DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => {
                Kind::Literal(ArrayFormatter::try_new(array, &OPTIONS)?)
            }
            DataType::Float16 => {
                Kind::Float16(array.as_primitive_opt::<Float16Type>().ok_or_else(bad)?)
            }
            DataType::Float32 => {
                Kind::Float32(array.as_primitive_opt::<Float32Type>().ok_or_else(bad)?)
            }
            DataType::Float64 => {
                Kind::Float64(array.as_primitive_opt::<Float64Type>().ok_or_else(bad)?)
            }
            DataType::Utf8 => {
                Kind::Str(Strings::Utf8(array.as_string_opt::<i32>().ok_or_else(bad)?))
            }
            DataType::LargeUtf8 => Kind::Str(Strings::LargeUtf8(
                array.as_string_opt::<i64>().ok_or_else(bad)?,
            )),
            DataType::Utf8View => Kind::Str(Strings::Utf8View(
                array.as_string_view_opt().ok_or_else(bad)?,
            )),
            DataType::Timestamp(_, _) => Kind::Timestamp(ArrayFormatter::try_new(array, &OPTIONS)?),
            DataType::List(_) => {
                let list = array.as_list_opt::<i32>().ok_or_else(bad)?;
                Kind::List {
                    lists: Lists::List(list),
                    items: Box::new(Self::try_new(list.values().as_ref())?),
                }
            }
            DataType::LargeList(_) => {
                let list = array.as_list_opt::<i64>().ok_or_else(bad)?;
                Kind::List {
                    lists: Lists::LargeList(list),
                    items: Box::new(Self::try_new(list.values().as_ref())?),
                }
            }
            DataType::FixedSizeList(_, _) => {
                let list = array.as_fixed_size_list_opt().ok_or_else(bad)?;
                Kind::List {
                    lists: Lists::FixedSize(list),
                    items: Box::new(Self::try_new(list.values().as_ref())?),
                }
            }
            DataType::ListView(_) => {
                let list = array.as_list_view_opt::<i32>().ok_or_else(bad)?;
                Kind::List {
                    lists: Lists::ListView(list),
                    items: Box::new(Self::try_new(list.values().as_ref())?),
                }
            }
            DataType::LargeListView(_) => {
                let list = array.as_list_view_opt::<i64>().ok_or_else(bad)?;
                Kind::List {
                    lists: Lists::LargeListView(list),
                    items: Box::new(Self::try_new(list.values().as_ref())?),
                }
            }
            DataType::Map(_, _) => {
                let map = array.as_map_opt().ok_or_else(bad)?;
                Kind::Map {
                    map,
                    keys: Box::new(Self::try_new(map.keys().as_ref())?),
                    values: Box::new(Self::try_new(map.values().as_ref())?),
                }
            }
            DataType::Struct(fields) => {
                let array = array.as_struct_opt().ok_or_else(bad)?;
                Kind::Struct {
                    names: fields.iter().map(|f| f.name().as_str()).collect(),
                    fields: array
                        .columns()
                        .iter()
                        .map(|c| Self::try_new(c.as_ref()))
                        .collect::<Result<_, _>>()?,
                }
            }
            DataType::Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary_opt().ok_or_else(bad)?;
                Kind::Dictionary {
                    keys: dictionary.keys(),
                    values: Box::new(Self::try_new(dictionary.values().as_ref())?),
                }
            }
            _ => Kind::Text(ArrayFormatter::try_new(array, &OPTIONS)?),
        };
        let nulls = match kind {
            Kind::Null | Kind::Dictionary { .. } => None,
            _ => array.logical_nulls(),
        };
        Ok(Self {
            len: array.len(),
            nulls,
            kind,
        })
    }

    /// Whether the value at `row` is NULL.
    pub(super) fn is_null(&self, row: usize) -> bool {
        match &self.kind {
            Kind::Null => true,
            Kind::Dictionary { keys, values } => {
                dictionary_key(*keys, row, values.len).is_none_or(|key| values.is_null(key))
            }
            _ => self.nulls.as_ref().is_some_and(|n| n.is_null(row)),
        }
    }

    /// The Hive CLI text of `row`, `None` for NULL.
    pub(super) fn hive_text(&self, row: usize) -> Option<String> {
        if self.is_null(row) {
            return None;
        }
        let mut text = String::new();
        self.write_hive(row, &mut text, false);
        Some(text)
    }

    /// Writes the Hive text of `row`; `nested` is true inside a collection, where strings are
    /// quoted and NULL is `null`.
    pub(super) fn write_hive(&self, row: usize, buf: &mut String, nested: bool) {
        if self.is_null(row) {
            buf.push_str(if nested { "null" } else { "NULL" });
            return;
        }
        match &self.kind {
            Kind::Null => buf.push_str("null"),
            Kind::Literal(f) => {
                let _ = write!(buf, "{}", f.value(row));
            }
            Kind::Str(s) => {
                if nested {
                    push_json_string(buf, s.value(row));
                } else {
                    buf.push_str(s.value(row));
                }
            }
            Kind::Text(_) | Kind::Timestamp(_) => {
                let text = self.scalar_text(row);
                if nested {
                    push_json_string(buf, &text);
                } else {
                    buf.push_str(&text);
                }
            }
            Kind::Float16(a) => {
                let v = a.value(row).to_f32();
                push_java_float(buf, v, f64::from(v));
            }
            Kind::Float32(a) => {
                let v = a.value(row);
                push_java_float(buf, v, f64::from(v));
            }
            Kind::Float64(a) => push_java_float(buf, a.value(row), a.value(row)),
            Kind::List { lists, items } => {
                buf.push('[');
                for (i, item) in lists.range(row).enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    items.write_hive(item, buf, true);
                }
                buf.push(']');
            }
            Kind::Map { map, keys, values } => {
                buf.push('{');
                let offsets = map.value_offsets();
                for (i, entry) in (offsets[row].as_usize()..offsets[row + 1].as_usize()).enumerate()
                {
                    if i > 0 {
                        buf.push(',');
                    }
                    keys.write_hive(entry, buf, true);
                    buf.push(':');
                    values.write_hive(entry, buf, true);
                }
                buf.push('}');
            }
            Kind::Struct { names, fields } => {
                buf.push('{');
                for (i, (name, field)) in names.iter().zip(fields).enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    push_json_string(buf, name);
                    buf.push(':');
                    field.write_hive(row, buf, true);
                }
                buf.push('}');
            }
            Kind::Dictionary { keys, values } => {
                if let Some(key) = dictionary_key(*keys, row, values.len) {
                    values.write_hive(key, buf, nested);
                }
            }
        }
    }

    /// Writes `row` as a JSON value: numbers and booleans bare, NaN and infinities `null`,
    /// other scalars as strings, maps and structs as objects.
    pub(super) fn write_json(&self, row: usize, buf: &mut String) {
        if self.is_null(row) {
            buf.push_str("null");
            return;
        }
        match &self.kind {
            Kind::Null => buf.push_str("null"),
            Kind::Float16(a) if !a.value(row).is_finite() => buf.push_str("null"),
            Kind::Float32(a) if !a.value(row).is_finite() => buf.push_str("null"),
            Kind::Float64(a) if !a.value(row).is_finite() => buf.push_str("null"),
            Kind::Literal(_)
            | Kind::Str(_)
            | Kind::Text(_)
            | Kind::Timestamp(_)
            | Kind::Float16(_)
            | Kind::Float32(_)
            | Kind::Float64(_) => self.write_hive(row, buf, true),
            Kind::List { lists, items } => {
                buf.push('[');
                for (i, item) in lists.range(row).enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    items.write_json(item, buf);
                }
                buf.push(']');
            }
            Kind::Map { map, keys, values } => {
                buf.push('{');
                let offsets = map.value_offsets();
                for (i, entry) in (offsets[row].as_usize()..offsets[row + 1].as_usize()).enumerate()
                {
                    if i > 0 {
                        buf.push(',');
                    }
                    let key = keys.hive_text(entry);
                    push_json_string(buf, key.as_deref().unwrap_or("null"));
                    buf.push(':');
                    values.write_json(entry, buf);
                }
                buf.push('}');
            }
            Kind::Struct { names, fields } => {
                buf.push('{');
                for (i, (name, field)) in names.iter().zip(fields).enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    push_json_string(buf, name);
                    buf.push(':');
                    field.write_json(row, buf);
                }
                buf.push('}');
            }
            Kind::Dictionary { keys, values } => match dictionary_key(*keys, row, values.len) {
                Some(key) => values.write_json(key, buf),
                None => buf.push_str("null"),
            },
        }
    }

    /// The bare text of a [`Kind::Text`] or [`Kind::Timestamp`] value.
    pub(super) fn scalar_text(&self, row: usize) -> String {
        match &self.kind {
            Kind::Text(f) => f.value(row).to_string(),
            Kind::Timestamp(f) => {
                let mut text = f.value(row).to_string();
                trim_fraction(&mut text);
                text
            }
            _ => String::new(),
        }
    }
}

/// The position in the dictionary's values of the value at `row`; `None` when the key is
/// NULL or out of range.
pub(super) fn dictionary_key(keys: &dyn Array, row: usize, values: usize) -> Option<usize> {
    if keys.is_null(row) {
        return None;
    }
    let key = match keys.data_type() {
        DataType::Int8 => keys.as_primitive_opt::<Int8Type>()?.value(row).to_usize(),
        DataType::Int16 => keys.as_primitive_opt::<Int16Type>()?.value(row).to_usize(),
        DataType::Int32 => keys.as_primitive_opt::<Int32Type>()?.value(row).to_usize(),
        DataType::Int64 => keys.as_primitive_opt::<Int64Type>()?.value(row).to_usize(),
        DataType::UInt8 => keys.as_primitive_opt::<UInt8Type>()?.value(row).to_usize(),
        DataType::UInt16 => keys.as_primitive_opt::<UInt16Type>()?.value(row).to_usize(),
        DataType::UInt32 => keys.as_primitive_opt::<UInt32Type>()?.value(row).to_usize(),
        DataType::UInt64 => keys.as_primitive_opt::<UInt64Type>()?.value(row).to_usize(),
        _ => None,
    }?;
    (key < values).then_some(key)
}
