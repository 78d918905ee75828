//! `INSERT OVERWRITE [LOCAL] DIRECTORY '...' [ROW FORMAT DELIMITED ...] [STORED AS ...]
//! SELECT ...`: a query's rows written as Hive writes them, into one file named `000000_0`
//! that replaces what the directory held (text with `\u{1}` between fields and `\N` for NULL
//! unless told otherwise). The file is written in a hidden staging directory first, so a
//! failed query leaves the directory as it was.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;

use super::statements::{WarehouseSession, absolute_location, create_dir, usage};
use super::text::{DEFAULT_NULL_FORMAT, TextOptions};
use super::write::{plan_stream, text_writer};
use crate::error::{ApiaryError, Result};
use crate::session::StatementOutput;
use crate::sql::hive_statements::{InsertDirectory, StoredAs};
use crate::sql::hive_types::hive_type_name;

/// The name Hive gives the first (here the only) file it writes.
pub const FIRST_FILE_NAME: &str = "000000_0";

fn io_err(path: &Path, source: std::io::Error) -> ApiaryError {
    ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

enum Sink {
    Text(datafusion::arrow::csv::Writer<File>),
    Parquet(ArrowWriter<File>),
    Json(LineDelimitedWriter<File>),
}

impl Sink {
    fn open(
        stored_as: StoredAs,
        text: &TextOptions,
        path: &Path,
        schema: &SchemaRef,
    ) -> Result<Self> {
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        Ok(match stored_as {
            StoredAs::TextFile => Self::Text(text_writer(text).build(file)),
            StoredAs::Parquet => Self::Parquet(
                ArrowWriter::try_new(file, schema.clone(), None)
                    .map_err(|e| usage(format!("INSERT OVERWRITE DIRECTORY: {e}")))?,
            ),
            StoredAs::JsonFile => Self::Json(LineDelimitedWriter::new(file)),
        })
    }

    fn write(&mut self, batch: &datafusion::arrow::array::RecordBatch) -> Result<()> {
        let result = match self {
            Self::Text(w) => w.write(batch).map_err(|e| e.to_string()),
            Self::Parquet(w) => w.write(batch).map_err(|e| e.to_string()),
            Self::Json(w) => w.write(batch).map_err(|e| e.to_string()),
        };
        result.map_err(|e| usage(format!("INSERT OVERWRITE DIRECTORY: {e}")))
    }

    fn finish(self) -> Result<()> {
        let result = match self {
            Self::Text(w) => w.into_inner().sync_all().map_err(|e| e.to_string()),
            Self::Parquet(w) => w.close().map(|_| ()).map_err(|e| e.to_string()),
            Self::Json(mut w) => w.finish().map_err(|e| e.to_string()),
        };
        result.map_err(|e| usage(format!("INSERT OVERWRITE DIRECTORY: {e}")))
    }
}

impl WarehouseSession<'_> {
    /// Runs `INSERT OVERWRITE DIRECTORY`; returns the rows written.
    pub(super) async fn insert_directory(
        &self,
        insert: InsertDirectory,
    ) -> Result<StatementOutput> {
        let dir = absolute_location(&insert.path)?;
        let stored_as = insert.stored_as.unwrap_or(StoredAs::TextFile);
        let text = TextOptions {
            delimiter: insert.field_delimiter.unwrap_or(1),
            null_format: insert
                .null_format
                .clone()
                .unwrap_or_else(|| DEFAULT_NULL_FORMAT.to_string()),
            skip_header: 0,
            skip_footer: 0,
        };
        let plan = self.plan_query(&insert.query).await?;
        if stored_as == StoredAs::TextFile
            && let Some(f) = plan
                .schema()
                .fields()
                .iter()
                .find(|f| f.data_type().is_nested())
        {
            return Err(usage(format!(
                "INSERT OVERWRITE DIRECTORY '{}': column '{}' of type {} cannot be written as \
                 text; use STORED AS PARQUET or JSONFILE",
                insert.path,
                f.name(),
                hive_type_name(f.data_type())
            )));
        }
        // OVERWRITE replaces files, never a tree of directories (a mistyped '/' or home).
        if let Ok(entries) = std::fs::read_dir(&dir)
            && let Some(sub) = entries.flatten().find(|e| {
                e.file_type().is_ok_and(|t| t.is_dir())
                    && !super::layout::is_hidden(&e.file_name().to_string_lossy())
            })
        {
            return Err(usage(format!(
                "INSERT OVERWRITE DIRECTORY '{}': the directory holds a directory ({}); \
                 it would be deleted. Choose a directory of files only",
                insert.path,
                sub.file_name().to_string_lossy()
            )));
        }
        let mut stream = plan_stream(self.ctx, &plan).await?;
        create_dir(&dir)?;
        let staging = dir.join(format!(".apiary-staging-{}", self.warehouse.new_txn()));
        create_dir(&staging)?;
        let staged = staging.join(FIRST_FILE_NAME);
        let written = async {
            let mut sink = Sink::open(stored_as, &text, &staged, &stream.schema())?;
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                sink.write(&batch)?;
            }
            sink.finish()?;
            Ok::<u64, ApiaryError>(rows)
        }
        .await;
        let rows = match written {
            Ok(rows) => rows,
            Err(e) => {
                super::remove_path(&staging);
                return Err(e);
            }
        };
        // OVERWRITE: what the directory held goes (its hidden entries stay).
        let old: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| io_err(&dir, e))?
            .flatten()
            .filter(|e| !super::layout::is_hidden(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        for path in &old {
            super::remove_path(path);
        }
        let target = dir.join(FIRST_FILE_NAME);
        std::fs::rename(&staged, &target).map_err(|e| io_err(&target, e))?;
        super::remove_path(&staging);
        Ok(StatementOutput::Affected(rows))
    }
}
