//! Hive text tables read as Hive's `LazySimpleSerDe` reads them: one row a line, fields split
//! on the delimiter byte with no quoting, the `serialization.null.format` text (`\N` by
//! default) is NULL and an empty field is `''`, a field that is not a valid value of its
//! column's type is NULL, missing trailing fields are NULL, and the
//! `skip.header.line.count` / `skip.footer.line.count` lines of every file are skipped.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, StringBuilder};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

use super::metastore::{StorageFormat, TableMeta};

/// The table property naming the text that stands for NULL.
pub const NULL_FORMAT_KEY: &str = "serialization.null.format";
/// Hive's NULL text when the table names none.
pub const DEFAULT_NULL_FORMAT: &str = "\\N";
/// The table property: how many lines to skip at the start of every file.
pub const SKIP_HEADER_KEY: &str = "skip.header.line.count";
/// The table property: how many lines to skip at the end of every file.
pub const SKIP_FOOTER_KEY: &str = "skip.footer.line.count";

/// How a text table's files are read and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextOptions {
    /// The field delimiter.
    pub delimiter: u8,
    /// The text that stands for NULL.
    pub null_format: String,
    /// Lines skipped at the start of every file.
    pub skip_header: usize,
    /// Lines skipped at the end of every file.
    pub skip_footer: usize,
}

fn line_count(meta: &TableMeta, key: &str) -> Result<usize> {
    match meta.properties.get(key) {
        None => Ok(0),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            DataFusionError::Plan(format!(
                "table {}: TBLPROPERTIES '{key}'='{v}' is not a number of lines",
                meta.qualified_name()
            ))
        }),
    }
}

impl TextOptions {
    /// The options of a text table; `None` for another format.
    pub fn of(meta: &TableMeta) -> Result<Option<Self>> {
        let StorageFormat::Text { delimiter } = meta.format else {
            return Ok(None);
        };
        Ok(Some(Self {
            delimiter,
            null_format: meta
                .properties
                .get(NULL_FORMAT_KEY)
                .cloned()
                .unwrap_or_else(|| DEFAULT_NULL_FORMAT.to_string()),
            skip_header: line_count(meta, SKIP_HEADER_KEY)?,
            skip_footer: line_count(meta, SKIP_FOOTER_KEY)?,
        }))
    }
}

/// One file to read with the values of its partition columns.
pub type TextFile = (PathBuf, Vec<ScalarValue>);

/// A scan of text files, one output partition per group of files.
#[derive(Debug)]
pub struct TextScanExec {
    groups: Vec<Vec<TextFile>>,
    options: Arc<TextOptions>,
    /// Types of the data columns, in file order.
    data_types: Vec<DataType>,
    /// Output columns: indices into data columns then partition columns.
    projection: Vec<usize>,
    schema: SchemaRef,
    cache: Arc<PlanProperties>,
}

impl TextScanExec {
    /// A scan producing `schema` (the table's columns picked by `projection`).
    pub fn new(
        groups: Vec<Vec<TextFile>>,
        options: TextOptions,
        data_types: Vec<DataType>,
        projection: Vec<usize>,
        schema: SchemaRef,
    ) -> Self {
        let cache = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(groups.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            groups,
            options: Arc::new(options),
            data_types,
            projection,
            schema,
            cache: Arc::new(cache),
        }
    }
}

impl DisplayAs for TextScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let files: usize = self.groups.iter().map(Vec::len).sum();
        write!(
            f,
            "HiveTextScan: files={files}, groups={}, null='{}', skip_header={}, skip_footer={}",
            self.groups.len(),
            self.options.null_format.escape_default(),
            self.options.skip_header,
            self.options.skip_footer
        )
    }
}

impl ExecutionPlan for TextScanExec {
    fn name(&self) -> &str {
        "HiveTextScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let files = self.groups.get(partition).cloned().unwrap_or_default();
        let batch_size = context.session_config().batch_size().max(1);
        let reader = TextReader {
            options: Arc::clone(&self.options),
            data_types: self.data_types.clone(),
            projection: self.projection.clone(),
            schema: Arc::clone(&self.schema),
            batch_size,
        };
        let batches = files
            .into_iter()
            .map(move |file| reader.read_file(&file))
            .flat_map(|result| match result {
                Ok(batches) => batches.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            futures::stream::iter(batches),
        )))
    }
}

struct TextReader {
    options: Arc<TextOptions>,
    data_types: Vec<DataType>,
    projection: Vec<usize>,
    schema: SchemaRef,
    batch_size: usize,
}

/// The lines of a file's bytes (`\n`, `\r\n` or `\r` end a line, as Hadoop's line reader
/// has it); a final line terminator does not start another line.
pub fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

impl TextReader {
    fn read_file(&self, (path, partition_values): &TextFile) -> Result<Vec<RecordBatch>> {
        let bytes = std::fs::read(path).map_err(|e| {
            DataFusionError::Execution(format!("cannot read {}: {e}", path.display()))
        })?;
        let lines = split_lines(&bytes);
        let end = lines.len().saturating_sub(self.options.skip_footer);
        let start = self.options.skip_header.min(end);
        let lines = &lines[start..end];
        lines
            .chunks(self.batch_size)
            .map(|chunk| self.batch(chunk, partition_values))
            .collect()
    }

    fn batch(&self, lines: &[&[u8]], partition_values: &[ScalarValue]) -> Result<RecordBatch> {
        let rows: Vec<Vec<&[u8]>> = lines
            .iter()
            .map(|line| line.split(|b| *b == self.options.delimiter).collect())
            .collect();
        let null = self.options.null_format.as_bytes();
        let cast_options = CastOptions {
            safe: true,
            ..CastOptions::default()
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.projection.len());
        for &index in &self.projection {
            if let Some(data_type) = self.data_types.get(index) {
                let mut builder = StringBuilder::new();
                for fields in &rows {
                    match fields.get(index) {
                        Some(field) if *field != null => {
                            builder.append_value(String::from_utf8_lossy(field))
                        }
                        _ => builder.append_null(),
                    }
                }
                let strings: ArrayRef = Arc::new(builder.finish());
                let array = if *data_type == DataType::Utf8 {
                    strings
                } else {
                    // Hive reads a field that is not a valid value of its type as NULL.
                    cast_with_options(&strings, data_type, &cast_options)?
                };
                columns.push(array);
            } else {
                let value = partition_values
                    .get(index - self.data_types.len())
                    .cloned()
                    .unwrap_or(ScalarValue::Null);
                columns.push(value.to_array_of_size(rows.len())?);
            }
        }
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows.len())),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_as_hadoop_ends_them() {
        assert_eq!(
            split_lines(b"a\nb\r\nc\rd\n"),
            vec![&b"a"[..], b"b", b"c", b"d"]
        );
        assert_eq!(split_lines(b"a\n\nb"), vec![&b"a"[..], b"", b"b"]);
        assert!(split_lines(b"").is_empty());
    }
}
