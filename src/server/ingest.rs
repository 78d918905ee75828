//! Flight SQL bulk ingest (`CommandStatementIngest`): Arrow batches from a client into a
//! warehouse table, through the warehouse's atomic write, creating the table if asked.
//! Columns are matched by name; a column the table does not have, or a value that does not
//! convert to its column's type, fails the statement (nothing is written). The names follow
//! Hive's rule, and the built-in sample tables are refused.

use std::sync::Arc;

use arrow_flight::sql::{TableDefinitionOptions, TableExistsOption, TableNotExistOption};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{Stream, StreamExt};

use crate::catalog::is_sample_table;
use crate::error::{ApiaryError, Result};
use crate::security::guard::sample_table_error;
use crate::security::{NameKind, check_name};
use crate::sql::hive_types::{hive_type_name, parse_hive_type};
use crate::warehouse::metastore::{ColumnMeta, StorageFormat, TableKind, TableMeta};
use crate::warehouse::table::table_schema;
use crate::warehouse::write::{WriteRequest, write};
use crate::warehouse::{DEFAULT_DATABASE, DEFAULT_LOCK_TIMEOUT, Warehouse};

type Batches =
    std::pin::Pin<Box<dyn Stream<Item = datafusion::common::Result<RecordBatch>> + Send>>;

/// Writes `batches` (with schema `incoming`) into `db.table`; returns the rows written.
pub async fn ingest(
    warehouse: &Warehouse,
    db: &str,
    table: &str,
    options: TableDefinitionOptions,
    incoming: SchemaRef,
    batches: Batches,
    task: &Arc<TaskContext>,
) -> Result<u64> {
    check_name(NameKind::Database, db)?;
    check_name(NameKind::Table, table)?;
    if is_sample_table(db, table) {
        return Err(sample_table_error(table, "ingest"));
    }
    let database = warehouse
        .metastore()
        .database(db)?
        .ok_or_else(|| ApiaryError::Usage(format!("database '{db}' does not exist")))?;
    let existing = warehouse.metastore().table(db, table)?;
    let (meta, create, overwrite) = match existing {
        Some(meta) => match options.if_exists() {
            TableExistsOption::Append => (meta, false, false),
            TableExistsOption::Replace => (meta, false, true),
            TableExistsOption::Fail | TableExistsOption::Unspecified => {
                return Err(ApiaryError::Usage(format!(
                    "table {db}.{table} already exists (ingest with append or replace)"
                )));
            }
        },
        None => match options.if_not_exist() {
            TableNotExistOption::Create => {
                let columns = incoming
                    .fields()
                    .iter()
                    .map(|f| {
                        let data_type =
                            parse_hive_type(&hive_type_name(f.data_type())).map_err(|_| {
                                ApiaryError::Usage(format!(
                                    "ingest into {db}.{table}: column '{}' has type {}, which a \
                                     table cannot store",
                                    f.name(),
                                    f.data_type()
                                ))
                            })?;
                        Ok(ColumnMeta {
                            name: f.name().to_ascii_lowercase(),
                            data_type,
                            char_length: None,
                            comment: None,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let location = if db == DEFAULT_DATABASE {
                    warehouse.root().join(table)
                } else {
                    database.location.join(table)
                };
                let meta = TableMeta {
                    id: 0,
                    db: db.to_string(),
                    name: table.to_string(),
                    kind: TableKind::Managed,
                    format: StorageFormat::Parquet,
                    location,
                    comment: None,
                    columns,
                    partition_columns: vec![],
                    properties: Default::default(),
                    created: 0,
                    view_text: None,
                };
                (meta, true, false)
            }
            TableNotExistOption::Fail | TableNotExistOption::Unspecified => {
                return Err(ApiaryError::Usage(format!(
                    "table {db}.{table} not found (ingest with create to make it)"
                )));
            }
        },
    };
    // Columns are matched by name and converted to the table's types.
    let target = table_schema(&meta);
    let mut positions = Vec::with_capacity(target.fields().len());
    for field in target.fields() {
        let i = incoming
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(field.name()))
            .ok_or_else(|| {
                ApiaryError::Usage(format!(
                    "ingest into {db}.{table}: the data has no column '{}'",
                    field.name()
                ))
            })?;
        positions.push(i);
    }
    if let Some(extra) = incoming.fields().iter().find(|f| {
        !target
            .fields()
            .iter()
            .any(|t| t.name().eq_ignore_ascii_case(f.name()))
    }) {
        return Err(ApiaryError::Usage(format!(
            "ingest into {db}.{table}: the table has no column '{}' (its columns: {})",
            extra.name(),
            target
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let out_schema: SchemaRef = Arc::new(Schema::new(target.fields().clone()));
    let mapped_schema = Arc::clone(&out_schema);
    // A value that does not convert is an error, not a NULL.
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let mapped = batches.map(move |batch| {
        let batch = batch?;
        let columns = positions
            .iter()
            .zip(mapped_schema.fields())
            .map(|(&i, f)| {
                cast_with_options(batch.column(i), f.data_type(), &strict).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "column '{}': a value does not convert to {}: {e}",
                        f.name(),
                        hive_type_name(f.data_type())
                    ))
                })
            })
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        RecordBatch::try_new(Arc::clone(&mapped_schema), columns).map_err(DataFusionError::from)
    });
    let stream: SendableRecordBatchStream =
        Box::pin(RecordBatchStreamAdapter::new(out_schema, mapped));
    let request = WriteRequest {
        table: meta,
        create,
        overwrite,
        partition_clause: false,
        static_values: vec![],
        lock_timeout: DEFAULT_LOCK_TIMEOUT,
    };
    write(warehouse, request, stream, task)
        .await
        .map_err(|e| ApiaryError::Usage(format!("ingest into {db}.{table}: {e}")))
}
