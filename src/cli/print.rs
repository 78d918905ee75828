//! Writing query results the way a Hive user expects: a box table, CSV, TSV or NDJSON.
//!
//! Every cell goes through one formatter, [`hive_text`]'s rules: values as the Hive CLI
//! prints them (`1.0`, `2024-01-02 03:04:05`, `["a",null]`, `{"k":1}`). The line formats
//! (CSV, TSV, JSON) write each batch as it arrives; only the table waits for the whole
//! result, because its column widths depend on every row.

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Range;

use datafusion::arrow::array::{
    Array, AsArray, FixedSizeListArray, Float16Array, Float32Array, Float64Array, GenericListArray,
    GenericListViewArray, LargeStringArray, MapArray, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    ArrowNativeType, DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, Schema, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, DurationFormat, FormatOptions};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;

/// How query results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// A box table with aligned columns.
    #[default]
    Table,
    /// Comma-separated values with a header row (RFC 4180 quoting), one line per row.
    Csv,
    /// Tab-separated values with a header row; NULL as `NULL`, specials backslash-escaped.
    Tsv,
    /// One JSON object per row (NDJSON), keyed by column name.
    Json,
}

/// The widest a table cell gets, in characters; longer text ends in `…`.
const MAX_CELL_WIDTH: usize = 60;

/// How arrow's own formatter writes the scalars Apiary does not format itself.
const OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_display_error(true)
    .with_date_format(Some("%Y-%m-%d"))
    .with_datetime_format(Some("%Y-%m-%d"))
    .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_duration_format(DurationFormat::Pretty);

/// Writes `stream` to `out` in `format` and returns the number of rows written.
///
/// A result without columns (DDL, `SET`) is run to its end and prints nothing. Errors from
/// `out` (a closed pipe among them) come back as [`DataFusionError::IoError`].
pub async fn print_stream(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
) -> Result<usize> {
    if stream.schema().fields().is_empty() {
        while let Some(batch) = stream.next().await {
            batch?;
        }
        return Ok(0);
    }
    match format {
        OutputFormat::Table => print_table(out, stream).await,
        OutputFormat::Csv | OutputFormat::Tsv | OutputFormat::Json => {
            print_lines(out, stream, format).await
        }
    }
}

/// The text the Hive CLI shows for `array[row]`; `None` for NULL (or a row past the end).
///
/// Scalars print bare (`abc`, `1.0`, `2024-01-02 03:04:05.5`); collections print compact,
/// with strings quoted inside them: `[1,2]`, `{"k":"v"}`, `{1:"a"}`, `{"x":null}`.
pub fn hive_text(array: &dyn Array, row: usize) -> Option<String> {
    if row >= array.len() {
        return None;
    }
    match CellFormatter::try_new(array) {
        Ok(formatter) => formatter.hive_text(row),
        Err(e) => Some(format!("ERROR: {e}")),
    }
}

/// CSV, TSV and JSON: a header (not for JSON), then each batch as it arrives.
async fn print_lines(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
) -> Result<usize> {
    let schema = stream.schema();
    let mut buf = String::new();
    write_header(&mut buf, &schema, format);
    emit(out, &mut buf)?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        write_rows(&mut buf, &schema, &batch, format)?;
        emit(out, &mut buf)?;
        rows += batch.num_rows();
    }
    Ok(rows)
}

/// The header line of the line formats; JSON has none.
fn write_header(buf: &mut String, schema: &Schema, format: OutputFormat) {
    let (separator, push): (char, fn(&mut String, &str)) = match format {
        OutputFormat::Csv => (',', push_csv_field),
        OutputFormat::Tsv => ('\t', push_tsv_field),
        OutputFormat::Json | OutputFormat::Table => return,
    };
    for (i, field) in schema.fields().iter().enumerate() {
        if i > 0 {
            buf.push(separator);
        }
        push(buf, field.name());
    }
    buf.push('\n');
}

/// One line per row of `batch` in a line format.
fn write_rows(
    buf: &mut String,
    schema: &Schema,
    batch: &RecordBatch,
    format: OutputFormat,
) -> Result<()> {
    let columns = column_formatters(batch)?;
    let mut text = String::new();
    for row in 0..batch.num_rows() {
        if format == OutputFormat::Json {
            buf.push('{');
        }
        for (i, column) in columns.iter().enumerate() {
            match format {
                OutputFormat::Csv | OutputFormat::Tsv => {
                    if i > 0 {
                        buf.push(if format == OutputFormat::Csv {
                            ','
                        } else {
                            '\t'
                        });
                    }
                    if column.is_null(row) {
                        if format == OutputFormat::Tsv {
                            buf.push_str("NULL");
                        }
                        continue;
                    }
                    text.clear();
                    column.write_hive(row, &mut text, false);
                    if format == OutputFormat::Csv {
                        push_csv_field(buf, &text);
                    } else {
                        push_tsv_field(buf, &text);
                    }
                }
                OutputFormat::Json | OutputFormat::Table => {
                    if i > 0 {
                        buf.push(',');
                    }
                    let name = schema.fields().get(i).map_or("", |f| f.name().as_str());
                    push_json_string(buf, name);
                    buf.push(':');
                    column.write_json(row, buf);
                }
            }
        }
        if format == OutputFormat::Json {
            buf.push('}');
        }
        buf.push('\n');
    }
    Ok(())
}

/// The table: every row is read first, then drawn with `+---+` borders.
async fn print_table(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
) -> Result<usize> {
    let schema = stream.schema();
    let right_aligned: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let header: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| table_cell(f.name()))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let columns = column_formatters(&batch)?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| table_cell(c.hive_text(row).as_deref().unwrap_or("NULL")))
                .collect();
            for (width, cell) in widths.iter_mut().zip(&cells) {
                *width = (*width).max(cell.chars().count());
            }
            rows.push(cells);
        }
    }

    let mut border = String::from("+");
    for width in &widths {
        border.push_str(&"-".repeat(width + 2));
        border.push('+');
    }
    border.push('\n');

    let mut buf = String::new();
    buf.push_str(&border);
    push_table_row(&mut buf, &header, &widths, &right_aligned);
    buf.push_str(&border);
    if !rows.is_empty() {
        for cells in &rows {
            push_table_row(&mut buf, cells, &widths, &right_aligned);
        }
        buf.push_str(&border);
    }
    emit(out, &mut buf)?;
    Ok(rows.len())
}

/// One `| a | b |` line of the table.
fn push_table_row(buf: &mut String, cells: &[String], widths: &[usize], right: &[bool]) {
    buf.push('|');
    for ((cell, &width), &right) in cells.iter().zip(widths).zip(right) {
        let _ = if right {
            write!(buf, " {cell:>width$} |")
        } else {
            write!(buf, " {cell:<width$} |")
        };
    }
    buf.push('\n');
}

/// A table cell: control characters escaped so a row stays on one line, cut to
/// [`MAX_CELL_WIDTH`] characters.
fn table_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => cell.push_str("\\n"),
            '\r' => cell.push_str("\\r"),
            '\t' => cell.push_str("\\t"),
            c => cell.push(c),
        }
    }
    if cell.chars().count() > MAX_CELL_WIDTH {
        let mut cut: String = cell.chars().take(MAX_CELL_WIDTH - 1).collect();
        cut.push('…');
        cut
    } else {
        cell
    }
}

/// Writes `buf` to `out`, flushes, and empties `buf`.
fn emit(out: &mut (dyn Write + Send), buf: &mut String) -> Result<()> {
    if !buf.is_empty() {
        out.write_all(buf.as_bytes())
            .map_err(DataFusionError::IoError)?;
        buf.clear();
    }
    out.flush().map_err(DataFusionError::IoError)
}

/// A CSV field (RFC 4180): quoted when it holds `,` `"` CR or LF, with `""` for a quote and
/// `\n` / `\r` for line breaks so that every row is one line. The empty string is `""`,
/// which tells it apart from NULL (an empty field).
fn push_csv_field(buf: &mut String, text: &str) {
    if text.is_empty() {
        buf.push_str("\"\"");
    } else if text.contains([',', '"', '\n', '\r']) {
        buf.push('"');
        for c in text.chars() {
            match c {
                '"' => buf.push_str("\"\""),
                '\n' => buf.push_str("\\n"),
                '\r' => buf.push_str("\\r"),
                c => buf.push(c),
            }
        }
        buf.push('"');
    } else {
        buf.push_str(text);
    }
}

/// A TSV field: tab, LF, CR and backslash written as `\t` `\n` `\r` `\\`.
fn push_tsv_field(buf: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\\' => buf.push_str("\\\\"),
            c => buf.push(c),
        }
    }
}

/// A JSON string literal for `text`.
fn push_json_string(buf: &mut String, text: &str) {
    buf.push('"');
    for c in text.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            '\u{8}' => buf.push_str("\\b"),
            '\u{c}' => buf.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(buf, "\\u{:04x}", u32::from(c));
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

/// A float as Java's `Double.toString` / `Float.toString` writes it: `1.0`, `0.5`,
/// `1.0E7`, `1.5E-5`, `NaN`, `Infinity`.
fn push_java_float<F: std::fmt::Display + std::fmt::LowerExp>(
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
fn trim_fraction(text: &mut String) {
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
fn column_formatters(batch: &RecordBatch) -> Result<Vec<CellFormatter<'_>>> {
    Ok(batch
        .columns()
        .iter()
        .map(|c| CellFormatter::try_new(c.as_ref()))
        .collect::<Result<Vec<_>, ArrowError>>()?)
}

/// Formats the values of one array, built once and used for every row.
struct CellFormatter<'a> {
    /// The number of values.
    len: usize,
    /// Logical nulls, for the kinds that do not work them out themselves.
    nulls: Option<NullBuffer>,
    kind: Kind<'a>,
}

/// What a [`CellFormatter`] knows about its array's type.
enum Kind<'a> {
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
enum Strings<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl Strings<'_> {
    /// The string at `row`.
    fn value(&self, row: usize) -> &str {
        match self {
            Strings::Utf8(a) => a.value(row),
            Strings::LargeUtf8(a) => a.value(row),
            Strings::Utf8View(a) => a.value(row),
        }
    }
}

/// The list array types.
enum Lists<'a> {
    List(&'a GenericListArray<i32>),
    LargeList(&'a GenericListArray<i64>),
    FixedSize(&'a FixedSizeListArray),
    ListView(&'a GenericListViewArray<i32>),
    LargeListView(&'a GenericListViewArray<i64>),
}

impl Lists<'_> {
    /// The positions in the child array of the list at `row`.
    fn range(&self, row: usize) -> Range<usize> {
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
fn layout_error(data_type: &DataType) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "cannot print an array declared as {data_type}: its layout does not match"
    ))
}

impl<'a> CellFormatter<'a> {
    /// A formatter for every row of `array`.
    fn try_new(array: &'a dyn Array) -> Result<Self, ArrowError> {
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
    fn is_null(&self, row: usize) -> bool {
        match &self.kind {
            Kind::Null => true,
            Kind::Dictionary { keys, values } => {
                dictionary_key(*keys, row, values.len).is_none_or(|key| values.is_null(key))
            }
            _ => self.nulls.as_ref().is_some_and(|n| n.is_null(row)),
        }
    }

    /// The Hive CLI text of `row`, `None` for NULL.
    fn hive_text(&self, row: usize) -> Option<String> {
        if self.is_null(row) {
            return None;
        }
        let mut text = String::new();
        self.write_hive(row, &mut text, false);
        Some(text)
    }

    /// Writes the Hive text of `row`; `nested` is true inside a collection, where strings are
    /// quoted and NULL is `null`.
    fn write_hive(&self, row: usize, buf: &mut String, nested: bool) {
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
    fn write_json(&self, row: usize, buf: &mut String) {
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
    fn scalar_text(&self, row: usize) -> String {
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
fn dictionary_key(keys: &dyn Array, row: usize, values: usize) -> Option<usize> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io;
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
        FixedSizeListArray, Int32Array, Int32Builder, Int64Array, LargeListArray, ListArray,
        ListBuilder, MapBuilder, NullArray, RecordBatchOptions, StringBuilder, StructArray,
        TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
        TimestampSecondArray,
    };
    use datafusion::arrow::buffer::OffsetBuffer;
    use datafusion::arrow::datatypes::{Field, Fields, SchemaRef};
    use datafusion::physical_plan::memory::MemoryStream;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    use super::*;

    /// Every row of `array` through [`hive_text`].
    fn texts(array: &dyn Array) -> Vec<Option<String>> {
        (0..array.len()).map(|row| hive_text(array, row)).collect()
    }

    /// `values` as the `Some` texts [`texts`] returns.
    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some((*v).to_string())).collect()
    }

    /// Prints `batches` in `format`, returning the text and the row count.
    async fn render(
        batches: Vec<RecordBatch>,
        schema: SchemaRef,
        format: OutputFormat,
    ) -> (String, usize) {
        let stream = MemoryStream::try_new(batches, schema, None).unwrap();
        let mut out: Vec<u8> = Vec::new();
        let rows = print_stream(&mut out, Box::pin(stream), format)
            .await
            .unwrap();
        (String::from_utf8(out).unwrap(), rows)
    }

    fn point_fields() -> Fields {
        Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("y", DataType::Utf8, true),
        ])
    }

    /// Structs `{x, y}` with rows `{1,"s"}`, `{2,null}` and a NULL struct.
    fn points() -> StructArray {
        StructArray::try_new(
            point_fields(),
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef,
                Arc::new(StringArray::from(vec![Some("s"), None, Some("t")])),
            ],
            Some(NullBuffer::from(vec![true, true, false])),
        )
        .unwrap()
    }

    /// Three rows covering quoting, escaping, collections, doubles and timestamps.
    fn sample() -> RecordBatch {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.values().append_null();
        tags.values().append_value("b");
        tags.append(true);
        tags.append(true);
        tags.append(false);

        let mut attrs = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        attrs.keys().append_value("a");
        attrs.values().append_value(1);
        attrs.keys().append_value("b");
        attrs.values().append_value(2);
        attrs.append(true).unwrap();
        attrs.append(true).unwrap();
        attrs.append(false).unwrap();

        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "name",
                Arc::new(StringArray::from(vec![
                    Some("plain"),
                    Some("has,comma \"q\"\nline2"),
                    None,
                ])),
            ),
            (
                "note",
                Arc::new(StringArray::from(vec!["", "tab\there", "back\\slash"])),
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![1.0, 0.5, f64::NAN])),
            ),
            ("tags", Arc::new(tags.finish())),
            ("attrs", Arc::new(attrs.finish())),
            ("point", Arc::new(points())),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(1_704_164_645_000_000),
                    Some(1_704_164_645_500_000),
                    None,
                ])),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn scalars_print_as_hive_does() {
        assert_eq!(
            texts(&StringArray::from(vec![Some("a b"), None])),
            vec![Some("a b".into()), None]
        );
        assert_eq!(texts(&StringViewArray::from(vec!["view"])), some(&["view"]));
        assert_eq!(texts(&Int64Array::from(vec![-5, 42])), some(&["-5", "42"]));
        assert_eq!(
            texts(&BooleanArray::from(vec![true, false])),
            some(&["true", "false"])
        );
        assert_eq!(
            texts(&Date32Array::from(vec![19_724])),
            some(&["2024-01-02"])
        );
        let decimal = Decimal128Array::from(vec![12_345, -5])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(texts(&decimal), some(&["123.45", "-0.05"]));
        assert_eq!(
            texts(&BinaryArray::from(vec![&b"\xde\xad"[..]])),
            some(&["dead"])
        );
        assert_eq!(texts(&NullArray::new(2)), vec![None, None]);
        assert_eq!(hive_text(&Int64Array::from(vec![1]), 5), None);
    }

    #[test]
    fn floats_print_as_java_does() {
        let doubles = Float64Array::from(vec![
            1.0,
            0.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e7,
            1.5e-5,
            123_456.789,
            -0.0,
            0.001,
            1e20,
            100.0,
            -2.5,
        ]);
        assert_eq!(
            texts(&doubles),
            some(&[
                "1.0",
                "0.5",
                "NaN",
                "Infinity",
                "-Infinity",
                "1.0E7",
                "1.5E-5",
                "123456.789",
                "-0.0",
                "0.001",
                "1.0E20",
                "100.0",
                "-2.5",
            ])
        );
        let floats = Float32Array::from(vec![0.1_f32, 3.4e38, 2.0]);
        assert_eq!(texts(&floats), some(&["0.1", "3.4E38", "2.0"]));
    }

    #[test]
    fn timestamps_show_a_fraction_only_when_there_is_one() {
        let micros =
            TimestampMicrosecondArray::from(vec![1_704_164_645_000_000, 1_704_164_645_500_000]);
        assert_eq!(
            texts(&micros),
            some(&["2024-01-02 03:04:05", "2024-01-02 03:04:05.5"])
        );
        let nanos = TimestampNanosecondArray::from(vec![1_704_164_645_123_456_789]);
        assert_eq!(texts(&nanos), some(&["2024-01-02 03:04:05.123456789"]));
        let millis = TimestampMillisecondArray::from(vec![1_704_164_645_120, -500]);
        assert_eq!(
            texts(&millis),
            some(&["2024-01-02 03:04:05.12", "1969-12-31 23:59:59.5"])
        );
        let zoned = TimestampSecondArray::from(vec![1_704_164_645]).with_timezone("+02:00");
        assert_eq!(texts(&zoned), some(&["2024-01-02 05:04:05"]));
    }

    #[test]
    fn collections_print_compact_with_quoted_strings() {
        let batch = sample();
        assert_eq!(
            texts(batch.column(4).as_ref()),
            vec![Some(r#"["a",null,"b"]"#.into()), Some("[]".into()), None]
        );
        assert_eq!(
            texts(batch.column(5).as_ref()),
            vec![Some(r#"{"a":1,"b":2}"#.into()), Some("{}".into()), None]
        );
        assert_eq!(
            texts(batch.column(6).as_ref()),
            vec![
                Some(r#"{"x":1,"y":"s"}"#.into()),
                Some(r#"{"x":2,"y":null}"#.into()),
                None
            ]
        );

        let mut quoted = ListBuilder::new(StringBuilder::new());
        quoted.values().append_value("say \"hi\"\n\\");
        quoted.append(true);
        assert_eq!(texts(&quoted.finish()), some(&[r#"["say \"hi\"\n\\"]"#]));
    }

    #[test]
    fn map_keys_are_quoted_only_when_strings() {
        let mut map = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
        map.keys().append_value(1);
        map.values().append_value("a");
        map.keys().append_value(2);
        map.values().append_null();
        map.append(true).unwrap();
        assert_eq!(texts(&map.finish()), some(&[r#"{1:"a",2:null}"#]));
    }

    #[test]
    fn nested_collections_recurse() {
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(
                DataType::Struct(point_fields()),
                true,
            )),
            OffsetBuffer::from_lengths([2, 1, 0]),
            Arc::new(points()),
            None,
        )
        .unwrap();
        assert_eq!(
            texts(&list),
            some(&[r#"[{"x":1,"y":"s"},{"x":2,"y":null}]"#, "[null]", "[]"])
        );

        let mut lists = ListBuilder::new(ListBuilder::new(Int32Builder::new()));
        lists.values().values().append_value(1);
        lists.values().values().append_value(2);
        lists.values().append(true);
        lists.values().values().append_value(3);
        lists.values().append(true);
        lists.values().append(false);
        lists.append(true);
        assert_eq!(texts(&lists.finish()), some(&["[[1,2],[3],null]"]));

        let fixed = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(
            vec![
                Some(vec![Some(1), Some(2)]),
                None,
                Some(vec![None, Some(4)]),
            ],
            2,
        );
        assert_eq!(
            texts(&fixed),
            vec![Some("[1,2]".into()), None, Some("[null,4]".into())]
        );
        assert_eq!(texts(&fixed.slice(2, 1)), some(&["[null,4]"]));

        let large =
            LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(5)])]);
        assert_eq!(texts(&large), some(&["[5]"]));
    }

    #[test]
    fn sliced_and_dictionary_arrays_print_their_own_rows() {
        let batch = sample().slice(1, 2);
        assert_eq!(
            texts(batch.column(4).as_ref()),
            vec![Some("[]".into()), None]
        );
        assert_eq!(
            texts(batch.column(6).as_ref()),
            vec![Some(r#"{"x":2,"y":null}"#.into()), None]
        );

        let dictionary: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")]
            .into_iter()
            .collect();
        assert_eq!(
            texts(&dictionary),
            vec![Some("a".into()), None, Some("b".into()), Some("a".into())]
        );
    }

    #[tokio::test]
    async fn csv_quotes_and_keeps_one_line_per_row() {
        let batch = sample();
        let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Csv).await;
        assert_eq!(rows, 3);
        assert_eq!(
            text,
            concat!(
                "id,name,note,score,tags,attrs,point,ts\n",
                r#"1,plain,"",1.0,"[""a"",null,""b""]","{""a"":1,""b"":2}","{""x"":1,""y"":""s""}",2024-01-02 03:04:05"#,
                "\n",
                r#"2,"has,comma ""q""\nline2",tab	here,0.5,[],{},"{""x"":2,""y"":null}",2024-01-02 03:04:05.5"#,
                "\n",
                "3,,back\\slash,NaN,,,,\n",
            )
        );
        assert_eq!(text.lines().count(), 4);
    }

    #[tokio::test]
    async fn tsv_escapes_tabs_newlines_and_backslashes() {
        let batch = sample();
        let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Tsv).await;
        assert_eq!(rows, 3);
        assert_eq!(
            text,
            concat!(
                "id\tname\tnote\tscore\ttags\tattrs\tpoint\tts\n",
                "1\tplain\t\t1.0\t[\"a\",null,\"b\"]\t{\"a\":1,\"b\":2}\t{\"x\":1,\"y\":\"s\"}\t2024-01-02 03:04:05\n",
                "2\thas,comma \"q\"\\nline2\ttab\\there\t0.5\t[]\t{}\t{\"x\":2,\"y\":null}\t2024-01-02 03:04:05.5\n",
                "3\tNULL\tback\\\\slash\tNaN\tNULL\tNULL\tNULL\tNULL\n",
            )
        );
    }

    #[tokio::test]
    async fn json_writes_one_object_per_row_with_native_types() {
        let batch = sample();
        let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Json).await;
        assert_eq!(rows, 3);
        assert_eq!(
            text,
            concat!(
                r#"{"id":1,"name":"plain","note":"","score":1.0,"tags":["a",null,"b"],"attrs":{"a":1,"b":2},"point":{"x":1,"y":"s"},"ts":"2024-01-02 03:04:05"}"#,
                "\n",
                r#"{"id":2,"name":"has,comma \"q\"\nline2","note":"tab\there","score":0.5,"tags":[],"attrs":{},"point":{"x":2,"y":null},"ts":"2024-01-02 03:04:05.5"}"#,
                "\n",
                r#"{"id":3,"name":null,"note":"back\\slash","score":null,"tags":null,"attrs":null,"point":null,"ts":null}"#,
                "\n",
            )
        );
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(value.is_object());
        }
    }

    #[tokio::test]
    async fn json_map_keys_become_strings_and_infinities_null() {
        let mut map = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
        map.keys().append_value(1);
        map.values().append_value("a");
        map.append(true).unwrap();
        map.append(true).unwrap();
        let batch = RecordBatch::try_from_iter(vec![
            ("m", Arc::new(map.finish()) as ArrayRef),
            ("f", Arc::new(Float64Array::from(vec![f64::INFINITY, 1e20]))),
            ("b", Arc::new(BooleanArray::from(vec![true, false]))),
            ("d", Arc::new(Date32Array::from(vec![19_724, 0]))),
        ])
        .unwrap();
        let (text, _) = render(vec![batch.clone()], batch.schema(), OutputFormat::Json).await;
        assert_eq!(
            text,
            concat!(
                r#"{"m":{"1":"a"},"f":null,"b":true,"d":"2024-01-02"}"#,
                "\n",
                r#"{"m":{},"f":1.0E20,"b":false,"d":"1970-01-01"}"#,
                "\n",
            )
        );
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    #[tokio::test]
    async fn table_aligns_numbers_right_and_truncates_long_cells() {
        let long = "x".repeat(65);
        let batch = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(1), Some(22), None])) as ArrayRef,
            ),
            (
                "name",
                Arc::new(StringArray::from(vec![
                    Some("a\nb"),
                    None,
                    Some(long.as_str()),
                ])),
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(10.0)])),
            ),
        ])
        .unwrap();
        let (text, rows) = render(vec![batch.clone()], batch.schema(), OutputFormat::Table).await;
        assert_eq!(rows, 3);
        let border = format!("+------+-{}-+-------+\n", "-".repeat(60));
        let expected = [
            border.clone(),
            format!("|   id | {:<60} | score |\n", "name"),
            border.clone(),
            format!("|    1 | {:<60} |   1.5 |\n", "a\\nb"),
            format!("|   22 | {:<60} |  NULL |\n", "NULL"),
            format!("| NULL | {}… |  10.0 |\n", "x".repeat(59)),
            border,
        ]
        .concat();
        assert_eq!(text, expected);
    }

    #[tokio::test]
    async fn table_with_no_rows_prints_the_header_box() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("bee", DataType::Utf8, true),
        ]));
        let (text, rows) = render(vec![], schema, OutputFormat::Table).await;
        assert_eq!(rows, 0);
        assert_eq!(text, "+---+-----+\n| a | bee |\n+---+-----+\n");
    }

    #[tokio::test]
    async fn results_without_columns_print_nothing() {
        let schema = Arc::new(Schema::empty());
        let batch = RecordBatch::try_new_with_options(
            schema.clone(),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(3)),
        )
        .unwrap();
        for format in [
            OutputFormat::Table,
            OutputFormat::Csv,
            OutputFormat::Tsv,
            OutputFormat::Json,
        ] {
            let (text, rows) = render(vec![batch.clone()], schema.clone(), format).await;
            assert_eq!((text.as_str(), rows), ("", 0), "{format:?}");
        }
    }

    #[tokio::test]
    async fn empty_results_keep_the_csv_and_tsv_header() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a,b", DataType::Int32, true),
            Field::new("c", DataType::Utf8, true),
        ]));
        let (csv, _) = render(vec![], schema.clone(), OutputFormat::Csv).await;
        assert_eq!(csv, "\"a,b\",c\n");
        let (tsv, _) = render(vec![], schema.clone(), OutputFormat::Tsv).await;
        assert_eq!(tsv, "a,b\tc\n");
        let (json, _) = render(vec![], schema, OutputFormat::Json).await;
        assert_eq!(json, "");
    }

    #[tokio::test]
    async fn batches_are_written_as_they_arrive() {
        let first = RecordBatch::try_from_iter(vec![(
            "n",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
        )])
        .unwrap();
        let second = RecordBatch::try_from_iter(vec![(
            "n",
            Arc::new(Int64Array::from(vec![3])) as ArrayRef,
        )])
        .unwrap();
        let schema = first.schema();
        let (text, rows) = render(
            vec![first.clone(), second],
            schema.clone(),
            OutputFormat::Csv,
        )
        .await;
        assert_eq!((text.as_str(), rows), ("n\n1\n2\n3\n", 3));

        // A failure after the first batch leaves that batch already written.
        let batches = futures::stream::iter(vec![
            Ok(first),
            Err(DataFusionError::Execution("boom".into())),
        ]);
        let stream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
        let mut out: Vec<u8> = Vec::new();
        let err = print_stream(&mut out, stream, OutputFormat::Tsv)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        assert_eq!(String::from_utf8(out).unwrap(), "n\n1\n2\n");
    }

    /// A writer whose reader has gone away.
    struct ClosedPipe;

    impl io::Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_broken_pipe_is_an_io_error() {
        let batch = sample();
        for format in [
            OutputFormat::Table,
            OutputFormat::Csv,
            OutputFormat::Tsv,
            OutputFormat::Json,
        ] {
            let stream = MemoryStream::try_new(vec![batch.clone()], batch.schema(), None).unwrap();
            let err = print_stream(&mut ClosedPipe, Box::pin(stream), format)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, DataFusionError::IoError(e) if e.kind() == io::ErrorKind::BrokenPipe),
                "{format:?}: {err:?}"
            );
        }
    }
}
