//! Writing query results the way a Hive user expects: a box table, CSV, TSV or NDJSON.
//!
//! Every cell goes through one formatter, [`hive_text`]'s rules: values as the Hive CLI
//! prints them (`1.0`, `2024-01-02 03:04:05`, `["a",null]`, `{"k":1}`). The line formats
//! (CSV, TSV, JSON) write each batch as it arrives, the CSV and TSV header with the first
//! batch (a statement that fails before its first batch prints nothing). The table streams
//! too: its column widths come from the first batch and widen when a later row needs it,
//! at most [`TableLimits::max_rows`] rows are drawn and the rest only counted.

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

/// How much of a result the table draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// The most rows drawn (the rest are counted, and a footer says how many); 0 draws all.
    pub max_rows: usize,
    /// The widest a cell line gets, in characters (longer text ends in `…`); 0 cuts nothing.
    pub max_width: usize,
}

/// The rows the table draws by default (DuckDB's shell shows 40).
pub const DEFAULT_MAX_ROWS: usize = 40;
/// The widest a table cell gets by default, in characters.
pub const DEFAULT_MAX_WIDTH: usize = 60;

impl Default for TableLimits {
    fn default() -> Self {
        Self {
            max_rows: DEFAULT_MAX_ROWS,
            max_width: DEFAULT_MAX_WIDTH,
        }
    }
}

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
    stream: SendableRecordBatchStream,
    format: OutputFormat,
) -> Result<usize> {
    print_stream_limited(out, stream, format, TableLimits::default()).await
}

/// [`print_stream`], the table drawn within `limits` (the line formats write every row).
pub async fn print_stream_limited(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    limits: TableLimits,
) -> Result<usize> {
    if stream.schema().fields().is_empty() {
        while let Some(batch) = stream.next().await {
            batch?;
        }
        return Ok(0);
    }
    match format {
        OutputFormat::Table => print_table(out, stream, limits).await,
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

/// CSV, TSV and JSON: each batch as it arrives, the header (not for JSON) with the first
/// one (or at the end of an empty result), so that a statement failing before its first
/// batch writes nothing.
async fn print_lines(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
) -> Result<usize> {
    let schema = stream.schema();
    let mut buf = String::new();
    let mut header = true;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if std::mem::take(&mut header) {
            write_header(&mut buf, &schema, format);
        }
        write_rows(&mut buf, &schema, &batch, format)?;
        emit(out, &mut buf)?;
        rows += batch.num_rows();
    }
    if header {
        write_header(&mut buf, &schema, format);
        emit(out, &mut buf)?;
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

/// The table, drawn as the batches arrive: the header box with the first batch (its widths
/// from the header and that batch), each later batch's rows under it (a column that must
/// widen gets a new rule line at its new width), at most `limits.max_rows` rows; the rest
/// are counted, and a footer says how many were not shown.
async fn print_table(
    out: &mut (dyn Write + Send),
    mut stream: SendableRecordBatchStream,
    limits: TableLimits,
) -> Result<usize> {
    let schema = stream.schema();
    let right_aligned: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let header: Vec<Vec<String>> = schema
        .fields()
        .iter()
        .map(|f| table_cell(f.name(), limits.max_width))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| cell_width(h)).collect();
    let mut buf = String::new();
    let mut started = false;
    let mut shown = 0;
    let mut total = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        total += batch.num_rows();
        let room = if limits.max_rows == 0 {
            usize::MAX
        } else {
            limits.max_rows - shown
        };
        let take = batch.num_rows().min(room);
        if take == 0 {
            // Past the limit (or an empty batch): counted, not kept.
            continue;
        }
        let columns = column_formatters(&batch)?;
        let rows: Vec<Vec<Vec<String>>> = (0..take)
            .map(|row| {
                columns
                    .iter()
                    .map(|c| {
                        table_cell(
                            c.hive_text(row).as_deref().unwrap_or("NULL"),
                            limits.max_width,
                        )
                    })
                    .collect()
            })
            .collect();
        let mut wider = widths.clone();
        for cells in &rows {
            for (width, cell) in wider.iter_mut().zip(cells) {
                *width = (*width).max(cell_width(cell));
            }
        }
        if !started {
            widths = wider;
            buf.push_str(&border(&widths));
            push_table_row(&mut buf, &header, &widths, &right_aligned);
            buf.push_str(&border(&widths));
            started = true;
        } else if wider != widths {
            widths = wider;
            buf.push_str(&border(&widths));
        }
        for cells in &rows {
            push_table_row(&mut buf, cells, &widths, &right_aligned);
        }
        shown += take;
        emit(out, &mut buf)?;
    }
    if started {
        buf.push_str(&border(&widths));
    } else {
        buf.push_str(&border(&widths));
        push_table_row(&mut buf, &header, &widths, &right_aligned);
        buf.push_str(&border(&widths));
    }
    if total > shown {
        let hidden = total - shown;
        let _ = writeln!(
            buf,
            "({hidden} more row{} not shown: {total} rows in all; --max-rows 0 shows every row)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    emit(out, &mut buf)?;
    Ok(total)
}

/// A rule line, `+----+---+`, for columns of `widths`.
fn border(widths: &[usize]) -> String {
    let mut line = String::from("+");
    for width in widths {
        line.push_str(&"-".repeat(width + 2));
        line.push('+');
    }
    line.push('\n');
    line
}

/// One row of the table, `| a | b |`, as many lines high as its tallest cell.
fn push_table_row(buf: &mut String, cells: &[Vec<String>], widths: &[usize], right: &[bool]) {
    let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    for line in 0..height {
        buf.push('|');
        for ((cell, &width), &right) in cells.iter().zip(widths).zip(right) {
            let text = cell.get(line).map_or("", String::as_str);
            let _ = if right {
                write!(buf, " {text:>width$} |")
            } else {
                write!(buf, " {text:<width$} |")
            };
        }
        buf.push('\n');
    }
}

/// The widest line of a cell.
fn cell_width(cell: &[String]) -> usize {
    cell.iter().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// A table cell: one entry per line of the text (a value with newlines, such as a
/// `render_bits` picture, is drawn on several lines), other control characters escaped, each
/// line cut to `max_width` characters (0: not cut).
fn table_cell(text: &str, max_width: usize) -> Vec<String> {
    text.split('\n')
        .map(|line| {
            let mut cell = String::with_capacity(line.len());
            for c in line.chars() {
                match c {
                    '\r' => cell.push_str("\\r"),
                    '\t' => cell.push_str("\\t"),
                    c => cell.push(c),
                }
            }
            if max_width > 0 && cell.chars().count() > max_width {
                let mut cut: String = cell.chars().take(max_width - 1).collect();
                cut.push('…');
                cut
            } else {
                cell
            }
        })
        .collect()
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

mod value;

use value::*;

#[cfg(test)]
mod tests;
