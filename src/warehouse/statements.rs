//! Running the warehouse statements of [`crate::sql::hive_statements`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::SchemaProvider;
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Query, Statement};

use super::catalog::WarehouseCatalog;
use super::describe::show_create_table;
use super::layout::{is_hidden, parse_partition_path, partition_spec};
use super::metastore::{
    ColumnMeta, DatabaseMeta, NewFile, NewPartition, PartitionMeta, Replace, StorageFormat,
    TableKind, TableMeta, WriteCommit,
};
use super::table::{list_data_files, partition_scalar};
use super::write::{WriteRequest, plan_stream, write};
use super::{DEFAULT_DATABASE, Retire, Warehouse};
use crate::error::{ApiaryError, Result};
use crate::session::{StatementOutput, rows_output};
use crate::sql::command::like_matches;
use crate::sql::hive_statements::{
    CharLength, ColumnDef, CreateTable, HiveStatement, Insert, PartitionSpec, StoredAs, TableName,
};
use crate::sql::hive_types::{hive_type_name, parse_hive_type};
use crate::suggest::closest;

/// What a warehouse statement runs against: the session and the shared warehouse.
pub struct WarehouseSession<'a> {
    /// The session's DataFusion context.
    pub ctx: &'a SessionContext,
    /// The warehouse.
    pub warehouse: &'a Arc<Warehouse>,
    /// The session's catalog.
    pub catalog: &'a WarehouseCatalog,
    /// How long a write waits for another process's write to the same table.
    pub lock_timeout: Duration,
}

pub(super) fn usage(message: impl Into<String>) -> ApiaryError {
    ApiaryError::Usage(message.into())
}

/// An absolute path for a user's `LOCATION` (relative to the working directory; `file:` URLs
/// accepted).
pub(super) fn absolute_location(location: &str) -> Result<PathBuf> {
    let text = location
        .strip_prefix("file://")
        .or_else(|| location.strip_prefix("file:"))
        .unwrap_or(location);
    if text.contains("://") {
        return Err(usage(format!(
            "LOCATION '{location}': only local paths are supported"
        )));
    }
    let path = PathBuf::from(text);
    if path.is_absolute() {
        Ok(path)
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .map_err(|source| ApiaryError::Io {
                path: PathBuf::from("."),
                source,
            })
    }
}

pub(super) fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A type a warehouse table can store for a query column (Utf8View → string, ...), or `None`.
fn storable_type(data_type: &DataType) -> Option<DataType> {
    if matches!(data_type, DataType::Null) {
        return None;
    }
    parse_hive_type(&hive_type_name(data_type)).ok()
}

pub(super) fn column_meta(def: &ColumnDef) -> Result<ColumnMeta> {
    Ok(ColumnMeta {
        char_length: def.char_length,
        name: def.name.clone(),
        data_type: def
            .data_type
            .clone()
            .ok_or_else(|| usage(format!("column '{}' needs a type", def.name)))?,
        comment: def.comment.clone(),
    })
}

pub(super) fn check_unique(
    table: &str,
    columns: &[ColumnMeta],
    partitions: &[ColumnMeta],
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for c in columns.iter().chain(partitions) {
        if !seen.insert(c.name.as_str()) {
            let why = if partitions.iter().any(|p| p.name == c.name) {
                " (a partition column cannot also be a data column)"
            } else {
                ""
            };
            return Err(usage(format!(
                "table {table}: column '{}' is defined twice{why}",
                c.name
            )));
        }
    }
    Ok(())
}

pub(super) fn check_text_columns(
    table: &str,
    format: &StorageFormat,
    columns: &[ColumnMeta],
) -> Result<()> {
    if matches!(format, StorageFormat::Text { .. }) {
        for c in columns {
            if c.data_type.is_nested() {
                return Err(usage(format!(
                    "table {table}: STORED AS TEXTFILE cannot hold column '{}' of type {}; \
                     use STORED AS PARQUET or JSONFILE",
                    c.name,
                    hive_type_name(&c.data_type)
                )));
            }
        }
    }
    Ok(())
}

fn query_statement(query: &Query) -> DFStatement {
    DFStatement::Statement(Box::new(Statement::Query(Box::new(query.clone()))))
}

impl WarehouseSession<'_> {
    pub(super) fn current_database(&self) -> String {
        self.ctx
            .state()
            .config_options()
            .catalog
            .default_schema
            .clone()
    }

    fn database(&self, name: &str) -> Result<DatabaseMeta> {
        self.warehouse.metastore().database(name)?.ok_or_else(|| {
            let names = self
                .warehouse
                .metastore()
                .database_names()
                .unwrap_or_default();
            let hint = closest(name, names.iter().map(String::as_str))
                .map(|s| format!(". Did you mean '{s}'?"))
                .unwrap_or_default();
            usage(format!("database '{name}' does not exist{hint}"))
        })
    }

    pub(super) fn resolve(&self, name: &TableName) -> Result<(String, String)> {
        let db = name.db.clone().unwrap_or_else(|| self.current_database());
        self.database(&db)?;
        Ok((db, name.name.clone()))
    }

    /// A warehouse table, or `None` when the name is free (or a session object).
    pub(super) fn find_table(&self, name: &TableName) -> Result<Option<TableMeta>> {
        let (db, table) = self.resolve(name)?;
        self.warehouse.metastore().table(&db, &table)
    }

    fn session_table_exists(&self, db: &str, name: &str) -> bool {
        self.catalog.overlay(db).table_exist(name)
    }

    /// A warehouse table that must exist (not a view: the statements that take one use
    /// [`WarehouseSession::table_or_view`]).
    pub(super) fn table(&self, name: &TableName) -> Result<TableMeta> {
        let meta = self.table_or_view(name)?;
        if meta.kind == TableKind::View {
            return Err(usage(format!(
                "{} is a view; this statement needs a table",
                meta.qualified_name()
            )));
        }
        Ok(meta)
    }

    /// A warehouse table or view that must exist.
    pub(super) fn table_or_view(&self, name: &TableName) -> Result<TableMeta> {
        if let Some(t) = self.find_table(name)? {
            return Ok(t);
        }
        let (db, table) = self.resolve(name)?;
        if self.session_table_exists(&db, &table) {
            return Err(usage(format!(
                "{db}.{table} is a session object (a view, sample or DataFusion table), not a \
                 warehouse table"
            )));
        }
        let mut names = self.warehouse.metastore().table_names(&db)?;
        names.extend(self.catalog.overlay(&db).table_names());
        let hint = closest(&table, names.iter().map(String::as_str))
            .map(|s| format!(". Did you mean '{s}'?"))
            .unwrap_or_default();
        Err(usage(format!("table {db}.{table} not found{hint}")))
    }

    pub(super) async fn lock(&self, table: &TableMeta) -> Result<super::TableLock> {
        self.warehouse
            .lock(&table.qualified_name(), self.lock_timeout)
            .await
    }

    /// Runs one statement.
    pub async fn execute(&self, statement: HiveStatement) -> Result<StatementOutput> {
        match statement {
            HiveStatement::CreateDatabase {
                name,
                if_not_exists,
                comment,
                location,
            } => self.create_database(name, if_not_exists, comment, location),
            HiveStatement::DropDatabase {
                name,
                if_exists,
                cascade,
            } => self.drop_database(&name, if_exists, cascade),
            HiveStatement::Use(db) => {
                self.database(&db)?;
                let state = self.ctx.state_ref();
                state
                    .write()
                    .config_mut()
                    .options_mut()
                    .catalog
                    .default_schema = db;
                Ok(StatementOutput::Done)
            }
            HiveStatement::ShowDatabases(pattern) => {
                let names = self.warehouse.metastore().database_names()?;
                Ok(rows_output(
                    "database_name",
                    names
                        .into_iter()
                        .filter(|n| pattern.as_deref().is_none_or(|p| like_matches(p, n)))
                        .collect(),
                ))
            }
            HiveStatement::ShowTables { db, pattern } => {
                let db = db.unwrap_or_else(|| self.current_database());
                self.database(&db)?;
                let mut names = self.warehouse.metastore().table_names(&db)?;
                names.extend(self.catalog.overlay(&db).table_names());
                Ok(table_name_rows(names, pattern.as_deref()))
            }
            HiveStatement::CreateTable(create) => self.create_table(*create).await,
            HiveStatement::Insert(insert) => self.insert(*insert).await,
            HiveStatement::MultiInsert(inserts) => {
                let mut total = 0;
                for insert in inserts {
                    if let StatementOutput::Affected(n) = self.insert(insert).await? {
                        total += n;
                    }
                }
                Ok(StatementOutput::Affected(total))
            }
            HiveStatement::AddPartitions {
                table,
                if_not_exists,
                partitions,
            } => self.add_partitions(&table, if_not_exists, partitions).await,
            HiveStatement::DropPartitions {
                table,
                if_exists,
                partitions,
            } => self.drop_partitions(&table, if_exists, &partitions).await,
            HiveStatement::RenameTable { table, to } => self.rename_table(&table, &to).await,
            HiveStatement::AddColumns { table, columns } => {
                let meta = self.table(&table)?;
                let _lock = self.lock(&meta).await?;
                let columns = columns
                    .iter()
                    .map(column_meta)
                    .collect::<Result<Vec<_>>>()?;
                let mut all = meta.columns.clone();
                all.extend(columns.iter().cloned());
                check_unique(&meta.qualified_name(), &all, &meta.partition_columns)?;
                check_text_columns(&meta.qualified_name(), &meta.format, &columns)?;
                self.warehouse.metastore().add_columns(&meta, &columns)?;
                Ok(StatementOutput::Done)
            }
            HiveStatement::SetProperties { table, properties } => {
                let meta = self.table(&table)?;
                self.warehouse
                    .metastore()
                    .set_properties(meta.id, &properties)?;
                Ok(StatementOutput::Done)
            }
            HiveStatement::MsckRepair(table) => self.msck_repair(&table).await,
            HiveStatement::ShowPartitions { table, partition } => {
                let meta = self.table(&table)?;
                if meta.partition_columns.is_empty() {
                    return Err(usage(format!(
                        "table {} is not a partitioned table",
                        meta.qualified_name()
                    )));
                }
                let filter = match &partition {
                    Some(spec) => Some(spec_with_indices(
                        &meta,
                        &self.check_spec(&meta, spec, true)?,
                    )),
                    None => None,
                };
                let specs = self
                    .warehouse
                    .metastore()
                    .partitions(meta.id)?
                    .into_iter()
                    .filter(|p| filter.as_ref().is_none_or(|f| matches_spec(p, f)))
                    .map(|p| p.spec)
                    .collect();
                Ok(rows_output("partition", specs))
            }
            HiveStatement::ShowCreateTable(table) => {
                let meta = self.table_or_view(&table)?;
                Ok(rows_output(
                    "createtab_stmt",
                    show_create_table(&meta, self.warehouse),
                ))
            }
            HiveStatement::Describe { table, detailed } => self.describe(&table, detailed).await,
            HiveStatement::Truncate { table, partition } => {
                self.truncate(&table, partition.as_ref()).await
            }
            HiveStatement::DropTable {
                table,
                if_exists,
                purge: _,
            } => self.drop_table(&table, if_exists).await,
            HiveStatement::LoadData {
                path,
                local,
                overwrite,
                table,
                partition,
            } => {
                self.load_data(&path, local, overwrite, &table, partition.as_ref())
                    .await
            }
            HiveStatement::InsertDirectory(insert) => self.insert_directory(*insert).await,
            HiveStatement::ShowTblProperties { table, key } => {
                self.show_tblproperties(&table, key.as_deref())
            }
            HiveStatement::Analyze {
                table,
                partition,
                noscan,
            } => self.analyze(&table, partition.as_ref(), noscan).await,
            HiveStatement::ChangeColumn {
                table,
                old,
                column,
                position,
            } => self.change_column(&table, &old, &column, &position).await,
            HiveStatement::ReplaceColumns { table, columns } => {
                self.replace_columns(&table, &columns).await
            }
            HiveStatement::SetLocation {
                table,
                partition,
                location,
            } => {
                self.set_location(&table, partition.as_ref(), &location)
                    .await
            }
            HiveStatement::CreateView(create) => self.create_view(*create).await,
            HiveStatement::AlterView { view, change } => self.alter_view(&view, *change).await,
            HiveStatement::DropView { view, if_exists } => self.drop_view(&view, if_exists),
            HiveStatement::ShowViews { db, pattern } => {
                self.show_views(db, pattern.as_deref()).await
            }
        }
    }

    fn create_database(
        &self,
        name: String,
        if_not_exists: bool,
        comment: Option<String>,
        location: Option<String>,
    ) -> Result<StatementOutput> {
        if self.warehouse.metastore().database(&name)?.is_some() {
            return if if_not_exists {
                Ok(StatementOutput::Done)
            } else {
                Err(usage(format!("database '{name}' already exists")))
            };
        }
        let location = match location {
            Some(l) => absolute_location(&l)?,
            None => self.warehouse.default_database_location(&name),
        };
        create_dir(&location)?;
        self.warehouse.metastore().create_database(&DatabaseMeta {
            name,
            comment,
            location,
        })?;
        Ok(StatementOutput::Done)
    }

    fn drop_database(&self, name: &str, if_exists: bool, cascade: bool) -> Result<StatementOutput> {
        if name == DEFAULT_DATABASE {
            return Err(usage("the default database cannot be dropped"));
        }
        let Some(db) = self.warehouse.metastore().database(name)? else {
            return if if_exists {
                Ok(StatementOutput::Done)
            } else {
                Err(usage(format!("database '{name}' does not exist")))
            };
        };
        // Writers of its tables must finish first.
        let mut locks = Vec::new();
        for t in self.warehouse.metastore().table_names(name)? {
            match self.warehouse.try_lock(&format!("{name}.{t}"))? {
                Some(l) => locks.push(l),
                None => {
                    return Err(usage(format!(
                        "table {name}.{t} is being written by another process"
                    )));
                }
            }
        }
        let doomed = self.warehouse.metastore().drop_database(name, cascade)?;
        self.warehouse.retire(&doomed, Retire::Now)?;
        // Its directory goes when nothing else is in it.
        let _ = std::fs::remove_dir(&db.location);
        self.catalog.forget_overlay(name);
        if self.current_database() == name {
            let state = self.ctx.state_ref();
            state
                .write()
                .config_mut()
                .options_mut()
                .catalog
                .default_schema = DEFAULT_DATABASE.to_string();
        }
        Ok(StatementOutput::Done)
    }

    fn table_location(&self, db: &DatabaseMeta, name: &str) -> PathBuf {
        if db.name == DEFAULT_DATABASE {
            self.warehouse.root().join(name)
        } else {
            db.location.join(name)
        }
    }

    pub(super) async fn plan_query(&self, query: &Query) -> Result<LogicalPlan> {
        Ok(self
            .ctx
            .state()
            .statement_to_plan(query_statement(query))
            .await?)
    }

    async fn create_table(&self, create: CreateTable) -> Result<StatementOutput> {
        let (db_name, name) = self.resolve(&create.name)?;
        let db = self.database(&db_name)?;
        let qualified = format!("{db_name}.{name}");
        if self.warehouse.metastore().table(&db_name, &name)?.is_some()
            || self.session_table_exists(&db_name, &name)
        {
            return if create.if_not_exists {
                Ok(StatementOutput::Done)
            } else {
                Err(usage(format!("table {qualified} already exists")))
            };
        }
        let mut format = match create.stored_as {
            Some(StoredAs::Parquet) => StorageFormat::Parquet,
            Some(StoredAs::JsonFile) => StorageFormat::Json,
            Some(StoredAs::TextFile) => StorageFormat::Text {
                delimiter: create.field_delimiter.unwrap_or(1),
            },
            None if create.field_delimiter.is_some() => StorageFormat::Text {
                delimiter: create.field_delimiter.unwrap_or(1),
            },
            None => StorageFormat::Parquet,
        };
        let location = match &create.location {
            Some(l) => absolute_location(l)?,
            None => self.table_location(&db, &name),
        };
        let mut columns: Vec<ColumnMeta> = create
            .columns
            .iter()
            .map(column_meta)
            .collect::<Result<_>>()?;
        let mut partition_columns: Vec<ColumnMeta> = Vec::new();
        let mut properties: std::collections::BTreeMap<String, String> =
            create.properties.iter().cloned().collect();
        if let Some(like) = &create.like {
            let source = self.table_or_view(like)?;
            columns = source.columns.clone();
            partition_columns = source.partition_columns.clone();
            if create.stored_as.is_none() && create.field_delimiter.is_none() {
                format = source.format.clone();
            }
            for (k, v) in source.properties {
                properties.entry(k).or_insert(v);
            }
        }
        let kind = if create.external {
            TableKind::External
        } else {
            TableKind::Managed
        };
        if let Some(query) = &create.query {
            if !columns.is_empty() {
                return Err(usage(format!(
                    "CREATE TABLE {qualified} AS SELECT takes its columns from the query; \
                     remove the column list"
                )));
            }
            if create.external {
                return Err(usage(
                    "CREATE EXTERNAL TABLE ... AS SELECT is not supported (as in Hive); \
                     create the table, then INSERT",
                ));
            }
            return self
                .create_table_as(
                    create.clone(),
                    query,
                    db_name,
                    name,
                    format,
                    location,
                    properties,
                )
                .await;
        }
        if create.like.is_none() {
            partition_columns = create
                .partitioned_by
                .iter()
                .map(column_meta)
                .collect::<Result<_>>()?;
        }
        if columns.is_empty() {
            // An external Parquet table without columns takes its schema from its files.
            if create.external && format == StorageFormat::Parquet && create.location.is_some() {
                columns = self.infer_parquet_columns(&location).await?;
            } else {
                return Err(usage(format!("CREATE TABLE {qualified} needs columns")));
            }
        }
        check_unique(&qualified, &columns, &partition_columns)?;
        check_text_columns(&qualified, &format, &columns)?;
        check_text_columns(&qualified, &format, &partition_columns)?;
        if !location.is_file() {
            create_dir(&location)?;
        }
        if kind == TableKind::Managed {
            // A dropped table of the same name may still wait in the trash.
            self.warehouse.clear_trash_under(&location)?;
        }
        let meta = TableMeta {
            id: 0,
            db: db_name,
            name,
            kind,
            format,
            location,
            comment: create.comment.clone(),
            columns,
            partition_columns,
            properties,
            created: 0,
            view_text: None,
        };
        if !self.warehouse.metastore().create_table(&meta)? && !create.if_not_exists {
            return Err(usage(format!("table {qualified} already exists")));
        }
        Ok(StatementOutput::Done)
    }

    async fn infer_parquet_columns(&self, location: &Path) -> Result<Vec<ColumnMeta>> {
        let url = if location.is_file() {
            ListingTableUrl::parse(location.display().to_string())?
        } else {
            ListingTableUrl::parse(format!("{}/", location.display()))?
        };
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()));
        let schema = options
            .infer_schema(&self.ctx.state(), &url)
            .await
            .map_err(|e| {
                usage(format!(
                    "cannot read a schema from the Parquet files in {}: {e}",
                    location.display()
                ))
            })?;
        if schema.fields().is_empty() {
            return Err(usage(format!(
                "no Parquet files in {} to take columns from; give the columns",
                location.display()
            )));
        }
        schema
            .fields()
            .iter()
            .map(|f| {
                Ok(ColumnMeta {
                    char_length: None,
                    name: f.name().to_ascii_lowercase(),
                    data_type: storable_type(f.data_type()).ok_or_else(|| {
                        usage(format!(
                            "column '{}' has type {} that a Hive table cannot hold",
                            f.name(),
                            f.data_type()
                        ))
                    })?,
                    comment: None,
                })
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_table_as(
        &self,
        create: CreateTable,
        query: &Query,
        db: String,
        name: String,
        format: StorageFormat,
        location: PathBuf,
        properties: std::collections::BTreeMap<String, String>,
    ) -> Result<StatementOutput> {
        let qualified = format!("{db}.{name}");
        let plan = self.plan_query(query).await?;
        let schema = plan.schema().clone();
        let mut data: Vec<(usize, ColumnMeta)> = Vec::new();
        let mut partitions: Vec<(usize, ColumnMeta)> = Vec::new();
        for p in &create.partitioned_by {
            let index = schema
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(&p.name))
                .ok_or_else(|| {
                    usage(format!(
                        "PARTITIONED BY column '{}' is not a column of the query",
                        p.name
                    ))
                })?;
            let data_type = match &p.data_type {
                Some(t) => t.clone(),
                None => storable_type(schema.field(index).data_type()).ok_or_else(|| {
                    usage(format!(
                        "partition column '{}' has no storable type",
                        p.name
                    ))
                })?,
            };
            partitions.push((
                index,
                ColumnMeta {
                    name: p.name.clone(),
                    data_type,
                    char_length: p.char_length,
                    comment: p.comment.clone(),
                },
            ));
        }
        for (i, f) in schema.fields().iter().enumerate() {
            if partitions.iter().any(|(p, _)| *p == i) {
                continue;
            }
            let data_type = storable_type(f.data_type()).ok_or_else(|| {
                usage(format!(
                    "CREATE TABLE {qualified} AS SELECT: column '{}' has type {}, which a table \
                     cannot store; CAST it",
                    f.name(),
                    f.data_type()
                ))
            })?;
            data.push((
                i,
                ColumnMeta {
                    name: f.name().to_ascii_lowercase(),
                    data_type,
                    char_length: None,
                    comment: None,
                },
            ));
        }
        let columns: Vec<ColumnMeta> = data.iter().map(|(_, c)| c.clone()).collect();
        let partition_columns: Vec<ColumnMeta> =
            partitions.iter().map(|(_, c)| c.clone()).collect();
        check_unique(&qualified, &columns, &partition_columns)?;
        check_text_columns(&qualified, &format, &columns)?;
        let order: Vec<(usize, DataType, String)> = data
            .iter()
            .chain(partitions.iter())
            .map(|(i, c)| (*i, c.data_type.clone(), c.name.clone()))
            .collect();
        let input = project_cast(plan, &order, &qualified)?;
        let meta = TableMeta {
            id: 0,
            db,
            name,
            kind: TableKind::Managed,
            format,
            location,
            comment: create.comment.clone(),
            columns,
            partition_columns,
            properties,
            created: 0,
            view_text: None,
        };
        let stream = plan_stream(self.ctx, &input)
            .await
            .map_err(|e| usage(format!("CREATE TABLE {qualified} AS SELECT: {e}")))?;
        let rows = write(
            self.warehouse,
            WriteRequest {
                table: meta,
                create: true,
                overwrite: false,
                partition_clause: false,
                static_values: vec![],
                lock_timeout: self.lock_timeout,
            },
            stream,
            &self.ctx.task_ctx(),
        )
        .await
        .map_err(|e| usage(format!("CREATE TABLE {qualified} AS SELECT: {e}")))?;
        Ok(StatementOutput::Affected(rows))
    }

    /// Checks a PARTITION clause against the table: every name a partition column, in order;
    /// `partial` allows a prefix-free subset (for SHOW/DROP/TRUNCATE).
    pub(super) fn check_spec(
        &self,
        meta: &TableMeta,
        spec: &PartitionSpec,
        partial: bool,
    ) -> Result<PartitionSpec> {
        let names: Vec<&str> = meta
            .partition_columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if names.is_empty() {
            return Err(usage(format!(
                "table {} is not partitioned",
                meta.qualified_name()
            )));
        }
        for (name, value) in spec {
            let Some(column) = meta.partition_columns.iter().find(|c| &c.name == name) else {
                return Err(usage(format!(
                    "'{name}' is not a partition column of {} (partition columns: {})",
                    meta.qualified_name(),
                    names.join(", ")
                )));
            };
            if let Some(v) = value
                && partition_scalar(Some(v), &column.data_type).is_err()
            {
                return Err(usage(format!(
                    "partition value '{v}' is not a valid {} for column {name} of {}",
                    hive_type_name(&column.data_type),
                    meta.qualified_name()
                )));
            }
        }
        if !partial {
            for name in &names {
                if !spec.iter().any(|(n, _)| n == name) {
                    return Err(usage(format!(
                        "missing value for partition column '{name}' of {} (PARTITION ({}))",
                        meta.qualified_name(),
                        names
                            .iter()
                            .map(|n| format!("{n}='...'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        // In the table's order.
        let mut ordered = Vec::new();
        for name in &names {
            if let Some(entry) = spec.iter().find(|(n, _)| n == name) {
                ordered.push(entry.clone());
            }
        }
        Ok(ordered)
    }

    async fn insert(&self, insert: Insert) -> Result<StatementOutput> {
        let (db, name) = self.resolve(&insert.table)?;
        if self.warehouse.metastore().table(&db, &name)?.is_none()
            && self.session_table_exists(&db, &name)
        {
            return self.insert_into_session_table(&db, &name, insert).await;
        }
        let meta = self.table(&insert.table)?;
        let qualified = meta.qualified_name();
        let verb = if insert.overwrite {
            "INSERT OVERWRITE"
        } else {
            "INSERT INTO"
        };
        let (static_values, dynamic): (Vec<Option<String>>, Vec<ColumnMeta>) =
            match &insert.partition {
                None => (vec![], meta.partition_columns.clone()),
                Some(spec) => {
                    let spec = self.check_spec(&meta, spec, false)?;
                    let first_dynamic = spec.iter().position(|(_, v)| v.is_none());
                    if let Some(i) = first_dynamic
                        && let Some((n, _)) = spec[i..].iter().find(|(_, v)| v.is_some())
                    {
                        return Err(usage(format!(
                            "{verb} {qualified}: static partition column '{n}' comes after \
                             dynamic partition column '{}'; static values come first",
                            spec[i].0
                        )));
                    }
                    let split = first_dynamic.unwrap_or(spec.len());
                    (
                        spec[..split].iter().map(|(_, v)| v.clone()).collect(),
                        meta.partition_columns[split..].to_vec(),
                    )
                }
            };
        let plan = self.plan_query(&insert.query).await?;
        let width = plan.schema().fields().len();
        // Columns named after the table: the others are NULL.
        let targets: Vec<(Option<usize>, DataType, String)> = if insert.columns.is_empty() {
            let needed = meta.columns.len() + dynamic.len();
            if width != needed {
                let names: Vec<&str> = meta
                    .columns
                    .iter()
                    .chain(dynamic.iter())
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(usage(format!(
                    "{verb} {qualified}: the query gives {width} columns but the table takes \
                     {needed} ({})",
                    names.join(", ")
                )));
            }
            meta.columns
                .iter()
                .chain(dynamic.iter())
                .enumerate()
                .map(|(i, c)| (Some(i), c.data_type.clone(), c.name.clone()))
                .collect()
        } else {
            if insert.columns.len() != width {
                return Err(usage(format!(
                    "{verb} {qualified}: {} columns named but the query gives {width}",
                    insert.columns.len()
                )));
            }
            for c in &insert.columns {
                if !meta.columns.iter().any(|m| &m.name == c) {
                    return Err(usage(format!(
                        "{verb} {qualified}: '{c}' is not a data column of the table"
                    )));
                }
            }
            if !dynamic.is_empty() {
                return Err(usage(format!(
                    "{verb} {qualified}: with a column list, give every partition value in \
                     PARTITION (...)"
                )));
            }
            meta.columns
                .iter()
                .map(|m| {
                    (
                        insert.columns.iter().position(|c| c == &m.name),
                        m.data_type.clone(),
                        m.name.clone(),
                    )
                })
                .collect()
        };
        let input = project_targets(plan, &targets, &format!("{verb} {qualified}"))?;
        let input = fit_declared_lengths(input, &meta.columns)?;
        let context = |e: ApiaryError| match e {
            ApiaryError::Usage(m) if m.contains("being written by another process") => {
                ApiaryError::Usage(m)
            }
            other => usage(format!("{verb} {qualified}: {other}")),
        };
        let stream = plan_stream(self.ctx, &input).await.map_err(context)?;
        let rows = write(
            self.warehouse,
            WriteRequest {
                table: meta,
                create: false,
                overwrite: insert.overwrite,
                partition_clause: insert.partition.is_some(),
                static_values,
                lock_timeout: self.lock_timeout,
            },
            stream,
            &self.ctx.task_ctx(),
        )
        .await
        .map_err(context)?;
        Ok(StatementOutput::Affected(rows))
    }

    /// INSERT into a session table (a DataFusion table) goes through DataFusion.
    async fn insert_into_session_table(
        &self,
        db: &str,
        name: &str,
        insert: Insert,
    ) -> Result<StatementOutput> {
        if insert.partition.is_some() || !insert.columns.is_empty() {
            return Err(usage(format!(
                "{db}.{name} is a session table: PARTITION and column lists need a warehouse table"
            )));
        }
        let plan = self.plan_query(&insert.query).await?;
        let target = self
            .ctx
            .table_provider(format!("{db}.{name}"))
            .await?
            .schema();
        let what = format!("INSERT INTO {db}.{name}");
        let width = plan.schema().fields().len();
        if width != target.fields().len() {
            return Err(usage(format!(
                "{what}: the query gives {width} columns but the table takes {}",
                target.fields().len()
            )));
        }
        let targets: Vec<(Option<usize>, DataType, String)> = target
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (Some(i), f.data_type().clone(), f.name().clone()))
            .collect();
        let plan = project_targets(plan, &targets, &what)?;
        let op = if insert.overwrite {
            InsertOp::Overwrite
        } else {
            InsertOp::Append
        };
        let df = datafusion::dataframe::DataFrame::new(self.ctx.state(), plan);
        let batches = df
            .write_table(
                &format!("{db}.{name}"),
                datafusion::dataframe::DataFrameWriteOptions::new().with_insert_operation(op),
            )
            .await?;
        let rows = batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        Ok(StatementOutput::Affected(rows))
    }

    pub(super) fn new_partition(
        &self,
        meta: &TableMeta,
        values: Vec<Option<String>>,
        location: Option<PathBuf>,
    ) -> NewPartition {
        let names: Vec<String> = meta
            .partition_columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let spec = partition_spec(&names, &values);
        let location = location.unwrap_or_else(|| meta.location.join(&spec));
        NewPartition {
            values,
            spec,
            location,
        }
    }

    async fn add_partitions(
        &self,
        table: &TableName,
        if_not_exists: bool,
        partitions: Vec<(PartitionSpec, Option<String>)>,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let existing: std::collections::HashSet<String> = self
            .warehouse
            .metastore()
            .partitions(meta.id)?
            .into_iter()
            .map(|p| p.spec)
            .collect();
        let mut new = Vec::new();
        for (spec, location) in partitions {
            let spec = self.check_spec(&meta, &spec, false)?;
            let values = spec.into_iter().map(|(_, v)| v).collect();
            let location = location.as_deref().map(absolute_location).transpose()?;
            let p = self.new_partition(&meta, values, location);
            if existing.contains(&p.spec) || new.iter().any(|n: &NewPartition| n.spec == p.spec) {
                if if_not_exists {
                    continue;
                }
                return Err(usage(format!(
                    "partition {} already exists in {}",
                    p.spec,
                    meta.qualified_name()
                )));
            }
            create_dir(&p.location)?;
            new.push(p);
        }
        self.register_partitions(&meta, new)?;
        Ok(StatementOutput::Done)
    }

    /// Adds partitions in one transaction; for a managed table, the data files already in
    /// their directories become part of the table.
    fn register_partitions(&self, meta: &TableMeta, partitions: Vec<NewPartition>) -> Result<()> {
        let mut files = Vec::new();
        if meta.kind == TableKind::Managed {
            for p in &partitions {
                for (path, size) in list_data_files(&p.location)? {
                    files.push(NewFile {
                        path,
                        size,
                        rows: None,
                        partition: Some(p.clone()),
                    });
                }
            }
        }
        self.warehouse.metastore().commit(&WriteCommit {
            txn: None,
            create: None,
            table_id: meta.id,
            files,
            partitions,
            replace: Replace::Nothing,
        })?;
        Ok(())
    }

    pub(super) fn matching_partitions(
        &self,
        meta: &TableMeta,
        spec: &PartitionSpec,
    ) -> Result<Vec<PartitionMeta>> {
        let spec = self.check_spec(meta, spec, true)?;
        Ok(self
            .warehouse
            .metastore()
            .partitions(meta.id)?
            .into_iter()
            .filter(|p| matches_spec(p, &spec_with_indices(meta, &spec)))
            .collect())
    }

    async fn drop_partitions(
        &self,
        table: &TableName,
        if_exists: bool,
        specs: &[PartitionSpec],
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        let mut doomed_specs = Vec::new();
        for spec in specs {
            let found = self.matching_partitions(&meta, spec)?;
            if found.is_empty() && !if_exists {
                return Err(usage(format!(
                    "partition ({}) does not exist in {}",
                    spec.iter()
                        .map(|(n, v)| format!("{n}='{}'", v.clone().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    meta.qualified_name()
                )));
            }
            doomed_specs.extend(found.into_iter().map(|p| p.spec));
        }
        let doomed = self
            .warehouse
            .metastore()
            .drop_partitions(&meta, &doomed_specs)?;
        self.warehouse.retire(&doomed, Retire::Now)?;
        Ok(StatementOutput::Done)
    }

    async fn rename_table(&self, table: &TableName, to: &TableName) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let (db_name, name) = self.resolve(&TableName {
            db: to.db.clone().or_else(|| Some(meta.db.clone())),
            name: to.name.clone(),
        })?;
        let db = self.database(&db_name)?;
        if self.warehouse.metastore().table(&db_name, &name)?.is_some() {
            return Err(usage(format!("table {db_name}.{name} already exists")));
        }
        let _lock = self.lock(&meta).await?;
        let default_location = self.table_location(&self.database(&meta.db)?, &meta.name);
        // A managed table at its default place moves with its name, as in Hive.
        let new_location = if meta.kind == TableKind::Managed && meta.location == default_location {
            self.table_location(&db, &name)
        } else {
            meta.location.clone()
        };
        if new_location != meta.location {
            // Both names passed Hive's rule; still, a managed table's directory only ever moves
            // to its new name in its database's directory.
            let db_dir = if db.name == DEFAULT_DATABASE {
                self.warehouse.root()
            } else {
                db.location.as_path()
            };
            let one_level_down = new_location.parent() == Some(db_dir)
                && crate::security::names::is_valid_name(&name);
            if !one_level_down {
                return Err(usage(format!(
                    "cannot rename {} to {db_name}.{name}: its directory would leave its database",
                    meta.qualified_name()
                )));
            }
            if new_location.exists() {
                return Err(usage(format!(
                    "cannot rename {} to {db_name}.{name}: {} already exists",
                    meta.qualified_name(),
                    new_location.display()
                )));
            }
        }
        // The metastore first, with the directory move recorded in the same transaction; then
        // the move. A crash in between leaves the move to the next open (Warehouse::sweep).
        self.warehouse.metastore().rename_table(
            &meta,
            &db_name,
            &name,
            &new_location,
            &meta.qualified_name(),
        )?;
        if new_location != meta.location {
            if std::env::var_os("APIARY_TEST_CRASH_IN_RENAME").is_some() {
                // Test hook: die as a crash would, between the commit and the move.
                std::process::abort();
            }
            if let Err(e) = self
                .warehouse
                .finish_rename(meta.id, &meta.location, &new_location)
            {
                // The move failed (the process lives): the rename is undone.
                let renamed = TableMeta {
                    db: db_name.clone(),
                    name: name.clone(),
                    location: new_location.clone(),
                    ..meta.clone()
                };
                self.warehouse.metastore().rename_table(
                    &renamed,
                    &meta.db,
                    &meta.name,
                    &meta.location,
                    &meta.qualified_name(),
                )?;
                self.warehouse.metastore().end_rename(meta.id)?;
                return Err(e);
            }
        }
        Ok(StatementOutput::Done)
    }

    async fn msck_repair(&self, table: &TableName) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        let _lock = self.lock(&meta).await?;
        // A managed table forgets committed files that vanished.
        let mut lines = Vec::new();
        if meta.kind == TableKind::Managed {
            let missing: Vec<PathBuf> = self
                .warehouse
                .metastore()
                .files(meta.id)?
                .into_iter()
                .filter(|f| !f.path.exists())
                .map(|f| f.path)
                .collect();
            lines.extend(missing.iter().map(|p| {
                format!(
                    "Repair: Removed missing file from metastore {}:{}",
                    meta.name,
                    p.display()
                )
            }));
            self.warehouse.metastore().forget_files(&missing)?;
        }
        if meta.partition_columns.is_empty() {
            return Ok(rows_output("result", lines));
        }
        let names: Vec<String> = meta
            .partition_columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let existing: std::collections::HashSet<String> = self
            .warehouse
            .metastore()
            .partitions(meta.id)?
            .into_iter()
            .map(|p| p.spec)
            .collect();
        let mut found = Vec::new();
        discover(&meta.location, &meta.location, names.len(), &mut found);
        let mut new = Vec::new();
        let mut skipped = Vec::new();
        for rel in found {
            match parse_partition_path(&names, &rel) {
                Some(values) => {
                    let p = self.new_partition(&meta, values, None);
                    if !existing.contains(&p.spec) {
                        new.push(p);
                    }
                }
                None => skipped.push(rel),
            }
        }
        new.sort_by(|a, b| a.spec.cmp(&b.spec));
        let mut lines: Vec<String> = new
            .iter()
            .map(|p| {
                format!(
                    "Repair: Added partition to metastore {}:{}",
                    meta.name, p.spec
                )
            })
            .collect();
        lines.extend(
            skipped
                .into_iter()
                .map(|s| format!("Skipped {s}: not a partition directory of {}", meta.name)),
        );
        self.register_partitions(&meta, new)?;
        Ok(rows_output("result", lines))
    }

    async fn truncate(
        &self,
        table: &TableName,
        spec: Option<&PartitionSpec>,
    ) -> Result<StatementOutput> {
        let meta = self.table(table)?;
        if meta.kind == TableKind::External {
            return Err(usage(format!(
                "cannot truncate {}: it is an external table (its files belong to you)",
                meta.qualified_name()
            )));
        }
        let _lock = self.lock(&meta).await?;
        let replace = match spec {
            None => Replace::Table,
            Some(spec) => Replace::Partitions(
                self.matching_partitions(&meta, spec)?
                    .into_iter()
                    .map(|p| p.spec)
                    .collect(),
            ),
        };
        let doomed = self.warehouse.metastore().commit(&WriteCommit {
            txn: None,
            create: None,
            table_id: meta.id,
            files: vec![],
            partitions: vec![],
            replace,
        })?;
        self.warehouse.retire(&doomed, Retire::AfterGrace)?;
        Ok(StatementOutput::Done)
    }

    async fn drop_table(&self, table: &TableName, if_exists: bool) -> Result<StatementOutput> {
        let (db, name) = self.resolve(table)?;
        let Some(meta) = self.warehouse.metastore().table(&db, &name)? else {
            if self.session_table_exists(&db, &name) {
                self.catalog.overlay(&db).deregister_table(&name)?;
                return Ok(StatementOutput::Done);
            }
            return if if_exists {
                Ok(StatementOutput::Done)
            } else {
                self.table(table).map(|_| StatementOutput::Done)
            };
        };
        if meta.kind == TableKind::View {
            return Err(usage(format!(
                "{} is a view: drop it with DROP VIEW",
                meta.qualified_name()
            )));
        }
        let _lock = self.lock(&meta).await?;
        let doomed = self.warehouse.metastore().drop_table(&meta)?;
        self.warehouse.retire(&doomed, Retire::Now)?;
        Ok(StatementOutput::Done)
    }
}

/// SHOW TABLES / SHOW VIEWS output: `names` sorted, once each, those matching `pattern`.
pub(super) fn table_name_rows(mut names: Vec<String>, pattern: Option<&str>) -> StatementOutput {
    names.sort();
    names.dedup();
    rows_output(
        "tab_name",
        names
            .into_iter()
            .filter(|n| pattern.is_none_or(|p| like_matches(p, n)))
            .collect(),
    )
}

/// A spec with each entry's position among the partition columns.
fn spec_with_indices(meta: &TableMeta, spec: &PartitionSpec) -> Vec<(usize, Option<String>)> {
    spec.iter()
        .filter_map(|(n, v)| {
            meta.partition_columns
                .iter()
                .position(|c| &c.name == n)
                .map(|i| (i, v.clone()))
        })
        .collect()
}

/// Whether a partition has the values a (partial) spec gives.
fn matches_spec(p: &PartitionMeta, spec: &[(usize, Option<String>)]) -> bool {
    spec.iter().all(|(i, v)| match v {
        None => true,
        Some(v) => p.values.get(*i).and_then(|x| x.as_deref()) == Some(v.as_str()),
    })
}

/// Directories `depth` levels below `dir` (not hidden), relative to `root`.
fn discover(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
    if depth == 0 {
        if let Ok(rel) = dir.strip_prefix(root) {
            out.push(rel.to_string_lossy().to_string());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if is_hidden(&name) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        discover(root, &entry.path(), depth - 1, out);
    }
}

/// Projects a query's columns, in `order` (query index, type, name), cast to the table's types.
fn project_cast(
    plan: LogicalPlan,
    order: &[(usize, DataType, String)],
    what: &str,
) -> Result<LogicalPlan> {
    let targets: Vec<(Option<usize>, DataType, String)> = order
        .iter()
        .map(|(i, t, n)| (Some(*i), t.clone(), n.clone()))
        .collect();
    project_targets(plan, &targets, what)
}

/// Projects the query columns onto the table's: `(query index or NULL, type, name)`.
fn project_targets(
    plan: LogicalPlan,
    targets: &[(Option<usize>, DataType, String)],
    what: &str,
) -> Result<LogicalPlan> {
    let schema = plan.schema().clone();
    let mut exprs = Vec::with_capacity(targets.len());
    for (index, data_type, name) in targets {
        let expr = match index {
            Some(i) => {
                let (qualifier, field) = schema.qualified_field(*i);
                let from = field.data_type();
                if from != data_type
                    && !matches!(from, DataType::Null)
                    && !can_cast_types(from, data_type)
                {
                    return Err(usage(format!(
                        "{what}: column '{name}' is {} but the query gives {} (column {} '{}')",
                        hive_type_name(data_type),
                        hive_type_name(from),
                        i + 1,
                        field.name()
                    )));
                }
                let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
                if from == data_type {
                    column
                } else {
                    cast(column, data_type.clone())
                }
            }
            None => lit(ScalarValue::try_from(data_type)?),
        };
        exprs.push(expr.alias(name));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Cuts the values of `VARCHAR(n)` columns to `n` characters and cuts or pads with spaces
/// those of `CHAR(n)` columns to `n`, as Hive stores them (`columns`: the table's data
/// columns, the plan's first columns).
fn fit_declared_lengths(plan: LogicalPlan, columns: &[ColumnMeta]) -> Result<LogicalPlan> {
    if columns.iter().all(|c| c.char_length.is_none()) {
        return Ok(plan);
    }
    let schema = plan.schema().clone();
    let exprs: Vec<Expr> =
        schema
            .iter()
            .enumerate()
            .map(|(i, (qualifier, field))| {
                let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
                let fitted =
                    match columns.get(i).and_then(|c| c.char_length) {
                        Some(CharLength::Varchar(n)) => {
                            datafusion::functions::unicode::left().call(vec![column, lit(n as i64)])
                        }
                        Some(CharLength::Char(n)) => datafusion::functions::unicode::rpad()
                            .call(vec![column, lit(n as i64), lit(" ")]),
                        None => return column,
                    };
                cast(fitted, field.data_type().clone()).alias(field.name())
            })
            .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}
