//! `WarehouseTable`: a table of the warehouse as DataFusion sees it. A scan reads the
//! committed file list (managed tables) or the table's directories (external tables), prunes
//! partitions with the query's predicates on partition columns, and hands the files to
//! DataFusion's own Parquet, CSV or JSON reader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::object_store::path::Path as ObjectPath;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::projection::ProjectionExec;

use super::Warehouse;
use super::layout::{is_hidden, trash_path};
use super::metastore::{ColumnMeta, PartitionMeta, StorageFormat, TableKind, TableMeta};
use super::text::{TextOptions, TextScanExec};
use super::write::WarehouseSink;
use crate::sql::hive_statements::CharLength;

/// The field metadata key holding a column's declared Hive type where Arrow's type loses it.
pub const HIVE_TYPE_KEY: &str = "hive_type";

/// A warehouse table.
#[derive(Debug)]
pub struct WarehouseTable {
    meta: TableMeta,
    warehouse: Arc<Warehouse>,
    schema: SchemaRef,
    file_schema: SchemaRef,
}

fn fields(columns: &[ColumnMeta]) -> Vec<Field> {
    columns
        .iter()
        .map(|c| {
            let field = Field::new(&c.name, c.data_type.clone(), true);
            let mut metadata = HashMap::new();
            if let Some(comment) = &c.comment {
                metadata.insert("comment".to_string(), comment.clone());
            }
            if c.char_length.is_some() {
                // The declared type (`varchar(10)`), which DESCRIBE shows.
                metadata.insert(HIVE_TYPE_KEY.to_string(), c.type_name());
            }
            field.with_metadata(metadata)
        })
        .collect()
}

/// The Arrow schema of the data files (data columns only).
pub fn file_schema(meta: &TableMeta) -> SchemaRef {
    Arc::new(Schema::new(fields(&meta.columns)))
}

/// The table's schema: data columns, then partition columns (as Hive shows them).
pub fn table_schema(meta: &TableMeta) -> SchemaRef {
    let mut all = fields(&meta.columns);
    all.extend(fields(&meta.partition_columns));
    Arc::new(Schema::new(all))
}

/// DataFusion's reader/writer format for a storage format.
pub fn file_format(format: &StorageFormat, state: &dyn Session) -> Arc<dyn FileFormat> {
    match format {
        StorageFormat::Parquet => {
            Arc::new(ParquetFormat::default().with_options(state.table_options().parquet.clone()))
        }
        StorageFormat::Text { delimiter } => Arc::new(
            CsvFormat::default()
                .with_has_header(false)
                .with_delimiter(*delimiter)
                .with_truncated_rows(true),
        ),
        StorageFormat::Json => Arc::new(JsonFormat::default()),
    }
}

/// A partition value, typed as its column.
pub fn partition_scalar(value: Option<&str>, data_type: &DataType) -> Result<ScalarValue> {
    match value {
        None => ScalarValue::try_from(data_type),
        Some(v) => ScalarValue::Utf8(Some(v.to_string())).cast_to(data_type),
    }
}

impl WarehouseTable {
    /// A provider over `meta`.
    pub fn new(meta: TableMeta, warehouse: Arc<Warehouse>) -> Self {
        let schema = table_schema(&meta);
        let file_schema = file_schema(&meta);
        Self {
            meta,
            warehouse,
            schema,
            file_schema,
        }
    }

    /// The metastore's description.
    pub fn meta(&self) -> &TableMeta {
        &self.meta
    }

    fn partition_names(&self) -> Vec<&str> {
        self.meta
            .partition_columns
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The partitions that `filters` (on partition columns only) can match.
    fn prune(
        &self,
        state: &dyn Session,
        partitions: Vec<PartitionMeta>,
        filters: &[Expr],
    ) -> Result<Vec<PartitionMeta>> {
        if filters.is_empty() || partitions.is_empty() {
            return Ok(partitions);
        }
        let part_schema = Arc::new(Schema::new(fields(&self.meta.partition_columns)));
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (i, c) in self.meta.partition_columns.iter().enumerate() {
            let values = partitions
                .iter()
                .map(|p| partition_scalar(p.values.get(i).and_then(|v| v.as_deref()), &c.data_type))
                .collect::<Result<Vec<_>>>()?;
            columns.push(ScalarValue::iter_to_array(values)?);
        }
        let batch = RecordBatch::try_new(Arc::clone(&part_schema), columns)?;
        let df_schema = DFSchema::try_from(Arc::clone(&part_schema))?;
        let mut keep = vec![true; partitions.len()];
        for filter in filters {
            let expr = state.create_physical_expr(filter.clone(), &df_schema)?;
            let result = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
            let Some(mask) = result.as_any().downcast_ref::<BooleanArray>() else {
                continue;
            };
            for (i, k) in keep.iter_mut().enumerate() {
                *k &= mask.is_valid(i) && mask.value(i);
            }
        }
        Ok(partitions
            .into_iter()
            .zip(keep)
            .filter_map(|(p, k)| k.then_some(p))
            .collect())
    }

    /// A committed file must still be there, as it was written (or, replaced by a write that
    /// committed since this scan's snapshot, in its directory's trash).
    fn check_committed(&self, path: &Path, size: u64) -> Result<()> {
        let problem = match std::fs::metadata(path) {
            Ok(m) if m.len() == size => return Ok(()),
            Err(_) if std::fs::metadata(trash_path(path)).is_ok_and(|m| m.len() == size) => {
                return Ok(());
            }
            Ok(m) => format!("has changed size ({} bytes, {size} committed)", m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "is missing".to_string(),
            Err(e) => format!("cannot be read: {e}"),
        };
        Err(DataFusionError::Execution(format!(
            "table {}: data file {} {problem}; it was changed outside Apiary \
             (MSCK REPAIR TABLE {} forgets missing files)",
            self.meta.qualified_name(),
            path.display(),
            self.meta.qualified_name()
        )))
    }

    /// The files to scan, each with its partition values.
    fn files(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<LocalFile>> {
        let metastore = self.warehouse.metastore();
        let store_err = |e: crate::error::ApiaryError| DataFusionError::External(Box::new(e));
        let mut out = Vec::new();
        if self.meta.kind == TableKind::View {
            return Err(DataFusionError::Plan(format!(
                "{} is a view: it has no files",
                self.meta.qualified_name()
            )));
        }
        // Partitions and files as of one moment.
        let (partitions, files) = match self.meta.kind {
            TableKind::Managed => metastore.snapshot(self.meta.id).map_err(store_err)?,
            TableKind::External | TableKind::View => (
                metastore.partitions(self.meta.id).map_err(store_err)?,
                vec![],
            ),
        };
        if self.meta.partition_columns.is_empty() {
            match self.meta.kind {
                TableKind::Managed => {
                    for f in files {
                        self.check_committed(&f.path, f.size)?;
                        out.push((f.path.clone(), f.size, vec![]));
                    }
                }
                TableKind::External | TableKind::View => {
                    for (path, size) in list_data_files(&self.meta.location)? {
                        out.push((path.clone(), size, vec![]));
                    }
                }
            }
            return Ok(out);
        }
        let partitions = self.prune(state, partitions, filters)?;
        let values_of = |p: &PartitionMeta| -> Result<Vec<ScalarValue>> {
            self.meta
                .partition_columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    partition_scalar(p.values.get(i).and_then(|v| v.as_deref()), &c.data_type)
                })
                .collect()
        };
        match self.meta.kind {
            TableKind::Managed => {
                let mut by_id: HashMap<i64, Vec<ScalarValue>> = HashMap::new();
                for p in &partitions {
                    by_id.insert(p.id, values_of(p)?);
                }
                for f in files {
                    if let Some(values) = f.partition.and_then(|id| by_id.get(&id)) {
                        self.check_committed(&f.path, f.size)?;
                        out.push((f.path.clone(), f.size, values.clone()));
                    }
                }
            }
            TableKind::External | TableKind::View => {
                for p in &partitions {
                    let values = values_of(p)?;
                    for (path, size) in list_data_files(&p.location)? {
                        out.push((path.clone(), size, values.clone()));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A data file to scan: its path, size and partition values.
type LocalFile = (PathBuf, u64, Vec<ScalarValue>);

fn partitioned_file(path: &Path, size: u64, values: Vec<ScalarValue>) -> Result<PartitionedFile> {
    let location =
        ObjectPath::from_absolute_path(path).map_err(|e| DataFusionError::External(Box::new(e)))?;
    let mut file = PartitionedFile::new(location.to_string(), size);
    file.object_meta.location = location;
    Ok(file.with_partition_values(values))
}

/// The data files directly in `dir` (not hidden, not directories); none when it is missing.
/// An external table's location may also be a single file.
pub fn list_data_files(dir: &Path) -> Result<Vec<(std::path::PathBuf, u64)>> {
    if let Ok(m) = std::fs::metadata(dir)
        && m.is_file()
    {
        return Ok(vec![(dir.to_path_buf(), m.len())]);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(DataFusionError::Execution(format!(
                "cannot list {}: {e}",
                dir.display()
            )));
        }
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if is_hidden(&name) {
            continue;
        }
        if let Ok(m) = entry.metadata()
            && m.is_file()
            && m.len() > 0
        {
            files.push((entry.path(), m.len()));
        }
    }
    files.sort();
    Ok(files)
}

impl WarehouseTable {
    /// The names of the table's CHAR(n) columns.
    fn char_columns(&self) -> Vec<String> {
        self.meta
            .columns
            .iter()
            .filter(|c| matches!(c.char_length, Some(CharLength::Char(_))))
            .map(|c| c.name.clone())
            .collect()
    }

    /// A scan's rows with CHAR(n) values as Hive reads them: the padding the files hold
    /// (Hive writes it) stripped, so that they compare, measure and concatenate as Hive's
    /// CHAR does (its trailing spaces are not significant).
    fn strip_char_padding(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let chars = self.char_columns();
        let schema = input.schema();
        if !schema.fields().iter().any(|f| chars.contains(f.name())) {
            return Ok(input);
        }
        let df_schema = DFSchema::try_from(Arc::clone(&schema))?;
        let exprs = schema
            .fields()
            .iter()
            .map(|f| {
                let column = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
                let expr = if chars.contains(f.name()) {
                    datafusion::functions::string::rtrim().call(vec![column])
                } else {
                    column
                };
                Ok((
                    state.create_physical_expr(expr, &df_schema)?,
                    f.name().clone(),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(ProjectionExec::try_new(exprs, input)?))
    }

    /// The scan of the table's files.
    async fn scan_files(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let names = self.partition_names();
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| !names.is_empty() && expr_applicable_for_cols(&names, f))
            .cloned()
            .collect();
        let local = self.files(state, &partition_filters)?;
        if local.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let groups_wanted = state.config().target_partitions().max(1).min(local.len());
        let mut groups: Vec<Vec<LocalFile>> = vec![Vec::new(); groups_wanted];
        // Largest first, each to the lightest group.
        let mut local = local;
        local.sort_by_key(|f| std::cmp::Reverse(f.1));
        let mut weights = vec![0u64; groups_wanted];
        for f in local {
            let (i, _) = weights
                .iter()
                .enumerate()
                .min_by_key(|(_, w)| **w)
                .unwrap_or((0, &0));
            weights[i] += f.1;
            groups[i].push(f);
        }
        if let Some(options) = TextOptions::of(&self.meta)? {
            let projection: Vec<usize> = match projection {
                Some(p) => p.clone(),
                None => (0..self.schema.fields().len()).collect(),
            };
            let schema = Arc::new(self.schema.project(&projection)?);
            let groups = groups
                .into_iter()
                .map(|g| {
                    g.into_iter()
                        .map(|(path, _, values)| (path, values))
                        .collect()
                })
                .collect();
            let data_types = self
                .meta
                .columns
                .iter()
                .map(|c| c.data_type.clone())
                .collect();
            return Ok(Arc::new(TextScanExec::new(
                groups, options, data_types, projection, schema,
            )));
        }
        let partition_fields: Vec<datafusion::arrow::datatypes::FieldRef> =
            fields(&self.meta.partition_columns)
                .into_iter()
                .map(Arc::new)
                .collect();
        let groups = groups
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .map(|(path, size, values)| partitioned_file(&path, size, values))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let table_schema = TableSchema::builder(Arc::clone(&self.file_schema))
            .with_table_partition_cols(partition_fields)
            .build();
        let format = file_format(&self.meta.format, state);
        let source = format.file_source(table_schema);
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), source)
            .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }
}

#[async_trait]
impl TableProvider for WarehouseTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let names = self.partition_names();
        let chars = self.char_columns();
        Ok(filters
            .iter()
            .map(|f| {
                if !names.is_empty() && expr_applicable_for_cols(&names, f) {
                    TableProviderFilterPushDown::Exact
                } else if f.column_refs().iter().any(|c| chars.contains(&c.name)) {
                    // The files hold CHAR values padded; the filter sees them stripped.
                    TableProviderFilterPushDown::Unsupported
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let overwrite = match insert_op {
            InsertOp::Append => false,
            InsertOp::Overwrite => true,
            InsertOp::Replace => {
                return datafusion::common::not_impl_err!(
                    "REPLACE INTO a warehouse table; use INSERT OVERWRITE"
                );
            }
        };
        let sink = WarehouseSink::new(
            Arc::clone(&self.warehouse),
            self.meta.clone(),
            overwrite,
            Arc::clone(&self.schema),
        );
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let files = self.scan_files(state, projection, filters, limit).await?;
        self.strip_char_padding(state, files)
    }
}
