//! Writing a query's rows into a warehouse table, atomically.
//!
//! 1. take the table's write lock (one writer per table, across processes);
//! 2. record a pending write in the metastore;
//! 3. let DataFusion's own Parquet/CSV/JSON sink write the rows into a hidden staging
//!    directory, split by partition (its demultiplexer writes Hive's `p=v/` directories);
//! 4. move the files into the table's directories as `part-<txn>-<n>.<ext>`;
//! 5. one metastore transaction adds them to the committed file list, replaces what an
//!    OVERWRITE replaces and forgets the pending write;
//! 6. delete the replaced files.
//!
//! A crash before 5 leaves the committed list untouched; the next start sweeps the files of
//! the pending write. A crash after 5 leaves only replaced files, which are in the trash.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::text::TextOptions;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::csv::writer::QuoteStyle;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::config::TableParquetOptions;
use datafusion::common::file_options::csv_writer::CsvWriterOptions;
use datafusion::common::file_options::json_writer::JsonWriterOptions;
use datafusion::common::parsers::CompressionTypeVariant;
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::datasource::file_format::csv::CsvSink;
use datafusion::datasource::file_format::json::JsonSink;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::physical_plan::parquet::ParquetSink;
use datafusion::datasource::physical_plan::{FileGroup, FileOutputMode, FileSinkConfig};
use datafusion::datasource::sink::DataSink;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::object_store::path::Path as ObjectPath;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, execute_stream};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::layout::{DEFAULT_PARTITION, partition_spec};
use super::metastore::{NewFile, NewPartition, Replace, StorageFormat, TableMeta, WriteCommit};
use super::{Retire, Warehouse};
use crate::error::{ApiaryError, Result};

/// One write into a table.
#[derive(Debug)]
pub struct WriteRequest {
    /// The table (for CTAS: the table to create with the data).
    pub table: TableMeta,
    /// Create the table in the commit (CTAS).
    pub create: bool,
    /// INSERT OVERWRITE.
    pub overwrite: bool,
    /// The statement had a `PARTITION (...)` clause (with dynamic columns, an OVERWRITE then
    /// replaces only the partitions it writes, as Hive does).
    pub partition_clause: bool,
    /// Values of the leading partition columns given in `PARTITION (...)`.
    pub static_values: Vec<Option<String>>,
    /// How long to wait for another writer.
    pub lock_timeout: Duration,
}

fn io_err(path: &Path, source: std::io::Error) -> ApiaryError {
    ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether a relative path only goes down (no `..`, no root): a partition directory below its
/// table.
fn stays_below(relative: &str) -> bool {
    Path::new(relative)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A partition value as a staging directory name: its UTF-8 bytes in hex behind an `x`, NULL
/// and '' as Hive's default partition. Staging names only need to survive DataFusion's sink and
/// the object store's path encoding unchanged; the final directories use Hive's escaping.
fn staging_value(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => {
            let mut out = String::with_capacity(1 + 2 * v.len());
            out.push('x');
            for b in v.bytes() {
                out.push_str(&format!("{b:02x}"));
            }
            out
        }
        _ => DEFAULT_PARTITION.to_string(),
    }
}

/// The staging directories of a partition: `p0=<value>/p1=<value>`.
fn staging_spec(first: usize, values: &[Option<String>]) -> String {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("p{}={}", first + i, staging_value(v.as_deref())))
        .collect::<Vec<_>>()
        .join("/")
}

/// Reverses [`staging_spec`] for a staged file's directory: the values of all `count`
/// partition columns.
fn parse_staging_spec(rel: &str, count: usize) -> Option<Vec<Option<String>>> {
    let mut values = vec![None; count];
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() != count {
        return None;
    }
    for part in parts {
        let (k, v) = part.split_once('=')?;
        let i: usize = k.strip_prefix('p')?.parse().ok()?;
        if i >= count {
            return None;
        }
        values[i] = if v == DEFAULT_PARTITION {
            None
        } else {
            let hex = v.strip_prefix('x')?;
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|j| {
                    hex.get(j..j + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()?;
            Some(String::from_utf8(bytes).ok()?)
        };
    }
    Some(values)
}

/// Dynamic partition columns become staging directory names ([`staging_value`]).
fn encode_partition_columns(
    batch: RecordBatch,
    first: usize,
    schema: &SchemaRef,
) -> DFResult<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for column in columns.iter_mut().skip(first) {
        let strings = cast(column, &DataType::Utf8)?;
        let strings = strings
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal("partition value is not a string".into()))?;
        // A batch holds few distinct partition values: encode each once.
        let mut encoded: HashMap<Option<&str>, String> = HashMap::new();
        let mut builder = StringBuilder::with_capacity(strings.len(), strings.len() * 8);
        for i in 0..strings.len() {
            let value = (!strings.is_null(i)).then(|| strings.value(i));
            builder.append_value(encoded.entry(value).or_insert_with(|| staging_value(value)));
        }
        *column = Arc::new(builder.finish());
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// The rows of a logical plan, to write.
pub async fn plan_stream(
    ctx: &SessionContext,
    plan: &LogicalPlan,
) -> Result<SendableRecordBatchStream> {
    let physical = ctx.state().create_physical_plan(plan).await?;
    Ok(execute_stream(physical, ctx.task_ctx())?)
}

/// Runs the write and commits it; returns the number of rows written. `input` has the data
/// columns (typed as the table's) followed by the dynamic partition columns; it is read only
/// once the table's lock is held.
pub async fn write(
    warehouse: &Warehouse,
    request: WriteRequest,
    input: SendableRecordBatchStream,
    task: &Arc<TaskContext>,
) -> Result<u64> {
    let table = &request.table;
    let lock_name = table.qualified_name();
    let _lock = warehouse.lock(&lock_name, request.lock_timeout).await?;
    // The table may have changed or gone while we waited.
    let current = warehouse.metastore().table(&table.db, &table.name)?;
    match (&current, request.create) {
        (Some(_), true) => {
            return Err(ApiaryError::Usage(format!(
                "table {lock_name} already exists"
            )));
        }
        (None, false) => {
            return Err(ApiaryError::Usage(format!(
                "table {lock_name} was dropped by another session"
            )));
        }
        (Some(c), false) if c.id != table.id => {
            return Err(ApiaryError::Usage(format!(
                "table {lock_name} was replaced by another session; run the statement again"
            )));
        }
        _ => {}
    }
    if request.create {
        // A dropped table of the same name may still wait in the trash.
        warehouse.clear_trash_under(&table.location)?;
    }
    let txn = warehouse.new_txn();
    let staging = table.location.join(format!(".apiary-staging-{txn}"));
    warehouse
        .metastore()
        .begin_pending(&txn, &lock_name, &table.location, &staging)?;
    let outcome = stage_and_commit(warehouse, &request, input, task, &txn, &staging).await;
    if outcome.is_err() {
        warehouse
            .roll_back_failed_write(&txn, &lock_name, &table.location, &staging)
            .await;
        if request.create {
            // A failed CTAS leaves no directory behind (only removed when empty).
            let _ = std::fs::remove_dir(&table.location);
        }
    }
    outcome
}

async fn stage_and_commit(
    warehouse: &Warehouse,
    request: &WriteRequest,
    stream: SendableRecordBatchStream,
    task: &Arc<TaskContext>,
    txn: &str,
    staging: &Path,
) -> Result<u64> {
    let table = &request.table;
    let partition_names: Vec<String> = table
        .partition_columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let static_count = request.static_values.len();
    let static_names = &partition_names[..static_count];
    let dynamic_names: Vec<String> = (static_count..partition_names.len())
        .map(|i| format!("p{i}"))
        .collect();
    let static_dir = partition_spec(static_names, &request.static_values);
    let staged_static = staging_spec(0, &request.static_values);
    let base = if staged_static.is_empty() {
        staging.to_path_buf()
    } else {
        staging.join(&staged_static)
    };
    std::fs::create_dir_all(&base).map_err(|e| io_err(&base, e))?;

    // Dynamic partition columns become staging directory names.
    let data_count = table.columns.len();
    let in_schema = stream.schema();
    let mut out_fields: Vec<Field> = in_schema.fields()[..data_count]
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    out_fields.extend(
        dynamic_names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, false)),
    );
    let out_schema: SchemaRef = Arc::new(Schema::new(out_fields));
    let mapped_schema = Arc::clone(&out_schema);
    let mapped = stream.map(move |batch| {
        batch.and_then(|b| encode_partition_columns(b, data_count, &mapped_schema))
    });
    let stream: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(&out_schema),
        mapped,
    ));

    let url = format!("{}/", base.display());
    let table_path = ListingTableUrl::parse(&url)?;
    let config = FileSinkConfig {
        original_url: url,
        object_store_url: ObjectStoreUrl::local_filesystem(),
        file_group: FileGroup::default(),
        table_paths: vec![table_path],
        output_schema: Arc::clone(&out_schema),
        table_partition_cols: dynamic_names
            .iter()
            .map(|n| (n.clone(), DataType::Utf8))
            .collect(),
        insert_op: InsertOp::Append,
        keep_partition_by_columns: false,
        file_extension: table.format.extension().to_string(),
        file_output_mode: FileOutputMode::Directory,
    };
    let mut file_rows: HashMap<String, u64> = HashMap::new();
    let rows = match &table.format {
        StorageFormat::Parquet => {
            let options = TableParquetOptions {
                global: task.session_config().options().execution.parquet.clone(),
                ..TableParquetOptions::default()
            };
            let sink = ParquetSink::new(config, options);
            let rows = sink.write_all(stream, task).await?;
            // Keyed by the object-store path, the same for the file found below.
            for (path, meta) in sink.written() {
                file_rows.insert(path.to_string(), meta.file_metadata().num_rows() as u64);
            }
            rows
        }
        StorageFormat::Text { .. } => {
            let text = TextOptions::of(table)?.ok_or_else(|| {
                ApiaryError::Usage(format!(
                    "table {} is not a text table",
                    table.qualified_name()
                ))
            })?;
            let options =
                CsvWriterOptions::new(text_writer(&text), CompressionTypeVariant::UNCOMPRESSED);
            CsvSink::new(config, options)
                .write_all(stream, task)
                .await?
        }
        StorageFormat::Json => {
            let options = JsonWriterOptions::new(CompressionTypeVariant::UNCOMPRESSED);
            JsonSink::new(config, options)
                .write_all(stream, task)
                .await?
        }
    };

    // Move the staged files into the table's directories.
    let existing: HashMap<String, PathBuf> = if request.create {
        HashMap::new()
    } else {
        warehouse
            .metastore()
            .partitions(table.id)?
            .into_iter()
            .map(|p| (p.spec, p.location))
            .collect()
    };
    let mut staged = Vec::new();
    collect_files(staging, staging, &mut staged)?;
    staged.sort();
    let mut files = Vec::new();
    let mut written_specs: BTreeMap<String, NewPartition> = BTreeMap::new();
    for (n, (rel_dir, path)) in staged.into_iter().enumerate() {
        let size = std::fs::metadata(&path)
            .map_err(|e| io_err(&path, e))?
            .len();
        let rows = ObjectPath::from_absolute_path(&path)
            .ok()
            .and_then(|p| file_rows.get(p.as_ref()).copied());
        if rows == Some(0) || size == 0 {
            continue;
        }
        let (dir, partition) = if partition_names.is_empty() {
            (table.location.clone(), None)
        } else {
            let values = parse_staging_spec(&rel_dir, partition_names.len()).ok_or_else(|| {
                ApiaryError::Usage(format!(
                    "internal: staged file {} is not in a partition directory",
                    path.display()
                ))
            })?;
            let spec = partition_spec(&partition_names, &values);
            if !stays_below(&spec) {
                return Err(ApiaryError::Usage(format!(
                    "internal: partition directory '{spec}' would leave table {}",
                    table.qualified_name()
                )));
            }
            let location = existing
                .get(&spec)
                .cloned()
                .unwrap_or_else(|| table.location.join(&spec));
            let p = NewPartition {
                values,
                spec: spec.clone(),
                location: location.clone(),
            };
            written_specs.insert(spec, p.clone());
            (location, Some(p))
        };
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let target = dir.join(format!("part-{txn}-{n:05}.{}", table.format.extension()));
        std::fs::rename(&path, &target).map_err(|e| io_err(&target, e))?;
        files.push(NewFile {
            path: target,
            size,
            rows,
            partition,
        });
    }
    super::remove::remove_staging(warehouse.root(), &table.location, staging);

    // A fully static partition exists after the write even when no row landed in it.
    let mut partitions = Vec::new();
    if !partition_names.is_empty() && dynamic_names.is_empty() {
        let spec = static_dir.clone();
        let location = existing
            .get(&spec)
            .cloned()
            .unwrap_or_else(|| table.location.join(&spec));
        partitions.push(NewPartition {
            values: request.static_values.clone(),
            spec,
            location,
        });
    }
    let replace = match (request.overwrite, partition_names.is_empty()) {
        (false, _) => Replace::Nothing,
        (true, true) => Replace::Table,
        (true, false) if dynamic_names.is_empty() => Replace::Partitions(vec![static_dir]),
        // Without a PARTITION clause, Spark's default (static) overwrite mode replaces the
        // whole table; Hive rejects that statement.
        (true, false) if !request.partition_clause => Replace::Everything,
        (true, false) => Replace::Partitions(written_specs.keys().cloned().collect()),
    };
    let doomed = warehouse.metastore().commit(&WriteCommit {
        txn: Some(txn.to_string()),
        create: request.create.then(|| table.clone()),
        table_id: table.id,
        files,
        partitions,
        replace,
    })?;
    warehouse.retire(&doomed, Retire::AfterGrace)?;
    Ok(rows)
}

/// Every file under `dir`, with its directory relative to `root`.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| io_err(&path, e))?;
        if file_type.is_dir() {
            collect_files(root, &path, out)?;
        } else if file_type.is_file() {
            let rel = dir
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or_default();
            out.push((rel, path));
        }
    }
    Ok(())
}

/// DataFusion's way into a warehouse table (`TableProvider::insert_into`: the DataFrame API,
/// `EXPLAIN INSERT`, Flight SQL ingest): every partition column is dynamic, and an overwrite
/// replaces the whole table, as an INSERT without a PARTITION clause does.
#[derive(Debug)]
pub struct WarehouseSink {
    warehouse: Arc<Warehouse>,
    table: TableMeta,
    overwrite: bool,
    schema: SchemaRef,
}

impl WarehouseSink {
    /// A sink into `table`.
    pub fn new(
        warehouse: Arc<Warehouse>,
        table: TableMeta,
        overwrite: bool,
        schema: SchemaRef,
    ) -> Self {
        Self {
            warehouse,
            table,
            overwrite,
            schema,
        }
    }
}

impl DisplayAs for WarehouseSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WarehouseSink: {} {}",
            if self.overwrite {
                "overwrite"
            } else {
                "append"
            },
            self.table.qualified_name()
        )
    }
}

#[async_trait::async_trait]
impl DataSink for WarehouseSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        context: &Arc<TaskContext>,
    ) -> DFResult<u64> {
        let request = WriteRequest {
            table: self.table.clone(),
            create: false,
            overwrite: self.overwrite,
            partition_clause: false,
            static_values: vec![],
            lock_timeout: super::DEFAULT_LOCK_TIMEOUT,
        };
        write(&self.warehouse, request, data, context)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }
}

/// Hive's text writer: no header, no quoting, NULL as the table's null format, timestamps as
/// Hive prints them.
pub fn text_writer(text: &TextOptions) -> WriterBuilder {
    WriterBuilder::new()
        .with_header(false)
        .with_delimiter(text.delimiter)
        .with_quote_style(QuoteStyle::Never)
        .with_null(text.null_format.clone())
        .with_timestamp_format("%Y-%m-%d %H:%M:%S%.f".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_round_trip() {
        let values = vec![Some("a/b=c%d é".to_string()), None, Some(String::new())];
        let spec = staging_spec(0, &values);
        assert!(
            spec.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=/_".contains(&b))
        );
        assert_eq!(
            parse_staging_spec(&spec, 3),
            Some(vec![Some("a/b=c%d é".to_string()), None, None])
        );
        assert_eq!(parse_staging_spec("p0=x61", 2), None);
    }
}
